//! The `eb` step against the sandbox's Beanstalk stand-in (moto) and the
//! live site (nginx + gunicorn + the pets project): each check passes on the
//! solved state and fails on the fault that concerns it. Faults in the
//! running site itself, and every fault's red checks, are in tests/it/scenarios.rs.

use crate::common::{check, learner, statuses, text};

#[test]
fn solved_account_passes_every_eb_check() {
    let l = learner("solved_account_passes_every_eb_check");
    let (code, report) = l.check_json(&["eb"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        check(&report, "eb.app")["message"],
        "application pets-project-ebapp exists"
    );
    assert!(
        check(&report, "eb.env")["message"]
            .as_str()
            .unwrap()
            .contains("is Ready and Green at 127.0.0.1:28000")
    );
    assert_eq!(
        check(&report, "eb.platform")["message"],
        "Python 3.11 (64bit Amazon Linux 2023 v4.6.0 running Python 3.11) runs Django 5.2"
    );
    let envvars = check(&report, "eb.envvars")["message"].as_str().unwrap().to_string();
    assert!(
        envvars.contains("RDS_USER_NAME") && envvars.contains("RDS_USER_PASSWORD"),
        "{envvars}"
    );
    assert!(
        check(&report, "eb.role")["message"]
            .as_str()
            .unwrap()
            .contains("may read and write the objects of")
    );
    assert_eq!(
        check(&report, "eb.site")["message"],
        "http://127.0.0.1:28000/ answered 200"
    );
    assert!(
        check(&report, "eb.static")["message"]
            .as_str()
            .unwrap()
            .contains("/static/")
    );
    assert!(
        check(&report, "eb.media")["message"]
            .as_str()
            .unwrap()
            .contains("use presigned S3 URLs; one downloaded")
    );
    assert_eq!(
        check(&report, "eb.debug-off")["message"],
        "an unknown URL answers a plain 404"
    );
    let all = report.to_string();
    assert!(
        !all.contains("sandbox-db-password"),
        "an environment property value leaked"
    );
    crate::common::assert_signatures_redacted(&all, "the eb step's report");
}

#[tokio::test]
async fn missing_application_fails_app_and_skips_the_rest() {
    let l = learner("missing_application_fails_app");
    l.eb()
        .delete_application()
        .application_name("pets-project-ebapp")
        .terminate_env_by_force(true)
        .send()
        .await
        .unwrap();
    let (code, report) = l.check_json(&["eb.app", "eb.env"]);
    assert_eq!(code, 1, "{report:#}");
    let app = check(&report, "eb.app");
    assert_eq!(
        app["message"],
        "no Elastic Beanstalk application named pets-project-ebapp in us-west-2"
    );
    assert!(app["fix"].as_str().unwrap().contains("eb init"), "{app}");
    assert_eq!(check(&report, "eb.env")["status"], "skip");
}

#[test]
fn red_health_fails_env_with_causes_and_events() {
    let l = learner("red_health_fails_env_with_causes");
    l.break_("health-red");
    let (code, report) = l.check_json(&["eb"]);
    assert_eq!(code, 1, "{report:#}");
    let env = check(&report, "eb.env");
    let message = env["message"].as_str().unwrap();
    assert!(
        message.starts_with("environment pets-project-env is Ready with health Red"),
        "{message}"
    );
    assert!(message.contains("\ncause: "), "{message}");
    assert!(message.contains("\nevent: "), "{message}");
    assert!(env["hint"].as_str().unwrap().contains("eb deploy"), "{env}");
    let red: Vec<_> = statuses(&report)
        .into_iter()
        .filter(|(_, s)| s != "pass" && s != "skip")
        .collect();
    assert_eq!(red, vec![("eb.env".to_string(), "fail".to_string())]);
}

#[test]
fn old_python_platform_fails_platform() {
    let l = learner("old_python_platform_fails_platform");
    l.break_("platform-mismatch");
    let (code, report) = l.check_json(&["eb"]);
    assert_eq!(code, 1, "{report:#}");
    let p = check(&report, "eb.platform");
    assert_eq!(
        p["message"],
        "the platform runs Python 3.8, but Django 5.2 supports Python 3.10, 3.11, 3.12, 3.13, 3.14"
    );
    assert!(p["hint"].as_str().unwrap().contains("Python 3.11"), "{p}");
}

#[test]
fn missing_db_properties_fail_envvars_without_values() {
    let l = learner("missing_db_properties_fail_envvars");
    l.break_("no-db-envvars");
    let out = l.labcheck().args(["check", "eb", "--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(!text(&out).contains("sandbox-db-password"));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let e = check(&report, "eb.envvars");
    assert_eq!(e["status"], "fail");
    let message = e["message"].as_str().unwrap();
    assert!(
        message.contains("lacks the properties RDS_USER_NAME or RDS_USERNAME and RDS_USER_PASSWORD or RDS_PASSWORD"),
        "{message}"
    );
    assert!(e["fix"].as_str().unwrap().contains("eb setenv"), "{e}");
}

#[test]
fn role_without_s3_fails_role() {
    let l = learner("role_without_s3_fails_role");
    l.break_("role-no-s3");
    let (code, report) = l.check_json(&["eb.role"]);
    assert_eq!(code, 1, "{report:#}");
    let r = check(&report, "eb.role");
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .contains("does not allow s3:GetObject and s3:PutObject on arn:aws:s3:::pets-project-us-west-2-"),
        "{r}"
    );
    assert!(r["hint"].as_str().unwrap().contains("s3:GetObject"), "{r}");
}

#[tokio::test]
async fn s3_everything_passes_role_with_a_warning() {
    let l = learner("s3_everything_passes_role_with_a_warning");
    let profile = l
        .iam()
        .get_instance_profile()
        .instance_profile_name("pets-project-ebInstanceProfile")
        .send()
        .await
        .unwrap();
    let role = profile.instance_profile().unwrap().roles()[0].role_name().to_string();
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
    l.iam()
        .put_role_policy()
        .role_name(&role)
        .policy_name("too-broad")
        .policy_document(doc)
        .send()
        .await
        .unwrap();
    let (code, report) = l.check_json(&["eb.role"]);
    assert_eq!(code, 0, "{report:#}");
    let message = check(&report, "eb.role")["message"].as_str().unwrap().to_string();
    assert!(
        message.contains("warning: policy too-broad grants s3:* on every resource"),
        "{message}"
    );
}

#[test]
fn unreachable_site_fails_site_and_skips_pages() {
    let l = learner("unreachable_site_fails_site");
    let (code, report) = l.check_json(&["eb", "--set", "site_url=http://127.0.0.1:9"]);
    assert_eq!(code, 1, "{report:#}");
    let site = check(&report, "eb.site");
    assert!(
        site["message"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:9/ did not answer"),
        "{site}"
    );
    assert!(site["hint"].as_str().unwrap().contains("eb logs"), "{site}");
    for id in ["eb.static", "eb.media", "eb.debug-off"] {
        assert_eq!(check(&report, id)["status"], "skip", "{id}");
    }
}

#[test]
fn an_updating_environment_could_not_be_graded_yet() {
    let l = learner("an_updating_environment_could_not_be_graded_yet");
    l.break_("eb-updating");
    let (code, report) = l.check_json(&["eb"]);
    assert_eq!(code, 3, "{report:#}");
    let env = check(&report, "eb.env");
    assert_eq!(env["status"], "error");
    assert_eq!(env["transient"], true);
    assert!(
        env["message"]
            .as_str()
            .unwrap()
            .starts_with("environment pets-project-env is Updating: it is applying a change"),
        "{env}"
    );
    assert!(env["hint"].as_str().unwrap().contains("a few minutes"), "{env}");
    // What reads the environment waits with it; nothing fails.
    for id in ["eb.envvars", "eb.site"] {
        assert_eq!(check(&report, id)["status"], "error", "{id}");
    }
    assert!(statuses(&report).iter().all(|(_, s)| s != "fail"), "{report:#}");
}

#[test]
fn yellow_from_4xx_alone_passes_with_the_rule_that_ignores_them() {
    let l = learner("yellow_from_4xx_alone_passes");
    l.break_("health-yellow-4xx");
    let (code, report) = l.check_json(&["eb.env"]);
    assert_eq!(code, 0, "{report:#}");
    let env = check(&report, "eb.env");
    let message = env["message"].as_str().unwrap();
    assert!(
        message.contains("its health is Yellow (Warning) only because of HTTP 4xx answers from the app (42.9 % of the requests are erroring with HTTP 4xx."),
        "{message}"
    );
    assert!(
        message.contains("add the enhanced health rule that ignores the app's 4xx answers to .ebextensions"),
        "{message}"
    );
    assert!(
        env["hint"].as_str().unwrap().contains("ApplicationRequests4xx"),
        "{env}"
    );
    assert_eq!(env["evidence"]["ignores_4xx_rule"], false);
}

#[test]
fn yellow_from_impaired_services_fails_with_the_cause() {
    let l = learner("yellow_from_impaired_services_fails");
    l.break_("health-yellow-impaired");
    let (code, report) = l.check_json(&["eb.env"]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        check(&report, "eb.env")["message"]
            .as_str()
            .unwrap()
            .lines()
            .take(2)
            .collect::<Vec<_>>(),
        vec![
            "environment pets-project-env is Ready with health Yellow (Warning)",
            "cause: Impaired services on 1 out of 1 instance."
        ]
    );
}

#[test]
fn a_password_kept_in_secrets_manager_counts() {
    let l = learner("a_password_kept_in_secrets_manager_counts");
    l.break_("password-in-secrets");
    let (code, report) = l.check_json(&["eb.envvars"]);
    assert_eq!(code, 0, "{report:#}");
    let e = check(&report, "eb.envvars");
    assert_eq!(
        e["message"],
        "the app gets the database credentials: RDS_USER_NAME (environment property), RDS_USER_PASSWORD (secret from Secrets Manager)"
    );
    let arn = e["evidence"]["secrets"]["RDS_USER_PASSWORD"].as_str().unwrap();
    assert!(
        arn.starts_with(&format!(
            "arn:aws:secretsmanager:us-west-2:{}:secret:pets-project/db-password",
            l.account
        )),
        "{e}"
    );
    assert!(!report.to_string().contains("sandbox-db-password"));
}

#[test]
fn the_role_graded_is_the_one_of_the_environments_instance_profile() {
    let l = learner("the_role_graded_is_the_environments");
    l.break_("other-instance-profile");
    let (code, report) = l.check_json(&["eb.role"]);
    assert_eq!(code, 1, "{report:#}");
    let r = check(&report, "eb.role");
    assert!(
        r["message"].as_str().unwrap().starts_with(
            "role pets-project-otherInstanceRole (of instance profile pets-project-otherInstanceProfile, the one environment pets-project-env uses) does not allow s3:GetObject and s3:PutObject"
        ),
        "{r}"
    );
    assert_eq!(r["evidence"]["instance_profile"], "pets-project-otherInstanceProfile");
}
