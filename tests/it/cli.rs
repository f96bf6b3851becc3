//! The command-line contract: exit codes, errors that name file and line,
//! help that teaches, output files, report formats.

use crate::common::{labcheck, learner, text, write};
use std::process::Stdio;

/// labcheck on a machine with no AWS configuration at all (no files, no
/// instance metadata), optionally with credentials in the environment.
fn unconfigured(home: &std::path::Path) -> std::process::Command {
    let mut cmd = labcheck();
    cmd.env("HOME", home)
        .env("AWS_CONFIG_FILE", home.join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("none"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("LABCHECK_STATE_DIR", home.join("state"))
        .current_dir(home);
    cmd
}

/// No Rust debug output (`CredentialsNotLoaded(CredentialsNotLoaded { source:
/// Some(ProviderChainError ...`) in what a learner reads.
fn assert_no_debug_dump(all: &str) {
    for dump in [
        "CredentialsNotLoaded",
        "ProviderChainError",
        "Some(",
        " { ",
        "source:",
        "panicked",
    ] {
        assert!(!all.contains(dump), "debug output ({dump}) in:\n{all}");
    }
}

/// The `note:` paragraph of a human report, up to the blank line after it.
fn note(all: &str) -> Vec<&str> {
    all.lines()
        .skip_while(|l| !l.starts_with("note:"))
        .take_while(|l| !l.trim().is_empty())
        .collect()
}

#[test]
fn no_credentials_exits_3_and_says_how_to_configure() {
    let home = tempfile::tempdir().unwrap();
    let out = unconfigured(home.path())
        .args(["check", "s3", "--region", "us-west-2"])
        .output()
        .unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(3), "{all}");
    assert!(all.contains("no AWS credentials found"), "{all}");
    assert!(all.contains("aws configure"), "{all}");
    assert!(all.contains("source sandbox/env"), "{all}");
    assert_no_debug_dump(&all);
    let note = note(&all);
    assert!(!note.is_empty() && note.len() <= 8, "{note:#?}");
    // Each check it kept from running says so in a few words.
    assert!(all.contains("not run: no AWS credentials"), "{all}");
}

#[test]
fn no_region_exits_3_and_says_how_to_set_it() {
    let home = tempfile::tempdir().unwrap();
    let out = unconfigured(home.path())
        .args(["check", "s3"])
        .env("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "not-a-real-secret")
        .output()
        .unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(3), "{all}");
    assert!(all.contains("no AWS Region configured"), "{all}");
    assert!(all.contains("--region"), "{all}");
    assert!(!all.contains("not-a-real-secret"), "{all}");
    assert_no_debug_dump(&all);
}

#[test]
fn neither_region_nor_credentials_is_one_short_message_naming_both() {
    let home = tempfile::tempdir().unwrap();
    // check: the checks that need no AWS run, the others are "not run", and
    // one note says what is missing and how to fix each.
    let out = unconfigured(home.path()).args(["check", "s3"]).output().unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(3), "{all}");
    assert_no_debug_dump(&all);
    let note = note(&all);
    assert!(
        !note.is_empty() && note.len() <= 8,
        "{} lines:\n{}",
        note.len(),
        note.join("\n")
    );
    let note = note.join("\n");
    for needed in [
        "Region",
        "credentials",
        "--region",
        "AWS_REGION",
        "aws configure",
        "--profile",
    ] {
        assert!(note.contains(needed), "{needed} missing from:\n{note}");
    }
    assert_eq!(all.matches("no AWS Region and no AWS credentials").count(), 1, "{all}");

    // cleanup: nothing to do without AWS; the same message is the error.
    let out = unconfigured(home.path()).arg("cleanup").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(out.stdout.is_empty(), "{}", text(&out));
    assert!(err.lines().count() <= 8, "{err}");
    assert!(err.contains("Region") && err.contains("credentials"), "{err}");
    assert_no_debug_dump(&err);
}

/// Standard output as a pipe whose reading end is already closed: every
/// write fails with EPIPE (Rust ignores SIGPIPE).
fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    writer.into()
}

/// Standard output on /dev/full: every write fails with ENOSPC.
fn dev_full() -> Stdio {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap()
        .into()
}

/// Every command that prints to standard output, with the exit code it has
/// when its output is read to the end, each in a fresh state.
fn printing_commands(dir: &std::path::Path) -> Vec<(String, std::process::Command, i32)> {
    let l = learner("printing_commands_and_closed_pipes");
    let answers = write(dir, "answers.toml", "");
    let book = crate::common::repo().join("tests/fixtures/book");
    let ctx = mdbook_preprocessor::PreprocessorContext::new(
        book.clone(),
        mdbook_preprocessor::config::Config::default(),
        "html".to_string(),
    );
    let mut chapters = mdbook_preprocessor::book::Book::new();
    chapters.push_item(mdbook_preprocessor::book::Chapter::new(
        "One",
        "# One\n\nText.\n".repeat(4000),
        "one.md",
        Vec::new(),
    ));
    let input = write(dir, "mdbook.json", &serde_json::to_string(&(&ctx, &chapters)).unwrap());
    let state = dir.join("state");
    let data = dir.join("data");
    let mut out = Vec::new();
    let mut add = |name: &str, mut cmd: std::process::Command, code: i32| {
        cmd.env("LABCHECK_STATE_DIR", &state).env("LABCHECK_DATA_DIR", &data);
        out.push((name.to_string(), cmd, code));
    };
    let plain = |args: &[&str]| {
        let mut cmd = labcheck();
        cmd.args(args).stdin(Stdio::null());
        cmd
    };
    add("help", plain(&["--help"]), 0);
    add("check help", plain(&["check", "--help"]), 0);
    add("version", plain(&["--version"]), 0);
    add("list", plain(&["list"]), 0);
    add("list json", plain(&["list", "--format", "json"]), 0);
    add("quiz list", plain(&["quiz"]), 0);
    // A scripted quiz with no answers: every answer wrong, exit 1.
    add(
        "quiz scripted",
        plain(&["quiz", "knowledge-check", "--answers", answers.to_str().unwrap()]),
        1,
    );
    add("policy", plain(&["policy"]), 0);
    add("policy template", plain(&["policy", "--role-template"]), 0);
    add("status", plain(&["status"]), 0);
    add("status json", plain(&["status", "--format", "json"]), 0);
    for shell in ["bash", "zsh", "fish", "powershell"] {
        add(&format!("completions {shell}"), plain(&["completions", shell]), 0);
    }
    add("man", plain(&["man"]), 0);
    let mut mdbook = plain(&["mdbook"]);
    mdbook.current_dir(&book).stdin(std::fs::File::open(&input).unwrap());
    add("mdbook", mdbook, 0);
    let mut check = l.labcheck();
    check.args(["check", "s3"]);
    add("check", check, 0);
    let mut check = l.labcheck();
    check.args(["check", "s3", "--format", "html"]);
    add("check html", check, 0);
    let mut cleanup = l.labcheck();
    cleanup.arg("cleanup");
    add("cleanup", cleanup, 0);
    let mut watch = l.labcheck();
    watch
        .args(["watch", "s3.bucket", "--exit-on-pass"])
        .current_dir(dir)
        .stdin(Stdio::null());
    add("watch", watch, 0);
    out
}

#[test]
fn every_command_exits_quietly_on_a_closed_pipe() {
    let dir = tempfile::tempdir().unwrap();
    for (name, mut cmd, code) in printing_commands(dir.path()) {
        // Its normal output, for comparison: it prints something.
        let normal = cmd.output().unwrap();
        assert_eq!(normal.status.code(), Some(code), "{name}: {}", text(&normal));
        assert!(!normal.stdout.is_empty(), "{name} printed nothing");

        if name == "mdbook" {
            // The first run read the input to its end: give it again.
            cmd.stdin(std::fs::File::open(dir.path().join("mdbook.json")).unwrap());
        }
        let out = cmd.stdout(closed_pipe()).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{name} on a closed pipe:\n{err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
        assert!(!err.contains("Broken pipe") && !err.contains("error"), "{name}: {err}");
    }
}

#[test]
fn a_write_error_is_one_line_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    for (name, mut cmd, _) in printing_commands(dir.path()) {
        let out = cmd.stdout(dev_full()).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name} on /dev/full:\n{err}");
        let lines: Vec<&str> = err.lines().filter(|l| !l.starts_with("warning:")).collect();
        assert_eq!(lines.len(), 1, "{name}: {err}");
        assert!(lines[0].contains("cannot write to standard output"), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
    }
}

#[test]
fn completions_and_man_page() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef labcheck"),
        ("fish", "complete -c labcheck"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = labcheck().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(script.contains(marker), "{shell}: {marker} missing");
        for sub in ["check", "status", "watch", "quiz", "completions"] {
            assert!(script.contains(sub), "{shell}: no {sub}");
        }
    }
    let out = labcheck().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));

    let out = labcheck().arg("man").output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let roff = String::from_utf8(out.stdout).unwrap();
    assert!(
        roff.starts_with(".ie") || roff.contains(".TH labcheck"),
        "{}",
        &roff[..200.min(roff.len())]
    );
    assert!(roff.contains(".TH labcheck 1"), "{}", &roff[..300.min(roff.len())]);
    for sub in ["check", "status", "watch", "cleanup"] {
        assert!(roff.contains(sub), "man page lacks {sub}");
    }
    // It renders (scripts/test installs man-db).
    {
        let dir = tempfile::tempdir().unwrap();
        let page = write(dir.path(), "labcheck.1", &roff);
        let out = std::process::Command::new("man")
            .arg("-l")
            .arg(&page)
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "80")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        assert!(String::from_utf8_lossy(&out.stdout).contains("labcheck"));
    }
}

#[test]
fn unknown_step_exits_2_and_lists_steps() {
    let out = labcheck()
        .args(["check", "s4", "--region", "us-west-2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let all = text(&out);
    assert!(
        all.contains("`s4` is not a step or check of lab deploy-django-eb"),
        "{all}"
    );
    assert!(all.contains("s3, cache, rds, project, eb"), "{all}");
    assert!(!all.contains("did you mean"), "{all}");
}

#[test]
fn a_mistyped_name_gets_the_name_it_was_meant_to_be() {
    for (args, said) in [
        (
            &["check", "s3.corss"][..],
            "`s3.corss` is not a step or check of lab deploy-django-eb; did you mean `s3.cors`?",
        ),
        (&["check", "--set", "buckett=b"][..], "; did you mean `bucket`?"),
        (
            &["--lab", "deploy-django", "list"][..],
            "no lab `deploy-django`; labs in this course: deploy-django-eb; did you mean `deploy-django-eb`?",
        ),
        (&["quiz", "media-s33"][..], "; did you mean `media-s3`?"),
    ] {
        let out = labcheck().args(args).args(["--region", "us-west-2"]).output().unwrap();
        let all = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {all}");
        assert!(all.contains(said), "{args:?}: {all}");
    }
}

#[test]
fn broken_lab_in_course_dir_exits_2_with_file_line_col() {
    let dir = tempfile::tempdir().unwrap();
    let lab = "# Broken\n\n## Bucket {#s3}\n\n```check\nid = \"s3.bucket\"\ntitle = \"B\"\nkind = \"s3.bucket\"\nhint = \"h\"\n```\n\n```check\nid = \"s3.bucket\"\ntitle = \"again\"\nkind = \"s3.nope\"\nhint = \"h\"\n```\n";
    write(dir.path(), "labs/broken.md", lab);
    let out = labcheck()
        .args(["check", "--lab", "broken", "--region", "us-west-2", "--course-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let all = text(&out);
    let file = dir.path().join("labs/broken.md").display().to_string();
    assert!(
        all.contains(&format!(
            "{file}:12:1: duplicate check id `s3.bucket` (first declared on line 5)"
        )),
        "{all}"
    );
    assert!(
        all.contains(&format!("{file}:15:1: unknown check kind `s3.nope`")),
        "{all}"
    );
    // `list` refuses the same lab: nothing is half-used.
    let out = labcheck()
        .args(["list", "--course-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bad_config_file_exits_2_with_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "labcheck.toml", "bucket = \"b\"\nregoin = \"us-west-2\"\n");
    let out = labcheck().args(["check", "--config"]).arg(&cfg).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let all = text(&out);
    assert!(
        all.contains(&format!("{}:2:1: unknown parameter `regoin`", cfg.display())),
        "{all}"
    );
}

#[test]
fn bad_set_exits_2() {
    let out = labcheck().args(["check", "--set", "bukket=x"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("unknown parameter `bukket`"), "{}", text(&out));
}

#[test]
fn help_teaches_the_first_steps() {
    let out = labcheck().arg("--help").output().unwrap();
    let all = text(&out);
    for needle in ["labcheck list", "labcheck check s3.cors", "sandbox/up", "Exit codes"] {
        assert!(all.contains(needle), "--help lacks {needle}:\n{all}");
    }
    let out = labcheck().args(["check", "--help"]).output().unwrap();
    assert!(text(&out).contains("--format"), "{}", text(&out));
    assert!(text(&out).contains("labcheck check s3 cache"), "{}", text(&out));
}

#[test]
fn list_shows_steps_and_check_ids() {
    let out = labcheck().arg("list").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let all = text(&out);
    for id in [
        "s3.bucket",
        "s3.cors",
        "s3.private",
        "s3.media",
        "s3.presigned",
        "cache",
        "rds",
        "project",
        "eb",
    ] {
        assert!(all.contains(id), "list lacks {id}:\n{all}");
    }
    let out = labcheck().args(["list", "--format", "json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["steps"][0]["id"], "s3");
    assert_eq!(v["steps"][0]["checks"].as_array().unwrap().len(), 5);
    let quizzes: Vec<&str> = v["quizzes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["id"].as_str().unwrap())
        .collect();
    assert!(
        quizzes.contains(&"knowledge-check") && quizzes.contains(&"pre-assessment"),
        "{quizzes:?}"
    );
}

#[test]
fn policy_lists_only_read_actions() {
    let out = labcheck().arg("policy").output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let actions = v["Statement"][0]["Action"].as_array().unwrap();
    assert!(actions.iter().any(|a| a == "s3:GetBucketCORS"));
    for a in actions {
        let name = a.as_str().unwrap().split(':').nth(1).unwrap();
        assert!(
            ["Get", "List", "Describe", "Head"].iter().any(|p| name.starts_with(p)),
            "{name} is not a read action"
        );
    }
}

#[test]
fn output_file_and_junit_format() {
    let l = learner("output_file_and_junit_format");
    l.break_("no-cors");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.xml");
    let out = l
        .labcheck()
        .args(["check", "s3", "--format", "junit", "--output"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(out.stdout.is_empty(), "the report goes to the file only");
    let xml = std::fs::read_to_string(&path).unwrap();
    assert!(xml.contains("<testsuite name=\"s3\" tests=\"5\""), "{xml}");
    assert!(xml.contains("<testcase name=\"s3.cors\""), "{xml}");
    assert!(xml.contains("<failure message=\"bucket "), "{xml}");
    crate::common::assert_signatures_redacted(&xml, "the junit report");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file left behind"
    );
}

#[test]
fn human_report_shows_hint_and_fix_and_honours_no_color() {
    let l = learner("human_report_shows_hint_and_fix");
    l.break_("no-cors");
    let out = l.labcheck().args(["check", "s3"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let all = String::from_utf8_lossy(&out.stdout);
    assert!(all.contains("✗ s3.cors"), "{all}");
    assert!(all.contains("hint: "), "{all}");
    assert!(
        all.contains(&format!("fix:  aws s3api put-bucket-cors --bucket {}", l.bucket())),
        "{all}"
    );
    assert!(
        all.contains("Next: fix s3.cors, then run labcheck check s3.cors"),
        "{all}"
    );
    assert!(!all.contains('\x1b'), "NO_COLOR is set: no escape codes");
    let out = l
        .labcheck()
        .args(["check", "s3", "--color", "always"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains('\x1b'),
        "--color always wins"
    );
}

#[test]
fn secrets_never_appear_in_any_format() {
    let l = learner("secrets_never_appear_in_any_format");
    let password = "pw-Very-Secret-42";
    for format in ["human", "json", "junit"] {
        let out = l
            .labcheck()
            .args(["check", "s3", "-v", "--format", format])
            .env("RDS_USER_PASSWORD", password)
            .output()
            .unwrap();
        let all = text(&out);
        assert_eq!(out.status.code(), Some(0), "{all}");
        assert!(!all.contains(password), "{format} shows the password:\n{all}");
        assert!(!all.contains("sandbox-secret"), "{format} shows the secret key:\n{all}");
        crate::common::assert_signatures_redacted(&all, format);
    }
}

#[test]
fn command_checks_run_scripts_from_the_lab() {
    let dir = tempfile::tempdir().unwrap();
    let lab = "# Scripted\n\n## Bucket {#s3}\n\n```check\nid = \"s3.named\"\ntitle = \"The bucket name is set\"\nkind = \"command\"\nrun = \"test -n \\\"$LABCHECK_BUCKET\\\" && echo bucket is $LABCHECK_BUCKET\"\nhint = \"Set a bucket.\"\n```\n\n```check\nid = \"s3.script-fails\"\ntitle = \"A failing script\"\nkind = \"command\"\nrun = \"echo 'FAIL: no widgets in {bucket}'; exit 1\"\nhint = \"Add widgets.\"\n```\n";
    write(dir.path(), "labs/scripted.md", lab);
    let l = learner("command_checks_run_scripts_from_the_lab");
    let out = l
        .labcheck()
        .args(["check", "--lab", "scripted", "--format", "json", "--course-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(crate::common::check(&report, "s3.named")["status"], "pass");
    assert_eq!(
        crate::common::check(&report, "s3.named")["message"],
        format!("bucket is {}", l.bucket())
    );
    assert_eq!(crate::common::check(&report, "s3.script-fails")["status"], "fail");
    assert_eq!(
        crate::common::check(&report, "s3.script-fails")["message"],
        format!("no widgets in {}", l.bucket())
    );
}

#[test]
fn a_check_that_times_out_is_an_error_and_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let lab = "# Slow\n\n## Bucket {#s3}\n\n```check\nid = \"s3.slow\"\ntitle = \"A slow script\"\nkind = \"command\"\nrun = \"sleep 30 & echo $! > pid; wait\"\nhint = \"h\"\n```\n";
    write(dir.path(), "labs/slow.md", lab);
    let l = learner("a_check_that_times_out_is_an_error_and_exits_3");
    let out = l
        .labcheck()
        .args([
            "check",
            "--lab",
            "slow",
            "--timeout",
            "1",
            "--format",
            "json",
            "--course-dir",
        ])
        .arg(dir.path())
        .arg("--set")
        .arg(format!("project_dir={}", dir.path().display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let slow = crate::common::check(&report, "s3.slow");
    assert_eq!(slow["status"], "error");
    assert_eq!(slow["message"], "timed out after 1s");
    assert!(slow["hint"].as_str().unwrap().contains("--timeout"), "{slow}");
    // The script and its children were stopped with the check, not left running.
    let pid = std::fs::read_to_string(dir.path().join("pid")).unwrap();
    let stat = format!("/proc/{}/stat", pid.trim());
    // A killed process may linger a moment, or as a zombie until reaped.
    let gone = || std::fs::read_to_string(&stat).map_or(true, |s| s.split(' ').nth(2) == Some("Z"));
    for _ in 0..50 {
        if gone() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(gone(), "the script's child {} still runs after the timeout", pid.trim());
}

#[test]
fn cleanup_lists_what_still_costs_money_in_deletion_order() {
    let l = learner("cleanup_lists_what_still_costs_money");
    let out = l.labcheck().args(["cleanup", "--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let kinds: Vec<&str> = v["leftovers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        vec![
            "Elastic Beanstalk environment",
            "serverless cache",
            "RDS DB instance",
            "S3 bucket"
        ]
    );
    assert_eq!(
        v["leftovers"][3]["delete"],
        format!("aws s3 rb s3://{} --force", l.bucket())
    );
    let human = l.labcheck().arg("cleanup").output().unwrap();
    let all = text(&human);
    assert!(all.contains("4 lab resources still cost money"), "{all}");
    assert!(all.contains("eb terminate pets-project-env"), "{all}");
}

#[test]
fn cleanup_of_an_empty_account_finds_nothing() {
    let l = crate::common::empty_account("cleanup_of_an_empty_account_finds_nothing");
    let out = l.labcheck().arg("cleanup").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("Nothing of the lab is left running"),
        "{}",
        text(&out)
    );
}

/// A profile the AWS config files do not define is bad input, named with the
/// profiles they do define (exit 2, before anything is checked); a profile
/// they define is used, and an access key in the environment wins over any.
#[test]
fn a_profile_that_is_not_there_is_named() {
    let me = learner("a_profile_that_is_not_there_is_named");
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config");
    let credentials = home.path().join("credentials");
    std::fs::write(&config, "[profile course]\nregion = us-west-2\n[profile other]\n").unwrap();
    std::fs::write(
        &credentials,
        format!(
            "[course]\naws_access_key_id = {}\naws_secret_access_key = x\n",
            me.account
        ),
    )
    .unwrap();
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = unconfigured(home.path());
        cmd.envs(crate::common::sandbox_env())
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_PROFILE")
            .env("AWS_CONFIG_FILE", &config)
            .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
            .envs(env.iter().copied())
            .args(["check", "s3.bucket"])
            .args(args);
        cmd.output().unwrap()
    };
    for (args, env, origin) in [
        (&["--profile", "nope"][..], &[][..], "(--profile)"),
        (&[][..], &[("AWS_PROFILE", "nope")][..], "(AWS_PROFILE)"),
    ] {
        let out = run(args, env);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(err.contains(&format!("`nope` {origin}")), "{err}");
        assert!(err.contains("they define course, other"), "{err}");
        assert!(err.lines().count() <= 3, "{err}");
        assert!(out.stdout.is_empty(), "{}", text(&out));
    }
    // Defined: the profile's key (the sandbox reads it as the account) is used.
    let out = run(&["--profile", "course"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&me.account),
        "{}",
        text(&out)
    );
    // A key in the environment takes the profile's place: no error.
    let out = run(
        &["--profile", "nope"],
        &[
            ("AWS_ACCESS_KEY_ID", me.account.as_str()),
            ("AWS_SECRET_ACCESS_KEY", "x"),
        ],
    );
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", text(&out));
}

#[test]
fn no_help_shows_rustdoc_markup() {
    // Every command's --help, found by walking the "Commands:" lists: doc
    // comments become help text, so a rustdoc link there reaches users.
    fn walk(path: Vec<String>, seen: &mut Vec<String>) {
        let out = labcheck().args(&path).arg("--help").output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let help = text(&out);
        assert!(
            !help.contains("[`") && !help.contains("]("),
            "`labcheck {} --help` shows rustdoc markup:\n{help}",
            path.join(" ")
        );
        seen.push(path.join(" "));
        let commands = help.lines().skip_while(|l| !l.starts_with("Commands:")).skip(1);
        for line in commands.take_while(|l| !l.trim().is_empty()) {
            if line.starts_with("   ") {
                continue; // a description wrapped onto its own line
            }
            let name = line.split_whitespace().next().unwrap();
            if name != "help" {
                let mut sub = path.clone();
                sub.push(name.to_string());
                walk(sub, seen);
            }
        }
    }
    let mut seen = Vec::new();
    walk(Vec::new(), &mut seen);
    for command in ["check", "cohort grade", "cohort merge", "quiz"] {
        assert!(seen.iter().any(|s| s == command), "walked {seen:?}");
    }
}
