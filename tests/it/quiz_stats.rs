//! `labcheck cohort quizzes`: a generated cohort whose statistics are known.
//! Ten learners take a five-question quiz through `labcheck quiz --answers`
//! (real result files); one question's key is wrong (the stronger learners
//! pick the option that is really right), one is too easy, one too hard.
//! The figures expected below were worked out by hand from the point-biserial
//! formula. No sandbox is needed.

use crate::common::{labcheck, text, write};
use serde_json::Value;
use std::path::Path;

const QUIZ: &str = r#"
[[questions]]
id = "q-easy"
type = "MultipleChoice"
prompt.prompt = "Where do media files go?"
prompt.distractors = ["The instance disk"]
answer.answer = "S3"
context = "."

[[questions]]
id = "q-key"
type = "MultipleChoice"
prompt.prompt = "A question whose key is wrong"
prompt.distractors = ["Right", "Other"]
answer.answer = "Wrong"
context = "."

[[questions]]
id = "q-a"
type = "MultipleChoice"
prompt.prompt = "Question A"
prompt.distractors = ["A-wrong"]
answer.answer = "A-right"
context = "."

[[questions]]
id = "q-c"
type = "MultipleChoice"
prompt.prompt = "Question C"
prompt.distractors = ["C-wrong"]
answer.answer = "C-right"
context = "."

[[questions]]
id = "q-hard"
type = "MultipleChoice"
prompt.prompt = "A hard question"
prompt.distractors = ["H-wrong"]
answer.answer = "H-right"
context = "."
"#;

const LAB: &str = "# Lab\n\n## Step {#s}\n\n```check\nid = \"s.ok\"\ntitle = \"ok\"\nkind = \"command\"\nrun = \"true\"\nhint = \"h\"\n```\n";

/// Learner `i`'s answers: 0–4 are the weaker half, 5–9 the stronger, 9 the
/// only one who gets the hard question.
fn answers(i: usize) -> String {
    let weak = i < 5;
    let pick = |yes: bool, right: &str, wrong: &str| if yes { right.to_string() } else { wrong.to_string() };
    format!(
        "q-easy = \"S3\"\nq-key = \"{}\"\nq-a = \"{}\"\nq-c = \"{}\"\nq-hard = \"{}\"\n",
        pick(weak, "Wrong", "Right"),
        pick(!weak, "A-right", "A-wrong"),
        pick(!weak, "C-right", "C-wrong"),
        pick(i == 9, "H-right", "H-wrong"),
    )
}

const ALL_RIGHT: &str =
    "q-easy = \"S3\"\nq-key = \"Wrong\"\nq-a = \"A-right\"\nq-c = \"C-right\"\nq-hard = \"H-right\"\n";

fn take(course: &Path, answers: &str, out: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "answers.toml", answers);
    let run = labcheck()
        .arg("--course-dir")
        .arg(course)
        .args(["quiz", "demo", "--format", "json", "--answers"])
        .arg(&file)
        .env("LABCHECK_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(matches!(run.status.code(), Some(0 | 1)), "{}", text(&run));
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    std::fs::write(out, &run.stdout).unwrap();
}

fn course() -> tempfile::TempDir {
    let course = tempfile::tempdir().unwrap();
    write(course.path(), "labs/lab.md", LAB);
    write(course.path(), "quizzes/demo.toml", QUIZ);
    course
}

fn quizzes(course: &Path, dir: &Path, format: &str) -> std::process::Output {
    labcheck()
        .arg("--course-dir")
        .arg(course)
        .args(["cohort", "quizzes"])
        .arg(dir)
        .args(["--format", format])
        .output()
        .unwrap()
}

#[test]
fn the_report_finds_the_wrong_key_the_easy_and_the_hard_question() {
    let course = course();
    let results = tempfile::tempdir().unwrap();
    for i in 0..10 {
        take(course.path(), &answers(i), &results.path().join(format!("l{i}/1.json")));
    }
    // l0 tries again and gets everything right: not their first try.
    take(course.path(), ALL_RIGHT, &results.path().join("l0/2.json"));
    // What is not a quiz result is named and skipped.
    write(results.path(), "report.json", r#"{"schema": "labcheck/report-v1"}"#);
    write(results.path(), "l3/broken.json", "{ not json");
    write(results.path(), "notes.txt", "not read at all");

    let out = quizzes(course.path(), results.path(), "json");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["schema"], "labcheck/quiz-stats-v1");
    assert_eq!(report["learners"], 10);
    assert_eq!(report["results"], 11);
    let skipped: Vec<&str> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["file"].as_str().unwrap())
        .collect();
    assert_eq!(skipped, ["l3/broken.json", "report.json"], "{report:#}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("skipped report.json: not a quiz result"), "{stderr}");

    let questions = report["questions"].as_array().unwrap();
    let order: Vec<&str> = questions.iter().map(|q| q["id"].as_str().unwrap()).collect();
    assert_eq!(order, ["q-key", "q-hard", "q-a", "q-c", "q-easy"], "worst first");
    let by_id = |id: &str| questions.iter().find(|q| q["id"] == id).unwrap();
    let close = |v: &Value, want: f64| (v.as_f64().unwrap() - want).abs() < 1e-4;
    // (first try right, discrimination, flags) as worked out by hand.
    let key = by_id("q-key");
    assert!(close(&key["first_try_right"], 0.5), "{key}");
    assert!(close(&key["discrimination"], -0.968_496), "{key}");
    assert_eq!(key["flags"], serde_json::json!(["negative-discrimination"]));
    assert_eq!(key["top_wrong"], serde_json::json!(["Right", 5]));
    assert_eq!(key["prompt"], "A question whose key is wrong");
    let hard = by_id("q-hard");
    assert!(close(&hard["first_try_right"], 0.1), "{hard}");
    assert!(close(&hard["discrimination"], 1.0 / 3.0), "{hard}");
    assert_eq!(hard["flags"], serde_json::json!(["too-hard"]));
    assert_eq!(hard["top_wrong"], serde_json::json!(["H-wrong", 9]));
    for id in ["q-a", "q-c"] {
        let q = by_id(id);
        assert!(close(&q["discrimination"], 1.0 / 3.0), "{q}");
        assert_eq!(q["flags"], serde_json::json!([]), "{q}");
    }
    let easy = by_id("q-easy");
    assert!(close(&easy["first_try_right"], 1.0), "{easy}");
    assert_eq!(easy["discrimination"], Value::Null, "everybody right: no figure");
    assert_eq!(easy["flags"], serde_json::json!(["too-easy"]));
    assert_eq!(easy["top_wrong"], Value::Null);
    assert!(questions.iter().all(|q| q["attempts"] == 11 && q["learners"] == 10));

    // The CSV and the page say the same, worst first.
    let csv = quizzes(course.path(), results.path(), "csv");
    assert_eq!(csv.status.code(), Some(0), "{}", text(&csv));
    let csv = String::from_utf8(csv.stdout).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "quiz,question,learners,attempts,first_try_right,discrimination,top_wrong,top_wrong_count,flags,prompt"
    );
    assert!(
        lines[1].starts_with("demo,q-key,10,11,0.500,-0.968,Right,5,negative-discrimination,"),
        "{csv}"
    );
    let html = quizzes(course.path(), results.path(), "html");
    let html = String::from_utf8(html.stdout).unwrap();
    assert!(html.contains("A question whose key is wrong"), "prompts shown");
    assert!(
        html.find("q-key").unwrap() < html.find("q-easy").unwrap(),
        "worst first"
    );
    assert!(html.contains("check the key"), "the flag explained");
}

/// Result files come from learners: control sequences never reach the
/// terminal or a page, and a typed answer is no spreadsheet formula.
#[test]
fn hostile_result_files_are_skipped_or_defused_never_fatal() {
    let course = course();
    let results = tempfile::tempdir().unwrap();
    let hostile = serde_json::json!({
        "schema": "labcheck/quiz-result-v1", "quiz": "demo", "title": "t",
        "mode": "scripted", "seed": 1, "score": 0, "max_score": 1,
        "finished_at": "2026-12-01T10:00:00Z", "learner": "\u{1b}]0;owned\u{7}eve",
        "questions": [ { "id": "q-hard", "correct": false,
            "given": "=HYPERLINK(\"http://example.invalid\")", "expected": "H-right",
            "explanation": "" } ] });
    write(results.path(), "eve.json", &hostile.to_string());
    // A file far larger than any result is refused, not read whole.
    write(results.path(), "huge.json", &" ".repeat(5 << 20));
    for format in ["csv", "json", "html"] {
        let out = quizzes(course.path(), results.path(), format);
        let all = text(&out);
        assert_eq!(out.status.code(), Some(0), "{format}: {all}");
        assert!(!all.contains('\u{1b}') && !all.contains('\u{7}'), "{format}: {all:?}");
        assert!(all.contains("huge.json"), "{format}: the big file is named: {all}");
        if format == "csv" {
            assert!(all.contains("'=HYPERLINK"), "{all}");
        }
        if format == "html" {
            assert!(!all.contains("<script>") && all.contains("=HYPERLINK(&quot;"), "{all}");
        }
    }
    // A folder with no result at all is bad input.
    let empty = tempfile::tempdir().unwrap();
    let out = quizzes(course.path(), empty.path(), "json");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("holds no quiz results"), "{}", text(&out));
}
