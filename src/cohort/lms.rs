//! Grades a learning management system imports: the CSV file Canvas's
//! gradebook import reads (`--format canvas`) and the one Moodle's CSV grade
//! import reads (`--format moodle`), one column for the lab under the name
//! the assignment has in the course (`--assignment`).
//!
//! Canvas: "How do I import grades in the Gradebook?", Canvas Instructor
//! Guide, <https://community.canvaslms.com/t5/Instructor-Guide/How-do-I-import-grades-in-the-Gradebook/ta-p/807>.
//! The file has the identifying columns of Canvas's own gradebook export,
//! `Student`, `ID`, `SIS User ID`, `SIS Login ID`, `Section`, then one column
//! per assignment, titled with its name (a title that matches no assignment
//! creates one); the export's second row, `Points Possible`, carries the
//! assignment's points. Canvas finds each student by these columns (labcheck
//! knows no Canvas user `ID`; the roster's `sis_user_id` and `sis_login_id`
//! fill theirs).
//!
//! Moodle: "Grade import", Moodle documentation,
//! <https://docs.moodle.org/en/Grade_import>, and its CSV importer
//! (`grade/import/csv/classes/load_data.php`). The instructor maps one
//! column to a user field (email address, username or ID number) and each
//! other column to a grade item or to nothing. An empty cell (or `-`) is "no
//! grade"; a row whose identifier is empty matches no user, and the
//! importer then stops, or gives the row to the student of the row before,
//! so such rows are left out of the file and named on standard error.
//!
//! In both, a learner who could not be graded is an empty cell, never a zero.

use super::gradebook::{Gradebook, LearnerResult};
use super::roster::Identity;

/// The LMS files' options (`--assignment`, `--grade`, `--moodle-id`).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct LmsArgs {
    /// The lab's assignment as the course names it: the grade column's
    /// title in `--format canvas` and `--format moodle` (default: the lab's id).
    #[arg(long, value_name = "NAME", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub assignment: Option<String>,
    /// What the grade column holds (canvas, moodle): the verified points,
    /// or the verified points in percent of the learner's maximum.
    #[arg(long, value_enum, default_value_t = GradeScale::Points)]
    pub grade: GradeScale,
    /// The user field that identifies each learner in `--format moodle`:
    /// their email (the roster's `email`), username (`sis_login_id`) or ID
    /// number (`sis_user_id`).
    #[arg(long, value_enum, default_value_t = MoodleId::Email)]
    pub moodle_id: MoodleId,
}

/// What the grade column holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum GradeScale {
    /// The points the grader verified (out of the learner's max_score).
    #[default]
    Points,
    /// The verified points in percent of the learner's max_score (0 to 100).
    Percent,
}

/// The Moodle user field the identifier column maps to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum MoodleId {
    /// The user's email address: the roster's `email`.
    #[default]
    Email,
    /// The user's username: the roster's `sis_login_id`.
    Username,
    /// The user's ID number: the roster's `sis_user_id`.
    Idnumber,
}

impl MoodleId {
    /// The column's title, as Moodle's own export titles that field.
    fn title(self) -> &'static str {
        match self {
            MoodleId::Email => "Email address",
            MoodleId::Username => "Username",
            MoodleId::Idnumber => "ID number",
        }
    }

    /// The roster column it comes from.
    fn column(self) -> &'static str {
        match self {
            MoodleId::Email => "email",
            MoodleId::Username => "sis_login_id",
            MoodleId::Idnumber => "sis_user_id",
        }
    }

    fn of(self, identity: &Identity) -> Option<&str> {
        match self {
            MoodleId::Email => identity.email.as_deref(),
            MoodleId::Username => identity.sis_login_id.as_deref(),
            MoodleId::Idnumber => identity.sis_user_id.as_deref(),
        }
    }
}

/// The title Canvas's own export gives its second row.
pub const POINTS_POSSIBLE: &str = "    Points Possible";

/// The grade column's title.
fn assignment(book: &Gradebook, args: &LmsArgs) -> String {
    args.assignment.clone().unwrap_or_else(|| book.outline.lab.clone())
}

/// A graded learner's grade as the column holds it; None (an empty cell)
/// when they could not be graded.
fn grade(l: &LearnerResult, scale: GradeScale) -> Option<String> {
    let report = l.report.as_ref().filter(|_| l.is_graded())?;
    Some(match scale {
        GradeScale::Points => report.score.to_string(),
        GradeScale::Percent if report.max_score == 0 => "100".into(),
        GradeScale::Percent => decimal(100.0 * report.score as f64 / report.max_score as f64),
    })
}

/// A number with at most two decimals, without trailing zeros.
fn decimal(x: f64) -> String {
    let text = format!("{:.2}", (x * 100.0).round() / 100.0);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The points possible the assignment has: 100 in percent; in points the
/// graded learners' maximum (the largest, when they differ: see
/// [`warnings`]), else the lab's.
fn points_possible(book: &Gradebook, scale: GradeScale) -> u32 {
    if scale == GradeScale::Percent {
        return 100;
    }
    maxima(book).last().map(|(max, _)| *max).unwrap_or_else(|| {
        book.outline
            .steps
            .iter()
            .flat_map(|s| &s.checks)
            .map(|c| c.points)
            .sum()
    })
}

/// (max_score, learners) over the graded learners, smallest first.
fn maxima(book: &Gradebook) -> Vec<(u32, usize)> {
    let mut counts: std::collections::BTreeMap<u32, usize> = Default::default();
    for l in book.learners.iter().filter(|l| l.is_graded()) {
        if let Some(r) = &l.report {
            *counts.entry(r.max_score).or_default() += 1;
        }
    }
    counts.into_iter().collect()
}

fn writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new())
}

fn finish(w: csv::Writer<Vec<u8>>) -> String {
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// The Canvas gradebook import file.
pub fn canvas(book: &Gradebook, args: &LmsArgs) -> String {
    let mut w = writer();
    let title = assignment(book, args);
    let _ = w.write_record([
        "Student",
        "ID",
        "SIS User ID",
        "SIS Login ID",
        "Section",
        title.as_str(),
    ]);
    let possible = points_possible(book, args.grade).to_string();
    let _ = w.write_record([POINTS_POSSIBLE, "", "", "", "", possible.as_str()]);
    for l in &book.learners {
        let id = &l.identity;
        let _ = w.write_record([
            l.learner.as_str(),
            "",
            id.sis_user_id.as_deref().unwrap_or_default(),
            id.sis_login_id.as_deref().unwrap_or_default(),
            id.section.as_deref().unwrap_or_default(),
            grade(l, args.grade).unwrap_or_default().as_str(),
        ]);
    }
    finish(w)
}

/// The Moodle grade import file: the identifier, the learner's name, the grade.
pub fn moodle(book: &Gradebook, args: &LmsArgs) -> String {
    let mut w = writer();
    let title = assignment(book, args);
    let _ = w.write_record([args.moodle_id.title(), "Full name", title.as_str()]);
    for l in &book.learners {
        let Some(id) = args.moodle_id.of(&l.identity) else {
            continue; // named by `warnings`
        };
        let _ = w.write_record([
            id,
            l.learner.as_str(),
            grade(l, args.grade).unwrap_or_default().as_str(),
        ]);
    }
    finish(w)
}

/// "1 learner", "2 learners".
fn learners(n: usize) -> String {
    format!("{n} learner{}", if n == 1 { "" } else { "s" })
}

/// Names: the first few, then how many more.
fn some(names: &[&str]) -> String {
    const SHOWN: usize = 5;
    let mut text = names.iter().take(SHOWN).copied().collect::<Vec<_>>().join(", ");
    if names.len() > SHOWN {
        text.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    text
}

/// What the instructor should know before importing the file: learners
/// the LMS cannot match or who have no grade, maximums that differ.
pub fn warnings(book: &Gradebook, moodle: bool, args: &LmsArgs) -> Vec<String> {
    let mut out = Vec::new();
    let not_graded: Vec<&str> = book
        .learners
        .iter()
        .filter(|l| !l.is_graded())
        .map(|l| l.learner.as_str())
        .collect();
    if !not_graded.is_empty() {
        out.push(format!(
            "{} could not be graded and {} an empty cell, not a zero: {}",
            learners(not_graded.len()),
            if not_graded.len() == 1 { "has" } else { "have" },
            some(&not_graded)
        ));
    }
    let maxima = maxima(book);
    if args.grade == GradeScale::Points && maxima.len() > 1 {
        let list: Vec<String> = maxima.iter().map(|(m, n)| format!("{n} out of {m}")).collect();
        out.push(format!(
            "the learners' maximums differ ({}: checks were left out for some of them), so their points do not compare; --grade percent gives each a percentage of their own maximum",
            list.join(", ")
        ));
    }
    if moodle {
        let missing: Vec<&str> = book
            .learners
            .iter()
            .filter(|l| args.moodle_id.of(&l.identity).is_none())
            .map(|l| l.learner.as_str())
            .collect();
        if !missing.is_empty() {
            out.push(format!(
                "{} left out of the file: the roster gives no `{}` (--moodle-id {}), and Moodle cannot match a row without one: {}",
                learners(missing.len()),
                args.moodle_id.column(),
                match args.moodle_id {
                    MoodleId::Email => "email",
                    MoodleId::Username => "username",
                    MoodleId::Idnumber => "idnumber",
                },
                some(&missing)
            ));
        }
    } else {
        let by_name: Vec<&str> = book
            .learners
            .iter()
            .filter(|l| l.identity.sis_user_id.is_none() && l.identity.sis_login_id.is_none())
            .map(|l| l.learner.as_str())
            .collect();
        if !by_name.is_empty() {
            out.push(format!(
                "{} without `sis_user_id` or `sis_login_id` in the roster: Canvas can only match them by name: {}",
                learners(by_name.len()),
                some(&by_name)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cohort::gradebook::tests::{learners, outline, roster_info};

    fn book() -> Gradebook {
        let mut all = learners();
        all[0].identity = Identity {
            email: Some("ada@example.edu".into()),
            sis_login_id: Some("alovelace".into()),
            sis_user_id: Some("S001".into()),
            section: Some("Lab A".into()),
        };
        all[1].identity.email = Some("bob@example.edu".into());
        Gradebook::build(outline(), roster_info(), None, all)
    }

    #[test]
    fn canvas_has_its_export_columns_and_an_empty_cell_for_who_was_not_graded() {
        let args = LmsArgs {
            assignment: Some("Lab 3: Django on Beanstalk".into()),
            ..Default::default()
        };
        let text = canvas(&book(), &args);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "Student,ID,SIS User ID,SIS Login ID,Section,Lab 3: Django on Beanstalk",
                "    Points Possible,,,,,8",
                "ada,,S001,alovelace,Lab A,2",
                "bob,,,,,",
                "cy,,,,,2",
            ]
        );
        let w = warnings(&book(), false, &args);
        assert!(
            w[0].contains("1 learner could not be graded and has an empty cell") && w[0].contains("bob"),
            "{w:?}"
        );
        assert!(w[1].contains("match them by name: bob, cy"), "{w:?}");
    }

    #[test]
    fn moodle_leaves_out_rows_it_could_not_match_and_says_so() {
        let args = LmsArgs {
            grade: GradeScale::Percent,
            ..Default::default()
        };
        let text = moodle(&book(), &args);
        assert_eq!(
            text.lines().collect::<Vec<_>>(),
            [
                "Email address,Full name,deploy-django-eb",
                "ada@example.edu,ada,25",
                "bob@example.edu,bob,",
            ]
        );
        let w = warnings(&book(), true, &args);
        assert!(
            w.iter()
                .any(|x| x.starts_with("1 learner left out of the file") && x.ends_with(": cy")),
            "{w:?}"
        );
        let args = LmsArgs {
            moodle_id: MoodleId::Idnumber,
            ..Default::default()
        };
        assert_eq!(moodle(&book(), &args).lines().nth(1), Some("S001,ada,2"));
    }

    #[test]
    fn percentages_have_two_decimals_at_most() {
        assert_eq!(decimal(100.0 * 2.0 / 3.0), "66.67");
        assert_eq!(decimal(25.0), "25");
        assert_eq!(decimal(87.5), "87.5");
    }
}
