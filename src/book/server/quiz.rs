//! Quizzes answered in the page, graded and recorded where `labcheck quiz`
//! records its attempts (the progress file), so `labcheck status` counts
//! them; and the attempts recorded there, for the page to show.
//!
//! The page sends what was chosen, not a score: option numbers in the order
//! of the quiz it embeds ([`crate::book::quiz::page`], the same order here),
//! or the text typed; labcheck grades them with the terminal's rules.

use crate::book::quiz::page;
use crate::course::Course;
use crate::quiz::{self, Given, Mode};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Most characters of a typed answer that are kept.
const MAX_TEXT: usize = 1000;

/// One answer, as the page sends it.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum PageAnswer {
    /// Options chosen, by their place in the quiz's `options`.
    Choices(Vec<usize>),
    /// A short answer typed.
    Text(String),
}

/// A finished quiz, as the page sends it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attempt {
    /// The quiz's id.
    pub quiz: String,
    /// Answers by question id; a question left out is not answered.
    pub answers: BTreeMap<String, PageAnswer>,
}

/// Why an attempt was refused (bad input from the page).
#[derive(Debug, thiserror::Error)]
pub enum AttemptError {
    /// No quiz has the id.
    #[error("no quiz `{0}` in this course")]
    NoSuchQuiz(String),
    /// An answer names an option the question does not have, or another question.
    #[error("question `{question}`: {problem}")]
    BadAnswer {
        /// The question's id.
        question: String,
        /// What is wrong.
        problem: &'static str,
    },
    /// The progress file could not be written.
    #[error("{0}")]
    Store(#[from] crate::store::StoreError),
}

/// Grades an attempt and appends it to the progress file; returns the
/// score.
pub fn record(course: &Course, attempt: &Attempt) -> Result<Value, AttemptError> {
    let found = course
        .quizzes
        .iter()
        .find(|q| q.id == attempt.quiz)
        .ok_or_else(|| AttemptError::NoSuchQuiz(crate::redact::one_line(&attempt.quiz, 80)))?;
    let shown = page(found);
    for id in attempt.answers.keys() {
        if !found.questions.iter().any(|q| &q.id == id) {
            return Err(AttemptError::BadAnswer {
                question: crate::redact::one_line(id, 80),
                problem: "no such question in this quiz",
            });
        }
    }
    let mut graded = Vec::new();
    for (question, on_page) in found.questions.iter().zip(&shown.questions) {
        let bad = |problem| AttemptError::BadAnswer {
            question: question.id.clone(),
            problem,
        };
        let given = match attempt.answers.get(&question.id) {
            None => Given::Nothing,
            Some(PageAnswer::Text(text)) if on_page.kind == "ShortAnswer" => {
                Given::Text(text.chars().take(MAX_TEXT).collect())
            }
            Some(PageAnswer::Choices(chosen)) if on_page.kind == "MultipleChoice" => {
                let mut texts = Vec::new();
                for &i in chosen {
                    let option = on_page.options.get(i).ok_or_else(|| bad("no such option"))?;
                    texts.push(option.text().to_string());
                }
                Given::Choices(texts)
            }
            Some(_) => return Err(bad("an answer of the wrong kind")),
        };
        graded.push(quiz::grade(question, given));
    }
    let result = quiz::result(found, Mode::Book, 0, graded);
    quiz::progress::record(&result)?;
    Ok(json!({"quiz": result.quiz, "score": result.score, "max_score": result.max_score}))
}

/// Every recorded attempt, by quiz id: score, maximum, when, and where
/// (`interactive` or `scripted` in the terminal, `book` in the page).
pub fn attempts() -> Result<Value, crate::store::StoreError> {
    let progress = quiz::progress::load()?;
    Ok(progress
        .quizzes
        .iter()
        .map(|(id, q)| {
            let list: Vec<Value> = q
                .attempts
                .iter()
                .map(|a| json!({"score": a.score, "max_score": a.max_score, "finished_at": a.finished_at, "mode": a.mode}))
                .collect();
            (id.clone(), Value::Array(list))
        })
        .collect::<serde_json::Map<_, _>>()
        .into())
}
