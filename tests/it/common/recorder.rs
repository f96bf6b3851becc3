//! moto's recorder: which AWS calls a run made, who signed them, and the
//! IAM action each stands for. The recorder sees every account's calls, so a
//! test that reads it holds the sandbox alone (`learner_alone`,
//! `SandboxTurn::exclusive`).

use serde_json::Value;

/// One recorded request.
pub(crate) struct Call {
    /// The access key that signed it (a sandbox account id, or an assumed
    /// role's `ASIA…` key).
    pub access_key: String,
    /// The IAM action it stands for, e.g. `s3:GetBucketCORS`.
    pub action: String,
    /// The request itself, precise enough to tell two calls of one action
    /// apart (S3: method, path and sub-resources).
    pub request: String,
}

fn post(step: &str) -> String {
    let endpoint = &super::sandbox_env()["AWS_ENDPOINT_URL"];
    let method = if step == "download-recording" { "GET" } else { "POST" };
    let out = std::process::Command::new("curl")
        .args(["-sS", "-X", method, &format!("{endpoint}/moto-api/recorder/{step}")])
        .output()
        .expect("run curl");
    assert!(out.status.success(), "moto recorder {step}: {}", super::text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Forgets what was recorded and records from now on.
pub(crate) fn start() {
    post("reset-recording");
    post("start-recording");
}

/// Every call recorded since [`start`].
pub(crate) fn calls() -> Vec<Call> {
    post("download-recording")
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|e| call(&e))
        .collect()
}

fn call(entry: &Value) -> Option<Call> {
    let method = entry["method"].as_str().unwrap_or_default();
    let url = url::Url::parse(entry["url"].as_str().unwrap_or_default()).ok()?;
    let auth = entry["headers"]["Authorization"].as_str().unwrap_or_default();
    let credential = auth.split("Credential=").nth(1).map(str::to_string).or_else(|| {
        url.query_pairs()
            .find(|(k, _)| k == "X-Amz-Credential")
            .map(|(_, v)| v.into_owned())
    })?;
    let mut parts = credential.split('/');
    let access_key = parts.next().unwrap_or_default().to_string();
    let service = parts.nth(2).unwrap_or_default().to_string();
    if let Some(target) = entry["headers"]["X-Amz-Target"].as_str() {
        let name = target.rsplit('.').next().unwrap_or(target);
        return Some(Call {
            access_key,
            action: format!("{service}:{name}"),
            request: target.to_string(),
        });
    }
    let raw = entry["body"].as_str().unwrap_or_default();
    let body = if entry["body_encoded"] == true {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(raw)
            .unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    } else {
        raw.to_string()
    };
    if let Some(name) = body.split('&').find_map(|kv| kv.strip_prefix("Action=")) {
        return Some(Call {
            access_key,
            action: format!("{service}:{name}"),
            request: name.to_string(),
        });
    }
    // S3's REST API: the method, the path's depth (bucket or object) and the
    // sub-resource name the action; S3 Control's path names its operation.
    let segments: Vec<&str> = url.path().split('/').filter(|s| !s.is_empty()).collect();
    let mut keys: Vec<String> = url
        .query_pairs()
        .map(|(k, _)| k.into_owned())
        .filter(|k| !k.starts_with("X-Amz-") && !k.starts_with("x-amz-") && k != "x-id")
        .collect();
    keys.sort();
    let action = s3_action(method, &segments, &keys);
    Some(Call {
        access_key,
        action: action.to_string(),
        request: format!("S3 {method} {}?{}", url.path(), keys.join("&")),
    })
}

/// The query parameters of S3's list calls: they ask for a listing, they do
/// not name a sub-resource.
const LIST_PARAMETERS: &[&str] = &[
    "list-type",
    "prefix",
    "delimiter",
    "max-keys",
    "continuation-token",
    "encoding-type",
    "start-after",
    "fetch-owner",
    "marker",
];

/// Bucket sub-resources read with GET, and the IAM action each needs.
const BUCKET_READS: &[(&str, &str)] = &[
    ("cors", "s3:GetBucketCORS"),
    ("location", "s3:GetBucketLocation"),
    ("publicAccessBlock", "s3:GetBucketPublicAccessBlock"),
    ("policy", "s3:GetBucketPolicy"),
    ("policyStatus", "s3:GetBucketPolicyStatus"),
    ("acl", "s3:GetBucketAcl"),
    ("ownershipControls", "s3:GetBucketOwnershipControls"),
    ("versioning", "s3:GetBucketVersioning"),
    ("tagging", "s3:GetBucketTagging"),
    ("encryption", "s3:GetEncryptionConfiguration"),
    ("website", "s3:GetBucketWebsite"),
    ("versions", "s3:ListBucketVersions"),
    ("uploads", "s3:ListBucketMultipartUploads"),
];

/// Object sub-resources read with GET, and the IAM action each needs.
const OBJECT_READS: &[(&str, &str)] = &[
    ("acl", "s3:GetObjectAcl"),
    ("tagging", "s3:GetObjectTagging"),
    ("attributes", "s3:GetObjectAttributes"),
];

/// The IAM action of an S3 (or S3 Control) REST request. A request this
/// table does not know, or one that writes, gets a name [`is_read`]
/// rejects, so a new kind of call fails the read-only tests until it is
/// classified here.
fn s3_action(method: &str, segments: &[&str], keys: &[String]) -> String {
    let sub: Vec<&str> = keys
        .iter()
        .map(String::as_str)
        .filter(|k| !LIST_PARAMETERS.contains(k))
        .collect();
    let unknown = || format!("s3:(unclassified {method} {} ?{})", segments.join("/"), sub.join("&"));
    let reads = matches!(method, "GET" | "HEAD");
    // S3 Control: /v20180820/configuration/publicAccessBlock and the like.
    if segments.first().is_some_and(|s| s.starts_with("v2018")) {
        return match (method, &segments[1..]) {
            ("GET", ["configuration", "publicAccessBlock"]) => "s3:GetAccountPublicAccessBlock".into(),
            _ => unknown(),
        };
    }
    match (reads, segments.len(), sub.as_slice()) {
        (true, 0, []) => "s3:ListAllMyBuckets".into(),
        (true, 1, []) => "s3:ListBucket".into(),
        (true, 1, [one]) => BUCKET_READS
            .iter()
            .find(|(k, _)| k == one)
            .map_or_else(unknown, |(_, a)| (*a).into()),
        (true, n, []) if n > 1 => "s3:GetObject".into(),
        (true, n, [one]) if n > 1 => OBJECT_READS
            .iter()
            .find(|(k, _)| k == one)
            .map_or_else(unknown, |(_, a)| (*a).into()),
        _ => unknown(),
    }
}

/// Whether an action only reads (an unclassified S3 request does not).
pub(crate) fn is_read(action: &str) -> bool {
    let name = action.split(':').nth(1).unwrap_or(action);
    ["Get", "List", "Describe", "Head"].iter().any(|p| name.starts_with(p))
}

#[test]
fn s3_requests_are_named_by_method_and_sub_resource() {
    let keys = |k: &[&str]| k.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(s3_action("GET", &["b"], &keys(&["cors"])), "s3:GetBucketCORS");
    assert_eq!(s3_action("HEAD", &["b"], &[]), "s3:ListBucket");
    assert_eq!(
        s3_action("GET", &["b"], &keys(&["list-type", "prefix"])),
        "s3:ListBucket"
    );
    assert_eq!(s3_action("GET", &["b", "media", "x.jpg"], &[]), "s3:GetObject");
    assert_eq!(
        s3_action("GET", &["v20180820", "configuration", "publicAccessBlock"], &[]),
        "s3:GetAccountPublicAccessBlock"
    );
    // Writes, and reads nobody classified, are not reads.
    for (method, segments, sub) in [
        ("PUT", &["b"][..], &["cors"][..]),
        ("DELETE", &["b", "k"][..], &[][..]),
        ("POST", &["b"][..], &["delete"][..]),
        ("GET", &["b"][..], &["somethingNew"][..]),
        ("GET", &["b"][..], &["cors", "policy"][..]),
    ] {
        let action = s3_action(method, segments, &keys(sub));
        assert!(!is_read(&action), "{method} {segments:?} {sub:?} read as {action}");
    }
}
