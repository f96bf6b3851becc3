//! The gradebook's formats: csv (DESIGN §7), json (`labcheck/gradebook-v1`),
//! junit (one test suite per learner), html (one self-contained page: a row
//! per learner, the cohort's pass rate per check, each learner's failures),
//! and the import files of Canvas and Moodle ([`super::lms`]). Every format is
//! rendered from a sanitized copy of the gradebook ([`Gradebook::sanitized`]):
//! learners' names, notes and reports reach no output with a control
//! sequence in them.

use super::gradebook::{Gradebook, LearnerResult};
use super::lms::LmsArgs;
use crate::report::html::{badge, check_block, escape, page};
use crate::report::{Basis, Report, Status, StepReport};
use quick_junit::{NonSuccessKind, Report as Junit, TestCase, TestCaseStatus, TestSuite};
use std::fmt::Write;
use std::time::Duration;

/// Output formats of `labcheck cohort`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One row per learner, one column per check.
    Csv,
    /// The JSON gradebook, schema labcheck/gradebook-v1.
    // (`json_help_names_the_schema` keeps the name the same as SCHEMA.)
    Json,
    /// JUnit XML, for CI systems.
    Junit,
    /// One self-contained HTML page.
    Html,
    /// Canvas's gradebook import CSV: Student, ID, SIS User ID, SIS Login ID, Section, the assignment.
    Canvas,
    /// Moodle's grade import CSV: an identifier (email, username or ID number), the name, the assignment.
    Moodle,
}

impl Format {
    /// Whether the format is a learning management system's import file.
    pub fn is_lms(self) -> bool {
        matches!(self, Format::Canvas | Format::Moodle)
    }
}

/// Renders a gradebook in `format`, from a sanitized copy (an LMS file with
/// the default options: see [`render_with`]).
pub fn render(book: &Gradebook, format: Format) -> String {
    render_with(book, format, &LmsArgs::default())
}

/// Renders a gradebook in `format`, from a sanitized copy; `lms` names the
/// assignment and the grade of the LMS files.
pub fn render_with(book: &Gradebook, format: Format, lms: &LmsArgs) -> String {
    let book = &book.sanitized();
    match format {
        Format::Csv => csv(book),
        Format::Json => json(book),
        Format::Junit => junit(book),
        Format::Html => html(book),
        Format::Canvas => super::lms::canvas(book, lms),
        Format::Moodle => super::lms::moodle(book, lms),
    }
}

/// What to know before importing an LMS file (nothing for other formats).
pub fn lms_warnings(book: &Gradebook, format: Format, lms: &LmsArgs) -> Vec<String> {
    if format.is_lms() {
        super::lms::warnings(&book.sanitized(), format == Format::Moodle, lms)
    } else {
        Vec::new()
    }
}

/// The gradebook as pretty-printed JSON, with a final newline.
fn json(book: &Gradebook) -> String {
    let mut text = serde_json::to_string_pretty(book).expect("a gradebook serializes");
    text.push('\n');
    text
}

/// A step of a learner's report that has something graded in it: None when
/// the step is missing or every one of its checks was left out of the
/// maximum (not reachable from the grader, no project).
fn graded_step<'a>(report: &'a Report, id: &str) -> Option<&'a StepReport> {
    report.steps.iter().find(|s| s.id == id && s.max_score > 0)
}

/// `learner,account,score,max_score,grading_status,<step ids…>,graded_at,self_reported,self_reported_max,notes`:
/// the columns DESIGN §7 fixes keep their places; `score` and `max_score`
/// are the points the grader verified, `self_reported` the points taken from
/// the learner's own report (out of `self_reported_max`); a step's cell is
/// its verified score, empty when none of its checks was graded for that
/// learner (all left out of the maximum: a learning management system must
/// not import that as a zero); a learner who could not be graded has empty
/// scores (never a zero).
fn csv(book: &Gradebook) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let mut header = vec!["learner", "account", "score", "max_score", "grading_status"];
    header.extend(book.outline.steps.iter().map(|s| s.id.as_str()));
    header.extend(["graded_at", "self_reported", "self_reported_max", "notes"]);
    let _ = w.write_record(&header);
    for l in &book.learners {
        let mut row = vec![l.learner.clone(), l.account.clone()];
        let graded = l.report.as_ref().filter(|_| l.is_graded());
        match graded {
            Some(r) => {
                row.extend([r.score.to_string(), r.max_score.to_string(), l.grading_status.clone()]);
                for step in &book.outline.steps {
                    row.push(
                        graded_step(r, &step.id)
                            .map(|s| s.score.to_string())
                            .unwrap_or_default(),
                    );
                }
            }
            None => {
                row.extend([String::new(), String::new(), l.grading_status.clone()]);
                row.extend(book.outline.steps.iter().map(|_| String::new()));
            }
        }
        row.push(l.graded_at.clone());
        match graded {
            Some(_) => row.extend([l.self_reported_score.to_string(), l.self_reported_max.to_string()]),
            None => row.extend([String::new(), String::new()]),
        }
        row.push(notes(l));
        let _ = w.write_record(&row);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

fn notes(l: &LearnerResult) -> String {
    let mut notes = l.notes.clone();
    if !l.self_reported.is_empty() {
        notes.insert(0, format!("self-reported: {}", l.self_reported.join(", ")));
    }
    if let Some(note) = on_the_codes_word(l) {
        notes.push(note);
    }
    notes.join("; ")
}

/// The checks a learner passed on what their own code reported when the
/// grader ran it (the report's `basis`): its word, not a proof.
fn on_the_codes_word(l: &LearnerResult) -> Option<String> {
    let ids: Vec<&str> = l
        .report
        .as_ref()?
        .checks()
        .filter(|c| c.status == Status::Pass && c.basis == Some(Basis::LearnerCode))
        .map(|c| c.id.as_str())
        .collect();
    (!ids.is_empty()).then(|| format!("passed on what the learner's code reported: {}", ids.join(", ")))
}

/// One test suite per learner, one test case per check; a learner who could
/// not be graded is one errored test case. A graded learner's suite carries
/// the verified and the self-reported points as properties.
fn junit(book: &Gradebook) -> String {
    let mut junit = Junit::new(format!("labcheck cohort {}", book.outline.lab));
    for l in &book.learners {
        let mut suite = TestSuite::new(l.learner.clone());
        if let Some(r) = l.report.as_ref().filter(|_| l.is_graded()) {
            for (name, value) in [
                ("score", r.score),
                ("max_score", r.max_score),
                ("self_reported", l.self_reported_score),
                ("self_reported_max", l.self_reported_max),
            ] {
                suite.add_property(quick_junit::Property::new(name, value.to_string()));
            }
        }
        match l.report.as_ref().filter(|_| l.is_graded()) {
            None => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                status.set_message(l.grading_status.clone());
                let mut case = TestCase::new("grading", status);
                case.set_classname(l.learner.clone());
                suite.add_test_case(case);
            }
            Some(r) => {
                for check in r.checks() {
                    let status = crate::report::junit::case_status(check);
                    let mut case = TestCase::new(check.id.clone(), status);
                    case.set_classname(format!("{}.{}", l.learner, check.id.split('.').next().unwrap_or("")));
                    case.set_time(Duration::from_millis(check.duration_ms));
                    if let Some(basis) = check.basis {
                        case.add_property(("basis", basis.as_str()));
                    }
                    if let Some(e) = l.excused.iter().find(|e| e.check == check.id) {
                        case.add_property(("excused", e.reason.as_str()));
                        case.set_system_out(format!("excused: {}", e.reason));
                    }
                    suite.add_test_case(case);
                }
            }
        }
        junit.add_test_suite(suite);
    }
    junit.to_string().unwrap_or_default()
}

/// Sorts a table when a header with class `sortable` is clicked: numbers as
/// numbers (from `data-v` when present), text as text.
const SORT_SCRIPT: &str = r#"
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th.sortable").forEach(function (th, col) {
    th.addEventListener("click", function () {
      var asc = th.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var key = function (row) {
        var cell = row.cells[col];
        var v = cell.hasAttribute("data-v") ? cell.getAttribute("data-v") : cell.textContent.trim();
        var n = parseFloat(v);
        return isNaN(n) || v === "" ? v.toLowerCase() : n;
      };
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        if (typeof x !== typeof y) { return (typeof x === "number" ? -1 : 1) * (asc ? 1 : -1); }
        return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"#;

/// The gradebook as one self-contained page.
fn html(book: &Gradebook) -> String {
    let t = &book.totals;
    let mut b = String::new();
    let _ = writeln!(
        b,
        "<h1>Gradebook: {}</h1>\n<p class=\"meta\"><span>roster {}</span>{}<span>generated {}</span></p>",
        escape(&book.outline.lab),
        escape(&book.roster.file),
        book.shard
            .as_ref()
            .map(|s| format!("<span>shard {}</span>", escape(s)))
            .unwrap_or_default(),
        escape(&book.generated_at)
    );
    let _ = writeln!(
        b,
        "<p><span class=\"score\">{} of {} learners graded</span> <span class=\"meta\"><span>{} could not be graded</span><span>{} passed every graded check</span><span>mean {:.1}%</span></span></p>",
        t.graded, t.learners, t.not_graded, t.all_passed, t.mean_percent
    );
    // Mid-week: who moved since the last grading, and who is stuck.
    if let Some(c) = &book.compared {
        b.push_str(&c.html());
    }

    // The checks the cohort fails most first: what to teach next.
    let mut stats: Vec<_> = book.checks.iter().collect();
    // Checks that ran for nobody (not reachable from the grader, or always
    // behind a failed check) last.
    stats.sort_by(|a, b| {
        (a.ran() == 0)
            .cmp(&(b.ran() == 0))
            .then(
                a.pass_rate
                    .partial_cmp(&b.pass_rate)
                    .unwrap_or(std::cmp::Ordering::Equal),
            )
            .then(a.id.cmp(&b.id))
    });
    b.push_str("<h2>Checks across the cohort</h2>\n<p class=\"meta\">Lowest pass rate first: what the cohort finds hardest. A rate counts the learners the check ran for; those skipped because a check it needs failed count against that check.</p>\n");
    b.push_str("<table class=\"sortable\" id=\"checks\"><thead><tr><th class=\"sortable\">check</th><th class=\"sortable\">title</th><th class=\"sortable num\">pass rate</th><th></th><th class=\"sortable num\">passed</th><th class=\"sortable num\">failed</th><th class=\"sortable num\">errors</th><th class=\"sortable num\">skipped</th><th class=\"sortable num\">not graded</th></tr></thead><tbody>\n");
    for s in stats {
        let _ = writeln!(
            b,
            "<tr><td><code>{}</code></td><td class=\"wide\">{}</td><td class=\"num\" data-v=\"{}\">{}</td><td><div class=\"bar\"><div style=\"width:{}%\"></div></div></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}{}</td></tr>",
            escape(&s.id),
            escape(&s.title),
            if s.ran() == 0 { -1.0 } else { s.pass_rate },
            if s.ran() == 0 {
                "–".to_string()
            } else {
                format!("{:.1}%", s.pass_rate)
            },
            s.pass_rate.clamp(0.0, 100.0),
            s.passed,
            s.failed,
            s.errors,
            s.skipped,
            s.not_graded,
            [(s.self_reported, "self-reported"), (s.excused, "excused"),]
                .iter()
                .filter(|(n, _)| *n > 0)
                .map(|(n, what)| format!(" ({n} {what})"))
                .collect::<String>()
        );
    }
    b.push_str("</tbody></table>\n");

    b.push_str("<h2>Learners</h2>\n<table class=\"sortable\" id=\"learners\"><thead><tr><th class=\"sortable\">learner</th><th class=\"sortable\">account</th><th class=\"sortable num\">score</th><th class=\"sortable num\">max</th><th class=\"sortable num\">%</th><th class=\"sortable num\" title=\"points from the learner's own report, not verified by the grader\">self-reported</th><th class=\"sortable\">status</th>");
    for step in &book.outline.steps {
        let _ = write!(b, "<th class=\"sortable num\">{}</th>", escape(&step.id));
    }
    b.push_str("</tr></thead><tbody>\n");
    for l in &book.learners {
        let report = l.report.as_ref().filter(|_| l.is_graded());
        let _ = write!(
            b,
            "<tr><td><a href=\"#learner-{}\">{}</a></td><td>{}</td>",
            l.index,
            escape(&l.learner),
            escape(&l.account)
        );
        match report {
            Some(r) => {
                let pct = if r.max_score == 0 {
                    100.0
                } else {
                    100.0 * r.score as f64 / r.max_score as f64
                };
                // Checks that could not be evaluated score nothing but say
                // nothing of the work: the row says so (the notes say why).
                let errors = r.not_evaluated().count();
                let status = match errors {
                    0 => "graded".to_string(),
                    n => format!(
                        "graded {} {n} check{} not evaluated",
                        badge(Status::Error),
                        if n == 1 { "" } else { "s" }
                    ),
                };
                let _ = write!(
                    b,
                    "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\" data-v=\"{pct:.1}\">{pct:.0}%</td><td class=\"num\" data-v=\"{}\">{}</td><td>{status}</td>",
                    r.score,
                    r.max_score,
                    l.self_reported_score,
                    if l.self_reported_max == 0 {
                        "–".to_string()
                    } else {
                        format!("{}/{}", l.self_reported_score, l.self_reported_max)
                    }
                );
                for step in &book.outline.steps {
                    match graded_step(r, &step.id) {
                        Some(s) => {
                            let _ = write!(
                                b,
                                "<td class=\"num\" data-v=\"{}\">{}/{}</td>",
                                s.score, s.score, s.max_score
                            );
                        }
                        None => b.push_str(
                            "<td class=\"num\" data-v=\"-1\" title=\"nothing in this step was graded for this learner\">–</td>",
                        ),
                    }
                }
            }
            None => {
                let _ = write!(
                    b,
                    "<td class=\"num\" data-v=\"-1\"></td><td class=\"num\" data-v=\"-1\"></td><td class=\"num\" data-v=\"-1\"></td><td class=\"num\" data-v=\"-1\"></td><td>{} {}</td>",
                    badge(Status::Error),
                    escape(&l.grading_status)
                );
                for _ in &book.outline.steps {
                    b.push_str("<td class=\"num\" data-v=\"-1\"></td>");
                }
            }
        }
        b.push_str("</tr>\n");
    }
    b.push_str("</tbody></table>\n");

    b.push_str("<h2>What each learner has left to do</h2>\n");
    for l in &book.learners {
        let _ = writeln!(
            b,
            "<details id=\"learner-{}\"{}><summary><strong>{}</strong> <span class=\"meta\"><span>{}</span><span>{}</span></span></summary>",
            l.index,
            if l.is_graded() { "" } else { " open" },
            escape(&l.learner),
            escape(&l.account),
            escape(&match l.report.as_ref().filter(|_| l.is_graded()) {
                Some(r) => format!("{}/{}", r.score, r.max_score),
                None => l.grading_status.clone(),
            })
        );
        if let Some(r) = l.report.as_ref().filter(|_| l.is_graded()) {
            let open: Vec<_> = r
                .checks()
                .filter(|c| matches!(c.status, Status::Fail | Status::Error))
                .collect();
            if open.is_empty() {
                b.push_str("<p>Every graded check passed.</p>\n");
            }
            for c in open {
                check_block(&mut b, c);
            }
        } else {
            let _ = writeln!(b, "<p>{}</p>", escape(&l.grading_status));
        }
        let n = notes(l);
        if !n.is_empty() {
            let _ = writeln!(b, "<div class=\"note\">{}</div>", escape(&n));
        }
        b.push_str("</details>\n");
    }
    page(&format!("labcheck gradebook {}", book.outline.lab), &b, SORT_SCRIPT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cohort::gradebook::tests::{learners, outline, roster_info};

    fn book() -> Gradebook {
        Gradebook::build(outline(), roster_info(), None, learners())
    }

    #[test]
    fn json_help_names_the_schema() {
        use clap::ValueEnum;
        let value = Format::Json.to_possible_value().unwrap();
        let help = value.get_help().unwrap().to_string();
        assert!(help.contains(crate::cohort::gradebook::SCHEMA), "{help}");
        assert!(
            !help.contains('[') && !help.contains('`'),
            "no rustdoc link in --help: {help}"
        );
    }

    #[test]
    fn csv_has_the_contract_columns_and_no_zero_for_errors() {
        let text = csv(&book());
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap(),
            "learner,account,score,max_score,grading_status,s3,graded_at,self_reported,self_reported_max,notes"
        );
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("ada,000000000000,2,8,graded,2,2026-11-29T10:00:00Z,0,0,")
        );
        assert_eq!(
            lines.next().unwrap(),
            "bob,000000000001,,,error: AssumeRole refused,,2026-11-29T10:00:00Z,,,"
        );
    }

    #[test]
    fn a_step_with_nothing_graded_is_empty_not_zero() {
        let mut g = book();
        // cy's s3 step: every check left out of the maximum (as a step of
        // data-plane checks is, graded from outside the learner's network).
        let report = g.learners[2].report.as_mut().unwrap();
        let step = report.steps.iter_mut().find(|s| s.id == "s3").unwrap();
        (step.score, step.max_score) = (0, 0);
        let text = csv(&g);
        let cy = text.lines().find(|l| l.starts_with("cy,")).unwrap();
        assert_eq!(cy.split(',').nth(5), Some(""), "{cy}");
        let ada = text.lines().find(|l| l.starts_with("ada,")).unwrap();
        assert_eq!(ada.split(',').nth(5), Some("2"), "{ada}");
        let html = html(&g);
        assert_eq!(html.matches("nothing in this step was graded").count(), 1, "{html}");
        assert!(html.contains(">2/8</td>"), "ada's cell");
    }

    #[test]
    fn a_pass_on_the_learners_code_is_marked_in_every_format() {
        let mut g = book();
        let report = g.learners[0].report.as_mut().unwrap();
        let bucket = report.steps[0].checks.iter_mut().find(|c| c.id == "s3.bucket").unwrap();
        bucket.basis = Some(Basis::LearnerCode);
        let mark = "passed on what the learner's code reported: s3.bucket";
        let text = csv(&g);
        let ada = text.lines().find(|l| l.starts_with("ada,")).unwrap();
        assert!(ada.ends_with(mark), "{ada}");
        assert_eq!(text.matches(mark).count(), 1, "{text}");
        assert!(html(&g).contains(&escape(mark)));
        assert!(json(&g).contains("\"basis\": \"learner-code\""));
        let xml = junit(&g);
        assert_eq!(
            xml.matches("<property name=\"basis\" value=\"learner-code\"").count(),
            1,
            "{xml}"
        );
    }

    #[test]
    fn junit_has_a_suite_per_learner() {
        let xml = junit(&book());
        assert_eq!(xml.matches("<testsuite ").count(), 3, "{xml}");
        assert!(xml.contains("AssumeRole refused"));
    }

    #[test]
    fn html_is_self_contained_and_escaped() {
        let mut g = book();
        g.learners[0].learner = "<b>ada</b>".into();
        let html = html(&g);
        assert!(html.contains("&lt;b&gt;ada&lt;/b&gt;") && !html.contains("<b>ada"));
        for remote in ["http://", "https://", "src=", "@import", "url("] {
            assert!(!html.contains(remote), "fetches nothing: found {remote}");
        }
        assert!(html.contains("id=\"checks\"") && html.contains("id=\"learners\""));
        // The sample report has one check that could not be evaluated: its row says so.
        assert_eq!(html.matches("1 check not evaluated</td>").count(), 2, "ada and cy");
    }

    /// Every control sequence a learner could put in a string: CSI, OSC
    /// (BEL- and ST-terminated, and cut short), a lone ESC, BEL, 8-bit CSI,
    /// a bidirectional override; and markup.
    const EVIL: &str = "\x1b[31m\x1b]0;pwned\x07\x1b]8;;https://x/\x1b\\<b>bold</b>\u{9b}2J\x07\u{202e}\x1b]52;c;eA==";

    fn assert_clean(what: &str, text: &str) {
        for bad in ['\x1b', '\x07', '\u{9b}', '\u{202e}'] {
            assert!(!text.contains(bad), "{what} holds {bad:?}");
        }
        for escaped in ["\\u001b", "\\u0007", "\\u009b", "&#27;", "&#x1b;", "&#7;"] {
            assert!(!text.contains(escaped), "{what} holds {escaped}");
        }
    }

    /// A report with the attacker's text in every string a learner can reach.
    fn evil_report() -> crate::report::Report {
        let mut r = crate::report::sample::report();
        r.identity = EVIL.into();
        r.account = EVIL.into();
        r.region = EVIL.into();
        r.started_at = EVIL.into();
        r.notes.push(EVIL.into());
        for step in &mut r.steps {
            step.title = EVIL.into();
            for c in &mut step.checks {
                for s in [&mut c.title, &mut c.message, &mut c.hint, &mut c.fix] {
                    *s = format!("{EVIL} {s}");
                }
                c.evidence = serde_json::json!({ EVIL: [EVIL, {"tag": EVIL}] });
            }
        }
        r
    }

    #[test]
    fn no_escape_sequence_from_a_learner_reaches_any_format_and_html_still_escapes() {
        let mut g = book();
        g.roster.file = EVIL.into();
        g.shard = Some(EVIL.into());
        for l in &mut g.learners {
            l.learner = format!("{EVIL}{}", l.learner);
            l.account = EVIL.into();
            l.region = EVIL.into();
            l.notes.push(format!(
                "self-report ignored: not a labcheck JSON report (unknown variant `{EVIL}`)"
            ));
            l.self_reported.push(EVIL.into());
            if l.is_graded() {
                l.report = Some(evil_report());
            } else {
                l.grading_status = format!("error: {EVIL}");
            }
        }
        for format in [
            Format::Csv,
            Format::Json,
            Format::Junit,
            Format::Html,
            Format::Canvas,
            Format::Moodle,
        ] {
            if format.is_lms() {
                for l in &mut g.learners {
                    l.identity.email = Some(format!("{EVIL}@x.edu"));
                }
            }
            let text = render(&g, format);
            assert_clean(&format!("{format:?} gradebook"), &text);
            assert!(text.contains("bold"), "{format:?}: the text around the sequences stays");
        }
        let html = render(&g, Format::Html);
        assert!(
            html.contains("&lt;b&gt;bold&lt;/b&gt;") && !html.contains("<b>bold"),
            "HTML escaping holds"
        );

        let r = evil_report();
        for format in [
            crate::report::Format::Human,
            crate::report::Format::Json,
            crate::report::Format::Junit,
            crate::report::Format::Html,
        ] {
            assert_clean(&format!("{format:?} report"), &crate::report::render(&r, format, false));
        }
        let html = crate::report::render(&r, crate::report::Format::Html, false);
        assert!(
            html.contains("&lt;b&gt;bold&lt;/b&gt;") && !html.contains("<b>bold"),
            "HTML escaping holds"
        );
    }
}
