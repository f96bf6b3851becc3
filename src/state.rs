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
//! sidecar file (`<file>.lock`, see [`locked_update`]) from reading to the
//! atomic rename, so two runs that finish at once both land.
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

use crate::report::output::write_atomic;
use crate::report::{Report, Status};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The `schema` value of a results file.
pub const SCHEMA: &str = "labcheck/results-v1";

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
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error(
        "no place for labcheck's state: set LABCHECK_STATE_DIR (or XDG_STATE_HOME, or HOME) to a folder labcheck may write to"
    )]
    /// Neither `LABCHECK_STATE_DIR`, `XDG_STATE_HOME` nor `HOME` names a usable folder.
    NoStateDir,
    /// A results file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why it could not be read.
        source: std::io::Error,
    },
    /// A results file is not valid JSON of this schema.
    #[error("{path} is not a labcheck results file ({source}); fix it or move it away")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Why it could not be parsed.
        source: serde_json::Error,
    },
    /// A results file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why it could not be written.
        source: std::io::Error,
    },
}

/// The folder of labcheck's state.
pub fn state_dir() -> Result<PathBuf, StateError> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = var("LABCHECK_STATE_DIR") {
        return Ok(dir);
    }
    if let Some(dir) = var("XDG_STATE_HOME").filter(|d| d.is_absolute()) {
        return Ok(dir.join("labcheck"));
    }
    var("HOME")
        .filter(|d| d.is_absolute())
        .map(|home| home.join(".local/state/labcheck"))
        .ok_or(StateError::NoStateDir)
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
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|source| StateError::Corrupt {
                path: path.to_path_buf(),
                source,
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(StateError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
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
    locked_update(&path, |text| {
        let mut results = match text {
            Some(text) => serde_json::from_str::<Results>(text).map_err(|source| StateError::Corrupt {
                path: path.clone(),
                source,
            })?,
            None => Results {
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
            },
        };
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
        let mut out = serde_json::to_string_pretty(&results).expect("serializes");
        out.push('\n');
        Ok(out)
    })?;
    Ok(path)
}

/// Read-modify-write of a JSON file that several labcheck processes may
/// update at once. An exclusive lock on `<file>.lock` (a sidecar: the file
/// itself is replaced by a rename, so a lock on it would guard the old copy)
/// is held from the read to the atomic rename. `update` gets the current text
/// (`None` when the file does not exist) and returns the new text; its error
/// leaves the file as it was. The folder is created when missing.
pub fn locked_update<E>(path: &Path, update: impl FnOnce(Option<&str>) -> Result<String, E>) -> Result<(), E>
where
    E: From<StateError>,
{
    let write_err = |p: &Path, source: std::io::Error| StateError::Write {
        path: p.to_path_buf(),
        source,
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| write_err(dir, e))?;
    let mut lock_name = path.file_name().unwrap_or_default().to_os_string();
    lock_name.push(".lock");
    let lock_path = dir.join(lock_name);
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| write_err(&lock_path, e))?;
    lock.lock().map_err(|e| write_err(&lock_path, e))?;
    let current = match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => {
            return Err(StateError::Read {
                path: path.to_path_buf(),
                source,
            }
            .into());
        }
    };
    let text = update(current.as_deref())?;
    write_atomic(path, text.as_bytes()).map_err(|e| write_err(path, e))?;
    // Dropping the file releases the lock.
    drop(lock);
    Ok(())
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

    #[test]
    fn concurrent_updates_all_land() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n.json");
        let threads: Vec<_> = (0..16)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || {
                    for _ in 0..10 {
                        locked_update::<StateError>(&path, |text| {
                            let n: u64 = text.map_or(0, |t| t.trim().parse().unwrap());
                            Ok((n + 1).to_string())
                        })
                        .unwrap();
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "160");
    }
}
