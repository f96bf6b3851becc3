//! The context of one run against one AWS account: SDK clients, resolved
//! parameters, a memo of AWS answers, an HTTP client, notes for the learner,
//! and the secrets to redact. Cohort mode holds many of these at once.

use super::memo::Memo;
use crate::params::{Params, Source};
use crate::redact::Redactor;
use aws_config::SdkConfig;
use std::sync::{Mutex, RwLock};
use std::time::Duration;

pub struct Account {
    pub account_id: String,
    pub identity: String,
    pub region: String,
    pub sdk: SdkConfig,
    pub s3: aws_sdk_s3::Client,
    pub elasticache: aws_sdk_elasticache::Client,
    pub rds: aws_sdk_rds::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub eb: aws_sdk_elasticbeanstalk::Client,
    pub iam: aws_sdk_iam::Client,
    /// Skip TLS certificate verification of the cache (`--insecure`).
    pub insecure: bool,
    pub http: reqwest::Client,
    pub memo: Memo,
    params: RwLock<Params>,
    notes: Mutex<Vec<String>>,
    redactor: RwLock<Redactor>,
}

impl Account {
    /// A context for an identified account. `params` must have region and
    /// account set; defaults are filled here.
    pub fn new(sdk: SdkConfig, mut params: Params, account_id: String, identity: String) -> Self {
        params.fill_defaults();
        let region = params.get("region").unwrap_or_default().to_string();
        let mut redactor = Redactor::new();
        params.secrets().for_each(|s| redactor.add_secret(s));
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::limited(5))
            .user_agent(concat!("labcheck/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("HTTP client builds");
        Account {
            s3: crate::aws::s3_client(&sdk),
            elasticache: aws_sdk_elasticache::Client::new(&sdk),
            rds: aws_sdk_rds::Client::new(&sdk),
            ec2: aws_sdk_ec2::Client::new(&sdk),
            eb: aws_sdk_elasticbeanstalk::Client::new(&sdk),
            iam: aws_sdk_iam::Client::new(&sdk),
            insecure: false,
            sdk,
            account_id,
            identity,
            region,
            http,
            memo: Memo::default(),
            params: RwLock::new(params),
            notes: Mutex::new(Vec::new()),
            redactor: RwLock::new(redactor),
        }
    }

    /// The value of a parameter ("" when unset).
    pub fn param(&self, name: &str) -> String {
        self.params
            .read()
            .expect("params lock")
            .get(name)
            .unwrap_or_default()
            .to_string()
    }

    /// Whether the learner chose this parameter's value (not a default).
    pub fn param_is_explicit(&self, name: &str) -> bool {
        !matches!(
            self.params.read().expect("params lock").source(name),
            Some(Source::Default) | None
        )
    }

    /// Uses a resource found in the account instead of the default name.
    pub fn discovered(&self, name: &str, value: &str) {
        self.params
            .write()
            .expect("params lock")
            .set(name, value, Source::Discovered);
        self.note(format!(
            "found {name} `{value}`; to pin it, set `{name} = \"{value}\"` in labcheck.toml"
        ));
    }

    /// Fills `{placeholders}` with the current parameter values.
    pub fn expand(&self, text: &str) -> String {
        self.params.read().expect("params lock").expand(text)
    }

    pub fn note(&self, note: impl Into<String>) {
        let note = note.into();
        let mut notes = self.notes.lock().expect("notes lock");
        if !notes.contains(&note) {
            notes.push(note);
        }
    }

    pub fn notes(&self) -> Vec<String> {
        self.notes.lock().expect("notes lock").clone()
    }

    /// Registers one more secret to keep out of every output.
    pub fn add_secret(&self, secret: &str) {
        self.redactor.write().expect("redactor lock").add_secret(secret);
    }

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
