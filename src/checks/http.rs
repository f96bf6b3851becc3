//! HTTP GETs of the learner's site and of presigned S3 URLs: bodies read up
//! to a cap (a site with an endless body cannot exhaust memory), and, for
//! S3, the retries S3 itself asks for (a 500 or 503 SlowDown means "try
//! again", not "your bucket is wrong").

use reqwest::StatusCode;
use std::time::Duration;

/// What a GET brought back.
#[derive(Clone, Debug)]
pub struct Fetched {
    /// The HTTP status.
    pub status: StatusCode,
    /// The `Content-Type` header ("" when absent).
    pub content_type: String,
    /// At most the cap's bytes.
    pub body: Vec<u8>,
    /// The body went on past the cap.
    pub truncated: bool,
}

/// A GET whose body is read up to `cap` bytes. Errors are the transport's,
/// with the URL (which may hold a signature) left out.
pub async fn get(client: &reqwest::Client, url: &str, cap: usize) -> Result<Fetched, String> {
    let mut response = client.get(url).send().await.map_err(|e| describe(&e))?;
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let mut body = Vec::new();
    let mut truncated = false;
    while let Some(chunk) = response.chunk().await.map_err(|e| describe(&e))? {
        let room = cap - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            truncated = true;
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Fetched {
        status,
        content_type,
        body,
        truncated,
    })
}

/// A GET of an S3 URL, tried up to `attempts` times with backoff while S3
/// answers a server error or the connection fails. The last answer (or
/// transport error) is returned.
pub async fn get_s3(client: &reqwest::Client, url: &str, cap: usize, attempts: u32) -> Result<Fetched, String> {
    let mut last = Err("no attempt made".to_string());
    for attempt in 0..attempts.max(1) {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(200 << attempt.min(5))).await;
        }
        last = get(client, url, cap).await;
        match &last {
            Ok(f) if !f.status.is_server_error() => return last,
            _ => continue,
        }
    }
    last
}

/// A transport error without its URL.
fn describe(e: &reqwest::Error) -> String {
    let mut text = crate::aws::error_chain(e);
    if let Some(u) = e.url() {
        text = text.replace(u.as_str(), "the URL");
    }
    if crate::aws::is_certificate_error(&text) {
        text = format!(
            "{text} (the server's TLS certificate is not trusted: {})",
            crate::aws::TRUST_YOUR_CA
        );
    }
    text
}
