//! `labcheck quiz`: the course's quiz files, scripted runs (`--answers`),
//! the results file, the no-terminal message, course folders with broken
//! quizzes, and the interactive quiz driven through a pseudo-terminal (tmux).
//! None of these tests needs the sandbox.

use crate::common::tmux::Tmux;
use crate::common::{labcheck, repo, text, write};
use labcheck::course::Course;
use labcheck::course::quiz::{Kind, Quiz};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

fn embedded_quiz(id: &str) -> Quiz {
    Course::embedded(&labcheck::checks::kind_ids())
        .unwrap()
        .quiz(id)
        .unwrap()
        .clone()
}

/// `labcheck quiz ARGS` with its results under `data`, stdin not a terminal.
fn quiz(data: &Path, args: &[&str]) -> Output {
    labcheck()
        .arg("quiz")
        .args(args)
        .env("LABCHECK_DATA_DIR", data)
        .stdin(Stdio::null())
        .output()
        .expect("run labcheck")
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON on stdout ({e}); exit {:?}\n{}", out.status.code(), text(out)))
}

/// Answers file (TOML) from (question id, answer texts).
fn answers_toml(dir: &Path, answers: &[(String, Vec<String>)]) -> PathBuf {
    let mut body = String::new();
    for (id, texts) in answers {
        let value = if texts.len() == 1 {
            toml_string(&texts[0])
        } else {
            format!(
                "[{}]",
                texts.iter().map(|t| toml_string(t)).collect::<Vec<_>>().join(", ")
            )
        };
        body.push_str(&format!("{id} = {value}\n"));
    }
    write(dir, "answers.toml", &body)
}

fn toml_string(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

fn right_answers(quiz: &Quiz) -> Vec<(String, Vec<String>)> {
    quiz.questions
        .iter()
        .map(|q| (q.id.clone(), q.expected().into_iter().map(str::to_string).collect()))
        .collect()
}

fn wrong_answers(quiz: &Quiz) -> Vec<(String, Vec<String>)> {
    quiz.questions
        .iter()
        .map(|q| {
            let wrong = match &q.kind {
                Kind::MultipleChoice(mc) => mc.distractors[0].clone(),
                Kind::ShortAnswer(_) => "no idea".to_string(),
            };
            (q.id.clone(), vec![wrong])
        })
        .collect()
}

fn progress(data: &Path) -> Value {
    let path = data.join("progress.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn every_course_quiz_parses_and_validates() {
    let course =
        Course::embedded(&labcheck::checks::kind_ids()).expect("the embedded course (labs and quizzes) is valid");
    // Which quizzes there are, and their order, is the quiz files' and the
    // book's business (crates/labcheck-course/src/embedded.rs tests it); the week starts
    // with the pre-assessment and ends with the knowledge check.
    let ids: Vec<&str> = course.quizzes.iter().map(|q| q.id.as_str()).collect();
    assert!(ids.len() >= 3, "{ids:?}");
    assert_eq!(ids.first(), Some(&"pre-assessment"), "{ids:?}");
    assert_eq!(ids.last(), Some(&"knowledge-check"), "{ids:?}");
    let total: usize = course.quizzes.iter().map(|q| q.questions.len()).sum();
    assert!(total >= 30, "only {total} questions");
    for quiz in &course.quizzes {
        assert!(quiz.questions.len() >= 3, "{} is too short", quiz.id);
        for q in &quiz.questions {
            assert!(
                q.context.len() > 40,
                "{}/{}: the explanation is too thin",
                quiz.id,
                q.id
            );
        }
    }
    // The files on disk are the embedded ones, and load the same from a checkout.
    let from_dir = Course::from_dir(&repo(), &labcheck::checks::kind_ids()).expect("the checkout's course is valid");
    let on_disk: Vec<(&str, usize)> = from_dir
        .quizzes
        .iter()
        .map(|q| (q.id.as_str(), q.questions.len()))
        .collect();
    let embedded: Vec<(&str, usize)> = course
        .quizzes
        .iter()
        .map(|q| (q.id.as_str(), q.questions.len()))
        .collect();
    assert_eq!(on_disk, embedded);

    // The end-of-week check keeps the course's "select two" question as a multi-answer one.
    let kc = course.quiz("knowledge-check").unwrap();
    let multi: Vec<_> = kc.questions.iter().filter(|q| q.is_multi()).collect();
    assert!(
        multi
            .iter()
            .any(|q| q.expected() == ["Amazon ElastiCache", "Amazon MemoryDB"]),
        "{multi:#?}"
    );
    let expected: Vec<&str> = kc.questions.iter().flat_map(|q| q.expected()).collect();
    assert!(
        expected.contains(&"Amazon RDS") && expected.contains(&"`eb deploy`"),
        "{expected:?}"
    );
    let pre: Vec<&str> = course
        .quiz("pre-assessment")
        .unwrap()
        .questions
        .iter()
        .flat_map(|q| q.expected())
        .collect();
    assert!(pre.contains(&"Amazon S3"), "{pre:?}");
}

#[test]
fn all_right_answers_score_full_marks_whatever_the_seed() {
    let data = tempfile::tempdir().unwrap();
    let kc = embedded_quiz("knowledge-check");
    let file = answers_toml(data.path(), &right_answers(&kc));
    for seed in ["1", "2"] {
        let out = quiz(
            data.path(),
            &[
                "knowledge-check",
                "--answers",
                file.to_str().unwrap(),
                "--format",
                "json",
                "--seed",
                seed,
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let doc = json_of(&out);
        assert_eq!(doc["schema"], "labcheck/quiz-result-v1");
        assert_eq!(doc["quiz"], "knowledge-check");
        assert_eq!(doc["mode"], "scripted");
        assert_eq!(doc["seed"], seed.parse::<u64>().unwrap());
        assert_eq!(doc["score"], kc.questions.len());
        assert_eq!(doc["max_score"], kc.questions.len());
        let questions = doc["questions"].as_array().unwrap();
        assert_eq!(questions.len(), kc.questions.len());
        for (q, item) in kc.questions.iter().zip(questions) {
            assert_eq!(item["id"], q.id.as_str());
            assert_eq!(item["correct"], true, "{item:#}");
            assert_eq!(item["given"], item["expected"], "{item:#}");
            assert_eq!(item["explanation"], q.context.as_str());
            if q.is_multi() {
                assert_eq!(item["expected"], json!(q.expected()));
            } else {
                assert_eq!(item["expected"], q.expected()[0]);
            }
        }
    }
    let attempts = &progress(data.path())["quizzes"]["knowledge-check"]["attempts"];
    assert_eq!(attempts.as_array().unwrap().len(), 2, "{attempts:#}");
    assert_eq!(attempts[0]["score"], kc.questions.len());
    assert_eq!(attempts[0]["mode"], "scripted");
    assert_eq!(attempts[1]["seed"], 2);
    assert!(attempts[0]["finished_at"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn all_wrong_answers_score_zero_and_exit_1() {
    let data = tempfile::tempdir().unwrap();
    let kc = embedded_quiz("knowledge-check");
    let file = answers_toml(data.path(), &wrong_answers(&kc));
    let out = quiz(
        data.path(),
        &[
            "knowledge-check",
            "--answers",
            file.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let doc = json_of(&out);
    assert_eq!(doc["score"], 0);
    assert_eq!(doc["max_score"], kc.questions.len());
    for item in doc["questions"].as_array().unwrap() {
        assert_eq!(item["correct"], false, "{item:#}");
        assert_ne!(item["given"], item["expected"]);
    }
    assert_eq!(
        progress(data.path())["quizzes"]["knowledge-check"]["attempts"][0]["score"],
        0
    );

    // The human report shows the right answers and the explanations.
    let out = quiz(data.path(), &["knowledge-check", "--answers", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let report = text(&out);
    assert!(report.contains("right answer:  Amazon RDS"), "{report}");
    assert!(report.contains(&format!("Score 0/{}", kc.questions.len())), "{report}");
}

#[test]
fn mixed_answers_from_json_score_what_is_right() {
    let data = tempfile::tempdir().unwrap();
    let file = write(
        data.path(),
        "answers.json",
        r#"{
  "kc-session-services": ["Amazon MemoryDB", "amazon elasticache"],
  "kc-models-data": "Amazon S3",
  "kc-redeploy": "eb deploy"
}"#,
    );
    let out = quiz(
        data.path(),
        &[
            "knowledge-check",
            "--answers",
            file.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let doc = json_of(&out);
    assert_eq!(doc["score"], 2);
    assert_eq!(doc["max_score"], 6);
    let by_id = |id: &str| {
        doc["questions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["id"] == id)
            .unwrap_or_else(|| panic!("no {id}"))
            .clone()
    };
    let sessions = by_id("kc-session-services");
    assert_eq!(sessions["correct"], true);
    // Matched by text; reported as written in the quiz file.
    assert_eq!(sessions["given"], json!(["Amazon MemoryDB", "Amazon ElastiCache"]));
    let models = by_id("kc-models-data");
    assert_eq!(
        (models["correct"].clone(), models["given"].clone()),
        (json!(false), json!("Amazon S3"))
    );
    assert_eq!(models["expected"], "Amazon RDS");
    assert_eq!(by_id("kc-redeploy")["given"], "`eb deploy`");
    let skipped = by_id("kc-decouple");
    assert_eq!(skipped["given"], Value::Null);
    assert_eq!(skipped["correct"], false);
}

#[test]
fn unknown_question_id_or_option_exits_2_and_records_nothing() {
    let data = tempfile::tempdir().unwrap();
    let file = write(
        data.path(),
        "answers.toml",
        "kc-redeploy = \"eb deploy\"\nkc-nope = \"x\"\n",
    );
    let out = quiz(data.path(), &["knowledge-check", "--answers", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("no question `kc-nope` in quiz knowledge-check"),
        "{}",
        text(&out)
    );

    let file = write(data.path(), "answers.toml", "kc-redeploy = \"eb ship\"\n");
    let out = quiz(data.path(), &["knowledge-check", "--answers", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("`eb ship` is not an option of question `kc-redeploy`"),
        "{}",
        text(&out)
    );

    let file = write(
        data.path(),
        "answers.toml",
        "kc-redeploy = \"eb deploy\"\nkc-models-data = \n",
    );
    let out = quiz(data.path(), &["knowledge-check", "--answers", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("answers.toml:2:"), "{}", text(&out));

    let out = quiz(data.path(), &["no-such-quiz", "--answers", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("no quiz `no-such-quiz`; quizzes in this course: pre-assessment"));

    assert!(!data.path().join("progress.json").exists());
}

#[test]
fn listing_shows_each_quiz_and_the_best_score() {
    let data = tempfile::tempdir().unwrap();
    let kc = embedded_quiz("knowledge-check");
    let out = quiz(data.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let listing = text(&out);
    // Every quiz on its line, with the title its file gives it.
    let course = Course::embedded(&labcheck::checks::kind_ids()).unwrap();
    for q in &course.quizzes {
        let line = listing
            .lines()
            .find(|l| l.starts_with(&format!("{}  ", q.id)))
            .unwrap_or_else(|| panic!("no line for {}:\n{listing}", q.id));
        assert!(line.contains(&q.title), "{line}");
    }
    assert!(listing.contains("Knowledge check: the whole week"), "{listing}");

    let mut mixed = right_answers(&kc);
    mixed.truncate(2);
    for answers in [mixed, right_answers(&kc), wrong_answers(&kc)] {
        let file = answers_toml(data.path(), &answers);
        quiz(data.path(), &["knowledge-check", "--answers", file.to_str().unwrap()]);
    }
    let out = quiz(data.path(), &[]);
    let listing = text(&out);
    let line = listing
        .lines()
        .find(|l| l.starts_with("knowledge-check"))
        .unwrap_or_else(|| panic!("{listing}"));
    let n = kc.questions.len();
    assert!(line.contains(&format!("  {n}  {n}/{n}")), "{line}");
    let line = listing.lines().find(|l| l.starts_with("media-s3")).unwrap();
    assert!(line.ends_with("not taken"), "{line}");

    let doc = json_of(&quiz(data.path(), &["--format", "json"]));
    let entry = doc["quizzes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["id"] == "knowledge-check")
        .unwrap();
    assert_eq!(entry["best"], json!({"score": n, "max_score": n}));
    assert_eq!(entry["attempts"], 3);
    assert_eq!(entry["questions"], n);
    assert_eq!(entry["title"], kc.title.as_str());
    assert_eq!(doc["quizzes"][0]["best"], Value::Null);
}

#[test]
fn no_terminal_and_no_answers_exits_2_with_how_to() {
    let data = tempfile::tempdir().unwrap();
    let out = quiz(data.path(), &["knowledge-check"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let message = text(&out);
    assert!(message.contains("standard input is not one"), "{message}");
    assert!(
        message.contains("labcheck quiz knowledge-check --answers answers.toml"),
        "{message}"
    );
    assert!(
        message.contains("kc-session-services  (a list of option texts)"),
        "{message}"
    );
    assert!(!data.path().join("progress.json").exists());

    // Listing needs no terminal.
    assert_eq!(quiz(data.path(), &[]).status.code(), Some(0));
}

#[test]
fn a_broken_quiz_rejects_the_course_with_every_problem_located() {
    let dir = repo().join("tests/fixtures/quizzes/bad-course");
    let data = tempfile::tempdir().unwrap();
    for args in [vec!["quiz"], vec!["list"], vec!["check", "--region", "us-west-2"]] {
        let out = labcheck()
            .args(&args)
            .arg("--course-dir")
            .arg(&dir)
            .env("LABCHECK_DATA_DIR", data.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        let message = text(&out);
        for (file, at, what) in [
            ("broken.toml", "6:37", "`Amazon S3` is both an answer and a distractor"),
            (
                "broken.toml",
                "11:6",
                "duplicate question id `b-one` (first used on line 3)",
            ),
            ("broken.toml", "12:8", "unknown question type `MultipleChoise`"),
            ("broken.toml", "13:17", "`prompt.prompt` is empty"),
            ("broken.toml", "16:1", "unknown field `colour` in a question"),
            ("empty.toml", "1:1", "no questions"),
            ("syntax.toml", "2:12", "invalid TOML"),
        ] {
            let needle = format!("quizzes/{file}:{at}: {what}");
            assert!(message.contains(&needle), "missing `{needle}` in:\n{message}");
        }
    }
}

#[test]
fn interactive_quiz_in_a_terminal() {
    let course_dir = repo().join("tests/fixtures/quizzes/course");
    let course = Course::from_dir(&course_dir, &labcheck::checks::kind_ids()).unwrap();
    let mini = course.quiz("mini").unwrap();
    let seed = 11;
    let data = tempfile::tempdir().unwrap();
    let command = format!(
        "env NO_COLOR=1 LABCHECK_DATA_DIR='{}' '{}' quiz mini --seed {seed} --course-dir '{}'; echo EXIT=$?; sleep 60",
        data.path().display(),
        env!("CARGO_BIN_EXE_labcheck"),
        course_dir.display()
    );
    let tmux = Tmux::start(&command, 120);

    // Question 1, one answer: press the right option's number (the order
    // comes from the seed).
    let order = labcheck::quiz::options::order(&mini.questions[0], seed);
    let right = order.iter().position(|c| c.correct).unwrap();
    let screen = tmux.wait_for_after("Question 1/3", "4. ");
    assert!(screen.contains("Where do the pet pictures go?"), "{screen}");
    tmux.keys(&[&(right + 1).to_string()]);
    let screen = tmux.wait_for("Question 2/3");
    assert!(screen.contains("✓ Right!"), "{screen}");
    assert!(screen.contains("Object storage suits pictures"), "{screen}");

    // Question 2, select two: tick one wrong option only.
    let order = labcheck::quiz::options::order(&mini.questions[1], seed);
    let wrong = order.iter().position(|c| c.text == "22").unwrap();
    tmux.wait_for_after("Question 2/3", "4. ");
    for _ in 0..wrong {
        tmux.keys(&["Down"]);
    }
    tmux.keys(&["Space"]);
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("Question 3/3");
    assert!(screen.contains("✗ Not quite."), "{screen}");
    assert!(screen.contains("right answers: 3306; 6379"), "{screen}");
    assert!(screen.contains("MySQL listens on 3306 and Redis on 6379"), "{screen}");

    // Question 3, short answer.
    tmux.wait_for_after("Question 3/3", "? Your answer");
    tmux.type_text("REDISS");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("EXIT=");
    assert!(screen.contains("The extra s means TLS."), "{screen}");
    assert!(screen.contains("Score 2/3"), "{screen}");
    assert!(screen.contains("EXIT=1"), "{screen}");

    let attempts = &progress(data.path())["quizzes"]["mini"]["attempts"];
    assert_eq!(attempts[0]["mode"], "interactive");
    assert_eq!(attempts[0]["score"], 2);
    assert_eq!(attempts[0]["max_score"], 3);
    assert_eq!(attempts[0]["seed"], seed);
}

/// Options wider than the terminal wrap; moving through them redraws the list
/// in place, leaving no copy of the old one above it.
#[test]
fn long_options_redraw_in_place_on_an_80_column_terminal() {
    let course_dir = repo().join("tests/fixtures/quizzes/course");
    let course = Course::from_dir(&course_dir, &labcheck::checks::kind_ids()).unwrap();
    let wide = course.quiz("wide").unwrap();
    let Kind::MultipleChoice(mc) = &wide.questions[0].kind else {
        panic!("a multiple-choice question")
    };
    assert!(
        mc.distractors[0].chars().count() > 160 && mc.answers[0].chars().count() > 80,
        "the fixture's options wrap at 80 columns"
    );
    let data = tempfile::tempdir().unwrap();
    let command = format!(
        "env NO_COLOR=1 LABCHECK_DATA_DIR='{}' '{}' quiz wide --course-dir '{}'; echo EXIT=$?; sleep 60",
        data.path().display(),
        env!("CARGO_BIN_EXE_labcheck"),
        course_dir.display()
    );
    let tmux = Tmux::start(&command, 80);
    let help = "↑/↓ then Enter, or press the option's number";
    let pointer_on = |screen: &str, n: usize| screen.lines().any(|l| l.starts_with(&format!("❯ {n}. ")));

    tmux.wait_for_after("Question 1/1", "3. Nowhere");
    // Down to the last option and back up: four redraws.
    for (key, at) in [("Down", 2), ("Down", 3), ("Up", 2), ("Up", 1)] {
        tmux.keys(&[key]);
        let start = Instant::now();
        let screen = loop {
            let screen = tmux.scrollback();
            if pointer_on(&screen, at) {
                break screen;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the pointer never reached option {at}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        let list = &screen[screen.rfind("Question 1/1").unwrap()..];
        assert_eq!(
            list.matches(help).count(),
            1,
            "one list on screen after {key}:\n{screen}"
        );
        for n in 1..=3 {
            let options = list
                .lines()
                .filter(|l| l.trim_start_matches(['❯', ' ']).starts_with(&format!("{n}. ")))
                .count();
            assert_eq!(options, 1, "option {n} shows once after {key}:\n{screen}");
        }
    }
    tmux.keys(&["Down", "Enter"]);
    let screen = tmux.wait_for("EXIT=");
    let tail = &screen[screen.rfind("Question 1/1").unwrap()..];
    assert_eq!(
        tail.matches(help).count(),
        0,
        "the list is gone once answered:\n{screen}"
    );
    assert!(tail.contains("Your answer 2. In the static folder"), "{screen}");
    assert!(tail.contains("✓ Right!"), "{screen}");
    assert!(screen.contains("EXIT=0"), "{screen}");
}
