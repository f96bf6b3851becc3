//! Answers files for scripted runs (`labcheck quiz QUIZ --answers FILE`).
//!
//! A flat table from question id to the answer: the option's text (a list of
//! texts for "select all that apply"), or the typed text of a short answer.
//! TOML, or JSON when the file name ends in `.json` (or the text starts with
//! `{`):
//!
//! ```toml
//! kc-models-data = "Amazon RDS"
//! kc-session-services = ["Amazon ElastiCache", "Amazon MemoryDB"]
//! kc-redeploy = "eb deploy"        # Markdown marks and case do not matter
//! ```
//!
//! Texts are matched against the options ignoring Markdown marks, case and
//! extra white space, never by position. Questions left out count as not
//! answered. An id that is not in the quiz, or a text that is none of a
//! question's options, is an error (exit 2) naming it.

use crate::diagnostic::{Diagnostic, LineIndex};
use crate::quiz::{Kind, Question, Quiz, normalize};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// An answer to one question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Given {
    /// Options chosen, as their text in the quiz file.
    Choices(Vec<String>),
    /// A typed short answer.
    Text(String),
    /// No answer.
    Nothing,
}

/// Answers by question id.
pub type Answers = HashMap<String, Given>;

#[derive(Deserialize)]
#[serde(untagged)]
enum Raw {
    One(String),
    Many(Vec<String>),
}

/// Why an answers file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AnswersError {
    /// The answers file could not be read.
    #[error("cannot read answers file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// What the operating system reported.
        source: std::io::Error,
    },
    /// The answers file is not valid TOML of the expected shape.
    #[error("{0}")]
    Syntax(Diagnostic),
    /// Answers that do not fit the quiz, one message each.
    #[error("{}", .0.join("\n"))]
    Invalid(Vec<String>),
}

/// Is this answer right? Options are compared by their text (Markdown
/// marks, case and extra white space aside), a short answer against the
/// answer and its alternatives.
pub fn is_correct(question: &Question, given: &Given) -> bool {
    match (&question.kind, given) {
        (Kind::MultipleChoice(mc), Given::Choices(chosen)) => {
            let mut want: Vec<String> = mc.answers.iter().map(|a| normalize(a)).collect();
            let mut got: Vec<String> = chosen.iter().map(|a| normalize(a)).collect();
            want.sort();
            got.sort();
            got.dedup();
            want == got
        }
        (Kind::ShortAnswer(sa), Given::Text(text)) => {
            let text = normalize(text);
            std::iter::once(&sa.answer)
                .chain(&sa.alternatives)
                .any(|a| normalize(a) == text)
        }
        _ => false,
    }
}

/// Reads and checks an answers file against a quiz.
pub fn load(path: &Path, quiz: &Quiz) -> Result<Answers, AnswersError> {
    let text = crate::textfile::read_capped(path, crate::textfile::SMALL).map_err(|source| AnswersError::Read {
        path: path.display().to_string(),
        source,
    })?;
    parse(&path.display().to_string(), &text, quiz)
}

/// Parses answers (`file` is the name shown in errors).
pub fn parse(file: &str, text: &str, quiz: &Quiz) -> Result<Answers, AnswersError> {
    let index = LineIndex::new(text);
    let json = file.ends_with(".json") || text.trim_start().starts_with('{');
    let raw: BTreeMap<String, Raw> = if json {
        serde_json::from_str(text).map_err(|e| {
            AnswersError::Syntax(index.diagnostic(
                file,
                e.line().max(1),
                e.column().max(1),
                format!(
                    "invalid answers file: {e}; expected a JSON object from question id to a string or a list of strings"
                ),
            ))
        })?
    } else {
        toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            AnswersError::Syntax(index.diagnostic_at(
                file,
                offset,
                format!(
                    "invalid answers file: {}; expected lines like `question-id = \"option text\"` or `question-id = [\"a\", \"b\"]`",
                    e.message().trim_end()
                ),
            ))
        })?
    };

    let mut errors = Vec::new();
    // Problems past MAX_ERRORS are counted, not kept: each names the
    // question's options, and a file may hold a hundred thousand.
    let mut more = 0;
    let mut out = Answers::new();
    for (id, value) in raw {
        let Some(question) = quiz.question(&id) else {
            note(&mut errors, &mut more, || {
                format!(
                    "{file}: no question `{}` in quiz {} (its questions: {})",
                    clip(&id),
                    quiz.id,
                    quiz.questions
                        .iter()
                        .map(|q| q.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            });
            continue;
        };
        let texts = match value {
            Raw::One(s) => vec![s],
            Raw::Many(v) => v,
        };
        match &question.kind {
            Kind::ShortAnswer(_) => match texts.as_slice() {
                [one] => {
                    out.insert(id, Given::Text(one.clone()));
                }
                _ => note(&mut errors, &mut more, || {
                    format!("{file}: question `{id}` takes a short answer: give one string, not a list")
                }),
            },
            Kind::MultipleChoice(mc) => {
                let options: Vec<&String> = mc.answers.iter().chain(&mc.distractors).collect();
                let mut chosen = Vec::new();
                for given in &texts {
                    match options.iter().find(|o| normalize(o) == normalize(given)) {
                        Some(option) => chosen.push((*option).clone()),
                        None => note(&mut errors, &mut more, || {
                            format!(
                                "{file}: `{}` is not an option of question `{id}`; its options are: {}",
                                clip(given),
                                options
                                    .iter()
                                    .map(|o| format!("\"{o}\""))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )
                        }),
                    }
                }
                out.insert(id, Given::Choices(chosen));
            }
        }
    }
    if more > 0 {
        errors.push(format!("{file}: {more} more problems not shown"));
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(AnswersError::Invalid(errors))
    }
}

/// Problems listed per answers file.
const MAX_ERRORS: usize = crate::diagnostic::MAX_PER_FILE;
/// Characters of an id or an answer quoted in a problem.
const MAX_QUOTED: usize = 200;

fn note(errors: &mut Vec<String>, more: &mut usize, problem: impl FnOnce() -> String) {
    if errors.len() < MAX_ERRORS {
        errors.push(problem());
    } else {
        *more += 1;
    }
}

fn clip(text: &str) -> String {
    match text.char_indices().nth(MAX_QUOTED) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quiz() -> Quiz {
        let text = include_str!("../../../tests/fixtures/quizzes/unit/three-kinds.toml");
        Quiz::parse("q", "q.toml", text).unwrap()
    }

    fn choices(items: &[&str]) -> Given {
        Given::Choices(items.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn grades_by_text() {
        let quiz = quiz();
        let [single, multi, short] = [&quiz.questions[0], &quiz.questions[1], &quiz.questions[2]];
        assert!(is_correct(single, &choices(&["a"])));
        assert!(is_correct(single, &choices(&["`a`"])));
        assert!(!is_correct(single, &choices(&["b"])));
        assert!(!is_correct(single, &choices(&["a", "b"])));
        assert!(is_correct(multi, &choices(&["y", "x"])));
        assert!(!is_correct(multi, &choices(&["x"])));
        assert!(!is_correct(multi, &choices(&["x", "y", "z"])));
        assert!(is_correct(short, &Given::Text(" 6379 ".into())));
        assert!(is_correct(short, &Given::Text("TCP/6379".into())));
        assert!(!is_correct(short, &Given::Text("3306".into())));
        assert!(!is_correct(short, &Given::Nothing));
    }

    #[test]
    fn toml_and_json() {
        let q = quiz();
        let a = parse("a.toml", "single = \"B\"\nshort = \"6379\"\n", &q).unwrap();
        assert_eq!(a["single"], Given::Choices(vec!["`b`".into()]));
        assert_eq!(a["short"], Given::Text("6379".into()));
        let a = parse("a.json", r#"{"single": ["a"]}"#, &q).unwrap();
        assert_eq!(a["single"], Given::Choices(vec!["`a`".into()]));
    }

    #[test]
    fn unknown_ids_and_options_are_named() {
        let q = quiz();
        let e = parse("a.toml", "nope = \"a\"\nsingle = \"zzz\"\n", &q)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no question `nope` in quiz q"), "{e}");
        assert!(e.contains("`zzz` is not an option of question `single`"), "{e}");
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let q = quiz();
        match parse("a.toml", "single = \"a\"\nshort = \n", &q).unwrap_err() {
            AnswersError::Syntax(d) => assert_eq!((d.file.as_str(), d.line), ("a.toml", 2)),
            other => panic!("{other}"),
        }
        match parse("a.json", "{\n\"single\": \"a\"\n\"short\": \"1\"}", &q).unwrap_err() {
            AnswersError::Syntax(d) => assert_eq!(d.line, 3),
            other => panic!("{other}"),
        }
    }
}
