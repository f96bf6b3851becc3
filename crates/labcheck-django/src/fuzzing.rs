//! The fuzz targets, all of them in one table ([`TARGETS`]): the course's
//! (`labcheck_course::fuzzing`) and the project's, whose bodies are here.
//! Each project body writes its input into a bundle folder and runs the
//! project step's parsers on it as the checks read it, without the probe
//! (the learner's Python) or an account, then bounds every message a report
//! could show. The fuzz targets (`fuzz/`, `scripts/fuzz`) and the test that
//! replays their regression fixtures run these bodies.

use labcheck_course::fuzzing::{self as course, bounded, bundle, write};
use std::path::Path;

pub use labcheck_course::fuzzing::Target;

/// Every fuzz target, by name (`fuzz/fuzz_targets/NAME.rs`).
pub const TARGETS: &[(&str, Target)] = &[
    ("lab", course::lab),
    ("quiz", course::quiz),
    ("answers", course::answers),
    ("config", course::config),
    ("requirements", requirements),
    ("ebextensions", ebextensions),
    ("procfile", procfile),
    ("roster", course::roster),
];

/// Runs target `name` on `data`; `None` when there is no such target.
pub fn run(name: &str, data: &[u8]) -> Option<()> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| f(data))
}

/// `requirements.txt` at the root of a source bundle.
pub fn requirements(data: &[u8]) {
    let dir = bundle();
    write(&dir.join("requirements.txt"), data);
    for message in requirements_messages(&dir) {
        bounded("a requirements message", &message, data.len());
    }
}

/// One `.ebextensions/*.config` (YAML) of a source bundle.
pub fn ebextensions(data: &[u8]) {
    let dir = bundle();
    write(&dir.join(".ebextensions/01-fuzz.config"), data);
    for message in ebextensions_messages(&dir) {
        bounded("an .ebextensions message", &message, data.len());
    }
}

/// The Procfile of a source bundle.
pub fn procfile(data: &[u8]) {
    let dir = bundle();
    write(&dir.join("Procfile"), data);
    let text = String::from_utf8_lossy(data);
    for message in procfile_messages(&text, &dir) {
        bounded("a Procfile message", &message, data.len());
    }
}

/// `requirements.txt` in `bundle` (and what it includes), then the verdict.
fn requirements_messages(bundle: &Path) -> Vec<String> {
    let mut parsed = crate::requirements::Parsed::default();
    let shown = |p: &Path| crate::shown(p, bundle);
    let read = crate::requirements::parse_file(
        &bundle.join("requirements.txt"),
        &shown,
        bundle,
        &mut parsed,
        &mut Vec::new(),
        crate::requirements::Kind::Requirements,
    );
    let v = crate::requirements::judge(&parsed);
    let mut out: Vec<String> = read.err().map(|e| e.to_string()).into_iter().collect();
    for r in parsed.reqs.iter().chain(&parsed.constraints) {
        out.push(format!(
            "{}:{}: {} {} {:?} {:?}",
            r.file, r.line, r.written, r.spec, r.pinned, r.marker
        ));
    }
    out.extend(parsed.ignored);
    out.extend(parsed.encodings);
    out.extend(v.problems.into_iter().chain(v.missing).chain(v.pinned).chain(v.notes));
    out
}

/// Every `.ebextensions/*.config` of `bundle`, then what the checks ask of them.
fn ebextensions_messages(bundle: &Path) -> Vec<String> {
    let c = crate::ebextensions::read_configs(bundle);
    let layout = crate::layout::find(bundle);
    let mut out = c.errors.clone();
    out.extend(c.ignored.iter().cloned());
    out.extend(c.unreadable.iter().cloned());
    for s in &c.settings {
        out.push(format!("{}: {}:{} = {}", s.at(), s.namespace, s.name, s.value));
    }
    for cmd in &c.commands {
        out.push(format!("{}: {}", cmd.at(), cmd.command));
    }
    out.extend(c.env().iter().map(|s| s.at()));
    out.extend(c.python_path().iter().map(|p| p.display().to_string()));
    out.extend(c.collectstatic().map(|c| c.at()));
    if let Some((path, at)) = crate::ebextensions::wsgi_file(&layout, &c) {
        out.push(format!("{}: {at}", path.display()));
    }
    out
}

/// The `web` process of a Procfile's text, and of the Procfile in `bundle`.
fn procfile_messages(text: &str, bundle: &Path) -> Vec<String> {
    let web = |w: crate::procfile::Web| {
        let bases: Vec<String> = w.bases.iter().map(|b| b.display().to_string()).collect();
        format!(
            "{}: {} ({}; {:?}; {bases:?}; {:?})",
            w.at, w.command, w.server, w.app, w.unread
        )
    };
    let mut out: Vec<String> = crate::procfile::parse(text).map(web).into_iter().collect();
    match crate::procfile::read(bundle) {
        Ok(w) => out.extend(w.map(web)),
        Err(e) => out.push(e),
    }
    out
}
