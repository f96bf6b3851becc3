//! One input through each parser of outside input, as labcheck reads it:
//! the bodies of the fuzz targets (`fuzz/`, `scripts/fuzz`) and of the test
//! that replays their regression fixtures (`tests/fixtures/fuzz-regressions/`)
//! without a fuzz build. Each panics when the parser panics or when what it
//! would print is out of proportion to the input.

use crate::course::diagnostic::Diagnostics;
use crate::course::lab::{Lab, Vocabulary};
use crate::course::quiz::Quiz;
use crate::params::Params;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

/// One fuzz target's body.
pub type Target = fn(&[u8]);

/// The targets, by name (`fuzz/fuzz_targets/NAME.rs`).
pub const TARGETS: &[(&str, Target)] = &[
    ("lab", lab),
    ("quiz", quiz),
    ("answers", answers),
    ("config", config),
    ("requirements", requirements),
    ("ebextensions", ebextensions),
    ("procfile", procfile),
    ("roster", roster),
];

/// Runs target `name` on `data`; `None` when there is no such target.
pub fn run(name: &str, data: &[u8]) -> Option<()> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| f(data))
}

/// The most one message may print for an input of `len` bytes: some
/// context (a window of the line, the names it could have been) and the
/// input's own names, never a multiple of the input.
fn budget(len: usize) -> usize {
    (64 << 10) + 2 * len
}

/// Panics when one printed message is out of proportion to the input.
fn bounded(what: &str, text: &str, input: usize) {
    let most = budget(input);
    assert!(
        text.len() <= most && text.len() <= 1 << 20,
        "{what}: {} bytes printed for a {input}-byte input (at most {most})",
        text.len()
    );
}

fn diagnostics(d: &Diagnostics, input: usize) {
    for one in &d.0 {
        bounded("a diagnostic", &one.to_string(), input);
    }
    // Every problem is shown up to the cap per file, then counted.
    let all = d.to_string();
    bounded(
        "all diagnostics",
        &all,
        input * (crate::course::diagnostic::MAX_PER_FILE + 1),
    );
}

/// A scratch folder of this process, removed at exit by the OS's tmp cleaning
/// (the fuzzer runs millions of inputs: one folder, overwritten).
fn scratch() -> &'static Path {
    static DIR: LazyLock<tempfile::TempDir> = LazyLock::new(|| {
        tempfile::Builder::new()
            .prefix("labcheck-fuzz-")
            .tempdir()
            .expect("a temp folder")
    });
    DIR.path()
}

/// A fresh, empty folder under the scratch folder.
fn bundle() -> PathBuf {
    let dir = scratch().join("bundle");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    dir
}

fn write(path: &Path, data: &[u8]) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("a scratch folder");
    }
    std::fs::write(path, data).expect("a scratch file");
}

/// A lab guide (Markdown with ```` ```check ```` blocks).
pub fn lab(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (kinds, params) = (crate::checks::kind_ids(), crate::params::names());
    let is_kind = |k: &str| crate::checks::find(k).is_some();
    let vocab = Vocabulary {
        is_kind: &is_kind,
        kinds,
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
                bounded("a prompt", &crate::course::quiz::plain(&q.prompt), data.len());
            }
        }
        Err(d) => diagnostics(&d, data.len()),
    }
}

/// Every question of the embedded quizzes, as one quiz.
static ALL_QUESTIONS: LazyLock<Quiz> = LazyLock::new(|| {
    let course = crate::course::Course::embedded(&crate::checks::kind_ids()).expect("the embedded course");
    let mut all = course.quizzes[0].clone();
    for q in &course.quizzes[1..] {
        all.questions.extend(q.questions.iter().cloned());
    }
    all
});

/// An answers file (`labcheck quiz --answers`), TOML or JSON, against every
/// question of the course.
pub fn answers(data: &[u8]) {
    let path = scratch().join("answers.toml");
    write(&path, data);
    match crate::quiz::answers::load(&path, &ALL_QUESTIONS) {
        Ok(answers) => {
            for q in &ALL_QUESTIONS.questions {
                if let Some(given) = answers.get(&q.id) {
                    crate::quiz::is_correct(q, given);
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

/// `requirements.txt` at the root of a source bundle.
pub fn requirements(data: &[u8]) {
    let dir = bundle();
    write(&dir.join("requirements.txt"), data);
    for message in crate::checks::project::fuzzing::requirements(&dir) {
        bounded("a requirements message", &message, data.len());
    }
}

/// One `.ebextensions/*.config` (YAML) of a source bundle.
pub fn ebextensions(data: &[u8]) {
    let dir = bundle();
    write(&dir.join(".ebextensions/01-fuzz.config"), data);
    for message in crate::checks::project::fuzzing::ebextensions(&dir) {
        bounded("an .ebextensions message", &message, data.len());
    }
}

/// The Procfile of a source bundle.
pub fn procfile(data: &[u8]) {
    let dir = bundle();
    write(&dir.join("Procfile"), data);
    let text = String::from_utf8_lossy(data);
    for message in crate::checks::project::fuzzing::procfile(&text, &dir) {
        bounded("a Procfile message", &message, data.len());
    }
}

/// The cohort roster (CSV).
pub fn roster(data: &[u8]) {
    let path = scratch().join("roster.csv");
    write(&path, data);
    match crate::cohort::roster::load(&path) {
        Ok(roster) => {
            for entry in &roster.learners {
                bounded("a learner", &format!("{entry:?}"), 2 * data.len());
            }
        }
        Err(d) => diagnostics(&d, data.len()),
    }
}
