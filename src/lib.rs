//! labcheck: a course-lab companion that grades the steps of the lab
//! "deploy a Django app to AWS Elastic Beanstalk" against the learner's own
//! AWS account, read only, with a hint and a fix for every failure.

pub mod arn;
pub mod aws;
pub mod book;
pub mod check;
pub mod checks;
pub mod cleanup;
pub mod cohort;
pub mod connect;
pub mod engine;
pub mod exit;
pub mod list;
pub mod policy;
pub mod quiz;
pub mod redact;
pub mod report;
pub mod run;
pub mod state;
pub mod status;
pub mod store;
pub mod watch;

// The parsers of course input are their own crate (crates/labcheck-course);
// these keep their paths in labcheck (`labcheck::course::lab::Lab`,
// `labcheck::params::Param`).
pub use labcheck_course as course;
pub use labcheck_course::{diagnostic, params, suggest, textfile};
