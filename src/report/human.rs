//! The console report: grouped by step, a mark per status, the hint and fix
//! under each failure, the score and the next thing to do at the end.

use super::{CheckReport, Report, Status};
use console::Style;
use std::fmt::Write;

struct Palette {
    pass: Style,
    fail: Style,
    error: Style,
    skip: Style,
    bold: Style,
    dim: Style,
    cmd: Style,
}

impl Palette {
    fn new(color: bool) -> Self {
        let s = |style: Style| style.force_styling(color);
        Palette {
            pass: s(Style::new().green()),
            fail: s(Style::new().red().bold()),
            error: s(Style::new().yellow().bold()),
            skip: s(Style::new().dim()),
            bold: s(Style::new().bold()),
            dim: s(Style::new().dim()),
            cmd: s(Style::new().cyan()),
        }
    }

    fn mark(&self, status: Status) -> String {
        match status {
            Status::Pass => self.pass.apply_to("✓").to_string(),
            Status::Fail => self.fail.apply_to("✗").to_string(),
            Status::Error => self.error.apply_to("!").to_string(),
            Status::Skip => self.skip.apply_to("-").to_string(),
        }
    }
}

/// Renders a report for a person at a terminal.
pub fn render(report: &Report, color: bool) -> String {
    let p = Palette::new(color);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} · account {} · {}",
        p.bold.apply_to("labcheck"),
        report.lab,
        report.account,
        report.region
    );
    if !report.identity.is_empty() {
        let _ = writeln!(out, "{}", p.dim.apply_to(format!("as {}", report.identity)));
    }
    let id_width = report.checks().map(|c| c.id.len()).max().unwrap_or(0);
    for step in &report.steps {
        let _ = writeln!(
            out,
            "\n{} {}  {}",
            p.bold.apply_to(&step.title),
            p.dim.apply_to(format!("[{}]", step.id)),
            p.bold.apply_to(format!("{}/{}", step.score, step.max_score))
        );
        for check in &step.checks {
            render_check(&mut out, check, id_width, &p);
        }
    }
    for note in &report.notes {
        let _ = writeln!(out, "\n{} {note}", p.bold.apply_to("note:"));
    }
    let _ = writeln!(out);
    let mut parts = vec![format!("{} passed", report.count(Status::Pass))];
    for (status, word, style) in [
        (Status::Fail, "failed", &p.fail),
        (Status::Error, "could not be checked", &p.error),
        (Status::Skip, "skipped", &p.skip),
    ] {
        let n = report.count(status);
        if n > 0 {
            parts.push(style.apply_to(format!("{n} {word}")).to_string());
        }
    }
    let _ = writeln!(
        out,
        "{} {}/{} · {} · {:.1}s",
        p.bold.apply_to("Score"),
        report.score,
        report.max_score,
        parts.join(" · "),
        report.duration_ms as f64 / 1000.0
    );
    let _ = writeln!(out, "{}", next_step(report, &p));
    out
}

fn render_check(out: &mut String, check: &CheckReport, id_width: usize, p: &Palette) {
    let _ = write!(
        out,
        "  {} {:id_width$}  {}",
        p.mark(check.status),
        check.id,
        check.title
    );
    match check.status {
        Status::Pass => {
            let _ = writeln!(out, "  {}", p.dim.apply_to(&check.message));
        }
        Status::Skip => {
            let _ = writeln!(
                out,
                "\n      {}",
                p.skip.apply_to(format!("skipped: {}", check.message))
            );
        }
        Status::Fail | Status::Error => {
            let _ = writeln!(out);
            for line in check.message.lines() {
                let _ = writeln!(out, "      {line}");
            }
            if !check.hint.is_empty() {
                let _ = writeln!(out, "      {} {}", p.bold.apply_to("hint:"), check.hint);
            }
            if !check.fix.is_empty() && check.status == Status::Fail {
                let _ = writeln!(out, "      {} {}", p.bold.apply_to("fix: "), p.cmd.apply_to(&check.fix));
            }
        }
    }
}

/// One line that tells the learner what to do next.
fn next_step(report: &Report, p: &Palette) -> String {
    let first = |status| report.checks().find(|c| c.status == status);
    if let Some(c) = first(Status::Fail) {
        format!(
            "Next: fix {}, then run {}",
            c.id,
            p.cmd.apply_to(format!("labcheck check {}", c.id))
        )
    } else if let Some(c) = first(Status::Error) {
        format!(
            "Next: {} could not be checked; see its message, then run {}",
            c.id,
            p.cmd.apply_to(format!("labcheck check {}", c.id))
        )
    } else if report.count(Status::Skip) > 0 {
        "All graded checks passed; some were skipped (see above).".to_string()
    } else {
        format!("{} Every check passed.", p.pass.apply_to("Well done!"))
    }
}

#[cfg(test)]
mod tests {
    use super::super::sample;
    use super::*;

    #[test]
    fn shows_marks_hints_fix_and_next_step() {
        let text = render(&sample::report(), false);
        assert!(text.contains("✓ s3.bucket "), "{text}");
        assert!(text.contains("✗ s3.cors "), "{text}");
        assert!(text.contains("hint: hint for s3.cors"), "{text}");
        assert!(text.contains("fix:  fix-s3.cors --bucket b"), "{text}");
        assert!(text.contains("skipped: needs s3.cors"), "{text}");
        assert!(text.contains("Score 2/8"), "{text}");
        assert!(
            text.contains("Next: fix s3.cors, then run labcheck check s3.cors"),
            "{text}"
        );
        assert!(!text.contains('\x1b'), "no colour when disabled");
    }

    #[test]
    fn colour_when_asked() {
        assert!(render(&sample::report(), true).contains('\x1b'));
    }
}
