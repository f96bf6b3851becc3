//! The course: lab files (and, later, quizzes), from the copy embedded in the
//! binary or from a course folder given with `--course-dir`.

pub mod diagnostic;
pub mod embedded;
pub mod lab;

use diagnostic::Diagnostics;
use lab::{Lab, Vocabulary};
use std::path::{Path, PathBuf};

/// The default lab, when `--lab` is not given.
pub const DEFAULT_LAB: &str = "deploy-django-eb";

/// Why the course could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CourseError {
    #[error("{0}")]
    Invalid(#[from] Diagnostics),
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("no lab `{id}`; labs in this course: {known}")]
    NoSuchLab { id: String, known: String },
    #[error("{0} holds no labs (expected labs/*.md)")]
    Empty(PathBuf),
}

/// All labs of a course, validated.
pub struct Course {
    pub labs: Vec<Lab>,
}

fn vocabulary() -> (Vec<&'static str>, Vec<&'static str>) {
    (crate::checks::kind_ids(), crate::params::names())
}

impl Course {
    /// The course embedded in the binary.
    pub fn embedded() -> Result<Course, CourseError> {
        Self::from_files(embedded::LABS.iter().map(|(p, t)| (p.to_string(), t.to_string())))
    }

    /// The course in a folder (`DIR/labs/*.md`).
    pub fn from_dir(dir: &Path) -> Result<Course, CourseError> {
        let labs_dir = dir.join("labs");
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|source| CourseError::Read {
                path: path.to_path_buf(),
                source,
            })
        };
        let mut files = Vec::new();
        let entries = std::fs::read_dir(&labs_dir).map_err(|source| CourseError::Read {
            path: labs_dir.clone(),
            source,
        })?;
        for entry in entries {
            let path = entry
                .map_err(|source| CourseError::Read {
                    path: labs_dir.clone(),
                    source,
                })?
                .path();
            if path.extension().is_some_and(|e| e == "md") {
                files.push((path.display().to_string(), read(&path)?));
            }
        }
        if files.is_empty() {
            return Err(CourseError::Empty(dir.to_path_buf()));
        }
        files.sort();
        Self::from_files(files.into_iter())
    }

    /// Loads from `dir` when given, else the embedded copy.
    pub fn load(dir: Option<&Path>) -> Result<Course, CourseError> {
        match dir {
            Some(dir) => Self::from_dir(dir),
            None => Self::embedded(),
        }
    }

    fn from_files(files: impl Iterator<Item = (String, String)>) -> Result<Course, CourseError> {
        let (kinds, params) = vocabulary();
        let is_kind = |k: &str| crate::checks::find(k).is_some();
        let vocab = Vocabulary {
            is_kind: &is_kind,
            kinds,
            params: &params,
        };
        let mut labs = Vec::new();
        let mut errors = Vec::new();
        for (path, text) in files {
            let id = Path::new(&path)
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_default();
            match Lab::parse(&id, &path, &text, &vocab) {
                Ok(lab) => labs.push(lab),
                Err(Diagnostics(mut d)) => errors.append(&mut d),
            }
        }
        if errors.is_empty() {
            Ok(Course { labs })
        } else {
            Err(Diagnostics(errors).into())
        }
    }

    pub fn lab(&self, id: Option<&str>) -> Result<&Lab, CourseError> {
        let id = id.unwrap_or(DEFAULT_LAB);
        self.labs
            .iter()
            .find(|l| l.id == id)
            .ok_or_else(|| CourseError::NoSuchLab {
                id: id.to_string(),
                known: self.labs.iter().map(|l| l.id.as_str()).collect::<Vec<_>>().join(", "),
            })
    }
}
