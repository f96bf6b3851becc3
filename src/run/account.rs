//! The context of one run against one AWS account: SDK clients, resolved
//! parameters, a memo of AWS answers (and of the HTTP clients held to the
//! learner's site and bucket), notes for the learner, and the secrets to
//! redact. Cohort mode holds many of these at once.
//!
//! Nothing here talks to AWS up front. Whether AWS can be reached at all
//! (a Region, credentials) is settled once, the first time a check that calls
//! AWS asks ([`Account::aws_ready`]); who the credentials belong to (STS) is
//! asked only when a value needs the account id ([`Account::identity`]), so
//! the project checks run with no AWS configuration at all, and the checks
//! that name their resources do not wait for STS.

use super::memo::Memo;
use super::outcome::CheckError;
pub use crate::aws::Known;
use crate::aws::{self, AwsError, ConnectError};
use crate::params::{Param, Params, Source};
use crate::redact::Redactor;
use aws_config::SdkConfig;
use std::sync::{Mutex, RwLock};
use tokio::sync::OnceCell;

/// Whose code the project checks run (labcheck-django decides how).
pub use labcheck_django::isolation::LearnerCode;

/// Environment variables whose values are secret wherever they appear:
/// registered with the redactor when a run starts, before anything runs.
const SECRET_ENV: &[&str] = &[
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "DJANGO_SECRET_KEY",
    "SECRET_KEY",
    "RDS_USER_PASSWORD",
    "RDS_PASSWORD",
    "DB_PASSWORD",
    "DATABASE_URL",
];

/// One AWS account as the checks see it: SDK clients, parameters, and what the run learned.
pub struct Account {
    /// The Region the lab runs in ("" when none is configured).
    pub region: String,
    /// The SDK configuration the clients were built from.
    pub sdk: SdkConfig,
    /// Amazon S3.
    pub s3: aws_sdk_s3::Client,
    /// Amazon ElastiCache.
    pub elasticache: aws_sdk_elasticache::Client,
    /// Amazon RDS.
    pub rds: aws_sdk_rds::Client,
    /// Amazon EC2 (security groups).
    pub ec2: aws_sdk_ec2::Client,
    /// AWS Elastic Beanstalk.
    pub eb: aws_sdk_elasticbeanstalk::Client,
    /// AWS IAM.
    pub iam: aws_sdk_iam::Client,
    /// Skip TLS certificate verification of the cache (`--insecure`).
    pub insecure: bool,
    /// Answers shared between the run's checks.
    pub memo: Memo,
    params: RwLock<Params>,
    notes: Mutex<Vec<String>>,
    redactor: RwLock<Redactor>,
    /// Whether AWS can be called: the short reason and the full advice.
    ready: OnceCell<Result<(), Unavailable>>,
    identity: OnceCell<Result<Known, Unavailable>>,
    learner_code: std::sync::OnceLock<LearnerCode>,
}

/// Why this account's AWS cannot be asked. Its message is the full advice;
/// [`Unavailable::short`] says it in a few words for each check it keeps
/// from running.
#[derive(Clone, Debug, thiserror::Error)]
pub enum Unavailable {
    /// No Region or no credentials.
    #[error("{advice}")]
    NotReady {
        /// The reason in a few words.
        short: &'static str,
        /// What is missing and how to set each up.
        advice: String,
    },
    /// STS could not say whose the credentials are.
    #[error(
        "cannot identify the AWS account: {}{}",
        .0.message,
        .0.hint().map(|h| format!("; {h}")).unwrap_or_default()
    )]
    Identity(AwsError),
}

impl Unavailable {
    /// The reason in a few words, for each check it kept from running.
    pub fn short(&self) -> String {
        match self {
            Unavailable::NotReady { short, .. } => short.to_string(),
            Unavailable::Identity(_) => self.to_string(),
        }
    }
}

impl From<Unavailable> for CheckError {
    fn from(e: Unavailable) -> Self {
        CheckError::Other(e.short())
    }
}

impl From<ConnectError> for Unavailable {
    fn from(e: ConnectError) -> Self {
        match e {
            ConnectError::Identity(e) => Unavailable::Identity(e),
            e => Unavailable::NotReady {
                short: e.short(),
                advice: e.to_string(),
            },
        }
    }
}

impl Account {
    /// A context for the account the SDK configuration's credentials reach.
    /// `params` should have `region` set when one is known; defaults are
    /// filled here (`{account}` once the account is known).
    pub fn new(sdk: SdkConfig, mut params: Params) -> Self {
        params.fill_defaults();
        let region = params.get(Param::Region).unwrap_or_default().to_string();
        let mut redactor = Redactor::new();
        params.secrets().for_each(|s| redactor.add_secret(s));
        for var in SECRET_ENV {
            if let Ok(value) = std::env::var(var)
                && value.len() >= 8
            {
                redactor.add_secret(value);
            }
        }
        Account {
            s3: aws::s3_client(&sdk),
            elasticache: aws_sdk_elasticache::Client::new(&sdk),
            rds: aws_sdk_rds::Client::new(&sdk),
            ec2: aws_sdk_ec2::Client::new(&sdk),
            eb: aws_sdk_elasticbeanstalk::Client::new(&sdk),
            iam: aws_sdk_iam::Client::new(&sdk),
            insecure: false,
            sdk,
            region,
            memo: Memo::default(),
            params: RwLock::new(params),
            notes: Mutex::new(Vec::new()),
            redactor: RwLock::new(redactor),
            ready: OnceCell::new(),
            identity: OnceCell::new(),
            learner_code: std::sync::OnceLock::new(),
        }
    }

    /// Says whose code the project checks run (a cohort's or a TA's run
    /// grades someone else's project); set once, before the checks run.
    pub fn set_learner_code(&self, code: LearnerCode) {
        let _ = self.learner_code.set(code);
    }

    /// Whose code the project checks run: the learner's own unless said.
    pub fn learner_code(&self) -> LearnerCode {
        self.learner_code.get().copied().unwrap_or_default()
    }

    /// Records who the credentials belong to, when the caller already knows
    /// (cohort mode, from AssumeRole), so no STS call is made.
    pub fn with_identity(self, known: Known) -> Self {
        self.learn_account(&known.account);
        let _ = self.identity.set(Ok(known));
        let _ = self.ready.set(Ok(()));
        self
    }

    /// Whether AWS can be called at all: a Region and credentials. Settled
    /// once; the credentials' secret parts are registered for redaction.
    pub async fn aws_ready(&self) -> Result<(), Unavailable> {
        self.ready
            .get_or_init(|| async {
                match aws::credentials(&self.sdk, !self.region.is_empty()).await {
                    Ok(secrets) => {
                        for s in secrets {
                            self.add_secret(&s);
                        }
                        Ok(())
                    }
                    Err(e) => Err(Unavailable::from(e)),
                }
            })
            .await
            .clone()
    }

    /// Who the credentials belong to (STS GetCallerIdentity, once).
    pub async fn identity(&self) -> Result<Known, Unavailable> {
        self.identity
            .get_or_init(|| async {
                self.aws_ready().await?;
                match aws::identify(&self.sdk).await {
                    Ok(known) => {
                        if self
                            .params
                            .read()
                            .expect("params lock")
                            .explicit_source(Param::Account)
                            .is_none()
                        {
                            self.learn_account(&known.account);
                        }
                        Ok(known)
                    }
                    Err(e) => Err(Unavailable::from(e)),
                }
            })
            .await
            .clone()
    }

    /// The identity, if it is already known (for the report's header).
    pub fn known_identity(&self) -> Option<Known> {
        self.identity.get().and_then(|r| r.as_ref().ok()).cloned()
    }

    /// The account id for the report: the `account` parameter when given or
    /// learnt, else "".
    pub fn account_id(&self) -> String {
        let value = self.param(Param::Account);
        if value.contains('{') { String::new() } else { value }
    }

    fn learn_account(&self, account: &str) {
        let mut params = self.params.write().expect("params lock");
        if params.explicit_source(Param::Account).is_none() {
            params.set(Param::Account, account, Source::Aws);
        }
        params.fill_account(account);
    }

    /// A parameter's value for a check that calls AWS: when its value is
    /// made from the account id (the default bucket name), the account is
    /// asked for first.
    pub async fn resolved_param(&self, param: Param) -> Result<String, Unavailable> {
        let value = self.param(param);
        if !value.contains("{account}") {
            return Ok(value);
        }
        self.identity().await?;
        Ok(self.param(param))
    }

    /// The value of a parameter ("" when unset).
    pub fn param(&self, param: Param) -> String {
        self.params
            .read()
            .expect("params lock")
            .get(param)
            .unwrap_or_default()
            .to_string()
    }

    /// Where a parameter's value came from (None when it has none).
    pub fn param_source(&self, param: Param) -> Option<Source> {
        self.params.read().expect("params lock").source(param).cloned()
    }

    /// Whether the learner chose this parameter's value (not a default).
    pub fn param_is_explicit(&self, param: Param) -> bool {
        !matches!(
            self.params.read().expect("params lock").source(param),
            Some(Source::Default) | None
        )
    }

    /// Whether a roster row gave this parameter's value: a value a learner
    /// handed in, not one the grader chose.
    pub fn param_from_roster(&self, param: Param) -> bool {
        matches!(
            self.params.read().expect("params lock").source(param),
            Some(Source::Roster { .. })
        )
    }

    /// Uses a resource found in the account instead of the default name.
    pub fn discovered(&self, param: Param, value: &str) {
        self.params
            .write()
            .expect("params lock")
            .set(param, value, Source::Discovered);
        self.note(format!(
            "found {param} `{value}`; to pin it, set `{param} = \"{value}\"` in labcheck.toml"
        ));
    }

    /// Fills `{placeholders}` with the current parameter values.
    pub fn expand(&self, text: &str) -> String {
        self.params.read().expect("params lock").expand(text)
    }

    /// Adds a note for the report, once however often it is added.
    pub fn note(&self, note: impl Into<String>) {
        let note = note.into();
        let mut notes = self.notes.lock().expect("notes lock");
        if !notes.contains(&note) {
            notes.push(note);
        }
    }

    /// The notes added so far, in order.
    pub fn notes(&self) -> Vec<String> {
        self.notes.lock().expect("notes lock").clone()
    }

    /// Registers one more secret to keep out of every output.
    pub fn add_secret(&self, secret: &str) {
        self.redactor.write().expect("redactor lock").add_secret(secret);
    }

    /// A copy of the redactor with every secret registered so far.
    pub fn redactor(&self) -> Redactor {
        self.redactor.read().expect("redactor lock").clone()
    }

    /// Non-secret parameters, for `-v` output.
    pub fn public_params(&self) -> Vec<(String, String, String)> {
        let params = self.params.read().expect("params lock");
        params
            .public()
            .map(|(k, v, s)| (k.to_string(), v.to_string(), s.to_string()))
            .collect()
    }
}
