//! `--excuses FILE`: checks an instructor excuses for one learner (an
//! account AWS broke, an outage in the learner's Region). An excused check
//! keeps its status, its points leave that learner's maximum (and score),
//! and every format says `excused: REASON`.
//!
//! The file is CSV with a header row, `learner,check,reason`: `check` is a
//! check id (`s3.cors`) or a step id (`s3`, every check of the step). A
//! learner or id that is not the gradebook's, an empty reason or a pair
//! given twice is refused whole, each problem at `FILE:LINE:COL` (exit 2),
//! as the roster is.

pub use super::gradebook::Excused;
use super::gradebook::{LearnerResult, Outline};
use crate::course::diagnostic::{Diagnostic, Diagnostics};
use labcheck_course::csvfile::{Lines, MAX_PROBLEMS, Row, diag, header, next_row, read_csv_text, rows};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The excuses file's columns, in the order a new file lists them.
pub const COLUMNS: &[&str] = &["learner", "check", "reason"];
/// Longest reason kept: a sentence, not an essay.
const MAX_REASON: usize = 300;

/// `--excuses FILE`, for the commands that build a gradebook.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct ExcusesArgs {
    /// Excuse checks for some learners: a CSV file with the columns
    /// learner,check,reason (check: a check id, or a step id for all its
    /// checks). An excused check keeps its status, leaves that learner's
    /// maximum, and says `excused: REASON` in every format.
    #[arg(long, value_name = "FILE")]
    pub excuses: Option<PathBuf>,
}

/// One row of the file: a learner, the checks it excuses, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Excuse {
    /// The learner, as the roster names them.
    pub learner: String,
    /// The check ids excused (a step id is all its checks).
    pub checks: Vec<String>,
    /// Why.
    pub reason: String,
    /// 1-based line of the row.
    pub line: usize,
}

/// A parsed excuses file.
#[derive(Clone, Debug, Default)]
pub struct Excuses {
    /// The rows, in file order.
    pub rows: Vec<Excuse>,
}

/// Reads and checks an excuses file against the gradebook's learners and
/// its lab's outline.
pub fn load(path: &Path, learners: &[&str], outline: &Outline) -> Result<Excuses, Diagnostics> {
    let text = read_csv_text(path, "excuses file")?;
    parse(&path.display().to_string(), &text, learners, outline)
}

/// Parses excuses text (see the module's documentation).
pub fn parse(file: &str, text: &str, learners: &[&str], outline: &Outline) -> Result<Excuses, Diagnostics> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let bom = text.len() - body.len();
    let lines = Lines::new(text);
    let mut problems: Vec<Diagnostic> = Vec::new();
    let mut records = rows(file, text, bom, &lines);
    let head = header(
        file,
        &mut records,
        &lines,
        format!(
            "the excuses file is empty; it needs a header row ({}) and a row per excuse",
            COLUMNS.join(",")
        ),
    )?;
    let mut columns: HashMap<&'static str, usize> = HashMap::new();
    for (i, name) in head.names.iter().enumerate() {
        let (line, col) = head.places[i];
        // A spreadsheet's `Check ID` or `step` is the check column.
        let known = match name.as_str() {
            "learner" => Some("learner"),
            "check" | "check_id" | "step" | "id" => Some("check"),
            "reason" => Some("reason"),
            "" => None,
            _ => {
                problems.push(diag(
                    file,
                    line,
                    col,
                    format!(
                        "unknown column `{}`; an excuses file has the columns {}{}",
                        head.cells[i],
                        COLUMNS.join(", "),
                        crate::suggest::did_you_mean(name, COLUMNS.iter().copied())
                    ),
                    Some(lines.text(line)),
                ));
                None
            }
        };
        if let Some(known) = known
            && columns.insert(known, i).is_some()
        {
            problems.push(diag(
                file,
                line,
                col,
                format!("column `{known}` appears twice"),
                Some(lines.text(line)),
            ));
        }
    }
    for needed in COLUMNS {
        if !columns.contains_key(needed) {
            problems.push(diag(
                file,
                1,
                1,
                format!("the header has no `{needed}` column ({})", COLUMNS.join(",")),
                Some(lines.text(1)),
            ));
        }
    }
    if !problems.is_empty() {
        return Err(Diagnostics(problems));
    }

    let steps: HashMap<&str, Vec<String>> = outline
        .steps
        .iter()
        .map(|s| (s.id.as_str(), s.checks.iter().map(|c| c.id.clone()).collect()))
        .collect();
    let check_ids: Vec<&str> = outline
        .steps
        .iter()
        .flat_map(|s| s.checks.iter().map(|c| c.id.as_str()))
        .collect();
    let mut rows = Vec::new();
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    while let Some(Row { at, cells }) = next_row(&mut records, &mut problems) {
        let (row_line, _) = lines.locate(at);
        let starts = lines.field_starts(at);
        if cells.iter().all(String::is_empty) {
            continue;
        }
        let mut problem = |field: usize, message: String| {
            let (line, col) = lines.locate(starts.get(field).copied().unwrap_or(at));
            problems.push(diag(file, line, col, message, Some(lines.text(line))));
        };
        let cell = |name: &str| {
            let i = columns[name];
            (i, cells.get(i).map(String::as_str).unwrap_or_default())
        };
        if let Some(i) = cells.iter().position(|c| c.chars().any(char::is_control)) {
            problem(i, "this cell holds a control character".into());
        }
        let (li, learner) = cell("learner");
        if learner.is_empty() {
            problem(li, "no learner in this row".into());
        } else if !learners.contains(&learner) {
            problem(
                li,
                format!(
                    "no learner `{learner}` in the gradebook{}",
                    crate::suggest::did_you_mean(learner, learners.iter().copied())
                ),
            );
        }
        let (ci, id) = cell("check");
        let checks: Vec<String> = if let Some(of_step) = steps.get(id) {
            of_step.clone()
        } else if check_ids.contains(&id) {
            vec![id.to_string()]
        } else {
            problem(
                ci,
                if id.is_empty() {
                    "no check or step id in this row".to_string()
                } else {
                    format!(
                        "`{id}` is neither a check nor a step of lab {}{}",
                        outline.lab,
                        crate::suggest::did_you_mean(id, check_ids.iter().copied().chain(steps.keys().copied()))
                    )
                },
            );
            Vec::new()
        };
        let (ri, reason) = cell("reason");
        if reason.is_empty() {
            problem(
                ri,
                "no reason in this row: the gradebook says why a check is excused".into(),
            );
        } else if reason.chars().count() > MAX_REASON {
            problem(ri, format!("the reason is longer than {MAX_REASON} characters"));
        }
        for c in &checks {
            if let Some(first) = seen.insert((learner.to_string(), c.clone()), row_line) {
                problem(ci, format!("{c} is already excused for `{learner}` on line {first}"));
            }
        }
        rows.push(Excuse {
            learner: learner.to_string(),
            checks,
            reason: reason.to_string(),
            line: row_line,
        });
    }
    if problems.is_empty() {
        Ok(Excuses { rows })
    } else {
        problems.truncate(MAX_PROBLEMS);
        Err(Diagnostics(problems))
    }
}

impl Excuses {
    /// The excuses of one learner: (check id, reason).
    fn of<'a>(&'a self, learner: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.rows
            .iter()
            .filter(move |r| r.learner == learner)
            .flat_map(|r| r.checks.iter().map(move |c| (c.as_str(), r.reason.as_str())))
    }

    /// Excuses the checks in the learners' results: each excused check of a
    /// graded learner is left out of their maximum (its status kept), named
    /// in `excused` and in the notes as `ID excused: REASON`.
    pub fn apply(&self, results: &mut [LearnerResult]) {
        for result in results {
            let excused: Vec<Excused> = self
                .of(&result.learner)
                .map(|(check, reason)| Excused {
                    check: check.to_string(),
                    reason: reason.to_string(),
                })
                .collect();
            if excused.is_empty() {
                continue;
            }
            if let Some(report) = result.report.as_mut() {
                for c in report.steps.iter_mut().flat_map(|s| s.checks.iter_mut()) {
                    if excused.iter().any(|e| e.check == c.id) {
                        c.ungraded = true;
                    }
                }
                report.rescore();
            }
            for e in &excused {
                result.notes.push(format!("{} excused: {}", e.check, e.reason));
            }
            result.excused = excused;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cohort::gradebook::tests::{learners, outline};

    fn parse_str(text: &str) -> Result<Excuses, Diagnostics> {
        parse("excuses.csv", text, &["ada", "bob", "cy"], &outline())
    }

    fn errors(text: &str) -> Vec<String> {
        parse_str(text)
            .expect_err("should be refused")
            .0
            .iter()
            .map(|d| format!("{}:{}:{}: {}", d.file, d.line, d.col, d.message))
            .collect()
    }

    #[test]
    fn a_step_excuses_its_checks_and_a_check_itself() {
        let e = parse_str(
            "\u{feff}learner,check,reason\nada,s3.cors,AWS outage in us-west-2\n\ncy,s3,account suspended by AWS\n",
        )
        .unwrap();
        assert_eq!(e.rows.len(), 2);
        assert_eq!(e.rows[0].checks, ["s3.cors"]);
        assert_eq!(e.rows[1].checks, ["s3.bucket", "s3.cors", "s3.private", "s3.media"]);
        assert_eq!((e.rows[0].line, e.rows[1].line), (2, 4));
    }

    #[test]
    fn unknown_learners_and_ids_are_named_at_their_cell() {
        let errs = errors("learner,check,reason\nada,s3.cros,typo\neve,s3.cors,who\nbob,s3.cors,\n");
        assert_eq!(
            errs,
            [
                "excuses.csv:2:5: `s3.cros` is neither a check nor a step of lab deploy-django-eb; did you mean `s3.cors`?",
                "excuses.csv:3:1: no learner `eve` in the gradebook",
                "excuses.csv:4:13: no reason in this row: the gradebook says why a check is excused",
            ]
        );
        assert_eq!(
            errors("learner,check,reason\nada,s3,x\nada,s3.cors,y\n"),
            ["excuses.csv:3:5: s3.cors is already excused for `ada` on line 2"]
        );
        assert!(errors("learner,reason\n")[0].starts_with("excuses.csv:1:1: the header has no `check` column"));
        assert!(errors("learner,check,why\n")[0].starts_with("excuses.csv:1:15: unknown column `why`"));
        assert!(errors("")[0].starts_with("excuses.csv:1:1: the excuses file is empty"));
        assert!(errors("learner,check,reason\nada,s3.cors,\x1b[2Jgone\n")[0].contains("control character"));
    }

    #[test]
    fn an_excused_check_keeps_its_status_and_leaves_the_maximum() {
        let mut results = learners();
        let before = results[0].report.clone().unwrap();
        let cors = before.checks().find(|c| c.id == "s3.cors").unwrap().clone();
        let e = parse_str("learner,check,reason\nada,s3.cors,AWS broke the bucket\nbob,s3,role missing\n").unwrap();
        e.apply(&mut results);
        let after = results[0].report.as_ref().unwrap();
        let excused = after.checks().find(|c| c.id == "s3.cors").unwrap();
        assert_eq!(excused.status, cors.status, "the status is kept");
        assert_eq!(after.max_score, before.max_score - cors.points);
        assert_eq!(after.score, before.score - cors.score);
        assert_eq!(
            results[0].excused,
            [Excused {
                check: "s3.cors".into(),
                reason: "AWS broke the bucket".into()
            }]
        );
        assert!(
            results[0]
                .notes
                .contains(&"s3.cors excused: AWS broke the bucket".to_string())
        );
        // Not graded: nothing to leave out, but the row says it.
        assert!(results[1].report.is_none());
        assert_eq!(results[1].excused.len(), 4);
        // Another learner is untouched.
        assert_eq!(results[2].report.as_ref().unwrap().max_score, before.max_score);
    }
}
