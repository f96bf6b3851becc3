//! What cohort grading trusts, tested as a hostile learner would attack it:
//! self-reports that cannot be true count nothing, one account and one
//! external id per learner (and the grader role trusts one principal), no
//! escape sequence from a learner reaches any output, and the journal is the
//! grader's alone. Innocent learners are graded beside each attacker.

use crate::cohort::{Proxy, cohort, grade, instructor, journal_lines, read_json, row, slow_grade, wait_for_journal};
use crate::common::{learner, repo, run_sandbox, sandbox_env, text};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};

/// A roster file in `dir`.
fn roster(dir: &Path, text: &str) -> std::path::PathBuf {
    crate::common::write(dir, "roster.csv", text)
}

/// Provisions the solved lab in `account`, its grader role trusting the
/// sandbox's instructor under `external_id`.
pub(crate) fn provision_with_id(account: &str, external_id: &str) {
    run_sandbox(&[
        "provision",
        "--accounts",
        "1",
        "--first",
        account,
        "--external-id",
        external_id,
    ]);
}

#[test]
fn a_roster_giving_two_learners_one_account_or_role_is_refused_unless_teams_are_asked_for() {
    let team = learner("a_roster_giving_two_learners_one_account");
    let acc = &team.account;
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("book.json");
    let book_arg = book.to_str().unwrap();

    // Bob typed Ada's account id.
    let shared = roster(
        dir.path(),
        &format!("learner,account,external_id\nada,{acc},labcheck-sandbox\nbob,{acc},labcheck-sandbox\n"),
    );
    let out = grade(&shared, &["--format", "json", "-o", book_arg]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains(&format!(
            "roster.csv:2:5: learner `ada` has the same account {acc} as `bob` (line 3)"
        )) && said.contains(&format!(
            "roster.csv:3:5: learner `bob` has the same account {acc} as `ada` (line 2)"
        )),
        "{said}"
    );
    assert!(said.contains("--allow-shared-accounts"), "{said}");
    assert!(!book.exists(), "nobody graded");

    // The same role, named twice.
    let role = format!("arn:aws:iam::{acc}:role/labcheck-grader");
    let roles = roster(
        dir.path(),
        &format!("learner,role_arn,external_id\nada,{role},labcheck-sandbox\nbob,{role},labcheck-sandbox\n"),
    );
    let out = grade(&roles, &["--format", "json", "-o", book_arg]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains("roster.csv:2:5: learner `ada`") && said.contains("roster.csv:3:5: learner `bob`"),
        "{said}"
    );

    // A team that shares one account, asked for.
    let out = grade(
        &shared,
        &["--format", "json", "-o", book_arg, "--allow-shared-accounts"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let graded = read_json(&book);
    assert_eq!(graded["totals"]["graded"], 2);
    assert_eq!(
        row(&graded, "ada")["report"]["score"],
        row(&graded, "bob")["report"]["score"]
    );
}

/// `labcheck cohort invite` with the sandbox's instructor as the principal.
fn invite(roster: &Path, extra: &[&str]) -> std::process::Output {
    instructor()
        .args(["cohort", "invite"])
        .arg(roster)
        .args(["--principal", "arn:aws:iam::123456789012:user/moto"])
        .args(extra)
        .output()
        .expect("run labcheck cohort invite")
}

/// learner -> external_id of a roster file.
fn external_ids(roster: &Path) -> Vec<(String, String)> {
    let mut reader = csv::Reader::from_path(roster).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (learner, id) = (col("learner"), col("external_id"));
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[learner].to_string(), r[id].to_string())
        })
        .collect()
}

#[test]
fn cohort_invite_gives_each_learner_an_id_of_their_own_and_each_role_takes_only_its_own() {
    let (a, b, c) = (
        learner("cohort_invite_a"),
        learner("cohort_invite_b"),
        learner("cohort_invite_c"),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = roster(
        dir.path(),
        &format!(
            "learner,account,region,external_id\nada,{},us-west-2,\nbob,{},us-west-2,kept-bob-id\ncy,{},,\n",
            a.account, b.account, c.account
        ),
    );
    let template_url = "https://course.s3.us-west-2.amazonaws.com/labcheck-grader.yaml";
    let out = invite(&path, &["--template-url", template_url]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    let ids = external_ids(&path);
    let id = |name: &str| ids.iter().find(|(l, _)| l == name).unwrap().1.clone();
    assert_eq!(id("bob"), "kept-bob-id", "an existing id is kept");
    for name in ["ada", "cy"] {
        let x = id(name);
        assert_eq!(x.len(), 32, "128 bits in hex: {x}");
        assert!(x.bytes().all(|b| b.is_ascii_hexdigit()), "{x}");
    }
    assert_ne!(id("ada"), id("cy"));
    // Each learner's command and link carry their own id and the principal.
    let stdout = String::from_utf8(out.stdout).unwrap();
    for (name, account) in [("ada", &a.account), ("bob", &b.account), ("cy", &c.account)] {
        let block = stdout
            .split("\n\n")
            .find(|b| b.starts_with(&format!("# {name} (account {account}")))
            .unwrap_or_else(|| panic!("no block for {name}:\n{stdout}"));
        assert!(
            block.contains("aws cloudformation deploy --template-file labcheck-grader.yaml"),
            "{block}"
        );
        assert!(
            block.contains(&format!(
                "--parameter-overrides InstructorPrincipalArn=arn:aws:iam::123456789012:user/moto ExternalId={}",
                id(name)
            )),
            "{block}"
        );
        assert!(
            block.contains("#/stacks/create/review?templateURL=https%3A%2F%2Fcourse.s3.us-west-2.amazonaws.com"),
            "{block}"
        );
        assert!(block.contains(&format!("&param_ExternalId={}", id(name))), "{block}");
    }
    assert!(said.contains("2 new external ids, 1 kept"), "{said}");

    // The roles take each learner's own id: the invited roster grades them all.
    for (account, name) in [(&a.account, "ada"), (&b.account, "bob"), (&c.account, "cy")] {
        provision_with_id(account, &id(name));
    }
    let book = dir.path().join("book.json");
    let grade_json = |roster: &Path| grade(roster, &["--format", "json", "-o", book.to_str().unwrap()]);
    let out = grade_json(&path);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(read_json(&book)["totals"]["graded"], 3);

    // --renew gives everybody a new id; -o leaves the roster as it was.
    let renewed = dir.path().join("renewed.csv");
    let out = invite(&path, &["--renew", "-o", renewed.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(external_ids(&path), ids, "the roster itself is untouched");
    let fresh = external_ids(&renewed);
    for ((name, old), (_, new)) in ids.iter().zip(&fresh) {
        assert_ne!(old, new, "{name}");
        assert_eq!(new.len(), 32);
    }
    // The old ids are refused now the roster has moved on: a learner who
    // keeps a classmate's, or an old, id is not graded.
    let out = grade_json(&renewed);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));

    // A principal that is not a role or user ARN is bad usage.
    let out = instructor()
        .args(["cohort", "invite"])
        .arg(&path)
        .args(["--principal", "123456789012"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("is not an IAM role or user ARN"), "{}", text(&out));
}

/// A second IAM user in the instructor's account, with an access key of its
/// own (moto issues it): (key id, secret).
fn another_principal_in_the_instructors_account() -> (String, String) {
    let script = r#"
import os, boto3
iam = boto3.client("iam", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-west-2")
try:
    iam.create_user(UserName="teaching-assistant")
except iam.exceptions.EntityAlreadyExistsException:
    pass
for k in iam.list_access_keys(UserName="teaching-assistant")["AccessKeyMetadata"]:
    iam.delete_access_key(UserName="teaching-assistant", AccessKeyId=k["AccessKeyId"])
k = iam.create_access_key(UserName="teaching-assistant")["AccessKey"]
print(k["AccessKeyId"], k["SecretAccessKey"])
"#;
    let out = Command::new(repo().join("sandbox/.venv/bin/python"))
        .args(["-c", script])
        .envs(sandbox_env())
        .output()
        .expect("run the sandbox's python");
    assert!(out.status.success(), "{}", text(&out));
    let line = String::from_utf8(out.stdout).unwrap();
    let (key, secret) = line.trim().split_once(' ').unwrap();
    (key.to_string(), secret.to_string())
}

#[test]
fn the_grader_role_admits_the_instructors_principal_with_the_learners_own_id_only() {
    let (a, b) = (learner("grader_role_trust_a"), learner("grader_role_trust_b"));
    provision_with_id(&a.account, "ada-own-external-id");
    provision_with_id(&b.account, "bob-own-external-id");
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("book.json");
    let book_arg = book.to_str().unwrap();
    let honest = roster(
        dir.path(),
        &format!(
            "learner,account,external_id\nada,{},ada-own-external-id\nbob,{},bob-own-external-id\n",
            a.account, b.account
        ),
    );
    let out = grade(&honest, &["--format", "json", "-o", book_arg]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // Ada's row carries Bob's id: Ada's role refuses it, Bob is graded.
    let swapped = roster(
        dir.path(),
        &format!(
            "learner,account,external_id\nada,{},bob-own-external-id\nbob,{},bob-own-external-id\n",
            a.account, b.account
        ),
    );
    let out = grade(&swapped, &["--format", "json", "-o", book_arg]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let graded = read_json(&book);
    let status = row(&graded, "ada")["grading_status"].as_str().unwrap().to_string();
    assert!(status.starts_with("error: AssumeRole refused"), "{status}");
    assert_eq!(row(&graded, "bob")["grading_status"], "graded");

    // Another principal of the instructor's own account is not the one trusted.
    let (key, secret) = another_principal_in_the_instructors_account();
    let out = instructor()
        .env("AWS_ACCESS_KEY_ID", &key)
        .env("AWS_SECRET_ACCESS_KEY", &secret)
        .args(["cohort", "grade"])
        .arg(&honest)
        .args(["--format", "json", "-o", book_arg])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let graded = read_json(&book);
    for name in ["ada", "bob"] {
        let status = row(&graded, name)["grading_status"].as_str().unwrap().to_string();
        assert!(
            status.starts_with("error: AssumeRole refused")
                && status.contains("arn:aws:iam::123456789012:user/teaching-assistant is not authorized"),
            "{name}: {status}"
        );
    }
}

/// The ids of the checks a gradebook row took from the learner's report.
fn taken(row: &Value) -> Vec<String> {
    row["self_reported"]
        .as_array()
        .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

#[test]
fn self_reports_count_apart_and_only_where_they_can_be_true() {
    let honest = learner("self_reports_honest");
    let bare = learner("self_reports_no_cache_no_database");
    bare.break_("no-cache");
    bare.break_("no-db-instance");
    let moved = learner("self_reports_moved_endpoints");
    let other = learner("self_reports_other_account");
    let evil = learner("self_reports_escape_sequences");
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    std::fs::create_dir_all(&reports).unwrap();

    // The honest learner's own run, in their IDE (the sandbox's endpoints are local).
    let out = honest
        .labcheck()
        .args(["check", "cache", "rds", "--format", "json"])
        .output()
        .unwrap();
    let own: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    std::fs::write(reports.join("honest.json"), &out.stdout).unwrap();
    let forged = |account: &str, endpoint: Option<(&str, &str)>| {
        let mut r = own.clone();
        r["account"] = account.into();
        if let Some((cache, db)) = endpoint {
            for step in r["steps"].as_array_mut().unwrap() {
                for c in step["checks"].as_array_mut().unwrap() {
                    if c["evidence"].get("endpoint").is_some() {
                        let id = c["id"].as_str().unwrap();
                        c["evidence"]["endpoint"] = if id.starts_with("cache.") { cache } else { db }.into();
                    }
                }
            }
        }
        serde_json::to_vec_pretty(&r).unwrap()
    };
    // A hand-written report: every connection passed, for a learner with no
    // cache and no database at all.
    std::fs::write(reports.join("bare.json"), forged(&bare.account, None)).unwrap();
    // Passes against endpoints that are not the learner's.
    std::fs::write(
        reports.join("moved.json"),
        forged(&moved.account, Some(("10.20.30.40:6379", "10.20.30.41:3306"))),
    )
    .unwrap();
    // A classmate's report, handed in as one's own.
    std::fs::write(reports.join("other.json"), &out.stdout).unwrap();
    // A report that does not parse, its bad value an escape sequence that
    // serde quotes in its message.
    let mut bad = own.clone();
    bad["account"] = evil.account.as_str().into();
    bad["steps"][0]["checks"][0]["status"] = "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m".into();
    std::fs::write(reports.join("evil.json"), serde_json::to_vec(&bad).unwrap()).unwrap();

    let path = roster(
        dir.path(),
        &format!(
            "learner,account,external_id\nhonest,{},labcheck-sandbox\nbare,{},labcheck-sandbox\nmoved,{},labcheck-sandbox\nother,{},labcheck-sandbox\nevil,{},labcheck-sandbox\n",
            honest.account, bare.account, moved.account, other.account, evil.account
        ),
    );
    let book = dir.path().join("book.json");
    let reports_arg = reports.to_str().unwrap();
    let out = grade(
        &path,
        &[
            "--format",
            "json",
            "-o",
            book.to_str().unwrap(),
            "--reports",
            reports_arg,
        ],
    );
    assert!(matches!(out.status.code(), Some(1 | 3 | 0)), "{}", text(&out));
    let graded = read_json(&book);

    let data_plane = [
        "cache.reachable",
        "cache.sessions",
        "rds.reachable",
        "rds.migrated",
        "rds.data",
        "rds.superuser",
    ];
    // The honest report counts, apart from the verified score.
    let h = row(&graded, "honest");
    assert_eq!(taken(h), data_plane, "{h:#}");
    assert_eq!(h["report"]["score"], h["report"]["max_score"], "{}", h["report"]);
    let points: u64 = data_plane
        .iter()
        .map(|id| crate::common::check(&h["report"], id)["points"].as_u64().unwrap())
        .sum();
    assert_eq!(h["self_reported_score"], points);
    assert_eq!(h["self_reported_max"], points);
    let reach = crate::common::check(&h["report"], "cache.reachable");
    assert_eq!(reach["status"], "pass");
    assert!(
        reach["message"].as_str().unwrap().starts_with("self-reported: "),
        "{reach}"
    );

    // No cache and no database: the checks they need failed, nothing counts.
    let b = row(&graded, "bare");
    assert!(taken(b).is_empty(), "{b:#}");
    assert_eq!(b["self_reported_score"], 0);
    let reach = crate::common::check(&b["report"], "cache.reachable");
    assert_eq!(
        (reach["status"].as_str(), reach["ungraded"].as_bool()),
        (Some("skip"), Some(true))
    );
    assert!(
        reach["message"]
            .as_str()
            .unwrap()
            .starts_with("self-report ignored: it needs cache.tls, which is skipped"),
        "{reach}"
    );
    let db = crate::common::check(&b["report"], "rds.reachable")["message"].to_string();
    assert!(
        db.contains("self-report ignored: it needs rds.instance, which is failed"),
        "{db}"
    );

    // Endpoints that AWS does not describe for this learner: nothing counts.
    let m = row(&graded, "moved");
    assert!(taken(m).is_empty(), "{m:#}");
    let msg = crate::common::check(&m["report"], "cache.reachable")["message"].to_string();
    assert!(
        msg.contains("it connected to 10.20.30.40:6379, but AWS describes"),
        "{msg}"
    );
    let msg = crate::common::check(&m["report"], "rds.data")["message"].to_string();
    assert!(msg.contains("it needs rds.migrated"), "{msg}");

    // Another account's report: nothing counts.
    let o = row(&graded, "other");
    assert!(taken(o).is_empty(), "{o:#}");
    assert!(
        o["notes"]
            .to_string()
            .contains("self-report ignored: it is for account"),
        "{o}"
    );

    // The report that does not parse is noted, its escape sequences gone,
    // in every format.
    let e = row(&graded, "evil");
    assert!(taken(e).is_empty());
    let notes = e["notes"].to_string();
    assert!(
        notes.contains("is not a labcheck JSON report (unknown variant"),
        "{notes}"
    );
    let mut outputs = vec![("json".to_string(), std::fs::read(&book).unwrap())];
    for format in ["csv", "junit", "html"] {
        let out = instructor()
            .args(["cohort", "merge"])
            .arg(&book)
            .args(["--format", format])
            .output()
            .unwrap();
        outputs.push((format.to_string(), out.stdout));
    }
    // Graded again, the gradebook on standard output (CSV, the default);
    // reports written before --reports-since are not taken.
    let out = grade(&path, &["--reports", reports_arg, "--reports-since", "2100-01-01"]);
    let csv = String::from_utf8(out.stdout.clone()).unwrap();
    outputs.push(("csv on stdout".into(), out.stdout));
    outputs.push(("stderr".into(), out.stderr));
    for (format, bytes) in &outputs {
        let text = String::from_utf8_lossy(bytes);
        for bad in ['\u{1b}', '\u{7}', '\u{9b}'] {
            assert!(!text.contains(bad), "{format} holds {bad:?}");
        }
        assert!(
            !text.contains("\\u001b") && !text.contains("\\u0007"),
            "{format}: an escaped control character"
        );
    }
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    // DESIGN §7's columns keep their places; the self-reported ones follow graded_at.
    assert_eq!(
        header[..5],
        ["learner", "account", "score", "max_score", "grading_status"]
    );
    let at = |name: &str| header.iter().position(|h| *h == name).unwrap();
    assert_eq!(at("self_reported"), at("graded_at") + 1, "{header:?}");
    let honest_row = csv.lines().find(|l| l.starts_with("honest,")).unwrap();
    let cells: Vec<&str> = honest_row.split(',').collect();
    assert_eq!(
        (cells[at("self_reported")], cells[at("self_reported_max")]),
        ("0", "0"),
        "{honest_row}"
    );
    assert!(
        honest_row.contains("before --reports-since 2100-01-01T00:00:00Z"),
        "{honest_row}"
    );
    let (_, html) = &outputs[3];
    assert!(String::from_utf8_lossy(html).contains(">self-reported</th>"));
}

#[test]
fn a_journal_in_use_is_refused_naming_its_holder() {
    let c = cohort("470000000000", 3);
    let proxy = Proxy::start(24621, &["--latency-ms", "80", "--fault-rate", "0"]);
    let journal = c.path("journal.jsonl");
    let mut child = slow_grade(&c, &proxy, &c.path("first.json"), &journal, &[]);
    wait_for_journal(&mut child, &journal, 1);
    let out = grade(
        &c.roster,
        &[
            "--journal",
            journal.to_str().unwrap(),
            "--resume",
            "-o",
            c.path("second.csv").to_str().unwrap(),
        ],
    );
    let said = text(&out);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains(&format!(
            "journal.jsonl is in use by process {} (labcheck cohort grade",
            child.id()
        )),
        "{said}"
    );
    assert!(!c.path("second.csv").exists());
}

#[test]
fn journal_lines_that_are_not_the_graders_are_dropped_and_their_learner_graded_again() {
    let c = cohort("471000000000", 3);
    let journal = c.path("journal.jsonl");
    let fresh = c.path("fresh.json");
    let args = |book: &Path| {
        vec![
            "--format".to_string(),
            "json".into(),
            "-o".into(),
            book.to_str().unwrap().into(),
            "--journal".into(),
            journal.to_str().unwrap().into(),
        ]
    };
    let a: Vec<String> = args(&fresh);
    let out = grade(&c.roster, &a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(matches!(out.status.code(), Some(0 | 3)), "{}", text(&out));
    let before = read_json(&fresh);
    let broken = c
        .manifest
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, v)| v["state"] != "solved")
        .map(|(k, _)| k.clone())
        .unwrap();
    let solved = c
        .manifest
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, v)| v["state"] == "solved")
        .map(|(k, _)| k.clone())
        .unwrap();
    let broken_row = row(&before, &broken).clone();
    assert!(broken_row["report"]["score"] != broken_row["report"]["max_score"]);

    // The broken learner's code appends a line that gives it a solved
    // classmate's full marks, and one that is not JSON at all.
    let mut forged = row(&before, &solved).clone();
    forged["index"] = broken_row["index"].clone();
    forged["learner"] = broken.as_str().into();
    let mut file = std::fs::OpenOptions::new().append(true).open(&journal).unwrap();
    use std::io::Write;
    writeln!(file, "{}", serde_json::to_string(&forged).unwrap()).unwrap();
    writeln!(
        file,
        "\u{1b}]0;owned\u{7}{{\"index\": {}, \"learner\":",
        broken_row["index"]
    )
    .unwrap();
    drop(file);

    let resumed = c.path("resumed.json");
    let mut a = args(&resumed);
    a.push("--resume".into());
    let out = grade(&c.roster, &a.iter().map(String::as_str).collect::<Vec<_>>());
    let said = text(&out);
    assert!(matches!(out.status.code(), Some(0 | 3)), "{said}");
    assert!(!said.contains('\u{1b}') && !said.contains('\u{7}'), "{said:?}");
    assert_eq!(said.matches("line left out").count(), 2, "{said}");
    assert!(said.contains(&format!("{broken} is graded again")), "{said}");
    assert!(said.contains("it is for account"), "{said}");
    let after = read_json(&resumed);
    let regraded = row(&after, &broken);
    assert_eq!(
        regraded["report"]["score"], broken_row["report"]["score"],
        "no forged marks"
    );
    assert!(
        regraded["notes"].to_string().contains("graded again: journal line"),
        "{regraded}"
    );
    assert_eq!(journal_lines(&journal), 1 + 3 + 2 + 1, "the regraded line is appended");
}

#[test]
fn the_role_templates_resources_are_of_the_types_each_action_takes() {
    // cfn-lint's copy of the Service Authorization Reference: each action's
    // resource types and their ARN formats.
    let out = labcheck_template();
    let script = r#"
import glob, json, re, sys, yaml
spec = json.load(open(glob.glob(sys.argv[1] + "/lib/python3*/site-packages/cfnlint/data/AdditionalSpecs/Policies.json")[0]))
doc = yaml.safe_load(sys.stdin)
problems = []
for st in doc["Resources"]["GraderRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]:
    resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
    for action in st["Action"]:
        service, name = action.split(":")
        types = spec[service]["Actions"][name.lower()].get("Resources", [])
        formats = [f for t in types for f in spec[service]["Resources"][t]["ARNFormats"]]
        for r in resources:
            if r == "*":
                if types:
                    problems.append(f"{action}: granted on * though IAM can name {types}")
                continue
            pattern = r["Fn::Sub"][0] if isinstance(r["Fn::Sub"], list) else r["Fn::Sub"]
            arn = (pattern.replace("${AWS::Partition}", "aws").replace("${AWS::AccountId}", "111122223333")
                   .replace("${Bucket}", "pets-project-us-west-2-111122223333").replace(":*:", ":us-west-2:"))
            arn = arn.replace("*", "x")
            fits = any(re.fullmatch(f.replace("${Partition}", "aws").replace("${Region}", "[a-z0-9-]*")
                                    .replace("${Account}", r"(\d{12}|aws)"), arn) for f in formats)
            if not fits:
                problems.append(f"{action}: {pattern} is none of {formats}")
print("\n".join(problems))
"#;
    let tools = repo().join("scripts/.tools");
    let mut child = Command::new(tools.join("bin/python"))
        .args(["-c", script])
        .arg(&tools)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run scripts/.tools/bin/python (scripts/tools installs it)");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&out).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let problems = String::from_utf8(out.stdout).unwrap();
    assert!(problems.trim().is_empty(), "{problems}");
}

fn labcheck_template() -> Vec<u8> {
    let out = crate::common::labcheck()
        .args(["policy", "--role-template"])
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
}

#[test]
fn learners_sharing_an_external_id_are_told_and_learners_with_their_own_are_not() {
    let (ada, bob) = (learner("shared_external_id_ada"), learner("shared_external_id_bob"));
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("book.json");
    let book_arg = book.to_str().unwrap();

    // Both roles trust the one id the sandbox provisions by default.
    let shared = roster(
        dir.path(),
        &format!(
            "learner,account,external_id\nada,{},labcheck-sandbox\nbob,{},labcheck-sandbox\n",
            ada.account, bob.account
        ),
    );
    let out = grade(&shared, &["--format", "json", "-o", book_arg]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "both are graded: {said}");
    assert!(
        said.contains("2 learners share an external id with a classmate") && said.contains("cohort invite"),
        "{said}"
    );
    assert!(!said.contains("labcheck-sandbox"), "the id itself is not shown: {said}");

    // Each with an id of their own: nothing to say.
    provision_with_id(&ada.account, "ada-own-id-7f3a");
    provision_with_id(&bob.account, "bob-own-id-91c2");
    let own = roster(
        dir.path(),
        &format!(
            "learner,account,external_id\nada,{},ada-own-id-7f3a\nbob,{},bob-own-id-91c2\n",
            ada.account, bob.account
        ),
    );
    let out = grade(&own, &["--format", "json", "-o", book_arg]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(!said.contains("share an external id"), "{said}");
}
