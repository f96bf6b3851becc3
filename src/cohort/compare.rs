//! `--compare PREVIOUS.json`: what changed since an earlier grading of the
//! same lab. Per learner and check, what turned green (passes now, did not
//! then) and what turned red (passed then, does not now); per learner, where
//! they stand: improved, regressed, stuck (nothing changed and something is
//! still open), done, new to the gradebook, or not graded. A mid-week
//! grading then tells the instructor who is stuck. Kept in the gradebook
//! (`compared`, json) and shown first in the html page.

use super::gradebook::{Gradebook, GradebookError, LearnerResult};
use crate::report::html::escape;
use crate::report::{CheckReport, Status};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt::Write;
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

/// Where a learner stands since the earlier grading.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Standing {
    /// Something that passed does not pass any more.
    Regressed,
    /// Nothing changed, and some graded check does not pass.
    Stuck,
    /// Something turned green, nothing red.
    Improved,
    /// Not in the earlier gradebook.
    New,
    /// Not graded in one of the two gradings: nothing to compare.
    NotGraded,
    /// Nothing changed, and every graded check passes.
    Done,
}

impl Standing {
    /// As the json and html write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Regressed => "regressed",
            Standing::Stuck => "stuck",
            Standing::Improved => "improved",
            Standing::New => "new",
            Standing::NotGraded => "not-graded",
            Standing::Done => "done",
        }
    }
}

/// One learner since the earlier grading.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// The learner, as the gradebook names them.
    pub learner: String,
    /// Where they stand.
    pub standing: Standing,
    /// Verified score then (None: not graded, or not in that gradebook).
    pub score_before: Option<u32>,
    /// Verified score now (None: not graded).
    pub score_now: Option<u32>,
    /// Checks that pass now and did not then, in lab order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub turned_green: Vec<String>,
    /// Checks that passed then and do not now, in lab order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub turned_red: Vec<String>,
}

/// The comparison a gradebook carries (`compared`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comparison {
    /// The earlier gradebook's file, as given.
    pub previous: String,
    /// When the earlier gradebook was made.
    pub previous_generated_at: String,
    /// One entry per learner of this gradebook, in its order.
    pub learners: Vec<Progress>,
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

impl Comparison {
    /// How many learners stand where, in the order the page lists them.
    pub fn counts(&self) -> Vec<(Standing, usize)> {
        let mut counts: Vec<(Standing, usize)> = Vec::new();
        let mut standings: Vec<Standing> = self.learners.iter().map(|p| p.standing).collect();
        standings.sort();
        for s in standings {
            match counts.last_mut() {
                Some((last, n)) if *last == s => *n += 1,
                _ => counts.push((s, 1)),
            }
        }
        counts
    }

    /// The one line `cohort grade` prints about it.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = self
            .counts()
            .iter()
            .map(|(s, n)| format!("{n} {}", s.as_str()))
            .collect();
        format!("since {}: {}", self.previous, parts.join(", "))
    }

    /// Every string through the sanitizer (the previous gradebook is a file
    /// that may have been edited; names come from the roster).
    pub fn sanitize(&mut self) {
        use crate::redact::strip_control;
        self.previous = strip_control(&self.previous);
        self.previous_generated_at = strip_control(&self.previous_generated_at);
        for p in &mut self.learners {
            p.learner = strip_control(&p.learner);
            for id in p.turned_green.iter_mut().chain(p.turned_red.iter_mut()) {
                *id = strip_control(id);
            }
        }
    }

    /// The html page's section: the counts, then the learners who moved or
    /// did not, the regressed and the stuck first.
    pub fn html(&self) -> String {
        let mut b = String::new();
        let _ = writeln!(
            b,
            "<h2 id=\"progress\">Since the last grading</h2>\n<p class=\"meta\"><span>compared with {}</span><span>graded {}</span></p>",
            escape(&self.previous),
            escape(&self.previous_generated_at)
        );
        let counts: Vec<String> = self
            .counts()
            .iter()
            .map(|(s, n)| format!("<span class=\"standing-{}\">{n} {}</span>", s.as_str(), s.as_str()))
            .collect();
        let _ = writeln!(b, "<p class=\"meta\">{}</p>", counts.join(""));
        b.push_str("<table class=\"sortable\" id=\"since\"><thead><tr><th class=\"sortable\">learner</th><th class=\"sortable\">standing</th><th class=\"sortable num\">score then</th><th class=\"sortable num\">score now</th><th>turned green</th><th>turned red</th></tr></thead><tbody>\n");
        let mut rows: Vec<&Progress> = self.learners.iter().collect();
        rows.sort_by_key(|p| p.standing);
        let num = |v: Option<u32>| v.map(|n| n.to_string()).unwrap_or_else(|| "–".into());
        let ids = |v: &[String]| {
            v.iter()
                .map(|id| format!("<code>{}</code>", escape(id)))
                .collect::<Vec<_>>()
                .join(" ")
        };
        for p in rows {
            let _ = writeln!(
                b,
                "<tr class=\"standing-{s}\"><td>{}</td><td>{s}</td><td class=\"num\" data-v=\"{}\">{}</td><td class=\"num\" data-v=\"{}\">{}</td><td class=\"green\">{}</td><td class=\"red\">{}</td></tr>",
                escape(&p.learner),
                p.score_before.map_or(-1, i64::from),
                num(p.score_before),
                p.score_now.map_or(-1, i64::from),
                num(p.score_now),
                ids(&p.turned_green),
                ids(&p.turned_red),
                s = p.standing.as_str(),
            );
        }
        b.push_str("</tbody></table>\n");
        b
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
