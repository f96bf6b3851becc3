//! Reading an IAM role's identity policies the way IAM evaluates them, for
//! the one question `eb.role` asks: may the role do this action on this
//! resource? `Action` and `NotAction`, `Resource` and `NotResource`, an
//! explicit Deny winning over any Allow; a `Condition` is not evaluated
//! (its keys are only known at request time), so a verdict that rests on
//! one is reported as uncertain, naming the statement.
//!
//! Policy grammar: IAM User Guide, "IAM JSON policy element reference"
//! (Effect, Action/NotAction, Resource/NotResource, Condition).

use serde_json::Value;

/// One statement of a policy, flattened.
#[derive(Clone, Debug)]
pub(crate) struct Statement {
    allow: bool,
    /// The actions listed, and whether they are `NotAction` (every action
    /// but these).
    actions: Vec<String>,
    not_action: bool,
    resources: Vec<String>,
    not_resource: bool,
    /// The `Condition` block in words, when there is one.
    condition: Option<String>,
    /// Where the statement comes from: the policy's name, and its `Sid`.
    pub(crate) source: String,
}

impl Statement {
    fn matches_action(&self, action: &str) -> bool {
        self.actions.iter().any(|a| glob(a, action)) != self.not_action
    }

    fn matches_resource(&self, resource: &str) -> bool {
        self.resources.iter().any(|r| glob(r, resource)) != self.not_resource
    }

    fn applies(&self, action: &str, resource: &str) -> bool {
        self.matches_action(action) && self.matches_resource(resource)
    }
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items.iter().filter_map(|i| i.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    }
}

/// The statements of a policy document, as IAM returns it (URL-encoded
/// JSON) or plain. `policy` names the policy in what labcheck reports.
pub(crate) fn statements(document: &str, policy: &str) -> Vec<Statement> {
    let decoded = percent_encoding::percent_decode_str(document)
        .decode_utf8_lossy()
        .to_string();
    let Ok(doc) = serde_json::from_str::<Value>(&decoded) else {
        return Vec::new();
    };
    let list = match &doc["Statement"] {
        Value::Array(items) => items.clone(),
        one @ Value::Object(_) => vec![one.clone()],
        _ => Vec::new(),
    };
    list.iter()
        .filter(|s| s["Effect"] == "Allow" || s["Effect"] == "Deny")
        .map(|s| {
            let not_action = s.get("NotAction").is_some();
            let not_resource = s.get("NotResource").is_some();
            Statement {
                allow: s["Effect"] == "Allow",
                actions: strings(if not_action { &s["NotAction"] } else { &s["Action"] }),
                not_action,
                resources: strings(if not_resource {
                    &s["NotResource"]
                } else {
                    &s["Resource"]
                }),
                not_resource,
                condition: s
                    .get("Condition")
                    .filter(|c| c.as_object().is_some_and(|o| !o.is_empty()))
                    .map(Value::to_string),
                source: match s["Sid"].as_str() {
                    Some(sid) if !sid.is_empty() => format!("{policy} ({sid})"),
                    _ => policy.to_string(),
                },
            }
        })
        .collect()
}

/// IAM-style matching: `*` any run of characters, `?` one; case-insensitive
/// (IAM compares action names so; resource ARNs are matched the same way
/// here, which only errs on the side of a match). Linear backtracking to
/// the last `*`, so a pattern of many stars from a hostile policy costs no
/// more than its length times the text's.
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut last_star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi].eq_ignore_ascii_case(&t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            last_star = Some((pi, ti));
            pi += 1;
        } else if let Some((star, from)) = last_star {
            // Let the last star take one more character, and try again.
            last_star = Some((star, from + 1));
            pi = star + 1;
            ti = from + 1;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == b'*')
}

/// IAM's answer to "may the role do `action` on `resource`".
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Allowed by this statement, with no condition in the way.
    Allowed(String),
    /// Allowed only if conditions hold that labcheck cannot evaluate: the
    /// statement, and why the answer is uncertain.
    Uncertain(String, String),
    /// Denied explicitly by this statement.
    Denied(String),
    /// No statement allows it.
    NotAllowed,
}

#[cfg(test)]
impl Verdict {
    /// Whether the role may (or, when uncertain, probably may) do it.
    pub(crate) fn allows(&self) -> bool {
        matches!(self, Verdict::Allowed(_) | Verdict::Uncertain(..))
    }
}

/// Evaluates `action` on `resource`: an unconditional Deny that applies
/// wins; then an unconditional Allow; a conditional statement on either
/// side makes the answer uncertain.
pub(crate) fn evaluate(statements: &[Statement], action: &str, resource: &str) -> Verdict {
    let applying: Vec<&Statement> = statements.iter().filter(|s| s.applies(action, resource)).collect();
    if let Some(deny) = applying.iter().find(|s| !s.allow && s.condition.is_none()) {
        return Verdict::Denied(deny.source.clone());
    }
    let allow = applying
        .iter()
        .find(|s| s.allow && s.condition.is_none())
        .or_else(|| applying.iter().find(|s| s.allow));
    let Some(allow) = allow else {
        return Verdict::NotAllowed;
    };
    if let Some(condition) = &allow.condition {
        return Verdict::Uncertain(
            allow.source.clone(),
            format!("it is allowed only under the condition {condition}"),
        );
    }
    if let Some(deny) = applying.iter().find(|s| !s.allow) {
        return Verdict::Uncertain(
            allow.source.clone(),
            format!(
                "{} denies it under the condition {}",
                deny.source,
                deny.condition.as_deref().unwrap_or_default()
            ),
        );
    }
    Verdict::Allowed(allow.source.clone())
}

/// The Allow statement that grants more S3 than the lab needs: every S3
/// action (or every action) on every resource, as `AmazonS3FullAccess`
/// or an `s3:*` on `*` does. Judged by an action the lab never needs on a
/// resource outside the media bucket, in the account's `partition`.
pub(crate) fn too_broad<'a>(statements: &'a [Statement], partition: &str) -> Option<&'a Statement> {
    let elsewhere = format!("arn:{partition}:s3:::any-bucket");
    statements
        .iter()
        .find(|s| s.allow && s.applies("s3:DeleteBucket", &elsewhere))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUCKET_OBJECT: &str = "arn:aws:s3:::media-b/x.png";

    #[test]
    fn actions_and_resources_from_the_labs_policy() {
        let doc = r#"{"Statement":[
            {"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::media-b/*"},
            {"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::media-b"}]}"#;
        let s = statements(doc, "inline");
        assert_eq!(
            evaluate(&s, "s3:GetObject", BUCKET_OBJECT),
            Verdict::Allowed("inline".into())
        );
        assert_eq!(
            evaluate(&s, "s3:GetObject", "arn:aws:s3:::other/x.png"),
            Verdict::NotAllowed
        );
        assert_eq!(evaluate(&s, "s3:DeleteObject", BUCKET_OBJECT), Verdict::NotAllowed);
        assert!(too_broad(&s, "aws").is_none());
    }

    #[test]
    fn url_encoded_documents_as_iam_returns_them() {
        // GetRolePolicy's PolicyDocument is URL-encoded (IAM API reference).
        let encoded = "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3A%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D";
        let s = statements(encoded, "full");
        assert_eq!(
            evaluate(&s, "s3:PutObject", BUCKET_OBJECT),
            Verdict::Allowed("full".into())
        );
        assert_eq!(too_broad(&s, "aws").map(|s| s.source.as_str()), Some("full"));
    }

    #[test]
    fn an_explicit_deny_wins() {
        let deny = r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},
            {"Sid":"NoWrites","Effect":"Deny","Action":"s3:PutObject","Resource":"*"}]}"#;
        assert_eq!(
            evaluate(&statements(deny, "d"), "s3:PutObject", BUCKET_OBJECT),
            Verdict::Denied("d (NoWrites)".into())
        );
    }

    #[test]
    fn not_action_and_not_resource() {
        // "Everything but IAM": allows S3, and counts as broad.
        let doc = r#"{"Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*"],"Resource":"*"}]}"#;
        let s = statements(doc, "PowerUser");
        assert!(evaluate(&s, "s3:GetObject", BUCKET_OBJECT).allows());
        assert_eq!(
            evaluate(&s, "iam:CreateUser", "arn:aws:iam::1:user/x"),
            Verdict::NotAllowed
        );
        assert!(too_broad(&s, "aws").is_some());
        let china = statements(
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws-cn:s3:::*"}]}"#,
            "cn",
        );
        assert!(too_broad(&china, "aws-cn").is_some() && too_broad(&china, "aws").is_none());
        // A Deny on everything but the media bucket leaves it allowed.
        let doc = r#"{"Statement":[{"Effect":"Allow","Action":"s3:*Object","Resource":"arn:aws:s3:::*/*"},
            {"Effect":"Deny","Action":"s3:*","NotResource":["arn:aws:s3:::media-b","arn:aws:s3:::media-b/*"]}]}"#;
        let s = statements(doc, "fenced");
        assert!(evaluate(&s, "s3:PutObject", BUCKET_OBJECT).allows());
        assert!(matches!(
            evaluate(&s, "s3:PutObject", "arn:aws:s3:::other/x.png"),
            Verdict::Denied(_)
        ));
    }

    #[test]
    fn a_condition_makes_the_verdict_uncertain() {
        let doc = r#"{"Statement":[{"Sid":"TlsOnly","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::media-b/*",
            "Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}"#;
        let v = evaluate(&statements(doc, "media"), "s3:GetObject", BUCKET_OBJECT);
        match &v {
            Verdict::Uncertain(source, why) => {
                assert_eq!(source, "media (TlsOnly)");
                assert!(why.contains("aws:SecureTransport"), "{why}");
            }
            other => panic!("{other:?}"),
        }
        assert!(v.allows());
        let doc = r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::media-b/*"},
            {"Sid":"OffHours","Effect":"Deny","Action":"s3:PutObject","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}}]}"#;
        let v = evaluate(&statements(doc, "p"), "s3:PutObject", BUCKET_OBJECT);
        assert!(
            matches!(&v, Verdict::Uncertain(_, why) if why.contains("p (OffHours) denies it under the condition")),
            "{v:?}"
        );
    }

    #[test]
    fn globs() {
        assert!(glob("s3:Get*", "s3:GetObject"));
        assert!(glob("arn:aws:s3:::pets-*/*", "arn:aws:s3:::pets-project-x/a.png"));
        assert!(!glob("arn:aws:s3:::pets-*/*", "arn:aws:s3:::pets-project-x"));
        assert!(glob("S3:getobject", "s3:GetObject"));
        assert!(glob("s3:?etObject", "s3:GetObject"));
        assert!(glob("*", "") && glob("a*b*c", "aXbYc") && !glob("a*b*c", "aXbY"));
        assert!(glob("*Object", "s3:GetObject") && !glob("*Object", "s3:GetObjects"));
    }

    #[test]
    fn hostile_documents_read_as_nothing() {
        assert!(statements("not json", "x").is_empty());
        assert!(statements(r#"{"Statement":"Allow everything"}"#, "x").is_empty());
        assert!(statements(r#"{"Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}"#, "x").is_empty());
        // A long run of stars is matched in linear time, not exponential.
        let doc = format!(
            r#"{{"Statement":[{{"Effect":"Allow","Action":"{}x","Resource":"*"}}]}}"#,
            "*?".repeat(5000)
        );
        assert_eq!(
            evaluate(&statements(&doc, "stars"), "s3:GetObject", "*"),
            Verdict::NotAllowed
        );
    }
}
