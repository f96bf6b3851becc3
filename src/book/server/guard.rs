//! Who may use the server: requests that name this server as their Host
//! (`127.0.0.1:PORT` or `localhost:PORT`: a DNS-rebinding name is refused),
//! that come from its own pages when they say where they come from (a page
//! of another site is refused by its Origin), and, for the API, that carry
//! the token printed at start (`X-Labcheck-Token`, compared in constant
//! time). Everything refused is 403, before any route runs.
//!
//! No response carries a CORS header, so a browser never hands another
//! site's script an answer either.

use super::Server;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// The header the pages send the token in.
pub const TOKEN_HEADER: &str = "x-labcheck-token";

/// The part of the site behind the token.
pub const API_PREFIX: &str = "/api/";

/// Why a request was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The Host header is not this server's.
    Host,
    /// The Origin header is another site's.
    Origin,
    /// The API asked without the right token.
    Token,
}

impl Refusal {
    fn text(&self) -> &'static str {
        match self {
            Refusal::Host => "forbidden: this server answers only to 127.0.0.1 and localhost",
            Refusal::Origin => "forbidden: requests from other sites are refused",
            Refusal::Token => {
                "forbidden: no valid token; open the link `labcheck book serve` printed (it ends in ?token=...)"
            }
        }
    }
}

/// The checks of one request: `path` and its headers, against a server on
/// `port` with `token`.
pub fn judge(headers: &HeaderMap, path: &str, port: u16, token: &str) -> Result<(), Refusal> {
    let own = [format!("127.0.0.1:{port}"), format!("localhost:{port}")];
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    if !own.iter().any(|o| o.eq_ignore_ascii_case(host)) {
        return Err(Refusal::Host);
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        if !own.iter().any(|o| origin.eq_ignore_ascii_case(&format!("http://{o}"))) {
            return Err(Refusal::Origin);
        }
    }
    if path.starts_with(API_PREFIX) {
        let given = headers.get(TOKEN_HEADER).map(|t| t.as_bytes()).unwrap_or_default();
        if !bool::from(given.ct_eq(token.as_bytes())) {
            return Err(Refusal::Token);
        }
    }
    Ok(())
}

/// The middleware: [`judge`], then the route.
pub async fn guard(State(server): State<Arc<Server>>, request: Request, next: Next) -> Response {
    match judge(request.headers(), request.uri().path(), server.port, &server.token) {
        Ok(()) => next.run(request).await,
        Err(refusal) => (StatusCode::FORBIDDEN, refusal.text()).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn own_host_and_origin_and_token_only() {
        let ok = [("host", "127.0.0.1:3000"), ("x-labcheck-token", "t0k")];
        assert_eq!(judge(&headers(&ok), "/api/run", 3000, "t0k"), Ok(()));
        let ok = [("host", "localhost:3000"), ("origin", "http://localhost:3000")];
        assert_eq!(judge(&headers(&ok), "/lab.html", 3000, "t0k"), Ok(()));
        // A name that resolves here through DNS rebinding, another port.
        for host in ["evil.example:3000", "127.0.0.1:3001", "127.0.0.1", ""] {
            let h = headers(&[("host", host), ("x-labcheck-token", "t0k")]);
            assert_eq!(judge(&h, "/api/run", 3000, "t0k"), Err(Refusal::Host), "{host}");
        }
        for origin in [
            "https://evil.example",
            "null",
            "http://127.0.0.1:3001",
            "https://127.0.0.1:3000",
        ] {
            let h = headers(&[
                ("host", "127.0.0.1:3000"),
                ("origin", origin),
                ("x-labcheck-token", "t0k"),
            ]);
            assert_eq!(judge(&h, "/api/run", 3000, "t0k"), Err(Refusal::Origin), "{origin}");
        }
        for token in ["", "t0", "t0kk", "T0K"] {
            let h = headers(&[("host", "127.0.0.1:3000"), ("x-labcheck-token", token)]);
            assert_eq!(judge(&h, "/api/status", 3000, "t0k"), Err(Refusal::Token), "{token}");
        }
        let h = headers(&[("host", "127.0.0.1:3000")]);
        assert_eq!(judge(&h, "/api/status", 3000, "t0k"), Err(Refusal::Token));
    }
}
