//! The course files compiled into the binary, so an installed labcheck works
//! without a checkout. `--course-dir` reads the same files from a folder.

use crate::lab::{COMMAND_KIND, Lab, Vocabulary};
use std::sync::LazyLock;

/// Lab files: (path relative to the course root, contents).
pub const LABS: &[(&str, &str)] = &[(
    "labs/deploy-django-eb.md",
    include_str!("../../../labs/deploy-django-eb.md"),
)];

/// Quiz files, in the order `labcheck quiz` lists them: the order the book
/// places them (the pre-assessment, one per chapter, then the end-of-week
/// knowledge check). Each file holds its own title; the tests below fail when
/// this list misses a file of `quizzes/` or leaves the book's order.
pub const QUIZZES: &[(&str, &str)] = &[
    (
        "quizzes/pre-assessment.toml",
        include_str!("../../../quizzes/pre-assessment.toml"),
    ),
    (
        "quizzes/production.toml",
        include_str!("../../../quizzes/production.toml"),
    ),
    ("quizzes/media-s3.toml", include_str!("../../../quizzes/media-s3.toml")),
    (
        "quizzes/sessions-cache.toml",
        include_str!("../../../quizzes/sessions-cache.toml"),
    ),
    ("quizzes/data-rds.toml", include_str!("../../../quizzes/data-rds.toml")),
    (
        "quizzes/deploy-eb.toml",
        include_str!("../../../quizzes/deploy-eb.toml"),
    ),
    (
        "quizzes/security-network.toml",
        include_str!("../../../quizzes/security-network.toml"),
    ),
    (
        "quizzes/knowledge-check.toml",
        include_str!("../../../quizzes/knowledge-check.toml"),
    ),
];

/// The check kinds this crate knows of without labcheck's checks: those the
/// embedded labs name, in the order they first appear (read with a
/// vocabulary that accepts any kind), then [`COMMAND_KIND`], which the lab
/// format defines and the course's own labs do not use. The vocabulary of
/// the lab fuzz target; labcheck holds it equal to its list of kinds with a
/// test.
pub fn check_kinds() -> Vec<&'static str> {
    static KINDS: LazyLock<Vec<String>> = LazyLock::new(|| {
        let params = crate::params::names();
        let any = |_: &str| true;
        let vocab = Vocabulary {
            is_kind: &any,
            kinds: Vec::new(),
            params: &params,
        };
        let labs: Vec<Lab> = LABS
            .iter()
            .map(|(path, text)| Lab::parse("embedded", path, text, &vocab).expect("the embedded labs parse"))
            .collect();
        let lab_kinds = labs.iter().flat_map(|l| l.checks().map(|(_, c)| c.kind.clone()));
        let mut kinds: Vec<String> = Vec::new();
        for kind in lab_kinds.chain(std::iter::once(COMMAND_KIND.to_string())) {
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        kinds
    });
    KINDS.iter().map(String::as_str).collect()
}

#[cfg(test)]
mod tests {
    //! The embedded list is the one list of quiz files the code keeps (the
    //! compiler needs each path); these tests fail when it drifts from the
    //! course folder or from the book.

    use std::path::Path;

    /// The checkout's root, which holds `labs/`, `quizzes/` and `book/`.
    fn root() -> &'static Path {
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
    }

    fn stem(path: &str) -> &str {
        Path::new(path)
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("a file name")
    }

    #[test]
    fn every_quiz_file_is_embedded() {
        let mut on_disk: Vec<String> = std::fs::read_dir(root().join("quizzes"))
            .expect("quizzes/")
            .map(|e| e.expect("an entry").file_name().to_string_lossy().to_string())
            .filter(|name| name.ends_with(".toml"))
            .map(|name| format!("quizzes/{name}"))
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = super::QUIZZES.iter().map(|(p, _)| p.to_string()).collect();
        embedded.sort();
        assert_eq!(
            embedded, on_disk,
            "crates/labcheck-course/src/embedded.rs lists every quizzes/*.toml, and only them"
        );
    }

    #[test]
    fn quizzes_come_in_the_order_of_the_book() {
        // The pages in SUMMARY.md order, each with the quizzes its source places.
        let summary = std::fs::read_to_string(root().join("book/src/SUMMARY.md")).expect("SUMMARY.md");
        let mut in_book = Vec::new();
        for line in summary.lines() {
            let Some(page) = line.split("](").nth(1).and_then(|rest| rest.split(')').next()) else {
                continue;
            };
            let Ok(source) = std::fs::read_to_string(root().join("book/src").join(page)) else {
                continue;
            };
            for (at, _) in source.match_indices("{{#quiz ") {
                // Written in code (`{{#quiz ...}}`), it is shown, not placed.
                if source[..at].ends_with('`') {
                    continue;
                }
                let directive = &source[at + "{{#quiz ".len()..];
                let path = directive.split("}}").next().expect("a closed directive").trim();
                in_book.push(stem(path).to_string());
            }
        }
        let embedded: Vec<&str> = super::QUIZZES.iter().map(|(p, _)| stem(p)).collect();
        assert_eq!(
            embedded, in_book,
            "`labcheck quiz` lists the quizzes in the order the book places them, once each"
        );
    }

    #[test]
    fn every_course_quiz_writes_its_title() {
        for (path, text) in super::QUIZZES {
            let doc: toml::Table = text.parse().expect("valid TOML");
            let title = doc.get("title").and_then(|t| t.as_str());
            assert!(
                title.is_some_and(|t| !t.trim().is_empty()),
                "{path} has no `title`: the quiz file is where its title lives"
            );
        }
    }
}
