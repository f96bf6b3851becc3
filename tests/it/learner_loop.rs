//! The learner's loop: `labcheck status` after checks and quizzes, recorded
//! results and quiz progress that survive runs finishing at once, and
//! `labcheck watch` (non-terminal mode) re-grading until green, on a file
//! change and on its interval.

use crate::common::tmux::Tmux;
use crate::common::{Learner, labcheck, learner, text, write};
use labcheck::course::Course;
use labcheck::course::quiz::Kind;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Where one test keeps labcheck's state and quiz progress.
struct Home {
    _dir: tempfile::TempDir,
    state: PathBuf,
    data: PathBuf,
}

fn home() -> Home {
    let dir = tempfile::tempdir().unwrap();
    Home {
        state: dir.path().join("state"),
        data: dir.path().join("data"),
        _dir: dir,
    }
}

impl Home {
    fn apply<'a>(&self, cmd: &'a mut Command) -> &'a mut Command {
        cmd.env("LABCHECK_STATE_DIR", &self.state)
            .env("LABCHECK_DATA_DIR", &self.data)
            .stdin(Stdio::null())
    }

    /// `labcheck status --format json` for an account.
    fn status(&self, account: &str) -> Value {
        let out = self
            .apply(&mut labcheck())
            .args(["status", "--format", "json", "--account", account])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{}", text(&out)))
    }

    fn status_human(&self, account: &str) -> String {
        let out = self
            .apply(&mut labcheck())
            .args(["status", "--account", account])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        String::from_utf8(out.stdout).unwrap()
    }

    /// `labcheck check ARGS` as a learner, recorded in this home.
    fn check(&self, l: &Learner, args: &[&str]) -> Output {
        self.apply(&mut l.labcheck()).arg("check").args(args).output().unwrap()
    }

    /// Starts a scripted quiz with every answer right.
    fn spawn_quiz(&self, id: &str, answers: &Path) -> Child {
        self.apply(&mut labcheck())
            .args(["quiz", id, "--answers"])
            .arg(answers)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }
}

/// An answers file with the right answer to every question of a quiz.
fn right_answers(dir: &Path, id: &str) -> (PathBuf, usize) {
    let course = Course::embedded(&labcheck::checks::kind_ids()).unwrap();
    let quiz = course.quiz(id).unwrap();
    let mut body = String::new();
    for q in &quiz.questions {
        let texts: Vec<String> = match &q.kind {
            Kind::MultipleChoice(mc) => mc.answers.clone(),
            Kind::ShortAnswer(sa) => vec![sa.answer.clone()],
        };
        let quoted: Vec<String> = texts
            .iter()
            .map(|t| toml::Value::String(t.clone()).to_string())
            .collect();
        body.push_str(&format!("{} = [{}]\n", q.id, quoted.join(", ")));
    }
    (write(dir, &format!("{id}.toml"), &body), quiz.questions.len())
}

fn step<'a>(status: &'a Value, id: &str) -> &'a Value {
    status["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no step {id}: {status:#}"))
}

fn check_of<'a>(status: &'a Value, id: &str) -> &'a Value {
    status["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["checks"].as_array().unwrap())
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id}: {status:#}"))
}

#[test]
fn status_shows_checks_quizzes_and_what_next() {
    let l = learner("status_shows_checks_quizzes_and_what_next");
    let h = home();

    // Nothing recorded yet.
    let st = h.status(&l.account);
    assert_eq!(st["schema"], "labcheck/status-v1");
    assert_eq!(st["account"], Value::Null);
    assert_eq!(st["next"]["command"], "labcheck check");
    assert_eq!(check_of(&st, "s3.cors")["status"], "not-run");

    // A failing check: status names it and says how to fix it.
    l.break_("no-cors");
    let out = h.check(&l, &["s3"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let st = h.status(&l.account);
    assert_eq!(st["account"], l.account.as_str());
    assert_eq!(st["region"], "us-west-2");
    assert_eq!(st["runs"], 1);
    assert_eq!(check_of(&st, "s3.cors")["status"], "fail");
    assert!(
        check_of(&st, "s3.cors")["hint"].as_str().unwrap().contains("CORS"),
        "{st:#}"
    );
    assert_eq!(check_of(&st, "s3.bucket")["status"], "pass");
    assert_eq!(check_of(&st, "rds.instance")["status"], "not-run");
    assert_eq!(
        step(&st, "s3")["score"],
        step(&st, "s3")["max_score"].as_u64().unwrap() - 2
    );
    assert_eq!(st["next"]["command"], "labcheck check s3.cors");
    let human = h.status_human(&l.account);
    assert!(human.contains("s3.cors failed"), "{human}");
    assert!(human.contains("Next: fix s3.cors"), "{human}");
    assert!(human.contains("not checked yet"), "{human}");
    assert!(human.contains("not taken"), "{human}");

    // Repaired and checked again: the step is done, the next step comes next.
    crate::common::provision(&l.account);
    let out = h.check(&l, &["s3"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let st = h.status(&l.account);
    assert_eq!(st["runs"], 2);
    assert_eq!(check_of(&st, "s3.cors")["status"], "pass");
    assert_eq!(step(&st, "s3")["score"], step(&st, "s3")["max_score"]);
    assert_eq!(st["next"]["command"], "labcheck check cache");

    // Without --account, status shows the account checked last.
    let out = h
        .apply(&mut labcheck())
        .args(["status", "--format", "json"])
        .output()
        .unwrap();
    let latest: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(latest["account"], l.account.as_str());

    // A quiz: its best score shows up.
    let dir = tempfile::tempdir().unwrap();
    let (answers, n) = right_answers(dir.path(), "knowledge-check");
    let quiz = h.spawn_quiz("knowledge-check", &answers).wait_with_output().unwrap();
    assert_eq!(quiz.status.code(), Some(0), "{}", text(&quiz));
    let st = h.status(&l.account);
    let kc = st["quizzes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["id"] == "knowledge-check")
        .unwrap();
    assert_eq!(kc["attempts"], 1);
    assert_eq!(kc["best"]["score"], n);
    assert_eq!(kc["best"]["max_score"], n);
    let human = h.status_human(&l.account);
    let line = human
        .lines()
        .find(|l| l.trim_start().starts_with("knowledge-check"))
        .unwrap_or_else(|| panic!("{human}"));
    assert!(line.contains(&format!("{n}/{n}")), "{line}");
}

#[test]
fn concurrent_checks_and_quizzes_lose_nothing() {
    let l = learner("concurrent_checks_and_quizzes_lose_nothing");
    let h = home();
    let dir = tempfile::tempdir().unwrap();
    let (pre, _) = right_answers(dir.path(), "pre-assessment");
    let (kc, _) = right_answers(dir.path(), "knowledge-check");
    const ROUNDS: usize = 50;
    for round in 0..ROUNDS {
        let spawn_check = |id: &str| {
            h.apply(&mut l.labcheck())
                .args(["check", id, "--format", "json"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let children = [
            spawn_check("s3.bucket"),
            spawn_check("eb.app"),
            h.spawn_quiz("pre-assessment", &pre),
            h.spawn_quiz("knowledge-check", &kc),
        ];
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert_eq!(out.status.code(), Some(0), "round {round}: {}", text(&out));
            assert!(out.stderr.is_empty(), "round {round}: {}", text(&out));
        }
    }
    let results_file = h.state.join("results").join(&l.account).join("deploy-django-eb.json");
    let results: Value = serde_json::from_str(&std::fs::read_to_string(&results_file).unwrap()).unwrap();
    assert_eq!(results["schema"], "labcheck/results-v1");
    assert_eq!(results["runs"], 2 * ROUNDS, "{results:#}");
    assert_eq!(results["checks"]["s3.bucket"]["status"], "pass");
    assert_eq!(results["checks"]["eb.app"]["status"], "pass");

    let progress: Value =
        serde_json::from_str(&std::fs::read_to_string(h.data.join("progress.json")).unwrap()).unwrap();
    for quiz in ["pre-assessment", "knowledge-check"] {
        let attempts = progress["quizzes"][quiz]["attempts"].as_array().unwrap();
        assert_eq!(attempts.len(), ROUNDS, "{quiz}");
        assert!(
            attempts
                .iter()
                .all(|a| a.get("max_score").is_some() && a.get("max").is_none())
        );
    }
    let st = h.status(&l.account);
    assert_eq!(st["runs"], 2 * ROUNDS);
    let pre = st["quizzes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["id"] == "pre-assessment")
        .unwrap();
    assert_eq!(pre["attempts"], ROUNDS);
}

/// A running `labcheck watch` whose stdout lines arrive on a channel.
struct Watch {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Watch {
    fn start(mut cmd: Command) -> Watch {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Watch {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a summary line containing `what`.
    fn wait_for(&mut self, what: &str, within: Duration) -> String {
        let end = Instant::now() + within;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(what) {
                        return line;
                    }
                }
                Err(_) => break,
            }
        }
        let _ = self.child.kill();
        panic!(
            "no line with {what:?} within {within:?}; lines so far:\n{}",
            self.seen.join("\n")
        );
    }

    /// Waits for the process to exit; returns its code.
    fn exit_code(&mut self, within: Duration) -> Option<i32> {
        let end = Instant::now() + within;
        while Instant::now() < end {
            if let Some(status) = self.child.try_wait().unwrap() {
                while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
                    self.seen.push(line);
                }
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        panic!(
            "labcheck watch still running after {within:?}; lines:\n{}",
            self.seen.join("\n")
        );
    }
}

#[test]
fn watch_exits_on_pass_once_the_bucket_is_repaired() {
    let l = learner("watch_exits_on_pass_once_the_bucket_is_repaired");
    let h = home();
    l.break_("no-cors");
    let project = tempfile::tempdir().unwrap();
    let mut cmd = l.labcheck();
    h.apply(&mut cmd)
        .args(["watch", "s3", "--exit-on-pass", "--interval", "1"])
        .current_dir(project.path());
    let mut watch = Watch::start(cmd);
    let first = watch.wait_for("run 1 (start)", Duration::from_secs(120));
    assert!(first.contains("failed: s3.cors"), "{first}");
    // Still red on the next interval, and still running.
    watch.wait_for("run 2 (interval)", Duration::from_secs(60));
    assert!(watch.child.try_wait().unwrap().is_none());

    crate::common::provision(&l.account);
    let code = watch.exit_code(Duration::from_secs(120));
    assert_eq!(code, Some(0), "lines:\n{}", watch.seen.join("\n"));
    let last = watch.seen.last().unwrap();
    assert!(last.contains("all pass"), "{last}");
    // One summary line per run, nothing else on stdout.
    assert!(
        watch.seen.iter().all(|l| l.contains(" run ") && l.contains(" passed")),
        "{:#?}",
        watch.seen
    );
    // The runs were recorded for `labcheck status`.
    let st = h.status(&l.account);
    assert_eq!(check_of(&st, "s3.cors")["status"], "pass");
    assert!(st["runs"].as_u64().unwrap() >= 3, "{st:#}");
}

#[test]
fn watch_grades_again_when_a_project_file_changes() {
    // A lab with one command check, so no sandbox is needed; the interval is
    // an hour, so only the file change can start the second run.
    let course = tempfile::tempdir().unwrap();
    let lab = "# Files\n\n## Project {#project}\n\n```check\nid = \"project.done\"\ntitle = \"done.txt exists\"\nkind = \"command\"\nrun = \"test -f \\\"$LABCHECK_PROJECT_DIR/app/done.txt\\\" || echo 'FAIL: no done.txt'\"\nhint = \"Create done.txt.\"\n```\n";
    write(course.path(), "labs/files.md", lab);
    let project = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(project.path().join("app")).unwrap();
    std::fs::create_dir_all(project.path().join("target/debug")).unwrap();
    let h = home();
    let mut cmd = labcheck();
    h.apply(&mut cmd)
        .args([
            "watch",
            "--lab",
            "files",
            "--exit-on-pass",
            "--interval",
            "3600",
            "--course-dir",
        ])
        .arg(course.path())
        .arg("--set")
        .arg(format!("project_dir={}", project.path().display()))
        .current_dir(project.path());
    let mut watch = Watch::start(cmd);
    let first = watch.wait_for("run 1 (start)", Duration::from_secs(60));
    assert!(first.contains("failed: project.done"), "{first}");
    // A change in an ignored folder does not start a run, nor count among
    // the files that started the next one (the summary names them).
    std::fs::write(project.path().join("target/debug/x"), "x").unwrap();
    std::fs::write(project.path().join("app/done.txt"), "yes").unwrap();
    let code = watch.exit_code(Duration::from_secs(60));
    assert_eq!(code, Some(0), "lines:\n{}", watch.seen.join("\n"));
    assert_eq!(watch.seen.len(), 2, "{:#?}", watch.seen);
    assert!(
        watch.seen[1].contains("run 2 (files changed: app/done.txt)"),
        "{:#?}",
        watch.seen
    );
    assert!(watch.seen[1].contains("all pass"), "{:#?}", watch.seen);
}

#[test]
fn watch_on_a_terminal_redraws_in_place_and_quits_on_q() {
    let course = tempfile::tempdir().unwrap();
    let lab = "# Files\n\n## Project {#project}\n\n```check\nid = \"project.done\"\ntitle = \"done.txt exists\"\nkind = \"command\"\nrun = \"test -f \\\"$LABCHECK_PROJECT_DIR/done.txt\\\" || echo 'FAIL: no done.txt'\"\nhint = \"Create done.txt.\"\n```\n";
    write(course.path(), "labs/files.md", lab);
    let project = tempfile::tempdir().unwrap();
    let h = home();
    let command = format!(
        "cd '{project}' && NO_COLOR=1 LABCHECK_STATE_DIR='{state}' '{bin}' watch --lab files --interval 3600 \
         --course-dir '{course}' --set project_dir='{project}'; echo EXIT=$?; stty -a | tr '\\n' ' '; echo; sleep 600",
        project = project.path().display(),
        state = h.state.display(),
        bin = env!("CARGO_BIN_EXE_labcheck"),
        course = course.path().display(),
    );
    let tmux = Tmux::start(&command, 120);
    tmux.wait_for_all(&["✗ project.done", "hint: Create done.txt.", "run 1 (start)", "q quit"]);

    // A file change grades again; the screen is redrawn, not appended to.
    std::fs::write(project.path().join("done.txt"), "yes").unwrap();
    let screen = tmux.wait_for_all(&["✓ project.done", "run 2 (files changed: done.txt)"]);
    assert_eq!(screen.matches("labcheck files").count(), 1, "{screen}");
    assert!(!screen.contains("✗"), "{screen}");

    // r grades again now; q quits with the last run's code (0: it passed),
    // and the terminal is as it was (canonical mode, echo).
    tmux.keys(&["r"]);
    tmux.wait_for_all(&["run 3 (key)"]);
    tmux.keys(&["q"]);
    let screen = tmux.wait_for_all(&["EXIT=", "speed"]);
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert!(screen.contains(" icanon") && screen.contains(" echo "), "{screen}");
}
