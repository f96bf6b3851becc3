//! Hostile or broken input: every case is bad input with a clear message and
//! exit 2, never a panic, a hang or unbounded memory or output.

use crate::common::{labcheck, text, write};
use std::io::Read;
use std::process::{Command, Output, Stdio};

/// The most memory one labcheck run may take, whatever its input.
const MAX_RSS_BYTES: u64 = 300 << 20;
/// The most one diagnostic may print.
const MAX_DIAGNOSTIC_BYTES: usize = 1 << 20;
/// What labcheck reads of a lab guide or quiz (`textfile::COURSE`).
const COURSE_FILE_CAP: usize = labcheck::textfile::COURSE as usize;

fn run(args: &[&str]) -> Output {
    let mut cmd = labcheck();
    cmd.args(args).env("AWS_EC2_METADATA_DISABLED", "true");
    bounded(cmd).0
}

/// Runs `cmd` to its end, and checks what every run on hostile input must
/// keep to: a peak resident memory (its own, from `wait4`) under 300 MB, and
/// no diagnostic longer than 1 MB. Returns the output and the peak in bytes.
// The child is reaped by wait4, which also gives its peak memory.
#[allow(clippy::zombie_processes)]
fn bounded(mut cmd: Command) -> (Output, u64) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            pipe.read_to_end(&mut bytes).unwrap();
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `child` was spawned here and not waited for yet: wait4 reaps it.
    let reaped = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(
        reaped,
        child.id() as libc::pid_t,
        "wait4: {}",
        std::io::Error::last_os_error()
    );
    let out = Output {
        status: std::os::unix::process::ExitStatusExt::from_raw(status),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    };
    // Linux counts ru_maxrss in KiB.
    let peak = usage.ru_maxrss as u64 * 1024;
    assert!(
        peak < MAX_RSS_BYTES,
        "{cmd:?}: peak memory {} MB, over {} MB",
        peak >> 20,
        MAX_RSS_BYTES >> 20
    );
    let all = text(&out);
    let longest = all.split("error: ").map(str::len).max().unwrap_or(0);
    assert!(
        longest <= MAX_DIAGNOSTIC_BYTES,
        "{cmd:?}: a diagnostic of {longest} bytes, over {MAX_DIAGNOSTIC_BYTES}: {}",
        &all[..all.len().min(2000)]
    );
    (out, peak)
}

#[test]
fn endless_files_are_refused_not_read() {
    for args in [
        &["--config", "/dev/zero", "check", "project"][..],
        &["quiz", "pre-assessment", "--answers", "/dev/zero"][..],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(text(&out).contains("larger than 1 MB"), "{args:?}: {}", text(&out));
    }
    // A course folder whose lab guide never ends: refused by name.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("labs")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("labs/deploy-django-eb.md")).unwrap();
    let out = run(&["--course-dir", dir.path().to_str().unwrap(), "list"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains("deploy-django-eb.md") && all.contains("larger than 2 MB"),
        "{all}"
    );
}

#[test]
fn a_very_long_line_gives_a_short_diagnostic_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    // One line, the problem at column 100,001: past a formatter's width limit.
    let config = write(
        dir.path(),
        "labcheck.toml",
        &format!("bucket = \"{}\" x\n", "b".repeat(100_000)),
    );
    let out = run(&["--config", config.to_str().unwrap(), "check", "project"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{}", &all[..all.len().min(2000)]);
    assert!(
        all.len() < 2000,
        "a window of the line, not all of it: {} bytes",
        all.len()
    );
    assert!(all.contains("labcheck.toml:1:"), "{all}");
    assert!(!all.starts_with("error: error:"), "{all}");
}

#[test]
fn a_quiz_of_carriage_returns_is_read_line_by_line() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "labs/deploy-django-eb.md",
        "# Lab\n\n## Step {#s3}\n\nText.\n",
    );
    // Old Mac line ends, and one broken key per line: many problems, shown capped.
    let quiz: String = (0..5000).map(|i| format!("[[questions]]\rid = {i}\r")).collect();
    write(dir.path(), "quizzes/cr.toml", &quiz);
    let out = run(&["--course-dir", dir.path().to_str().unwrap(), "list"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{}", &all[..all.len().min(2000)]);
    assert!(all.len() < 20_000, "problems are capped per file: {} bytes", all.len());
    assert!(
        all.contains("cr.toml:2:"),
        "a lone CR ends a line: {}",
        &all[..all.len().min(2000)]
    );
}

#[test]
fn bad_regions_and_empty_names_are_bad_input() {
    for args in [
        &["check", "s3", "--region", "a/b"][..],
        &["check", "s3", "--region", ""][..],
        &["check", "s3", "--region", "us-west-2\n"][..],
        &["check", "s3", "--region", "us-west-2", "--set", "bucket="][..],
    ] {
        let out = run(args);
        let all = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {all}");
        assert!(
            !all.contains("Interceptor") && !all.contains("{ "),
            "{args:?}: no SDK internals: {all}"
        );
    }
}

#[test]
fn terminal_escapes_from_flags_never_reach_the_terminal() {
    let out = run(&["check", "project", "--set", "account=\u{1b}]0;owned\u{7}123"]);
    let all = text(&out);
    // Refused as bad input, with the value shown without its control bytes.
    assert_eq!(out.status.code(), Some(2), "{all:?}");
    assert!(
        all.contains("parameter `account`") && all.contains("12 digits"),
        "{all:?}"
    );
    assert!(!all.contains('\u{1b}') && !all.contains('\u{7}'), "{all:?}");
}

/// The inputs that once took gigabytes, each at or past what labcheck reads
/// of such a file: every run ends (no panic, no signal) under 300 MB and
/// prints no diagnostic over 1 MB, both checked by `bounded`.
#[test]
fn hostile_inputs_stay_under_300_mb() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let project = |name: &str, files: &[(&str, String)]| {
        for (rel, body) in files {
            write(&d.join(name), rel, body);
        }
        format!("project_dir={}", d.join(name).display())
    };
    let reqs = project(
        "reqs",
        &[(
            "requirements.txt",
            (0..60_000).map(|i| format!("package-{i}>={i}\n")).collect(),
        )],
    );
    // A problem on each of 300,000 lines (a report of 34 MB, 500 MB of memory).
    let bad_lines = project("bad-lines", &[("requirements.txt", "-x\n".repeat(300_000))]);
    let includes = project(
        "includes",
        &[("requirements.txt", "-r /dev/zero\n-c /dev/stdin\n".into())],
    );
    let settings: String = (0..35_000).map(|i| format!("    OPTION_{i}: value-{i}\n")).collect();
    let ebext = project(
        "ebext",
        &[
            (
                ".ebextensions/01-many.config",
                format!("option_settings:\n  aws:elasticbeanstalk:application:environment:\n{settings}"),
            ),
            (".ebextensions/02-deep.config", "[".repeat(500_000)),
            (
                "Procfile",
                format!("web: gunicorn {}app.wsgi\n", "--x ".repeat(250_000)),
            ),
        ],
    );
    let course = d.join("course");
    write(
        &course,
        "labs/deploy-django-eb.md",
        &format!("# Lab\n\n## S {{#s}}\n\n{}\n", "x".repeat(COURSE_FILE_CAP - 64)),
    );
    // Just under the cap, so the parser reads it all.
    let mut cr_quiz = String::new();
    for i in 0.. {
        let line = format!("id = {i}\r");
        if cr_quiz.len() + line.len() > COURSE_FILE_CAP {
            break;
        }
        cr_quiz.push_str(&line);
    }
    write(&course, "quizzes/cr.toml", &cr_quiz);
    let answers = write(
        d,
        "answers.toml",
        &format!(
            "kc-models-data = [{}]\n{}",
            "\"x\",".repeat(140_000),
            (0..20_000)
                .map(|i| format!("unknown-{i} = \"a\"\n"))
                .collect::<String>()
        ),
    );
    let roster = write(
        d,
        "roster.csv",
        &format!(
            "learner,account\n{}",
            (0..600_000).map(|i| format!("l{i},{i}\n")).collect::<String>()
        ),
    );
    let cases: Vec<Vec<String>> = vec![
        vec!["check".into(), "project.requirements".into(), "--set".into(), reqs],
        vec!["check".into(), "project.requirements".into(), "--set".into(), includes],
        vec!["check".into(), "project.requirements".into(), "--set".into(), bad_lines],
        vec!["check".into(), "project.ebextensions".into(), "--set".into(), ebext],
        vec!["--course-dir".into(), course.display().to_string(), "list".into()],
        vec![
            "quiz".into(),
            "knowledge-check".into(),
            "--answers".into(),
            answers.display().to_string(),
        ],
        vec!["cohort".into(), "grade".into(), roster.display().to_string()],
    ];
    for args in cases {
        let mut cmd = labcheck();
        cmd.args(&args).env("AWS_EC2_METADATA_DISABLED", "true").env("HOME", d);
        let started = std::time::Instant::now();
        let (out, peak) = bounded(cmd);
        let shown: String = text(&out).chars().take(2000).collect();
        assert!(
            matches!(out.status.code(), Some(0..=3)),
            "{args:?}: ended with {:?}: {shown}",
            out.status
        );
        eprintln!(
            "{}: {} MB, {:.1} s, {} bytes printed",
            args[..2].join(" "),
            peak >> 20,
            started.elapsed().as_secs_f64(),
            out.stdout.len() + out.stderr.len()
        );
    }
}

/// `--profile NAME` with access keys in the environment: the SDK uses the
/// keys, and the report says so instead of silently ignoring the profile.
#[test]
fn a_profile_shadowed_by_environment_keys_is_named_in_the_report() {
    let home = tempfile::tempdir().unwrap();
    // The profile exists (without keys): with none in the environment
    // either, it is what is used.
    std::fs::create_dir(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/config"),
        "[profile course]\nregion = us-west-2\n",
    )
    .unwrap();
    let report = |keys: bool| {
        let mut cmd = labcheck();
        cmd.args([
            "check",
            "project.requirements",
            "--profile",
            "course",
            "--format",
            "json",
        ])
        .arg("--set")
        .arg(format!("project_dir={}", home.path().display()))
        .env("HOME", home.path())
        .env("AWS_EC2_METADATA_DISABLED", "true");
        if keys {
            cmd.env("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE7777")
                .env("AWS_SECRET_ACCESS_KEY", "not-a-real-secret");
        }
        let (out, _) = bounded(cmd);
        let json: serde_json::Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
        json["notes"].to_string()
    };
    let notes = report(true);
    assert!(
        notes.contains("…7777") && notes.contains("not the profile `course`"),
        "{notes}"
    );
    assert!(!notes.contains("not-a-real-secret"), "{notes}");
    assert!(!report(false).contains("profile"), "no keys, no note");
}

/// Every input a fuzz run once found (a panic, a hang, too much memory or
/// output; `scripts/fuzz` keeps them minimized) goes through the same parser
/// as in the fuzz target, with no fuzz build: each stays fixed. The
/// hand-written seeds go through too, so the targets' bodies stay exercised.
#[test]
fn fuzz_findings_stay_fixed() {
    let root = crate::common::repo();
    let mut inputs = Vec::new();
    for folder in ["tests/fixtures/fuzz-regressions", "fuzz/seeds"] {
        for (target, _) in labcheck_django::fuzzing::TARGETS {
            let dir = root.join(folder).join(target);
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                inputs.push((*target, entry.path()));
            }
        }
    }
    assert!(inputs.len() >= 8, "the seeds are found: {inputs:?}");
    for (target, path) in inputs {
        let data = std::fs::read(&path).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let shown = path.display().to_string();
        std::thread::spawn(move || {
            let outcome = std::panic::catch_unwind(|| labcheck_django::fuzzing::run(target, &data));
            let _ = tx.send(outcome.is_ok());
        });
        match rx.recv_timeout(HANG) {
            Ok(true) => {}
            Ok(false) => panic!("{target}: {shown} fails again"),
            Err(_) => panic!("{target}: {shown} hangs again (no end after {HANG:?})"),
        }
    }
}

/// How long a parser may run before the input counts as one it never ends
/// on. A guard against a hang, not a speed claim (`scripts/bench` measures
/// speed): the quadratic paths these inputs once took ran for hours.
const HANG: std::time::Duration = std::time::Duration::from_secs(600);

/// Runs fuzz target `target` on `input` in a thread of its own (with the
/// default 2 MB stack), failing when it panics or never ends.
fn parse_ends(target: &'static str, input: String) {
    let (tx, rx) = std::sync::mpsc::channel();
    let len = input.len();
    std::thread::spawn(move || {
        let outcome = std::panic::catch_unwind(|| labcheck_django::fuzzing::run(target, input.as_bytes()));
        let _ = tx.send(outcome.is_ok());
    });
    match rx.recv_timeout(HANG) {
        Ok(true) => {}
        Ok(false) => panic!("{target}: a {len}-byte input panics"),
        Err(_) => panic!("{target}: a {len}-byte input has not ended after {HANG:?}"),
    }
}

/// Inputs shaped for the paths that took quadratic time or overflowed the
/// stack (a fuzzer's short inputs never reach them): deep YAML flow
/// collections, a config of many keys, a lab of many steps, and a long ring
/// of `needs` (a recursive search, and a message naming it all). Each must
/// end without a panic; how long they take is `scripts/bench`'s to measure.
#[test]
fn big_inputs_end_without_a_panic() {
    parse_ends("ebextensions", "{a: ".repeat(50_000));
    parse_ends("ebextensions", "[".repeat(200_000));
    let settings: String = (0..35_000).map(|i| format!("    O{i}: v\n")).collect();
    parse_ends(
        "ebextensions",
        format!("option_settings:\n  aws:elasticbeanstalk:application:environment:\n{settings}"),
    );
    parse_ends("config", (0..60_000).map(|i| format!("k{i} = 1\n")).collect());
    let steps: String = (0..100_000).map(|_| "## Step {#s}\n").collect();
    parse_ends("lab", format!("# Lab\n\n{steps}"));
    let ring = 20_000;
    let checks: String = (0..ring)
        .map(|i| {
            format!(
                "```check\nid = \"s.c{i}\"\ntitle = \"t\"\nkind = \"command\"\nrun = \"true\"\nhint = \"h\"\nneeds = [\"s.c{}\"]\n```\n",
                (i + 1) % ring
            )
        })
        .collect();
    parse_ends("lab", format!("# Lab\n\n## Step {{#s}}\n\n{checks}"));
}

/// The fuzz targets are one list: `labcheck_django::fuzzing::TARGETS`, one file
/// each in `fuzz/fuzz_targets/` (which scripts/fuzz lists) and one `[[bin]]`
/// each in `fuzz/Cargo.toml` (which `cargo fuzz` builds).
#[test]
fn the_fuzz_targets_are_one_list() {
    let root = crate::common::repo();
    let mut ours: Vec<String> = labcheck_django::fuzzing::TARGETS
        .iter()
        .map(|(name, _)| name.to_string())
        .collect();
    ours.sort();
    let mut files: Vec<String> = std::fs::read_dir(root.join("fuzz/fuzz_targets"))
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".rs").map(str::to_string)
        })
        .collect();
    files.sort();
    let manifest: toml::Table =
        toml::from_str(&std::fs::read_to_string(root.join("fuzz/Cargo.toml")).unwrap()).unwrap();
    let mut bins: Vec<String> = manifest["bin"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap().to_string())
        .collect();
    bins.sort();
    assert_eq!(
        ours, files,
        "labcheck_django::fuzzing::TARGETS and fuzz/fuzz_targets/*.rs"
    );
    assert_eq!(
        ours, bins,
        "labcheck_django::fuzzing::TARGETS and fuzz/Cargo.toml's [[bin]]s"
    );
}
