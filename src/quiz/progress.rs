//! The learner's progress file: quiz attempts now, and whatever else later
//! commands (`labcheck status`) keep there.
//!
//! Where: `$LABCHECK_DATA_DIR/progress.json` when that variable is set, else
//! `$XDG_DATA_HOME/labcheck/progress.json` (an absolute `XDG_DATA_HOME`), else
//! `~/.local/share/labcheck/progress.json`. It is rewritten atomically
//! (a temporary file renamed over it), so a reader never sees half of it,
//! under an exclusive lock on `progress.json.lock` held from reading to the
//! rename, so two quizzes finishing at once both land.
//!
//! Format (JSON, schema `labcheck/progress-v1`):
//!
//! ```json
//! { "schema": "labcheck/progress-v1",
//!   "quizzes": {
//!     "knowledge-check": {
//!       "attempts": [
//!         { "score": 4, "max_score": 5, "finished_at": "2025-05-01T10:00:00Z",
//!           "mode": "interactive", "seed": 123456 } ] } } }
//! ```
//!
//! Files written before `max_score` was the name say `max`; both are read.
//! Attempts are appended in the order they finished; the best score of a quiz
//! is the attempt with the highest score/max (the latest among equals), worked
//! out by the reader. Top-level keys and per-quiz keys this version does not
//! know are kept as they are, so other commands can add their own sections.
//! A file that is not valid JSON is never overwritten: the attempt is not
//! recorded and a warning says which file to fix or remove.

use super::QuizResult;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The `schema` value of the progress file.
pub const SCHEMA: &str = "labcheck/progress-v1";

/// The progress file: every recorded quiz attempt.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Progress {
    /// [`SCHEMA`] (filled in when missing).
    #[serde(default = "schema")]
    pub schema: String,
    /// Each quiz's attempts, by quiz id.
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

/// The progress of one quiz.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct QuizProgress {
    /// The attempts, in the order they finished.
    #[serde(default)]
    pub attempts: Vec<Attempt>,
    /// Keys this version does not know, kept as they are.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// One finished attempt at a quiz.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// Questions answered right.
    pub score: u32,
    /// Questions asked (read from `max` in older files).
    #[serde(rename = "max_score", alias = "max")]
    pub max_score: u32,
    /// RFC 3339, UTC.
    pub finished_at: String,
    /// `interactive` or `scripted` (`labcheck quiz`), or `book` (answered
    /// in the page `labcheck book serve` serves).
    pub mode: String,
    /// The seed the options were shuffled with.
    pub seed: u64,
}

/// Why the progress file could not be read or written.
pub use crate::store::StoreError as ProgressError;

/// The kind of file, in errors about it.
const KIND: &str = "progress";

impl Progress {
    /// The attempts at a quiz, oldest first; empty when there are none.
    pub fn attempts(&self, quiz: &str) -> &[Attempt] {
        self.quizzes.get(quiz).map_or(&[], |q| q.attempts.as_slice())
    }

    /// The best attempt at a quiz: highest score/max, the latest among equals.
    pub fn best(&self, quiz: &str) -> Option<&Attempt> {
        self.attempts(quiz).iter().max_by(|a, b| {
            // a.score/a.max vs b.score/b.max without floats; max 0 counts as 0.
            let lhs = u64::from(a.score) * u64::from(b.max_score.max(1));
            let rhs = u64::from(b.score) * u64::from(a.max_score.max(1));
            lhs.cmp(&rhs).then(a.score.cmp(&b.score))
        })
    }
}

/// The folder of the progress file (see the module documentation).
pub fn data_dir() -> Result<PathBuf, ProgressError> {
    crate::store::DATA.dir()
}

/// The progress file: `progress.json` in [`data_dir`].
pub fn path() -> Result<PathBuf, ProgressError> {
    Ok(data_dir()?.join("progress.json"))
}

/// Reads the progress file; a missing file is empty progress.
pub fn load() -> Result<Progress, ProgressError> {
    Ok(crate::store::read_json(&path()?, KIND)?.unwrap_or_default())
}

/// Appends an attempt to the progress file, atomically and under the file's
/// lock. Returns the file's path.
pub fn record(result: &QuizResult) -> Result<PathBuf, ProgressError> {
    let path = path()?;
    let attempt = Attempt {
        score: result.score,
        max_score: result.max_score,
        finished_at: result.finished_at.clone(),
        mode: result.mode.as_str().to_string(),
        seed: result.seed,
    };
    crate::store::update_json(&path, KIND, |current: Option<Progress>| {
        let mut progress = current.unwrap_or_default();
        progress
            .quizzes
            .entry(result.quiz.clone())
            .or_default()
            .attempts
            .push(attempt);
        progress
    })?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(score: u32, max: u32, at: &str) -> Attempt {
        Attempt {
            score,
            max_score: max,
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
    fn reads_old_max_and_writes_max_score() {
        let text =
            r#"{"quizzes":{"q":{"attempts":[{"score":2,"max":3,"finished_at":"t","mode":"scripted","seed":1}]}}}"#;
        let p: Progress = serde_json::from_str(text).unwrap();
        assert_eq!(p.best("q").unwrap().max_score, 3);
        let back = serde_json::to_value(&p).unwrap();
        assert_eq!(back["quizzes"]["q"]["attempts"][0]["max_score"], 3);
        assert!(back["quizzes"]["q"]["attempts"][0].get("max").is_none());
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
