//! Proof from moto's recorder that a full `labcheck check` only reads, and
//! makes each AWS call once however many checks need its answer.

use crate::common::learner_alone;
use std::collections::HashMap;

const ENDPOINT: &str = "http://127.0.0.1:24566";

/// The AWS action a recorded request stands for, as `Service:Action` where
/// the protocol names it, or `S3 METHOD path?subresources` for S3's REST API.
fn action(entry: &serde_json::Value) -> String {
    let method = entry["method"].as_str().unwrap_or_default();
    let url = entry["url"].as_str().unwrap_or_default();
    let headers = &entry["headers"];
    if let Some(target) = headers["X-Amz-Target"].as_str() {
        return target.to_string();
    }
    let raw = entry["body"].as_str().unwrap_or_default();
    let body = if entry["body_encoded"] == true {
        use base64::Engine;
        String::from_utf8_lossy(
            &base64::engine::general_purpose::STANDARD
                .decode(raw)
                .expect("base64 body"),
        )
        .into_owned()
    } else {
        raw.to_string()
    };
    if let Some(a) = body.split('&').find_map(|kv| kv.strip_prefix("Action=")) {
        return a.to_string();
    }
    let parsed = url::Url::parse(url).expect("recorded url");
    let mut keys: Vec<String> = parsed
        .query_pairs()
        .map(|(k, _)| k.to_string())
        .filter(|k| !k.starts_with("X-Amz-") && k != "x-id")
        .collect();
    keys.sort();
    format!("S3 {method} {}?{}", parsed.path(), keys.join("&"))
}

fn is_read(action: &str) -> bool {
    if let Some(rest) = action.strip_prefix("S3 ") {
        return rest.starts_with("GET ") || rest.starts_with("HEAD ");
    }
    let name = action.rsplit('.').next().unwrap_or(action);
    ["Get", "List", "Describe", "Head"].iter().any(|p| name.starts_with(p))
}

/// Whether a recorded request was signed by `account`'s access key.
fn made_by(entry: &serde_json::Value, account: &str) -> bool {
    let auth = entry["headers"]["Authorization"].as_str().unwrap_or_default();
    let url = entry["url"].as_str().unwrap_or_default();
    auth.contains(&format!("Credential={account}/")) || url.contains(&format!("X-Amz-Credential={account}%2F"))
}

#[tokio::test]
async fn a_full_run_only_reads_and_calls_each_action_once() {
    let l = learner_alone("a_full_run_only_reads_and_calls_each_action_once");
    let http = reqwest::Client::new();
    for step in ["reset-recording", "start-recording"] {
        let r = http
            .post(format!("{ENDPOINT}/moto-api/recorder/{step}"))
            .send()
            .await
            .expect("moto recorder answers");
        assert!(r.status().is_success(), "{step}: {}", r.status());
    }
    let (code, report) = l.check_json(&[]);
    assert_eq!(code, 0, "{report:#}");
    let recording = http
        .get(format!("{ENDPOINT}/moto-api/recorder/download-recording"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    let mut counts: HashMap<String, usize> = HashMap::new();
    for line in recording.lines().filter(|l| !l.trim().is_empty()) {
        let entry: serde_json::Value = serde_json::from_str(line).expect("recorder line is JSON");
        if made_by(&entry, &l.account) {
            *counts.entry(action(&entry)).or_default() += 1;
        }
    }
    assert!(
        counts.len() >= 8,
        "too few calls recorded for {}: {counts:#?}",
        l.account
    );
    assert!(counts.contains_key("GetCallerIdentity"), "{counts:#?}");
    assert!(counts.keys().any(|a| a.contains("?cors")), "{counts:#?}");
    let writes: Vec<&String> = counts.keys().filter(|a| !is_read(a)).collect();
    assert!(writes.is_empty(), "labcheck made calls that are not reads: {writes:?}");
    let repeated: Vec<(&String, &usize)> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(repeated.is_empty(), "actions called more than once: {repeated:?}");
    eprintln!(
        "{} distinct read calls: {:?}",
        counts.len(),
        counts.keys().collect::<Vec<_>>()
    );
}
