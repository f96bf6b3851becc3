//! The interactive quiz: one question at a time on the terminal's standard
//! error (standard output keeps the result), with right/wrong and the
//! explanation after each answer. Options are chosen in labcheck's own
//! picker (`picker.rs`); short answers are typed into dialoguer's
//! `Input`.
//!
//! Keys: single answer — ↑/↓ (or j/k) then Enter, or the option's number;
//! select all that apply — ↑/↓ or a number to move and tick, Space to tick,
//! Enter to confirm; short answer — type and press Enter. Esc or `q` in a
//! list leaves the quiz (nothing is recorded).

use super::{Answered, Error, Given, Mode, QuizResult, feedback, grade, mark, options, result, width_of, wrap};
use crate::course::quiz::{Kind, Quiz};
use console::Term;
use dialoguer::Input;
use dialoguer::theme::ColorfulTheme;

/// Runs the quiz on the terminal; the result once every question is answered.
pub fn run(quiz: &Quiz, seed: u64) -> Result<QuizResult, Error> {
    let term = Term::stderr();
    let theme = ColorfulTheme::default();
    let io = |e: dialoguer::Error| Error::Usage(format!("the terminal stopped answering: {e}"));
    let bold = console::Style::new().bold();
    let dim = console::Style::new().dim();
    let n = quiz.questions.len();
    let _ = term.write_line(&format!(
        "{}  {}",
        bold.apply_to(&quiz.title),
        dim.apply_to(format!("({n} questions; Esc leaves)"))
    ));
    let mut answered: Vec<Answered> = Vec::new();
    for (i, question) in quiz.questions.iter().enumerate() {
        let kind = match &question.kind {
            Kind::MultipleChoice(mc) if mc.multi => {
                "select all that apply: Space or the number to tick, Enter to confirm"
            }
            Kind::MultipleChoice(_) => "choose one: ↑/↓ and Enter, or the number",
            Kind::ShortAnswer(_) => "type your answer, Enter",
        };
        let _ = term.write_line("");
        let _ = term.write_line(&format!(
            "{} {}",
            bold.apply_to(format!("Question {}/{n}", i + 1)),
            dim.apply_to(format!("· {kind}"))
        ));
        let width = width_of(&term);
        for paragraph in terminal_markdown(&question.prompt).split("\n\n") {
            let _ = term.write_line(&wrap(paragraph, width).join("\n"));
        }
        let given = match &question.kind {
            Kind::MultipleChoice(mc) => {
                let choices = options::order(question, seed);
                let items: Vec<String> = choices
                    .iter()
                    .enumerate()
                    .map(|(k, c)| format!("{}. {}", k + 1, terminal_markdown(&c.text).replace('\n', " ")))
                    .collect();
                let prompt = if mc.multi { "Your answers" } else { "Your answer" };
                let picked = match super::picker::pick(&term, prompt, &items, mc.multi)
                    .map_err(|e| Error::Usage(format!("the terminal stopped answering: {e}")))?
                {
                    super::picker::Picked::Chosen(picked) => picked,
                    super::picker::Picked::Left => return Err(Error::Abandoned),
                };
                Given::Choices(picked.into_iter().map(|k| choices[k].text.clone()).collect())
            }
            Kind::ShortAnswer(_) => {
                let text: String = Input::with_theme(&theme)
                    .with_prompt("Your answer")
                    .allow_empty(true)
                    .interact_text_on(&term)
                    .map_err(io)?;
                Given::Text(text)
            }
        };
        let graded = grade(question, given);
        let verdict = if graded.correct {
            console::style("Right!").green().bold()
        } else {
            console::style("Not quite.").red().bold()
        };
        let _ = term.write_line(&format!("{} {verdict}", mark(graded.correct)));
        // The answer is already on screen (the picker leaves the chosen
        // options on its prompt line, dialoguer the typed text), so the
        // feedback leaves it out.
        let _ = term.write_str(&feedback(&graded, false, width));
        answered.push(graded);
    }
    let _ = term.write_line("");
    Ok(result(quiz, Mode::Interactive, seed, answered))
}

/// Markdown for the terminal: paragraphs kept, code spans highlighted,
/// emphasis marks dropped.
pub fn terminal_markdown(markdown: &str) -> String {
    use pulldown_cmark::{Event, Parser, Tag, TagEnd};
    let mut out = String::new();
    for event in Parser::new(markdown) {
        match event {
            Event::Text(t) | Event::InlineHtml(t) | Event::Html(t) => out.push_str(&t),
            Event::Code(t) => out.push_str(&console::style(t.as_ref()).cyan().to_string()),
            Event::SoftBreak => out.push(' '),
            Event::HardBreak => out.push('\n'),
            Event::Start(Tag::Item) => out.push_str("  - "),
            Event::End(TagEnd::Paragraph | TagEnd::CodeBlock | TagEnd::Heading(_)) => out.push_str("\n\n"),
            Event::End(TagEnd::Item) => out.push('\n'),
            _ => {}
        }
    }
    out.trim_end().to_string()
}
