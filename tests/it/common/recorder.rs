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
    // S3 Control's REST API (its requests are signed for `s3` too): the
    // path names the action.
    if url.path().starts_with("/v20180820/") {
        let action = match (method, url.path()) {
            ("GET", "/v20180820/configuration/publicAccessBlock") => "s3:GetAccountPublicAccessBlock",
            _ => "s3:(an S3 Control call)",
        };
        return Some(Call {
            access_key,
            action: action.to_string(),
            request: format!("S3 Control {method} {}", url.path()),
        });
    }
    // S3's REST API: the sub-resource names the action.
    let segments = url
        .path()
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .count();
    let mut keys: Vec<String> = url
        .query_pairs()
        .map(|(k, _)| k.into_owned())
        .filter(|k| !k.starts_with("X-Amz-") && k != "x-id")
        .collect();
    keys.sort();
    let has = |k: &str| keys.iter().any(|x| x == k);
    let action = match (method, segments) {
        (_, 0) => "s3:ListAllMyBuckets",
        (_, 1) if has("cors") => "s3:GetBucketCORS",
        (_, 1) if has("location") => "s3:GetBucketLocation",
        (_, 1) if has("publicAccessBlock") => "s3:GetBucketPublicAccessBlock",
        (_, 1) if has("policyStatus") => "s3:GetBucketPolicyStatus",
        (_, 1) if has("policy") => "s3:GetBucketPolicy",
        (_, 1) if has("acl") => "s3:GetBucketAcl",
        ("GET" | "HEAD", 1) => "s3:ListBucket",
        ("GET" | "HEAD", _) => "s3:GetObject",
        _ => "s3:(a write)",
    };
    Some(Call {
        access_key,
        action: action.to_string(),
        request: format!("S3 {method} {}?{}", url.path(), keys.join("&")),
    })
}

/// Whether an action only reads.
pub(crate) fn is_read(action: &str) -> bool {
    let name = action.split(':').nth(1).unwrap_or(action);
    ["Get", "List", "Describe", "Head"].iter().any(|p| name.starts_with(p))
}
