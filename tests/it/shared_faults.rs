//! Faults in the servers every sandbox account shares (Redis, MariaDB):
//! each test breaks one thing, checks that exactly its checks turn red, and
//! repairs with `sandbox/up`, which must turn them green again. The tests of
//! this file have the sandbox to themselves (`learner_alone`), so no other
//! test sees these faults.

use crate::common::{check, learner_alone, repair_sandbox, statuses};

/// Breaks `scenario`, runs `step` (one or more names separated by spaces),
/// asserts the red checks, repairs, asserts green.
fn fault(test: &str, scenario: &str, step: &str, red: &[&str], extra: &[&str]) -> serde_json::Value {
    let l = learner_alone(test);
    l.break_(scenario);
    let mut args: Vec<&str> = step.split(' ').collect();
    args.extend_from_slice(extra);
    let (code, report) = l.check_json(&args);
    repair_sandbox();
    let failed: Vec<String> = statuses(&report)
        .into_iter()
        .filter(|(_, s)| s == "fail")
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        failed,
        red.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        "{scenario}: {report:#}"
    );
    assert_eq!(code, 1, "{scenario}: {report:#}");
    let (code, after) = l.check_json(&args);
    assert_eq!(code, 0, "sandbox/up did not repair {scenario}: {after:#}");
    report
}

#[test]
fn cache_down_fails_reachable() {
    let report = fault(
        "cache_down_fails_reachable",
        "cache-down",
        "cache",
        &["cache.reachable"],
        &[],
    );
    let reach = check(&report, "cache.reachable");
    assert_eq!(reach["message"], "127.0.0.1:26380 refused the connection");
    assert!(!reach["hint"].as_str().unwrap().is_empty());
    assert_eq!(check(&report, "cache.sessions")["status"], "skip");
}

#[test]
fn no_sessions_fails_sessions() {
    let report = fault(
        "no_sessions_fails_sessions",
        "no-sessions",
        "cache",
        &["cache.sessions"],
        &[],
    );
    let sessions = check(&report, "cache.sessions");
    assert_eq!(
        sessions["message"],
        "no Django session keys in the cache at 127.0.0.1:26380"
    );
    assert!(
        sessions["hint"].as_str().unwrap().contains("SESSION_ENGINE"),
        "{sessions}"
    );
    assert_eq!(sessions["evidence"]["session_keys"], 0);
}

#[test]
fn db_down_fails_reachable() {
    let report = fault("db_down_fails_reachable", "db-down", "rds", &["rds.reachable"], &[]);
    assert_eq!(
        check(&report, "rds.reachable")["message"],
        "django@127.0.0.1:23306/pets refused the connection"
    );
    for id in ["rds.migrated", "rds.data", "rds.superuser"] {
        assert_eq!(check(&report, id)["status"], "skip", "{id}");
    }
}

#[test]
fn missing_migration_fails_migrated() {
    let project = crate::common::repo().join("labs/pets_project");
    let dir = format!("project_dir={}", project.display());
    let report = fault(
        "missing_migration_fails_migrated",
        "missing-migration",
        "rds",
        &["rds.migrated"],
        &["--set", &dir],
    );
    let migrated = check(&report, "rds.migrated");
    assert_eq!(
        migrated["message"],
        "migrations not applied: pets_app.0001_initial; tables missing: pets_app_vetvisit"
    );
    assert!(migrated["hint"].as_str().unwrap().contains("migrations"), "{migrated}");
    assert_eq!(
        migrated["fix"],
        "python manage.py migrate && python manage.py showmigrations"
    );
}

#[test]
fn empty_tables_fail_data() {
    let report = fault("empty_tables_fail_data", "empty-tables", "rds", &["rds.data"], &[]);
    assert_eq!(
        check(&report, "rds.data")["message"],
        "empty tables: pets_app_breed, pets_app_pet, pets_app_pet_breed, pets_app_vaccinationcard, pets_app_vetvisit"
    );
    assert!(
        check(&report, "rds.data")["hint"]
            .as_str()
            .unwrap()
            .contains("Load the data")
    );
}

#[test]
fn no_superuser_fails_superuser() {
    let report = fault(
        "no_superuser_fails_superuser",
        "no-superuser",
        "rds",
        &["rds.superuser"],
        &[],
    );
    assert_eq!(
        check(&report, "rds.superuser")["message"],
        "auth_user holds no active superuser"
    );
    assert!(
        check(&report, "rds.superuser")["fix"]
            .as_str()
            .unwrap()
            .contains("createsuperuser")
    );
}

#[test]
fn debug_on_fails_settings_and_debug_off() {
    let report = fault(
        "debug_on_fails",
        "debug-on",
        "project eb",
        &["project.settings", "eb.debug-off"],
        &[],
    );
    let page = check(&report, "eb.debug-off");
    assert!(
        page["message"].as_str().unwrap().contains("shows Django's debug page"),
        "{page}"
    );
    assert!(page["hint"].as_str().unwrap().contains("DEBUG"), "{page}");
    assert!(
        check(&report, "project.settings")["message"]
            .as_str()
            .unwrap()
            .contains("DEBUG")
    );
}

#[test]
fn static_missing_fails_static_checks() {
    let report = fault(
        "static_missing_fails",
        "static-missing",
        "project eb",
        &["project.static", "eb.static"],
        &[],
    );
    let s = check(&report, "eb.static");
    assert!(s["message"].as_str().unwrap().ends_with("answered HTTP 404"), "{s}");
    assert!(s["hint"].as_str().unwrap().contains("collectstatic"), "{s}");
}

#[test]
fn media_on_local_disk_fails_media() {
    let report = fault("media_local_fails", "media-local", "eb", &["eb.media"], &[]);
    let m = check(&report, "eb.media");
    assert!(
        m["message"].as_str().unwrap().contains("not through presigned S3 URLs"),
        "{m}"
    );
    assert!(m["hint"].as_str().unwrap().contains("S3Boto3Storage"), "{m}");
}

#[test]
fn hardcoded_password_fails_settings_without_showing_it() {
    let report = fault(
        "hardcoded_password_fails",
        "hardcoded-password",
        "project",
        &["project.settings"],
        &[],
    );
    let text = report.to_string();
    assert!(!text.contains("sandbox-db-password"), "the password leaked: {text}");
    assert!(
        check(&report, "project.settings")["message"]
            .as_str()
            .unwrap()
            .contains("settings.py:")
    );
}

#[test]
fn awsebcli_in_requirements_fails_requirements() {
    let report = fault(
        "awsebcli_fails",
        "awsebcli-in-requirements",
        "project",
        &["project.requirements"],
        &[],
    );
    assert!(
        check(&report, "project.requirements")["message"]
            .as_str()
            .unwrap()
            .contains("awsebcli")
    );
}

#[test]
fn bad_wsgipath_fails_ebextensions() {
    let report = fault(
        "bad_wsgipath_fails",
        "bad-wsgipath",
        "project",
        &["project.ebextensions"],
        &[],
    );
    assert!(
        check(&report, "project.ebextensions")["message"]
            .as_str()
            .unwrap()
            .contains("wsgi_missing")
    );
}
