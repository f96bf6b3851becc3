//! The book's files, as built: GET and HEAD, inside the build folder only.
//! A page (HTML) gets a `<meta name="labcheck-serve">` in its head, which
//! tells the book's script that a server is there to run checks (the
//! published book has none, and shows the commands instead); after a failed
//! rebuild (`--watch`), every page is the build's error.

use super::Server;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// The mark a served page carries; `content` says what the server offers.
pub fn served_mark(watch: bool) -> String {
    format!(
        "<meta name=\"labcheck-serve\" content=\"{}\">",
        if watch { "api reload" } else { "api" }
    )
}

/// Headers every answer of the server carries: nothing is cached, sniffed,
/// framed by another site or sent on as a Referer (the first address holds
/// the token), and a page loads nothing from anywhere else.
pub fn protect(response: &mut Response) {
    let h = response.headers_mut();
    for (name, value) in [
        (header::CACHE_CONTROL, "no-store"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "SAMEORIGIN"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'self'; \
             base-uri 'self'; form-action 'self'",
        ),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
}

/// The fallback route: a file of the book.
pub async fn file(State(server): State<Arc<Server>>, request: Request<Body>) -> Response {
    let send_body = match *request.method() {
        Method::GET => true,
        Method::HEAD => false,
        _ => return (StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD").into_response(),
    };
    let (root, error) = {
        let site = server.site.read().unwrap_or_else(|p| p.into_inner());
        (site.dir.clone(), site.error.clone())
    };
    let Some(path) = resolve(&root, request.uri().path()) else {
        return (StatusCode::BAD_REQUEST, "bad path").into_response();
    };
    let path = if path.is_dir() { path.join("index.html") } else { path };
    let is_page = content_type(&path).starts_with("text/html");
    if let (Some(error), true) = (error, is_page) {
        return reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            &path,
            error_page(&error).into_bytes(),
            send_body,
        );
    }
    let mark = served_mark(server.reload.is_some());
    match tokio::fs::read(&path).await {
        Ok(body) if is_page => reply(StatusCode::OK, &path, mark_page(body, &mark), send_body),
        Ok(body) => reply(StatusCode::OK, &path, body, send_body),
        Err(_) => {
            let not_found = root.join("404.html");
            let body = tokio::fs::read(&not_found)
                .await
                .map(|b| mark_page(b, &mark))
                .unwrap_or_else(|_| b"not found".to_vec());
            reply(StatusCode::NOT_FOUND, &not_found, body, send_body)
        }
    }
}

fn reply(status: StatusCode, path: &Path, body: Vec<u8>, send_body: bool) -> Response {
    let len = body.len();
    let mut response = if send_body {
        Response::new(Body::from(body))
    } else {
        Response::new(Body::empty())
    };
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(path)));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    response
}

/// Puts `mark` at the start of the page's head.
fn mark_page(mut page: Vec<u8>, mark: &str) -> Vec<u8> {
    if let Some(at) = page.windows(6).position(|w| w.eq_ignore_ascii_case(b"<head>")) {
        page.splice(at + 6..at + 6, mark.bytes());
    }
    page
}

/// The page shown for every chapter while the book does not build.
pub fn error_page(error: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">{}\
         <title>The book does not build</title>\
         <style>body{{font-family:sans-serif;margin:2em;max-width:60em}}pre{{white-space:pre-wrap;background:#fee;padding:1em;border-left:4px solid #b00}}</style>\
         </head><body><h1>The book does not build</h1>\
         <p>Fix what is named below; the page reloads when the book builds again.</p>\
         <pre class=\"labcheck-build-error\">{}</pre>\
         <script>new EventSource('/_labcheck/reload').addEventListener('reload', function () {{ location.reload(); }});</script>\
         </body></html>\n",
        served_mark(true),
        crate::book::escape(error)
    )
}

/// Maps a request path to a file under `root`; `None` when it would leave it.
pub fn resolve(root: &Path, target: &str) -> Option<PathBuf> {
    let decoded = percent_encoding::percent_decode_str(target).decode_utf8().ok()?;
    if !decoded.starts_with('/') || decoded.contains('\0') || decoded.contains('\\') {
        return None;
    }
    let rel = Path::new(decoded.trim_start_matches('/'));
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    Some(root.join(rel))
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or_default() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "txt" | "md" | "toml" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_inside_root_only() {
        let root = Path::new("/b");
        assert_eq!(resolve(root, "/lab.html"), Some(PathBuf::from("/b/lab.html")));
        assert_eq!(resolve(root, "/a%20b.html"), Some(PathBuf::from("/b/a b.html")));
        assert_eq!(resolve(root, "/"), Some(PathBuf::from("/b/")));
        assert_eq!(resolve(root, "/../etc/passwd"), None);
        assert_eq!(resolve(root, "/%2e%2e/etc/passwd"), None);
        assert_eq!(resolve(root, "/a%5c..%5cb"), None);
        assert_eq!(resolve(root, "http://x/"), None);
    }

    #[test]
    fn pages_are_marked_once_in_their_head() {
        let page = b"<!DOCTYPE html><html><head><title>x</title></head><body><head></body>".to_vec();
        let marked = String::from_utf8(mark_page(page, &served_mark(false))).unwrap();
        assert!(marked.starts_with("<!DOCTYPE html><html><head><meta name=\"labcheck-serve\" content=\"api\"><title>"));
        assert_eq!(marked.matches("labcheck-serve").count(), 1);
    }

    #[test]
    fn the_error_page_escapes_the_error() {
        let page = error_page("labs/x.md:3:1: bad <script>");
        assert!(page.contains("labs/x.md:3:1: bad &lt;script&gt;"));
        assert!(!page.contains("bad <script>"));
    }
}
