//! Test harness: the local sandbox (sandbox/up) and the built labcheck binary.
//!
//! Every test that changes lab state works in its own sandbox account (moto
//! keeps one state per 12-digit access key), provisioned in the solved state
//! by `sandbox/provision --account ID`, so tests run in parallel without
//! stepping on each other. A test that finds the sandbox down fails and says
//! how to start it.
pub(crate) mod recorder;
pub(crate) mod tmux;
mod turn;
pub(crate) use turn::SandboxTurn;

use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub(crate) fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Variables that point labcheck, the AWS SDK, the learner's Django settings
/// or the sandbox's tools somewhere: taken from `sandbox/env`, never from the
/// machine.
fn is_lab_variable(name: &str) -> bool {
    [
        "AWS_",
        "LABCHECK_",
        "RDS_",
        "DJANGO_",
        "CACHE_",
        "SANDBOX_",
        "VIRTUAL_ENV",
    ]
    .iter()
    .any(|p| name.starts_with(p))
}

/// The variables `sandbox/env` exports, read by sourcing it.
pub(crate) fn sandbox_env() -> &'static HashMap<String, String> {
    static ENV: OnceLock<HashMap<String, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        let status = Command::new(repo().join("sandbox/status"))
            .output()
            .expect("run sandbox/status");
        assert!(
            status.status.success(),
            "the sandbox is not running; start it with `sandbox/up` (or run scripts/test).\n{}",
            String::from_utf8_lossy(&status.stdout)
        );
        let out = Command::new("bash")
            .arg("-c")
            .arg("env -i bash -c 'source sandbox/env && env -0'")
            .current_dir(repo())
            .output()
            .expect("source sandbox/env");
        String::from_utf8_lossy(&out.stdout)
            .split('\0')
            .filter_map(|kv| kv.split_once('='))
            .filter(|(k, _)| is_lab_variable(k))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    })
}

/// A sandbox account holding the solved lab state, and the test's turn at
/// the sandbox (shared with other tests, or the whole sandbox for a test
/// that breaks what every account shares).
pub(crate) struct Learner {
    pub account: String,
    _turn: SandboxTurn,
}

/// A 12-digit account id derived from a test's name (FNV-1a), so reruns
/// reuse it; `first` keeps provisioned and empty accounts apart.
fn account_id(first: char, test_name: &str) -> String {
    let hash = test_name.bytes().fold(1469598103934665603u64, |h, b| {
        (h ^ b as u64).wrapping_mul(1099511628211)
    });
    format!("{first}{:011}", hash % 100_000_000_000)
}

/// An account with nothing in it (never provisioned).
pub(crate) fn empty_account(test_name: &str) -> Learner {
    let turn = SandboxTurn::shared();
    sandbox_env();
    Learner {
        account: account_id('8', test_name),
        _turn: turn,
    }
}

/// A fresh account for one test: the id is derived from the test's name so
/// reruns reuse it, and `provision` repairs whatever a previous run broke.
/// The test shares the sandbox with others while it holds the learner.
pub(crate) fn learner(test_name: &str) -> Learner {
    provisioned(test_name, SandboxTurn::shared())
}

/// As [`learner`], for a test that has the whole sandbox to itself: it may
/// break what every account shares, or read moto's recorder.
pub(crate) fn learner_alone(test_name: &str) -> Learner {
    provisioned(test_name, SandboxTurn::exclusive())
}

/// A learner account several tests share: provisioned by the first of them
/// (in this process), used read-only by all.
pub(crate) fn shared_learner(name: &str) -> Learner {
    static PROVISIONED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let turn = SandboxTurn::shared();
    let account = account_id('9', name);
    let mut done = PROVISIONED.lock().unwrap_or_else(|p| p.into_inner());
    if !done.contains(&account) {
        provision(&account);
        done.push(account.clone());
    }
    Learner { account, _turn: turn }
}

fn provisioned(test_name: &str, turn: SandboxTurn) -> Learner {
    let account = account_id('9', test_name);
    provision(&account);
    Learner { account, _turn: turn }
}

/// Puts the solved lab state into `account`, from scratch (whatever a
/// previous run broke is gone): the sandbox's in-process path, which copies
/// the template account inside moto in a fraction of a second. The path
/// through the AWS APIs (`--account`) is what `sandbox/up` runs.
pub(crate) fn provision(account: &str) {
    run_sandbox(&["provision", "--accounts", "1", "--first", account]);
}

/// Runs a sandbox script (`provision`, `break`, `cohort`) with the sandbox's
/// environment, and fails the test with its output if it fails.
pub(crate) fn run_sandbox(args: &[&str]) -> Output {
    let out = Command::new(repo().join("sandbox").join(args[0]))
        .args(&args[1..])
        .envs(sandbox_env())
        .output()
        .expect("run sandbox script");
    assert!(
        out.status.success(),
        "sandbox/{} failed:\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

impl Learner {
    /// Introduces one named fault in this account.
    pub(crate) fn break_(&self, scenario: &str) {
        run_sandbox(&["break", scenario, "--account", &self.account]);
    }

    /// labcheck, pointed at this account in the sandbox.
    pub(crate) fn labcheck(&self) -> Command {
        let mut cmd = labcheck();
        cmd.envs(sandbox_env()).env("AWS_ACCESS_KEY_ID", &self.account);
        cmd
    }

    /// Runs `labcheck check ARGS --format json` and returns the exit code and report.
    pub(crate) fn check_json(&self, args: &[&str]) -> (i32, Value) {
        let out = self
            .labcheck()
            .arg("check")
            .args(args)
            .args(["--format", "json"])
            .output()
            .expect("run labcheck");
        let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "labcheck did not print a JSON report ({e}); exit {:?}\nstdout:\n{}\nstderr:\n{}",
                out.status.code(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code().unwrap_or(-1), report)
    }

    /// An S3 client acting as this account, to set up unusual states.
    pub(crate) fn s3(&self) -> aws_sdk_s3::Client {
        let env = sandbox_env();
        let creds = aws_sdk_s3::config::Credentials::new(&self.account, "sandbox-secret", None, None, "test");
        let config = aws_sdk_s3::config::Builder::new()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new(env["AWS_REGION"].clone()))
            .endpoint_url(&env["AWS_ENDPOINT_URL"])
            .credentials_provider(creds)
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    fn sdk_config(&self) -> aws_config::SdkConfig {
        let env = sandbox_env();
        let creds = aws_sdk_s3::config::Credentials::new(&self.account, "sandbox-secret", None, None, "test");
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(env["AWS_REGION"].clone()))
            .endpoint_url(&env["AWS_ENDPOINT_URL"])
            .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(creds))
            .build()
    }

    /// An ElastiCache client acting as this account.
    pub(crate) fn elasticache(&self) -> aws_sdk_elasticache::Client {
        aws_sdk_elasticache::Client::new(&self.sdk_config())
    }

    /// An IAM client acting as this account.
    pub(crate) fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.sdk_config())
    }

    /// An Elastic Beanstalk client acting as this account.
    pub(crate) fn eb(&self) -> aws_sdk_elasticbeanstalk::Client {
        aws_sdk_elasticbeanstalk::Client::new(&self.sdk_config())
    }

    /// An RDS client acting as this account.
    pub(crate) fn rds(&self) -> aws_sdk_rds::Client {
        aws_sdk_rds::Client::new(&self.sdk_config())
    }

    pub(crate) fn bucket(&self) -> String {
        format!("pets-project-us-west-2-{}", self.account)
    }
}

/// Runs `sandbox/up`, which repairs every fault.
pub(crate) fn repair_sandbox() {
    let out = Command::new(repo().join("sandbox/up"))
        .envs(sandbox_env())
        .output()
        .expect("run sandbox/up");
    assert!(
        out.status.success(),
        "sandbox/up failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The labcheck binary under test, with a clean environment: no AWS
/// variables from the machine, no colour.
pub(crate) fn labcheck() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_labcheck"));
    for (k, _) in std::env::vars() {
        if is_lab_variable(&k) {
            cmd.env_remove(k);
        }
    }
    cmd.env("NO_COLOR", "1");
    // What `check` records for `status` goes to the build's scratch folder,
    // never to the home folder of whoever runs the tests.
    cmd.env(
        "LABCHECK_STATE_DIR",
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("labcheck-state"),
    );
    cmd
}

/// One check's entry in a JSON report.
pub(crate) fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["checks"].as_array().into_iter().flatten())
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id} in report:\n{report:#}"))
}

/// Asserts that check `id` of `report` has `status` and that its message
/// says `says` (a part of it); on failure, shows the check.
#[track_caller]
pub(crate) fn assert_check(report: &Value, id: &str, status: &str, says: &str) {
    let c = check(report, id);
    assert_eq!(c["status"], status, "{id}: status\n{c:#}");
    let message = c["message"].as_str().unwrap_or_default();
    assert!(message.contains(says), "{id}: the message does not say `{says}`\n{c:#}");
}

/// Status of every check in a report, in order.
pub(crate) fn statuses(report: &Value) -> Vec<(String, String)> {
    report["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["checks"].as_array().into_iter().flatten())
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// `labcheck cohort grade ROSTER --format json -o BOOK`, run as `cmd` (labcheck
/// with the environment the test wants).
pub(crate) fn cohort_grade_json(mut cmd: Command, roster: &Path, book: &Path) -> Output {
    cmd.args(["cohort", "grade"])
        .arg(roster)
        .args(["--format", "json", "-o"])
        .arg(book)
        .output()
        .expect("run labcheck cohort grade")
}

/// Every presigned-URL signature in `text` is redacted (none, or all of
/// them: one redacted beside one shown is a leak).
pub(crate) fn assert_signatures_redacted(text: &str, what: &str) {
    for (i, _) in text.match_indices("X-Amz-Signature=") {
        assert!(
            text[i..].starts_with("X-Amz-Signature=[redacted]"),
            "{what}: an unredacted signature:\n{text}"
        );
    }
}

pub(crate) fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub(crate) fn write(dir: &Path, rel: &str, contents: &str) -> PathBuf {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, contents).unwrap();
    path
}
