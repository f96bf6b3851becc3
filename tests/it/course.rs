//! The course stays right: the lab guide can be followed in order as
//! written, and the quizzes test understanding rather than guessing.
//!
//! - every check's `needs` are graded by callouts earlier in the guide, so
//!   the `labcheck check ID` a callout shows never skips for want of a step
//!   the learner has not reached;
//! - every environment variable a settings snippet reads is saved to
//!   `~/pets-lab.env` before the snippet, and is given to Elastic Beanstalk
//!   as an environment property;
//! - the book's lab chapter puts the lab's title first;
//! - in single-answer questions the right option is the longest at most a
//!   third of the time (and the shortest at most a third), and at least 15
//!   questions ask the learner to read code or output, in every chapter quiz.
//!
//! The commands themselves are checked by tests/course/ (Python: the AWS
//! CLI's and the EB CLI's own parsers, and a walkthrough in the sandbox).

use labcheck::course::Course;
use labcheck::course::quiz::{Kind, Quiz, plain};
use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};
use regex::Regex;
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn course() -> Course {
    Course::from_dir(&root(), &labcheck::checks::kind_ids()).unwrap_or_else(|e| panic!("the course loads: {e}"))
}

fn guide() -> String {
    std::fs::read_to_string(root().join("labs/deploy-django-eb.md")).unwrap()
}

/// Fenced code blocks: (info string's first word, text, byte offset).
fn code_blocks(text: &str) -> Vec<(String, String, usize)> {
    let mut out = Vec::new();
    let mut current: Option<(String, String, usize)> = None;
    for (event, range) in Parser::new(text).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                let lang = info.split_whitespace().next().unwrap_or("").to_string();
                current = Some((lang, String::new(), range.start));
            }
            Event::Text(t) => {
                if let Some((_, body, _)) = current.as_mut() {
                    body.push_str(&t);
                }
            }
            Event::End(TagEnd::CodeBlock) => out.extend(current.take()),
            _ => {}
        }
    }
    out
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count() + 1
}

#[test]
fn every_callout_comes_after_the_callouts_it_needs() {
    let course = course();
    let lab = course.lab(None).unwrap();
    let line: HashMap<&str, usize> = lab.checks().map(|(_, c)| (c.id.as_str(), c.line)).collect();
    let mut wrong = Vec::new();
    for (_, check) in lab.checks() {
        for need in &check.needs {
            if line[need.as_str()] > check.line {
                wrong.push(format!(
                    "{} (line {}) needs {need}, whose callout is later (line {})",
                    check.id,
                    check.line,
                    line[need.as_str()]
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "reorder labs/deploy-django-eb.md so that `labcheck check ID` at each callout can pass:\n{}",
        wrong.join("\n")
    );
}

/// Variables a shell block saves to `~/pets-lab.env`, in the two forms the
/// guide uses: `echo "export X=..." >> ~/pets-lab.env` and a heredoc
/// `cat >(>) ~/pets-lab.env <<EOF` holding `export X=...` lines.
fn saved_variables(block: &str) -> Vec<String> {
    let echo = Regex::new(r#"^\s*echo\s+"export\s+(\w+)=.*>>\s*~/pets-lab\.env"#).unwrap();
    let heredoc = Regex::new(r#"^\s*cat\s+>>?\s*~/pets-lab\.env\s+<<-?\s*'?(\w+)'?"#).unwrap();
    let export = Regex::new(r"^\s*export\s+(\w+)=").unwrap();
    let mut saved = Vec::new();
    let mut until: Option<String> = None;
    for line in block.lines() {
        if let Some(end) = &until {
            if line.trim() == end {
                until = None;
            } else if let Some(m) = export.captures(line) {
                saved.push(m[1].to_string());
            }
            continue;
        }
        if let Some(m) = echo.captures(line) {
            saved.push(m[1].to_string());
        } else if let Some(m) = heredoc.captures(line) {
            until = Some(m[1].to_string());
        }
    }
    saved
}

#[test]
fn every_variable_the_settings_read_is_saved_and_given_to_beanstalk() {
    let text = guide();
    let reads = Regex::new(r#"os\.(?:environ\[|environ\.get\(|getenv\()\s*["'](\w+)["']"#).unwrap();
    let envvars = Regex::new(r#"--envvars\s+"([^"]+)""#).unwrap();
    let mut saved: BTreeSet<String> = BTreeSet::new();
    let mut on_beanstalk: BTreeSet<String> = BTreeSet::new();
    let mut read: Vec<(String, usize)> = Vec::new();
    let mut problems = Vec::new();
    for (lang, body, at) in code_blocks(&text) {
        match lang.as_str() {
            "bash" | "sh" => {
                saved.extend(saved_variables(&body));
                for m in envvars.captures_iter(&body) {
                    on_beanstalk.extend(
                        m[1].split(',')
                            .filter_map(|kv| kv.split_once('='))
                            .map(|(k, _)| k.to_string()),
                    );
                }
            }
            "python" => {
                for m in reads.captures_iter(&body) {
                    let var = m[1].to_string();
                    if !saved.contains(&var) {
                        problems.push(format!(
                            "line {}: the settings read {var}, which no earlier command saves to ~/pets-lab.env",
                            line_of(&text, at)
                        ));
                    }
                    read.push((var, at));
                }
            }
            _ => {}
        }
    }
    assert!(
        read.len() >= 6,
        "the guide's settings read the RDS_* variables and the secret key: {read:?}"
    );
    for (var, at) in &read {
        if !on_beanstalk.contains(var) {
            problems.push(format!(
                "line {}: the settings read {var}, which `eb create --envvars` does not set on Beanstalk",
                line_of(&text, *at)
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The claim the book makes: the lab's file holds the RDS_* variables.
    for var in [
        "RDS_HOSTNAME",
        "RDS_PORT",
        "RDS_DB_NAME",
        "RDS_USER_NAME",
        "RDS_USER_PASSWORD",
    ] {
        assert!(saved.contains(var), "~/pets-lab.env holds {var}: {saved:?}");
    }
}

#[test]
fn the_saved_variables_parser_reads_both_forms() {
    let block = "echo \"export A=$A\" >> ~/pets-lab.env\ncat >> ~/pets-lab.env <<EOF\nexport B=$B\nexport C=$C\nEOF\nexport D=1\n";
    assert_eq!(saved_variables(block), vec!["A", "B", "C"]);
}

#[test]
fn the_book_chapter_shows_the_labs_title_first() {
    let chapter = std::fs::read_to_string(root().join("book/src/lab.md")).unwrap();
    let title = guide().lines().next().unwrap().to_string();
    assert_eq!(
        chapter.lines().next(),
        Some(title.as_str()),
        "lab.md starts with the lab's title"
    );
    let include = chapter
        .lines()
        .find(|l| l.starts_with("{{#include"))
        .expect("lab.md includes the guide");
    assert!(
        include.contains("deploy-django-eb.md:2:"),
        "the guide is included from its second line, so its title is not repeated: {include}"
    );
}

/// Single-answer multiple-choice questions: (quiz, id, answer, distractors), plain text.
fn single_answer(quizzes: &[Quiz]) -> Vec<(String, String, String, Vec<String>)> {
    let mut out = Vec::new();
    for quiz in quizzes {
        for q in &quiz.questions {
            if let Kind::MultipleChoice(mc) = &q.kind
                && !mc.multi
            {
                out.push((
                    quiz.id.clone(),
                    q.id.clone(),
                    plain(&mc.answers[0]),
                    mc.distractors.iter().map(|d| plain(d)).collect(),
                ));
            }
        }
    }
    out
}

#[test]
fn the_right_answer_is_the_longest_or_the_shortest_option_at_most_a_third_of_the_time() {
    let course = course();
    let questions = single_answer(&course.quizzes);
    assert!(questions.len() >= 40, "{} single-answer questions", questions.len());
    let longest: Vec<String> = questions
        .iter()
        .filter(|(_, _, answer, distractors)| {
            let n = answer.chars().count();
            distractors.iter().all(|d| d.chars().count() <= n)
        })
        .map(|(quiz, id, _, _)| format!("{quiz}/{id}"))
        .collect();
    println!(
        "right answer longest (or tied): {} of {} single-answer questions",
        longest.len(),
        questions.len()
    );
    assert!(
        longest.len() * 3 <= questions.len(),
        "{} of {} single-answer questions have the right answer as their longest option (at most a third may): {}",
        longest.len(),
        questions.len(),
        longest.join(", ")
    );
    // The opposite guess must not pay either.
    let shortest: Vec<String> = questions
        .iter()
        .filter(|(_, _, answer, distractors)| {
            let n = answer.chars().count();
            distractors.iter().all(|d| d.chars().count() >= n)
        })
        .map(|(quiz, id, _, _)| format!("{quiz}/{id}"))
        .collect();
    println!(
        "right answer shortest (or tied): {} of {}",
        shortest.len(),
        questions.len()
    );
    assert!(
        shortest.len() * 3 <= questions.len(),
        "{} of {} single-answer questions have the right answer as their shortest option (at most a third may): {}",
        shortest.len(),
        questions.len(),
        shortest.join(", ")
    );
}

#[test]
fn questions_ask_the_learner_to_read_code_or_output() {
    let course = course();
    let mut per_quiz: HashMap<&str, usize> = HashMap::new();
    let mut total = 0;
    for quiz in &course.quizzes {
        for q in &quiz.questions {
            if q.prompt.contains("```") {
                total += 1;
                *per_quiz.entry(quiz.id.as_str()).or_default() += 1;
                // What each wrong option gets wrong is explained, at some length.
                let words = q.context.split_whitespace().count();
                let options = match &q.kind {
                    Kind::MultipleChoice(mc) => mc.distractors.len() + mc.answers.len(),
                    Kind::ShortAnswer(_) => 1,
                };
                assert!(
                    words >= 12 * options,
                    "{}/{}: the explanation ({words} words) is too short to say why each option is right or wrong",
                    quiz.id,
                    q.id
                );
            }
        }
    }
    println!("code- or output-reading questions: {total} {per_quiz:?}");
    assert!(
        total >= 15,
        "{total} questions show code or output; the course wants at least 15"
    );
    // Every chapter's quiz (all but the pre-assessment and the knowledge check).
    let chapters = course
        .quizzes
        .iter()
        .map(|q| q.id.as_str())
        .filter(|id| !["pre-assessment", "knowledge-check"].contains(id));
    for chapter in chapters {
        assert!(
            per_quiz.get(chapter).copied().unwrap_or(0) >= 1,
            "the {chapter} quiz has no question that shows code or output"
        );
    }
}
