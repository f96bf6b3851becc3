//! The course and the instructor's input, parsed: lab guides (Markdown with
//! ```` ```check ```` blocks), quizzes (mdbook-quiz TOML), the lab
//! parameters and `labcheck.toml`, answers files of scripted quiz runs and
//! how one answer is graded, the cohort roster (CSV), each problem reported
//! at `file:line:col` with the strangers' text in it sanitized.
//! The course comes from the copy embedded in the binary or from a course
//! folder given with `--course-dir`. Nothing here talks to AWS or runs a
//! check: labcheck's checks, reports and commands use what this parses.

pub mod answers;
pub mod csvfile;
pub mod diagnostic;
pub mod embedded;
#[doc(hidden)]
pub mod fuzzing;
pub mod lab;
pub mod params;
pub mod path;
pub mod quiz;
pub mod roster;
pub mod sanitize;
pub mod suggest;
pub mod textfile;

use diagnostic::Diagnostics;
use lab::{Lab, Vocabulary};
use quiz::Quiz;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The default lab, when `--lab` is not given.
pub const DEFAULT_LAB: &str = "deploy-django-eb";

/// Why the course could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CourseError {
    /// A course file has problems.
    #[error("{0}")]
    Invalid(#[from] Diagnostics),
    /// A course file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the operating system reported.
        source: std::io::Error,
    },
    /// No lab has the id asked for.
    #[error("no lab `{id}`; labs in this course: {known}{suggestion}")]
    NoSuchLab {
        /// The id asked for.
        id: String,
        /// `; did you mean …?`, or empty.
        suggestion: String,
        /// The course's lab ids, comma-separated.
        known: String,
    },
    /// A course folder without labs.
    #[error("{0} holds no labs (expected labs/*.md)")]
    Empty(PathBuf),
    /// No quiz has the id asked for.
    #[error("no quiz `{id}`; quizzes in this course: {known}{suggestion}")]
    NoSuchQuiz {
        /// The id asked for.
        id: String,
        /// `; did you mean …?`, or empty.
        suggestion: String,
        /// The course's quiz ids, comma-separated.
        known: String,
    },
}

/// All labs and quizzes of a course, validated.
pub struct Course {
    /// The labs, in the order of their files.
    pub labs: Vec<Lab>,
    /// Quizzes, in the order of [`embedded::QUIZZES`]; a course folder's
    /// other quizzes come after them, by file name.
    pub quizzes: Vec<Quiz>,
}

impl Course {
    /// The course embedded in the binary. `kinds` are the check kinds a
    /// lab may name (those the binary can run).
    pub fn embedded(kinds: &[&str]) -> Result<Course, CourseError> {
        let mut course = Self::from_files(
            embedded::LABS.iter().map(|(p, t)| (p.to_string(), t.to_string())),
            kinds,
        )?;
        course.quizzes =
            Self::quizzes_from_files(embedded::QUIZZES.iter().map(|(p, t)| (p.to_string(), t.to_string())))?;
        Ok(course)
    }

    /// The course in a folder (`DIR/labs/*.md`, `DIR/quizzes/*.toml`).
    pub fn from_dir(dir: &Path, kinds: &[&str]) -> Result<Course, CourseError> {
        let labs_dir = dir.join("labs");
        let read = |path: &Path| {
            crate::textfile::read_capped(path, crate::textfile::COURSE).map_err(|source| CourseError::Read {
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
        let labs = Self::from_files(files.into_iter(), kinds);
        let quizzes = Self::quizzes_from_dir(&dir.join("quizzes"));
        match (labs, quizzes) {
            (Ok(mut course), Ok(quizzes)) => {
                course.quizzes = quizzes;
                Ok(course)
            }
            (Err(CourseError::Invalid(Diagnostics(mut a))), Err(CourseError::Invalid(Diagnostics(b)))) => {
                a.extend(b);
                Err(Diagnostics(a).into())
            }
            (Err(e), _) | (_, Err(e)) => Err(e),
        }
    }

    /// `DIR/quizzes/*.toml`; a course folder without `quizzes/` has no quizzes.
    fn quizzes_from_dir(dir: &Path) -> Result<Vec<Quiz>, CourseError> {
        let read_err = |source| CourseError::Read {
            path: dir.to_path_buf(),
            source,
        };
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(read_err(e)),
        };
        let mut files = Vec::new();
        for entry in entries {
            let path = entry.map_err(read_err)?.path();
            if path.extension().is_some_and(|e| e == "toml") {
                let text = crate::textfile::read_capped(&path, crate::textfile::COURSE).map_err(|source| {
                    CourseError::Read {
                        path: path.clone(),
                        source,
                    }
                })?;
                files.push((path.display().to_string(), text));
            }
        }
        files.sort();
        let mut quizzes = Self::quizzes_from_files(files.into_iter())?;
        // The course's own quizzes in their usual order, any others after them.
        let rank = |id: &str| {
            embedded::QUIZZES
                .iter()
                .position(|(p, _)| Path::new(p).file_stem().is_some_and(|s| s == id))
                .unwrap_or(usize::MAX)
        };
        quizzes.sort_by_key(|q| rank(&q.id));
        Ok(quizzes)
    }

    /// Parses quiz files (path, contents); every problem of every file is reported.
    fn quizzes_from_files(files: impl Iterator<Item = (String, String)>) -> Result<Vec<Quiz>, CourseError> {
        let mut quizzes = Vec::new();
        let mut errors = Vec::new();
        let mut sources = HashMap::new();
        for (path, text) in files {
            let id = Path::new(&path)
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_default();
            match Quiz::parse(&id, &path, &text) {
                Ok(quiz) => quizzes.push(quiz),
                Err(Diagnostics(mut d)) => errors.append(&mut d),
            }
            sources.insert(path, text);
        }
        errors.extend(quiz::check_unique_ids(&quizzes, &sources));
        if errors.is_empty() {
            Ok(quizzes)
        } else {
            Err(Diagnostics(errors).into())
        }
    }

    /// Loads from `dir` when given, else the embedded copy.
    pub fn load(dir: Option<&Path>, kinds: &[&str]) -> Result<Course, CourseError> {
        match dir {
            Some(dir) => Self::from_dir(dir, kinds),
            None => Self::embedded(kinds),
        }
    }

    fn from_files(files: impl Iterator<Item = (String, String)>, kinds: &[&str]) -> Result<Course, CourseError> {
        let params = crate::params::names();
        let is_kind = |k: &str| kinds.contains(&k);
        let vocab = Vocabulary {
            is_kind: &is_kind,
            kinds: kinds.to_vec(),
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
            Ok(Course {
                labs,
                quizzes: Vec::new(),
            })
        } else {
            Err(Diagnostics(errors).into())
        }
    }

    /// The lab with this id, or the default lab when `None`.
    pub fn lab(&self, id: Option<&str>) -> Result<&Lab, CourseError> {
        let id = id.unwrap_or(DEFAULT_LAB);
        self.labs
            .iter()
            .find(|l| l.id == id)
            .ok_or_else(|| CourseError::NoSuchLab {
                id: id.to_string(),
                suggestion: crate::suggest::did_you_mean(id, self.labs.iter().map(|l| l.id.as_str())),
                known: self.labs.iter().map(|l| l.id.as_str()).collect::<Vec<_>>().join(", "),
            })
    }

    /// The quiz with this id.
    pub fn quiz(&self, id: &str) -> Result<&Quiz, CourseError> {
        self.quizzes
            .iter()
            .find(|q| q.id == id)
            .ok_or_else(|| CourseError::NoSuchQuiz {
                id: id.to_string(),
                suggestion: crate::suggest::did_you_mean(id, self.quizzes.iter().map(|q| q.id.as_str())),
                known: self
                    .quizzes
                    .iter()
                    .map(|q| q.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}
