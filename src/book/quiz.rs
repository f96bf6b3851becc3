//! `{{#quiz PATH}}`: a quiz file (mdbook-quiz schema) turned into an
//! interactive quiz embedded in the page.
//!
//! The questions travel as JSON inside `<script type="application/json">`, so
//! the page works offline and from `file://`; `quiz.js` (shipped with the
//! book) renders them. Markdown (prompts, options, explanations) is rendered
//! to HTML here, with pulldown-cmark, so the browser needs no Markdown parser.

use crate::course::diagnostic::Diagnostics;
use crate::course::quiz::{Kind, Quiz, normalize, plain};
use serde::Serialize;
use std::path::Path;

/// A quiz as the page's script sees it.
#[derive(Debug, Serialize)]
pub struct PageQuiz {
    /// The quiz id: the file's stem (`media-s3`).
    pub id: String,
    /// The quiz file's `title`, shown above the questions.
    pub title: String,
    /// The questions, in the quiz file's order.
    pub questions: Vec<PageQuestion>,
}

/// One question as the page's script sees it.
#[derive(Debug, Serialize)]
pub struct PageQuestion {
    /// The question's id.
    pub id: String,
    /// `MultipleChoice` or `ShortAnswer`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The prompt, as HTML.
    pub prompt: String,
    /// MultipleChoice: more than one option is right ("select all that apply").
    pub multi: bool,
    /// MultipleChoice: the options are in the quiz's order (`answerIndex`,
    /// `sortAnswers`); otherwise the script shuffles them.
    pub fixed: bool,
    /// MultipleChoice: the options: answers first, then distractors, for the
    /// script to shuffle; when `fixed`, already in the order to show.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<PageOption>,
    /// ShortAnswer: the accepted answers, normalized as `labcheck quiz` does
    /// (plain text, lower case, white space collapsed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub accepted: Vec<String>,
    /// ShortAnswer: the answer as the quiz file writes it (plain text, case
    /// kept), which is what a wrong answer is shown, as in `labcheck quiz`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub expected: String,
    /// The explanation shown after answering, as HTML.
    pub context: String,
}

/// One option of a multiple-choice question.
#[derive(Debug, Serialize)]
pub struct PageOption {
    /// The option's text, as HTML.
    pub html: String,
    /// Whether it is one of the right answers.
    pub correct: bool,
    #[serde(skip)]
    text: String,
}

impl PageOption {
    /// The option's text, Markdown, as the quiz file writes it.
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// Parses and validates a quiz file (with the course's quiz parser, the one
/// `labcheck quiz` uses) and renders it for the page; `file` is the name
/// shown in errors.
pub fn parse(id: &str, file: &str, text: &str) -> Result<PageQuiz, Diagnostics> {
    let quiz = Quiz::parse(id, file, text)?;
    Ok(page(&quiz))
}

/// The page's view of a validated quiz.
pub fn page(quiz: &Quiz) -> PageQuiz {
    let questions = quiz
        .questions
        .iter()
        .map(|q| match &q.kind {
            Kind::MultipleChoice(mc) => {
                let mut options: Vec<PageOption> = mc
                    .answers
                    .iter()
                    .map(|a| (a, true))
                    .chain(mc.distractors.iter().map(|d| (d, false)))
                    .map(|(text, correct)| PageOption {
                        html: inline_markdown(text),
                        correct,
                        text: text.clone(),
                    })
                    .collect();
                let mut fixed = false;
                if mc.sort_answers {
                    options.sort_by(|a, b| a.text.cmp(&b.text));
                    fixed = true;
                } else if let Some(at) = mc.answer_index {
                    // One answer, placed at `at` among the distractors.
                    let answer = options.remove(0);
                    options.insert(at.min(options.len()), answer);
                    fixed = true;
                }
                PageQuestion {
                    id: q.id.clone(),
                    kind: "MultipleChoice",
                    prompt: markdown(&q.prompt),
                    multi: q.is_multi(),
                    fixed,
                    options,
                    accepted: Vec::new(),
                    expected: String::new(),
                    context: markdown(&q.context),
                }
            }
            Kind::ShortAnswer(sa) => PageQuestion {
                id: q.id.clone(),
                kind: "ShortAnswer",
                prompt: markdown(&q.prompt),
                multi: false,
                fixed: false,
                options: Vec::new(),
                accepted: std::iter::once(&sa.answer)
                    .chain(&sa.alternatives)
                    .map(|a| normalize(a))
                    .collect(),
                expected: plain(&sa.answer),
                context: markdown(&q.context),
            },
        })
        .collect();
    PageQuiz {
        id: quiz.id.clone(),
        title: quiz.title.clone(),
        questions,
    }
}

/// Why a page's quiz file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read quiz {file}: {source}")]
    Read {
        /// The file, as the book shows it.
        file: String,
        /// What the operating system reported.
        source: std::io::Error,
    },
    /// The file is not a valid quiz.
    #[error("the quiz is invalid:\n{0}")]
    Invalid(Diagnostics),
}

/// Reads and parses a quiz file.
pub fn load(path: &Path, shown_as: &str) -> Result<PageQuiz, LoadError> {
    let text = crate::textfile::read_capped(path, crate::textfile::COURSE).map_err(|source| LoadError::Read {
        file: shown_as.to_string(),
        source,
    })?;
    let id = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    parse(&id, shown_as, &text).map_err(LoadError::Invalid)
}

/// The HTML that replaces a `{{#quiz}}` line. One HTML block (no blank
/// line inside), so Markdown leaves it alone.
pub fn html(quiz: &PageQuiz) -> String {
    let json = serde_json::to_string(quiz).expect("quiz serializes");
    // Inside <script>, `</script>` or `<!--` would end or confuse the element;
    // `<` only occurs inside JSON strings, where \u003c means the same.
    let json = json.replace('<', "\\u003c");
    let id = super::escape(&quiz.id);
    format!(
        "<div class=\"labcheck-quiz\" data-quiz=\"{id}\">\n\
         <script type=\"application/json\" class=\"labcheck-quiz-data\">{json}</script>\n\
         <noscript><p>This quiz needs JavaScript. Take it in the terminal instead: <code>labcheck quiz {id}</code></p></noscript>\n\
         </div>"
    )
}

fn options() -> pulldown_cmark::Options {
    pulldown_cmark::Options::ENABLE_TABLES
        | pulldown_cmark::Options::ENABLE_STRIKETHROUGH
        | pulldown_cmark::Options::ENABLE_FOOTNOTES
}

/// Markdown to HTML.
pub fn markdown(text: &str) -> String {
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, pulldown_cmark::Parser::new_ext(text, options()));
    out.trim_end().to_string()
}

/// Markdown to HTML without the paragraph around a one-line text.
pub fn inline_markdown(text: &str) -> String {
    let html = markdown(text);
    match html.strip_prefix("<p>").and_then(|h| h.strip_suffix("</p>")) {
        Some(inner) if !inner.contains("<p>") => inner.to_string(),
        _ => html,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = include_str!("../../tests/fixtures/quizzes/unit/three-kinds.toml");

    #[test]
    fn parses_and_renders() {
        let quiz = parse("media-s3", "quizzes/media-s3.toml", GOOD).unwrap();
        assert_eq!(quiz.questions.len(), 3);
        let q = &quiz.questions[0];
        assert_eq!(q.id, "single");
        assert!(!q.multi);
        assert_eq!(q.prompt, "<p>Where do <strong>media</strong> files go?</p>");
        assert_eq!(q.options[0].html, "<code>a</code>");
        assert!(q.options[0].correct);
        assert_eq!(q.options.len(), 4);
        assert!(quiz.questions[1].multi);
        assert_eq!(quiz.questions[2].accepted, vec!["6379", "tcp/6379"]);
        assert_eq!(quiz.questions[2].expected, "6379");
        let upper = GOOD.replace(
            "answer.answer = \"6379\"",
            "answer.answer = \"`AWS_STORAGE_BUCKET_NAME`\"",
        );
        let quiz_upper = parse("media-s3", "quizzes/media-s3.toml", &upper).unwrap();
        assert_eq!(
            quiz_upper.questions[2].expected, "AWS_STORAGE_BUCKET_NAME",
            "case kept, marks dropped"
        );
        assert_eq!(quiz_upper.questions[2].accepted[0], "aws_storage_bucket_name");
        let html = html(&quiz);
        assert!(!html.contains("\n\n"));
        assert!(html.contains("\"id\":\"media-s3\""));
        assert!(!html.contains("<strong>"), "markup inside the JSON is escaped: {html}");
    }

    #[test]
    fn errors_name_file_and_line() {
        let bad =
            "[[questions]]\nid = \"a\"\ntype = \"MultipleChoice\"\nprompt.prompt = \"x\"\nanswer.answer = \"a\"\n";
        let err = parse("x", "quizzes/x.toml", bad).unwrap_err().to_string();
        assert!(err.contains("quizzes/x.toml:"), "{err}");
        let err = parse("x", "quizzes/x.toml", "[[questions]]\ntype = \n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("quizzes/x.toml:2:"), "{err}");
    }
}
