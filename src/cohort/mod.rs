//! Cohort grading: an instructor grades every learner of a roster from one
//! machine, in one process. Each learner's account is reached through a
//! read-only role (AssumeRole with an external id), graded with the same
//! engine and checks as `labcheck check`, and written to a gradebook that
//! survives throttling, network faults and a killed process.
//!
//! - [`roster`]: the CSV roster, checked whole before anyone is graded.
//! - [`grade`]: per-learner runs, concurrency, retries of transient faults.
//! - [`self_report`]: learners' own reports, counted apart and only where
//!   they can be true.
//! - [`journal`]: one synced JSON line per finished learner; `--resume`.
//! - [`gradebook`]: the result (`labcheck/gradebook-v1`), totals, per-check
//!   pass rates, shards and their merge.
//! - [`render`]: csv, json, junit and html.
//! - [`template`]: the CloudFormation template of the grader role.
//! - [`quiz_stats`]: `cohort quizzes`, what the cohort got wrong in the quizzes.
//! - [`invite`]: a random external id per learner, and the command or link
//!   that deploys each learner's grader role.
//! - [`lms`]: the import files of Canvas and Moodle; [`export`]: an existing
//!   gradebook in another format.
//! - [`excuses`]: checks excused for a learner, out of their maximum.
//! - [`compare`]: what turned green or red since an earlier grading.
//! - [`organizations`]: the learners from an AWS Organizations unit.
//! - [`leftovers`]: `cohort leftovers`, who left what running, and what it
//!   costs a month (the price table `prices.toml`).

pub mod command;
pub mod compare;
pub mod excuses;
pub mod export;
pub mod grade;
pub mod gradebook;
pub mod invite;
pub mod journal;
pub mod leftovers;
pub mod lms;
pub mod organizations;
pub mod quiz_stats;
pub mod render;
pub mod self_report;
pub mod standing;
pub mod template;

// The roster is parsed with the rest of the instructor's input
// (crates/labcheck-course); the cohort grades what it holds.
pub use labcheck_course::roster;
