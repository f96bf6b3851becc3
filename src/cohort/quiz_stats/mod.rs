//! `labcheck cohort quizzes DIR`: what a cohort got wrong in the quizzes.
//! Reads a folder of learners' quiz results (`labcheck quiz --format json`,
//! schema `labcheck/quiz-result-v1`) and reports, per question, how the
//! cohort answered: the share right on the first try, how well the question
//! tells strong answers from weak ones, the wrong answer chosen most, and
//! flags for the questions worth rewriting. Rendered by [`render`].
//!
//! - **Whose result.** A file's `learner` field when it has one; else the
//!   first folder below DIR the file sits in (`DIR/ada/kc.json` is ada's);
//!   else the file's name without its extension (`DIR/ada.json`). A
//!   learner's attempts at a quiz are ordered by `finished_at`; the earliest
//!   is their first try.
//! - **Per question**: `attempts` (every attempt that asked it),
//!   `learners` (learners whose first try asked it), `first_try_right` (the
//!   share of those who got it right then), `discrimination` (the
//!   point-biserial correlation, over first tries, between getting this
//!   question right and the score on the rest of the quiz; empty when
//!   everybody or nobody got it right, or fewer than [`MIN_LEARNERS`]
//!   learners answered), and `top_wrong` (the wrong option chosen most,
//!   over all attempts, with how often).
//! - **Flags**: `too-easy` (first try right ≥ 95 %), `too-hard` (≤ 30 %),
//!   `negative-discrimination` (the stronger learners got it wrong more
//!   often than the weaker ones: the key is probably wrong).
//! - **Worst first**: negative discrimination, then the hardest.
//! - **Hostile files are input**: a file that is not a quiz result, too
//!   large, or malformed is named and skipped, never fatal; text from the
//!   files is stripped of control sequences before any renderer sees it.

pub mod render;

use crate::course::Course;
use crate::course::quiz::plain;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// The schema of the report's JSON form.
pub const SCHEMA: &str = "labcheck/quiz-stats-v1";

/// The schema a result file must carry.
pub const RESULT_SCHEMA: &str = "labcheck/quiz-result-v1";

/// Fewest learners for a discrimination figure (and its flag).
pub const MIN_LEARNERS: usize = 5;

/// First try right at least this often: too easy.
pub const TOO_EASY: f64 = 0.95;

/// First try right at most this often: too hard.
pub const TOO_HARD: f64 = 0.30;

/// Most bytes read of one result file.
const FILE_CAP: u64 = 4 << 20;

/// Most files read from the folder.
const MAX_FILES: usize = 200_000;

/// Most folder levels walked below DIR.
const MAX_DEPTH: usize = 4;

/// What the report says of one question.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct QuestionStats {
    /// The quiz's id.
    pub quiz: String,
    /// The question's id.
    pub id: String,
    /// The prompt as plain text, from the course's quiz file (empty when the
    /// course has no such question).
    pub prompt: String,
    /// Attempts that asked this question.
    pub attempts: usize,
    /// Learners whose first try asked it.
    pub learners: usize,
    /// The share of those learners right on their first try.
    pub first_try_right: f64,
    /// Point-biserial correlation with the rest of the quiz, over first tries.
    pub discrimination: Option<f64>,
    /// The wrong answer chosen most (all attempts) and how many times.
    pub top_wrong: Option<(String, usize)>,
    /// `too-easy`, `too-hard`, `negative-discrimination`.
    pub flags: Vec<&'static str>,
}

/// A file that was not read, and why.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Skipped {
    /// The file, relative to DIR.
    pub file: String,
    /// Why it was skipped.
    pub reason: String,
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct QuizStats {
    /// [`SCHEMA`].
    pub schema: &'static str,
    /// Learners with at least one result.
    pub learners: usize,
    /// Result files read.
    pub results: usize,
    /// Files skipped, with why.
    pub skipped: Vec<Skipped>,
    /// One entry per question, worst first.
    pub questions: Vec<QuestionStats>,
}

/// Why the folder could not be read at all (bad input, exit 2).
#[derive(Debug, thiserror::Error)]
pub enum QuizStatsError {
    /// The folder cannot be listed.
    #[error("cannot read {path}: {source}")]
    Folder {
        /// The folder.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// Nothing in the folder is a quiz result.
    #[error("{path} holds no quiz results ({RESULT_SCHEMA} files, from `labcheck quiz QUIZ --format json`){skipped}")]
    Empty {
        /// The folder.
        path: PathBuf,
        /// A note on the files skipped, if any.
        skipped: String,
    },
}

/// One attempt read from a file.
#[derive(Clone, Debug)]
struct Attempt {
    learner: String,
    quiz: String,
    finished_at: String,
    file: String,
    answers: Vec<Answer>,
}

/// One question of an attempt.
#[derive(Clone, Debug)]
struct Answer {
    id: String,
    correct: bool,
    /// The options chosen (or the text typed), none when left out.
    given: Vec<String>,
    expected: Vec<String>,
}

/// Reads every result under `dir` and computes the report; `course` gives
/// the prompts.
pub fn analyse(dir: &Path, course: &Course) -> Result<QuizStats, QuizStatsError> {
    let mut skipped = Vec::new();
    let files = result_files(dir, &mut skipped)?;
    let mut attempts = Vec::new();
    for path in &files {
        let shown = shown(path, dir);
        match read_attempt(path, dir) {
            Ok(a) => attempts.push(a),
            Err(reason) => skipped.push(Skipped {
                file: shown,
                reason: reason.to_string(),
            }),
        }
    }
    if attempts.is_empty() {
        let skipped = match skipped.len() {
            0 => String::new(),
            n => format!(
                "; {n} file(s) skipped, the first: {}: {}",
                skipped[0].file, skipped[0].reason
            ),
        };
        return Err(QuizStatsError::Empty {
            path: dir.to_path_buf(),
            skipped,
        });
    }
    Ok(stats(attempts, course, skipped))
}

/// The `.json` files below `dir`, in a stable order, up to [`MAX_FILES`].
fn result_files(dir: &Path, skipped: &mut Vec<Skipped>) -> Result<Vec<PathBuf>, QuizStatsError> {
    let mut found = Vec::new();
    let mut folders = vec![(dir.to_path_buf(), 0usize)];
    while let Some((folder, depth)) = folders.pop() {
        let entries = match std::fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(source) if folder == dir => {
                return Err(QuizStatsError::Folder {
                    path: dir.to_path_buf(),
                    source,
                });
            }
            Err(e) => {
                skipped.push(Skipped {
                    file: shown(&folder, dir),
                    reason: format!("cannot read the folder: {e}"),
                });
                continue;
            }
        };
        for entry in entries.flatten() {
            // Links are not followed: a result is a file in the folder.
            let Ok(kind) = entry.file_type() else { continue };
            let path = entry.path();
            if kind.is_dir() && depth < MAX_DEPTH {
                folders.push((path, depth + 1));
            } else if kind.is_file() && path.extension().is_some_and(|e| e == "json") {
                if found.len() == MAX_FILES {
                    skipped.push(Skipped {
                        file: shown(&path, dir),
                        reason: format!("more than {MAX_FILES} result files; the rest were not read"),
                    });
                    found.sort();
                    return Ok(found);
                }
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// `path` relative to `dir`, without control characters.
fn shown(path: &Path, dir: &Path) -> String {
    let rel = path.strip_prefix(dir).unwrap_or(path);
    crate::redact::strip_control(&rel.display().to_string())
}

/// Whose result a file is when it does not say: its first folder below
/// `dir`, else its name without the extension.
fn learner_of(path: &Path, dir: &Path) -> String {
    let rel = path.strip_prefix(dir).unwrap_or(path);
    let mut parts = rel.components();
    let first = parts.next().map(|c| c.as_os_str().to_string_lossy().into_owned());
    match (first, parts.next()) {
        (Some(folder), Some(_)) => folder,
        _ => rel.file_stem().unwrap_or_default().to_string_lossy().into_owned(),
    }
}

/// Why a file of the folder is not a quiz result (it is skipped).
#[derive(Debug, thiserror::Error)]
enum NotAResult {
    #[error("{0}")]
    Read(std::io::Error),
    #[error("not JSON ({0})")]
    Json(serde_json::Error),
    #[error("not a quiz result (schema is not {RESULT_SCHEMA})")]
    Schema,
    #[error("no `{0}`")]
    NoField(&'static str),
    #[error("no `questions` list")]
    NoQuestions,
    #[error("question {0} has no `id`")]
    NoQuestionId(usize),
    #[error("question `{0}` has no `correct`")]
    NoCorrect(String),
}

/// Reads one result file into an attempt; the error says why it is skipped.
fn read_attempt(path: &Path, dir: &Path) -> Result<Attempt, NotAResult> {
    let text = crate::textfile::read_capped(path, FILE_CAP).map_err(NotAResult::Read)?;
    let doc: Value = serde_json::from_str(&text).map_err(NotAResult::Json)?;
    if doc["schema"] != RESULT_SCHEMA {
        return Err(NotAResult::Schema);
    }
    let field = |name: &'static str| {
        doc[name]
            .as_str()
            .map(crate::redact::strip_control)
            .filter(|s| !s.trim().is_empty())
            .ok_or(NotAResult::NoField(name))
    };
    let quiz = field("quiz")?;
    let finished_at = field("finished_at")?;
    let learner = match doc.get("learner") {
        Some(_) => field("learner")?,
        None => crate::redact::strip_control(&learner_of(path, dir)),
    };
    let questions = doc["questions"].as_array().ok_or(NotAResult::NoQuestions)?;
    let mut answers = Vec::with_capacity(questions.len());
    for (i, q) in questions.iter().enumerate() {
        let id = q["id"]
            .as_str()
            .map(crate::redact::strip_control)
            .ok_or(NotAResult::NoQuestionId(i + 1))?;
        let correct = q["correct"]
            .as_bool()
            .ok_or_else(|| NotAResult::NoCorrect(id.clone()))?;
        answers.push(Answer {
            id,
            correct,
            given: texts(&q["given"]),
            expected: texts(&q["expected"]),
        });
    }
    Ok(Attempt {
        learner,
        quiz,
        finished_at,
        file: shown(path, dir),
        answers,
    })
}

/// A result's `given`/`expected`: a string, a list of strings, or nothing.
fn texts(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![crate::redact::strip_control(s)],
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(crate::redact::strip_control)
            .collect(),
        _ => Vec::new(),
    }
}

/// The per-question figures from the attempts read.
fn stats(mut attempts: Vec<Attempt>, course: &Course, skipped: Vec<Skipped>) -> QuizStats {
    attempts.sort_by(|a, b| {
        (&a.learner, &a.quiz, &a.finished_at, &a.file).cmp(&(&b.learner, &b.quiz, &b.finished_at, &b.file))
    });
    let learners = {
        // Sorted by learner first, so equal names are neighbours.
        let mut names: Vec<&str> = attempts.iter().map(|a| a.learner.as_str()).collect();
        names.dedup();
        names.len()
    };
    // The first try of each learner at each quiz.
    let mut first: Vec<&Attempt> = Vec::new();
    for a in &attempts {
        if first
            .last()
            .is_none_or(|f| (&f.learner, &f.quiz) != (&a.learner, &a.quiz))
        {
            first.push(a);
        }
    }
    #[derive(Default)]
    struct Tally {
        attempts: usize,
        wrong: HashMap<String, usize>,
        /// (right, rest of the quiz's score) per first try.
        firsts: Vec<(bool, f64)>,
    }
    let mut tallies: BTreeMap<(String, String), Tally> = BTreeMap::new();
    for a in &attempts {
        for q in &a.answers {
            let t = tallies.entry((a.quiz.clone(), q.id.clone())).or_default();
            t.attempts += 1;
            if !q.correct {
                for g in q.given.iter().filter(|g| !q.expected.contains(g)) {
                    *t.wrong.entry(g.clone()).or_default() += 1;
                }
            }
        }
    }
    for a in &first {
        let total = a.answers.iter().filter(|q| q.correct).count() as f64;
        for q in &a.answers {
            let t = tallies.entry((a.quiz.clone(), q.id.clone())).or_default();
            let own = if q.correct { 1.0 } else { 0.0 };
            t.firsts.push((q.correct, total - own));
        }
    }
    let mut questions: Vec<QuestionStats> = tallies
        .into_iter()
        .map(|((quiz, id), t)| {
            let n = t.firsts.len();
            let right = t.firsts.iter().filter(|(r, _)| *r).count();
            let first_try_right = if n == 0 { 0.0 } else { right as f64 / n as f64 };
            let discrimination = (n >= MIN_LEARNERS).then(|| point_biserial(&t.firsts)).flatten();
            let mut flags = Vec::new();
            if n > 0 && first_try_right >= TOO_EASY {
                flags.push("too-easy");
            }
            if n > 0 && first_try_right <= TOO_HARD {
                flags.push("too-hard");
            }
            if discrimination.is_some_and(|d| d < 0.0) {
                flags.push("negative-discrimination");
            }
            let top_wrong = t
                .wrong
                .into_iter()
                .max_by(|(a, an), (b, bn)| an.cmp(bn).then(b.cmp(a)))
                .map(|(text, count)| (plain(&text), count));
            let prompt = course
                .quizzes
                .iter()
                .find(|q| q.id == quiz)
                .and_then(|q| q.question(&id))
                .map(|q| plain(&q.prompt))
                .unwrap_or_default();
            QuestionStats {
                quiz,
                id,
                prompt,
                attempts: t.attempts,
                learners: n,
                first_try_right,
                discrimination,
                top_wrong,
                flags,
            }
        })
        .collect();
    questions.sort_by(|a, b| {
        let key = |q: &QuestionStats| {
            (
                !q.flags.contains(&"negative-discrimination"),
                ordered(q.discrimination.filter(|d| *d < 0.0).unwrap_or(0.0)),
                ordered(q.first_try_right),
            )
        };
        key(a).cmp(&key(b)).then((&a.quiz, &a.id).cmp(&(&b.quiz, &b.id)))
    });
    QuizStats {
        schema: SCHEMA,
        learners,
        results: attempts.len(),
        skipped,
        questions,
    }
}

/// A finite float as a sortable integer (ties broken elsewhere).
fn ordered(x: f64) -> i64 {
    (x * 1e9).round() as i64
}

/// The point-biserial correlation between being right and the rest score:
/// `(M1 - M0) / s * sqrt(p q)`, with `s` the standard deviation of the rest
/// scores over everybody. `None` when everybody or nobody was right, or the
/// rest scores do not vary.
pub fn point_biserial(pairs: &[(bool, f64)]) -> Option<f64> {
    let n = pairs.len() as f64;
    let right: Vec<f64> = pairs.iter().filter(|(r, _)| *r).map(|(_, x)| *x).collect();
    let wrong: Vec<f64> = pairs.iter().filter(|(r, _)| !*r).map(|(_, x)| *x).collect();
    if right.is_empty() || wrong.is_empty() {
        return None;
    }
    let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64;
    let all_mean = pairs.iter().map(|(_, x)| x).sum::<f64>() / n;
    let variance = pairs.iter().map(|(_, x)| (x - all_mean).powi(2)).sum::<f64>() / n;
    if variance <= f64::EPSILON {
        return None;
    }
    let p = right.len() as f64 / n;
    Some((mean(&right) - mean(&wrong)) / variance.sqrt() * (p * (1.0 - p)).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn point_biserial_of_a_perfect_split_is_one_and_its_mirror_minus_one() {
        let split: Vec<(bool, f64)> = (0..10).map(|i| (i >= 5, if i >= 5 { 3.0 } else { 1.0 })).collect();
        assert!((point_biserial(&split).unwrap() - 1.0).abs() < 1e-12);
        let mirror: Vec<(bool, f64)> = split.iter().map(|(r, x)| (!r, *x)).collect();
        assert!((point_biserial(&mirror).unwrap() + 1.0).abs() < 1e-12);
        assert_eq!(point_biserial(&[(true, 1.0), (true, 2.0)]), None, "nobody wrong");
        assert_eq!(point_biserial(&[(true, 1.0), (false, 1.0)]), None, "no spread");
    }

    #[test]
    fn a_files_learner_is_its_folder_else_its_name() {
        let dir = Path::new("/r");
        assert_eq!(learner_of(Path::new("/r/ada/kc-2.json"), dir), "ada");
        assert_eq!(learner_of(Path::new("/r/ada/x/kc.json"), dir), "ada");
        assert_eq!(learner_of(Path::new("/r/grace.json"), dir), "grace");
    }
}
