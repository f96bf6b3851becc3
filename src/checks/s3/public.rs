//! Whether the media bucket is public, as S3 itself judges it.
//!
//! - Block Public Access applies per setting as the stricter of the
//!   bucket's own configuration (GetPublicAccessBlock) and the account's
//!   (S3 Control GetPublicAccessBlock): a bucket with no configuration of
//!   its own under an account that blocks everything is blocked (Amazon S3
//!   User Guide, "Blocking public access to your Amazon S3 storage").
//! - A bucket policy is public unless every statement that grants to
//!   everyone is narrowed to fixed values of the condition keys S3 names
//!   ("The meaning of public"): a `Condition` anyone meets, such as
//!   `aws:SecureTransport`, leaves it public. S3's own verdict is
//!   GetBucketPolicyStatus's `IsPublic`; the statements found here name
//!   which part of the policy makes it so.

use serde_json::Value;

/// The four settings, in the order S3 lists them.
pub(crate) const SETTINGS: [&str; 4] = [
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
];

/// One level's Block Public Access configuration: each setting's value,
/// `None` when that level has no configuration at all.
pub(crate) type Block = Option<[bool; 4]>;

/// How a setting is in effect: on at the bucket, at the account, or off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Effect {
    /// The bucket's own setting is on.
    Bucket,
    /// Only the account's setting is on.
    Account,
    /// Neither is on.
    Off,
}

/// The setting in effect for each of the four, from the bucket's and the
/// account's configurations.
pub(crate) fn effective(bucket: Block, account: Block) -> [Effect; 4] {
    std::array::from_fn(|i| {
        if bucket.is_some_and(|b| b[i]) {
            Effect::Bucket
        } else if account.is_some_and(|a| a[i]) {
            Effect::Account
        } else {
            Effect::Off
        }
    })
}

/// Condition keys that, fixed to given values, keep a grant to everyone
/// from being public (S3 User Guide, "The meaning of public").
const NARROWING_KEYS: &[&str] = &[
    "aws:sourceip",
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceowner",
    "aws:sourceaccount",
    "aws:sourceorgid",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalorgid",
    "aws:userid",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount",
];

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().filter_map(|i| i.as_str().map(str::to_string)).collect(),
        Value::Bool(b) => vec![b.to_string()],
        Value::Number(n) => vec![n.to_string()],
        _ => Vec::new(),
    }
}

/// Whether a principal names everyone: `"*"`, or `*` among the AWS
/// principals (a wildcard anywhere in one counts).
fn is_everyone(principal: &Value) -> bool {
    let starred = |v: &Value| strings(v).iter().any(|s| s.contains('*'));
    match principal {
        Value::String(s) => s.contains('*'),
        Value::Object(o) => o.values().any(starred),
        _ => false,
    }
}

/// Whether a value is fixed: no wildcard, no policy variable.
fn is_fixed(value: &str) -> bool {
    !value.is_empty() && !value.contains('*') && !value.contains('?') && !value.contains("${")
}

/// Whether one condition test (`operator`, `key`, `values`) narrows who may
/// use the grant to fixed values of a key S3 accepts.
fn narrows(operator: &str, key: &str, values: &[String]) -> bool {
    let key = key.to_ascii_lowercase();
    if !NARROWING_KEYS.contains(&key.as_str()) {
        return false;
    }
    // ...IfExists holds when the key is absent; ForAllValues holds on an
    // empty set: neither narrows anything.
    if operator.ends_with("IfExists") || operator.starts_with("ForAllValues:") {
        return false;
    }
    let operator = operator.strip_prefix("ForAnyValue:").unwrap_or(operator);
    let positive = matches!(
        operator,
        "StringEquals" | "StringEqualsIgnoreCase" | "StringLike" | "ArnEquals" | "ArnLike" | "IpAddress"
    );
    if !positive || values.is_empty() {
        return false;
    }
    values.iter().all(|v| {
        if operator == "IpAddress" {
            // A range that covers every address narrows nothing.
            !v.ends_with("/0")
        } else if key == "aws:userid" {
            // A role's every session ("AROLEID:*") is not a fixed user.
            is_fixed(v) && !v.ends_with(":*")
        } else {
            is_fixed(v)
        }
    })
}

/// The statements of a bucket policy that grant to everyone without being
/// narrowed to fixed values, by Sid (or position).
pub(crate) fn public_statements(policy: &str) -> Vec<String> {
    let Ok(doc) = serde_json::from_str::<Value>(policy) else {
        return Vec::new();
    };
    let statements = match &doc["Statement"] {
        Value::Array(items) => items.clone(),
        single @ Value::Object(_) => vec![single.clone()],
        _ => Vec::new(),
    };
    statements
        .iter()
        .enumerate()
        .filter(|(_, s)| s["Effect"] == "Allow" && is_everyone(&s["Principal"]))
        .filter(|(_, s)| {
            let narrowed = s["Condition"].as_object().is_some_and(|tests| {
                tests.iter().any(|(operator, keys)| {
                    keys.as_object().is_some_and(|keys| {
                        keys.iter()
                            .any(|(key, values)| narrows(operator, key, &strings(values)))
                    })
                })
            });
            !narrowed
        })
        .map(|(i, s)| {
            s["Sid"]
                .as_str()
                .map_or_else(|| format!("statement {}", i + 1), |sid| format!("statement {sid}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stricter_of_bucket_and_account_applies() {
        let all = Some([true; 4]);
        assert_eq!(effective(None, all), [Effect::Account; 4]);
        assert_eq!(effective(all, None), [Effect::Bucket; 4]);
        assert_eq!(effective(None, None), [Effect::Off; 4]);
        let acls_only = Some([true, true, false, false]);
        assert_eq!(
            effective(acls_only, Some([false, false, true, false])),
            [Effect::Bucket, Effect::Bucket, Effect::Account, Effect::Off]
        );
    }

    #[test]
    fn public_policy_statements_are_found() {
        let policy = r#"{"Statement":[
            {"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"},
            {"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::1:root","*"]},"Action":"s3:GetObject","Resource":"*"},
            {"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}},
            {"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"},
            {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:role/eb"},"Action":"s3:*","Resource":"*"}]}"#;
        assert_eq!(public_statements(policy), vec!["statement PublicRead", "statement 2"]);
        assert!(public_statements("not json").is_empty());
    }

    #[test]
    fn a_condition_anyone_meets_stays_public() {
        // The developer guide's TLS-only example, given to everyone: public.
        let tls = r#"{"Statement":[{"Sid":"TlsRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject",
            "Resource":"arn:aws:s3:::b/*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}"#;
        assert_eq!(public_statements(tls), vec!["statement TlsRead"]);
        // Fixed values of the keys S3 names narrow it.
        for condition in [
            r#"{"StringEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}"#,
            r#"{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}"#,
            r#"{"ArnEquals":{"aws:SourceArn":"arn:aws:cloudfront::111122223333:distribution/EDFDVBD6EXAMPLE"}}"#,
            r#"{"IpAddress":{"aws:SourceIp":["192.0.2.0/24","2001:db8::/32"]}}"#,
        ] {
            let policy = format!(
                r#"{{"Statement":[{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{condition}}}]}}"#
            );
            assert!(public_statements(&policy).is_empty(), "{condition}");
        }
        // Wildcards, variables, whole ranges and IfExists do not.
        for condition in [
            r#"{"StringLike":{"aws:SourceVpce":"vpce-*"}}"#,
            r#"{"StringEquals":{"aws:SourceAccount":"${aws:PrincipalAccount}"}}"#,
            r#"{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}"#,
            r#"{"StringEqualsIfExists":{"aws:SourceVpce":"vpce-1a2b3c4d"}}"#,
            r#"{"StringNotEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}"#,
            r#"{"StringLike":{"aws:userid":"AROAEXAMPLEID:*"}}"#,
            r#"{"StringEquals":{"aws:Referer":"https://pets.example.com/"}}"#,
        ] {
            let policy = format!(
                r#"{{"Statement":[{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{condition}}}]}}"#
            );
            assert_eq!(public_statements(&policy).len(), 1, "{condition}");
        }
    }

    /// The sandbox judges policies for GetBucketPolicyStatus with the same
    /// keys (sandbox/moto_launcher.py, S3_NARROWING_KEYS): one list, checked.
    #[test]
    fn the_sandbox_narrows_with_the_same_keys() {
        let launcher = include_str!("../../../sandbox/moto_launcher.py");
        let start = launcher
            .find("S3_NARROWING_KEYS = {")
            .expect("S3_NARROWING_KEYS in the launcher");
        let end = start + launcher[start..].find('}').unwrap();
        let mut theirs: Vec<&str> = launcher[start..end].split('"').skip(1).step_by(2).collect();
        let mut ours = NARROWING_KEYS.to_vec();
        theirs.sort_unstable();
        ours.sort_unstable();
        assert_eq!(theirs, ours);
    }
}
