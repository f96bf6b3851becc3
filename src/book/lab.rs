//! Lab pages: check blocks as callouts, and the checker reference table.

use super::escape;
use crate::checks::{self, CheckKind};
use crate::course::diagnostic::Diagnostics;
use crate::course::lab::{self as course_lab, CheckSpec, Lab, Vocabulary};
use std::collections::HashMap;
use std::fmt::Write;

/// Parses a chapter's check block with the checker's own parser
/// ([`course_lab::parse_check`]): a block that `labcheck check` would reject
/// fails the book too, with the chapter's file, line and column.
/// `fence_start` is the byte offset of the block's opening fence in `text`.
pub fn parse_block(text: &str, fence_start: usize, body: &str, file: &str) -> Result<CheckSpec, Diagnostics> {
    let kinds = checks::kind_ids();
    let params = crate::params::names();
    let is_kind = |k: &str| checks::find(k).is_some();
    let vocab = Vocabulary {
        is_kind: &is_kind,
        kinds,
        params: &params,
    };
    course_lab::parse_check(text, fence_start, body, file, &vocab)
}

fn points(n: u32) -> String {
    if n == 1 {
        "1 point".into()
    } else {
        format!("{n} points")
    }
}

/// The HTML anchor of a check's callout: `check-s3-cors`.
pub fn anchor(id: &str) -> String {
    let slug: String = id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' })
        .collect();
    format!("check-{slug}")
}

/// What passes, from the check kind's metadata.
fn passes(kind: &str) -> &'static str {
    checks::find(kind).map_or("", |k| k.passes)
}

/// The callout that replaces a check block.
pub fn callout(check: &CheckSpec) -> String {
    let id = escape(&check.id);
    let mut html = format!(
        "<div class=\"labcheck-callout\" id=\"{}\">\n\
         <p class=\"labcheck-callout-title\"><span class=\"labcheck-callout-badge\">Check</span> \
         <strong>{}</strong> <span class=\"labcheck-callout-points\">{}</span></p>\n",
        anchor(&check.id),
        escape(&check.title),
        points(check.points),
    );
    let passes = passes(&check.kind);
    if !passes.is_empty() {
        let _ = writeln!(
            html,
            "<p class=\"labcheck-callout-passes\"><strong>Passes when</strong> {}</p>",
            super::quiz::inline_markdown(passes)
        );
    }
    let _ = write!(html, "<p class=\"labcheck-callout-meta\">Check id <code>{id}</code>");
    if !check.needs.is_empty() {
        let needs: Vec<String> = check
            .needs
            .iter()
            .map(|n| format!("<code>{}</code>", escape(n)))
            .collect();
        let _ = write!(html, " · runs after {}", needs.join(", "));
    }
    let _ = write!(
        html,
        "</p>\n<pre class=\"labcheck-callout-command\"><code class=\"language-bash\">labcheck check {id}</code></pre>\n</div>"
    );
    html
}

/// The checker reference: every check of the lab, step by step, with what
/// passes, the IAM actions it calls and whether it connects inside the VPC.
/// `links` maps a check id to its callout's page (relative to the page the
/// table goes on).
pub fn reference(lab: &Lab, links: &HashMap<String, String>) -> String {
    let mut html = format!(
        "<div class=\"labcheck-reference\" data-lab=\"{}\">\n<table>\n\
         <thead><tr><th>Check</th><th>Points</th><th>Passes when</th><th>IAM actions it calls</th>\
         <th>Data plane</th></tr></thead>\n<tbody>\n",
        escape(&lab.id)
    );
    for step in &lab.steps {
        if step.checks.is_empty() {
            continue;
        }
        let _ = writeln!(
            html,
            "<tr class=\"labcheck-reference-step\"><th colspan=\"5\">{} <code>{}</code></th></tr>",
            escape(&step.title),
            escape(&step.id)
        );
        for check in &step.checks {
            let kind: Option<&CheckKind> = checks::find(&check.kind);
            let id = escape(&check.id);
            let id_html = match links.get(&check.id) {
                Some(page) => format!(
                    "<a href=\"{}#{}\"><code>{id}</code></a>",
                    escape(page),
                    anchor(&check.id)
                ),
                None => format!("<code>{id}</code>"),
            };
            let actions = match kind.map(|k| k.iam_actions).unwrap_or_default() {
                [] => "none".to_string(),
                list => list
                    .iter()
                    .map(|a| format!("<code>{}</code>", escape(a)))
                    .collect::<Vec<_>>()
                    .join("<br>"),
            };
            let plane = if kind.is_some_and(|k| k.data_plane) {
                "yes: run inside the VPC"
            } else {
                "no"
            };
            let _ = writeln!(
                html,
                "<tr id=\"reference-{}\"><td>{id_html}<br>{}</td><td>{}</td><td>{}</td><td>{actions}</td><td>{plane}</td></tr>",
                anchor(&check.id).trim_start_matches("check-"),
                escape(&check.title),
                check.points,
                super::quiz::inline_markdown(kind.map_or("", |k| k.passes)),
            );
        }
    }
    html.push_str("</tbody>\n</table>\n</div>");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callout_shows_the_check() {
        let body = "id = \"s3.cors\"\ntitle = \"CORS <ok>\"\nkind = \"s3.cors\"\npoints = 2\nneeds = [\"s3.bucket\"]\nhint = \"h\"\n";
        let text = format!("```check\n{body}```\n");
        let check = parse_block(&text, 0, body, "lab.md").unwrap();
        let html = callout(&check);
        assert!(html.contains("id=\"check-s3-cors\""));
        assert!(html.contains("labcheck check s3.cors"));
        assert!(html.contains("CORS &lt;ok&gt;"));
        assert!(html.contains("2 points"));
        assert!(html.contains("Passes when</strong> a CORS rule allows GET"), "{html}");
        assert!(html.contains("<code>*</code>"), "{html}");
        assert!(!html.contains("\n\n"));
    }

    #[test]
    fn a_block_the_checker_rejects_is_rejected_here_too() {
        // A misspelt field, which a lenient reader would silently ignore.
        let body = "id = \"s3.cors\"\ntitle = \"T\"\nkind = \"s3.cors\"\nhint = \"h\"\npionts = 2\n";
        let text = format!("# Lab\n\n```check\n{body}```\n");
        let at = text.find("```").unwrap();
        let err = parse_block(&text, at, body, "lab.md").unwrap_err().to_string();
        assert!(err.contains("lab.md:8:1") && err.contains("pionts"), "{err}");
        // No hint: the checker needs one to tell a learner what to do.
        let body = "id = \"s3.cors\"\ntitle = \"T\"\nkind = \"s3.cors\"\n";
        let text = format!("```check\n{body}```\n");
        assert!(parse_block(&text, 0, body, "lab.md").is_err());
    }
}
