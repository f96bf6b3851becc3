//! Quiz files: `quizzes/<quiz-id>.toml`, in the mdbook-quiz schema, so the
//! same file renders in the book and runs in the terminal.
//!
//! ```toml
//! [[questions]]
//! id = "session-store"                 # required by labcheck, unique in the course
//! type = "MultipleChoice"
//! prompt.prompt = "Where should sessions live? (Select TWO.)"   # Markdown
//! prompt.distractors = ["Amazon EC2", "AWS Elastic Beanstalk"]
//! answer.answer = ["Amazon ElastiCache", "Amazon MemoryDB"]     # a string, or a list: select all
//! context = "Why the answers are right, and why the others are not."
//!
//! [[questions]]
//! id = "redis-port"
//! type = "ShortAnswer"
//! prompt.prompt = "Which port does Redis listen on?"
//! answer.answer = "6379"
//! answer.alternatives = ["tcp/6379"]   # optional
//! context = "..."
//! ```
//!
//! What labcheck supports, all of it valid mdbook-quiz:
//!
//! - top level: `questions` (required), `title` (a labcheck extension that
//!   mdbook-quiz ignores: the one place a quiz's title is written, shown by
//!   `labcheck quiz`, `list`, `status` and the book; a file without one is
//!   titled with its id in words, [`title_from_id`]);
//! - every question: `id`, `type`, `prompt`, `answer`, `context`;
//! - `MultipleChoice`: `prompt.prompt`, `prompt.distractors`,
//!   `prompt.answerIndex` (fixed order, the answer at that index),
//!   `prompt.sortAnswers` (fixed order, sorted), `answer.answer`;
//! - `ShortAnswer`: `prompt.prompt`, `prompt.response` (`short`, `long` or
//!   `code`; the terminal asks for one line whatever it says),
//!   `answer.answer`, `answer.alternatives`. An answer matches when it equals
//!   one of them, ignoring case and surrounding white space as mdbook-quiz
//!   does (labcheck also ignores extra inner spaces and Markdown marks).
//!
//! Stricter than mdbook-quiz, because the terminal runner and scripted answer
//! files rely on it: `id` and `context` are required, unknown keys at any
//! level are errors (so are `Tracing` questions and `multipart`), and no
//! option may appear twice. mdbook-quiz also requires ids to be unique across
//! the whole book; [`check_unique_ids`] enforces that across the course.
//!
//! Every problem is reported at once, each with file, line and column; a
//! quiz with any problem is rejected whole. This module is the model; the
//! checks live in `quiz/validate.rs`.

mod validate;

use super::diagnostic::Diagnostics;
pub use validate::check_unique_ids;

/// A parsed, validated quiz.
#[derive(Clone, Debug, PartialEq)]
pub struct Quiz {
    /// The file stem: `knowledge-check` for `quizzes/knowledge-check.toml`.
    pub id: String,
    /// The file's `title`.
    pub title: String,
    /// Where the quiz came from, as shown in diagnostics.
    pub file: String,
    /// The questions, in file order.
    pub questions: Vec<Question>,
}

/// One question of a quiz.
#[derive(Clone, Debug, PartialEq)]
pub struct Question {
    /// Unique in the quiz; what an answers file names the question by.
    pub id: String,
    /// The prompt, Markdown.
    pub prompt: String,
    /// The explanation shown after answering, Markdown.
    pub context: String,
    /// The answer the question takes, and the right one.
    pub kind: Kind,
    /// 1-based line and column of the question's `id` value.
    pub id_at: (usize, usize),
}

/// What kind of answer a question takes.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// Pick one option, or all that apply.
    MultipleChoice(MultipleChoice),
    /// Type a short text.
    ShortAnswer(ShortAnswer),
}

/// A multiple-choice question.
#[derive(Clone, Debug, PartialEq)]
pub struct MultipleChoice {
    /// The right options (Markdown); more than one means "select all that apply".
    pub answers: Vec<String>,
    /// Whether `answer.answer` was a list: select all that apply, even with one right option.
    pub multi: bool,
    /// The wrong options (Markdown).
    pub distractors: Vec<String>,
    /// `prompt.answerIndex`: no shuffling, the answer goes at this index.
    pub answer_index: Option<usize>,
    /// `prompt.sortAnswers`: no shuffling, options sorted by text.
    pub sort_answers: bool,
}

/// A short-answer question: the typed text must match one of the accepted answers.
#[derive(Clone, Debug, PartialEq)]
pub struct ShortAnswer {
    /// The right answer, as shown after answering.
    pub answer: String,
    /// Other answers accepted as right.
    pub alternatives: Vec<String>,
}

impl Quiz {
    /// The question with this id.
    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.id == id)
    }

    /// Parses and validates a quiz file. `id` is the quiz id (the file stem).
    pub fn parse(id: &str, file: &str, text: &str) -> Result<Quiz, Diagnostics> {
        validate::parse(id, file, text)
    }
}

impl Question {
    /// The right answers (Markdown): the options to select, or the short answer.
    pub fn expected(&self) -> Vec<&str> {
        match &self.kind {
            Kind::MultipleChoice(mc) => mc.answers.iter().map(String::as_str).collect(),
            Kind::ShortAnswer(sa) => vec![sa.answer.as_str()],
        }
    }

    /// A "select all that apply" question.
    pub fn is_multi(&self) -> bool {
        matches!(&self.kind, Kind::MultipleChoice(mc) if mc.multi)
    }
}

/// The title of a quiz file without a `title` key: its id in words
/// (`my_extra-quiz` is "My extra quiz"). The course's own quizzes all have one.
pub fn title_from_id(id: &str) -> String {
    let words = id.replace(['-', '_'], " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Markdown as plain text: emphasis and code marks dropped, line breaks as spaces.
pub fn plain(markdown: &str) -> String {
    use pulldown_cmark::{Event, Parser, TagEnd};
    let mut out = String::new();
    for event in Parser::new(markdown) {
        match event {
            Event::Text(t) | Event::Code(t) | Event::InlineHtml(t) | Event::Html(t) => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak => out.push(' '),
            Event::End(TagEnd::Paragraph | TagEnd::Item | TagEnd::CodeBlock | TagEnd::Heading(_)) => out.push('\n'),
            _ => {}
        }
    }
    out.trim().to_string()
}

/// The form in which answers are compared: plain text, lower case, white
/// space collapsed. "`eb deploy`", "eb deploy" and " EB  Deploy " are equal.
pub fn normalize(markdown: &str) -> String {
    plain(markdown)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_from_the_id() {
        assert_eq!(title_from_id("my_extra-quiz"), "My extra quiz");
        assert_eq!(title_from_id(""), "");
    }

    #[test]
    fn normalizes_for_comparison() {
        assert_eq!(normalize("`eb deploy`"), "eb deploy");
        assert_eq!(normalize("  EB\n  Deploy "), "eb deploy");
        assert_eq!(normalize("**Amazon** ElastiCache"), "amazon elasticache");
        assert_eq!(plain("Use `rediss://` for *TLS*"), "Use rediss:// for TLS");
    }
}
