//! "Check my progress": a panel at the end of every step of a lab chapter
//! (a level-2 heading with an `{#id}` whose section holds check blocks), and
//! one for the whole lab after the last of them.
//!
//! The panel is what the page shows as static files: the command that
//! checks the step (`labcheck check s3`), which mdBook gives a copy button.
//! Served by `labcheck book serve`, the book's `labcheck-progress.js` adds
//! the button that runs the step's checks and the results, from the same
//! panel's `data-step`; there is one source for both.

use super::escape;
use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd};
use std::ops::Range;

/// One step section of a chapter.
#[derive(Debug, PartialEq, Eq)]
pub struct Section {
    /// The heading's `{#id}`: the step id.
    pub id: String,
    /// The heading's text.
    pub title: String,
    /// From the heading to the next level-1 or level-2 heading (or the end).
    pub range: Range<usize>,
}

/// The step sections of a chapter: level-2 headings with an id.
pub fn sections(text: &str) -> Vec<Section> {
    let mut found: Vec<Section> = Vec::new();
    let mut events = Parser::new_ext(text, super::markdown_options()).into_offset_iter();
    let mut open: Option<usize> = None;
    while let Some((event, range)) = events.next() {
        let Event::Start(Tag::Heading { level, id, .. }) = event else {
            continue;
        };
        if level > HeadingLevel::H2 {
            continue;
        }
        if let Some(i) = open.take() {
            found[i].range.end = range.start;
        }
        let mut title = String::new();
        for (e, _) in events.by_ref() {
            match e {
                Event::End(TagEnd::Heading(_)) => break,
                Event::Text(t) | Event::Code(t) => title.push_str(&t),
                _ => {}
            }
        }
        if let (HeadingLevel::H2, Some(id)) = (level, id) {
            open = Some(found.len());
            found.push(Section {
                id: id.to_string(),
                title,
                range: range.start..text.len(),
            });
        }
    }
    found
}

/// What a panel checks: one step, or the whole lab.
pub enum Scope<'a> {
    /// A step.
    Step {
        /// The step's id.
        id: &'a str,
        /// The step's title.
        title: &'a str,
    },
    /// Every step of the lab.
    Lab,
}

/// The panel's HTML (one HTML block, no blank line inside); `checks` and
/// `points` say what it grades.
pub fn html(scope: &Scope, checks: usize, points: u32) -> String {
    let (step, title, command, anchor) = match scope {
        Scope::Step { id, title } => (
            escape(id),
            escape(title),
            format!("labcheck check {}", escape(id)),
            format!("progress-{}", super::lab::anchor(id).trim_start_matches("check-")),
        ),
        Scope::Lab => (
            String::new(),
            "The whole lab".to_string(),
            "labcheck check".to_string(),
            "progress-lab".to_string(),
        ),
    };
    let checks = if checks == 1 {
        "1 check".to_string()
    } else {
        format!("{checks} checks")
    };
    let points = if points == 1 {
        "1 point".to_string()
    } else {
        format!("{points} points")
    };
    format!(
        "<div class=\"labcheck-progress\" id=\"{anchor}\" data-step=\"{step}\" role=\"region\" aria-label=\"Check my progress: {title}\">\n\
         <p class=\"labcheck-progress-title\"><span class=\"labcheck-progress-badge\">Check my progress</span> \
         <strong>{title}</strong> <span class=\"labcheck-progress-size\">{checks} · {points}</span></p>\n\
         <p class=\"labcheck-progress-how\">From your project folder, with your AWS configuration, run:</p>\n\
         <pre class=\"labcheck-progress-command\"><code class=\"language-bash\">{command}</code></pre>\n\
         <p class=\"labcheck-progress-serve\">With <code>labcheck book serve</code> running in that folder, \
         this book checks your work in the page.</p>\n\
         </div>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_step_sections() {
        let text = "# Lab\n\n## Intro\n\nx\n\n## S3 `bucket` {#s3}\n\n### Sub\n\ny\n\n## Cache {#cache}\n\nz\n";
        let found = sections(text);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].id, "s3");
        assert_eq!(found[0].title, "S3 bucket");
        assert_eq!(
            &text[found[0].range.clone()],
            "## S3 `bucket` {#s3}\n\n### Sub\n\ny\n\n"
        );
        assert_eq!(&text[found[1].range.clone()], "## Cache {#cache}\n\nz\n");
    }

    #[test]
    fn the_panel_shows_the_command() {
        let html = html(
            &Scope::Step {
                id: "s3",
                title: "S3 <b>",
            },
            5,
            10,
        );
        assert!(html.contains("data-step=\"s3\""));
        assert!(html.contains("<code class=\"language-bash\">labcheck check s3</code>"));
        assert!(html.contains("S3 &lt;b&gt;"));
        assert!(html.contains("5 checks · 10 points"));
        assert!(!html.contains("\n\n"));
        assert!(!html.contains("<button"), "buttons come from the script, when served");
        let lab = super::html(&Scope::Lab, 1, 1);
        assert!(lab.contains("data-step=\"\"") && lab.contains(">labcheck check</code>"));
        assert!(lab.contains("1 check · 1 point"));
    }
}
