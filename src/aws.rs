//! AWS SDK configuration: profile, region, endpoint overrides (the local
//! sandbox), retries and timeouts; the caller's identity; and one error type
//! that classifies what AWS answered.

use aws_config::{BehaviorVersion, Region, SdkConfig, retry::RetryConfig, timeout::TimeoutConfig};
use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response;
use std::time::Duration;

/// What the command line says about reaching AWS.
#[derive(Clone, Debug, Default)]
pub struct AwsOptions {
    pub profile: Option<String>,
    pub region: Option<String>,
}

/// Loads the SDK configuration the way the AWS CLI would (environment,
/// profile, SSO, IMDS), with bounded retries and timeouts.
pub async fn load(opts: &AwsOptions) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(20))
                .operation_timeout(Duration::from_secs(45))
                .build(),
        );
    if let Some(profile) = &opts.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &opts.region {
        loader = loader.region(Region::new(region.clone()));
    }
    loader.load().await
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
    NoCredentials(String),
    #[error(
        "no AWS Region configured.\n\
         Pass `--region us-west-2`, set AWS_REGION, add `region = \"...\"` to labcheck.toml, \
         or run `aws configure set region REGION`."
    )]
    NoRegion,
    #[error("cannot identify the AWS account: {0}{hint}", hint = .0.hint().map(|h| format!("\n{h}")).unwrap_or_default())]
    Identity(AwsError),
}

/// The account and principal the credentials belong to.
pub struct Identity {
    pub account: String,
    pub arn: String,
    /// The secret key and session token, to redact from every output.
    pub secrets: Vec<String>,
}

/// Resolves credentials, then asks STS who they belong to.
pub async fn identify(config: &SdkConfig) -> Result<Identity, ConnectError> {
    let provider = config
        .credentials_provider()
        .ok_or_else(|| ConnectError::NoCredentials("no credentials provider".into()))?;
    let credentials = provider
        .provide_credentials()
        .await
        .map_err(|e| ConnectError::NoCredentials(DisplayErrorContext(&e).to_string()))?;
    let mut secrets = vec![credentials.secret_access_key().to_string()];
    secrets.extend(credentials.session_token().map(str::to_string));
    let sts = aws_sdk_sts::Client::new(config);
    let out = sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| ConnectError::Identity(AwsError::from_sdk("sts:GetCallerIdentity", e)))?;
    Ok(Identity {
        account: out.account().unwrap_or_default().to_string(),
        arn: out.arn().unwrap_or_default().to_string(),
        secrets,
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

/// How an AWS call went wrong, in terms a check can act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AwsErrorKind {
    /// The resource does not exist (a service code like NoSuchBucket, or 404).
    NotFound,
    /// The credentials may not make this call.
    AccessDenied,
    /// No answer: connection, DNS or timeout.
    Network,
    Other,
}

/// An AWS error, cheap to clone so memoized answers can carry it.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{action} failed: {message}")]
pub struct AwsError {
    /// IAM-style action name, e.g. `s3:GetBucketCors`.
    pub action: &'static str,
    pub code: Option<String>,
    pub message: String,
    pub kind: AwsErrorKind,
}

impl AwsError {
    pub fn from_sdk<E>(action: &'static str, err: SdkError<E, Response>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let status = err.raw_response().map(|r| r.status().as_u16());
        let code = err.code().map(str::to_string);
        let kind = match (&err, code.as_deref(), status) {
            (SdkError::DispatchFailure(_) | SdkError::TimeoutError(_), _, _) => AwsErrorKind::Network,
            (_, Some(c), _) if c.starts_with("NoSuch") || c.ends_with("NotFound") || c.ends_with("NotFoundFault") => {
                AwsErrorKind::NotFound
            }
            (_, Some("AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" | "AuthorizationError"), _) => {
                AwsErrorKind::AccessDenied
            }
            (_, _, Some(403)) => AwsErrorKind::AccessDenied,
            (_, _, Some(404)) => AwsErrorKind::NotFound,
            _ => AwsErrorKind::Other,
        };
        let message = match (err.code(), err.message()) {
            (Some(code), Some(msg)) => format!("{code}: {msg}"),
            (Some(code), None) => code.to_string(),
            _ => error_chain(&err),
        };
        AwsError {
            action,
            code,
            message,
            kind,
        }
    }

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
            AwsErrorKind::Network => Some(match std::env::var("AWS_ENDPOINT_URL") {
                Ok(url) if !url.is_empty() => format!(
                    "nothing answers at AWS_ENDPOINT_URL={url}; if that is the local sandbox, start it with `sandbox/up`"
                ),
                _ => "AWS did not answer; check your network connection and try again".to_string(),
            }),
            _ => None,
        }
    }
}
