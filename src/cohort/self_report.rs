//! Learners' own reports (`--reports DIR`): a learner's `labcheck check
//! --format json`, run in their IDE, may fill the checks the grader cannot
//! reach (the connections to the cache and the database). A report is the
//! learner's word, not a proof, so a self-reported check counts only when it
//! can be true:
//!
//! - the report is a `labcheck/report-v1` of this lab, for the roster's
//!   account, and newer than `--reports-since` when that is given;
//! - every check it `needs` passed for that learner, as the grader saw it
//!   (a cache the grader cannot find cannot answer a PING);
//! - the endpoints the report names for that resource are the ones AWS
//!   describes to the grader for that learner.
//!
//! A check that passes these counts apart from the verified score (it stays
//! out of `max_score`; the gradebook shows its points as `self_reported`).
//! Otherwise its message says `self-report ignored: WHY`.

use super::gradebook::LearnerResult;
use crate::course::lab::Lab;
use crate::report::{CheckReport, Report, SCHEMA as REPORT_SCHEMA, Status};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Largest learner report read from `--reports`.
const MAX_SELF_REPORT: u64 = 4 * 1024 * 1024;

/// The prefix of a cell whose self-report was not taken.
pub const IGNORED: &str = "self-report ignored";

/// `DIR/LEARNER.json`, when the learner's name holds no folder separator,
/// so a report is only read from `DIR` itself.
fn report_path(dir: &Path, learner: &str) -> Option<PathBuf> {
    (!learner.contains(['/', '\\'])).then(|| dir.join(format!("{learner}.json")))
}

/// A `--reports-since` (or a report's `started_at`) that is not a time.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not a date (2026-03-01) or an RFC 3339 time (2026-03-01T09:00:00Z)")]
pub struct NotATime(pub String);

/// Parses `--reports-since`: RFC 3339 (`2026-03-01T09:00:00Z`, an offset
/// such as `+01:00`, fractions of a second) or a date (`2026-03-01`, the
/// start of that day, UTC).
pub fn parse_since(text: &str) -> Result<SystemTime, NotATime> {
    let t = text.trim();
    let usage = || NotATime(text.to_string());
    let (date_time, offset) = if t.len() == 10 {
        (format!("{t}T00:00:00Z"), 0i64)
    } else if let Some(base) = t.strip_suffix('Z').or_else(|| t.strip_suffix('z')) {
        (format!("{base}Z"), 0)
    } else if t.len() > 6 && matches!(t.as_bytes()[t.len() - 6], b'+' | b'-') && t.as_bytes()[t.len() - 3] == b':' {
        let (base, zone) = t.split_at(t.len() - 6);
        let hours: i64 = zone[1..3].parse().map_err(|_| usage())?;
        let minutes: i64 = zone[4..6].parse().map_err(|_| usage())?;
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        (format!("{base}Z"), sign * (hours * 3600 + minutes * 60))
    } else {
        return Err(usage());
    };
    let utc = humantime::parse_rfc3339_weak(&date_time).map_err(|_| usage())?;
    // 10:00+02:00 is 08:00Z.
    let seconds = std::time::Duration::from_secs(offset.unsigned_abs());
    Ok(if offset >= 0 {
        utc.checked_sub(seconds).unwrap_or(utc)
    } else {
        utc + seconds
    })
}

/// Reads `DIR/LEARNER.json` and fills, in `report`, the checks the grader
/// could not grade for which it can be true; `result` gets the ids taken
/// and a note for what was not.
pub fn fill(report: &mut Report, result: &mut LearnerResult, dir: &Path, lab: &Lab, since: Option<SystemTime>) {
    let Some(path) = report_path(dir, &result.learner) else {
        return result.notes.push(one_line(&format!(
            "self-report not looked for: the learner name `{}` cannot be a file name in {}",
            result.learner,
            dir.display()
        )));
    };
    if !path.is_file() {
        return;
    }
    let theirs = match read(&path) {
        Ok(r) => r,
        Err(why) => return result.notes.push(one_line(&format!("{IGNORED}: {why}"))),
    };
    let candidates: Vec<String> = report
        .checks()
        .filter(|c| c.ungraded && is_data_plane(lab, &c.id))
        .filter(|c| their_result(&theirs, &c.id).is_some())
        .map(|c| c.id.clone())
        .collect();
    if let Some(why) = unusable(&theirs, lab, &result.account, since) {
        for id in &candidates {
            set_message(report, id, &format!("{IGNORED}: {why}"));
        }
        result.notes.push(one_line(&format!("{IGNORED}: {why}")));
        return;
    }
    let mut ignored: Vec<(String, String)> = Vec::new();
    let mut open: Vec<String> = candidates;
    // A check may need another self-reported one (cache.sessions needs
    // cache.reachable): decide the ones whose needs are decided, until
    // nothing changes.
    loop {
        let before = open.len();
        let mut still = Vec::new();
        for id in open {
            match verdict(report, &theirs, lab, &id, &still) {
                Verdict::Wait => still.push(id),
                Verdict::Ignore(why) => {
                    set_message(report, &id, &format!("{IGNORED}: {why}"));
                    ignored.push((id, why));
                }
                Verdict::Take => {
                    take(report, &theirs, &id);
                    result.self_reported.push(id);
                }
            }
        }
        open = still;
        if open.is_empty() || open.len() == before {
            break;
        }
    }
    for id in open {
        let why = "the checks it needs were not graded".to_string();
        set_message(report, &id, &format!("{IGNORED}: {why}"));
        ignored.push((id, why));
    }
    if !ignored.is_empty() {
        let items: Vec<String> = ignored.iter().map(|(id, why)| format!("{id} ({why})")).collect();
        result
            .notes
            .push(one_line(&format!("{IGNORED} for {}", items.join("; "))));
    }
    report.rescore();
    report.sanitize(&crate::redact::Redactor::new());
}

/// Why a learner's report cannot be read.
#[derive(Debug, thiserror::Error)]
enum ReadError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{} is larger than {} MB", path.display(), MAX_SELF_REPORT >> 20)]
    TooLarge { path: PathBuf },
    #[error("{} is not a labcheck JSON report ({source})", path.display())]
    NotAReport { path: PathBuf, source: serde_json::Error },
}

/// The learner's report, or why it cannot be read.
fn read(path: &Path) -> Result<Report, ReadError> {
    use std::io::Read;
    let mut text = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_SELF_REPORT + 1).read_to_end(&mut text))
        .map_err(|source| ReadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    if text.len() as u64 > MAX_SELF_REPORT {
        return Err(ReadError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    serde_json::from_slice(&text).map_err(|source| ReadError::NotAReport {
        path: path.to_path_buf(),
        source,
    })
}

/// Why the whole report cannot be used, if it cannot.
fn unusable(theirs: &Report, lab: &Lab, account: &str, since: Option<SystemTime>) -> Option<String> {
    if theirs.schema != REPORT_SCHEMA {
        return Some(format!("its schema is `{}`, not {REPORT_SCHEMA}", theirs.schema));
    }
    if theirs.lab != lab.id {
        return Some(format!("it grades lab `{}`, not `{}`", theirs.lab, lab.id));
    }
    if theirs.account != account {
        return Some(format!(
            "it is for account `{}`, not the roster's {account}",
            theirs.account
        ));
    }
    let since = since?;
    match parse_since(&theirs.started_at) {
        Err(_) => Some(format!(
            "its started_at `{}` is not a time, and --reports-since asks for reports written since {}",
            theirs.started_at,
            humantime::format_rfc3339_seconds(since)
        )),
        Ok(at) if at < since => Some(format!(
            "it was written at {}, before --reports-since {}",
            theirs.started_at,
            humantime::format_rfc3339_seconds(since)
        )),
        Ok(_) => None,
    }
}

enum Verdict {
    /// A check it needs is itself self-reported and not decided yet.
    Wait,
    Ignore(String),
    Take,
}

/// Whether the learner's result for `id` can be true, as far as the grader
/// can see; `waiting` are the self-reported checks not decided yet.
fn verdict(report: &Report, theirs: &Report, lab: &Lab, id: &str, waiting: &[String]) -> Verdict {
    let Some(spec) = lab.check(id) else {
        return Verdict::Ignore(format!("the lab has no check {id}"));
    };
    for need in &spec.needs {
        let Some(ours) = report.checks().find(|c| &c.id == need) else {
            return Verdict::Ignore(format!("it needs {need}, which the grader did not run"));
        };
        if ours.status == Status::Pass && !ours.message.starts_with(IGNORED) {
            continue;
        }
        if waiting.contains(need) || (ours.ungraded && ours.status == Status::Skip && is_undecided(ours)) {
            return Verdict::Wait;
        }
        return Verdict::Ignore(format!(
            "it needs {need}, which is {} for this learner as the grader sees it",
            match ours.status {
                Status::Pass => "not verified".to_string(),
                Status::Fail => "failed".to_string(),
                Status::Error => "an error".to_string(),
                Status::Skip => "skipped".to_string(),
            }
        ));
    }
    match endpoints_agree(report, theirs, lab, id) {
        Err(why) => Verdict::Ignore(why.to_string()),
        Ok(()) => Verdict::Take,
    }
}

/// A data-plane check the grader left out and nothing has decided yet.
fn is_undecided(c: &CheckReport) -> bool {
    !c.message.starts_with(IGNORED) && !c.message.starts_with("self-reported")
}

/// The area of a check's kind (`cache`, `rds`): the resource it is about.
fn area(lab: &Lab, id: &str) -> Option<&'static str> {
    let kind = crate::checks::find(&lab.check(id)?.kind)?;
    kind.id.split('.').next()
}

fn is_data_plane(lab: &Lab, id: &str) -> bool {
    lab.check(id)
        .and_then(|s| crate::checks::find(&s.kind))
        .is_some_and(|k| k.data_plane)
}

/// The `endpoint` strings in the evidence of a report's checks of `area`,
/// data-plane ones (what a learner's run connected to) or not (what AWS
/// describes).
fn endpoints(report: &Report, lab: &Lab, area_of: &str, data_plane: bool) -> BTreeSet<String> {
    report
        .checks()
        .filter(|c| area(lab, &c.id) == Some(area_of) && is_data_plane(lab, &c.id) == data_plane)
        .filter_map(|c| c.evidence.get("endpoint").and_then(|e| e.as_str()))
        .map(str::to_string)
        .collect()
}

/// Why a learner's report is not taken for a check: its endpoints and the
/// ones AWS describes to the grader do not agree.
#[derive(Debug, thiserror::Error)]
enum Disagreement {
    #[error("the grader cannot tell which resource it is about")]
    UnknownResource,
    #[error("AWS describes no {0} endpoint for this learner")]
    NoneDescribed(&'static str),
    #[error("it names no {0} endpoint it connected to (labcheck check names one in the evidence)")]
    NoneNamed(&'static str),
    #[error("it connected to {other}, but AWS describes {described} for this learner")]
    Elsewhere { other: String, described: String },
}

/// Whether the report connected to the endpoints AWS describes to the grader
/// for this learner's resource.
fn endpoints_agree(report: &Report, theirs: &Report, lab: &Lab, id: &str) -> Result<(), Disagreement> {
    let Some(area_of) = area(lab, id) else {
        return Err(Disagreement::UnknownResource);
    };
    let described = endpoints(report, lab, area_of, false);
    let named = endpoints(theirs, lab, area_of, true);
    if described.is_empty() {
        return Err(Disagreement::NoneDescribed(area_of));
    }
    if named.is_empty() {
        return Err(Disagreement::NoneNamed(area_of));
    }
    match named.iter().find(|e| !described.contains(*e)) {
        Some(other) => Err(Disagreement::Elsewhere {
            other: other.clone(),
            described: described.iter().cloned().collect::<Vec<_>>().join(", "),
        }),
        None => Ok(()),
    }
}

/// The learner's own pass or fail for `id`.
fn their_result<'a>(theirs: &'a Report, id: &str) -> Option<&'a CheckReport> {
    theirs
        .checks()
        .find(|c| c.id == id && matches!(c.status, Status::Pass | Status::Fail))
}

fn set_message(report: &mut Report, id: &str, message: &str) {
    if let Some(c) = report
        .steps
        .iter_mut()
        .flat_map(|s| s.checks.iter_mut())
        .find(|c| c.id == id)
    {
        c.message = message.to_string();
    }
}

/// Takes the learner's result for `id`: its status and message, marked
/// self-reported; the check stays out of the verified maximum.
fn take(report: &mut Report, theirs: &Report, id: &str) {
    let Some(own) = their_result(theirs, id) else { return };
    if let Some(c) = report
        .steps
        .iter_mut()
        .flat_map(|s| s.checks.iter_mut())
        .find(|c| c.id == id)
    {
        c.status = own.status;
        c.message = format!("self-reported: {}", own.message);
        c.evidence = serde_json::json!({
            "self_reported": true,
            "started_at": theirs.started_at,
            "endpoint": own.evidence.get("endpoint").cloned().unwrap_or_default(),
        });
    }
}

/// Sanitized, on one line, at most 600 characters.
fn one_line(text: &str) -> String {
    crate::redact::one_line(text, 600)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_learners_report_is_only_looked_for_in_the_folder_given() {
        let dir = Path::new("reports");
        assert_eq!(report_path(dir, "ada"), Some(dir.join("ada.json")));
        assert_eq!(report_path(dir, "ada@uni.edu"), Some(dir.join("ada@uni.edu.json")));
        assert_eq!(report_path(dir, ".."), Some(dir.join("...json")));
        for name in ["../ada", "cs101/ada", "a\\b"] {
            assert_eq!(report_path(dir, name), None, "{name}");
        }
    }

    #[test]
    fn reports_since_takes_a_date_or_an_rfc3339_time() {
        let at = |t: &str| humantime::format_rfc3339_seconds(parse_since(t).unwrap()).to_string();
        assert_eq!(at("2026-03-01"), "2026-03-01T00:00:00Z");
        assert_eq!(at("2026-03-01T09:30:00Z"), "2026-03-01T09:30:00Z");
        assert_eq!(at("2026-03-01T09:30:00.250Z"), "2026-03-01T09:30:00Z");
        assert_eq!(at("2026-03-01T09:30:00+02:00"), "2026-03-01T07:30:00Z");
        assert_eq!(at("2026-03-01T09:30:00-05:30"), "2026-03-01T15:00:00Z");
        for bad in [
            "yesterday",
            "2026-13-01",
            "2026-03-01T25:00:00Z",
            "",
            "2026-03-01T09:30:00+2",
        ] {
            assert!(parse_since(bad).is_err(), "{bad}");
        }
    }

    /// The grader's report of the embedded lab for a learner: control-plane
    /// checks with `status` and AWS's endpoints, data-plane ones left out.
    fn graders(lab: &Lab, status: Status) -> Report {
        let steps = lab
            .steps
            .iter()
            .map(|step| crate::report::StepReport {
                id: step.id.clone(),
                title: step.title.clone(),
                score: 0,
                max_score: 0,
                checks: step
                    .checks
                    .iter()
                    .map(|c| {
                        let data_plane = is_data_plane(lab, &c.id);
                        CheckReport {
                            id: c.id.clone(),
                            title: c.title.clone(),
                            status: if data_plane { Status::Skip } else { status },
                            message: if data_plane {
                                "not reachable".into()
                            } else {
                                "as AWS says".into()
                            },
                            hint: String::new(),
                            fix: String::new(),
                            points: c.points,
                            score: 0,
                            duration_ms: 0,
                            evidence: match c.id.as_str() {
                                "cache.exists" | "cache.tls" => serde_json::json!({"endpoint": "cache.aws:6379"}),
                                "rds.instance" => serde_json::json!({"endpoint": "db.aws:3306"}),
                                _ => serde_json::json!({}),
                            },
                            ungraded: data_plane,
                            transient: false,
                            denied: status == Status::Error,
                            basis: None,
                        }
                    })
                    .collect(),
            })
            .collect();
        let mut r = Report {
            schema: REPORT_SCHEMA.into(),
            lab: lab.id.clone(),
            account: "111122223333".into(),
            region: "us-west-2".into(),
            identity: String::new(),
            started_at: "2026-03-02T10:00:00Z".into(),
            duration_ms: 0,
            score: 0,
            max_score: 0,
            steps,
            notes: vec![],
        };
        r.rescore();
        r
    }

    /// The learner's own report: every check passed, at these endpoints.
    fn theirs(lab: &Lab, cache: &str, db: &str) -> Report {
        let mut r = graders(lab, Status::Pass);
        for c in r.steps.iter_mut().flat_map(|s| s.checks.iter_mut()) {
            c.status = Status::Pass;
            c.ungraded = false;
            if c.id == "cache.reachable" {
                c.evidence = serde_json::json!({"endpoint": cache});
            } else if c.id == "rds.reachable" {
                c.evidence = serde_json::json!({"endpoint": db});
            }
        }
        r
    }

    /// Fills `ours` from `report` as `--reports` would; returns the ids taken,
    /// the message of every data-plane check, and the row.
    fn fill_with(ours: Report, report: &Report, since: Option<&str>) -> (Vec<String>, Vec<String>, LearnerResult) {
        let course = crate::course::Course::embedded(&crate::checks::kind_ids()).unwrap();
        let lab = course.lab(None).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ada.json"), serde_json::to_vec(report).unwrap()).unwrap();
        let mut ours = ours;
        let mut row = LearnerResult {
            index: 0,
            learner: "ada".into(),
            account: "111122223333".into(),
            region: "us-west-2".into(),
            grading_status: super::super::gradebook::GRADED.into(),
            graded_at: String::new(),
            self_reported: vec![],
            self_reported_score: 0,
            self_reported_max: 0,
            notes: vec![],
            identity: Default::default(),
            excused: vec![],
            report: None,
        };
        fill(
            &mut ours,
            &mut row,
            dir.path(),
            lab,
            since.map(|t| parse_since(t).unwrap()),
        );
        let messages = ours
            .checks()
            .filter(|c| is_data_plane(lab, &c.id))
            .map(|c| format!("{}: {}", c.id, c.message))
            .collect();
        row.report = Some(ours);
        (row.self_reported.clone(), messages, row)
    }

    #[test]
    fn an_honest_report_counts_apart_from_the_verified_score() {
        let course = crate::course::Course::embedded(&crate::checks::kind_ids()).unwrap();
        let lab = course.lab(None).unwrap();
        let ours = graders(lab, Status::Pass);
        let (taken, _, row) = fill_with(ours.clone(), &theirs(lab, "cache.aws:6379", "db.aws:3306"), None);
        assert_eq!(
            taken,
            [
                "cache.reachable",
                "cache.sessions",
                "rds.reachable",
                "rds.migrated",
                "rds.data",
                "rds.superuser"
            ]
        );
        assert!(row.notes.is_empty(), "{:?}", row.notes);
        let filled = row.report.as_ref().unwrap();
        assert_eq!(
            (filled.score, filled.max_score),
            (ours.score, ours.max_score),
            "self-reported points are not in the verified score"
        );
        let reach = filled.checks().find(|c| c.id == "cache.reachable").unwrap();
        assert_eq!((reach.status, reach.ungraded), (Status::Pass, true));
        assert!(reach.message.starts_with("self-reported: "), "{}", reach.message);
    }

    #[test]
    fn passes_claimed_where_the_graders_own_checks_were_errors_count_nothing() {
        let course = crate::course::Course::embedded(&crate::checks::kind_ids()).unwrap();
        let lab = course.lab(None).unwrap();
        // The finding: cache.exists and rds.instance could not be evaluated.
        let (taken, messages, row) = fill_with(
            graders(lab, Status::Error),
            &theirs(lab, "cache.aws:6379", "db.aws:3306"),
            None,
        );
        assert!(taken.is_empty(), "{messages:?}");
        assert!(
            messages.contains(&"cache.reachable: self-report ignored: it needs cache.tls, which is an error for this learner as the grader sees it".to_string()),
            "{messages:?}"
        );
        assert!(
            messages.contains(&"rds.reachable: self-report ignored: it needs rds.instance, which is an error for this learner as the grader sees it".to_string()),
            "{messages:?}"
        );
        assert!(
            messages.iter().all(|m| m.contains("self-report ignored: ")),
            "{messages:?}"
        );
        assert!(
            row.notes[0].starts_with("self-report ignored for cache.reachable ("),
            "{:?}",
            row.notes
        );
    }

    #[test]
    fn endpoints_other_than_awss_count_nothing() {
        let course = crate::course::Course::embedded(&crate::checks::kind_ids()).unwrap();
        let lab = course.lab(None).unwrap();
        let (taken, messages, _) = fill_with(
            graders(lab, Status::Pass),
            &theirs(lab, "10.0.0.9:6379", "db.aws:3306"),
            None,
        );
        assert_eq!(taken, ["rds.reachable", "rds.migrated", "rds.data", "rds.superuser"]);
        assert!(
            messages.contains(&"cache.reachable: self-report ignored: it connected to 10.0.0.9:6379, but AWS describes cache.aws:6379 for this learner".to_string()),
            "{messages:?}"
        );
        // A report that names no endpoint at all proves nothing either.
        let (taken, messages, _) = fill_with(graders(lab, Status::Pass), &theirs(lab, "", ""), None);
        let mut none = theirs(lab, "", "");
        for c in none.steps.iter_mut().flat_map(|s| s.checks.iter_mut()) {
            c.evidence = serde_json::json!({});
        }
        let (none_taken, none_messages, _) = fill_with(graders(lab, Status::Pass), &none, None);
        assert!(taken.is_empty() && none_taken.is_empty(), "{messages:?}");
        assert!(
            none_messages[0].contains("it names no cache endpoint it connected to"),
            "{none_messages:?}"
        );
    }

    #[test]
    fn reports_before_reports_since_or_for_another_account_count_nothing() {
        let course = crate::course::Course::embedded(&crate::checks::kind_ids()).unwrap();
        let lab = course.lab(None).unwrap();
        let honest = theirs(lab, "cache.aws:6379", "db.aws:3306");
        let (taken, messages, row) = fill_with(graders(lab, Status::Pass), &honest, Some("2026-03-03"));
        assert!(taken.is_empty());
        assert_eq!(
            row.notes,
            [
                "self-report ignored: it was written at 2026-03-02T10:00:00Z, before --reports-since 2026-03-03T00:00:00Z"
            ]
        );
        assert!(
            messages.iter().all(|m| m.contains("before --reports-since")),
            "{messages:?}"
        );
        let (taken, _, _) = fill_with(graders(lab, Status::Pass), &honest, Some("2026-03-02T09:00:00Z"));
        assert_eq!(taken.len(), 6, "written since");
        let mut other = honest;
        other.account = "999999999999".into();
        let (taken, _, row) = fill_with(graders(lab, Status::Pass), &other, None);
        assert!(taken.is_empty());
        assert!(row.notes[0].contains("it is for account `999999999999`, not the roster's 111122223333"));
    }
}
