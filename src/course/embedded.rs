//! The course files compiled into the binary, so an installed labcheck works
//! without a checkout. `--course-dir` reads the same files from a folder.

/// Lab files: (path relative to the course root, contents).
pub const LABS: &[(&str, &str)] = &[(
    "labs/deploy-django-eb.md",
    include_str!("../../labs/deploy-django-eb.md"),
)];

/// Quiz files, in the order `labcheck quiz` lists them: the pre-assessment,
/// one per chapter of the book, then the end-of-week knowledge check.
pub const QUIZZES: &[(&str, &str)] = &[
    (
        "quizzes/pre-assessment.toml",
        include_str!("../../quizzes/pre-assessment.toml"),
    ),
    ("quizzes/production.toml", include_str!("../../quizzes/production.toml")),
    ("quizzes/media-s3.toml", include_str!("../../quizzes/media-s3.toml")),
    (
        "quizzes/sessions-cache.toml",
        include_str!("../../quizzes/sessions-cache.toml"),
    ),
    ("quizzes/data-rds.toml", include_str!("../../quizzes/data-rds.toml")),
    ("quizzes/deploy-eb.toml", include_str!("../../quizzes/deploy-eb.toml")),
    (
        "quizzes/security-network.toml",
        include_str!("../../quizzes/security-network.toml"),
    ),
    (
        "quizzes/knowledge-check.toml",
        include_str!("../../quizzes/knowledge-check.toml"),
    ),
];
