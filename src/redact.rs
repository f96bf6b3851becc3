//! Redaction of secrets and terminal control sequences.
//!
//! Every string that leaves labcheck (reports, logs, errors) passes through a
//! [`Redactor`]: presigned-URL signatures, session tokens and any secret value
//! registered at run time (the database password, the AWS secret key) are
//! replaced by `[redacted]`, and terminal control sequences coming from AWS or
//! from the learner's files are stripped.

use regex::Regex;
use std::sync::LazyLock;

/// What replaces a secret in any output.
pub const REDACTED: &str = "[redacted]";

/// Query parameters of signed URLs whose values are secret or identify a key.
static SIGNED_QUERY_PARAM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(X-Amz-Signature|X-Amz-Security-Token|X-Amz-Credential|Signature|AWSAccessKeyId|x-amz-security-token)=([^&\s\x22'<>]+)",
    )
    .expect("valid regex")
});

/// ANSI escape sequences (CSI, OSC) and other C0/C1 control characters except
/// newline and tab.
static CONTROL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f\u{80}-\u{9f}]",
    )
    .expect("valid regex")
});

/// Replaces secrets in text. Cheap to clone; holds the secret values of one run.
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    /// A redactor that knows no secrets yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a secret value; every occurrence is redacted from then on.
    /// Values shorter than four characters are ignored, since redacting them
    /// would mangle ordinary text without protecting anything.
    pub fn add_secret(&mut self, secret: impl Into<String>) {
        let secret = secret.into();
        if secret.len() >= 4 && !self.secrets.contains(&secret) {
            self.secrets.push(secret);
            // Longest first, so a secret that contains another is caught whole.
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// Returns `text` with secrets redacted and control sequences removed.
    /// A secret is replaced where it stands as a whole token only, not
    /// inside a longer word: a password `postgres` must not turn
    /// `django.db.backends.postgresql` into nonsense.
    pub fn clean(&self, text: &str) -> String {
        let mut out = strip_control(text);
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = replace_tokens(&out, secret, REDACTED);
            }
        }
        SIGNED_QUERY_PARAM
            .replace_all(&out, |c: &regex::Captures| format!("{}={REDACTED}", &c[1]))
            .into_owned()
    }

    /// Cleans every string inside a JSON value, in place.
    pub fn clean_json(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(s) => *s = self.clean(s),
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.clean_json(v)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| self.clean_json(v)),
            _ => {}
        }
    }
}

/// Replaces each occurrence of `needle` in `text` that is not part of a
/// longer run of letters and digits.
fn replace_tokens(text: &str, needle: &str, with: &str) -> String {
    let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    let starts_word = word(needle.chars().next());
    let ends_word = word(needle.chars().next_back());
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(needle) {
        let before = rest[..at].chars().next_back().or_else(|| out.chars().next_back());
        let after = rest[at + needle.len()..].chars().next();
        let glued = (starts_word && word(before)) || (ends_word && word(after));
        out.push_str(&rest[..at]);
        out.push_str(if glued { needle } else { with });
        rest = &rest[at + needle.len()..];
    }
    out.push_str(rest);
    out
}

/// Removes terminal control sequences, keeping newlines and tabs.
pub fn strip_control(text: &str) -> String {
    CONTROL.replace_all(text, "").into_owned()
}

/// A URL with its query string's signature parts redacted, for evidence.
pub fn redact_url(url: &str) -> String {
    Redactor::new().clean(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presigned_url_signature_is_redacted() {
        let url = "https://b.s3.amazonaws.com/luna.png?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20240101&X-Amz-Signature=abcdef0123&X-Amz-Security-Token=IQoJ";
        let cleaned = redact_url(url);
        assert!(!cleaned.contains("abcdef0123"), "{cleaned}");
        assert!(!cleaned.contains("IQoJ"), "{cleaned}");
        assert!(!cleaned.contains("AKIA"), "{cleaned}");
        assert!(cleaned.contains("X-Amz-Algorithm=AWS4-HMAC-SHA256"), "{cleaned}");
        assert!(cleaned.contains("X-Amz-Signature=[redacted]"), "{cleaned}");
    }

    #[test]
    fn legacy_signature_in_html_is_redacted() {
        let html = r#"<img src="https://b.s3.amazonaws.com/l.jpeg?AWSAccessKeyId=ASIA1&amp;Signature=Lwz9&amp;Expires=1714729892">"#;
        let cleaned = redact_url(html);
        assert!(!cleaned.contains("Lwz9") && !cleaned.contains("ASIA1"), "{cleaned}");
        assert!(cleaned.contains("Expires=1714729892"));
    }

    #[test]
    fn registered_secrets_are_redacted_longest_first() {
        let mut r = Redactor::new();
        r.add_secret("hunter2-long");
        r.add_secret("hunter2");
        r.add_secret("ab"); // too short to redact
        assert_eq!(
            r.clean("pw=hunter2-long and hunter2 ab"),
            "pw=[redacted] and [redacted] ab"
        );
    }

    #[test]
    fn secrets_inside_longer_words_are_left_alone() {
        let mut r = Redactor::new();
        r.add_secret("postgres");
        r.add_secret("s3cret-Pass!");
        assert_eq!(
            r.clean("engine django.db.backends.postgresql, user postgres, pw=postgres; s3cret-Pass!x"),
            "engine django.db.backends.postgresql, user [redacted], pw=[redacted]; [redacted]x"
        );
    }

    #[test]
    fn control_sequences_are_stripped() {
        let evil = "bucket\x1b[31mred\x1b[0m\x1b]0;title\x07 ok\x08\ttab\nline";
        assert_eq!(strip_control(evil), "bucketred ok\ttab\nline");
    }

    #[test]
    fn json_strings_are_cleaned_recursively() {
        let mut r = Redactor::new();
        r.add_secret("s3cret-pass");
        let mut v = serde_json::json!({"a": ["x s3cret-pass"], "b": {"c": "\x1b[2Jclear"}, "n": 3});
        r.clean_json(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"a": ["x [redacted]"], "b": {"c": "clear"}, "n": 3})
        );
    }
}
