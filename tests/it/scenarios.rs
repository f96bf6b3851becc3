//! Faults as data. Each scenario of `sandbox/breaks.py` names the checks it
//! must turn red (`sandbox/break --list --json`), and the verdict it expects
//! of others (a state a correct lab may be in on a real account passes; one
//! between two states cannot be graded yet); here every scenario is broken,
//! the whole lab is checked, exactly the red checks fail, the expected
//! verdicts are given, and the exit code follows.
//! A fault in one account is broken in an account of its own, side by side
//! with the others; a fault in what every account shares (the Redis and
//! MariaDB servers, the site, the deployed project) has the sandbox to itself
//! and must be repaired by `sandbox/up`. What a scenario's report must say
//! beyond its red list is in [`what_the_report_says`]. The coverage test
//! fails when a check of the lab has no scenario that turns it red, or does
//! not pass in the solved sandbox.

use crate::common::{
    Learner, assert_check, check, labcheck, learner, learner_alone, repair_sandbox, run_sandbox, statuses,
};
use serde_json::Value;
use std::collections::BTreeSet;

struct Scenario {
    name: String,
    shared: bool,
    red: Vec<String>,
    /// Other checks and the status they must end with.
    expect: Vec<(String, String)>,
}

/// The scenarios, as `sandbox/break --list --json` declares them.
fn scenarios() -> Vec<Scenario> {
    let out = run_sandbox(&["break", "--list", "--json"]);
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).expect("sandbox/break --list --json");
    rows.iter()
        .map(|r| Scenario {
            name: r["name"].as_str().unwrap().to_string(),
            shared: match r["scope"].as_str().unwrap() {
                "global" => true,
                "account" => false,
                other => panic!("scenario {}: unknown scope {other}", r["name"]),
            },
            red: r["red"]
                .as_array()
                .unwrap_or_else(|| panic!("scenario {} declares no red checks", r["name"]))
                .iter()
                .map(|id| id.as_str().unwrap().to_string())
                .collect(),
            expect: r["expect"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(id, status)| (id.clone(), status.as_str().unwrap().to_string()))
                .collect(),
        })
        .collect()
}

/// The checks a report failed, in report order.
fn failed(report: &Value) -> Vec<String> {
    statuses(report)
        .into_iter()
        .filter(|(_, s)| s == "fail")
        .map(|(id, _)| id)
        .collect()
}

/// Breaks `sc` in the account of `l` and checks the whole lab.
fn break_and_check(l: &Learner, sc: &Scenario) -> (i32, Value) {
    l.break_(&sc.name);
    l.check_json(&[])
}

/// Exactly `sc.red` failed, the expected verdicts were given, nothing else
/// errored, and the exit code says so (1 for a failure, 3 for a check that
/// could not be graded, else 0).
fn assert_red(sc: &Scenario, code: i32, report: &Value) {
    let mut want = sc.red.clone();
    let mut got = failed(report);
    want.sort();
    got.sort();
    assert_eq!(got, want, "scenario {}: the checks that failed\n{report:#}", sc.name);
    assert!(
        !sc.red.is_empty() || !sc.expect.is_empty(),
        "scenario {} turns nothing red and expects nothing",
        sc.name
    );
    for (id, status) in &sc.expect {
        assert_eq!(
            check(report, id)["status"],
            status.as_str(),
            "scenario {}: {id}\n{report:#}",
            sc.name
        );
    }
    let mut errors: Vec<String> = statuses(report)
        .into_iter()
        .filter(|(_, s)| s == "error")
        .map(|(id, _)| id)
        .collect();
    let mut expected_errors: Vec<String> = sc
        .expect
        .iter()
        .filter(|(_, s)| s == "error")
        .map(|(id, _)| id.clone())
        .collect();
    errors.sort();
    expected_errors.sort();
    assert_eq!(
        errors, expected_errors,
        "scenario {}: the checks that errored\n{report:#}",
        sc.name
    );
    let exit = if !sc.red.is_empty() {
        1
    } else if !expected_errors.is_empty() {
        3
    } else {
        0
    };
    assert_eq!(code, exit, "scenario {}: exit code\n{report:#}", sc.name);
}

#[test]
fn every_account_fault_turns_exactly_its_checks_red() {
    let all: Vec<Scenario> = scenarios().into_iter().filter(|s| !s.shared).collect();
    assert!(all.len() >= 10, "account scenarios: {}", all.len());
    // Four at a time: each works in an account of its own.
    for chunk in all.chunks(4) {
        std::thread::scope(|scope| {
            for sc in chunk {
                scope.spawn(move || {
                    let l = learner(&format!("scenario {}", sc.name));
                    let (code, report) = break_and_check(&l, sc);
                    assert_red(sc, code, &report);
                    what_the_report_says(&sc.name, &report);
                });
            }
        });
    }
}

#[test]
fn every_shared_fault_turns_exactly_its_checks_red_and_up_repairs_it() {
    let all: Vec<Scenario> = scenarios().into_iter().filter(|s| s.shared).collect();
    assert!(all.len() >= 10, "shared scenarios: {}", all.len());
    let l = learner_alone("every_shared_fault");
    for sc in &all {
        let (code, report) = break_and_check(&l, sc);
        // Repaired before anything is asserted: a failing assertion must not
        // leave the fault for the tests that run next.
        repair_sandbox();
        assert_red(sc, code, &report);
        what_the_report_says(&sc.name, &report);
        let (code, after) = l.check_json(&[]);
        assert_eq!(
            failed(&after),
            Vec::<String>::new(),
            "sandbox/up did not repair {}",
            sc.name
        );
        assert_eq!(code, 0, "sandbox/up did not repair {}: {after:#}", sc.name);
    }
}

#[test]
fn every_check_has_a_fault_and_a_pass() {
    let l = learner("every_check_has_a_fault_and_a_pass");
    let (code, solved) = l.check_json(&[]);
    assert_eq!(code, 0, "the solved sandbox: {solved:#}");
    let listed = labcheck().args(["list", "--format", "json"]).output().unwrap();
    let listed: Value = serde_json::from_slice(&listed.stdout).expect("labcheck list --format json");
    let checks: Vec<String> = listed["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["checks"].as_array().unwrap())
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    assert!(checks.len() >= 25, "the lab's checks: {checks:?}");
    let reddened: BTreeSet<String> = scenarios().into_iter().flat_map(|s| s.red).collect();
    for id in &checks {
        assert!(
            reddened.contains(id),
            "no scenario in sandbox/breaks.py turns {id} red: add one (a function and an entry with \"red\": [\"{id}\"])"
        );
        assert_eq!(
            check(&solved, id)["status"],
            "pass",
            "{id} does not pass in the solved sandbox"
        );
    }
    for id in &reddened {
        assert!(
            checks.contains(id),
            "a scenario turns {id} red, but the lab has no such check"
        );
    }
    // Every kind the code knows is used by a check of the lab (a kind with
    // no lab block is never run, nor covered above); but `command`, which
    // runs a script an instructor writes into their own lab (its tests are
    // in cli.rs and cohort.rs).
    let used: BTreeSet<&str> = listed["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["checks"].as_array().unwrap())
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    for kind in labcheck::checks::kind_ids().into_iter().filter(|k| *k != "command") {
        assert!(
            used.contains(kind),
            "check kind {kind} has no check block in the lab guide"
        );
    }
}

/// What a scenario's report must say beyond which checks failed: the
/// message, hint and fix a learner reads, and the checks that wait.
fn what_the_report_says(scenario: &str, report: &Value) {
    let message = |id: &str| check(report, id)["message"].as_str().unwrap_or_default().to_string();
    let hint = |id: &str| check(report, id)["hint"].as_str().unwrap_or_default().to_string();
    let status = |id: &str| check(report, id)["status"].as_str().unwrap_or_default().to_string();
    match scenario {
        "cache-down" => {
            assert_check(
                report,
                "cache.reachable",
                "fail",
                "127.0.0.1:26380 refused the connection",
            );
            assert!(!hint("cache.reachable").is_empty());
            assert_eq!(status("cache.sessions"), "skip");
        }
        "cache-requires-auth" => {
            assert_check(
                report,
                "cache.reachable",
                "fail",
                "127.0.0.1:26380 requires signing in (NOAUTH Authentication required)",
            );
            assert!(hint("cache.reachable").contains("CACHE_USER"));
            assert_eq!(status("cache.sessions"), "skip");
        }
        "no-sessions" => {
            assert_eq!(
                message("cache.sessions"),
                "no Django session keys in the cache at 127.0.0.1:26380"
            );
            assert!(hint("cache.sessions").contains("SESSION_ENGINE"));
            assert_eq!(check(report, "cache.sessions")["evidence"]["session_keys"], 0);
        }
        "db-down" => {
            assert_eq!(
                message("rds.reachable"),
                "django@127.0.0.1:23306/pets refused the connection"
            );
            for id in ["rds.migrated", "rds.data", "rds.superuser"] {
                assert_eq!(status(id), "skip", "{id}");
            }
        }
        "missing-migration" => {
            assert_eq!(
                message("rds.migrated"),
                "migrations not applied: pets_app.0001_initial; tables missing: pets_app_vetvisit"
            );
            assert!(hint("rds.migrated").contains("migrations"));
            assert_eq!(
                check(report, "rds.migrated")["fix"],
                "python manage.py migrate && python manage.py showmigrations"
            );
        }
        "empty-tables" => {
            assert_eq!(
                message("rds.data"),
                "empty tables: pets_app_breed, pets_app_pet, pets_app_pet_breed, pets_app_vaccinationcard, pets_app_vetvisit"
            );
            assert!(hint("rds.data").contains("Load the data"));
        }
        "no-superuser" => {
            assert_eq!(message("rds.superuser"), "auth_user holds no active superuser");
            assert!(
                check(report, "rds.superuser")["fix"]
                    .as_str()
                    .unwrap()
                    .contains("createsuperuser")
            );
        }
        "debug-on" => {
            assert!(message("eb.debug-off").contains("shows Django's debug page"));
            assert!(hint("eb.debug-off").contains("DEBUG"));
            assert!(message("project.settings").contains("DEBUG"));
        }
        "static-missing" => {
            assert!(
                message("eb.static").ends_with("answered HTTP 404"),
                "{}",
                message("eb.static")
            );
            assert!(hint("eb.static").contains("collectstatic"));
        }
        "media-local" => {
            assert!(message("eb.media").contains("not through presigned S3 URLs"));
            assert!(hint("eb.media").contains("S3Boto3Storage"));
        }
        "hardcoded-password" => {
            let text = report.to_string();
            assert!(!text.contains("sandbox-db-password"), "the password leaked: {text}");
            assert!(message("project.settings").contains("settings.py:"));
        }
        "awsebcli-in-requirements" => assert_check(report, "project.requirements", "fail", "awsebcli"),
        "bad-wsgipath" => assert_check(report, "project.ebextensions", "fail", "wsgi_missing"),
        "site-down" => {
            assert!(message("eb.site").contains("did not answer"), "{}", message("eb.site"));
            for id in ["eb.static", "eb.media", "eb.debug-off"] {
                assert_eq!(status(id), "skip", "{id}");
            }
        }
        "deploy-check-error" => {
            assert_check(report, "project.deploy-check", "fail", "security.E023");
        }
        // The account faults' messages are held by their step's tests
        // (s3_step, cache_step, rds_step, eb_step).
        _ => {}
    }
}
