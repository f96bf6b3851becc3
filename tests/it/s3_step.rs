//! The `s3` step against the sandbox: each check passes on the solved state
//! and fails on the fault that concerns it, with its message and hint.

use crate::common::{check, learner, shared_learner, statuses};

fn pair(id: &str, status: &str) -> (String, String) {
    (id.to_string(), status.to_string())
}

#[test]
fn solved_account_passes_every_s3_check() {
    let l = learner("solved_account_passes_every_s3_check");
    let (code, report) = l.check_json(&["s3"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["score"], 10);
    assert_eq!(report["account"], l.account.as_str());
    for id in ["s3.bucket", "s3.cors", "s3.private", "s3.media", "s3.presigned"] {
        assert_eq!(check(&report, id)["status"], "pass", "{id}: {report:#}");
    }
    assert_eq!(
        check(&report, "s3.bucket")["message"],
        format!("bucket {} exists in us-west-2", l.bucket())
    );
    let media = &check(&report, "s3.media")["evidence"];
    assert!(media["pictures"].as_u64().unwrap() >= 1, "{media}");
    assert!(media["total_bytes"].as_u64().unwrap() > 0, "{media}");
    let presigned = &check(&report, "s3.presigned")["evidence"];
    assert_eq!(presigned["http_status"], 200);
    let url = presigned["url"].as_str().unwrap();
    assert!(
        url.contains("X-Amz-Signature=[redacted]"),
        "signature must be redacted: {url}"
    );
}

#[test]
fn missing_bucket_fails_and_skips_the_rest() {
    let l = learner("missing_bucket_fails_and_skips_the_rest");
    l.break_("no-bucket");
    let (code, report) = l.check_json(&["s3"]);
    assert_eq!(code, 1);
    let bucket = check(&report, "s3.bucket");
    assert_eq!(bucket["status"], "fail");
    assert_eq!(
        bucket["message"],
        format!("no bucket named {} in this account", l.bucket())
    );
    assert!(
        bucket["hint"]
            .as_str()
            .unwrap()
            .starts_with(&format!("Create a bucket named {} in us-west-2", l.bucket()))
    );
    assert!(
        bucket["fix"]
            .as_str()
            .unwrap()
            .contains(&format!("create-bucket --bucket {}", l.bucket()))
    );
    for id in ["s3.cors", "s3.private", "s3.media"] {
        assert_eq!(check(&report, id)["status"], "skip");
        assert_eq!(check(&report, id)["message"], "needs s3.bucket, which failed");
    }
    assert_eq!(
        check(&report, "s3.presigned")["message"],
        "needs s3.media, which was skipped"
    );
}

#[test]
fn bucket_in_another_region_fails() {
    let l = learner("bucket_in_another_region_fails");
    let (code, report) = l.check_json(&["s3.bucket", "--region", "eu-west-1"]);
    assert_eq!(code, 1, "{report:#}");
    let bucket = check(&report, "s3.bucket");
    assert_eq!(bucket["status"], "fail");
    assert_eq!(
        bucket["message"],
        format!("bucket {} is in us-west-2, but the lab runs in eu-west-1", l.bucket())
    );
    assert!(
        bucket["hint"].as_str().unwrap().contains("--region us-west-2"),
        "{bucket}"
    );
}

#[tokio::test]
async fn one_plausible_bucket_is_used_and_named() {
    let l = learner("one_plausible_bucket_is_used_and_named");
    l.break_("no-bucket");
    let s3 = l.s3();
    let name = format!("my-pets-media-{}", l.account);
    let _ = s3
        .create_bucket()
        .bucket(&name)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::UsWest2)
                .build(),
        )
        .send()
        .await;
    let (_, report) = l.check_json(&["s3.bucket"]);
    assert_eq!(check(&report, "s3.bucket")["status"], "pass", "{report:#}");
    assert_eq!(check(&report, "s3.bucket")["evidence"]["bucket"], name.as_str());
    let notes = report["notes"].to_string();
    assert!(
        notes.contains(&format!(
            "found bucket `{name}`; to pin it, set `bucket = \\\"{name}\\\"` in labcheck.toml"
        )),
        "{notes}"
    );
    s3.delete_bucket().bucket(&name).send().await.unwrap();
}

#[test]
fn missing_cors_fails_only_cors() {
    let l = learner("missing_cors_fails_only_cors");
    l.break_("no-cors");
    let (code, report) = l.check_json(&["s3"]);
    assert_eq!(code, 1);
    assert_eq!(
        statuses(&report),
        vec![
            pair("s3.bucket", "pass"),
            pair("s3.cors", "fail"),
            pair("s3.private", "pass"),
            pair("s3.media", "pass"),
            pair("s3.presigned", "pass")
        ]
    );
    let cors = check(&report, "s3.cors");
    assert_eq!(
        cors["message"],
        format!("bucket {} has no CORS configuration", l.bucket())
    );
    assert!(cors["hint"].as_str().unwrap().contains("allows GET"), "{cors}");
    assert_eq!(
        cors["fix"],
        format!(
            "aws s3api put-bucket-cors --bucket {} --cors-configuration file://cors.json",
            l.bucket()
        )
    );
}

#[tokio::test]
async fn cors_rule_for_another_origin_says_what_is_missing() {
    let l = learner("cors_rule_for_another_origin_says_what_is_missing");
    use aws_sdk_s3::types::{CorsConfiguration, CorsRule};
    let rule = |methods: &[&str], origin: &str| {
        let mut b = CorsRule::builder().allowed_origins(origin);
        for m in methods {
            b = b.allowed_methods(*m);
        }
        b.build().unwrap()
    };
    l.s3()
        .put_bucket_cors()
        .bucket(l.bucket())
        .cors_configuration(
            CorsConfiguration::builder()
                .cors_rules(rule(&["PUT"], "*"))
                .cors_rules(rule(&["GET", "HEAD"], "https://other.example"))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let origin = "http://pets-project-env.eba-x.us-west-2.elasticbeanstalk.com";
    let (code, report) = l.check_json(&["s3.cors", "--set", &format!("site_origin={origin}")]);
    assert_eq!(code, 1);
    assert_eq!(
        check(&report, "s3.cors")["message"],
        format!(
            "no CORS rule lets the site fetch pictures: rule 1 does not allow GET (it allows PUT); rule 2 allows GET only from https://other.example, not from {origin}"
        )
    );
    // The same rules pass once the site's origin is the one they name.
    let (code, report) = l.check_json(&["s3.cors", "--set", "site_origin=https://other.example"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        check(&report, "s3.cors")["message"],
        "rule 2 allows GET from https://other.example (through https://other.example)"
    );
}

#[test]
fn public_bucket_fails_private() {
    let l = learner("public_bucket_fails_private");
    l.break_("public-bucket");
    let (code, report) = l.check_json(&["s3"]);
    assert_eq!(code, 1);
    let private = check(&report, "s3.private");
    assert_eq!(private["status"], "fail");
    let message = private["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!("bucket {} is not private: ", l.bucket())),
        "{message}"
    );
    assert!(
        message.contains("S3 judges the bucket policy public (statement PublicRead grants access to everyone)"),
        "{message}"
    );
    assert_eq!(private["evidence"]["policy_is_public"], true, "{private}");
    assert!(
        private["hint"].as_str().unwrap().contains("Block Public Access"),
        "{private}"
    );
    assert!(
        private["fix"].as_str().unwrap().contains("put-public-access-block"),
        "{private}"
    );
    assert_eq!(check(&report, "s3.cors")["status"], "pass");
}

#[test]
fn empty_bucket_fails_media_and_skips_presigned() {
    let l = learner("empty_bucket_fails_media_and_skips_presigned");
    l.break_("empty-bucket");
    let (code, report) = l.check_json(&["s3"]);
    assert_eq!(code, 1);
    let media = check(&report, "s3.media");
    assert_eq!(media["status"], "fail");
    assert_eq!(media["message"], format!("bucket {} is empty", l.bucket()));
    assert!(media["hint"].as_str().unwrap().contains("Upload a picture"), "{media}");
    assert_eq!(check(&report, "s3.presigned")["status"], "skip");
    assert_eq!(
        check(&report, "s3.presigned")["message"],
        "needs s3.media, which failed"
    );
}

#[tokio::test]
async fn objects_without_pictures_fail_media() {
    let l = learner("objects_without_pictures_fail_media");
    l.break_("empty-bucket");
    l.s3()
        .put_object()
        .bucket(l.bucket())
        .key("notes.txt")
        .body(b"hello".to_vec().into())
        .send()
        .await
        .unwrap();
    let (code, report) = l.check_json(&["s3.media"]);
    assert_eq!(code, 1);
    assert_eq!(
        check(&report, "s3.media")["message"],
        format!(
            "bucket {} holds 1 objects, but no pictures (jpg, jpeg, png, gif, webp)",
            l.bucket()
        )
    );
}

#[test]
fn archived_pictures_fail_presigned_download() {
    let l = learner("archived_pictures_fail_presigned_download");
    l.break_("archived-media");
    let (code, report) = l.check_json(&["s3"]);
    assert_eq!(code, 1, "{report:#}");
    let presigned = check(&report, "s3.presigned");
    assert_eq!(presigned["status"], "fail", "{report:#}");
    let message = presigned["message"].as_str().unwrap();
    assert!(message.contains("answered HTTP 403 (InvalidObjectState)"), "{message}");
    assert!(presigned["hint"].as_str().unwrap().contains("Glacier"), "{presigned}");
    assert_eq!(check(&report, "s3.media")["status"], "pass");
}

#[test]
fn a_condition_anyone_meets_leaves_the_policy_public() {
    let l = learner("a_condition_anyone_meets_leaves_the_policy_public");
    l.break_("public-policy-condition");
    let (code, report) = l.check_json(&["s3.private"]);
    assert_eq!(code, 1, "{report:#}");
    let private = check(&report, "s3.private");
    let message = private["message"].as_str().unwrap();
    assert!(
        message.contains("S3 judges the bucket policy public (statement PublicReadOverTls grants access to everyone)")
            && message.contains("neither the bucket nor the account has a public access block"),
        "{message}"
    );
}

#[test]
fn the_accounts_block_public_access_keeps_a_bucket_without_its_own_private() {
    let l = learner("the_accounts_block_public_access_keeps_a_bucket_private");
    l.break_("account-block-only");
    let (code, report) = l.check_json(&["s3.private"]);
    assert_eq!(code, 0, "{report:#}");
    let private = check(&report, "s3.private");
    assert!(
        private["message"].as_str().unwrap().contains(
            "(the account's Block Public Access covers BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets)"
        ),
        "{private}"
    );
    assert_eq!(
        private["evidence"]["public_access_block"]["BlockPublicAcls"],
        serde_json::Value::Null
    );
    assert_eq!(
        private["evidence"]["account_public_access_block"]["RestrictPublicBuckets"],
        true
    );
}

#[test]
fn a_deny_in_the_learners_own_bucket_policy_is_told_from_a_strangers_bucket() {
    let l = learner("a_deny_in_the_learners_own_bucket_policy_is_told_apart");
    l.break_("policy-denies-location");
    let (code, report) = l.check_json(&["s3.bucket"]);
    assert_eq!(code, 0, "{report:#}");
    let bucket = check(&report, "s3.bucket");
    assert_eq!(
        bucket["message"],
        format!(
            "bucket {} exists in us-west-2 (listed by ListBuckets; S3 refused GetBucketLocation: a Deny in the bucket policy refuses it, so other checks may be refused too)",
            l.bucket()
        )
    );
}

#[test]
fn another_accounts_bucket_is_named_as_such() {
    let other = shared_learner("another_accounts_bucket");
    let l = learner("another_accounts_bucket_is_named_as_such");
    let (code, report) = l.check_json(&["s3.bucket", "--set", &format!("bucket={}", other.bucket())]);
    assert_eq!(code, 1, "{report:#}");
    let bucket = check(&report, "s3.bucket");
    assert_eq!(
        bucket["message"],
        format!(
            "bucket {} (in us-west-2) exists but belongs to another account: this account's ListBuckets does not list it",
            other.bucket()
        )
    );
    assert!(
        bucket["hint"].as_str().unwrap().contains("Bucket names are global"),
        "{bucket}"
    );
}
