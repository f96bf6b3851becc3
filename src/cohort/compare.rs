//! `--compare PREVIOUS.json`: what changed since an earlier grading of the
//! same lab. Per learner and check, what turned green (passes now, did not
//! then) and what turned red (passed then, does not now); per learner, where
//! they stand: improved, regressed, stuck (nothing changed and something is
//! still open), done, new to the gradebook, or not graded. A mid-week
//! grading then tells the instructor who is stuck. Kept in the gradebook
//! (`compared`, json) and shown first in the html page.

use super::gradebook::{Gradebook, GradebookError, LearnerResult};
pub use super::standing::{Comparison, Progress, Standing};
use crate::report::{CheckReport, Status};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// `--compare GRADEBOOK`, for the commands that build a gradebook.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct CompareArgs {
    /// Mark what changed since an earlier grading: a `--format json`
    /// gradebook of the same lab. Per learner and check, what turned green
    /// or red since then, and who is stuck (html and json).
    #[arg(long, value_name = "GRADEBOOK")]
    pub compare: Option<PathBuf>,
}

/// Reads the earlier gradebook: a `labcheck/gradebook-v1` JSON file of
/// lab `lab`. The error names the file and what is wrong with it.
pub fn load(path: &Path, lab: &str) -> Result<Gradebook, GradebookError> {
    let book = Gradebook::read(path, "--compare takes an earlier `--format json` gradebook")?;
    if book.outline.lab != lab {
        return Err(GradebookError::CompareOtherLab {
            file: path.display().to_string(),
            found: book.outline.lab,
            wanted: lab.to_string(),
        });
    }
    Ok(book)
}

/// Whether a check passes, as the comparison counts it: None when it was
/// not graded at all (left out of the maximum without a result, like a
/// database connection from outside the learner's network).
fn green(c: &CheckReport) -> Option<bool> {
    (!(c.ungraded && c.status == Status::Skip)).then_some(c.status == Status::Pass)
}

/// The graded learner's checks, by id.
fn lights(l: &LearnerResult) -> Option<HashMap<&str, bool>> {
    let report = l.report.as_ref().filter(|_| l.is_graded())?;
    Some(
        report
            .checks()
            .filter_map(|c| green(c).map(|g| (c.id.as_str(), g)))
            .collect(),
    )
}

/// Compares `now` with the earlier gradebook `before` (from file `previous`).
pub fn compare(before: &Gradebook, now: &Gradebook, previous: &str) -> Comparison {
    let then: HashMap<&str, &LearnerResult> = before.learners.iter().map(|l| (l.learner.as_str(), l)).collect();
    let order: Vec<&str> = now
        .outline
        .steps
        .iter()
        .flat_map(|s| s.checks.iter().map(|c| c.id.as_str()))
        .collect();
    let score = |l: &LearnerResult| l.report.as_ref().filter(|_| l.is_graded()).map(|r| r.score);
    let learners = now
        .learners
        .iter()
        .map(|l| {
            let old = then.get(l.learner.as_str());
            let mut p = Progress {
                learner: l.learner.clone(),
                standing: Standing::New,
                score_before: old.and_then(|o| score(o)),
                score_now: score(l),
                turned_green: Vec::new(),
                turned_red: Vec::new(),
            };
            let Some(old) = old else { return p };
            let (Some(was), Some(is)) = (lights(old), lights(l)) else {
                p.standing = Standing::NotGraded;
                return p;
            };
            for id in &order {
                match (was.get(id), is.get(id)) {
                    (Some(false) | None, Some(true)) => p.turned_green.push(id.to_string()),
                    (Some(true), Some(false)) => p.turned_red.push(id.to_string()),
                    _ => {}
                }
            }
            p.standing = if !p.turned_red.is_empty() {
                Standing::Regressed
            } else if !p.turned_green.is_empty() {
                Standing::Improved
            } else if is.values().all(|g| *g) {
                Standing::Done
            } else {
                Standing::Stuck
            };
            p
        })
        .collect();
    Comparison {
        previous: previous.to_string(),
        previous_generated_at: before.generated_at.clone(),
        learners,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cohort::gradebook::tests::{learners, outline, roster_info};

    fn book(learners: Vec<LearnerResult>) -> Gradebook {
        Gradebook::build(outline(), roster_info(), None, learners)
    }

    fn set(l: &mut LearnerResult, id: &str, status: Status) {
        let r = l.report.as_mut().unwrap();
        r.steps
            .iter_mut()
            .flat_map(|s| s.checks.iter_mut())
            .find(|c| c.id == id)
            .unwrap()
            .status = status;
        r.rescore();
    }

    #[test]
    fn one_learner_repaired_one_stuck_one_regressed() {
        let before = book(learners());
        let mut now_learners = learners();
        set(&mut now_learners[0], "s3.cors", Status::Pass); // ada repaired CORS
        set(&mut now_learners[2], "s3.bucket", Status::Fail); // cy lost the bucket
        let mut now = book(now_learners);
        now.learners.push(LearnerResult {
            learner: "dan".into(),
            index: 3,
            ..now.learners[0].clone()
        });
        let c = compare(&before, &now, "monday.json");
        let by: HashMap<&str, &Progress> = c.learners.iter().map(|p| (p.learner.as_str(), p)).collect();
        assert_eq!(by["ada"].standing, Standing::Improved);
        assert_eq!(by["ada"].turned_green, ["s3.cors"]);
        assert!(by["ada"].score_now > by["ada"].score_before);
        assert_eq!(by["bob"].standing, Standing::NotGraded);
        assert_eq!(by["cy"].standing, Standing::Regressed);
        assert_eq!(by["cy"].turned_red, ["s3.bucket"]);
        assert_eq!(by["dan"].standing, Standing::New);
        assert_eq!(
            c.summary(),
            "since monday.json: 1 regressed, 1 improved, 1 new, 1 not-graded"
        );
        // Nothing changed and something open: stuck.
        let same = compare(&before, &before, "monday.json");
        assert_eq!(same.learners[0].standing, Standing::Stuck);
        let html = c.html();
        assert!(html.find("cy").unwrap() < html.find("ada").unwrap(), "regressed first");
        assert!(html.contains("<code>s3.cors</code>"));
    }
}
