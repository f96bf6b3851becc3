//! The report of one lab run (schema `labcheck/report-v1`) and its renderers:
//! human (console), JSON, JUnit XML and HTML. A report is cleaned of secrets
//! and control sequences by [`Report::sanitize`] when a run ends, and
//! [`render`] gives every renderer a sanitized copy, whatever its origin (a
//! run, the state file, a learner's own report).

pub mod html;
pub mod human;
pub mod junit;
pub mod output;

use crate::redact::Redactor;
/// A check's status and basis: labcheck-outcome's, which the checks return.
pub use labcheck_outcome::outcome::{Basis, Status};
use serde::{Deserialize, Serialize};

/// The `schema` value of a JSON report.
pub const SCHEMA: &str = "labcheck/report-v1";

/// The result of one `labcheck check` run of a lab, as written in the JSON report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// The id of the lab checked.
    pub lab: String,
    /// The AWS account id checked.
    pub account: String,
    /// The AWS region checked.
    pub region: String,
    /// The ARN of the caller identity, empty when it could not be learned.
    pub identity: String,
    /// When the run started, RFC 3339, UTC.
    pub started_at: String,
    /// How long the run took, in milliseconds.
    pub duration_ms: u64,
    /// Points earned, over all steps.
    pub score: u32,
    /// Points possible, over all steps (ungraded checks left out).
    pub max_score: u32,
    /// The steps checked, in lab order.
    pub steps: Vec<StepReport>,
    /// Things labcheck found out and the learner should know (a discovered
    /// bucket name, checks skipped because of where labcheck runs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The results of one step of the lab.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepReport {
    /// The step's id in the lab file.
    pub id: String,
    /// The step's heading.
    pub title: String,
    /// Points earned in this step.
    pub score: u32,
    /// Points possible in this step (ungraded checks left out).
    pub max_score: u32,
    /// The step's checks that were run, in lab order.
    pub checks: Vec<CheckReport>,
}

/// The result of one check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckReport {
    /// The check's id in the lab file.
    pub id: String,
    /// The check's title in the lab file.
    pub title: String,
    /// Pass, fail, error or skip.
    pub status: Status,
    /// What the check found, one sentence.
    pub message: String,
    /// What to look at: the check's own hint, else the lab's; shown when it did not pass.
    pub hint: String,
    /// How to put it right: the check's own fix, else the lab's; shown when it did not pass.
    pub fix: String,
    /// Points the check is worth.
    pub points: u32,
    /// Points earned: `points` when it passed, else 0.
    pub score: u32,
    /// How long the check took, in milliseconds.
    pub duration_ms: u64,
    /// What the check saw (AWS values, HTTP statuses), secrets redacted.
    pub evidence: serde_json::Value,
    /// Skipped for where labcheck ran or what it was given (a cache only
    /// reachable inside its VPC, no project folder), not for the learner's
    /// work: left out of `max_score`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub ungraded: bool,
    /// Could not be checked because of a fault that asking again may cure
    /// (throttling, a server error, a dropped connection).
    #[serde(default, skip_serializing_if = "is_false")]
    pub transient: bool,
    /// Could not be checked because AWS refused the call: the credentials
    /// lack the permission (`labcheck policy` lists what they need).
    #[serde(default, skip_serializing_if = "is_false")]
    pub denied: bool,
    /// What the verdict rests on, when it is not labcheck's own reading:
    /// `"learner-code"` when it comes from running the learner's project
    /// (its settings, its checks), which reports what it chooses to. Absent
    /// otherwise (AWS's answers, the files as written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<Basis>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl CheckReport {
    /// Redacts secrets and strips control sequences from every string.
    pub fn sanitize(&mut self, redactor: &Redactor) {
        for s in [
            &mut self.id,
            &mut self.title,
            &mut self.message,
            &mut self.hint,
            &mut self.fix,
        ] {
            *s = redactor.clean(s);
        }
        redactor.clean_json(&mut self.evidence);
    }
}

/// How a run ends, as the process exit code (DESIGN §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every graded check passed.
    Passed = 0,
    /// At least one check failed.
    Failed = 1,
    /// No check failed, but some could not be evaluated.
    Incomplete = 3,
}

impl Verdict {
    /// The process exit of a run that ended so.
    pub fn exit(self) -> crate::exit::Exit {
        use crate::exit::Exit;
        match self {
            Verdict::Passed => Exit::Pass,
            Verdict::Failed => Exit::Fail,
            Verdict::Incomplete => Exit::NotEvaluated,
        }
    }
}

impl Report {
    /// All checks of all steps, in lab order.
    pub fn checks(&self) -> impl Iterator<Item = &CheckReport> {
        self.steps.iter().flat_map(|s| s.checks.iter())
    }

    /// The checks that could not be evaluated (an error, not a check left
    /// out of the maximum): they score nothing but say nothing of the work.
    pub fn not_evaluated(&self) -> impl Iterator<Item = &CheckReport> {
        self.checks().filter(|c| c.status == Status::Error && !c.ungraded)
    }

    /// How many checks ended with `status`.
    pub fn count(&self, status: Status) -> usize {
        self.checks().filter(|c| c.status == status).count()
    }

    /// The run's overall verdict: failed if any check failed, else incomplete if any errored, else passed.
    pub fn verdict(&self) -> Verdict {
        if self.count(Status::Fail) > 0 {
            Verdict::Failed
        } else if self.count(Status::Error) > 0 {
            Verdict::Incomplete
        } else {
            Verdict::Passed
        }
    }

    /// Recomputes step and total scores from the checks. A check left out
    /// of the maximum (`ungraded`) is left out of the score too, even when it
    /// holds a result (a cohort's self-reported check).
    pub fn rescore(&mut self) {
        for step in &mut self.steps {
            for check in &mut step.checks {
                check.score = if check.status == Status::Pass { check.points } else { 0 };
            }
            step.score = step.checks.iter().filter(|c| !c.ungraded).map(|c| c.score).sum();
            step.max_score = step.checks.iter().filter(|c| !c.ungraded).map(|c| c.points).sum();
        }
        self.score = self.steps.iter().map(|s| s.score).sum();
        self.max_score = self.steps.iter().map(|s| s.max_score).sum();
    }

    /// Redacts secrets and strips control sequences from every string.
    pub fn sanitize(&mut self, redactor: &Redactor) {
        let clean = |s: &mut String| *s = redactor.clean(s);
        for s in [
            &mut self.schema,
            &mut self.lab,
            &mut self.identity,
            &mut self.account,
            &mut self.region,
            &mut self.started_at,
        ] {
            clean(s);
        }
        self.notes.iter_mut().for_each(clean);
        for step in &mut self.steps {
            clean(&mut step.id);
            clean(&mut step.title);
            for c in &mut step.checks {
                c.sanitize(redactor);
            }
        }
    }

    /// A copy with every string sanitized (no secrets known): what the
    /// renderers are given.
    pub fn sanitized(&self) -> Report {
        let mut copy = self.clone();
        copy.sanitize(&Redactor::new());
        copy
    }

    /// The report as pretty-printed JSON, with a final newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a report always serializes");
        text.push('\n');
        text
    }
}

/// Prints text to standard output. A closed pipe (`labcheck list | head`)
/// is not an error: the reader has what it wanted.
pub fn print_stdout(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Output formats of `labcheck check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Colored text for a terminal.
    Human,
    /// The JSON report, schema labcheck/report-v1.
    // (`json_help_names_the_schema` keeps the name the same as SCHEMA.)
    Json,
    /// JUnit XML, one test case per check, for CI systems.
    Junit,
    /// One self-contained HTML page (to attach to a forum question, or submit).
    Html,
}

/// Renders a report in a format. `color` only affects `human`. The
/// renderer is given a sanitized copy: no control sequence from the report's
/// strings reaches the output.
pub fn render(report: &Report, format: Format, color: bool) -> String {
    let report = &report.sanitized();
    match format {
        Format::Human => human::render(report, color),
        Format::Json => report.to_json(),
        Format::Junit => junit::render(report),
        Format::Html => html::render(report),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_help_names_the_schema() {
        use clap::ValueEnum;
        let value = Format::Json.to_possible_value().unwrap();
        let help = value.get_help().unwrap().to_string();
        assert!(help.contains(SCHEMA), "{help}");
        assert!(
            !help.contains('[') && !help.contains('`'),
            "no rustdoc link in --help: {help}"
        );
    }
}

#[cfg(test)]
pub(crate) mod sample {
    use super::*;

    /// A small report with one check of each status, for renderer tests.
    pub(crate) fn report() -> Report {
        let check = |id: &str, status: Status, message: &str| CheckReport {
            id: id.into(),
            title: format!("title of {id}"),
            status,
            message: message.into(),
            hint: format!("hint for {id}"),
            fix: format!("fix-{id} --bucket b"),
            points: 2,
            score: 0,
            duration_ms: 12,
            evidence: serde_json::json!({}),
            ungraded: false,
            transient: false,
            denied: message.starts_with("AccessDenied"),
            basis: None,
        };
        let mut r = Report {
            schema: SCHEMA.into(),
            lab: "deploy-django-eb".into(),
            account: "123456789012".into(),
            region: "us-west-2".into(),
            identity: "arn:aws:iam::123456789012:user/learner".into(),
            started_at: "2026-11-27T12:00:00Z".into(),
            duration_ms: 1234,
            score: 0,
            max_score: 0,
            steps: vec![StepReport {
                id: "s3".into(),
                title: "Store media files in Amazon S3".into(),
                score: 0,
                max_score: 0,
                checks: vec![
                    check("s3.bucket", Status::Pass, "bucket b exists in us-west-2"),
                    check("s3.cors", Status::Fail, "no CORS configuration"),
                    check("s3.private", Status::Error, "AccessDenied on GetPublicAccessBlock"),
                    check("s3.media", Status::Skip, "needs s3.cors, which did not pass"),
                ],
            }],
            notes: vec!["found bucket b".into()],
        };
        r.rescore();
        r
    }

    #[test]
    fn scores_and_verdict() {
        let r = report();
        assert_eq!((r.score, r.max_score), (2, 8));
        assert_eq!(r.verdict(), Verdict::Failed);
        let mut only_error = r.clone();
        only_error.steps[0].checks.retain(|c| c.status != Status::Fail);
        assert_eq!(only_error.verdict(), Verdict::Incomplete);
        only_error.steps[0].checks.retain(|c| c.status == Status::Pass);
        assert_eq!(only_error.verdict(), Verdict::Passed);
    }

    #[test]
    fn json_has_the_contract_fields() {
        let v: serde_json::Value = serde_json::from_str(&report().to_json()).unwrap();
        assert_eq!(v["schema"], "labcheck/report-v1");
        let c = &v["steps"][0]["checks"][1];
        for key in [
            "id",
            "title",
            "status",
            "message",
            "hint",
            "fix",
            "points",
            "score",
            "duration_ms",
            "evidence",
        ] {
            assert!(c.get(key).is_some(), "missing {key}");
        }
        assert_eq!(c["status"], "fail");
    }

    #[test]
    fn sanitize_redacts_every_field() {
        let mut r = report();
        r.steps[0].checks[1].message = "url https://x/k?X-Amz-Signature=deadbeef pw hunter22".into();
        r.steps[0].checks[1].evidence = serde_json::json!({"url": "?Signature=abc123"});
        let mut red = Redactor::new();
        red.add_secret("hunter22");
        r.sanitize(&red);
        let text = r.to_json();
        assert!(
            !text.contains("deadbeef") && !text.contains("hunter22") && !text.contains("abc123"),
            "{text}"
        );
    }
}
