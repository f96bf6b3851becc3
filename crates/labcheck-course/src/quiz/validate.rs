//! Validation of a quiz file: the TOML read with the span of every value,
//! checked against the schema the model documents (`course/quiz.rs`),
//! every problem reported with file, line and column.

use super::{Kind, MultipleChoice, Question, Quiz, ShortAnswer, normalize, plain, title_from_id};
use crate::diagnostic::{Diagnostic, Diagnostics, LineIndex};
use std::collections::HashMap;
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// Quiz files up to this size have every TOML problem reported; a larger one
/// (a quiz of the course is 10 KB) its first.
const RECOVER_UP_TO: usize = 64 << 10;

/// Parses and validates a quiz file: see [`Quiz::parse`].
pub(super) fn parse(id: &str, file: &str, text: &str) -> Result<Quiz, Diagnostics> {
    let mut cx = Cx {
        file,
        index: LineIndex::new(text),
        errors: Vec::new(),
        ids: Vec::new(),
    };
    // Recovery keeps every TOML problem in memory (megabytes of broken lines
    // took gigabytes): a file past RECOVER_UP_TO gets its first problem only.
    let parsed = if text.len() > RECOVER_UP_TO {
        DeTable::parse(text).map_err(|e| vec![e])
    } else {
        match DeTable::parse_recoverable(text) {
            (doc, errors) if errors.is_empty() => Ok(doc),
            (_, errors) => Err(errors),
        }
    };
    let doc = match parsed {
        Ok(doc) => doc.into_inner(),
        Err(parse_errors) => {
            for e in &parse_errors {
                let at = e.span().map_or(0, |s| s.start);
                cx.error(at, format!("invalid TOML: {}", e.message().trim_end()));
            }
            return Err(cx.finish());
        }
    };
    let fields = cx.fields(&doc, &["questions", "title"], "at the top level of a quiz");
    let title = fields
        .get("title")
        .and_then(|v| cx.text(v, "title"))
        .unwrap_or_else(|| title_from_id(id));
    let mut questions = Vec::new();
    match fields.get("questions") {
        None => cx.error(
            0,
            "no questions: a quiz needs at least one `[[questions]]` table".to_string(),
        ),
        Some(v) => match v.get_ref() {
            DeValue::Array(items) if items.is_empty() => {
                cx.error(v.span().start, "no questions: `questions` is empty".to_string())
            }
            DeValue::Array(items) => {
                for item in items.iter() {
                    match item.get_ref() {
                        DeValue::Table(t) => {
                            if let Some(q) = cx.question(t, item.span()) {
                                questions.push(q);
                            }
                        }
                        other => cx.error(
                            item.span().start,
                            format!("a question must be a table (`[[questions]]`), not {}", other.type_str()),
                        ),
                    }
                }
            }
            other => cx.error(
                v.span().start,
                format!(
                    "`questions` must be an array of tables (`[[questions]]`), not {}",
                    other.type_str()
                ),
            ),
        },
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (id, offset) in std::mem::take(&mut cx.ids) {
        let (line, _) = cx.index.locate(offset);
        if let Some(first) = seen.get(&id) {
            cx.error(
                offset,
                format!("duplicate question id `{id}` (first used on line {first})"),
            );
        } else {
            seen.insert(id, line);
        }
    }
    if cx.errors.is_empty() {
        Ok(Quiz {
            id: id.to_string(),
            title,
            file: file.to_string(),
            questions,
        })
    } else {
        Err(cx.finish())
    }
}

/// Question ids must be unique across all quizzes of a course: mdbook-quiz
/// rejects a book where two questions share an id.
pub fn check_unique_ids(quizzes: &[Quiz], sources: &HashMap<String, String>) -> Vec<Diagnostic> {
    let mut seen: HashMap<&str, &Quiz> = HashMap::new();
    let mut errors = Vec::new();
    for quiz in quizzes {
        // One index per file, not one per problem (a file of many repeated
        // ids was indexed again for each).
        let index = sources.get(&quiz.file).map(|text| LineIndex::new(text));
        for q in &quiz.questions {
            match seen.get(q.id.as_str()) {
                Some(first) if first.id != quiz.id => {
                    let (line, col) = q.id_at;
                    let message = format!(
                        "question id `{}` is already used in {} (question ids must be unique across all quizzes, as in mdbook-quiz)",
                        q.id, first.file
                    );
                    errors.push(match &index {
                        Some(index) => index.diagnostic(&quiz.file, line, col, message),
                        None => Diagnostic {
                            file: quiz.file.clone(),
                            line,
                            col,
                            message,
                            snippet: None,
                            snippet_from: 0,
                        },
                    });
                }
                Some(_) => {}
                None => {
                    seen.insert(&q.id, quiz);
                }
            }
        }
    }
    errors
}

type Fields<'a, 'i> = HashMap<String, &'a Spanned<DeValue<'i>>>;

/// The validation context of one file: where errors go.
struct Cx<'t> {
    file: &'t str,
    index: LineIndex<'t>,
    errors: Vec<Diagnostic>,
    /// Every question id seen, valid question or not, with its offset.
    ids: Vec<(String, usize)>,
}

const MC_PROMPT: &[&str] = &["prompt", "distractors", "answerIndex", "sortAnswers"];
const MC_ANSWER: &[&str] = &["answer"];
const SA_PROMPT: &[&str] = &["prompt", "response"];
const SA_ANSWER: &[&str] = &["answer", "alternatives"];

impl<'t> Cx<'t> {
    fn error(&mut self, offset: usize, message: String) {
        self.errors.push(self.index.diagnostic_at(self.file, offset, message));
    }

    fn finish(mut self) -> Diagnostics {
        self.errors.sort_by_key(|d| (d.line, d.col));
        self.errors.dedup();
        Diagnostics(self.errors)
    }

    /// The keys of a table, reporting those not in `allowed`.
    fn fields<'a, 'i>(&mut self, table: &'a DeTable<'i>, allowed: &[&str], place: &str) -> Fields<'a, 'i> {
        let mut out = HashMap::new();
        for (key, value) in table.iter() {
            let name = key.get_ref().as_ref();
            if allowed.contains(&name) {
                out.insert(name.to_string(), value);
            } else {
                let why = match name {
                    "multipart" | "promptExplanation" => {
                        " (an mdbook-quiz feature labcheck does not support)".to_string()
                    }
                    _ => String::new(),
                };
                self.error(
                    key.span().start,
                    format!(
                        "unknown field `{name}` {place}{why}; expected one of: {}{}",
                        allowed.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", "),
                        crate::suggest::did_you_mean(name, allowed.iter().copied())
                    ),
                );
            }
        }
        out
    }

    fn string(&mut self, value: &Spanned<DeValue>, what: &str) -> Option<String> {
        match value.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            other => {
                self.error(
                    value.span().start,
                    format!("`{what}` must be a string, not {}", other.type_str()),
                );
                None
            }
        }
    }

    /// A string that must say something.
    fn text(&mut self, value: &Spanned<DeValue>, what: &str) -> Option<String> {
        let s = self.string(value, what)?;
        if plain(&s).trim().is_empty() {
            self.error(value.span().start, format!("`{what}` is empty"));
            return None;
        }
        Some(s)
    }

    /// A list of non-empty strings, each with its offset.
    fn texts(&mut self, value: &Spanned<DeValue>, what: &str) -> Option<Vec<(String, usize)>> {
        let DeValue::Array(items) = value.get_ref() else {
            self.error(
                value.span().start,
                format!("`{what}` must be a list of strings, not {}", value.get_ref().type_str()),
            );
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for item in items.iter() {
            match self.text(item, what) {
                Some(s) => out.push((s, item.span().start)),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// A required sub-table (`prompt`, `answer`), its fields checked against `allowed`.
    fn sub_table<'a, 'i>(
        &mut self,
        fields: &Fields<'a, 'i>,
        key: &str,
        allowed: &[&str],
        q_at: usize,
        qtype: &str,
    ) -> Option<(Fields<'a, 'i>, usize)> {
        let Some(value) = fields.get(key) else {
            self.error(
                q_at,
                format!("this question has no `{key}` (write `{key}.{} = ...`)", allowed[0]),
            );
            return None;
        };
        match value.get_ref() {
            DeValue::Table(t) => Some((
                self.fields(t, allowed, &format!("in `{key}` of a {qtype} question")),
                value.span().start,
            )),
            other => {
                self.error(
                    value.span().start,
                    format!(
                        "`{key}` must be a table (`{key}.{} = ...`), not {}",
                        allowed[0],
                        other.type_str()
                    ),
                );
                None
            }
        }
    }

    fn required<'a, 'i>(
        &mut self,
        fields: &Fields<'a, 'i>,
        key: &str,
        at: usize,
        what: &str,
    ) -> Option<&'a Spanned<DeValue<'i>>> {
        let value = fields.get(key).copied();
        if value.is_none() {
            self.error(at, format!("this question has no {what}"));
        }
        value
    }

    fn question(&mut self, table: &DeTable, span: Range<usize>) -> Option<Question> {
        let at = span.start;
        let fields = self.fields(table, &["id", "type", "prompt", "answer", "context"], "in a question");

        let id = self.required(
            &fields,
            "id",
            at,
            "`id` (labcheck needs one to record and script answers)",
        );
        let id = id.and_then(|v| {
            let s = self.text(v, "id")?;
            if s.chars().any(|c| !(c.is_alphanumeric() || "-_.".contains(c))) {
                self.error(
                    v.span().start,
                    format!("question id `{s}` may hold only letters, digits, `-`, `_` and `.`"),
                );
                return None;
            }
            self.ids.push((s.clone(), v.span().start));
            Some((s, v.span().start))
        });
        let context = self
            .required(
                &fields,
                "context",
                at,
                "`context`: the explanation shown after answering",
            )
            .and_then(|v| self.text(v, "context"));

        let qtype = self
            .required(&fields, "type", at, "`type` (\"MultipleChoice\" or \"ShortAnswer\")")
            .and_then(|v| {
                let s = self.string(v, "type")?;
                match s.as_str() {
                    "MultipleChoice" | "ShortAnswer" => Some(s),
                    "Tracing" => {
                        self.error(
                            v.span().start,
                            "`Tracing` questions are not supported by labcheck; use \"MultipleChoice\" or \"ShortAnswer\"".into(),
                        );
                        None
                    }
                    other => {
                        self.error(
                            v.span().start,
                            format!("unknown question type `{other}`; expected \"MultipleChoice\" or \"ShortAnswer\""),
                        );
                        None
                    }
                }
            });

        let Some(qtype) = qtype else {
            // Without a known type, the prompt and answer keys cannot be checked;
            // the prompt text still can.
            if let Some(DeValue::Table(t)) = fields.get("prompt").map(|v| v.get_ref())
                && let Some((_, v)) = t.iter().find(|(k, _)| k.get_ref() == "prompt")
            {
                self.text(v, "prompt.prompt");
            }
            return None;
        };

        let (prompt_allowed, answer_allowed) = if qtype == "MultipleChoice" {
            (MC_PROMPT, MC_ANSWER)
        } else {
            (SA_PROMPT, SA_ANSWER)
        };
        let prompt_fields = self.sub_table(&fields, "prompt", prompt_allowed, at, &qtype);
        let answer_fields = self.sub_table(&fields, "answer", answer_allowed, at, &qtype);

        let prompt = prompt_fields.as_ref().and_then(|(f, p_at)| {
            let v = self.required(f, "prompt", *p_at, "`prompt.prompt`: the question's text")?;
            self.text(v, "prompt.prompt")
        });

        let kind = if qtype == "MultipleChoice" {
            self.multiple_choice(prompt_fields.as_ref(), answer_fields.as_ref())
        } else {
            self.short_answer(prompt_fields.as_ref(), answer_fields.as_ref())
        };

        let (id, id_offset) = id?;
        Some(Question {
            id,
            prompt: prompt?,
            context: context?,
            kind: kind?,
            id_at: self.index.locate(id_offset),
        })
    }

    fn multiple_choice(&mut self, prompt: Option<&(Fields, usize)>, answer: Option<&(Fields, usize)>) -> Option<Kind> {
        let distractors = prompt.and_then(|(f, at)| {
            let v = self.required(f, "distractors", *at, "`prompt.distractors`: the wrong options")?;
            let list = self.texts(v, "prompt.distractors")?;
            if list.is_empty() {
                self.error(
                    v.span().start,
                    "`prompt.distractors` is empty: a multiple-choice question needs at least one wrong option".into(),
                );
                return None;
            }
            Some(list)
        });
        let answer_index = prompt.and_then(|(f, _)| {
            let v = f.get("answerIndex")?;
            match v.get_ref() {
                DeValue::Integer(i) => match i.as_str().parse::<usize>() {
                    Ok(n) if i.radix() == 10 => Some((n, v.span().start)),
                    _ => {
                        self.error(v.span().start, "`prompt.answerIndex` must be 0 or more".into());
                        None
                    }
                },
                other => {
                    self.error(
                        v.span().start,
                        format!("`prompt.answerIndex` must be an integer, not {}", other.type_str()),
                    );
                    None
                }
            }
        });
        let sort_answers = prompt.and_then(|(f, _)| {
            let v = f.get("sortAnswers")?;
            match v.get_ref() {
                DeValue::Boolean(b) => Some(*b),
                other => {
                    self.error(
                        v.span().start,
                        format!("`prompt.sortAnswers` must be true or false, not {}", other.type_str()),
                    );
                    None
                }
            }
        });
        let answers = answer.and_then(|(f, at)| {
            let v = self.required(
                f,
                "answer",
                *at,
                "`answer.answer`: the right option (or a list of them)",
            )?;
            match v.get_ref() {
                DeValue::String(_) => Some((vec![(self.text(v, "answer.answer")?, v.span().start)], false)),
                DeValue::Array(items) if items.is_empty() => {
                    self.error(v.span().start, "`answer.answer` is an empty list".into());
                    None
                }
                DeValue::Array(_) => Some((self.texts(v, "answer.answer")?, true)),
                other => {
                    self.error(
                        v.span().start,
                        format!(
                            "`answer.answer` must be a string or a list of strings, not {}",
                            other.type_str()
                        ),
                    );
                    None
                }
            }
        });

        let (answers, multi) = answers?;
        let distractors = distractors?;
        let mut seen: HashMap<String, bool> = HashMap::new();
        let mut ok = true;
        for (text, offset) in &answers {
            if seen.insert(normalize(text), true).is_some() {
                self.error(*offset, format!("the answer `{text}` is listed twice"));
                ok = false;
            }
        }
        for (text, offset) in &distractors {
            match seen.insert(normalize(text), false) {
                Some(true) => {
                    self.error(*offset, format!("`{text}` is both an answer and a distractor"));
                    ok = false;
                }
                Some(false) => {
                    self.error(*offset, format!("the distractor `{text}` is listed twice"));
                    ok = false;
                }
                None => {}
            }
        }
        if let Some((n, offset)) = answer_index {
            if multi {
                self.error(
                    offset,
                    "`prompt.answerIndex` only goes with a single answer (`answer.answer` is a list)".into(),
                );
                ok = false;
            } else if n > distractors.len() {
                self.error(
                    offset,
                    format!(
                        "`prompt.answerIndex` is {n}, but the question has only {} options (0 to {})",
                        distractors.len() + 1,
                        distractors.len()
                    ),
                );
                ok = false;
            }
        }
        ok.then(|| {
            Kind::MultipleChoice(MultipleChoice {
                answers: answers.into_iter().map(|(s, _)| s).collect(),
                multi,
                distractors: distractors.into_iter().map(|(s, _)| s).collect(),
                answer_index: answer_index.map(|(n, _)| n),
                sort_answers: sort_answers.unwrap_or(false),
            })
        })
    }

    fn short_answer(&mut self, prompt: Option<&(Fields, usize)>, answer: Option<&(Fields, usize)>) -> Option<Kind> {
        if let Some((f, _)) = prompt
            && let Some(v) = f.get("response")
            && let Some(s) = self.string(v, "prompt.response")
            && !["short", "long", "code"].contains(&s.as_str())
        {
            self.error(
                v.span().start,
                format!("`prompt.response` must be \"short\", \"long\" or \"code\", not `{s}`"),
            );
        }
        let (f, at) = answer?;
        let main = self
            .required(f, "answer", *at, "`answer.answer`: the expected text")
            .and_then(|v| self.text(v, "answer.answer"));
        let alternatives = match f.get("alternatives") {
            Some(v) => self
                .texts(v, "answer.alternatives")
                .map(|l| l.into_iter().map(|(s, _)| s).collect()),
            None => Some(Vec::new()),
        };
        Some(Kind::ShortAnswer(ShortAnswer {
            answer: main?,
            alternatives: alternatives?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"title = "Demo"

[[questions]]
id = "one"
type = "MultipleChoice"
prompt.prompt = "Pick **A**."
prompt.distractors = ["B", "C"]
answer.answer = "A"
context = "A is right; B and C are not."

[[questions]]
id = "two"
type = "MultipleChoice"
prompt.prompt = "Pick two."
prompt.distractors = ["`z`"]
answer.answer = ["x", "y"]
context = "x and y."

[[questions]]
id = "three"
type = "ShortAnswer"
prompt.prompt = "Port?"
answer.answer = "6379"
answer.alternatives = ["tcp/6379"]
context = "Redis listens on 6379."
"#;

    fn parse(text: &str) -> Result<Quiz, Diagnostics> {
        Quiz::parse("demo", "quizzes/demo.toml", text)
    }

    /// The (line, col, message) of every diagnostic.
    fn errors(text: &str) -> Vec<(usize, usize, String)> {
        parse(text)
            .expect_err("the quiz should be rejected")
            .0
            .into_iter()
            .map(|d| {
                assert_eq!(d.file, "quizzes/demo.toml");
                (d.line, d.col, d.message)
            })
            .collect()
    }

    fn one_error(text: &str) -> (usize, usize, String) {
        let mut all = errors(text);
        assert_eq!(all.len(), 1, "{all:#?}");
        all.remove(0)
    }

    #[test]
    fn parses_a_good_quiz() {
        let quiz = parse(GOOD).unwrap();
        assert_eq!(quiz.title, "Demo");
        assert_eq!(quiz.questions.len(), 3);
        let q = &quiz.questions[0];
        assert_eq!(q.id, "one");
        assert_eq!(q.id_at, (4, 6));
        assert_eq!(q.expected(), vec!["A"]);
        assert!(!q.is_multi());
        assert!(quiz.questions[1].is_multi());
        assert_eq!(quiz.questions[1].expected(), vec!["x", "y"]);
        match &quiz.questions[2].kind {
            Kind::ShortAnswer(sa) => assert_eq!(sa.alternatives, vec!["tcp/6379"]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn without_a_title_the_id_in_words() {
        let text = GOOD.replace("title = \"Demo\"\n", "");
        assert_eq!(parse(&text).unwrap().title, "Demo");
        let quiz = Quiz::parse("my_extra-quiz", "quizzes/my_extra-quiz.toml", &text).unwrap();
        assert_eq!(quiz.title, "My extra quiz");
    }

    #[test]
    fn answer_that_is_also_a_distractor() {
        let text = GOOD.replace(r#"["B", "C"]"#, r#"["B", " a "]"#);
        let (line, col, msg) = one_error(&text);
        assert_eq!((line, col), (7, 28), "{msg}");
        assert!(msg.contains("both an answer and a distractor"), "{msg}");
    }

    #[test]
    fn empty_prompt() {
        let text = GOOD.replace(r#"prompt.prompt = "Port?""#, r#"prompt.prompt = "  ""#);
        let (line, col, msg) = one_error(&text);
        assert_eq!((line, col), (22, 17));
        assert_eq!(msg, "`prompt.prompt` is empty");
    }

    #[test]
    fn duplicate_id() {
        let text = GOOD.replace(r#"id = "three""#, r#"id = "one""#);
        let (line, col, msg) = one_error(&text);
        assert_eq!((line, col), (20, 6));
        assert_eq!(msg, "duplicate question id `one` (first used on line 4)");
    }

    #[test]
    fn unknown_fields_at_every_level() {
        let text = GOOD
            .replace("title = \"Demo\"", "title = \"Demo\"\nauthor = \"me\"")
            .replace("context = \"x and y.\"", "context = \"x and y.\"\nhint = \"no\"")
            .replace(
                "prompt.prompt = \"Port?\"",
                "prompt.prompt = \"Port?\"\nprompt.answerIndex = 0",
            )
            .replace("answer.answer = \"A\"", "answer.answer = \"A\"\nanswer.why = \"A\"");
        let all = errors(&text);
        let at: Vec<(usize, usize)> = all.iter().map(|(l, c, _)| (*l, *c)).collect();
        assert_eq!(at, vec![(2, 1), (10, 8), (20, 1), (26, 8)], "{all:#?}");
        assert!(
            all[0].2.starts_with("unknown field `author` at the top level"),
            "{}",
            all[0].2
        );
        assert!(all[1].2.contains("unknown field `why` in `answer`"), "{}", all[1].2);
        assert!(all[2].2.contains("unknown field `hint` in a question"), "{}", all[2].2);
        assert!(
            !all[2].2.contains("did you mean"),
            "`hint` is like no field: {}",
            all[2].2
        );
        assert!(
            all[3]
                .2
                .contains("unknown field `answerIndex` in `prompt` of a ShortAnswer question"),
            "{}",
            all[3].2
        );
    }

    #[test]
    fn a_mistyped_field_gets_the_field_it_was_meant_to_be() {
        let text = GOOD.replacen("prompt.distractors", "prompt.distractor", 1);
        let all = errors(&text);
        let msg = &all
            .iter()
            .find(|(_, _, m)| m.contains("`distractor`"))
            .expect("an error on the field")
            .2;
        assert!(msg.starts_with("unknown field `distractor` in `prompt`"), "{msg}");
        assert!(msg.ends_with("; did you mean `distractors`?"), "{msg}");
    }

    #[test]
    fn bad_toml() {
        let text = GOOD.replace("id = \"two\"", "id = \"two");
        let all = errors(&text);
        assert!(!all.is_empty());
        assert_eq!(all[0].0, 12, "{all:#?}");
        assert!(all[0].2.starts_with("invalid TOML"), "{all:#?}");
    }

    #[test]
    fn wrong_type_value() {
        let text = GOOD.replace("type = \"ShortAnswer\"", "type = \"Essay\"");
        let (line, col, msg) = one_error(&text);
        assert_eq!((line, col), (21, 8));
        assert!(msg.starts_with("unknown question type `Essay`"), "{msg}");

        let text = GOOD.replace("type = \"ShortAnswer\"", "type = \"Tracing\"");
        assert!(one_error(&text).2.contains("not supported"));

        let text = GOOD.replace("answer.answer = \"6379\"", "answer.answer = 6379");
        let (line, col, msg) = one_error(&text);
        assert_eq!((line, col), (23, 17));
        assert_eq!(msg, "`answer.answer` must be a string, not integer");
    }

    #[test]
    fn no_questions() {
        let (line, col, msg) = one_error("title = \"Nothing\"\n");
        assert_eq!((line, col), (1, 1));
        assert!(msg.starts_with("no questions"), "{msg}");
        assert!(one_error("questions = []\n").2.starts_with("no questions"));
    }

    #[test]
    fn missing_fields_point_at_the_question() {
        let text = GOOD
            .replace("context = \"A is right; B and C are not.\"\n", "")
            .replace("id = \"two\"\n", "");
        let all = errors(&text);
        let at: Vec<(usize, usize)> = all.iter().map(|(l, c, _)| (*l, *c)).collect();
        assert_eq!(at, vec![(3, 1), (10, 1)], "{all:#?}");
        assert!(all[0].2.contains("no `context`"), "{}", all[0].2);
        assert!(all[1].2.contains("no `id`"), "{}", all[1].2);
    }

    #[test]
    fn reports_every_problem_at_once() {
        let text = GOOD
            .replace(r#"["B", "C"]"#, r#"["B", "A"]"#)
            .replace(r#"prompt.prompt = "Pick two.""#, r#"prompt.prompt = """#)
            .replace(r#"id = "three""#, r#"id = "one""#);
        let all = errors(&text);
        let lines: Vec<usize> = all.iter().map(|e| e.0).collect();
        assert_eq!(lines, vec![7, 14, 20], "{all:#?}");
    }

    #[test]
    fn answer_index_and_sorting() {
        let text = GOOD.replace(
            "prompt.distractors = [\"B\", \"C\"]",
            "prompt.distractors = [\"B\", \"C\"]\nprompt.answerIndex = 3",
        );
        let (line, _, msg) = one_error(&text);
        assert_eq!(line, 8);
        assert!(msg.contains("only 3 options"), "{msg}");
        let text = GOOD.replace(
            "prompt.distractors = [\"B\", \"C\"]",
            "prompt.distractors = [\"B\", \"C\"]\nprompt.answerIndex = 2\nprompt.sortAnswers = false",
        );
        match &parse(&text).unwrap().questions[0].kind {
            Kind::MultipleChoice(mc) => assert_eq!(mc.answer_index, Some(2)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn duplicate_ids_across_quizzes() {
        let a = parse(GOOD).unwrap();
        let mut b = Quiz::parse("other", "quizzes/other.toml", GOOD).unwrap();
        b.questions.truncate(1);
        let sources = HashMap::from([("quizzes/other.toml".to_string(), GOOD.to_string())]);
        let errs = check_unique_ids(&[a, b], &sources);
        assert_eq!(errs.len(), 1);
        assert_eq!((errs[0].file.as_str(), errs[0].line), ("quizzes/other.toml", 4));
        assert!(errs[0].message.contains("already used in quizzes/demo.toml"));
    }
}
