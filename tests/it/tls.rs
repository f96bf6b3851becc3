//! labcheck over HTTPS: the sandbox's moto behind nginx with the sandbox CA's
//! certificate (`SANDBOX_AWS_TLS_URL`), so the one TLS client every AWS
//! client of a run shares, and the one that downloads presigned URLs, are
//! exercised as they are against AWS: they trust a CA that SSL_CERT_FILE
//! names, and refuse a certificate they cannot verify, saying what to do.

use crate::common::{check, learner, sandbox_env, text};
use serde_json::Value;

fn tls_url() -> &'static str {
    &sandbox_env()["SANDBOX_AWS_TLS_URL"]
}

/// The sandbox CA's certificate, as a learner would save their own CA's.
fn ca_file() -> &'static str {
    &sandbox_env()["LABCHECK_CACHE_CA"]
}

#[test]
fn aws_over_tls_is_trusted_through_ssl_cert_file() {
    let l = learner("aws_over_tls_is_trusted_through_ssl_cert_file");
    let out = l
        .labcheck()
        .env("AWS_ENDPOINT_URL", tls_url())
        .env("SSL_CERT_FILE", ca_file())
        .env_remove("SSL_CERT_DIR")
        .args(["check", "s3", "--format", "json"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    assert_eq!(report["account"], l.account.as_str());
    let presigned = check(&report, "s3.presigned");
    assert_eq!(presigned["status"], "pass", "{presigned:#}");
    let url = presigned["evidence"]["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/", tls_url())),
        "downloaded over TLS: {url}"
    );
}

#[test]
fn an_untrusted_certificate_is_an_error_that_says_what_to_do() {
    let l = learner("an_untrusted_certificate_is_an_error_that_says_what_to_do");
    let out = l
        .labcheck()
        .env("AWS_ENDPOINT_URL", tls_url())
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR")
        .args(["check", "s3.bucket", "--format", "json"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    let bucket = check(&report, "s3.bucket");
    assert_eq!(bucket["status"], "error", "{bucket:#}");
    let message = bucket["message"].as_str().unwrap();
    assert!(message.contains("invalid peer certificate"), "{message}");
    assert!(
        message.contains("TLS certificate labcheck does not trust") && message.contains("SSL_CERT_FILE"),
        "{message}"
    );
    assert!(!message.contains("nothing answers"), "something did answer: {message}");
}

#[test]
fn cohort_grading_over_tls_trusts_the_same_ca_and_names_an_untrusted_one() {
    let l = learner("cohort_grading_over_tls_trusts_the_same_ca_and_names_an_untrusted_one");
    let dir = tempfile::tempdir().unwrap();
    let roster = dir.path().join("roster.csv");
    std::fs::write(
        &roster,
        format!("learner,account,external_id\nada,{},labcheck-sandbox\n", l.account),
    )
    .unwrap();
    let grade = |ca: Option<&str>| {
        let book = dir.path().join(format!("book-{}.json", ca.is_some()));
        let mut cmd = crate::common::labcheck();
        cmd.envs(sandbox_env())
            .env("AWS_ENDPOINT_URL", tls_url())
            .env_remove("SSL_CERT_DIR")
            .env_remove("SSL_CERT_FILE");
        if let Some(ca) = ca {
            cmd.env("SSL_CERT_FILE", ca);
        }
        (crate::common::cohort_grade_json(cmd, &roster, &book), book)
    };
    let (out, book) = grade(Some(ca_file()));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let book: Value = serde_json::from_str(&std::fs::read_to_string(&book).unwrap()).unwrap();
    assert_eq!(book["learners"][0]["grading_status"], "graded", "{book:#}");

    // Without the CA the instructor's own first call fails: nobody is graded,
    // and the message says what to do.
    let (out, book) = grade(None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        stderr.contains("cannot grade anybody") && stderr.contains("invalid peer certificate"),
        "{stderr}"
    );
    assert!(stderr.contains("SSL_CERT_FILE"), "{stderr}");
    assert!(!book.exists(), "no gradebook of nobody");
}
