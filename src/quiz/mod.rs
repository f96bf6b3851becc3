//! `labcheck quiz`: the quizzes in the terminal.
//!
//! - [`run`] is the command: list the quizzes, or run one — interactively
//!   ([`interactive`]: a picker for options, a dialoguer prompt for short
//!   answers) or from an answers file
//!   ([`answers`]) — then print the result and record it ([`progress`]).
//! - Options are shown in an order shuffled from a seed ([`options`]):
//!   `--seed N` makes it reproducible; without it the seed is random and is
//!   printed in the JSON result. Scripted answers are matched by option TEXT,
//!   never by position, so they work whatever the order.
//! - Scoring: one point per question. A "select all that apply" question is
//!   right only when exactly the right options are chosen. A short answer is
//!   right when it equals the answer or an alternative, ignoring case, extra
//!   white space and Markdown marks (as mdbook-quiz does, and the book too).
//!
//! Exit codes follow DESIGN §6 as `labcheck check` does: 0 when every answer
//! is right, 1 when at least one is wrong (a scripted run in CI or an
//! instructor's grading script can tell the two apart), 2 for bad usage or
//! bad input (an unknown quiz, a bad answers file, no terminal), and 130 when
//! the learner leaves an interactive quiz before the end (nothing is
//! recorded then).
//!
//! JSON result (`--format json`), schema `labcheck/quiz-result-v1`:
//!
//! ```json
//! { "schema": "labcheck/quiz-result-v1", "quiz": "knowledge-check",
//!   "title": "...", "mode": "scripted|interactive", "seed": 42,
//!   "score": 2, "max_score": 3, "finished_at": "RFC 3339",
//!   "questions": [ { "id": "kc-redeploy", "correct": true,
//!       "given": "`eb deploy`" | ["..", ".."] | null,
//!       "expected": "`eb deploy`" | ["..", ".."],
//!       "explanation": "Markdown" } ] }
//! ```
//!
//! `given` and `expected` are the options' Markdown text as written in the
//! quiz file (a list for "select all that apply" questions; for a short
//! answer, `given` is what was typed); `given` is null for a question the
//! answers file leaves out.

pub use crate::course::answers;
pub use answers::{Given, is_correct};
pub mod interactive;
mod picker;
pub mod progress;

use crate::course::quiz::{Kind, Question, Quiz, plain};
use serde_json::json;
use std::path::PathBuf;

/// How a run gets its answers, as recorded in the results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Asked on a terminal, one question at a time.
    Interactive,
    /// Answers read from an answers file.
    Scripted,
    /// Answered in the book's page, served by `labcheck book serve`.
    Book,
}

impl Mode {
    /// `interactive`, `scripted` or `book`, as written in results and progress.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Interactive => "interactive",
            Mode::Book => "book",
            Mode::Scripted => "scripted",
        }
    }
}

/// The result of one question.
#[derive(Clone, Debug)]
pub struct Answered {
    /// The question's id.
    pub id: String,
    /// The question's prompt, Markdown.
    pub prompt: String,
    /// Whether the answer was right.
    pub correct: bool,
    /// The answer given.
    pub given: Given,
    /// A "select all that apply" question.
    pub multi: bool,
    /// The right answers (Markdown option texts, or the short answer).
    pub expected: Vec<String>,
    /// Why the answers are right, Markdown.
    pub explanation: String,
}

/// The result of a whole quiz.
#[derive(Clone, Debug)]
pub struct QuizResult {
    /// The quiz's id.
    pub quiz: String,
    /// The quiz's title.
    pub title: String,
    /// How the answers were given.
    pub mode: Mode,
    /// The seed the options were shuffled with (same seed, same order).
    pub seed: u64,
    /// Questions answered right.
    pub score: u32,
    /// Questions asked.
    pub max_score: u32,
    /// When the quiz ended, RFC 3339, UTC.
    pub finished_at: String,
    /// Every question, in quiz order.
    pub questions: Vec<Answered>,
}

/// Grades one question.
pub fn grade(question: &Question, given: Given) -> Answered {
    Answered {
        id: question.id.clone(),
        prompt: question.prompt.clone(),
        correct: is_correct(question, &given),
        multi: question.is_multi(),
        given,
        expected: question.expected().into_iter().map(str::to_string).collect(),
        explanation: question.context.clone(),
    }
}

/// Puts graded questions together into a result.
pub fn result(quiz: &Quiz, mode: Mode, seed: u64, questions: Vec<Answered>) -> QuizResult {
    QuizResult {
        quiz: quiz.id.clone(),
        title: quiz.title.clone(),
        mode,
        seed,
        score: questions.iter().filter(|q| q.correct).count() as u32,
        max_score: questions.len() as u32,
        finished_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        questions,
    }
}

/// A scripted run: every question graded against the answers file.
pub fn run_scripted(quiz: &Quiz, seed: u64, answers: &answers::Answers) -> QuizResult {
    let graded = quiz
        .questions
        .iter()
        .map(|q| grade(q, answers.get(&q.id).cloned().unwrap_or(Given::Nothing)))
        .collect();
    result(quiz, Mode::Scripted, seed, graded)
}

impl QuizResult {
    /// Whether every question was answered right.
    pub fn all_correct(&self) -> bool {
        self.score == self.max_score
    }

    /// The JSON result (schema `labcheck/quiz-result-v1`, see the module doc).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self.doc()).expect("serializes")
    }

    /// The JSON result as text, fields in the documented order.
    pub fn to_json_string(&self) -> String {
        serde_json::to_string_pretty(&self.doc()).expect("serializes")
    }

    fn doc(&self) -> JsonDoc<'_> {
        let one_or_list = |items: &[String], multi: bool| {
            if multi || items.len() != 1 {
                json!(items)
            } else {
                json!(items[0])
            }
        };
        JsonDoc {
            schema: "labcheck/quiz-result-v1",
            quiz: &self.quiz,
            title: &self.title,
            mode: self.mode.as_str(),
            seed: self.seed,
            score: self.score,
            max_score: self.max_score,
            finished_at: &self.finished_at,
            questions: self
                .questions
                .iter()
                .map(|q| JsonQuestion {
                    id: &q.id,
                    correct: q.correct,
                    given: match &q.given {
                        Given::Choices(c) => one_or_list(c, q.multi),
                        Given::Text(t) => json!(t),
                        Given::Nothing => serde_json::Value::Null,
                    },
                    expected: one_or_list(&q.expected, q.multi),
                    explanation: &q.explanation,
                })
                .collect(),
        }
    }

    /// The human report: every question with the answer given, the right
    /// answer when it was wrong, and the explanation; then the score.
    pub fn to_human(&self, detailed: bool, width: usize) -> String {
        let mut out = String::new();
        let bold = console::Style::new().bold();
        if detailed {
            out.push_str(&format!("{}  ({})\n", bold.apply_to(&self.title), self.quiz));
            let n = self.questions.len();
            for (i, q) in self.questions.iter().enumerate() {
                out.push('\n');
                let head = format!("{} {}/{n}  ", mark(q.correct), i + 1);
                let indent = console::measure_text_width(&head);
                let prompt = plain_paragraphs(&q.prompt)
                    .lines()
                    .flat_map(|p| wrap(p, width.saturating_sub(indent)))
                    .collect::<Vec<_>>()
                    .join(&format!("\n{:indent$}", ""));
                out.push_str(&format!("{head}{prompt}\n"));
                out.push_str(&feedback(q, true, width));
            }
            out.push('\n');
        }
        out.push_str(&format!(
            "{} {}/{}  {}\n",
            bold.apply_to("Score"),
            self.score,
            self.max_score,
            match self.score {
                s if s == self.max_score => "— all right!".to_string(),
                _ => {
                    let wrong: Vec<&str> = self
                        .questions
                        .iter()
                        .filter(|q| !q.correct)
                        .map(|q| q.id.as_str())
                        .collect();
                    format!("— to review: {}", wrong.join(", "))
                }
            }
        ));
        out
    }
}

#[derive(serde::Serialize)]
struct JsonDoc<'a> {
    schema: &'a str,
    quiz: &'a str,
    title: &'a str,
    mode: &'a str,
    seed: u64,
    score: u32,
    max_score: u32,
    finished_at: &'a str,
    questions: Vec<JsonQuestion<'a>>,
}

#[derive(serde::Serialize)]
struct JsonQuestion<'a> {
    id: &'a str,
    correct: bool,
    given: serde_json::Value,
    expected: serde_json::Value,
    explanation: &'a str,
}

/// ✓ or ✗, coloured when colours are on.
pub fn mark(correct: bool) -> console::StyledObject<&'static str> {
    if correct {
        console::style("✓").green().bold()
    } else {
        console::style("✗").red().bold()
    }
}

/// What to show under a question once answered: the answer given, the right
/// one when it was wrong, and the explanation.
pub fn feedback(q: &Answered, show_given: bool, width: usize) -> String {
    let dim = console::Style::new().dim();
    let mut out = String::new();
    let given = match &q.given {
        Given::Choices(c) if c.is_empty() => "(nothing selected)".to_string(),
        Given::Choices(c) => c.iter().map(|s| plain(s)).collect::<Vec<_>>().join("; "),
        Given::Text(t) if t.trim().is_empty() => "(empty)".to_string(),
        Given::Text(t) => t.clone(),
        Given::Nothing => "(not answered)".to_string(),
    };
    if show_given {
        out.push_str(&format!("      your answer:  {given}\n"));
    }
    if !q.correct {
        let expected = q.expected.iter().map(|s| plain(s)).collect::<Vec<_>>().join("; ");
        let label = if q.multi { "right answers:" } else { "right answer: " };
        out.push_str(&format!("      {label} {}\n", console::style(expected).green()));
    }
    for paragraph in plain_paragraphs(&q.explanation).lines() {
        for line in wrap(paragraph, width.saturating_sub(6)) {
            out.push_str(&format!("      {}\n", dim.apply_to(line)));
        }
    }
    out
}

/// Greedy word wrap to `width` columns (at least 30); colour codes take no room.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(30);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let w = console::measure_text_width;
        if !line.is_empty() && w(&line) + 1 + w(word) > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The width to wrap text for a terminal: its width, at most 100 columns;
/// 100 when it is not a terminal.
pub fn width_of(term: &console::Term) -> usize {
    if term.is_term() {
        (term.size().1 as usize).min(100)
    } else {
        100
    }
}

/// Markdown as plain text, keeping paragraph breaks.
fn plain_paragraphs(markdown: &str) -> String {
    markdown
        .split("\n\n")
        .map(plain)
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A seed for runs without `--seed`: the clock and the process id.
pub fn random_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    options::mix(nanos ^ ((std::process::id() as u64) << 32)) % 1_000_000
}

/// The options of a multiple-choice question in the order shown.
pub mod options {
    use crate::course::quiz::{Kind, Question};

    /// One option: its Markdown text and whether it is right.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Choice {
        /// The option's text, Markdown.
        pub text: String,
        /// Whether it is one of the right answers.
        pub correct: bool,
    }

    /// SplitMix64's output function: a well-mixed u64 from any u64. Written
    /// out here (rather than taken from `rand`) so that a seed gives the same
    /// order in every labcheck version.
    pub fn mix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// The options in display order. The order depends on the seed and the
    /// question's id (not its position), so editing one question does not
    /// reshuffle the others. `answerIndex` and `sortAnswers` fix the order, as
    /// in mdbook-quiz. Short-answer questions have no options.
    pub fn order(question: &Question, seed: u64) -> Vec<Choice> {
        let Kind::MultipleChoice(mc) = &question.kind else {
            return Vec::new();
        };
        let right = mc.answers.iter().map(|t| Choice {
            text: t.clone(),
            correct: true,
        });
        let wrong = mc.distractors.iter().map(|t| Choice {
            text: t.clone(),
            correct: false,
        });
        if let Some(index) = mc.answer_index {
            let mut out: Vec<Choice> = wrong.collect();
            out.insert(index.min(out.len()), right.into_iter().next().expect("one answer"));
            return out;
        }
        let mut out: Vec<Choice> = right.chain(wrong).collect();
        if mc.sort_answers {
            out.sort_by(|a, b| a.text.cmp(&b.text));
            return out;
        }
        let mut state = question.id.bytes().fold(mix(seed), |h, b| mix(h ^ u64::from(b)));
        // Fisher–Yates.
        for i in (1..out.len()).rev() {
            state = mix(state);
            let j = (state % (i as u64 + 1)) as usize;
            out.swap(i, j);
        }
        out
    }
}

/// What `labcheck quiz` was asked to do.
pub struct Options {
    /// The quiz to run; `None` lists the quizzes.
    pub quiz: Option<String>,
    /// An answers file to grade instead of asking; `None` asks on the terminal.
    pub answers: Option<PathBuf>,
    /// How to print the result.
    pub format: Format,
    /// The seed for the order of options; `None` picks one at random.
    pub seed: Option<u64>,
}

/// Output formats of `labcheck quiz`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Text for a terminal.
    Human,
    /// The result as JSON.
    Json,
}

/// Why `labcheck quiz` stopped early.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Wrong use (no such quiz, a bad answers file, no terminal); exit code 2.
    #[error("{0}")]
    Usage(String),
    /// The learner left before the end (Escape or `q`); exit code 130.
    #[error("quiz left before the end; this attempt was not recorded")]
    Abandoned,
    /// Standard output could not be written; exit code 1.
    #[error("cannot write to standard output: {0}")]
    Output(std::io::Error),
}

impl Error {
    /// How the process ends for this error.
    pub fn exit(&self) -> crate::exit::Exit {
        use crate::exit::Exit;
        match self {
            Error::Usage(_) => Exit::BadInput,
            Error::Abandoned => Exit::Interrupted,
            Error::Output(_) => Exit::Fail,
        }
    }
}

/// How to take a quiz without a terminal: the message of exit 2, with the
/// quiz's question ids.
pub fn no_terminal_message(quiz: &Quiz) -> String {
    let ids: Vec<String> = quiz
        .questions
        .iter()
        .map(|q| {
            let kind = match &q.kind {
                Kind::MultipleChoice(mc) if mc.multi => "a list of option texts",
                Kind::MultipleChoice(_) => "one option text",
                Kind::ShortAnswer(_) => "a short text",
            };
            format!("    {}  ({kind})", q.id)
        })
        .collect();
    format!(
        "`labcheck quiz {id}` asks its questions in a terminal, and standard input is not one.\n\
         To answer from a file instead, write one line per question id (TOML, or the same as a JSON object):\n\
         \n    some-question-id = \"the text of the option you choose\"\n    select-all-id = [\"first option\", \"second option\"]\n\
         \nthen run `labcheck quiz {id} --answers answers.toml [--format json]`. The questions of {id}:\n{}",
        ids.join("\n"),
        id = quiz.id
    )
}

/// `labcheck quiz [QUIZ]`: lists the quizzes, or runs one. Returns how the process ends.
pub fn run(course: &crate::course::Course, opts: &Options) -> Result<crate::exit::Exit, Error> {
    let Some(id) = &opts.quiz else {
        return list(course, opts.format);
    };
    let quiz = course.quiz(id).map_err(|e| Error::Usage(e.to_string()))?;
    let seed = opts.seed.unwrap_or_else(random_seed);
    let result = match &opts.answers {
        Some(path) => {
            let answers = answers::load(path, quiz).map_err(|e| Error::Usage(e.to_string()))?;
            run_scripted(quiz, seed, &answers)
        }
        None => {
            use std::io::IsTerminal;
            if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
                return Err(Error::Usage(no_terminal_message(quiz)));
            }
            interactive::run(quiz, seed)?
        }
    };
    match progress::record(&result) {
        Ok(_) => {}
        Err(e) => eprintln!("warning: this attempt was not recorded: {e}"),
    }
    let text = match opts.format {
        Format::Json => result.to_json_string() + "\n",
        Format::Human => result.to_human(result.mode == Mode::Scripted, width_of(&console::Term::stdout())),
    };
    crate::report::print_stdout(&text).map_err(Error::Output)?;
    Ok(if result.all_correct() {
        crate::exit::Exit::Pass
    } else {
        crate::exit::Exit::Fail
    })
}

/// The quizzes of the course with their size and the learner's best score.
fn list(course: &crate::course::Course, format: Format) -> Result<crate::exit::Exit, Error> {
    use std::fmt::Write;
    let (store, warning) = match progress::load() {
        Ok(p) => (p, None),
        Err(e) => (progress::Progress::default(), Some(e.to_string())),
    };
    if let Some(w) = &warning {
        eprintln!("warning: {w}");
    }
    let mut out = String::new();
    match format {
        Format::Json => {
            let quizzes: Vec<_> = course
                .quizzes
                .iter()
                .map(|q| {
                    let best = store
                        .best(&q.id)
                        .map(|a| json!({"score": a.score, "max_score": a.max_score}));
                    json!({
                        "id": q.id, "title": q.title, "questions": q.questions.len(),
                        "attempts": store.attempts(&q.id).len(), "best": best,
                    })
                })
                .collect();
            let _ = writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&json!({ "quizzes": quizzes })).expect("serializes")
            );
        }
        Format::Human => {
            let bold = console::Style::new().bold();
            let dim = console::Style::new().dim();
            let width = course.quizzes.iter().map(|q| q.id.len()).max().unwrap_or(0);
            let title_width = course
                .quizzes
                .iter()
                .map(|q| q.title.chars().count())
                .max()
                .unwrap_or(0);
            let _ = writeln!(
                out,
                "{}",
                bold.apply_to(format!(
                    "{:width$}  {:title_width$}  {:>9}  best",
                    "quiz", "title", "questions"
                ))
            );
            for q in &course.quizzes {
                let best = match store.best(&q.id) {
                    Some(a) => format!("{}/{}", a.score, a.max_score),
                    None => dim.apply_to("not taken").to_string(),
                };
                let _ = writeln!(
                    out,
                    "{:width$}  {:title_width$}  {:>9}  {best}",
                    q.id,
                    q.title,
                    q.questions.len()
                );
            }
            let _ = match course.quizzes.first() {
                None => writeln!(out, "{}", dim.apply_to("(this course has no quizzes)")),
                Some(first) => writeln!(
                    out,
                    "\nTake one with `labcheck quiz QUIZ` (for example `labcheck quiz {}`).",
                    first.id
                ),
            };
        }
    }
    crate::report::print_stdout(&out).map_err(Error::Output)?;
    Ok(crate::exit::Exit::Pass)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quiz() -> Quiz {
        let text = include_str!("../../tests/fixtures/quizzes/unit/three-kinds.toml");
        Quiz::parse("t", "t.toml", text).unwrap()
    }

    fn choices(items: &[&str]) -> Given {
        Given::Choices(items.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn shuffles_reproducibly() {
        let quiz = quiz();
        let q = &quiz.questions[0];
        let a = options::order(q, 7);
        assert_eq!(a, options::order(q, 7));
        assert_eq!(a.len(), 4);
        assert_eq!(a.iter().filter(|c| c.correct).count(), 1);
        let orders: std::collections::HashSet<Vec<String>> = (0..50)
            .map(|s| options::order(q, s).into_iter().map(|c| c.text).collect())
            .collect();
        assert!(orders.len() > 5, "seeds give different orders");
        assert!(options::order(&quiz.questions[2], 7).is_empty());
    }

    #[test]
    fn json_shape() {
        let quiz = quiz();
        let graded = vec![
            grade(&quiz.questions[0], choices(&["`a`"])),
            grade(&quiz.questions[1], choices(&["x"])),
            grade(&quiz.questions[2], Given::Nothing),
        ];
        let r = result(&quiz, Mode::Scripted, 3, graded);
        let j = r.to_json();
        assert_eq!(j["score"], 1);
        assert_eq!(j["max_score"], 3);
        assert_eq!(j["questions"][0]["given"], "`a`");
        assert_eq!(j["questions"][0]["expected"], "`a`");
        assert_eq!(j["questions"][1]["given"], json!(["x"]));
        assert_eq!(j["questions"][1]["expected"], json!(["x", "y"]));
        assert_eq!(j["questions"][2]["given"], serde_json::Value::Null);
        assert_eq!(j["questions"][2]["correct"], false);
        let human = r.to_human(true, 80);
        assert!(human.contains("right answers: x; y"), "{human}");
        assert!(human.contains("Score 1/3"), "{human}");
    }
}
