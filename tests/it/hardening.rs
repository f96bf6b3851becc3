//! Hostile or broken input: every case is bad input with a clear message and
//! exit 2, never a panic, a hang or unbounded memory or output.

use crate::common::{labcheck, text, write};

fn run(args: &[&str]) -> std::process::Output {
    labcheck()
        .args(args)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap()
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
    assert!(!all.contains('\u{1b}') && !all.contains('\u{7}'), "{all:?}");
}
