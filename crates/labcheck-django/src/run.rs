//! What the project checks ask of the run they are part of, and nothing
//! more: the parameters they read, whose code the project is, notes for the
//! learner, secrets to keep out of every output, the run's memo, the
//! Beanstalk environment's properties (the one answer from AWS the probe
//! may use) and where the probe's answers are kept between runs. labcheck
//! implements [`ProjectRun`] for its account; the data flows from it into
//! the checks, never back.

use crate::isolation::LearnerCode;
use labcheck_course::params::Param;
use labcheck_outcome::memo::Memo;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

/// Why the Beanstalk environment's properties were not read.
#[derive(Clone, Debug, thiserror::Error)]
pub enum PropertiesError {
    /// AWS cannot be asked from here (no Region, no credentials): the
    /// project runs with the properties of `.ebextensions` alone.
    #[error("AWS cannot be asked")]
    NoAws,
    /// The call failed, in the words of the error it gave.
    #[error("{0}")]
    Failed(String),
}

/// A future of the environment's properties: name and value of each.
pub type Properties<'a> = Pin<Box<dyn Future<Output = Result<Vec<(String, String)>, PropertiesError>> + Send + 'a>>;

/// The run a project check is part of (see the module documentation).
pub trait ProjectRun: Send + Sync {
    /// The value of a parameter ("" when unset).
    fn param(&self, param: Param) -> String;
    /// Whether a roster row gave this parameter's value: a value a learner
    /// handed in, not one the grader chose.
    fn param_from_roster(&self, param: Param) -> bool;
    /// Whose code the project is: the learner's own unless said.
    fn learner_code(&self) -> LearnerCode;
    /// Adds a note for the report, once however often it is added.
    fn note(&self, note: String);
    /// Registers a secret to keep out of every output.
    fn add_secret(&self, secret: &str);
    /// The answers shared by the run's checks.
    fn memo(&self) -> &Memo;
    /// The Beanstalk environment's properties (its option settings in the
    /// `aws:elasticbeanstalk:application:environment` namespace), read once
    /// per run.
    fn environment_properties(&self) -> Properties<'_>;
    /// Where the probe's answers are kept between runs (none: nothing is
    /// kept or reused).
    fn probe_cache_folder(&self) -> Option<PathBuf>;
}
