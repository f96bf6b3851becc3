//! HTML pages: one self-contained file each (inline style and script, no
//! fonts, images or anything else fetched), in the course book's look. The
//! lab report of `labcheck check --format html` lives here, with the pieces
//! the cohort gradebook's page shares (page shell, escaping, status badges).

use super::{CheckReport, Report, Status};
use std::fmt::Write;

/// The book's look: mdBook's light theme, system fonts.
const STYLE: &str = r#"
:root { --fg: #262625; --muted: #6e6e6e; --bg: #fff; --panel: #fafafa; --line: #e4e4e4;
  --link: #20609f; --pass: #1f7a35; --fail: #b3261e; --error: #9a5b00; --skip: #6e6e6e; --code: #f6f7f6; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 16px/1.55 "Open Sans", -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 1.9em; margin: 0.4em 0 0.2em; } h2 { font-size: 1.35em; margin: 1.6em 0 0.5em;
  padding-bottom: 0.2em; border-bottom: 1px solid var(--line); }
.meta { color: var(--muted); font-size: 0.92em; }
.meta span + span::before { content: " · "; }
code, .cmd { font-family: "Source Code Pro", Consolas, "Ubuntu Mono", Menlo, monospace; font-size: 0.88em;
  background: var(--code); border-radius: 3px; padding: 0.1em 0.3em; }
.cmd { display: block; padding: 0.5em 0.8em; white-space: pre-wrap; word-break: break-all; margin: 0.3em 0; }
table { border-collapse: collapse; width: 100%; margin: 0.6em 0; font-size: 0.94em; }
th, td { text-align: left; padding: 0.35em 0.6em; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--panel); font-weight: 600; white-space: nowrap; }
th.sortable { cursor: pointer; user-select: none; } th.sortable::after { content: " ↕"; color: var(--muted); font-weight: 400; }
th[aria-sort="ascending"]::after { content: " ↑"; } th[aria-sort="descending"]::after { content: " ↓"; }
td.wide { min-width: 12em; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; min-width: 3.6em; text-align: center; font-size: 0.78em; font-weight: 700;
  letter-spacing: 0.03em; text-transform: uppercase; border-radius: 3px; padding: 0.1em 0.4em; color: #fff; }
.pass { background: var(--pass); } .fail { background: var(--fail); } .error { background: var(--error); }
.skip { background: var(--skip); }
.check { border: 1px solid var(--line); border-left: 4px solid var(--line); border-radius: 4px; padding: 0.5em 0.8em; margin: 0.5em 0; }
.check.s-pass { border-left-color: var(--pass); } .check.s-fail { border-left-color: var(--fail); }
.check.s-error { border-left-color: var(--error); } .check.s-skip { border-left-color: var(--skip); }
.check .title { font-weight: 600; } .check .id { color: var(--muted); font-size: 0.9em; margin-left: 0.4em; }
.label { font-weight: 600; margin-right: 0.3em; }
.bar { background: var(--panel); border: 1px solid var(--line); border-radius: 3px; height: 0.9em; min-width: 80px; }
.bar > div { background: var(--pass); height: 100%; }
.note { background: #f1f6fb; border-left: 4px solid var(--link); padding: 0.5em 0.8em; margin: 0.6em 0; }
details > summary { cursor: pointer; }
.score { font-size: 1.3em; font-weight: 700; }
"#;

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole page around `body`; `script` is inline JavaScript (may be empty).
pub fn page(title: &str, body: &str, script: &str) -> String {
    let script = if script.is_empty() {
        String::new()
    } else {
        format!("<script>{script}</script>\n")
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{body}</main>\n{script}</body>\n</html>\n",
        escape(title)
    )
}

/// A status as a coloured badge.
pub fn badge(status: Status) -> String {
    format!("<span class=\"badge {0}\">{0}</span>", status.as_str())
}

/// One check: status, title, message, and hint and fix when it did not pass.
pub fn check_block(out: &mut String, check: &CheckReport) {
    let _ = write!(
        out,
        "<div class=\"check s-{}\" id=\"{}\">{} <span class=\"title\">{}</span><span class=\"id\">{}</span>",
        check.status.as_str(),
        escape(&check.id),
        badge(check.status),
        escape(&check.title),
        escape(&check.id)
    );
    if !check.message.is_empty() {
        let _ = write!(out, "<div>{}</div>", escape(&check.message));
    }
    if matches!(check.status, Status::Fail | Status::Error) {
        if !check.hint.is_empty() {
            let _ = write!(
                out,
                "<div><span class=\"label\">Hint</span>{}</div>",
                escape(&check.hint)
            );
        }
        if !check.fix.is_empty() && check.status == Status::Fail {
            let _ = write!(
                out,
                "<div><span class=\"label\">Fix</span><code class=\"cmd\">{}</code></div>",
                escape(&check.fix)
            );
        }
    }
    out.push_str("</div>\n");
}

/// `labcheck check --format html`: the whole report on one page.
pub fn render(report: &Report) -> String {
    let mut body = String::new();
    let _ = writeln!(
        body,
        "<h1>labcheck: {}</h1>\n<p class=\"meta\"><span>account {}</span><span>{}</span><span>{}</span><span>{:.1}s</span></p>",
        escape(&report.lab),
        escape(if report.account.is_empty() {
            "unknown"
        } else {
            &report.account
        }),
        escape(if report.region.is_empty() {
            "no Region"
        } else {
            &report.region
        }),
        escape(&report.started_at),
        report.duration_ms as f64 / 1000.0
    );
    let _ = writeln!(
        body,
        "<p><span class=\"score\">{}/{}</span> <span class=\"meta\"><span>{} passed</span><span>{} failed</span><span>{} could not be checked</span><span>{} skipped</span></span></p>",
        report.score,
        report.max_score,
        report.count(Status::Pass),
        report.count(Status::Fail),
        report.count(Status::Error),
        report.count(Status::Skip)
    );
    for step in &report.steps {
        let _ = writeln!(
            body,
            "<h2>{} <span class=\"meta\">[{}] {}/{}</span></h2>",
            escape(&step.title),
            escape(&step.id),
            step.score,
            step.max_score
        );
        for check in &step.checks {
            check_block(&mut body, check);
        }
    }
    for note in &report.notes {
        let _ = writeln!(body, "<div class=\"note\">{}</div>", escape(note));
    }
    page(&format!("labcheck {} report", report.lab), &body, "")
}

#[cfg(test)]
mod tests {
    use super::super::sample;

    #[test]
    fn self_contained_escaped_with_hint_and_fix() {
        let mut r = sample::report();
        r.steps[0].checks[1].message = "<script>alert(1)</script>".into();
        let html = super::render(&r);
        assert!(html.contains("&lt;script&gt;alert(1)"), "escaped");
        assert!(!html.contains("<script>alert"), "no injected script");
        assert!(html.contains("fix-s3.cors --bucket b") && html.contains("hint for s3.cors"));
        for remote in ["http://", "https://", "src=", "@import", "url("] {
            assert!(!html.contains(remote), "fetches nothing: found {remote}");
        }
    }
}
