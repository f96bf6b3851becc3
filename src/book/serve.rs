//! `labcheck book serve`: a small static file server for the built book, on
//! 127.0.0.1 only. HTTP/1.1 GET and HEAD, one request per connection; enough
//! for a browser reading the book, and no dependency beyond tokio.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The largest request head accepted.
const MAX_HEAD: usize = 16 * 1024;

/// Binds 127.0.0.1:`port` (0: any free port).
pub async fn bind(port: u16) -> std::io::Result<TcpListener> {
    TcpListener::bind(("127.0.0.1", port)).await
}

/// Why `labcheck book serve` stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// 127.0.0.1:`port` could not be listened on.
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind {
        /// The port.
        port: u16,
        /// What the operating system reported.
        source: std::io::Error,
    },
    /// Standard output could not be written.
    #[error("cannot write to standard output: {0}")]
    Output(std::io::Error),
    /// Serving the book failed (a broken listener).
    #[error("{0}")]
    Serve(std::io::Error),
}

impl ServeError {
    /// Exit code: 1 when standard output failed, else 2.
    pub fn exit_code(&self) -> u8 {
        match self {
            ServeError::Output(_) => 1,
            _ => 2,
        }
    }
}

/// `labcheck book serve`: serves the built book in `dir` on
/// 127.0.0.1:`port`, saying where on standard output, until Ctrl-C.
pub async fn until_interrupted(dir: PathBuf, port: u16) -> Result<(), ServeError> {
    let listener = bind(port).await.map_err(|source| ServeError::Bind { port, source })?;
    let addr = listener.local_addr().map_err(ServeError::Serve)?;
    crate::report::print_stdout(&format!("Serving the book at http://{addr}/ (Ctrl-C to stop)\n"))
        .map_err(ServeError::Output)?;
    tokio::select! {
        r = serve(listener, dir) => r.map_err(ServeError::Serve),
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}

/// Serves the files under `root` until the task is dropped.
pub async fn serve(listener: TcpListener, root: PathBuf) -> std::io::Result<()> {
    let root = Arc::new(root);
    loop {
        let (stream, _) = listener.accept().await?;
        let root = root.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(30), handle(stream, &root)).await;
        });
    }
}

async fn handle(mut stream: TcpStream, root: &Path) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
        if head.len() > MAX_HEAD {
            return respond(&mut stream, 431, "text/plain", b"request header too large", true).await;
        }
    }
    let head = String::from_utf8_lossy(&head);
    let mut parts = head.lines().next().unwrap_or_default().split_whitespace();
    let (method, target) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let send_body = method == "GET";
    if method != "GET" && method != "HEAD" {
        return respond(&mut stream, 405, "text/plain", b"only GET and HEAD", true).await;
    }
    let Some(path) = resolve(root, target) else {
        return respond(&mut stream, 400, "text/plain", b"bad path", send_body).await;
    };
    let path = if path.is_dir() { path.join("index.html") } else { path };
    match tokio::fs::read(&path).await {
        Ok(body) => respond(&mut stream, 200, content_type(&path), &body, send_body).await,
        Err(_) => {
            let body = tokio::fs::read(root.join("404.html"))
                .await
                .unwrap_or_else(|_| b"not found".to_vec());
            respond(&mut stream, 404, "text/html; charset=utf-8", &body, send_body).await
        }
    }
}

/// Maps a request target to a file under `root`; `None` when it would leave it.
fn resolve(root: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next().unwrap_or_default();
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8().ok()?;
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
        "txt" | "md" => "text/plain; charset=utf-8",
        "toml" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

async fn respond(
    stream: &mut TcpStream,
    status: u16,
    ctype: &str,
    body: &[u8],
    send_body: bool,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Request Header Fields Too Large",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\
         Cache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    if send_body {
        stream.write_all(body).await?;
    }
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_inside_root_only() {
        let root = Path::new("/b");
        assert_eq!(resolve(root, "/lab.html?x=1"), Some(PathBuf::from("/b/lab.html")));
        assert_eq!(resolve(root, "/a%20b.html"), Some(PathBuf::from("/b/a b.html")));
        assert_eq!(resolve(root, "/"), Some(PathBuf::from("/b/")));
        assert_eq!(resolve(root, "/../etc/passwd"), None);
        assert_eq!(resolve(root, "/%2e%2e/etc/passwd"), None);
        assert_eq!(resolve(root, "http://x/"), None);
    }
}
