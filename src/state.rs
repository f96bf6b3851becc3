//! What `labcheck check` remembers between runs, for `labcheck status` and
//! `labcheck watch`: the last result of every check, per account and lab.
//!
//! Where: `$LABCHECK_STATE_DIR` when set, else `$XDG_STATE_HOME/labcheck` (an
//! absolute `XDG_STATE_HOME`), else `~/.local/state/labcheck`; one file per
//! account and lab, `results/<account>/<lab>.json`.
//!
//! Every run merges its checks into the file: a check keeps the result of the
//! last run that ran it, so `labcheck check s3` then `labcheck check rds`
//! leaves both steps' results. The update holds an exclusive lock on a
//! sidecar file (`<file>.lock`, see [`crate::store`]) from
//! reading to the atomic rename, so two runs that finish at once both land.
//!
//! Format (JSON, schema `labcheck/results-v1`):
//!
//! ```json
//! { "schema": "labcheck/results-v1", "lab": "deploy-django-eb",
//!   "account": "123456789012", "region": "us-west-2",
//!   "identity": "arn:...", "updated_at": "RFC 3339", "runs": 3,
//!   "checks": { "s3.cors": { "status": "fail", "message": "...", "hint": "...",
//!       "fix": "...", "points": 2, "score": 0, "checked_at": "RFC 3339" } } }
//! ```
//!
//! The report was cleaned of secrets before it reaches this module, so the
//! file holds nothing the console did not show.

use crate::report::{Report, Status};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The `schema` value of a results file.
pub const SCHEMA: &str = "labcheck/results-v1";

/// The kind of file, in errors about it.
const KIND: &str = "results";

/// The account name used when a run could not learn the account id.
pub const UNKNOWN_ACCOUNT: &str = "unknown-account";

/// The last results of one account's lab.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Results {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// The id of the lab.
    pub lab: String,
    /// The AWS account id, or [`UNKNOWN_ACCOUNT`].
    pub account: String,
    /// The AWS region of the last run.
    #[serde(default)]
    pub region: String,
    /// The ARN of the caller identity of the last run.
    #[serde(default)]
    pub identity: String,
    /// When the file was last written, RFC 3339, UTC.
    #[serde(default)]
    pub updated_at: String,
    /// How many `labcheck check` runs were recorded.
    #[serde(default)]
    pub runs: u64,
    /// The last result of every check ever run, by check id.
    #[serde(default)]
    pub checks: BTreeMap<String, CheckResult>,
}

/// The last result of one check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// Pass, fail, error or skip.
    pub status: Status,
    /// What the check found.
    #[serde(default)]
    pub message: String,
    /// What to look at (see [`crate::report::CheckReport::hint`]).
    #[serde(default)]
    pub hint: String,
    /// How to put it right (see [`crate::report::CheckReport::fix`]).
    #[serde(default)]
    pub fix: String,
    /// Points the check is worth.
    #[serde(default)]
    pub points: u32,
    /// Points earned.
    #[serde(default)]
    pub score: u32,
    /// Not counted towards the maximum score (see [`crate::report::CheckReport::ungraded`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ungraded: bool,
    /// When the check ran, RFC 3339, UTC.
    pub checked_at: String,
}

/// Why the results could not be read or written.
pub use crate::store::StoreError as StateError;

/// The folder of labcheck's state (see the module documentation).
pub fn state_dir() -> Result<PathBuf, StateError> {
    crate::store::STATE.dir()
}

/// A path component from an id: letters, digits, `-`, `_` and `.` kept, the
/// rest replaced, never empty, never `.` or `..`.
fn component(id: &str) -> String {
    let clean: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    match clean.trim_matches('.') {
        "" => "_".to_string(),
        _ => clean,
    }
}

/// The results file of an account's lab.
pub fn results_path(account: &str, lab: &str) -> Result<PathBuf, StateError> {
    let account = if account.is_empty() { UNKNOWN_ACCOUNT } else { account };
    Ok(state_dir()?
        .join("results")
        .join(component(account))
        .join(format!("{}.json", component(lab))))
}

/// Reads the results of an account's lab; `None` when nothing was recorded.
pub fn load(account: &str, lab: &str) -> Result<Option<Results>, StateError> {
    read(&results_path(account, lab)?)
}

fn read(path: &Path) -> Result<Option<Results>, StateError> {
    crate::store::read_json(path, KIND)
}

/// The accounts with recorded results for a lab, the most recently updated first.
pub fn accounts(lab: &str) -> Result<Vec<Results>, StateError> {
    let dir = state_dir()?.join("results");
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(StateError::Read { path: dir, source }),
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path().join(format!("{}.json", component(lab)));
        // A file another run is writing right now is skipped, not an error.
        if let Ok(Some(results)) = read(&path) {
            found.push(results);
        }
    }
    found.sort_by(|a, b| b.updated_at.cmp(&a.updated_at));
    Ok(found)
}

/// Merges a run's report into the recorded results of its account and lab.
/// Returns the file's path.
pub fn record(report: &Report) -> Result<PathBuf, StateError> {
    let path = results_path(&report.account, &report.lab)?;
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    crate::store::update_json(&path, KIND, |current: Option<Results>| {
        let mut results = current.unwrap_or_else(|| Results {
            schema: SCHEMA.to_string(),
            lab: report.lab.clone(),
            account: if report.account.is_empty() {
                UNKNOWN_ACCOUNT.to_string()
            } else {
                report.account.clone()
            },
            region: String::new(),
            identity: String::new(),
            updated_at: String::new(),
            runs: 0,
            checks: BTreeMap::new(),
        });
        if !report.region.is_empty() {
            results.region = report.region.clone();
        }
        if !report.identity.is_empty() {
            results.identity = report.identity.clone();
        }
        results.updated_at = now.clone();
        results.runs += 1;
        for check in report.checks() {
            results.checks.insert(
                check.id.clone(),
                CheckResult {
                    status: check.status,
                    message: check.message.clone(),
                    hint: check.hint.clone(),
                    fix: check.fix.clone(),
                    points: check.points,
                    score: check.score,
                    ungraded: check.ungraded,
                    checked_at: now.clone(),
                },
            );
        }
        results
    })?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_stay_in_their_folder() {
        assert_eq!(component("123456789012"), "123456789012");
        assert_eq!(component("../x"), ".._x");
        assert_eq!(component(".."), "_");
        assert_eq!(component(""), "_");
        assert_eq!(component("a/b"), "a_b");
    }
}
