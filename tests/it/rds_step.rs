//! The `rds` step against the sandbox's real MariaDB: each check passes on
//! the solved state and fails on the fault that concerns it.

use crate::common::{check, learner, statuses, text};

#[test]
fn solved_account_passes_every_rds_check() {
    let l = learner("solved_account_passes_every_rds_check");
    let (code, report) = l.check_json(&["rds"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        check(&report, "rds.instance")["message"],
        "DB instance pets-project-mysql (mysql 8.0.40) is available"
    );
    assert!(
        check(&report, "rds.reachable")["message"]
            .as_str()
            .unwrap()
            .starts_with("connected as django@127.0.0.1:23306/pets over TLS")
    );
    assert!(
        check(&report, "rds.migrated")["message"]
            .as_str()
            .unwrap()
            .contains("the lab's 5 tables exist")
    );
    let data = &check(&report, "rds.data")["evidence"];
    for table in [
        "pets_app_breed",
        "pets_app_pet",
        "pets_app_pet_breed",
        "pets_app_vaccinationcard",
        "pets_app_vetvisit",
    ] {
        assert!(data[table].as_i64().unwrap() > 0, "{table}: {data}");
    }
    assert!(
        check(&report, "rds.superuser")["evidence"]["superusers"]
            .as_i64()
            .unwrap()
            >= 1
    );
    assert!(
        check(&report, "rds.network")["message"]
            .as_str()
            .unwrap()
            .contains("Elastic Beanstalk")
    );
}

#[test]
fn migrations_of_the_project_are_compared_when_it_is_at_hand() {
    let l = learner("migrations_of_the_project_are_compared");
    let project = crate::common::repo().join("labs/pets_project");
    let (code, report) = l.check_json(&["rds.migrated", "--set", &format!("project_dir={}", project.display())]);
    assert_eq!(code, 0, "{report:#}");
    let migrated = check(&report, "rds.migrated");
    assert!(
        migrated["message"]
            .as_str()
            .unwrap()
            .contains("all project migrations applied (1)"),
        "{migrated}"
    );
    // A migration the database has not seen is named.
    let dir = tempfile::tempdir().unwrap();
    crate::common::write(dir.path(), "pets_app/migrations/0001_initial.py", "");
    crate::common::write(dir.path(), "pets_app/migrations/0002_vetvisit_weight.py", "");
    let (code, report) = l.check_json(&[
        "rds.migrated",
        "--set",
        &format!("project_dir={}", dir.path().display()),
    ]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        check(&report, "rds.migrated")["message"],
        "migrations not applied: pets_app.0002_vetvisit_weight"
    );
}

#[test]
fn wrong_password_fails_without_showing_it() {
    let l = learner("wrong_password_fails_without_showing_it");
    let password = "Wrong-Pass-9173";
    let out = l
        .labcheck()
        .args(["check", "rds", "--format", "json"])
        .env("RDS_USER_PASSWORD", password)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(!text(&out).contains(password), "the password leaked:\n{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let reach = check(&report, "rds.reachable");
    assert_eq!(reach["status"], "fail");
    assert_eq!(
        reach["message"],
        "the database refused user django at django@127.0.0.1:23306/pets: the password does not match"
    );
    assert!(reach["hint"].as_str().unwrap().contains("RDS_USER_PASSWORD"), "{reach}");
    for id in ["rds.migrated", "rds.data", "rds.superuser"] {
        assert_eq!(check(&report, id)["status"], "skip", "{id}");
    }
}

#[test]
fn no_password_in_the_environment_cannot_be_evaluated() {
    let l = learner("no_password_in_the_environment_cannot_be_evaluated");
    let out = l
        .labcheck()
        .args(["check", "rds.reachable", "--format", "json"])
        .env_remove("RDS_USER_PASSWORD")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let reach = check(&report, "rds.reachable");
    assert_eq!(reach["status"], "error");
    assert!(
        reach["message"]
            .as_str()
            .unwrap()
            .contains("RDS_USER_PASSWORD is not set"),
        "{reach}"
    );
}

#[test]
fn stopped_instance_fails_instance_with_how_to_start_it() {
    let l = learner("stopped_instance_fails_instance");
    l.break_("db-stopped");
    let (code, report) = l.check_json(&["rds"]);
    assert_eq!(code, 1, "{report:#}");
    let inst = check(&report, "rds.instance");
    assert_eq!(inst["status"], "fail");
    assert_eq!(
        inst["message"],
        "DB instance pets-project-mysql (mysql 8.0.40) is stopped, so the app cannot use it"
    );
    assert!(
        inst["hint"]
            .as_str()
            .unwrap()
            .contains("aws rds start-db-instance --db-instance-identifier pets-project-mysql"),
        "{inst}"
    );
}

#[test]
fn a_database_up_while_rds_works_on_it_passes_with_a_note() {
    for (scenario, says) in [
        (
            "db-backing-up",
            "is backing-up: the database is up and serving (RDS is taking a backup)",
        ),
        (
            "db-storage-optimization",
            "is storage-optimization: the database is up and serving (RDS is optimizing storage after a change of size or type, which can take hours)",
        ),
    ] {
        let l = learner(&format!("a_database_up_while_rds_works_on_it {scenario}"));
        l.break_(scenario);
        let (code, report) = l.check_json(&["rds"]);
        assert_eq!(code, 0, "{scenario}: {report:#}");
        let message = check(&report, "rds.instance")["message"].as_str().unwrap().to_string();
        assert!(message.ends_with(says), "{scenario}: {message}");
        // The checks that wait on it ran.
        assert_eq!(check(&report, "rds.migrated")["status"], "pass", "{scenario}");
    }
}

#[tokio::test]
async fn a_starting_database_could_not_be_graded_yet() {
    let l = learner("a_starting_database_could_not_be_graded_yet");
    let rds = l.rds();
    let arn = rds
        .describe_db_instances()
        .db_instance_identifier("pets-project-mysql")
        .send()
        .await
        .unwrap()
        .db_instances()[0]
        .db_instance_arn()
        .unwrap()
        .to_string();
    rds.add_tags_to_resource()
        .resource_name(arn)
        .tags(
            aws_sdk_rds::types::Tag::builder()
                .key("sandbox:status")
                .value("starting")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let (code, report) = l.check_json(&["rds"]);
    assert_eq!(code, 3, "{report:#}");
    let inst = check(&report, "rds.instance");
    assert_eq!(inst["status"], "error");
    assert_eq!(inst["transient"], true);
    assert_eq!(
        inst["message"],
        "DB instance pets-project-mysql (mysql 8.0.40) is starting: the instance is starting, so it could not be graded yet; run the check again in a few minutes"
    );
    assert!(inst["hint"].as_str().unwrap().contains("run the check again"), "{inst}");
    assert_eq!(
        check(&report, "rds.reachable")["message"],
        "needs rds.instance, which could not be checked"
    );
}

#[tokio::test]
async fn missing_instance_fails_instance() {
    let l = learner("missing_instance_fails_instance");
    l.rds()
        .delete_db_instance()
        .db_instance_identifier("pets-project-mysql")
        .skip_final_snapshot(true)
        .send()
        .await
        .unwrap();
    let (code, report) = l.check_json(&["rds.instance"]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        check(&report, "rds.instance")["message"],
        "no DB instance named pets-project-mysql in us-west-2"
    );
    assert!(
        check(&report, "rds.instance")["fix"]
            .as_str()
            .unwrap()
            .contains("pets-project-mysql")
    );
}

#[test]
fn closed_security_group_fails_network_only() {
    let l = learner("closed_db_security_group_fails_network_only");
    l.break_("db-sg-closed");
    let (code, report) = l.check_json(&["rds"]);
    assert_eq!(code, 1, "{report:#}");
    let net = check(&report, "rds.network");
    assert_eq!(net["status"], "fail");
    assert!(
        net["message"].as_str().unwrap().contains("no inbound rule admits TCP"),
        "{net}"
    );
    let others: Vec<_> = statuses(&report)
        .into_iter()
        .filter(|(id, _)| id != "rds.network")
        .collect();
    assert!(others.iter().all(|(_, s)| s == "pass"), "{others:?}");
}

#[test]
fn outside_the_vpc_database_checks_skip() {
    let l = learner("outside_the_vpc_database_checks_skip");
    let (code, report) = l.check_json(&["rds", "--set", "network=outside"]);
    assert_eq!(code, 0, "{report:#}");
    let reach = check(&report, "rds.reachable");
    assert_eq!(reach["status"], "skip");
    assert!(reach["message"].as_str().unwrap().contains("outside"), "{reach}");
    for id in ["rds.migrated", "rds.data", "rds.superuser"] {
        assert_eq!(check(&report, id)["status"], "skip", "{id}");
    }
    assert_eq!(check(&report, "rds.instance")["status"], "pass");
}

#[test]
fn a_prefix_list_holding_the_vpcs_range_admits_the_eb_instances() {
    let l = learner("a_prefix_list_holding_the_vpcs_range_admits");
    l.break_("db-sg-prefix-list");
    let (code, report) = l.check_json(&["rds.network"]);
    assert_eq!(code, 0, "{report:#}");
    let message = check(&report, "rds.network")["message"].as_str().unwrap().to_string();
    assert!(
        message.contains("admits TCP 23306 from prefix list pl-")
            && message
                .contains("holds 172.31.0.0/16 covers 172.31.0.0/16, the VPC of the Elastic Beanstalk environment"),
        "{message}"
    );
}
