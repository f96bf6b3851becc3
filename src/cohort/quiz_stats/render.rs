//! The quiz report's formats: csv (a row per question, for a spreadsheet),
//! json (`labcheck/quiz-stats-v1`) and html (one self-contained page in the
//! course book's look, worst question first, each with its prompt).

use super::{QuestionStats, QuizStats, TOO_EASY, TOO_HARD};
use crate::report::html::{escape, page};

/// The report's formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A row per question.
    Csv,
    /// `labcheck/quiz-stats-v1`.
    Json,
    /// One self-contained page.
    Html,
}

/// The report in `format`.
pub fn render(stats: &QuizStats, format: Format) -> String {
    match format {
        Format::Csv => csv(stats),
        Format::Json => {
            let mut text = serde_json::to_string_pretty(stats).expect("serializes");
            text.push('\n');
            text
        }
        Format::Html => html(stats),
    }
}

/// The CSV columns, in order.
pub const CSV_COLUMNS: &[&str] = &[
    "quiz",
    "question",
    "learners",
    "attempts",
    "first_try_right",
    "discrimination",
    "top_wrong",
    "top_wrong_count",
    "flags",
    "prompt",
];

/// A cell a spreadsheet will not run: text that opens with `=`, `+`, `-`,
/// `@` or a tab (a formula, to Excel and LibreOffice) gets a leading `'`.
/// Question ids and typed answers come from learners' files.
fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

fn csv(stats: &QuizStats) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(CSV_COLUMNS).expect("in memory");
    for q in &stats.questions {
        let (wrong, count) = match &q.top_wrong {
            Some((text, n)) => (text.clone(), n.to_string()),
            None => (String::new(), String::new()),
        };
        w.write_record([
            cell(&q.quiz),
            cell(&q.id),
            q.learners.to_string(),
            q.attempts.to_string(),
            format!("{:.3}", q.first_try_right),
            q.discrimination.map(|d| format!("{d:.3}")).unwrap_or_default(),
            cell(&wrong),
            count,
            q.flags.join(" "),
            cell(&q.prompt),
        ])
        .expect("in memory");
    }
    String::from_utf8(w.into_inner().expect("in memory")).expect("UTF-8")
}

/// What a flag means, for the page.
fn flag_text(flag: &str) -> String {
    match flag {
        "negative-discrimination" => {
            "negative discrimination: the stronger learners got it wrong more often; check the key".into()
        }
        "too-hard" => format!(
            "too hard: right on the first try {:.0} % of the time or less",
            TOO_HARD * 100.0
        ),
        "too-easy" => format!(
            "too easy: right on the first try {:.0} % of the time or more",
            TOO_EASY * 100.0
        ),
        other => other.into(),
    }
}

fn html(stats: &QuizStats) -> String {
    let mut body = format!(
        "<h1>What the cohort got wrong</h1>\n<p class=\"meta\"><span>{} learners</span><span>{} results</span><span>{} questions</span>{}</p>\n",
        stats.learners,
        stats.results,
        stats.questions.len(),
        if stats.skipped.is_empty() {
            String::new()
        } else {
            format!("<span>{} files skipped</span>", stats.skipped.len())
        }
    );
    body.push_str(
        "<p>Worst first: questions whose key looks wrong, then the hardest. <em>Discrimination</em> \
         is the correlation between getting the question right on the first try and the score on \
         the rest of the quiz: near 0 it tells nobody apart, below 0 the stronger learners miss it.</p>\n",
    );
    body.push_str(
        "<table>\n<thead><tr><th>Question</th><th class=\"num\">Learners</th><th class=\"num\">Attempts</th>\
         <th>First try right</th><th class=\"num\">Discrimination</th><th>Wrong answer chosen most</th></tr></thead>\n<tbody>\n",
    );
    for q in &stats.questions {
        body.push_str(&row(q));
    }
    body.push_str("</tbody>\n</table>\n");
    if !stats.skipped.is_empty() {
        body.push_str("<h2>Files skipped</h2>\n<ul>\n");
        for s in &stats.skipped {
            body.push_str(&format!(
                "<li><code>{}</code>: {}</li>\n",
                escape(&s.file),
                escape(&s.reason)
            ));
        }
        body.push_str("</ul>\n");
    }
    page("Quiz statistics", &body, "")
}

fn row(q: &QuestionStats) -> String {
    let share = q.first_try_right * 100.0;
    let flags: String = q
        .flags
        .iter()
        .map(|f| format!("<div class=\"note\">{}</div>", escape(&flag_text(f))))
        .collect();
    let prompt = if q.prompt.is_empty() {
        "<em>(not in this course's quiz)</em>".to_string()
    } else {
        escape(&q.prompt)
    };
    format!(
        "<tr><td class=\"wide\"><code>{}</code> <code>{}</code><br>{prompt}{flags}</td>\
         <td class=\"num\">{}</td><td class=\"num\">{}</td>\
         <td><div class=\"bar\" role=\"img\" aria-label=\"{share:.0} %\"><div style=\"width:{share:.0}%\"></div></div>{share:.0} %</td>\
         <td class=\"num\">{}</td><td>{}</td></tr>\n",
        escape(&q.quiz),
        escape(&q.id),
        q.learners,
        q.attempts,
        q.discrimination
            .map(|d| format!("{d:.2}"))
            .unwrap_or_else(|| "–".into()),
        match &q.top_wrong {
            Some((text, n)) => format!("{} <span class=\"meta\">({n}×)</span>", escape(text)),
            None => "–".into(),
        }
    )
}
