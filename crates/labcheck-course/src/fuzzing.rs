//! One input through each parser of course and instructor input, as
//! labcheck reads it: the bodies of the fuzz targets `lab`, `quiz`,
//! `answers`, `config` and `roster` (`fuzz/`, `scripts/fuzz`) and of the
//! test that replays their regression fixtures without a fuzz build. Each
//! panics when the parser panics or when what it would print is out of
//! proportion to the input. The helpers that bound what is printed and the
//! scratch folder are shared with the project's targets (labcheck-django),
//! whose table lists every target.

use crate::diagnostic::Diagnostics;
use crate::embedded::check_kinds;
use crate::lab::{Lab, Vocabulary};
use crate::params::Params;
use crate::quiz::Quiz;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

/// One fuzz target's body.
pub type Target = fn(&[u8]);

/// The most one message may print for an input of `len` bytes: some
/// context (a window of the line, the names it could have been) and the
/// input's own names, never a multiple of the input.
fn budget(len: usize) -> usize {
    (64 << 10) + 2 * len
}

/// Panics when one printed message is out of proportion to the input.
pub fn bounded(what: &str, text: &str, input: usize) {
    let most = budget(input);
    assert!(
        text.len() <= most && text.len() <= 1 << 20,
        "{what}: {} bytes printed for a {input}-byte input (at most {most})",
        text.len()
    );
}

/// Panics when a diagnostic, or all of them, are out of proportion to the input.
pub fn diagnostics(d: &Diagnostics, input: usize) {
    for one in &d.0 {
        bounded("a diagnostic", &one.to_string(), input);
    }
    // Every problem is shown up to the cap per file, then counted.
    let all = d.to_string();
    bounded("all diagnostics", &all, input * (crate::diagnostic::MAX_PER_FILE + 1));
}

/// A scratch folder of this process, removed at exit by the OS's tmp cleaning
/// (the fuzzer runs millions of inputs: one folder, overwritten).
pub fn scratch() -> &'static Path {
    static DIR: LazyLock<tempfile::TempDir> = LazyLock::new(|| {
        tempfile::Builder::new()
            .prefix("labcheck-fuzz-")
            .tempdir()
            .expect("a temp folder")
    });
    DIR.path()
}

/// A fresh, empty folder under the scratch folder.
pub fn bundle() -> PathBuf {
    let dir = scratch().join("bundle");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    dir
}

/// Writes `data` to `path` under the scratch folder, making its folders.
pub fn write(path: &Path, data: &[u8]) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("a scratch folder");
    }
    std::fs::write(path, data).expect("a scratch file");
}

/// A lab guide (Markdown with ```` ```check ```` blocks), with the check
/// kinds the course's own labs name as the kinds that exist.
pub fn lab(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let kinds = check_kinds();
    let params = crate::params::names();
    let is_kind = |k: &str| kinds.contains(&k);
    let vocab = Vocabulary {
        is_kind: &is_kind,
        kinds: kinds.clone(),
        params: &params,
    };
    match Lab::parse("fuzz", "labs/fuzz.md", text, &vocab) {
        Ok(lab) => {
            for (step, check) in lab.checks() {
                bounded(
                    "a check",
                    &format!("{} {} {}", step.title, check.title, check.hint),
                    data.len(),
                );
            }
        }
        Err(d) => diagnostics(&d, data.len()),
    }
}

/// A quiz file (mdbook-quiz TOML).
pub fn quiz(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match Quiz::parse("fuzz", "quizzes/fuzz.toml", text) {
        Ok(quiz) => {
            for q in &quiz.questions {
                bounded("a prompt", &crate::quiz::plain(&q.prompt), data.len());
            }
        }
        Err(d) => diagnostics(&d, data.len()),
    }
}

/// Every question of the embedded quizzes, as one quiz.
static ALL_QUESTIONS: LazyLock<Quiz> = LazyLock::new(|| {
    let course = crate::Course::embedded(&check_kinds()).expect("the embedded course");
    let mut all = course.quizzes[0].clone();
    for q in &course.quizzes[1..] {
        all.questions.extend(q.questions.iter().cloned());
    }
    all
});

/// An answers file (`labcheck quiz --answers`), TOML or JSON, against every
/// question of the course, each answer graded.
pub fn answers(data: &[u8]) {
    let path = scratch().join("answers.toml");
    write(&path, data);
    match crate::answers::load(&path, &ALL_QUESTIONS) {
        Ok(answers) => {
            for q in &ALL_QUESTIONS.questions {
                if let Some(given) = answers.get(&q.id) {
                    crate::answers::is_correct(q, given);
                }
            }
        }
        Err(e) => bounded("an answers error", &e.to_string(), data.len()),
    }
}

/// `labcheck.toml`, then `--set NAME=VALUE` pairs: the input up to its
/// first NUL byte is the file, each line after it one `--set`.
pub fn config(data: &[u8]) {
    let (file, sets) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let path = scratch().join("labcheck.toml");
    write(&path, file);
    let sets: Vec<String> = String::from_utf8_lossy(sets).lines().map(str::to_string).collect();
    match Params::gather(Some(&path), &sets, &|_| None) {
        Ok(mut params) => {
            params.fill_defaults();
            let shown = params.expand("{bucket} {eb_env} {eb_app} {region} {project_dir}");
            bounded("an expansion", &shown, data.len());
            for (name, value, source) in params.public() {
                bounded("a parameter", &format!("{name}={value} ({source})"), data.len());
            }
        }
        Err(e) => bounded("a config error", &e.to_string(), data.len()),
    }
}

/// The cohort roster (CSV).
pub fn roster(data: &[u8]) {
    let path = scratch().join("roster.csv");
    write(&path, data);
    match crate::roster::load(&path) {
        Ok(roster) => {
            for entry in &roster.learners {
                bounded("a learner", &format!("{entry:?}"), 2 * data.len());
            }
        }
        Err(d) => diagnostics(&d, data.len()),
    }
}
