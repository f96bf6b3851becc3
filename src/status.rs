//! `labcheck status`: one screen with where the learner stands: each step's
//! last results (recorded by every `labcheck check`, see [`crate::state`]),
//! the quizzes taken with their best score (the quiz progress file), and the
//! one thing to do next.
//!
//! JSON (`--format json`), schema `labcheck/status-v1`:
//!
//! ```json
//! { "schema": "labcheck/status-v1", "lab": "deploy-django-eb",
//!   "account": "123456789012" | null, "region": "us-west-2",
//!   "updated_at": "RFC 3339" | null, "runs": 3, "score": 10, "max_score": 56,
//!   "steps": [ { "id": "s3", "title": "...", "score": 8, "max_score": 10,
//!       "checks": [ { "id": "s3.cors", "title": "...",
//!           "status": "pass|fail|error|skip|not-run", "message": "...",
//!           "hint": "...", "fix": "...", "points": 2, "score": 0,
//!           "checked_at": "RFC 3339" | null } ] } ],
//!   "quizzes": [ { "id": "pre-assessment", "title": "...", "questions": 8,
//!       "attempts": 2, "best": { "score": 7, "max_score": 8 } | null } ],
//!   "other_accounts": ["..."],
//!   "next": { "text": "...", "command": "labcheck check s3.cors" | null } }
//! ```
//!
//! `max_score` counts every graded check of the lab, run or not (a check
//! skipped for where labcheck ran is left out, as in the report).

use crate::course::{Course, lab::Lab};
use crate::quiz::progress::Progress;
use crate::report::Status;
use crate::state::{CheckResult, Results};
use serde_json::{Value, json};
use std::fmt::Write;

/// The `schema` value of `labcheck status --json`.
pub const SCHEMA: &str = "labcheck/status-v1";

/// What `labcheck status` shows, gathered from the state and progress files.
pub struct Overview {
    /// The id of the lab.
    pub lab_id: String,
    /// The results shown: of the account asked for, else of the one checked most recently; `None` when there are none.
    pub results: Option<Results>,
    /// Other accounts with results for this lab, most recent first (only when no account was asked for).
    pub other_accounts: Vec<String>,
    /// The learner's quiz progress.
    pub progress: Progress,
    /// Files that could not be read, one message each.
    pub warnings: Vec<String>,
}

/// Gathers the status of a lab: the results of `account` when given, else of
/// the account checked most recently. Unreadable files become warnings.
pub fn gather(lab: &Lab, account: Option<&str>) -> Overview {
    let mut warnings = Vec::new();
    let (results, other_accounts) = match account {
        Some(account) => match crate::state::load(account, &lab.id) {
            Ok(r) => (r, Vec::new()),
            Err(e) => {
                warnings.push(e.to_string());
                (None, Vec::new())
            }
        },
        None => match crate::state::accounts(&lab.id) {
            Ok(mut all) => {
                let others = all.iter().skip(1).map(|r| r.account.clone()).collect();
                let first = if all.is_empty() { None } else { Some(all.remove(0)) };
                (first, others)
            }
            Err(e) => {
                warnings.push(e.to_string());
                (None, Vec::new())
            }
        },
    };
    let progress = match crate::quiz::progress::load() {
        Ok(p) => p,
        Err(e) => {
            warnings.push(e.to_string());
            Progress::default()
        }
    };
    Overview {
        lab_id: lab.id.clone(),
        results,
        other_accounts,
        progress,
        warnings,
    }
}

impl Overview {
    fn result(&self, check: &str) -> Option<&CheckResult> {
        self.results.as_ref().and_then(|r| r.checks.get(check))
    }

    /// Score and maximum of some checks: a check skipped for where labcheck
    /// ran does not count towards the maximum.
    fn score<'a>(&self, checks: impl Iterator<Item = &'a crate::course::lab::CheckSpec>) -> (u32, u32) {
        let mut score = 0;
        let mut max = 0;
        for c in checks {
            match self.result(&c.id) {
                Some(r) if r.ungraded => {}
                Some(r) => {
                    score += if r.status == Status::Pass { c.points } else { 0 };
                    max += c.points;
                }
                None => max += c.points,
            }
        }
        (score, max)
    }

    /// The one thing to do next, and the command that does it.
    pub fn next(&self, course: &Course, lab: &Lab) -> (String, Option<String>) {
        let checks = || lab.checks().map(|(_, c)| c);
        for c in checks() {
            if let Some(r) = self.result(&c.id)
                && r.status == Status::Fail
            {
                let mut text = format!("fix {}: {}", c.id, first_sentences(&r.hint, &r.message));
                if !r.fix.is_empty() {
                    text.push_str(&format!("\n  fix: {}", r.fix));
                }
                return (text, Some(format!("labcheck check {}", c.id)));
            }
        }
        for c in checks() {
            if let Some(r) = self.result(&c.id)
                && r.status == Status::Error
            {
                return (
                    format!("{} could not be checked: {}", c.id, first_line(&r.message)),
                    Some(format!("labcheck check {}", c.id)),
                );
            }
        }
        if self.results.is_none() {
            return (
                "grade the lab against your AWS account".into(),
                Some("labcheck check".into()),
            );
        }
        for step in &lab.steps {
            if step.checks.iter().any(|c| self.result(&c.id).is_none()) {
                return (
                    format!("grade the step {} ({})", step.id, step.title),
                    Some(format!("labcheck check {}", step.id)),
                );
            }
        }
        if let Some(q) = course.quizzes.iter().find(|q| self.progress.best(&q.id).is_none()) {
            return (
                format!("every check passes; take the quiz {} ({})", q.id, q.title),
                Some(format!("labcheck quiz {}", q.id)),
            );
        }
        if let Some(q) = course
            .quizzes
            .iter()
            .find(|q| self.progress.best(&q.id).is_some_and(|a| a.score < a.max_score))
        {
            return (
                format!(
                    "every check passes; review the quiz {} until every answer is right",
                    q.id
                ),
                Some(format!("labcheck quiz {}", q.id)),
            );
        }
        (
            "every check passes and every quiz is done. When you finish the lab, delete what still costs money".into(),
            Some("labcheck cleanup".into()),
        )
    }

    /// The status as JSON (schema `labcheck/status-v1`).
    pub fn to_json(&self, course: &Course, lab: &Lab) -> Value {
        let steps: Vec<Value> = lab
            .steps
            .iter()
            .map(|step| {
                let (score, max) = self.score(step.checks.iter());
                let checks: Vec<Value> = step
                    .checks
                    .iter()
                    .map(|c| match self.result(&c.id) {
                        Some(r) => json!({
                            "id": c.id, "title": c.title, "status": r.status.as_str(),
                            "message": r.message, "hint": r.hint, "fix": r.fix,
                            "points": c.points, "score": if r.status == Status::Pass { c.points } else { 0 },
                            "checked_at": r.checked_at,
                        }),
                        None => json!({
                            "id": c.id, "title": c.title, "status": "not-run",
                            "message": "", "hint": "", "fix": "",
                            "points": c.points, "score": 0, "checked_at": null,
                        }),
                    })
                    .collect();
                json!({"id": step.id, "title": step.title, "score": score, "max_score": max, "checks": checks})
            })
            .collect();
        let (score, max) = self.score(lab.checks().map(|(_, c)| c));
        let quizzes: Vec<Value> = course
            .quizzes
            .iter()
            .map(|q| {
                let best = self
                    .progress
                    .best(&q.id)
                    .map(|a| json!({"score": a.score, "max_score": a.max_score}));
                json!({
                    "id": q.id, "title": q.title, "questions": q.questions.len(),
                    "attempts": self.progress.attempts(&q.id).len(), "best": best,
                })
            })
            .collect();
        let (text, command) = self.next(course, lab);
        let r = self.results.as_ref();
        json!({
            "schema": SCHEMA,
            "lab": self.lab_id,
            "account": r.map(|r| r.account.clone()),
            "region": r.map(|r| r.region.clone()).unwrap_or_default(),
            "updated_at": r.map(|r| r.updated_at.clone()),
            "runs": r.map_or(0, |r| r.runs),
            "score": score,
            "max_score": max,
            "steps": steps,
            "quizzes": quizzes,
            "other_accounts": self.other_accounts,
            "next": {"text": text, "command": command},
        })
    }

    /// The status for a person: one line per step, one per quiz, and what next.
    pub fn to_human(&self, course: &Course, lab: &Lab) -> String {
        let bold = console::Style::new().bold();
        let dim = console::Style::new().dim();
        let green = console::Style::new().green();
        let red = console::Style::new().red().bold();
        let yellow = console::Style::new().yellow().bold();
        let cyan = console::Style::new().cyan();
        let mark = |r: Option<&CheckResult>| match r.map(|r| r.status) {
            Some(Status::Pass) => green.apply_to("✓").to_string(),
            Some(Status::Fail) => red.apply_to("✗").to_string(),
            Some(Status::Error) => yellow.apply_to("!").to_string(),
            Some(Status::Skip) => dim.apply_to("-").to_string(),
            None => dim.apply_to("·").to_string(),
        };
        let mut out = String::new();
        let _ = write!(out, "{} {}", bold.apply_to("labcheck status"), lab.id);
        match &self.results {
            Some(r) => {
                let _ = writeln!(out, " · account {} · {}", r.account, r.region);
                let runs = if r.runs == 1 {
                    "1 run".to_string()
                } else {
                    format!("{} runs", r.runs)
                };
                let _ = writeln!(
                    out,
                    "{}",
                    dim.apply_to(format!("last checked {} ({runs} recorded)", r.updated_at))
                );
            }
            None => {
                let _ = writeln!(out);
                let _ = writeln!(out, "{}", dim.apply_to("no check recorded yet"));
            }
        }
        if !self.other_accounts.is_empty() {
            let _ = writeln!(
                out,
                "{}",
                dim.apply_to(format!(
                    "also recorded: {} (labcheck status --account ID)",
                    self.other_accounts.join(", ")
                ))
            );
        }
        let _ = writeln!(out, "\n{}", bold.apply_to("Steps"));
        let width = lab.steps.iter().map(|s| s.id.len()).max().unwrap_or(0);
        let most = lab.steps.iter().map(|s| s.checks.len()).max().unwrap_or(0);
        // A step with no graded check (cleanup) has nothing to show here.
        for step in lab.steps.iter().filter(|s| !s.checks.is_empty()) {
            let (score, max) = self.score(step.checks.iter());
            let mut marks: String = step.checks.iter().map(|c| mark(self.result(&c.id))).collect();
            marks.push_str(&" ".repeat(most - step.checks.len()));
            let run = step.checks.iter().filter(|c| self.result(&c.id).is_some()).count();
            let worst = step
                .checks
                .iter()
                .find(|c| self.result(&c.id).is_some_and(|r| r.status == Status::Fail))
                .or_else(|| {
                    step.checks
                        .iter()
                        .find(|c| self.result(&c.id).is_some_and(|r| r.status == Status::Error))
                });
            let what = match worst {
                Some(c) => {
                    let r = self.result(&c.id).expect("has a result");
                    let verb = if r.status == Status::Fail {
                        "failed"
                    } else {
                        "could not be checked"
                    };
                    format!("{} {verb}: {}", c.id, c.title)
                }
                None if run == 0 => dim.apply_to("not checked yet").to_string(),
                None if run < step.checks.len() => dim
                    .apply_to(format!(
                        "{} of {} checks not checked yet",
                        step.checks.len() - run,
                        step.checks.len()
                    ))
                    .to_string(),
                None => green.apply_to("done").to_string(),
            };
            let points = if run == 0 {
                format!("{:>7}", format!("-/{max}"))
            } else {
                format!("{:>7}", format!("{score}/{max}"))
            };
            let _ = writeln!(out, "  {:width$}  {points}  {marks}  {what}", step.id);
        }
        let (score, max) = self.score(lab.checks().map(|(_, c)| c));
        let _ = writeln!(out, "  {:width$}  {:>7}", "", bold.apply_to(format!("{score}/{max}")));

        if !course.quizzes.is_empty() {
            let _ = writeln!(out, "\n{}", bold.apply_to("Quizzes"));
            let width = course.quizzes.iter().map(|q| q.id.len()).max().unwrap_or(0);
            for q in &course.quizzes {
                let attempts = self.progress.attempts(&q.id).len();
                let line = match self.progress.best(&q.id) {
                    Some(a) => {
                        let best = format!("{:>7}", format!("{}/{}", a.score, a.max_score));
                        let best = if a.score == a.max_score {
                            green.apply_to(best).to_string()
                        } else {
                            best
                        };
                        let tries = if attempts == 1 {
                            "1 attempt".into()
                        } else {
                            format!("{attempts} attempts")
                        };
                        format!("{best}  best of {tries}")
                    }
                    None => format!("{:>7}  {}", "-", dim.apply_to("not taken")),
                };
                let _ = writeln!(out, "  {:width$}  {line}", q.id);
            }
        }
        let (text, command) = self.next(course, lab);
        let _ = writeln!(out, "\n{} {text}", bold.apply_to("Next:"));
        if let Some(command) = command {
            let _ = writeln!(out, "  then: {}", cyan.apply_to(command));
        }
        out
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// The hint (or else the message), cut to its first two sentences.
fn first_sentences(hint: &str, message: &str) -> String {
    let text = if hint.trim().is_empty() { message } else { hint };
    let text = first_line(text);
    let mut end = text.len();
    let mut seen = 0;
    for (i, _) in text.match_indices(". ") {
        seen += 1;
        if seen == 2 {
            end = i + 1;
            break;
        }
    }
    text[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::first_sentences;

    #[test]
    fn hint_is_cut_to_two_sentences() {
        assert_eq!(first_sentences("One. Two. Three.", "m"), "One. Two.");
        assert_eq!(first_sentences("", "message"), "message");
    }
}
