//! The one sanitizer of text from strangers: terminal control sequences
//! (CSI, OSC, other escapes), C0 and C1 control characters and the invisible
//! bidirectional overrides removed, newlines and tabs kept. Every string from
//! a learner, an instructor's file or AWS goes through [`strip_control`]
//! before anything shows it: the parsers here when a message quotes their
//! input, labcheck's renderers for everything else.

use regex::Regex;
use std::sync::LazyLock;

/// ANSI escape sequences (CSI, OSC; an OSC cut short is dropped to the end),
/// other C0/C1 control characters except newline and tab, and the
/// bidirectional embeddings, overrides and isolates that reorder what a
/// reader sees (U+202A-U+202E, U+2066-U+2069).
static CONTROL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)?|\x1b[@-_]?|[\x00-\x08\x0b-\x1f\x7f\u{80}-\u{9f}\u{202a}-\u{202e}\u{2066}-\u{2069}]",
    )
    .expect("valid regex")
});

/// The sanitizer: removes terminal control sequences, control characters
/// and bidirectional overrides, keeping newlines and tabs.
pub fn strip_control(text: &str) -> String {
    CONTROL.replace_all(text, "").into_owned()
}

/// Whether [`strip_control`] would change `text`.
pub fn has_control(text: &str) -> bool {
    CONTROL.is_match(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_sequences_are_stripped() {
        let evil = "bucket\x1b[31mred\x1b[0m\x1b]0;title\x07 ok\x08\ttab\nline";
        assert_eq!(strip_control(evil), "bucketred ok\ttab\nline");
        assert!(has_control(evil) && !has_control("ok\ttab\nline"));
    }

    #[test]
    fn every_kind_of_escape_is_stripped() {
        for (evil, clean) in [
            ("a\x1b]8;;https://evil.example/\x1b\\link\x1b]8;;\x1b\\b", "alinkb"), // OSC 8 hyperlink, ST-terminated
            ("a\x1b]52;c;cHduZWQ=\x07b", "ab"),                                    // OSC 52: write the clipboard
            ("a\x1b]0;title", "a"),                                                // an OSC cut short
            ("a\x1b", "a"),                                                        // a lone ESC at the end
            ("a\x1bPq#0\x1b\\b", "aq#0b"),          // DCS: its introducer and terminator go
            ("a\u{9b}31mb", "a31mb"),               // 8-bit CSI
            ("a\x07\x00\x7fb", "ab"),               // BEL, NUL, DEL
            ("evil\u{202e}txt.exe", "eviltxt.exe"), // right-to-left override
            ("a\u{2066}b\u{2069}c", "abc"),         // isolates
        ] {
            assert_eq!(strip_control(evil), clean, "{evil:?}");
        }
    }
}
