//! The instructor's desk against the sandbox: grades an LMS imports (golden
//! Canvas and Moodle files of a sandbox cohort), excuses that change a
//! learner's maximum in every format, who left what running (accounts in
//! mixed states, totals from the price table, and only the reads the grader
//! role grants), an AWS Organizations organization graded by unit, and what
//! changed between two gradings with one learner repaired in between.

use crate::cohort::{grade, instructor, read_json, row};
use crate::cohort_trust::provision_with_id;
use crate::common::{SandboxTurn, labcheck, learner, recorder, repo, run_sandbox, sandbox_env, text, write};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `labcheck cohort export BOOK ARGS`.
fn export(book: &Path, args: &[&str]) -> Output {
    labcheck()
        .args(["cohort", "export"])
        .arg(book)
        .args(args)
        .output()
        .expect("run labcheck cohort export")
}

/// The golden file `tests/fixtures/lms/NAME`; with LABCHECK_BLESS=1 in the
/// environment, (re)written from `got` instead (then read the diff before
/// committing it).
fn assert_golden(name: &str, got: &str) {
    let path = repo().join("tests/fixtures/lms").join(name);
    if std::env::var_os("LABCHECK_BLESS").is_some() {
        std::fs::write(&path, got).unwrap();
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (LABCHECK_BLESS=1 writes it)", path.display()));
    if got != want {
        let diff: Vec<String> = want
            .lines()
            .zip(got.lines())
            .enumerate()
            .filter(|(_, (w, g))| w != g)
            .map(|(i, (w, g))| format!("line {}:\n  want {w}\n  got  {g}", i + 1))
            .collect();
        panic!(
            "{name} differs from {} ({} lines wanted, {} got):\n{}\n(LABCHECK_BLESS=1 rewrites it)",
            path.display(),
            want.lines().count(),
            got.lines().count(),
            diff.join("\n")
        );
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The roster `sandbox/cohort` printed, with each learner's LMS identities
/// added; `donald` has none (the LMS files show what that costs).
fn with_identities(roster: &str) -> String {
    let mut out = String::new();
    for (i, line) in roster.lines().enumerate() {
        if i == 0 {
            out.push_str(&format!("{line},email,sis_login_id,sis_user_id,section\n"));
            continue;
        }
        let name = line.split(',').next().unwrap();
        let identity = if name == "donald" {
            ",,,".to_string()
        } else {
            format!(
                "{name}@uni.example,{name}01,S{:04},Lab {}",
                i,
                if i % 2 == 0 { "B" } else { "A" }
            )
        };
        out.push_str(&format!("{line},{identity}\n"));
    }
    out
}

#[test]
fn canvas_and_moodle_files_of_a_sandbox_cohort_are_the_golden_ones() {
    let _turn = SandboxTurn::shared();
    // Eight learners: solved, broken in one way each, one whose role cannot be assumed.
    let made = run_sandbox(&["cohort", "--accounts", "8", "--first", "640000000000"]);
    let dir = tempfile::tempdir().unwrap();
    let roster = write(dir.path(), "roster.csv", &with_identities(&stdout(&made)));
    let book = dir.path().join("book.json");
    let out = grade(&roster, &["--format", "json", "-o", book.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "ken's role cannot be assumed:\n{}",
        text(&out)
    );
    let json = read_json(&book);
    assert_eq!(
        row(&json, "ada")["email"],
        "ada@uni.example",
        "the identities reach the gradebook"
    );
    assert_eq!(row(&json, "ada")["section"], "Lab A");

    let assignment = "Lab 3: Django on Beanstalk";
    let canvas = export(&book, &["--format", "canvas", "--assignment", assignment]);
    assert!(canvas.status.success(), "{}", text(&canvas));
    let said = String::from_utf8_lossy(&canvas.stderr);
    assert!(
        said.contains("1 learner could not be graded and has an empty cell, not a zero: ken"),
        "{said}"
    );
    assert!(said.contains("Canvas can only match them by name: donald"), "{said}");
    assert_golden("canvas.csv", &stdout(&canvas));
    // ken (not graded) has an empty cell, never a zero.
    assert!(
        stdout(&canvas).contains("\r\nken,,S0008,ken01,Lab B,\r\n"),
        "{}",
        stdout(&canvas)
    );

    let moodle = export(
        &book,
        &[
            "--format",
            "moodle",
            "--moodle-id",
            "username",
            "--grade",
            "percent",
            "--assignment",
            assignment,
        ],
    );
    assert!(moodle.status.success(), "{}", text(&moodle));
    assert!(
        String::from_utf8_lossy(&moodle.stderr)
            .contains("1 learner left out of the file: the roster gives no `sis_login_id`"),
        "{}",
        text(&moodle)
    );
    assert_golden("moodle.csv", &stdout(&moodle));

    // cohort grade writes the same file as the export of its gradebook.
    let direct = grade(&roster, &["--format", "canvas", "--assignment", assignment]);
    assert_eq!(direct.status.code(), Some(3), "{}", text(&direct));
    assert_eq!(stdout(&direct), stdout(&canvas));
}

/// A roster of sandbox learners (grader roles from `sandbox/provision`).
fn roster_of(dir: &Path, learners: &[(&str, &str)]) -> PathBuf {
    let mut text = "learner,account,region,external_id\n".to_string();
    for (name, account) in learners {
        text.push_str(&format!("{name},{account},us-west-2,labcheck-sandbox\n"));
    }
    write(dir, "roster.csv", &text)
}

/// (status, points, score) of a check in a learner's gradebook row.
fn check_of(book: &Value, learner: &str, id: &str) -> (String, u64, u64) {
    let c = crate::common::check(&row(book, learner)["report"], id);
    (
        c["status"].as_str().unwrap().to_string(),
        c["points"].as_u64().unwrap(),
        c["score"].as_u64().unwrap(),
    )
}

fn points(book: &Value, learner: &str) -> (u64, u64) {
    let r = &row(book, learner)["report"];
    (r["score"].as_u64().unwrap(), r["max_score"].as_u64().unwrap())
}

#[test]
fn excused_checks_leave_the_maximum_in_every_format() {
    let ada = learner("desk_excused_ada");
    ada.break_("no-cors");
    let bob = learner("desk_excused_bob");
    let dir = tempfile::tempdir().unwrap();
    let roster = roster_of(dir.path(), &[("ada", &ada.account), ("bob", &bob.account)]);

    // Unknown learners and ids are refused at their cell, before anybody is graded.
    let bad = write(
        dir.path(),
        "bad-excuses.csv",
        "learner,check,reason\nada,s3.cros,typo\neve,s3.cors,who is eve\n",
    );
    let out = grade(&roster, &["--excuses", bad.to_str().unwrap(), "--format", "json"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains("bad-excuses.csv:2:5: `s3.cros` is neither a check nor a step of lab deploy-django-eb; did you mean `s3.cors`?"),
        "{said}"
    );
    assert!(
        said.contains("bad-excuses.csv:3:1: no learner `eve` in the gradebook"),
        "{said}"
    );
    assert!(out.stdout.is_empty(), "nobody graded:\n{said}");

    let plain = dir.path().join("plain.json");
    let out = grade(&roster, &["--format", "json", "-o", plain.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let excuses = write(
        dir.path(),
        "excuses.csv",
        "learner,check,reason\nada,s3.cors,AWS outage in us-west-2\nbob,eb,account suspended by AWS\n",
    );
    let excused = dir.path().join("excused.json");
    let out = grade(
        &roster,
        &[
            "--excuses",
            excuses.to_str().unwrap(),
            "--format",
            "json",
            "-o",
            excused.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let (plain, book) = (read_json(&plain), read_json(&excused));

    // ada: CORS still fails, and no longer counts against her.
    let (status, cors_points, _) = check_of(&book, "ada", "s3.cors");
    assert_eq!(status, "fail", "an excused check keeps its status");
    assert_eq!(check_of(&plain, "ada", "s3.cors").0, "fail");
    let (score, max) = points(&plain, "ada");
    assert_eq!(points(&book, "ada"), (score, max - cors_points));
    assert_eq!(
        row(&book, "ada")["excused"],
        serde_json::json!([{"check": "s3.cors", "reason": "AWS outage in us-west-2"}])
    );
    // bob: the whole eb step leaves his maximum, and its points his score.
    let eb = row(&plain, "bob")["report"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "eb")
        .unwrap()
        .clone();
    let (eb_score, eb_max) = (eb["score"].as_u64().unwrap(), eb["max_score"].as_u64().unwrap());
    assert!(eb_max > 0 && eb_score == eb_max, "bob's eb step passes: {eb}");
    let (score, max) = points(&plain, "bob");
    assert_eq!(points(&book, "bob"), (score - eb_score, max - eb_max));
    let excused_eb = row(&book, "bob")["report"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "eb")
        .unwrap()
        .clone();
    assert_eq!(
        (excused_eb["score"].as_u64(), excused_eb["max_score"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(
        check_of(&book, "bob", "eb.env").0,
        "pass",
        "excused, the pass stays a pass"
    );
    let stat = book["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "s3.cors")
        .unwrap();
    assert_eq!(stat["excused"], 1, "{stat}");

    // Every format says so.
    let csv = stdout(&export(&excused, &["--format", "csv"]));
    let ada_row = csv.lines().find(|l| l.starts_with("ada,")).unwrap();
    assert!(ada_row.contains(&format!(",{},", max_of(&book, "ada"))), "{ada_row}");
    assert!(
        ada_row.contains("s3.cors excused: AWS outage in us-west-2"),
        "{ada_row}"
    );
    assert!(csv.contains("eb.env excused: account suspended by AWS"), "{csv}");
    let junit = stdout(&export(&excused, &["--format", "junit"]));
    assert!(
        junit.contains("<property name=\"excused\" value=\"AWS outage in us-west-2\"/>")
            && junit.contains("excused: AWS outage in us-west-2"),
        "{junit}"
    );
    let html = stdout(&export(&excused, &["--format", "html"]));
    assert!(html.contains("s3.cors excused: AWS outage in us-west-2"), "html");
    assert!(html.contains("(1 excused)"), "the check's row counts it");
    let json = stdout(&export(&excused, &["--format", "json"]));
    assert!(json.contains("s3.cors excused: AWS outage in us-west-2"), "json notes");
    let canvas = stdout(&export(&excused, &["--format", "canvas"]));
    assert!(
        canvas.contains(&format!("\r\nbob,,,,,{}\r\n", points(&book, "bob").0)),
        "{canvas}"
    );
    let moodle = stdout(&export(&excused, &["--format", "moodle", "--grade", "percent"]));
    assert_eq!(moodle.lines().count(), 1, "no learner has an email: {moodle}");
}

fn max_of(book: &Value, learner: &str) -> u64 {
    points(book, learner).1
}

/// The price table labcheck carries.
fn prices() -> toml::Value {
    toml::from_str(&std::fs::read_to_string(repo().join("src/cohort/prices.toml")).unwrap()).unwrap()
}

fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[test]
fn leftovers_are_listed_by_cost_with_totals_from_the_price_table_and_only_granted_reads() {
    // The recorder sees every account's calls: this test holds the sandbox alone.
    let _turn = SandboxTurn::exclusive();
    let (clean, left, full, no_role) = ("650000000000", "650000000001", "650000000002", "650000000003");
    run_sandbox(&["provision", "--accounts", "1", "--first", clean, "--resources", "none"]);
    run_sandbox(&["provision", "--accounts", "1", "--first", left, "--resources", "rds,eb"]);
    run_sandbox(&["provision", "--accounts", "1", "--first", full]);
    run_sandbox(&["provision", "--accounts", "1", "--first", no_role, "--no-grader"]);
    let dir = tempfile::tempdir().unwrap();
    let roster = roster_of(
        dir.path(),
        &[("ada", clean), ("grace", left), ("alan", full), ("bob", no_role)],
    );
    let report = dir.path().join("leftovers.json");
    recorder::start();
    let out = instructor()
        .args(["cohort", "leftovers"])
        .arg(&roster)
        .args(["--format", "json", "-o", report.to_str().unwrap()])
        .output()
        .unwrap();
    let made: BTreeSet<String> = recorder::calls()
        .into_iter()
        .filter(|c| c.access_key.starts_with("ASIA"))
        .map(|c| c.action)
        .collect();
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "something is left:\n{said}");
    assert!(said.contains("2 of 4 learners left"), "{said}");

    // Only reads the grader role grants, and each read it adds for this is made.
    let policy: Value = serde_json::from_slice(&labcheck().arg("policy").output().unwrap().stdout).unwrap();
    let allowed: Vec<String> = policy["Statement"][0]["Action"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_ascii_lowercase())
        .collect();
    let denied: Vec<&String> = made
        .iter()
        .filter(|a| !allowed.contains(&a.to_ascii_lowercase()))
        .collect();
    assert!(denied.is_empty(), "calls the grader role does not allow: {denied:?}");
    for needed in [
        "ec2:DescribeInstances",
        "rds:DescribeDBInstances",
        "elasticbeanstalk:DescribeEnvironments",
    ] {
        assert!(made.contains(needed), "{needed} not called: {made:?}");
    }
    assert!(made.iter().all(|a| crate::common::recorder::is_read(a)), "{made:?}");

    let p = prices();
    let west = &p["regions"]["us-west-2"];
    let hours = p["hours_per_month"].as_integer().unwrap() as f64;
    let db = cents(
        west["rds_hourly"]["db.t3.micro"].as_float().unwrap() * hours
            + 20.0 * west["rds_storage_gb_month"]["gp2"].as_float().unwrap(),
    );
    let instance = cents(west["ec2_hourly"]["t3.micro"].as_float().unwrap() * hours);
    let valkey = cents(
        p["serverless_minimum_gb"]["valkey"].as_float().unwrap()
            * west["serverless_gb_hour"]["valkey"].as_float().unwrap()
            * hours,
    );

    let json = read_json(&report);
    assert_eq!(json["schema"], "labcheck/leftovers-v1");
    assert_eq!(json["prices_as_of"].as_str(), p["as_of"].as_str());
    let order: Vec<&str> = json["learners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["learner"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["alan", "grace", "ada", "bob"], "the most expensive first");
    let learner = |name: &str| {
        json["learners"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["learner"] == name)
            .unwrap()
    };
    let kinds = |name: &str| -> Vec<(String, f64)> {
        learner(name)["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["kind"].as_str().unwrap().to_string(), r["monthly"].as_f64().unwrap()))
            .collect()
    };
    assert_eq!(
        kinds("grace"),
        [
            ("RDS DB instance".to_string(), db),
            ("Elastic Beanstalk environment".to_string(), instance)
        ]
    );
    assert_eq!(learner("grace")["monthly"].as_f64().unwrap(), cents(db + instance));
    let grace_db = &learner("grace")["resources"][0];
    assert_eq!(grace_db["size"], "db.t3.micro, 20 GB gp2");
    assert!(grace_db["since"].as_str().unwrap().starts_with("20"), "{grace_db}");
    assert!(
        grace_db["delete"]
            .as_str()
            .unwrap()
            .starts_with("aws rds delete-db-instance --db-instance-identifier pets-project-mysql")
    );
    let alan: Vec<String> = kinds("alan").into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        alan,
        [
            "RDS DB instance",
            "Elastic Beanstalk environment",
            "serverless cache",
            "S3 bucket"
        ]
    );
    assert_eq!(kinds("alan")[2].1, valkey);
    assert_eq!(learner("ada")["status"], "checked");
    assert!(learner("ada")["resources"].as_array().unwrap().is_empty());
    assert!(
        learner("bob")["status"]
            .as_str()
            .unwrap()
            .starts_with("error: AssumeRole refused")
    );
    let alan_total = learner("alan")["monthly"].as_f64().unwrap();
    assert_eq!(
        json["total_monthly"].as_f64().unwrap(),
        cents(alan_total + db + instance)
    );

    // csv: a row per resource, the total last; html: one page with the total.
    let csv = instructor()
        .args(["cohort", "leftovers"])
        .arg(&roster)
        .output()
        .unwrap();
    let csv = stdout(&csv);
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .starts_with("learner,account,region,resource,name,size,state,since,monthly_usd")
    );
    assert!(
        csv.contains(&format!("grace,{left},us-west-2,RDS DB instance,pets-project-mysql,")),
        "{csv}"
    );
    let total = format!("total,,,,,,,,{:.2},", cents(alan_total + db + instance));
    assert!(csv.lines().last().unwrap().starts_with(&total), "{csv}");
    let html = instructor()
        .args(["cohort", "leftovers", "--format", "html"])
        .arg(&roster)
        .output()
        .unwrap();
    let html = stdout(&html);
    assert!(
        html.contains(&format!("{:.2}", cents(alan_total + db + instance))),
        "the total"
    );
    assert!(html.contains("Nothing left running: ada."));

    // A cohort that cleaned up: exit 0.
    let tidy = roster_of(dir.path(), &[("ada", clean)]);
    let out = instructor().args(["cohort", "leftovers"]).arg(&tidy).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("0 of 1 learners left 0 resources running"),
        "{}",
        text(&out)
    );
}

/// `sandbox/organization`: a fresh pair of units with their accounts.
fn organization() -> Value {
    let out = Command::new(repo().join("sandbox/organization"))
        .envs(sandbox_env())
        .output()
        .expect("run sandbox/organization");
    assert!(out.status.success(), "sandbox/organization failed:\n{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// labcheck as the organization's management account.
fn manager(layout: &Value) -> Command {
    let mut cmd = instructor();
    cmd.env("AWS_ACCESS_KEY_ID", layout["management"].as_str().unwrap())
        .env("LABCHECK_EXTERNAL_ID", "labcheck-sandbox");
    cmd
}

fn graded_names(book: &Value) -> Vec<String> {
    book["learners"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["grading_status"] == "graded")
        .map(|l| l["learner"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn an_organizations_active_accounts_are_graded_by_unit() {
    let _turn = SandboxTurn::shared();
    let layout = organization();
    let unit = |u: &str| layout["units"][u].as_str().unwrap().to_string();
    let id_of = |name: &str| {
        layout["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let dir = tempfile::tempdir().unwrap();
    let by_unit = |unit: &str, extra: &[&str]| -> (Output, Value) {
        let book = dir.path().join(format!("{unit}.json"));
        let out = manager(&layout)
            .args(["cohort", "grade", "--organization", unit, "--format", "json", "-o"])
            .arg(&book)
            .args(extra)
            .output()
            .unwrap();
        let json = if book.exists() { read_json(&book) } else { Value::Null };
        (out, json)
    };

    // Unit a: ada and grace; edsger is suspended; alan is in the unit below.
    let (out, book) = by_unit(&unit("a"), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(graded_names(&book), ["ada", "grace"]);
    assert_eq!(row(&book, "grace")["account"], id_of("grace").as_str());
    assert!(
        text(&out).contains("left out accounts that are not ACTIVE: 1 SUSPENDED"),
        "{}",
        text(&out)
    );
    let (out, book) = by_unit(&unit("a"), &["--recursive"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(graded_names(&book), ["ada", "alan", "grace"]);
    let (_, book) = by_unit(&unit("b"), &[]);
    assert_eq!(graded_names(&book), ["barbara"]);
    // By e-mail.
    let (_, book) = by_unit(&unit("b"), &["--learner-name", "email"]);
    assert!(graded_names(&book)[0].starts_with("barbara.") && graded_names(&book)[0].ends_with("@example.edu"));

    // A roster merged in by account: its names, parameters and LMS identities.
    let roster = write(
        dir.path(),
        "roster.csv",
        &format!(
            "learner,account,email,sis_login_id\nGrace Hopper,{},grace@uni.example,ghopper\nnot-in-the-unit,111111111111,x@uni.example,x\n",
            id_of("grace")
        ),
    );
    let out = manager(&layout)
        .args(["cohort", "grade"])
        .arg(&roster)
        .args(["--organization", &unit("a"), "--format", "canvas"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let canvas = stdout(&out);
    assert!(canvas.contains("\r\nGrace Hopper,,,ghopper,,"), "{canvas}");
    assert!(canvas.contains("\r\nada,,,,,"), "{canvas}");
    assert!(
        text(&out).contains("1 learners of ") && text(&out).contains("are not ACTIVE accounts of"),
        "{}",
        text(&out)
    );

    // Not a unit id: bad input, nobody graded.
    let out = manager(&layout)
        .args(["cohort", "grade", "--organization", "ou-nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("is not an organizational unit id"),
        "{}",
        text(&out)
    );
}

#[test]
fn compare_marks_who_turned_green_between_two_gradings() {
    let ada = learner("desk_compare_ada");
    ada.break_("no-cors");
    let bob = learner("desk_compare_bob");
    bob.break_("health-red");
    let cy = learner("desk_compare_cy");
    let dir = tempfile::tempdir().unwrap();
    let roster = roster_of(
        dir.path(),
        &[("ada", &ada.account), ("bob", &bob.account), ("cy", &cy.account)],
    );
    let monday = dir.path().join("monday.json");
    let out = grade(&roster, &["--format", "json", "-o", monday.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // Ada repairs her CORS rule; nothing else changes.
    crate::common::provision(&ada.account);
    let wednesday = dir.path().join("wednesday.json");
    let out = grade(
        &roster,
        &[
            "--compare",
            monday.to_str().unwrap(),
            "--format",
            "json",
            "-o",
            wednesday.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("monday.json: 1 stuck, 1 improved, 1 done"),
        "{}",
        text(&out)
    );
    let book = read_json(&wednesday);
    let progress = |name: &str| {
        book["compared"]["learners"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["learner"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(progress("ada")["standing"], "improved");
    assert!(
        progress("ada")["turned_green"]
            .as_array()
            .unwrap()
            .contains(&Value::from("s3.cors")),
        "{}",
        progress("ada")
    );
    assert!(progress("ada")["score_now"].as_u64() > progress("ada")["score_before"].as_u64());
    assert_eq!(progress("bob")["standing"], "stuck", "health still Red");
    assert!(progress("bob").get("turned_green").is_none());
    assert_eq!(progress("cy")["standing"], "done");
    assert_eq!(
        book["compared"]["previous_generated_at"],
        read_json(&monday)["generated_at"]
    );

    let html = grade(&roster, &["--compare", monday.to_str().unwrap(), "--format", "html"]);
    let html = stdout(&html);
    assert!(html.contains("Since the last grading"), "html");
    let stuck = html
        .find("<tr class=\"standing-stuck\"><td>bob</td>")
        .expect("bob's row");
    let improved = html
        .find("<tr class=\"standing-improved\"><td>ada</td>")
        .expect("ada's row");
    assert!(stuck < improved, "the stuck first");

    // Not a gradebook: bad input.
    let out = grade(&roster, &["--compare", roster.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("not a labcheck/gradebook-v1 JSON file"),
        "{}",
        text(&out)
    );
}

/// `labcheck quiz knowledge-check` answered right (or with the first
/// distractor), its result file at `path`.
fn quiz_result(path: &Path, right: bool) {
    use labcheck::course::quiz::Kind;
    let course = labcheck::course::Course::embedded(&labcheck::checks::kind_ids()).unwrap();
    let quiz = course.quiz("knowledge-check").unwrap();
    let mut answers = String::new();
    for q in &quiz.questions {
        let pick: Vec<String> = match (&q.kind, right) {
            (Kind::MultipleChoice(mc), false) => vec![mc.distractors[0].clone()],
            (Kind::ShortAnswer(_), false) => vec!["no idea".into()],
            _ => q.expected().into_iter().map(str::to_string).collect(),
        };
        let value: Vec<String> = pick.iter().map(|p| serde_json::to_string(p).unwrap()).collect();
        answers.push_str(&format!("{} = [{}]\n", q.id, value.join(", ")));
    }
    let dir = path.parent().unwrap();
    std::fs::create_dir_all(dir).unwrap();
    let file = write(dir, "answers.toml", &answers);
    let out = labcheck()
        .args(["quiz", "knowledge-check", "--format", "json", "--answers"])
        .arg(&file)
        .env("LABCHECK_DATA_DIR", dir)
        .output()
        .unwrap();
    assert!(out.status.code() == Some(if right { 0 } else { 1 }), "{}", text(&out));
    std::fs::write(path, &out.stdout).unwrap();
}

#[test]
fn the_week_in_the_instructors_chapter_runs_against_the_sandbox() {
    let _turn = SandboxTurn::shared();
    let (ada, grace, alan) = ("660000000000", "660000000001", "660000000002");
    let dir = tempfile::tempdir().unwrap();
    let roster = write(
        dir.path(),
        "roster.csv",
        &format!(
            "learner,account,region,email,sis_login_id,sis_user_id,section\n\
             ada,{ada},us-west-2,ada@uni.example,ada01,S0001,Lab A\n\
             grace,{grace},us-west-2,grace@uni.example,grace01,S0002,Lab A\n\
             alan,{alan},us-west-2,alan@uni.example,alan01,S0003,Lab B\n"
        ),
    );
    let r = roster.to_str().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();

    // 1. Monday: invite; each learner deploys their role with their own id.
    let out = instructor()
        .args([
            "cohort",
            "invite",
            r,
            "--principal",
            "arn:aws:iam::123456789012:user/moto",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let mut ids = std::collections::HashMap::new();
    let mut reader = csv::Reader::from_path(&roster).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    for rec in reader.records() {
        let rec = rec.unwrap();
        ids.insert(rec[col("account")].to_string(), rec[col("external_id")].to_string());
        assert_eq!(
            &rec[col("sis_login_id")],
            format!("{}01", &rec[col("learner")]),
            "invite keeps the identities"
        );
    }
    for account in [ada, grace, alan] {
        provision_with_id(account, &ids[account]);
    }
    run_sandbox(&["break", "no-cors", "--account", ada]);
    run_sandbox(&["break", "health-red", "--account", grace]);

    // 2. Wednesday: grade mid-week, then see who moved by Thursday.
    let out = grade(&roster, &["--format", "json", "-o", &path("wednesday.json")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    provision_with_id(ada, &ids[ada]);
    let out = grade(
        &roster,
        &[
            "--compare",
            &path("wednesday.json"),
            "--format",
            "html",
            "-o",
            &path("thursday.html"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("since "), "{}", text(&out));

    // 3. Thursday: excuse grace's environment (an outage, say).
    write(
        dir.path(),
        "excuses.csv",
        "learner,check,reason\ngrace,eb.env,Beanstalk outage on Thursday\n",
    );

    // 4. Friday: grade at the end.
    let out = grade(
        &roster,
        &[
            "--excuses",
            &path("excuses.csv"),
            "--compare",
            &path("wednesday.json"),
            "--format",
            "json",
            "-o",
            &path("friday.json"),
            "--journal",
            &path("friday.jsonl"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let friday = read_json(Path::new(&path("friday.json")));
    assert_eq!(friday["totals"]["graded"], 3);
    assert_eq!(row(&friday, "grace")["excused"][0]["check"], "eb.env");
    let standing = |name: &str| {
        friday["compared"]["learners"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["learner"] == name)
            .unwrap()["standing"]
            .clone()
    };
    assert_eq!(standing("ada"), "improved");
    assert_eq!(standing("alan"), "done");

    // 5. Import to the LMS.
    let out = export(
        Path::new(&path("friday.json")),
        &[
            "--format",
            "canvas",
            "--assignment",
            "Lab 3: Django on Beanstalk",
            "-o",
            &path("canvas.csv"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let canvas = std::fs::read_to_string(path("canvas.csv")).unwrap();
    assert!(canvas.contains("\r\nada,,S0001,ada01,Lab A,"), "{canvas}");
    let out = export(
        Path::new(&path("friday.json")),
        &["--format", "moodle", "-o", &path("moodle.csv")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        std::fs::read_to_string(path("moodle.csv"))
            .unwrap()
            .contains("\r\ngrace@uni.example,grace,")
    );

    // 6. Review the quizzes.
    quiz_result(&dir.path().join("results/ada/knowledge-check.json"), true);
    quiz_result(&dir.path().join("results/grace/knowledge-check.json"), false);
    let out = labcheck()
        .args([
            "cohort",
            "quizzes",
            &path("results"),
            "--format",
            "html",
            "-o",
            &path("quizzes.html"),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("2 results of 2 learners"), "{}", text(&out));

    // 7. Stop the bills: everybody still has the lab running.
    let out = instructor()
        .args([
            "cohort",
            "leftovers",
            r,
            "--format",
            "html",
            "-o",
            &path("leftovers.html"),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("3 of 3 learners left"), "{}", text(&out));
}
