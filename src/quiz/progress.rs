//! The learner's progress file: quiz attempts now, and whatever else later
//! commands (`labcheck status`) keep there.
//!
//! Where: `$LABCHECK_DATA_DIR/progress.json` when that variable is set, else
//! `$XDG_DATA_HOME/labcheck/progress.json` (an absolute `XDG_DATA_HOME`), else
//! `~/.local/share/labcheck/progress.json`. It is rewritten atomically
//! (a temporary file renamed over it), so a reader never sees half of it.
//!
//! Format (JSON, schema `labcheck/progress-v1`):
//!
//! ```json
//! { "schema": "labcheck/progress-v1",
//!   "quizzes": {
//!     "knowledge-check": {
//!       "attempts": [
//!         { "score": 4, "max": 5, "finished_at": "2025-05-01T10:00:00Z",
//!           "mode": "interactive", "seed": 123456 } ] } } }
//! ```
//!
//! Attempts are appended in the order they finished; the best score of a quiz
//! is the attempt with the highest score/max (the latest among equals), worked
//! out by the reader. Top-level keys and per-quiz keys this version does not
//! know are kept as they are, so other commands can add their own sections.
//! A file that is not valid JSON is never overwritten: the attempt is not
//! recorded and a warning says which file to fix or remove.

use super::QuizResult;
use crate::report::output::write_atomic;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

pub const SCHEMA: &str = "labcheck/progress-v1";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Progress {
    #[serde(default = "schema")]
    pub schema: String,
    #[serde(default)]
    pub quizzes: BTreeMap<String, QuizProgress>,
    /// Sections written by other commands, kept as they are.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

impl Default for Progress {
    fn default() -> Self {
        Progress {
            schema: schema(),
            quizzes: BTreeMap::new(),
            other: serde_json::Map::new(),
        }
    }
}

fn schema() -> String {
    SCHEMA.to_string()
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct QuizProgress {
    #[serde(default)]
    pub attempts: Vec<Attempt>,
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub score: u32,
    pub max: u32,
    /// RFC 3339, UTC.
    pub finished_at: String,
    /// `interactive` or `scripted`.
    pub mode: String,
    pub seed: u64,
}

/// Why the progress file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ProgressError {
    #[error(
        "no place for the progress file: set LABCHECK_DATA_DIR (or XDG_DATA_HOME, or HOME) to a folder labcheck may write to"
    )]
    NoDataDir,
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a labcheck progress file ({source}); fix it or move it away")]
    Corrupt { path: PathBuf, source: serde_json::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

impl Progress {
    pub fn attempts(&self, quiz: &str) -> &[Attempt] {
        self.quizzes.get(quiz).map_or(&[], |q| q.attempts.as_slice())
    }

    /// The best attempt at a quiz: highest score/max, the latest among equals.
    pub fn best(&self, quiz: &str) -> Option<&Attempt> {
        self.attempts(quiz).iter().max_by(|a, b| {
            // a.score/a.max vs b.score/b.max without floats; max 0 counts as 0.
            let lhs = u64::from(a.score) * u64::from(b.max.max(1));
            let rhs = u64::from(b.score) * u64::from(a.max.max(1));
            lhs.cmp(&rhs).then(a.score.cmp(&b.score))
        })
    }
}

/// The folder of the progress file.
pub fn data_dir() -> Result<PathBuf, ProgressError> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = var("LABCHECK_DATA_DIR") {
        return Ok(dir);
    }
    if let Some(dir) = var("XDG_DATA_HOME").filter(|d| d.is_absolute()) {
        return Ok(dir.join("labcheck"));
    }
    var("HOME")
        .filter(|d| d.is_absolute())
        .map(|home| home.join(".local/share/labcheck"))
        .ok_or(ProgressError::NoDataDir)
}

pub fn path() -> Result<PathBuf, ProgressError> {
    Ok(data_dir()?.join("progress.json"))
}

/// Reads the progress file; a missing file is empty progress.
pub fn load() -> Result<Progress, ProgressError> {
    let path = path()?;
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map_err(|source| ProgressError::Corrupt { path, source }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Progress::default()),
        Err(source) => Err(ProgressError::Read { path, source }),
    }
}

/// Appends an attempt to the progress file, atomically. Returns the file's path.
pub fn record(result: &QuizResult) -> Result<PathBuf, ProgressError> {
    let mut progress = load()?;
    progress
        .quizzes
        .entry(result.quiz.clone())
        .or_default()
        .attempts
        .push(Attempt {
            score: result.score,
            max: result.max,
            finished_at: result.finished_at.clone(),
            mode: result.mode.as_str().to_string(),
            seed: result.seed,
        });
    let path = path()?;
    let dir = path.parent().expect("a file in a folder").to_path_buf();
    std::fs::create_dir_all(&dir).map_err(|source| ProgressError::Write { path: dir, source })?;
    let mut text = serde_json::to_string_pretty(&progress).expect("serializes");
    text.push('\n');
    write_atomic(&path, text.as_bytes()).map_err(|source| ProgressError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(score: u32, max: u32, at: &str) -> Attempt {
        Attempt {
            score,
            max,
            finished_at: at.into(),
            mode: "scripted".into(),
            seed: 1,
        }
    }

    #[test]
    fn best_is_the_highest_ratio() {
        let mut p = Progress::default();
        p.quizzes.entry("q".into()).or_default().attempts = vec![
            attempt(1, 3, "a"),
            attempt(3, 3, "b"),
            attempt(2, 3, "c"),
            attempt(3, 3, "d"),
        ];
        assert_eq!(p.best("q").unwrap().finished_at, "d");
        assert!(p.best("other").is_none());
    }

    #[test]
    fn keeps_unknown_sections() {
        let text = r#"{"schema":"labcheck/progress-v1","labs":{"x":1},"quizzes":{"q":{"attempts":[],"note":"n"}}}"#;
        let p: Progress = serde_json::from_str(text).unwrap();
        let back = serde_json::to_value(&p).unwrap();
        assert_eq!(back["labs"]["x"], 1);
        assert_eq!(back["quizzes"]["q"]["note"], "n");
    }
}
