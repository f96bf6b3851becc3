//! Where each learner stands since an earlier grading of the same lab
//! (`--compare`): the comparison a gradebook carries (`compared`), its
//! one-line summary and its section of the html page. `compare.rs` makes it.

use crate::report::html::escape;
use serde::{Deserialize, Serialize};
use std::fmt::Write;

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
