//! The gradebook (`labcheck/gradebook-v1`): each learner's result in roster
//! order, cohort totals, and the per-check pass rates an instructor teaches
//! from. Built the same way from a fresh run, a resumed one, or merged shards,
//! so all three give the same gradebook.
//!
//! A learner's `score` and `max_score` (in their `report`) are the points the
//! grader verified itself. Checks taken from the learner's own report
//! (`--reports`) stay out of them: their ids are in `self_reported`, and
//! their points in `self_reported_score` (passed) out of `self_reported_max`,
//! so an instructor weighs them as they choose. Both numbers were added to
//! gradebook-v1 (a reader of an older gradebook sees them as 0).

use super::roster::Identity;
use super::standing::Comparison;
use crate::course::lab::Lab;
use crate::report::{Report, Status};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The `schema` value of a JSON gradebook.
pub const SCHEMA: &str = "labcheck/gradebook-v1";

/// `grading_status` of a learner who was graded.
pub const GRADED: &str = "graded";

/// One check excused for a learner, as the gradebook keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Excused {
    /// The check's id.
    pub check: String,
    /// Why, as the instructor wrote it.
    pub reason: String,
}

/// One learner's line of the gradebook.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LearnerResult {
    /// Position in the roster (0-based).
    pub index: usize,
    /// The roster's `learner` column.
    pub learner: String,
    /// The learner's AWS account id.
    pub account: String,
    /// The region graded.
    pub region: String,
    /// `graded`, or `error: REASON` when the learner could not be graded
    /// (never a zero).
    pub grading_status: String,
    /// RFC 3339, when grading finished.
    pub graded_at: String,
    /// Checks whose result comes from the learner's own report (`--reports`):
    /// left out of the report's verified `score` and `max_score`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub self_reported: Vec<String>,
    /// Points of the self-reported checks that passed (filled by
    /// [`Gradebook::build`] from the report).
    #[serde(default)]
    pub self_reported_score: u32,
    /// Points the self-reported checks are worth.
    #[serde(default)]
    pub self_reported_max: u32,
    /// What the instructor should know about this row (a self-report that
    /// was ignored, checks not graded here, checks excused).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The learner's identities in a learning management system (the
    /// roster's `email`, `sis_login_id`, `sis_user_id`, `section`): what an
    /// LMS import matches the row to its student by.
    #[serde(flatten)]
    pub identity: Identity,
    /// Checks the instructor excused for this learner (`--excuses`): their
    /// status kept, their points left out of the learner's maximum.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excused: Vec<Excused>,
    /// The lab report, as `labcheck check --format json` gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<Report>,
}

impl LearnerResult {
    /// Whether the learner was graded and has a report.
    pub fn is_graded(&self) -> bool {
        self.grading_status == GRADED && self.report.is_some()
    }

    /// Whether the instructor excused check `id` for this learner.
    pub fn is_excused(&self, id: &str) -> bool {
        self.excused.iter().any(|e| e.check == id)
    }

    /// (points passed, points possible) of the self-reported checks.
    fn self_reported_points(&self) -> (u32, u32) {
        let Some(report) = &self.report else { return (0, 0) };
        report
            .checks()
            .filter(|c| self.self_reported.contains(&c.id) && !self.is_excused(&c.id))
            .fold((0, 0), |(score, max), c| {
                (
                    score + if c.status == Status::Pass { c.points } else { 0 },
                    max + c.points,
                )
            })
    }

    /// This result with every string through the sanitizer
    /// ([`crate::redact::strip_control`]), its report included.
    fn sanitize(&mut self) {
        use crate::redact::strip_control;
        for s in [
            &mut self.learner,
            &mut self.account,
            &mut self.region,
            &mut self.grading_status,
            &mut self.graded_at,
        ] {
            *s = strip_control(s);
        }
        for s in self.self_reported.iter_mut().chain(self.notes.iter_mut()) {
            *s = strip_control(s);
        }
        for s in self.identity.fields_mut() {
            *s = strip_control(s);
        }
        for e in &mut self.excused {
            e.check = strip_control(&e.check);
            e.reason = strip_control(&e.reason);
        }
        if let Some(r) = &mut self.report {
            r.sanitize(&crate::redact::Redactor::new());
        }
    }
}

/// The lab's steps and checks, in order: the gradebook's columns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outline {
    /// The id of the lab.
    pub lab: String,
    /// The lab's steps, in lab order.
    pub steps: Vec<OutlineStep>,
}

/// One step of the outline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutlineStep {
    /// The step's id in the lab file.
    pub id: String,
    /// The step's heading.
    pub title: String,
    /// The step's checks, in lab order.
    pub checks: Vec<OutlineCheck>,
}

/// One check of the outline: a gradebook column.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutlineCheck {
    /// The check's id in the lab file.
    pub id: String,
    /// The check's title.
    pub title: String,
    /// Points the check is worth.
    pub points: u32,
}

impl Outline {
    /// The outline of a lab.
    pub fn of(lab: &Lab) -> Self {
        Outline {
            lab: lab.id.clone(),
            steps: lab
                .steps
                .iter()
                .filter(|s| !s.checks.is_empty())
                .map(|s| OutlineStep {
                    id: s.id.clone(),
                    title: s.title.clone(),
                    checks: s
                        .checks
                        .iter()
                        .map(|c| OutlineCheck {
                            id: c.id.clone(),
                            title: c.title.clone(),
                            points: c.points,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// Which roster a gradebook grades.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterInfo {
    /// The roster file, as given.
    pub file: String,
    /// A fingerprint of the roster file's bytes.
    pub fingerprint: String,
    /// Learners on the whole roster (a shard grades some of them).
    pub learners: usize,
}

/// Cohort totals.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// Learners in this gradebook.
    pub learners: usize,
    /// Learners who were graded.
    pub graded: usize,
    /// Learners who could not be graded.
    pub not_graded: usize,
    /// Graded learners whose every graded check passed.
    pub all_passed: usize,
    /// Mean of score / max_score over graded learners, in percent.
    pub mean_percent: f64,
}

/// One check across the cohort.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckStat {
    /// The check's id.
    pub id: String,
    /// The id of the check's step.
    pub step: String,
    /// The check's title.
    pub title: String,
    /// Points the check is worth.
    pub points: u32,
    /// Graded learners for whom this check counted.
    pub graded: usize,
    /// Graded learners who passed it.
    pub passed: usize,
    /// Graded learners who failed it.
    pub failed: usize,
    /// Graded learners for whom it could not be evaluated.
    pub errors: usize,
    /// Skipped because a check it needs did not pass.
    pub skipped: usize,
    /// Not gradable here (left out of those learners' maximum).
    pub not_graded: usize,
    /// Excused by the instructor (left out of those learners' maximum).
    #[serde(default)]
    pub excused: usize,
    /// Learners whose result for it came from their own report.
    pub self_reported: usize,
    /// passed / (passed + failed + errors), in percent: among the learners
    /// the check ran for (0 when it ran for nobody). A learner skipped
    /// because a check it needs did not pass is left out: that failure counts
    /// in the check it needs, so the lowest rates point at causes, not at
    /// their consequences.
    pub pass_rate: f64,
}

impl CheckStat {
    /// Learners the check ran for: it passed, failed or met an error.
    pub fn ran(&self) -> usize {
        self.passed + self.failed + self.errors
    }
}

/// The grades of a cohort (or of one shard of it) for one lab.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gradebook {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// When grading finished, RFC 3339, UTC.
    pub generated_at: String,
    /// The roster graded.
    pub roster: RosterInfo,
    /// `I/N` when this gradebook is one shard of a roster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// The lab's steps and checks.
    pub outline: Outline,
    /// Totals over the learners.
    pub totals: Totals,
    /// Per-check statistics, in lab order.
    pub checks: Vec<CheckStat>,
    /// One line per learner, in roster order.
    pub learners: Vec<LearnerResult>,
    /// What changed since an earlier grading (`--compare`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compared: Option<Comparison>,
}

impl Gradebook {
    /// A gradebook over `learners` (any order; kept in roster order).
    pub fn build(
        outline: Outline,
        roster: RosterInfo,
        shard: Option<String>,
        mut learners: Vec<LearnerResult>,
    ) -> Self {
        // Stable: of one learner's results, the first given is kept.
        learners.sort_by_key(|l| l.index);
        learners.dedup_by_key(|l| l.index);
        for l in &mut learners {
            (l.self_reported_score, l.self_reported_max) = l.self_reported_points();
        }
        let graded_learners: Vec<&LearnerResult> = learners.iter().filter(|l| l.is_graded()).collect();
        let graded: Vec<&Report> = graded_learners.iter().filter_map(|l| l.report.as_ref()).collect();
        let percents: Vec<f64> = graded
            .iter()
            .map(|r| {
                if r.max_score == 0 {
                    100.0
                } else {
                    100.0 * r.score as f64 / r.max_score as f64
                }
            })
            .collect();
        let totals = Totals {
            learners: learners.len(),
            graded: graded.len(),
            not_graded: learners.len() - graded.len(),
            all_passed: graded
                .iter()
                .filter(|r| r.checks().all(|c| c.status == Status::Pass || c.ungraded))
                .count(),
            mean_percent: round1(percents.iter().sum::<f64>() / (percents.len().max(1)) as f64),
        };
        let self_reported: BTreeMap<&str, usize> =
            learners
                .iter()
                .flat_map(|l| l.self_reported.iter())
                .fold(BTreeMap::new(), |mut m, id| {
                    *m.entry(id.as_str()).or_default() += 1;
                    m
                });
        let mut checks = Vec::new();
        for step in &outline.steps {
            for c in &step.checks {
                let mut stat = CheckStat {
                    id: c.id.clone(),
                    step: step.id.clone(),
                    title: c.title.clone(),
                    points: c.points,
                    graded: 0,
                    passed: 0,
                    failed: 0,
                    errors: 0,
                    skipped: 0,
                    not_graded: 0,
                    excused: 0,
                    self_reported: self_reported.get(c.id.as_str()).copied().unwrap_or(0),
                    pass_rate: 0.0,
                };
                let results = graded_learners
                    .iter()
                    .filter_map(|l| l.report.as_ref().map(|r| (l, r)))
                    .flat_map(|(l, r)| r.checks().map(move |x| (l, x)))
                    .filter(|(_, x)| x.id == c.id);
                for (learner, check) in results {
                    if learner.is_excused(&check.id) {
                        stat.excused += 1;
                        continue;
                    }
                    if check.ungraded {
                        stat.not_graded += 1;
                        continue;
                    }
                    stat.graded += 1;
                    match check.status {
                        Status::Pass => stat.passed += 1,
                        Status::Fail => stat.failed += 1,
                        Status::Error => stat.errors += 1,
                        Status::Skip => stat.skipped += 1,
                    }
                }
                if stat.ran() > 0 {
                    stat.pass_rate = round1(100.0 * stat.passed as f64 / stat.ran() as f64);
                }
                checks.push(stat);
            }
        }
        Gradebook {
            schema: SCHEMA.into(),
            generated_at: now(),
            roster,
            shard,
            outline,
            totals,
            checks,
            learners,
            compared: None,
        }
    }

    /// A copy with every string sanitized: what the renderers are given.
    pub fn sanitized(&self) -> Gradebook {
        use crate::redact::strip_control;
        let mut book = self.clone();
        for s in [
            &mut book.schema,
            &mut book.generated_at,
            &mut book.roster.file,
            &mut book.roster.fingerprint,
            &mut book.outline.lab,
        ] {
            *s = strip_control(s);
        }
        if let Some(s) = &mut book.shard {
            *s = strip_control(s);
        }
        for step in &mut book.outline.steps {
            step.id = strip_control(&step.id);
            step.title = strip_control(&step.title);
            for c in &mut step.checks {
                c.id = strip_control(&c.id);
                c.title = strip_control(&c.title);
            }
        }
        for c in &mut book.checks {
            for s in [&mut c.id, &mut c.step, &mut c.title] {
                *s = strip_control(s);
            }
        }
        book.learners.iter_mut().for_each(LearnerResult::sanitize);
        if let Some(c) = &mut book.compared {
            c.sanitize();
        }
        book
    }

    /// Reads a `--format json` gradebook file; the error names the file
    /// (and the line and column JSON stopped at) and ends with `hint`, what
    /// the command wanted.
    pub fn read(path: &std::path::Path, hint: &str) -> Result<Gradebook, GradebookError> {
        let file = path.display().to_string();
        let text = crate::textfile::read_capped(path, 512 << 20).map_err(|source| GradebookError::Read {
            file: file.clone(),
            source,
        })?;
        let book: Gradebook = serde_json::from_str(&text).map_err(|source| GradebookError::Json {
            file: file.clone(),
            source,
            hint: hint.to_string(),
        })?;
        if book.schema != SCHEMA {
            return Err(GradebookError::Schema {
                file,
                schema: book.schema,
            });
        }
        Ok(book)
    }

    /// Whether every learner in it was graded.
    pub fn all_graded(&self) -> bool {
        self.totals.not_graded == 0
    }

    /// Combines shard gradebooks of one roster into the gradebook an
    /// unsharded run gives.
    pub fn merge(parts: Vec<(String, Gradebook)>) -> Result<Gradebook, GradebookError> {
        let mut parts = parts.into_iter();
        let Some((first_name, first)) = parts.next() else {
            return Err(GradebookError::NothingToMerge);
        };
        let (outline, roster) = (first.outline.clone(), first.roster.clone());
        let mut owner: BTreeMap<usize, String> = BTreeMap::new();
        let mut learners = Vec::new();
        for (name, part) in std::iter::once((first_name, first)).chain(parts) {
            if part.schema != SCHEMA {
                return Err(GradebookError::Schema {
                    file: name,
                    schema: part.schema,
                });
            }
            if part.roster.fingerprint != roster.fingerprint {
                return Err(GradebookError::OtherRoster { file: name });
            }
            if part.outline != outline {
                return Err(GradebookError::OtherLab { file: name });
            }
            for l in part.learners {
                if let Some(other) = owner.insert(l.index, name.clone()) {
                    if other != name {
                        return Err(GradebookError::LearnerTwice {
                            learner: l.learner,
                            first: other,
                            second: name,
                        });
                    }
                    continue;
                }
                learners.push(l);
            }
        }
        Ok(Gradebook::build(outline, roster, None, learners))
    }
}

/// Why a gradebook file could not be read, or gradebooks not merged.
#[derive(Debug, thiserror::Error)]
pub enum GradebookError {
    /// The file could not be read.
    #[error("{file}: {source}")]
    Read {
        /// The file.
        file: String,
        /// What the operating system reported.
        source: std::io::Error,
    },
    /// The file is not JSON, or not a gradebook's.
    #[error("{file}:{}:{}: not a {SCHEMA} JSON file ({source}); {hint}", source.line(), source.column())]
    Json {
        /// The file.
        file: String,
        /// Where and why the JSON was refused.
        source: serde_json::Error,
        /// What the command wanted.
        hint: String,
    },
    /// A gradebook of another schema.
    #[error("{file}: not a {SCHEMA} file (schema `{schema}`)")]
    Schema {
        /// The file.
        file: String,
        /// The schema it names.
        schema: String,
    },
    /// `merge` was given no gradebooks.
    #[error("no gradebooks to merge")]
    NothingToMerge,
    /// A part grades another roster than the first.
    #[error("{file} grades another roster (or another version of it) than the first gradebook")]
    OtherRoster {
        /// The part.
        file: String,
    },
    /// A part grades another lab than the first.
    #[error("{file} grades another lab, or another version of it")]
    OtherLab {
        /// The part.
        file: String,
    },
    /// One learner graded in two parts.
    #[error("learner `{learner}` is in both {first} and {second}")]
    LearnerTwice {
        /// The learner.
        learner: String,
        /// The part that had them first.
        first: String,
        /// The other part.
        second: String,
    },
    /// The earlier gradebook of `--compare` grades another lab.
    #[error("{file} grades lab `{found}`, not `{wanted}`: compare gradings of one lab")]
    CompareOtherLab {
        /// The file.
        file: String,
        /// The lab it grades.
        found: String,
        /// The lab graded now.
        wanted: String,
    },
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The current time, RFC 3339 in seconds.
pub fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::report::sample;

    pub(crate) fn outline() -> Outline {
        Outline {
            lab: "deploy-django-eb".into(),
            steps: vec![OutlineStep {
                id: "s3".into(),
                title: "Store media files in Amazon S3".into(),
                checks: ["s3.bucket", "s3.cors", "s3.private", "s3.media"]
                    .iter()
                    .map(|id| OutlineCheck {
                        id: id.to_string(),
                        title: format!("title of {id}"),
                        points: 2,
                    })
                    .collect(),
            }],
        }
    }

    pub(crate) fn roster_info() -> RosterInfo {
        RosterInfo {
            file: "roster.csv".into(),
            fingerprint: "f".into(),
            learners: 3,
        }
    }

    pub(crate) fn learners() -> Vec<LearnerResult> {
        let graded = |index: usize, name: &str| LearnerResult {
            index,
            learner: name.into(),
            account: format!("{index:012}"),
            region: "us-west-2".into(),
            grading_status: GRADED.into(),
            graded_at: "2026-11-29T10:00:00Z".into(),
            self_reported: vec![],
            self_reported_score: 0,
            self_reported_max: 0,
            notes: vec![],
            identity: Identity::default(),
            excused: vec![],
            report: Some(sample::report()),
        };
        vec![
            graded(0, "ada"),
            LearnerResult {
                report: None,
                grading_status: "error: AssumeRole refused".into(),
                ..graded(1, "bob")
            },
            graded(2, "cy"),
        ]
    }

    #[test]
    fn totals_and_pass_rates() {
        let g = Gradebook::build(outline(), roster_info(), None, learners());
        assert_eq!((g.totals.learners, g.totals.graded, g.totals.not_graded), (3, 2, 1));
        assert_eq!(g.totals.mean_percent, 25.0);
        let cors = g.checks.iter().find(|c| c.id == "s3.cors").unwrap();
        assert_eq!((cors.graded, cors.failed, cors.pass_rate), (2, 2, 0.0));
        let bucket = g.checks.iter().find(|c| c.id == "s3.bucket").unwrap();
        assert_eq!(bucket.pass_rate, 100.0);
        // Skipped for everybody (a check it needs failed): no rate of its own.
        let media = g.checks.iter().find(|c| c.id == "s3.media").unwrap();
        assert_eq!(
            (media.graded, media.skipped, media.ran(), media.pass_rate),
            (2, 2, 0, 0.0)
        );
        assert!(!g.all_graded());
    }

    #[test]
    fn merged_shards_equal_the_whole() {
        let all = learners();
        let whole = Gradebook::build(outline(), roster_info(), None, all.clone());
        let part = |keep: usize| {
            Gradebook::build(
                outline(),
                roster_info(),
                Some(format!("{keep}/2")),
                all.iter().filter(|l| l.index % 2 == keep).cloned().collect(),
            )
        };
        let mut merged = Gradebook::merge(vec![("b".into(), part(1)), ("a".into(), part(0))]).unwrap();
        merged.generated_at = whole.generated_at.clone();
        assert_eq!(merged, whole);
        let mut other = part(0);
        other.roster.fingerprint = "g".into();
        let err = Gradebook::merge(vec![("a".into(), part(1)), ("c".into(), other)]).unwrap_err();
        assert!(matches!(err, GradebookError::OtherRoster { .. }), "{err}");
        let err = Gradebook::merge(vec![("a".into(), part(0)), ("c".into(), whole.clone())]).unwrap_err();
        assert!(matches!(err, GradebookError::LearnerTwice { .. }), "{err}");
        assert!(err.to_string().contains("is in both"), "{err}");
    }
}
