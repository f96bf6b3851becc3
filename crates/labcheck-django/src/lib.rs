//! What labcheck reads of a learner's Django project without calling AWS,
//! and the project step's checks that judge it. The reading: where the
//! project is in the source bundle (`layout.rs`), the bundle's files
//! (`files.rs`: capped, with the encodings pip accepts), `requirements.txt`
//! read as pip reads it (`requirements.rs`), the Procfile (`procfile.rs`),
//! `.ebextensions` and how they start the app (`ebextensions.rs`), the
//! settings module read as text (`static_reading.rs`), the runner of the
//! project's programs (`process.rs`: time limits, capped output, nothing
//! outlives a check), the sandbox someone else's code runs in
//! (`isolation.rs`), and the probe's answers kept between runs
//! (`probe_cache.rs`). The checks (`checks.rs`, `checks/`: the probe that
//! runs the project's Python, the settings, static files, the deploy
//! check, `.ebextensions`, requirements) return labcheck-outcome's
//! outcomes and ask their run only what [`run::ProjectRun`] offers, which
//! labcheck implements. This crate depends on no AWS crate, so its tests
//! and fuzz targets build without the SDK.

pub mod checks;
pub mod ebextensions;
pub mod files;
#[doc(hidden)]
pub mod fuzzing;
pub mod isolation;
pub mod layout;
pub mod probe_cache;
pub mod process;
pub mod procfile;
pub mod requirements;
pub mod run;
pub mod static_reading;

use labcheck_course::path::normalize;
use std::path::{Path, PathBuf};

/// `path` relative to `base` when it lies inside it (comparing both the
/// paths as given and their canonical forms, since Python resolves symlinks).
pub fn relative_to(path: &Path, base: &Path) -> Option<PathBuf> {
    let path = normalize(path);
    if let Ok(rel) = path.strip_prefix(normalize(base)) {
        return Some(rel.to_path_buf());
    }
    let base = base.canonicalize().ok()?;
    let path = path.canonicalize().unwrap_or(path);
    path.strip_prefix(base).ok().map(Path::to_path_buf)
}

/// A path for messages: relative to the project when inside it.
pub fn shown(path: &Path, project: &Path) -> String {
    match relative_to(path, project) {
        Some(rel) if rel.as_os_str().is_empty() => ".".to_string(),
        Some(rel) => rel.display().to_string(),
        None => path.display().to_string(),
    }
}

/// `path` made absolute (against the current folder) and normalized.
pub fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        normalize(path)
    } else {
        normalize(&std::env::current_dir().unwrap_or_default().join(path))
    }
}
