//! What a check kind returns: an outcome (pass, fail, skip with a message and
//! evidence) or an error that kept it from deciding.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

/// The result of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The check found what the lab asks for.
    Pass,
    /// The check found something the lab does not ask for.
    Fail,
    /// The check could not be evaluated (an AWS error, a timeout).
    Error,
    /// The check was not run (a check it needs did not pass, or it cannot run from where labcheck runs).
    Skip,
}

impl Status {
    /// The lowercase name used in JSON and on the console.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Error => "error",
            Status::Skip => "skip",
        }
    }
}

/// What a check's verdict rests on, when not labcheck's own reading (the
/// report's `basis`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Basis {
    /// What the learner's own code reported when labcheck ran it: its word,
    /// not a proof (a project can print what it likes).
    LearnerCode,
}

impl Basis {
    /// The name used in JSON and gradebooks.
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::LearnerCode => "learner-code",
        }
    }
}

/// The verdict of one check that ran to the end.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Pass, fail, error or skip.
    pub status: Status,
    /// What the check found, one sentence.
    pub message: String,
    /// What the check saw, for the report (an empty object by default).
    pub evidence: Value,
    /// A hint for this particular failure, instead of the lab file's hint.
    pub hint: Option<String>,
    /// A fix command for this particular project, instead of the lab file's.
    pub fix: Option<String>,
    /// A skip that says nothing about the learner's work (where labcheck
    /// runs, what it was given): left out of the maximum score.
    pub ungraded: bool,
    /// An error that asking again may well cure (throttling, a server
    /// fault, a dropped or stalled connection).
    pub transient: bool,
    /// An error because AWS refused the call (the credentials lack the
    /// permission), as the AWS error's kind says.
    pub denied: bool,
    /// What the verdict rests on, when not labcheck's own reading (the
    /// report's `basis`).
    pub basis: Option<Basis>,
}

impl Outcome {
    fn new(status: Status, message: impl Into<String>) -> Self {
        Outcome {
            status,
            message: message.into(),
            evidence: Value::Object(Default::default()),
            hint: None,
            fix: None,
            ungraded: false,
            transient: false,
            denied: false,
            basis: None,
        }
    }

    /// A skip that leaves the check out of the maximum score: it could not
    /// be graded here, through no fault of the learner's.
    pub fn ungraded(message: impl Into<String>) -> Self {
        Outcome {
            ungraded: true,
            ..Self::new(Status::Skip, message)
        }
    }

    /// A pass with this message.
    pub fn pass(message: impl Into<String>) -> Self {
        Self::new(Status::Pass, message)
    }

    /// A fail with this message.
    pub fn fail(message: impl Into<String>) -> Self {
        Self::new(Status::Fail, message)
    }

    /// A skip with this message, counted towards the maximum score.
    pub fn skip(message: impl Into<String>) -> Self {
        Self::new(Status::Skip, message)
    }

    /// An error with this message.
    pub fn error(message: impl Into<String>) -> Self {
        Self::new(Status::Error, message)
    }

    /// Could not be graded yet: the resource is between two states (an
    /// environment updating, a database starting) and will settle on its
    /// own. Not the learner's fault, not a failure: asking again later
    /// grades it.
    pub fn not_yet(message: impl Into<String>) -> Self {
        let mut outcome = Self::new(Status::Error, message).hint(NOT_YET_HINT);
        outcome.transient = true;
        outcome
    }

    /// Sets the evidence.
    pub fn evidence(mut self, evidence: Value) -> Self {
        self.evidence = evidence;
        self
    }

    /// Sets a fix for this particular failure.
    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }

    /// Says what the verdict rests on.
    pub fn basis(mut self, basis: Basis) -> Self {
        self.basis = Some(basis);
        self
    }

    /// Sets a hint for this particular failure.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// What a learner reads when a resource is between two states.
pub const NOT_YET_HINT: &str =
    "This could not be graded yet: wait a few minutes for AWS to finish, then run the check again.";

/// A failed call to a service (AWS), as the caller classified it: what it
/// says, and how the outcome it becomes reads.
pub trait ServiceFault: std::fmt::Display + std::fmt::Debug + Send + Sync + 'static {
    /// What the learner can do about it.
    fn hint(&self) -> Option<String>;
    /// Asking again may well cure it.
    fn is_transient(&self) -> bool;
    /// The service refused the call (the credentials lack the permission).
    fn is_denied(&self) -> bool;
}

/// Why a check could not decide: the answer is `error`, not `fail`.
#[derive(Clone, Debug, thiserror::Error)]
pub enum CheckError {
    /// A call to a service failed (labcheck converts its AWS errors into this).
    #[error("{0}")]
    Service(Arc<dyn ServiceFault>),
    /// Anything else, in words.
    #[error("{0}")]
    Other(String),
    /// A fault that asking again may cure (the check is graded again in
    /// cohort mode; a learner is told to run it again).
    #[error("{0}")]
    Transient(String),
    /// A resource the check reads is between two states (see
    /// [`Outcome::not_yet`]).
    #[error("{0}")]
    NotYet(String),
}

impl CheckError {
    /// The outcome this error becomes, with a hint where one helps.
    pub fn into_outcome(self) -> Outcome {
        match self {
            CheckError::Service(e) => {
                let hint = e.hint();
                let mut outcome = Outcome::error(e.to_string());
                outcome.hint = hint;
                outcome.transient = e.is_transient();
                outcome.denied = e.is_denied();
                outcome
            }
            CheckError::Other(message) => Outcome::error(message),
            CheckError::Transient(message) => {
                let mut outcome =
                    Outcome::error(message).hint("This looks like a passing fault on the way: run the check again.");
                outcome.transient = true;
                outcome
            }
            CheckError::NotYet(message) => Outcome::not_yet(message),
        }
    }
}

/// What a check's run returns: an outcome, or why it could not decide.
pub type CheckResult = Result<Outcome, CheckError>;
