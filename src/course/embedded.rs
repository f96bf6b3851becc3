//! The course files compiled into the binary, so an installed labcheck works
//! without a checkout. `--course-dir` reads the same files from a folder.

/// Lab files: (path relative to the course root, contents).
pub const LABS: &[(&str, &str)] = &[(
    "labs/deploy-django-eb.md",
    include_str!("../../labs/deploy-django-eb.md"),
)];
