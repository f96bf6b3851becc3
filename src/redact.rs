//! Redaction of secrets, and the one sanitizer of text from strangers.
//!
//! Every string that leaves labcheck (reports, logs, errors) passes through a
//! [`Redactor`]: presigned-URL signatures, session tokens and any secret value
//! registered at run time (the database password, the AWS secret key) are
//! replaced by `[redacted]`, and the text goes through [`strip_control`].
//!
//! [`strip_control`] is the one sanitizer of text that comes from a learner
//! or from AWS (report fields, parse errors that quote them, learner names,
//! tags, page text, roster values): terminal control sequences (CSI, OSC,
//! other escapes), C0 and C1 control characters and the invisible
//! bidirectional overrides are removed. Every renderer of a report or a
//! gradebook (human, csv, json, junit, html) works on a sanitized copy
//! ([`crate::report::render`], [`crate::cohort::render::render`]).

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

/// The password of a URL's user information (`rediss://user:PASSWORD@host`,
/// as `CACHE_LOCATION` holds it with ElastiCache RBAC; `mysql://` and the
/// like for a database): the scheme and user stay, the password goes. The
/// password runs to the last `@` before a space, a slash or a quote: an
/// ElastiCache password may hold `<`, `>`, `&`, `#`, `!`, `$` and `^`, and a
/// learner may write an `@` unencoded; cutting at the first `@` or at a `<`
/// would leave the rest of it in the open.
static URL_PASSWORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@\x22'<>]*):([^\s/\x22']+)@").expect("valid regex"));

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
        let out = URL_PASSWORD.replace_all(&out, |c: &regex::Captures| format!("{}:{REDACTED}@", &c[1]));
        SIGNED_QUERY_PARAM
            .replace_all(&out, |c: &regex::Captures| format!("{}={REDACTED}", &c[1]))
            .into_owned()
    }

    /// Cleans every string inside a JSON value (keys too), in place.
    pub fn clean_json(&self, value: &mut serde_json::Value) {
        strip_control_json(value);
        self.redact_json(value);
    }

    fn redact_json(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(s) => *s = self.clean(s),
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.redact_json(v)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| self.redact_json(v)),
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

/// The sanitizer of text from strangers, with the parsers of course and
/// instructor input that quote it in their messages.
pub use labcheck_course::sanitize::strip_control;

/// [`strip_control`], then the text on one line (runs of whitespace, line
/// breaks included, as one space), cut to `max` characters with `…`: for a
/// message that quotes text from a stranger.
pub fn one_line(text: &str, max: usize) -> String {
    let flat = strip_control(text).split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > max {
        flat.chars().take(max).collect::<String>() + "…"
    } else {
        flat
    }
}

/// [`strip_control`] on every string inside a JSON value, keys included.
pub fn strip_control_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(s) => *s = strip_control(s),
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_control_json),
        serde_json::Value::Object(map) => {
            if map.keys().any(|k| labcheck_course::sanitize::has_control(k)) {
                *map = std::mem::take(map)
                    .into_iter()
                    .map(|(k, v)| (strip_control(&k), v))
                    .collect();
            }
            map.values_mut().for_each(strip_control_json);
        }
        _ => {}
    }
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
    fn a_urls_password_is_redacted_and_the_rest_kept() {
        let r = Redactor::new();
        assert_eq!(
            r.clean("sessions in Redis over TLS (rediss://pets-app:9f1c0e7a@pets.serverless.usw2.cache.amazonaws.com:6379/0)"),
            "sessions in Redis over TLS (rediss://pets-app:[redacted]@pets.serverless.usw2.cache.amazonaws.com:6379/0)"
        );
        assert_eq!(
            r.clean("mysql://django:p%40ss@db:3306/pets"),
            "mysql://django:[redacted]@db:3306/pets"
        );
        // Every character an ElastiCache password may hold beside letters and
        // digits, and an `@` a learner did not encode: nothing of it is left.
        for password in ["a<b>c&d#e!f$g^h-i0123456", "p@ss@word0123456", "x:y:z<0123456789>"] {
            let cleaned = r.clean(&format!(
                "LOCATION rediss://pets-app:{password}@h.cache.amazonaws.com:6379/0 ok"
            ));
            assert_eq!(
                cleaned, "LOCATION rediss://pets-app:[redacted]@h.cache.amazonaws.com:6379/0 ok",
                "{password}"
            );
        }
        for kept in [
            "rediss://pets.serverless.usw2.cache.amazonaws.com:6379/0",
            "https://example.com/a:b@c",
            "see user:password@host in the lab",
        ] {
            assert_eq!(r.clean(kept), kept);
        }
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
    fn one_line_flattens_and_cuts() {
        assert_eq!(one_line("a\x1b[31m\n  b\tc", 10), "a b c");
        assert_eq!(one_line("abcdef", 3), "abc…");
    }

    #[test]
    fn json_keys_are_cleaned_too() {
        let mut v = serde_json::json!({"\x1b[31mkey": ["\x1b]0;t\x07x"]});
        strip_control_json(&mut v);
        assert_eq!(v, serde_json::json!({"key": ["x"]}));
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
