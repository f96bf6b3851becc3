//! `project.requirements`: the verdict on `requirements.txt` (read and
//! judged in labcheck-django's `requirements.rs`), as the check reports it.

use super::files::ReadError;
use super::layout;
use super::requirements::{Kind, PLATFORM_PYTHON, Parsed, judge, parse_file};
use crate::run::ProjectRun;
use labcheck_outcome::outcome::{CheckResult, Outcome};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;

/// Problems named in the check's message; the rest are counted.
const MAX_LISTED: usize = 10;
/// Entries of each list in the evidence.
const MAX_EVIDENCE: usize = 200;
/// Characters of one problem (it may quote a huge line).
const MAX_PROBLEM: usize = 300;

fn clip(text: &str) -> String {
    match text.char_indices().nth(MAX_PROBLEM) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// Grades the project of `acc`'s run.
pub async fn check(acc: Arc<dyn ProjectRun>) -> CheckResult {
    let l = layout(&*acc).await;
    let file = l.bundle.join("requirements.txt");
    if !file.exists() {
        let elsewhere = l
            .django
            .as_ref()
            .filter(|d| **d != l.bundle && d.join("requirements.txt").is_file());
        let message = match elsewhere {
            Some(d) => format!(
                "no requirements.txt at the root of the source bundle {}: the one in {}/ is not read, since Beanstalk installs only the bundle root's",
                l.bundle.display(),
                super::shown(d, &l.bundle)
            ),
            None => format!("no requirements.txt in {}", l.bundle.display()),
        };
        return Ok(Outcome::fail(message).hint(
            "Create it from the project's virtual environment with pip freeze > requirements.txt, at the root of the source bundle (next to .ebextensions); if labcheck looks in the wrong folder, set project_dir.",
        ));
    }
    let shown = |p: &Path| super::shown(p, &l.bundle);
    let mut parsed = Parsed::default();
    if let Err(e) = parse_file(
        &file,
        &shown,
        &l.bundle,
        &mut parsed,
        &mut Vec::new(),
        Kind::Requirements,
    ) {
        return Ok(match e {
            ReadError::NotText => Outcome::fail(format!(
                "requirements.txt is {e}, so pip on the instances cannot read it"
            ))
            .hint("Save it as UTF-8: pip freeze | Out-File -Encoding utf8 requirements.txt in PowerShell, or pip freeze > requirements.txt in a Linux or macOS shell."),
            e => Outcome::error(format!("cannot read {}: {e}", file.display())),
        });
    }
    let v = judge(&parsed);
    // A file of a million lines must not make a report of a million lines:
    // the evidence lists the first MAX_EVIDENCE of each kind, the message the
    // first MAX_LISTED problems, each cut to MAX_PROBLEM characters.
    let first = |items: &[String]| -> Vec<String> { items.iter().take(MAX_EVIDENCE).map(|p| clip(p)).collect() };
    let evidence = json!({
        "bundle": l.bundle.display().to_string(),
        "files": parsed.files,
        "encodings": parsed.encodings,
        "platform_python": PLATFORM_PYTHON,
        "requirements": parsed.reqs.iter().take(MAX_EVIDENCE).map(|r| json!({
            "name": clip(&r.name), "file": r.file, "line": r.line, "pinned": r.pinned.as_deref().map(clip),
            "spec": clip(&r.spec), "marker": r.marker.as_deref().map(clip), "skipped_on_platform": r.skipped,
        })).collect::<Vec<_>>(),
        "requirements_count": parsed.reqs.len(),
        "missing": v.missing,
        "problems": first(&v.problems),
        "problems_count": v.problems.len(),
        "ignored": first(&parsed.ignored),
        "ignored_count": parsed.ignored.len(),
        "notes": first(&v.notes),
    });
    let mut notes = v.notes.clone();
    notes.extend(parsed.encodings.iter().map(|e| format!("{e}, which pip reads")));
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!(" (note: {})", notes.join("; "))
    };
    if v.missing.is_empty() && v.problems.is_empty() {
        let files = if parsed.files.len() > 1 {
            format!("{} (with {})", parsed.files[0], parsed.files[1..].join(", "))
        } else {
            "requirements.txt".to_string()
        };
        return Ok(Outcome::pass(format!(
            "{files} pins what the app needs ({}) and leaves out awsebcli{notes}",
            v.pinned.join(", ")
        ))
        .evidence(evidence));
    }
    let mut parts = Vec::new();
    if !v.missing.is_empty() {
        parts.push(format!("requirements.txt does not list {}", v.missing.join(", ")));
    }
    parts.extend(v.problems.iter().take(MAX_LISTED).map(|p| clip(p)));
    if v.problems.len() > MAX_LISTED {
        parts.push(format!("and {} more problems", v.problems.len() - MAX_LISTED));
    }
    Ok(Outcome::fail(format!("{}{notes}", parts.join("; "))).evidence(evidence))
}
