//! HTTP GETs of the learner's site and of presigned S3 URLs, each through a
//! `Fetcher` made for one `Scope`: its client connects only where the
//! scope admits (URL, redirects, resolved addresses: see `checks::scope`),
//! directly rather than through a proxy (whose own lookups labcheck could
//! not judge). Bodies are read up to a cap (a site with an endless body
//! cannot exhaust memory), and, for S3, the retries S3 itself asks for (a
//! 500 or 503 SlowDown means "try again", not "your bucket is wrong").

use super::scope::{Refused, Resolver, Scope, redirect_policy};
use reqwest::{StatusCode, Url};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

/// A client held to one scope.
#[derive(Clone)]
pub(crate) struct Fetcher {
    client: reqwest::Client,
    scope: Arc<Scope>,
}

/// Why a GET brought nothing back.
#[derive(Clone, Debug, thiserror::Error)]
pub(crate) enum FetchError {
    /// labcheck would not connect: the check fails, saying where and why.
    #[error("labcheck refused to fetch it: {0}")]
    Refused(Refused),
    /// The connection or the answer failed (the URL left out).
    #[error("{0}")]
    Failed(String),
}

/// Why no HTTP client could be set up (the check cannot fetch anything).
#[derive(Clone, Debug, thiserror::Error)]
pub(crate) enum ClientError {
    /// The system's CA roots could not be loaded.
    #[error("cannot load the system's CA certificates: {0}")]
    CaRoots(rustls::Error),
    /// The TLS settings were refused.
    #[error("{0}")]
    Tls(rustls::Error),
    /// reqwest could not build the client: the error and its sources.
    #[error("cannot set up an HTTP client: {0}")]
    Client(String),
}

impl From<ClientError> for crate::run::outcome::CheckError {
    fn from(e: ClientError) -> Self {
        crate::run::outcome::CheckError::Other(e.to_string())
    }
}

/// The TLS settings every fetcher shares: the system's CA roots (or
/// SSL_CERT_FILE's), loaded once per process rather than once per client,
/// so a cohort does not parse them again for each learner.
static TLS: LazyLock<Result<rustls::ClientConfig, ClientError>> = LazyLock::new(|| {
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    let verifier = rustls_platform_verifier::Verifier::new(provider.clone()).map_err(ClientError::CaRoots)?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(ClientError::Tls)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
});

impl Fetcher {
    /// A fetcher that connects only where `scope` admits.
    pub(crate) fn new(scope: Scope) -> Result<Fetcher, ClientError> {
        let scope = Arc::new(scope);
        let tls = TLS.as_ref().map_err(Clone::clone)?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .connect_timeout(Duration::from_secs(5))
            .no_proxy()
            .redirect(redirect_policy(scope.clone()))
            .dns_resolver(Resolver::new(&scope))
            .tls_backend_preconfigured(tls.clone())
            .user_agent(concat!("labcheck/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Client(crate::aws::error_chain(&e)))?;
        Ok(Fetcher { client, scope })
    }

    /// Whether the scope admits `url`, before anything is fetched.
    pub(crate) fn admits(&self, url: &str) -> Result<(), FetchError> {
        let parsed = Url::parse(url).map_err(|e| FetchError::Failed(format!("not a URL ({e})")))?;
        self.scope.admits(&parsed).map_err(FetchError::Refused)
    }

    /// A GET whose body is read up to `cap` bytes.
    pub(crate) async fn get(&self, url: &str, cap: usize) -> Result<Fetched, FetchError> {
        self.admits(url)?;
        get(&self.client, url, cap).await
    }

    /// A GET of an S3 URL, tried up to `attempts` times with backoff while
    /// S3 answers a server error or the connection fails (a refusal is
    /// final). The last answer (or error) is returned.
    pub(crate) async fn get_s3(&self, url: &str, cap: usize, attempts: u32) -> Result<Fetched, FetchError> {
        let mut last = Err(FetchError::Failed("no attempt made".to_string()));
        for attempt in 0..attempts.max(1) {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(200 << attempt.min(5))).await;
            }
            last = self.get(url, cap).await;
            match &last {
                Ok(f) if !f.status.is_server_error() => return last,
                Err(FetchError::Refused(_)) => return last,
                _ => continue,
            }
        }
        last
    }
}

/// What a GET brought back.
#[derive(Clone, Debug)]
pub(crate) struct Fetched {
    /// The HTTP status.
    pub(crate) status: StatusCode,
    /// The `Content-Type` header ("" when absent).
    pub(crate) content_type: String,
    /// At most the cap's bytes (a longer body is cut there).
    pub(crate) body: Vec<u8>,
}

/// A GET whose body is read up to `cap` bytes. Errors are the refusal, or
/// the transport's with the URL (which may hold a signature) left out.
async fn get(client: &reqwest::Client, url: &str, cap: usize) -> Result<Fetched, FetchError> {
    let mut response = client.get(url).send().await.map_err(|e| failure(&e))?;
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| failure(&e))? {
        let room = cap - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Fetched {
        status,
        content_type,
        body,
    })
}

/// A refusal found among a transport error's causes, or the error in words.
fn failure(e: &reqwest::Error) -> FetchError {
    match Refused::find(e) {
        Some(refused) => FetchError::Refused(refused.clone()),
        None => FetchError::Failed(describe(e)),
    }
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
