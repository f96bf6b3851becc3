//! AWS SDK configuration: profile, region, endpoint overrides (the local
//! sandbox), retries and timeouts; the caller's identity; and one error type
//! that classifies what AWS answered.

use aws_config::{BehaviorVersion, Region, SdkConfig, retry::RetryConfig, timeout::TimeoutConfig};
use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response;
use std::time::Duration;

/// What the command line says about reaching AWS.
#[derive(Clone, Debug, Default)]
pub struct AwsOptions {
    /// The `--profile` to use instead of the default credentials.
    pub profile: Option<String>,
    /// The `--region` to use instead of the configured one.
    pub region: Option<String>,
}

/// Loads the SDK configuration the way the AWS CLI would (environment,
/// profile, SSO, IMDS), with bounded retries and timeouts.
pub async fn load(opts: &AwsOptions) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .retry_config(retry_config())
        .timeout_config(timeout_config());
    if let Some(profile) = &opts.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &opts.region {
        loader = loader.region(Region::new(region.clone()));
    }
    loader.load().await
}

/// The HTTPS client every AWS client of the run shares: the SDK's default
/// (rustls with aws-lc, the proxy from the environment), made once. Left to
/// itself, the SDK gives each service client its own, and each loads the
/// system's TLS roots again: seven times a run, and seven times per learner
/// in a cohort.
pub fn https_client() -> SharedHttpClient {
    use aws_smithy_http_client::{Builder, ConnectorBuilder, proxy::ProxyConfig, tls};
    Builder::new().build_with_connector_fn(|settings, components| {
        // Called with neither only when a service client is made, to load
        // the TLS roots early; that connector is dropped unused, and parsing
        // the roots for it would cost every learner of a cohort six times.
        // Every connector that sends a request is made with both (and cached).
        if settings.is_none() && components.is_none() {
            return ConnectorBuilder::default().build_http();
        }
        let mut connector =
            ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}

/// The SDK's standard retry (exponential backoff with jitter), with one
/// attempt more than its default: throttling and server errors are retried,
/// never reported as the learner's fault.
pub fn retry_config() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(4)
}

/// Timeouts that match how AWS answers: a connection is made in well under
/// a second and a describe call answers in a second or two, so a stalled
/// attempt is cut off after a few seconds and retried, not waited on.
pub fn timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(Duration::from_secs(6))
        .operation_timeout(Duration::from_secs(40))
        .build()
}

/// An S3 client. Against a custom endpoint (the sandbox, or another
/// S3-compatible service) bucket names go in the path, not the host name.
pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    let builder = aws_sdk_s3::config::Builder::from(config).force_path_style(config.endpoint_url().is_some());
    aws_sdk_s3::Client::from_conf(builder.build())
}

/// Why labcheck cannot talk to AWS at all.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(
        "no AWS credentials found ({0}).\n\
         Configure them with `aws configure` or `aws sso login`, pick a profile with `--profile NAME` \
         (or AWS_PROFILE), or rehearse on the local sandbox: `sandbox/up && source sandbox/env`."
    )]
    /// No credentials: the SDK's reason.
    NoCredentials(String),
    #[error(
        "no AWS Region configured.\n\
         Pass `--region us-west-2`, set AWS_REGION, add `region = \"...\"` to labcheck.toml, \
         or run `aws configure set region REGION`."
    )]
    /// Credentials but no region.
    NoRegion,
    #[error(
        "no AWS Region and no AWS credentials are configured ({0}).\n\
         Region: pass `--region us-west-2`, set AWS_REGION, or add `region = \"...\"` to labcheck.toml.\n\
         Credentials: run `aws configure` or `aws sso login`, or pick a profile with `--profile NAME`.\n\
         Or rehearse on the local sandbox: `sandbox/up && source sandbox/env`."
    )]
    /// Neither credentials nor a region: the SDK's reason for the credentials.
    Neither(String),
    /// STS GetCallerIdentity failed.
    #[error("cannot identify the AWS account: {0}{hint}", hint = .0.hint().map(|h| format!("\n{h}")).unwrap_or_default())]
    Identity(AwsError),
}

impl ConnectError {
    /// The error in a few words, for each check it kept from running.
    pub fn short(&self) -> &'static str {
        match self {
            ConnectError::NoCredentials(_) => "not run: no AWS credentials (see the note below)",
            ConnectError::NoRegion => "not run: no AWS Region configured (see the note below)",
            ConnectError::Neither(_) => "not run: no AWS Region and no credentials (see the note below)",
            ConnectError::Identity(_) => "not run: the AWS account could not be identified",
        }
    }
}

/// Which credentials a run uses when a profile is named (`--profile`) while
/// the environment holds an access key: the SDK's chain reads the
/// environment first, so the profile's keys are not used. A one-line note
/// saying so, or `None` when the profile is used. `env` looks up a variable.
pub fn profile_note(profile: Option<&str>, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let profile = profile?;
    let set = |var: &str| env(var).filter(|v| !v.trim().is_empty());
    let key = set("AWS_ACCESS_KEY_ID")?;
    set("AWS_SECRET_ACCESS_KEY")?;
    let tail: String = key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    Some(format!(
        "credentials: the access key …{} from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, not the profile `{}` (--profile): the environment comes first; unset both variables to use the profile",
        crate::redact::strip_control(&tail),
        crate::redact::strip_control(profile),
    ))
}

/// When a profile is chosen (`--profile`, else AWS_PROFILE) and no access
/// key in the environment takes its place, but the AWS config files do not
/// define it: an error naming it and the profiles they do define. `None` when
/// it is there, or when the files cannot be read (the SDK then says why).
pub async fn missing_profile(profile: Option<&str>, env: &(dyn Fn(&str) -> Option<String> + Sync)) -> Option<String> {
    let set = |var: &str| env(var).filter(|v| !v.trim().is_empty());
    let (name, origin) = match profile {
        Some(p) => (p.to_string(), "--profile"),
        None => (set("AWS_PROFILE")?, "AWS_PROFILE"),
    };
    if set("AWS_ACCESS_KEY_ID").is_some() {
        return None;
    }
    let files = aws_runtime::env_config::file::EnvConfigFiles::default();
    let profiles = aws_config::profile::load(
        &aws_types::os_shim_internal::Fs::real(),
        &aws_types::os_shim_internal::Env::real(),
        &files,
        None,
    )
    .await
    .ok()?;
    if profiles.get_profile(&name).is_some() {
        return None;
    }
    let mut known: Vec<String> = profiles.profiles().map(crate::redact::strip_control).collect();
    known.sort();
    let there = if known.is_empty() {
        "they define no profile".to_string()
    } else {
        format!("they define {}", known.join(", "))
    };
    let name = crate::redact::strip_control(&name);
    Some(format!(
        "the AWS profile `{name}` ({origin}) is not in the AWS config files ({} and {}; {there}).\n\
         Create it with `aws configure --profile {name}` or `aws configure sso`, or pick one of those.",
        set("AWS_CONFIG_FILE").unwrap_or_else(|| "~/.aws/config".into()),
        set("AWS_SHARED_CREDENTIALS_FILE").unwrap_or_else(|| "~/.aws/credentials".into()),
    ))
}

/// Region names are read in course and instructor input too (a roster's
/// `region` column): the check lives with the lab parameters.
pub use labcheck_course::params::is_valid_region;

/// Resolves the credentials (no AWS call: environment, profile, SSO, IMDS)
/// and returns their secret parts, to redact from every output.
pub async fn credentials(config: &SdkConfig, has_region: bool) -> Result<Vec<String>, ConnectError> {
    let resolved = match config.credentials_provider() {
        None => Err("no credentials provider".to_string()),
        Some(provider) => provider
            .provide_credentials()
            .await
            .map_err(|e| credentials_problem(&e)),
    };
    match (resolved, has_region) {
        (Ok(credentials), true) => {
            let mut secrets = vec![credentials.secret_access_key().to_string()];
            secrets.extend(credentials.session_token().map(str::to_string));
            Ok(secrets)
        }
        (Ok(_), false) => Err(ConnectError::NoRegion),
        (Err(why), true) => Err(ConnectError::NoCredentials(why)),
        (Err(why), false) => Err(ConnectError::Neither(why)),
    }
}

/// What went wrong with the credentials, in one short line (the SDK's own
/// error nests every provider's debug output).
fn credentials_problem(err: &aws_credential_types::provider::error::CredentialsError) -> String {
    use aws_credential_types::provider::error::CredentialsError as E;
    match err {
        E::ProviderTimedOut(_) => "the credentials provider timed out".into(),
        E::InvalidConfiguration(_) => {
            let text = error_chain(err);
            text.lines().next().unwrap_or_default().chars().take(300).collect()
        }
        _ => "none in the environment, the AWS config files, SSO or the instance metadata service".into(),
    }
}

/// Who the credentials belong to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Known {
    /// The 12-digit account id.
    pub account: String,
    /// The caller's ARN (a user, or an assumed-role session).
    pub arn: String,
}

/// Asks STS who the credentials belong to.
pub async fn identify(config: &SdkConfig) -> Result<Known, ConnectError> {
    let sts = aws_sdk_sts::Client::new(config);
    let out = sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| ConnectError::Identity(AwsError::from_sdk("sts:GetCallerIdentity", e)))?;
    Ok(Known {
        account: out.account().unwrap_or_default().to_string(),
        arn: out.arn().unwrap_or_default().to_string(),
    })
}

/// An error and its sources, joined by `: `, without repeats or debug dumps.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// Whether an error chain says the TLS peer's certificate was refused (the
/// words rustls uses for every certificate it does not accept).
pub fn is_certificate_error(chain: &str) -> bool {
    chain.contains("invalid peer certificate")
}

/// What trusting a server's own CA takes, for every message about an
/// untrusted certificate (AWS's endpoints, the site, presigned downloads).
pub const TRUST_YOUR_CA: &str =
    "if your own CA signed it, set SSL_CERT_FILE to a PEM file holding that CA's certificate";

/// What to do about an endpoint whose certificate is not trusted: `endpoint`
/// is AWS_ENDPOINT_URL (empty: AWS's own endpoints).
pub fn certificate_hint(endpoint: &str) -> String {
    let server = if endpoint.is_empty() {
        "AWS's endpoint".to_string()
    } else {
        format!("the server at AWS_ENDPOINT_URL={endpoint}")
    };
    format!(
        "{server} answered, but with a TLS certificate labcheck does not trust; {TRUST_YOUR_CA} (it replaces \
         the system's list, so add the system's CAs to it if you also reach AWS itself); behind a network proxy \
         that inspects TLS, ask for the proxy's CA certificate and do the same"
    )
}

/// Error codes AWS services use for "slow down".
fn is_throttling(code: &str) -> bool {
    matches!(
        code,
        "Throttling"
            | "ThrottlingException"
            | "ThrottledException"
            | "RequestThrottledException"
            | "TooManyRequestsException"
            | "RequestLimitExceeded"
            | "SlowDown"
            | "RequestThrottled"
            | "BandwidthLimitExceeded"
            | "EC2ThrottledException"
            | "PriorRequestNotComplete"
            | "InternalError"
            | "InternalFailure"
            | "ServiceUnavailable"
    )
}

/// How an AWS call went wrong, in terms a check can act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AwsErrorKind {
    /// The resource does not exist (a service code like NoSuchBucket, or 404).
    NotFound,
    /// The credentials may not make this call.
    AccessDenied,
    /// No answer: connection, DNS or timeout.
    Network,
    /// The endpoint answered over TLS with a certificate labcheck does not
    /// trust (its own CA, an expired certificate, a TLS-inspecting proxy).
    Certificate,
    /// AWS answered, but only "try again": throttling or a server error.
    Transient,
    /// Anything else (a validation error, a service error labcheck does not sort).
    Other,
}

/// An AWS error, cheap to clone so memoized answers can carry it.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{action} failed: {message}")]
pub struct AwsError {
    /// IAM-style action name, e.g. `s3:GetBucketCors`.
    pub action: &'static str,
    /// The service's error code, like `NoSuchBucket`, when it gave one.
    pub code: Option<String>,
    /// `CODE: message` as the service gave them, or the error chain when it gave no code.
    pub message: String,
    /// What kind of failure it was.
    pub kind: AwsErrorKind,
}

impl AwsError {
    /// Classifies an SDK error of the call `action`.
    pub fn from_sdk<E>(action: &'static str, err: SdkError<E, Response>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let status = err.raw_response().map(|r| r.status().as_u16());
        let code = err.code().map(str::to_string);
        // What went wrong below the service (no answer, or a refused
        // certificate): only the error chain says.
        let chain = matches!(err, SdkError::DispatchFailure(_)).then(|| error_chain(&err));
        let kind = match (&err, code.as_deref(), status) {
            (SdkError::DispatchFailure(_), _, _) if chain.as_deref().is_some_and(is_certificate_error) => {
                AwsErrorKind::Certificate
            }
            (SdkError::DispatchFailure(_) | SdkError::TimeoutError(_), _, _) => AwsErrorKind::Network,
            (_, Some(c), _) if c.starts_with("NoSuch") || c.ends_with("NotFound") || c.ends_with("NotFoundFault") => {
                AwsErrorKind::NotFound
            }
            (_, Some("AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" | "AuthorizationError"), _) => {
                AwsErrorKind::AccessDenied
            }
            (_, Some(c), _) if is_throttling(c) => AwsErrorKind::Transient,
            (_, _, Some(s)) if s >= 500 => AwsErrorKind::Transient,
            (_, _, Some(403)) => AwsErrorKind::AccessDenied,
            (_, _, Some(404)) => AwsErrorKind::NotFound,
            _ => AwsErrorKind::Other,
        };
        let message = match (err.code(), err.message()) {
            (Some(code), Some(msg)) => format!("{code}: {msg}"),
            (Some(code), None) => code.to_string(),
            _ => chain.unwrap_or_else(|| error_chain(&err)),
        };
        AwsError {
            action,
            code,
            message,
            kind,
        }
    }

    /// A fault that says nothing about the learner's account: asking again
    /// later may well succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self.kind, AwsErrorKind::Network | AwsErrorKind::Transient)
    }

    /// Whether AWS refused the call: the credentials lack the permission.
    pub fn is_denied(&self) -> bool {
        self.kind == AwsErrorKind::AccessDenied
    }

    /// Whether the service's error code is `code`.
    pub fn is_code(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    /// What the learner can do about this error.
    pub fn hint(&self) -> Option<String> {
        match self.kind {
            AwsErrorKind::AccessDenied => Some(format!(
                "the credentials labcheck uses may not call {}; `labcheck policy` prints the read-only policy it needs",
                self.action
            )),
            AwsErrorKind::Certificate => Some(certificate_hint(
                &std::env::var("AWS_ENDPOINT_URL").unwrap_or_default(),
            )),
            AwsErrorKind::Network => Some(match std::env::var("AWS_ENDPOINT_URL") {
                Ok(url) if !url.is_empty() => format!(
                    "nothing answers at AWS_ENDPOINT_URL={url}; if that is the local sandbox, start it with `sandbox/up`"
                ),
                _ => "AWS did not answer; check your network connection and try again".to_string(),
            }),
            AwsErrorKind::Transient => Some(
                "AWS answered with a temporary error (throttling or a fault on its side) after several tries; run this check again".into(),
            ),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_shadowed_by_environment_keys_is_named() {
        let env = |var: &str| match var {
            "AWS_ACCESS_KEY_ID" => Some("AKIAEXAMPLE1234".to_string()),
            "AWS_SECRET_ACCESS_KEY" => Some("secret".to_string()),
            _ => None,
        };
        let note = profile_note(Some("course\u{1b}]0;x"), &env).expect("a note");
        assert!(note.contains("…1234") && note.contains("`course"), "{note}");
        assert!(
            !note.contains('\u{1b}') && !note.contains("secret") && !note.contains('\n'),
            "{note}"
        );
        // No profile named, or no key in the environment: the profile is what is used.
        assert_eq!(profile_note(None, &env), None);
        assert_eq!(profile_note(Some("course"), &|_| None), None);
        let key_only = |var: &str| (var == "AWS_ACCESS_KEY_ID").then(|| "AKIA".to_string());
        assert_eq!(profile_note(Some("course"), &key_only), None);
    }
}
