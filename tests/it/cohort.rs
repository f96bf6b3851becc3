//! `labcheck cohort` against the sandbox: a roster over sandbox accounts in
//! mixed states (solved, broken, one role that cannot be assumed), graded
//! through real AssumeRole calls; the same grades as `labcheck check` per
//! account; faults injected by a real proxy in front of moto; a killed run
//! resumed; shards merged; a command check that sees the learner's account.

use crate::common::{SandboxTurn, labcheck, recorder, repo, sandbox_env};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A cohort provisioned by `sandbox/cohort`, its roster and manifest.
pub(crate) struct Cohort {
    dir: tempfile::TempDir,
    pub(crate) roster: PathBuf,
    pub(crate) manifest: Value,
    _turn: SandboxTurn,
}

/// Provisions `n` learner accounts from `first` in mixed states, and writes
/// their roster (with the sandbox's project for everybody, so the project
/// checks are graded too).
pub(crate) fn cohort(first: &str, n: usize) -> Cohort {
    cohort_with(first, n, SandboxTurn::shared())
}

/// As [`cohort`], holding `turn` while the cohort is in use.
fn cohort_with(first: &str, n: usize, turn: SandboxTurn) -> Cohort {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("manifest.json");
    let out = Command::new(repo().join("sandbox/cohort"))
        .args(["--accounts", &n.to_string(), "--first", first, "--manifest"])
        .arg(&manifest)
        .envs(sandbox_env())
        .output()
        .expect("run sandbox/cohort");
    assert!(
        out.status.success(),
        "sandbox/cohort failed:\n{}",
        crate::common::text(&out)
    );
    let project = &sandbox_env()["LABCHECK_PROJECT_DIR"];
    let mut roster = String::new();
    for (i, line) in String::from_utf8(out.stdout).unwrap().lines().enumerate() {
        let extra = if i == 0 {
            "project_dir".to_string()
        } else {
            project.clone()
        };
        roster.push_str(&format!("{line},{extra}\n"));
    }
    let path = dir.path().join("roster.csv");
    std::fs::write(&path, roster).unwrap();
    let manifest = serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    Cohort {
        dir,
        roster: path,
        manifest,
        _turn: turn,
    }
}

impl Cohort {
    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// labcheck with the sandbox's environment: the instructor is the sandbox's
/// default account.
pub(crate) fn instructor() -> Command {
    let mut cmd = labcheck();
    cmd.envs(sandbox_env());
    cmd
}

pub(crate) fn grade(roster: &Path, args: &[&str]) -> Output {
    instructor()
        .args(["cohort", "grade"])
        .arg(roster)
        .args(args)
        .output()
        .expect("run labcheck cohort grade")
}

pub(crate) fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// A gradebook without what changes from run to run (times, durations).
pub(crate) fn normalized(mut book: Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(map) => {
                // Times change from run to run.
                for key in ["generated_at", "graded_at", "started_at", "duration_ms"] {
                    map.remove(key);
                }
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            // Presigned URLs carry their signing time and name the endpoint.
            Value::String(text) => {
                static VOLATILE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
                    regex::Regex::new(r"X-Amz-Date=[0-9TZ]+|127\.0\.0\.1:[0-9]+|labcheck-[0-9a-f]+-no-such-page")
                        .unwrap()
                });
                *text = VOLATILE.replace_all(text, "*").into_owned();
            }
            _ => {}
        }
    }
    strip(&mut book);
    book
}

/// Where two JSON values differ (at most 20 paths), for readable failures.
pub(crate) fn differences(a: &Value, b: &Value) -> Vec<String> {
    fn walk(a: &Value, b: &Value, path: String, out: &mut Vec<String>) {
        if out.len() >= 20 {
            return;
        }
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                for key in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                    walk(
                        &x.get(key).cloned().unwrap_or(Value::Null),
                        &y.get(key).cloned().unwrap_or(Value::Null),
                        format!("{path}.{key}"),
                        out,
                    );
                }
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                for (i, (p, q)) in x.iter().zip(y).enumerate() {
                    walk(p, q, format!("{path}[{i}]"), out);
                }
            }
            _ if a != b => {
                let short = |v: &Value| v.to_string().chars().take(200).collect::<String>();
                out.push(format!("{path}: {} != {}", short(a), short(b)))
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(a, b, String::new(), &mut out);
    out
}

pub(crate) fn assert_same_gradebook(a: &Path, b: &Path, context: &str) {
    let diff = differences(&normalized(read_json(a)), &normalized(read_json(b)));
    assert!(
        diff.is_empty(),
        "{context}: the gradebooks differ:\n{}",
        diff.join("\n")
    );
}

/// (status, score) of every check of a report, by id.
fn statuses(report: &Value) -> BTreeMap<String, (String, u64)> {
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["checks"].as_array().unwrap().iter())
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                (c["status"].as_str().unwrap().to_string(), c["score"].as_u64().unwrap()),
            )
        })
        .collect()
}

#[test]
fn a_bad_roster_names_line_and_column_and_grades_nobody() {
    let dir = tempfile::tempdir().unwrap();
    let roster = dir.path().join("roster.csv");
    std::fs::write(
        &roster,
        "learner,account\nada,410000000000\ngrace,4100000\nada,410000000002\n",
    )
    .unwrap();
    let out = grade(&roster, &["--format", "json"]);
    let text = crate::common::text(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("roster.csv:3:7: account `4100000` is not a 12-digit AWS account id"),
        "{text}"
    );
    assert!(
        text.contains("roster.csv:4:1: learner `ada` is already on line 2"),
        "{text}"
    );
    assert!(out.stdout.is_empty(), "nobody graded, no gradebook:\n{text}");
    std::fs::write(&roster, "").unwrap();
    let out = grade(&roster, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(crate::common::text(&out).contains("roster.csv:1:1: the roster is empty"));
}

#[test]
fn each_learner_is_graded_as_labcheck_check_grades_that_account() {
    // The recorder sees every account's calls: no other test may run meanwhile.
    let c = cohort_with("420000000000", 12, SandboxTurn::exclusive());
    let book_path = c.path("gradebook.json");
    recorder::start();
    let out = grade(&c.roster, &["--format", "json", "-o", book_path.to_str().unwrap()]);
    // Every call made as a grader is one the grader role's policy allows.
    let policy: Value = serde_json::from_slice(&labcheck().arg("policy").output().unwrap().stdout).unwrap();
    let allowed: Vec<String> = policy["Statement"][0]["Action"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_ascii_lowercase())
        .collect();
    // The grader's calls: those signed with assumed-role credentials.
    let mut made: Vec<String> = recorder::calls()
        .into_iter()
        .filter(|c| c.access_key.starts_with("ASIA"))
        .map(|c| c.action)
        .collect();
    made.sort();
    made.dedup();
    assert!(made.len() >= 10, "the recorder saw the grader's calls: {made:?}");
    // GetCallerIdentity needs no permission (a scripted check may call it).
    let denied: Vec<&String> = made
        .iter()
        .filter(|a| *a != "sts:GetCallerIdentity" && !allowed.contains(&a.to_ascii_lowercase()))
        .collect();
    assert!(
        denied.is_empty(),
        "calls the grader role's policy does not allow: {denied:?}\nallowed: {allowed:?}"
    );
    let text = crate::common::text(&out);
    assert_eq!(
        out.status.code(),
        Some(3),
        "one learner's role cannot be assumed:\n{text}"
    );
    assert!(text.contains("graded 11 of 12 learners"), "{text}");
    let book = read_json(&book_path);
    assert_eq!(book["schema"], "labcheck/gradebook-v1");
    assert_eq!(book["totals"]["graded"], 11);
    let learners = book["learners"].as_array().unwrap();
    assert_eq!(learners.len(), 12);
    let mut broken_seen = 0;
    for l in learners {
        let name = l["learner"].as_str().unwrap();
        let state = c.manifest[name]["state"].as_str().unwrap();
        let account = l["account"].as_str().unwrap();
        if state == "unassumable" {
            let status = l["grading_status"].as_str().unwrap();
            assert!(
                status.starts_with("error: AssumeRole refused") && status.contains("labcheck policy --role-template"),
                "{name}: {status}"
            );
            assert!(l.get("report").is_none(), "an error row has no score");
            continue;
        }
        assert_eq!(l["grading_status"], "graded", "{name}");
        let ours = &l["report"];
        // The same account graded alone, from where the grader is (outside the VPC).
        let alone = instructor()
            .env("AWS_ACCESS_KEY_ID", account)
            .args(["check", "--format", "json", "--set", "network=outside"])
            .output()
            .unwrap();
        let theirs: Value = serde_json::from_slice(&alone.stdout)
            .unwrap_or_else(|e| panic!("{name}: {e}\n{}", crate::common::text(&alone)));
        assert_eq!(statuses(ours), statuses(&theirs), "{name} ({state})");
        assert_eq!(
            (&ours["score"], &ours["max_score"]),
            (&theirs["score"], &theirs["max_score"]),
            "{name}"
        );
        let failed: Vec<String> = statuses(ours)
            .into_iter()
            .filter(|(_, (s, _))| s == "fail")
            .map(|(id, _)| id)
            .collect();
        if state == "solved" {
            assert!(failed.is_empty(), "{name} is solved but {failed:?} failed");
            assert_eq!(ours["score"], ours["max_score"], "{name}");
        } else {
            broken_seen += 1;
            assert!(!failed.is_empty(), "{name} ({state}) should fail a check");
        }
        // Data-plane checks are not graded from here, and leave the maximum.
        let reach = crate::common::check(ours, "cache.reachable");
        assert_eq!(
            (reach["status"].as_str(), reach["ungraded"].as_bool()),
            (Some("skip"), Some(true))
        );
        assert_eq!(reach["message"], "not reachable from the grader");
    }
    assert!(broken_seen >= 3, "the cohort has broken learners");

    // The CSV for a learning management system: an error row is never a zero.
    let out = instructor()
        .args(["cohort", "merge", book_path.to_str().unwrap(), "--format", "csv"])
        .output()
        .unwrap();
    let csv = String::from_utf8(out.stdout).unwrap();
    let header = csv.lines().next().unwrap();
    assert_eq!(
        header,
        "learner,account,score,max_score,grading_status,s3,cache,rds,project,eb,graded_at,self_reported,self_reported_max,notes"
    );
    let unassumable = csv.lines().find(|l| l.contains("error: AssumeRole refused")).unwrap();
    assert!(
        unassumable.split(',').nth(2) == Some("") && unassumable.split(',').nth(3) == Some(""),
        "{unassumable}"
    );
}

/// Starts the sandbox's fault proxy in front of moto; stopped on drop.
pub(crate) struct Proxy {
    child: std::process::Child,
    pub(crate) url: String,
    port: u16,
}

impl Proxy {
    pub(crate) fn start(port: u16, args: &[&str]) -> Proxy {
        let listen = format!("127.0.0.1:{port}");
        let child = Command::new(repo().join("sandbox/faultproxy"))
            .args(["--listen", &listen, "--upstream", &sandbox_env()["AWS_ENDPOINT_URL"]])
            .args(args)
            .envs(sandbox_env())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sandbox/faultproxy");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(&listen).is_err() {
            assert!(
                Instant::now() < deadline,
                "sandbox/faultproxy did not listen on {listen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Proxy {
            child,
            url: format!("http://{listen}"),
            port,
        }
    }

    fn stats(&self) -> String {
        let out = Command::new("curl")
            .args(["-s", &format!("http://127.0.0.1:{}/faultproxy/stats", self.port)])
            .output();
        out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a command, killing it if it has not finished within `limit` (a
/// hang guard, not a speed test).
fn run_bounded(mut cmd: Command, limit: Duration) -> Output {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!("did not finish within {limit:?}:\n{}", crate::common::text(&out));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Starts a slow cohort run (one learner at a time, behind `proxy`) that
/// journals to `journal` and writes its gradebook to `book`.
pub(crate) fn slow_grade(
    c: &Cohort,
    proxy: &Proxy,
    book: &Path,
    journal: &Path,
    extra: &[&str],
) -> std::process::Child {
    instructor()
        .env("AWS_ENDPOINT_URL", &proxy.url)
        .args(["cohort", "grade"])
        .arg(&c.roster)
        .args(["--jobs", "1", "--format", "json", "-o"])
        .arg(book)
        .arg("--journal")
        .arg(journal)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Lines in the journal (its header included).
pub(crate) fn journal_lines(journal: &Path) -> usize {
    std::fs::read_to_string(journal).map(|t| t.lines().count()).unwrap_or(0)
}

/// Waits until `learners` learners are journaled, while `child` runs.
pub(crate) fn wait_for_journal(child: &mut std::process::Child, journal: &Path, learners: usize) {
    let deadline = Instant::now() + Duration::from_secs(240);
    while journal_lines(journal) < learners + 1 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it could be stopped"
        );
        assert!(
            Instant::now() < deadline,
            "the journal never reached {learners} learners"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn transient_faults_never_change_a_grade() {
    let c = cohort("430000000000", 12);
    let clean = c.path("clean.json");
    let out = grade(&c.roster, &["--format", "json", "-o", clean.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{}", crate::common::text(&out));

    // 5 % of calls: a 500, throttling, a reset connection or a stall.
    let proxy = Proxy::start(
        24601,
        &[
            "--fault-rate",
            "0.05",
            "--seed",
            "11",
            "--stall-seconds",
            "30",
            "--latency-ms",
            "5",
        ],
    );
    let faulty = c.path("faulty.json");
    let mut cmd = instructor();
    cmd.env("AWS_ENDPOINT_URL", &proxy.url)
        .args(["cohort", "grade"])
        .arg(&c.roster)
        .args(["--format", "json", "-o", faulty.to_str().unwrap()]);
    let out = run_bounded(cmd, Duration::from_secs(300));
    let stats = proxy.stats();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}\nproxy: {stats}",
        crate::common::text(&out)
    );
    let injected: Value = serde_json::from_str(&stats).unwrap_or_default();
    assert!(
        injected["faults_total"].as_u64().unwrap_or(0) > 0,
        "the proxy injected faults: {stats}"
    );
    assert_same_gradebook(&faulty, &clean, &format!("with faults (proxy: {stats})"));
}

#[test]
fn a_killed_run_resumes_to_the_same_gradebook_and_shards_merge_to_it() {
    let c = cohort("440000000000", 12);
    let fresh = c.path("fresh.json");
    let out = grade(&c.roster, &["--format", "json", "-o", fresh.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{}", crate::common::text(&out));

    // Slow every call down, grade one learner at a time, and kill -9 midway.
    let proxy = Proxy::start(24602, &["--latency-ms", "60", "--fault-rate", "0"]);
    let journal = c.path("journal.jsonl");
    let resumed = c.path("resumed.json");
    let mut child = slow_grade(&c, &proxy, &resumed, &journal, &[]);
    wait_for_journal(&mut child, &journal, 3);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before = journal_lines(&journal) - 1;
    assert!(before < 12, "killed midway, {before} learners journaled");
    assert!(!resumed.exists(), "no gradebook from the killed run");

    let out = grade(
        &c.roster,
        &[
            "--format",
            "json",
            "-o",
            resumed.to_str().unwrap(),
            "--journal",
            journal.to_str().unwrap(),
            "--resume",
        ],
    );
    let text = crate::common::text(&out);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(
        text.contains(&format!("resuming: the journal has {before} of 12 learners")),
        "{text}"
    );
    assert_same_gradebook(&resumed, &fresh, "resumed after kill -9");
    let journaled: Vec<u64> = std::fs::read_to_string(&journal)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["index"].as_u64().unwrap())
        .collect();
    let mut unique = journaled.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), journaled.len(), "no learner graded twice: {journaled:?}");
    assert_eq!(unique.len(), 12);

    // Three shards, merged, give the same gradebook.
    let mut parts = Vec::new();
    for i in 0..3 {
        let part = c.path(&format!("part{i}.json"));
        let out = grade(
            &c.roster,
            &[
                "--format",
                "json",
                "-o",
                part.to_str().unwrap(),
                "--shard",
                &format!("{i}/3"),
            ],
        );
        assert!(
            matches!(out.status.code(), Some(0 | 3)),
            "{}",
            crate::common::text(&out)
        );
        parts.push(part);
    }
    let merged = c.path("merged.json");
    let out = instructor()
        .args(["cohort", "merge"])
        .args(&parts)
        .args(["--format", "json", "-o", merged.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", crate::common::text(&out));
    assert_same_gradebook(&merged, &fresh, "merged shards");

    // A shard past the roster's end grades nobody, and says why.
    let out = grade(
        &c.roster,
        &["--shard", "20/30", "-o", c.path("empty.csv").to_str().unwrap()],
    );
    let text = crate::common::text(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("note: shard 20/30 holds no learner: the roster has only 12"),
        "{text}"
    );
}

/// Puts the solved lab state (and a grader role that can be assumed) into
/// one sandbox account, as a learner who fixed everything would.
/// Provisions `account` again, solved, its grader role trusting
/// `external_id` (the learner's own, from the cohort's manifest).
fn repair(account: &str, external_id: &str) {
    let out = Command::new(repo().join("sandbox/provision"))
        .args(["--accounts", "1", "--first", account, "--external-id", external_id])
        .envs(sandbox_env())
        .output()
        .expect("run sandbox/provision");
    assert!(out.status.success(), "{}", crate::common::text(&out));
}

/// The learner's row of a JSON gradebook.
pub(crate) fn row<'a>(book: &'a Value, learner: &str) -> &'a Value {
    book["learners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["learner"] == learner)
        .unwrap_or_else(|| panic!("no {learner} in the gradebook"))
}

#[test]
fn the_journal_regrades_the_errors_and_the_learners_named_and_keeps_the_rest() {
    let c = cohort("475000000000", 12);
    let journal = c.path("journal.jsonl");
    let run = |name: &str, extra: &[&str]| -> (Output, Value) {
        let book = c.path(name);
        let mut args = vec![
            "--format",
            "json",
            "-o",
            book.to_str().unwrap(),
            "--journal",
            journal.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let out = grade(&c.roster, &args);
        let json = if book.exists() { read_json(&book) } else { Value::Null };
        (out, json)
    };
    let external_id = |e: &Value| e["external_id"].as_str().unwrap().to_string();
    let learner_of = |state: &str| -> (String, String, String) {
        let (name, entry) = c
            .manifest
            .as_object()
            .unwrap()
            .iter()
            .find(|(_, e)| e["state"].as_str().unwrap().contains(state))
            .unwrap_or_else(|| panic!("no {state} learner in {}", c.manifest));
        (
            name.clone(),
            entry["account"].as_str().unwrap().to_string(),
            external_id(entry),
        )
    };
    let (unassumable, its_account, its_id) = learner_of("unassumable");
    let broken = c
        .manifest
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, e)| !matches!(e["state"].as_str(), Some("solved" | "unassumable")))
        .map(|(n, e)| (n.clone(), e["account"].as_str().unwrap().to_string(), external_id(e)))
        .unwrap();

    let (out, first) = run("first.json", &[]);
    assert_eq!(out.status.code(), Some(3), "{}", crate::common::text(&out));
    assert!(
        row(&first, &unassumable)["grading_status"]
            .as_str()
            .unwrap()
            .starts_with("error:")
    );

    // --resume with nothing missing grades nobody, and says how to retry the errors.
    let (out, resumed) = run("resumed.json", &["--resume"]);
    let text = crate::common::text(&out);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(
        text.contains("the journal has 12 of 12 learners (1 not graded); grading 0 missing from it")
            && text.contains("--regrade-errors"),
        "{text}"
    );
    assert_eq!(
        differences(&normalized(resumed), &normalized(first.clone())),
        Vec::<String>::new()
    );

    // The learner fixes their role (and their lab): --regrade-errors grades only them again.
    repair(&its_account, &its_id);
    let lines = journal_lines(&journal);
    let (out, fixed) = run("fixed.json", &["--regrade-errors"]);
    let text = crate::common::text(&out);
    assert_eq!(out.status.code(), Some(0), "everybody graded now:\n{text}");
    assert!(text.contains("grading 1 again"), "{text}");
    assert_eq!(
        journal_lines(&journal),
        lines + 1,
        "only the error row was graded again"
    );
    let now = row(&fixed, &unassumable);
    assert_eq!(now["grading_status"], "graded");
    assert_eq!(now["report"]["score"], now["report"]["max_score"], "{now}");
    assert_eq!(first["learners"].as_array().unwrap().len(), 12, "{first:#}");
    for l in first["learners"].as_array().unwrap() {
        let name = l["learner"].as_str().unwrap();
        if name != unassumable {
            assert_eq!(
                normalized(l.clone()),
                normalized(row(&fixed, name).clone()),
                "{name} kept"
            );
        }
    }

    // A broken learner fixes their lab: --regrade NAME grades them again, nobody else.
    let (name, account, id) = broken;
    assert_ne!(
        row(&fixed, &name)["report"]["score"],
        row(&fixed, &name)["report"]["max_score"]
    );
    repair(&account, &id);
    let (out, again) = run("again.json", &["--regrade", &name]);
    assert_eq!(out.status.code(), Some(0), "{}", crate::common::text(&out));
    assert_eq!(journal_lines(&journal), lines + 2);
    let now = &row(&again, &name)["report"];
    assert_eq!(now["score"], now["max_score"], "{name} repaired: {now}");

    // A name that is not on the roster is a usage error, and grades nobody.
    let (out, _) = run("none.json", &["--regrade", "nobody-of-this-name"]);
    let text = crate::common::text(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("no learner `nobody-of-this-name` in ") && text.contains("roster.csv"),
        "{text}"
    );
    assert_eq!(journal_lines(&journal), lines + 2);
}

#[test]
fn from_outside_every_learner_has_the_same_maximum_as_when_graded_alone() {
    let c = cohort("476000000000", 3);
    // alan's lab was solved; now his database and cache are gone and his
    // environment is Red. The checks that would connect to them cannot be
    // graded from outside the VPC for anybody, so they leave his maximum as
    // they leave everybody's.
    let alan = c.manifest["alan"]["account"].as_str().unwrap().to_string();
    for scenario in ["no-db-instance", "no-cache", "health-red"] {
        crate::common::run_sandbox(&["break", scenario, "--account", &alan]);
    }
    let book_path = c.path("gradebook.json");
    let out = grade(&c.roster, &["--format", "json", "-o", book_path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", crate::common::text(&out));
    let book = read_json(&book_path);
    let (ada, alan_row) = (&row(&book, "ada")["report"], &row(&book, "alan")["report"]);
    assert_eq!(ada["max_score"], alan_row["max_score"], "one maximum for everybody");
    assert!(alan_row["score"].as_u64() < alan_row["max_score"].as_u64());
    for id in ["rds.reachable", "rds.migrated", "cache.reachable", "cache.sessions"] {
        let check = crate::common::check(alan_row, id);
        assert_eq!(
            (check["status"].as_str(), check["ungraded"].as_bool()),
            (Some("skip"), Some(true)),
            "{id}: {check}"
        );
    }
    assert_eq!(crate::common::check(alan_row, "rds.instance")["status"], "fail");

    // labcheck check told it runs outside gives alan the same.
    let alone = instructor()
        .env("AWS_ACCESS_KEY_ID", &alan)
        .env("LABCHECK_PROJECT_DIR", &sandbox_env()["LABCHECK_PROJECT_DIR"])
        .args(["check", "--format", "json", "--set", "network=outside"])
        .output()
        .unwrap();
    let theirs: Value = serde_json::from_slice(&alone.stdout).unwrap();
    assert_eq!(statuses(alan_row), statuses(&theirs));
    assert_eq!(
        (&alan_row["score"], &alan_row["max_score"]),
        (&theirs["score"], &theirs["max_score"])
    );

    // Without the learners' projects, the checks that read a project leave
    // everybody's maximum, alan's too (eb.platform waits on his Red environment).
    let roster = c.path("no-projects.csv");
    let text = std::fs::read_to_string(&c.roster).unwrap();
    let cut: String = text
        .lines()
        .map(|l| format!("{}\n", l.rsplit_once(',').unwrap().0))
        .collect();
    std::fs::write(&roster, cut).unwrap();
    let book_path = c.path("no-projects.json");
    let out = grade(&roster, &["--format", "json", "-o", book_path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", crate::common::text(&out));
    let book = read_json(&book_path);
    let maxima: Vec<&Value> = book["learners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["report"]["max_score"])
        .collect();
    assert_eq!(maxima.len(), 3, "{book:#}");
    assert!(maxima.windows(2).all(|w| w[0] == w[1]), "{maxima:?}");
    let platform = crate::common::check(&row(&book, "alan")["report"], "eb.platform");
    assert_eq!(platform["ungraded"], true, "{platform}");
}

#[test]
fn a_permission_the_grader_role_lacks_is_an_error_noted_not_a_failure() {
    let c = cohort("479000000000", 3);
    let alan = c.manifest["alan"]["account"].as_str().unwrap().to_string();
    // alan's grader role lacks ec2:DescribeSecurityGroups: AWS refuses the call (a real proxy answers as AWS does).
    let deny = format!("ec2:DescribeSecurityGroups@{alan}");
    let proxy = Proxy::start(24604, &["--deny", &deny]);
    let book_path = c.path("gradebook.json");
    let out = instructor()
        .env("AWS_ENDPOINT_URL", &proxy.url)
        .args(["cohort", "grade"])
        .arg(&c.roster)
        .args(["--format", "json", "-o", book_path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", crate::common::text(&out));
    assert!(
        proxy.stats().contains(r#""denied": {"ec2:DescribeSecurityGroups""#),
        "{}",
        proxy.stats()
    );
    let book = read_json(&book_path);
    let theirs = row(&book, "alan");
    for id in ["cache.network", "rds.network"] {
        let check = crate::common::check(&theirs["report"], id);
        assert_eq!(check["status"], "error", "{id}: {check}");
        assert!(
            check["message"].as_str().unwrap().contains("UnauthorizedOperation"),
            "{check}"
        );
    }
    let notes = theirs["notes"].to_string();
    assert!(
        notes.contains("2 checks could not be evaluated (cache.network, rds.network)")
            && notes.contains("labcheck policy --role-template"),
        "{notes}"
    );
    // Nobody else was refused anything.
    let ada = row(&book, "ada");
    assert_eq!(ada["report"]["score"], ada["report"]["max_score"]);
    assert!(!ada["notes"].to_string().contains("could not be evaluated"));
    // A bad --deny is a usage error.
    let out = Command::new(repo().join("sandbox/faultproxy"))
        .args(["--listen", "127.0.0.1:24605", "--deny", "DescribeSecurityGroups"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", crate::common::text(&out));
}

#[test]
fn a_command_check_runs_with_the_learners_credentials() {
    let c = cohort("450000000000", 3);
    let course = tempfile::tempdir().unwrap();
    let python = repo().join("sandbox/.venv/bin/python");
    let lab = format!(
        "# A scripted lab\n\n## Who am I {{#whoami}}\n\n```check\nid = \"whoami.account\"\ntitle = \"The script sees the learner's account\"\nkind = \"command\"\npoints = 1\nhint = \"The grader passes the learner's credentials to scripts.\"\nrun = '''{} -c \"import boto3, os; a = boto3.client('sts').get_caller_identity()['Account']; r = os.environ.get('AWS_REGION'); print('FAIL: ' + a + ' in ' + str(r) if a != '{{account}}' or r != '{{region}}' else 'account ' + a)\"'''\n```\n",
        python.display()
    );
    crate::common::write(course.path(), "labs/sts-lab.md", &lab);
    let book = c.path("book.json");
    let out = instructor()
        .args(["--course-dir"])
        .arg(course.path())
        .args(["--lab", "sts-lab", "cohort", "grade"])
        .arg(&c.roster)
        .args(["--format", "json", "-o", book.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", crate::common::text(&out));
    let book = read_json(&book);
    assert_eq!(book["learners"].as_array().unwrap().len(), 3, "{book:#}");
    for l in book["learners"].as_array().unwrap() {
        let check = crate::common::check(&l["report"], "whoami.account");
        assert_eq!(check["status"], "pass", "{check:#}");
        assert_eq!(check["message"], format!("account {}", l["account"].as_str().unwrap()));
    }
    // The same script fails when the credentials are not the learner's.
    let out = instructor()
        .args(["--course-dir"])
        .arg(course.path())
        .args([
            "--lab",
            "sts-lab",
            "check",
            "--format",
            "json",
            "--set",
            "account=450000000001",
        ])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let check = crate::common::check(&report, "whoami.account");
    assert_eq!(check["status"], "fail", "{check:#}");
    assert!(
        check["message"]
            .as_str()
            .unwrap()
            .starts_with("123456789012 in us-west-2")
    );
}

#[test]
fn the_role_template_passes_cfn_lint_and_grants_only_the_policy() {
    let out = labcheck().args(["policy", "--role-template"]).output().unwrap();
    assert!(out.status.success());
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("labcheck-grader.yaml");
    std::fs::write(&template, &out.stdout).unwrap();
    let lint = repo().join("scripts/.tools/bin/cfn-lint");
    assert!(
        lint.exists(),
        "{} is missing: scripts/test installs it (scripts/tools)",
        lint.display()
    );
    let out = Command::new(&lint).arg(&template).output().unwrap();
    assert!(out.status.success(), "cfn-lint:\n{}", crate::common::text(&out));

    let policy: Value = serde_json::from_slice(&labcheck().arg("policy").output().unwrap().stdout).unwrap();
    let doc: Value = serde_norway_from(&String::from_utf8(std::fs::read(&template).unwrap()).unwrap());
    // The statements (one per set of resources) grant the policy's actions, no more.
    let mut granted: Vec<&Value> =
        doc["Resources"]["GraderRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|st| st["Action"].as_array().unwrap())
            .collect();
    granted.sort_by_key(|a| a.as_str().unwrap().to_string());
    let wanted: Vec<&Value> = policy["Statement"][0]["Action"].as_array().unwrap().iter().collect();
    assert_eq!(granted, wanted);
}

/// YAML to JSON through cfn-lint's own Python (no YAML crate in the tests).
pub(crate) fn serde_norway_from(yaml: &str) -> Value {
    let py = repo().join("scripts/.tools/bin/python");
    let mut child = Command::new(py)
        .args([
            "-c",
            "import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(yaml.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn ctrl_c_writes_the_gradebook_of_what_is_done_and_exits_130() {
    let c = cohort("490000000000", 12);
    let proxy = Proxy::start(24603, &["--latency-ms", "60", "--fault-rate", "0"]);
    let book = c.path("partial.json");
    let journal = c.path("journal.jsonl");
    let mut child = slow_grade(&c, &proxy, &book, &journal, &[]);
    wait_for_journal(&mut child, &journal, 2);
    let interrupt = |child: std::process::Child| {
        // SAFETY: sending SIGINT to a child process we started.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(130), "{stderr}");
        assert!(stderr.contains("interrupted: graded"), "{stderr}");
    };
    interrupt(child);
    let partial = read_json(&book);
    let done = partial["learners"].as_array().unwrap().len();
    assert!(
        (2..12).contains(&done),
        "the gradebook holds what was done: {done} learners"
    );
    assert_eq!(done, journal_lines(&journal) - 1, "the same learners as the journal");

    // Finish, then grade everybody again and stop that early: the learners
    // not reached yet keep the journal's results.
    let whole = c.path("whole.json");
    let journal_arg = journal.to_str().unwrap();
    let out = grade(
        &c.roster,
        &[
            "--format",
            "json",
            "-o",
            whole.to_str().unwrap(),
            "--journal",
            journal_arg,
            "--resume",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", crate::common::text(&out));
    let names: Vec<String> = read_json(&whole)["learners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["learner"].as_str().unwrap().to_string())
        .collect();
    let mut again: Vec<&str> = Vec::new();
    for name in &names {
        again.extend(["--regrade", name]);
    }
    let before = journal_lines(&journal);
    let mut child = slow_grade(&c, &proxy, &book, &journal, &again);
    wait_for_journal(&mut child, &journal, before);
    interrupt(child);
    assert!(journal_lines(&journal) - before < 12, "stopped before the end");
    assert_same_gradebook(&book, &whole, "an interrupted regrade");
}

#[test]
fn learners_own_reports_fill_in_what_the_grader_cannot_reach() {
    let c = cohort("495000000000", 12);
    let reports = c.path("reports");
    std::fs::create_dir_all(&reports).unwrap();
    let manifest = c.manifest.as_object().unwrap();
    let solved: Vec<(&String, &str)> = manifest
        .iter()
        .filter(|(_, v)| v["state"] == "solved")
        .map(|(k, v)| (k, v["account"].as_str().unwrap()))
        .take(2)
        .collect();
    // The first learner's own report, from their IDE (inside the VPC: the
    // sandbox's endpoints are on this machine).
    let (ada, ada_account) = solved[0];
    let own = instructor()
        .env("AWS_ACCESS_KEY_ID", ada_account)
        .args(["check", "cache", "rds", "--format", "json"])
        .output()
        .unwrap();
    std::fs::write(reports.join(format!("{ada}.json")), &own.stdout).unwrap();
    // The second hands in somebody else's report.
    let (grace, _) = solved[1];
    std::fs::write(reports.join(format!("{grace}.json")), &own.stdout).unwrap();

    let book_path = c.path("book.json");
    let out = grade(
        &c.roster,
        &[
            "--format",
            "json",
            "-o",
            book_path.to_str().unwrap(),
            "--reports",
            reports.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", crate::common::text(&out));
    let book = read_json(&book_path);
    let row = |name: &str| {
        book["learners"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["learner"] == name)
            .unwrap()
            .clone()
    };
    let ada_row = row(ada);
    let filled: Vec<&str> = ada_row["self_reported"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        filled,
        [
            "cache.reachable",
            "cache.sessions",
            "rds.reachable",
            "rds.migrated",
            "rds.data",
            "rds.superuser"
        ]
    );
    let reach = crate::common::check(&ada_row["report"], "cache.reachable");
    assert_eq!(reach["status"], "pass");
    assert!(reach["message"].as_str().unwrap().starts_with("self-reported: "));
    assert_eq!(ada_row["report"]["score"], ada_row["report"]["max_score"]);
    let grace_row = row(grace);
    assert!(grace_row.get("self_reported").is_none(), "{grace_row:#}");
    let notes = grace_row["notes"].to_string();
    assert!(notes.contains("self-report ignored: it is for account"), "{notes}");
    assert_eq!(
        crate::common::check(&grace_row["report"], "cache.reachable")["ungraded"],
        true
    );
}

/// One more moto (`sandbox/moto-shard`) on `port`, empty until provisioned;
/// stopped on drop.
struct MotoShard {
    child: std::process::Child,
    url: String,
}

impl MotoShard {
    fn start(port: u16) -> MotoShard {
        let url = format!("http://127.0.0.1:{port}");
        let child = Command::new(repo().join("sandbox/moto-shard"))
            .args(["--port", &port.to_string()])
            .envs(sandbox_env())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sandbox/moto-shard");
        let mut shard = MotoShard { child, url };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let health = Command::new("curl")
                .args(["-sf", &format!("{}/sandbox/health", shard.url)])
                .output()
                .expect("run curl");
            if health.status.success() {
                return shard;
            }
            assert!(shard.child.try_wait().unwrap().is_none(), "sandbox/moto-shard exited");
            assert!(Instant::now() < deadline, "sandbox/moto-shard never answered");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Provisions the solved lab state into `account` of this moto.
    fn provision(&self, account: &str) {
        let out = Command::new(repo().join("sandbox/provision"))
            .args(["--accounts", "1", "--first", account])
            .envs(sandbox_env())
            .env("SANDBOX_AWS_ENDPOINT_URL", &self.url)
            .output()
            .expect("run sandbox/provision");
        assert!(out.status.success(), "{}", crate::common::text(&out));
    }
}

impl Drop for MotoShard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_proxy_sends_each_learner_to_the_moto_that_holds_their_account() {
    let _turn = SandboxTurn::shared();
    let shard = MotoShard::start(24611);
    shard.provision("445000000000");
    let out = Command::new(repo().join("sandbox/provision"))
        .args(["--accounts", "1", "--first", "445000000001"])
        .envs(sandbox_env())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", crate::common::text(&out));
    let dir = tempfile::tempdir().unwrap();
    let roster = dir.path().join("roster.csv");
    std::fs::write(
        &roster,
        "learner,account,external_id\nin-shard,445000000000,labcheck-sandbox\nat-home,445000000001,labcheck-sandbox\n",
    )
    .unwrap();
    let grade_through = |proxy: &Proxy| {
        let book = dir.path().join(format!("book-{}.json", proxy.port));
        let mut cmd = instructor();
        cmd.env("AWS_ENDPOINT_URL", &proxy.url);
        (crate::common::cohort_grade_json(cmd, &roster, &book), book)
    };

    // Without a route, the shard's learner has no role in the sandbox's moto.
    let unrouted = Proxy::start(24612, &[]);
    let (out, book) = grade_through(&unrouted);
    assert_eq!(out.status.code(), Some(3), "{}", crate::common::text(&out));
    let rows = read_json(&book)["learners"].clone();
    assert!(
        rows[0]["grading_status"]
            .as_str()
            .unwrap()
            .starts_with("error: AssumeRole refused"),
        "{}",
        rows[0]
    );
    assert_eq!(rows[1]["grading_status"], "graded", "{}", rows[1]);

    // With the route, each learner's calls (their AssumeRole, by the role's
    // account; the rest, by the keys it answered) reach their own moto.
    let route = format!("445000000000-445000000000={}", shard.url);
    let routed = Proxy::start(24613, &["--route", &route]);
    let (out, book) = grade_through(&routed);
    let stats: Value = serde_json::from_str(&routed.stats()).unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\nproxy: {stats}",
        crate::common::text(&out)
    );
    let book = read_json(&book);
    assert_eq!(book["totals"]["all_passed"], 2, "{}", book["totals"]);
    let counts = &stats["routed"];
    for moto in [shard.url.as_str(), sandbox_env()["AWS_ENDPOINT_URL"].as_str()] {
        assert!(counts[moto].as_u64().unwrap_or(0) >= 10, "{moto}: {stats}");
    }

    // A route that is not FIRST-LAST=URL is a usage error.
    for bad in [
        "445000000000=http://127.0.0.1:1",
        "1-2=http://127.0.0.1:1",
        "445000000000-445000000001=https://x",
    ] {
        let out = Command::new(repo().join("sandbox/faultproxy"))
            .args(["--listen", "127.0.0.1:24614", "--route", bad])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", crate::common::text(&out));
        assert!(String::from_utf8_lossy(&out.stderr).contains("--route"), "{bad}");
    }
}
