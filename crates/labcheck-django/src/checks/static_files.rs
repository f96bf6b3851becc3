//! `project.static`: the static files the site needs reach the instances.
//! They do when collectstatic runs on each deployment (a container command
//! or a platform hook), when an S3 storage takes them (collectstatic
//! uploads them), or when STATIC_ROOT, inside the source bundle, already
//! holds every file collectstatic gathers (what the probe listed through
//! Django's finders, without writing anything).

use super::configs;
use super::files::{MAX_FILE, read_text};
use super::layout;
use super::probe::{Probe, probe};
use super::{relative_to, shown, with_fix};
use crate::run::ProjectRun;
use labcheck_outcome::outcome::{CheckResult, Outcome};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

/// Files under `root`, as paths relative to it (bounded).
fn files_under(root: &Path, limit: usize) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries.flatten() {
            let Ok(kind) = e.file_type() else { continue };
            let path = e.path();
            if kind.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(root) {
                out.insert(rel.to_string_lossy().replace('\\', "/"));
                if out.len() >= limit {
                    return out;
                }
            }
        }
    }
    out
}

/// The rules of a Makefile: target → (prerequisites, recipe lines).
fn make_rules(text: &str) -> BTreeMap<String, (Vec<String>, Vec<String>)> {
    let mut rules: BTreeMap<String, (Vec<String>, Vec<String>)> = BTreeMap::new();
    let mut current: Vec<String> = Vec::new();
    for line in text.lines() {
        if let Some(recipe) = line.strip_prefix('\t') {
            for t in &current {
                rules.entry(t.clone()).or_default().1.push(recipe.to_string());
            }
            continue;
        }
        current.clear();
        let line = line.split('#').next().unwrap_or("");
        let Some((targets, prereqs)) = line.split_once(':') else {
            continue;
        };
        // Not a rule: an assignment (`X := y`, `X ?= y`) or a conditional.
        if prereqs.starts_with('=') || targets.contains('=') || targets.trim().is_empty() {
            continue;
        }
        let prereqs: Vec<String> = prereqs.split_whitespace().map(str::to_string).collect();
        for t in targets.split_whitespace() {
            rules.entry(t.to_string()).or_default().0.extend(prereqs.clone());
            current.push(t.to_string());
        }
    }
    rules
}

/// Whether `make TARGET` runs collectstatic with these rules: through its
/// recipe, its prerequisites, `$(MAKE) OTHER` in the recipe, or a pattern
/// rule such as `%: %-default` (what generated Makefiles use for
/// overridable targets).
fn make_target_collects(rules: &BTreeMap<String, (Vec<String>, Vec<String>)>, target: &str, depth: usize) -> bool {
    if depth > 8 {
        return false;
    }
    let rule = rules.get(target);
    let mut next: Vec<String> = Vec::new();
    match rule {
        Some((prereqs, recipe)) => {
            if recipe.iter().any(|l| l.contains("collectstatic")) {
                return true;
            }
            next.extend(prereqs.iter().cloned());
            for l in recipe {
                let words: Vec<&str> = l.split_whitespace().collect();
                for (i, w) in words.iter().enumerate() {
                    if matches!(*w, "$(MAKE)" | "${MAKE}" | "make") {
                        next.extend(
                            words[i + 1..]
                                .iter()
                                .take_while(|w| !matches!(**w, ";" | "&&" | "||"))
                                .filter(|w| !w.starts_with('-') && !w.contains('='))
                                .map(|w| w.to_string()),
                        );
                    }
                }
            }
        }
        None => {
            // A pattern rule `%: %SUFFIX` stands for `TARGET: TARGETSUFFIX`.
            for (pattern, (prereqs, _)) in rules {
                if pattern == "%" {
                    next.extend(
                        prereqs
                            .iter()
                            .filter_map(|p| p.strip_prefix('%'))
                            .map(|sfx| format!("{target}{sfx}")),
                    );
                }
            }
        }
    }
    next.iter()
        .any(|t| t != target && make_target_collects(rules, t, depth + 1))
}

/// Whether a hook's line runs collectstatic through the bundle's Makefile
/// (`make static`).
fn make_runs_collectstatic(bundle: &Path, line: &str) -> bool {
    let words: Vec<&str> = line.split_whitespace().collect();
    let Some(at) = words.iter().position(|w| *w == "make" || w.ends_with("/make")) else {
        return false;
    };
    let targets: Vec<&str> = words[at + 1..]
        .iter()
        .take_while(|w| !matches!(**w, ";" | "&&" | "||" | "|"))
        .filter(|w| !w.starts_with('-') && !w.contains('='))
        .copied()
        .collect();
    let Ok(text) = read_text(&bundle.join("Makefile"), MAX_FILE) else {
        return false;
    };
    let rules = make_rules(&text.text);
    let targets = if targets.is_empty() {
        // The first rule that is not a pattern or a special target.
        text.text
            .lines()
            .filter(|l| !l.starts_with('\t'))
            .filter_map(|l| l.split_once(':').map(|(t, _)| t.trim()))
            .find(|t| !t.is_empty() && !t.contains(['%', '.', '=', '$', ' ']))
            .into_iter()
            .collect()
    } else {
        targets
    };
    targets.iter().any(|t| make_target_collects(&rules, t, 0))
}

/// A platform hook (`.platform/hooks/*/`, `.platform/confighooks/*/`) that
/// runs collectstatic, itself or through `make`, as `file:line`.
fn hook_with_collectstatic(bundle: &Path) -> Option<String> {
    for kind in ["hooks", "confighooks"] {
        for stage in ["prebuild", "predeploy", "postdeploy"] {
            let dir = bundle.join(".platform").join(kind).join(stage);
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            let mut files: Vec<_> = entries.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect();
            files.sort();
            for f in files.into_iter().take(50) {
                let Ok(text) = read_text(&f, MAX_FILE) else { continue };
                if let Some(n) = text.text.lines().position(|l| {
                    !l.trim_start().starts_with('#')
                        && (l.contains("collectstatic") || make_runs_collectstatic(bundle, l))
                }) {
                    return Some(format!("{}:{}", shown(&f, bundle), n + 1));
                }
            }
        }
    }
    None
}

fn fix_for(p: &Probe) -> String {
    let prefix = p.dsm_prefix();
    format!(
        "cd {} && {prefix}python manage.py collectstatic --noinput",
        p.django().display()
    )
}

/// Grades the project of `acc`'s run.
pub async fn check(acc: Arc<dyn ProjectRun>) -> CheckResult {
    let outcome = judge(&*acc).await?;
    Ok(super::probe::on_its_word(&*acc, outcome).await)
}

async fn judge(acc: &dyn ProjectRun) -> CheckResult {
    let l = layout(acc).await;
    let c = configs(acc).await;
    let p = match probe(acc).await {
        Ok(p) => p,
        Err(t) => return Ok(t.outcome()),
    };
    let fix = fix_for(&p);
    let s = match p.settings() {
        Ok(s) => s,
        Err(t) => return Ok(with_fix(t.outcome(), &fix)),
    };
    let st = &s.staticfiles_storage;
    let at_deploy = c
        .collectstatic()
        .map(|cmd| format!("{} ({})", cmd.at(), cmd.name))
        .or_else(|| hook_with_collectstatic(&l.bundle));
    // collectstatic under `commands:` runs before the bundle is extracted.
    let too_early = c.collectstatic_too_early().map(|cmd| {
        format!(
            " ({} ({}) runs it under commands:, which run before the bundle is extracted, outside the app's folder: it belongs under container_commands)",
            cmd.at(),
            cmd.name
        )
    });
    let too_early = too_early.as_deref().unwrap_or("");
    if st.is_s3 == Some(true) {
        let when = match &at_deploy {
            Some(at) => format!("collectstatic runs on each deployment ({at}) and uploads them"),
            None => format!(
                "collectstatic uploads them when it runs; labcheck cannot see the bucket from here, eb.static checks them on the site{too_early}"
            ),
        };
        return Ok(Outcome::pass(format!(
            "static files go to S3 ({} is {}): {when}",
            st.source,
            st.backend.as_deref().unwrap_or("")
        ))
        .evidence(json!({"staticfiles_storage": st, "collectstatic_at_deploy": at_deploy})));
    }
    if st.is_s3.is_none()
        && let Some(e) = &st.error
    {
        // Its class did not import here: saying "not S3" would be a guess.
        return Ok(with_fix(
            Outcome::error(format!(
                "{} {} could not be imported here ({}: {}): labcheck cannot tell whether collectstatic sends the static files to S3",
                st.source,
                st.backend.as_deref().unwrap_or(""),
                e.kind,
                e.message.lines().next().unwrap_or("")
            ))
            .hint("Run python manage.py collectstatic --dry-run --noinput in the Django folder, with the servers' variables set, to see the error."),
            &fix,
        ));
    }
    let Some(root) = p.static_root() else {
        return Ok(with_fix(
            Outcome::fail("STATIC_ROOT is not set: collectstatic has nowhere to gather the files")
                .hint("Name the folder in settings.py, STATIC_ROOT = BASE_DIR / \"static\", then run python manage.py collectstatic --noinput."),
            &fix,
        ));
    };
    let inside = relative_to(&root, &l.bundle);
    let name = match &inside {
        Some(_) => format!("{}/", shown(&root, &l.bundle)),
        None => root.display().to_string(),
    };
    if let Some(at) = &at_deploy {
        return Ok(Outcome::pass(format!(
            "collectstatic runs on each deployment ({at}), filling STATIC_ROOT {name} on the instances"
        ))
        .evidence(json!({"static_root": root.display().to_string(), "collectstatic_at_deploy": at})));
    }
    if inside.is_none() {
        return Ok(with_fix(
            Outcome::fail(format!(
                "STATIC_ROOT {name} is outside the source bundle {}, and nothing runs collectstatic on deployment: the instances get no static files",
                l.bundle.display()
            ))
            .hint("Set STATIC_ROOT to a folder of the project (BASE_DIR / \"static\"), or run collectstatic on each deployment with a container command in .ebextensions."),
            &fix,
        ));
    }
    if !root.is_dir() {
        return Ok(with_fix(
            Outcome::fail(format!(
                "STATIC_ROOT {name} does not exist: collectstatic has not run, and no container command runs it on deployment{too_early}"
            ))
            .evidence(json!({"static_root": root.display().to_string()})),
            &fix,
        ));
    }
    let expected = match (&p.out.static_sources, p.setup()) {
        (_, Err(t)) => return Ok(with_fix(t.outcome(), &fix)),
        (Some(list), Ok(())) => Some(list),
        (None, Ok(())) => None,
    };
    let present = files_under(&root, 200_000);
    let admin = s.installed_apps.iter().any(|a| a == "django.contrib.admin");
    let evidence = |missing: &[&String]| {
        json!({
            "static_root": root.display().to_string(),
            "files": present.len(),
            "expected": expected.map(Vec::len),
            "missing": missing.iter().take(20).collect::<Vec<_>>(),
            "finders_error": p.out.static_error,
        })
    };
    if let Some(expected) = expected {
        let missing: Vec<&String> = expected.iter().filter(|f| !present.contains(*f)).collect();
        if !missing.is_empty() {
            let sample: Vec<&str> = missing.iter().take(5).map(|s| s.as_str()).collect();
            let more = if missing.len() > sample.len() { ", ..." } else { "" };
            return Ok(with_fix(
                Outcome::fail(format!(
                    "STATIC_ROOT {name} holds {} files, but {} of the {} files collectstatic gathers are missing: {}{more}",
                    present.len(),
                    missing.len(),
                    expected.len(),
                    sample.join(", ")
                ))
                .evidence(evidence(&missing)),
                &fix,
            ));
        }
        if !expected.is_empty() {
            let admin_note = if admin && present.contains("admin/css/base.css") {
                " (admin/css/base.css among them)"
            } else {
                ""
            };
            return Ok(Outcome::pass(format!(
                "STATIC_ROOT {name} holds {} files, every one of the {} files collectstatic gathers{admin_note}",
                present.len(),
                expected.len()
            ))
            .evidence(evidence(&[])));
        }
    }
    // The finders could not be listed: judge by the admin's stylesheet.
    if admin && !present.contains("admin/css/base.css") {
        return Ok(with_fix(
            Outcome::fail(format!(
                "STATIC_ROOT {name} holds {} files, but not the admin's admin/css/base.css",
                present.len()
            ))
            .evidence(evidence(&[])),
            &fix,
        ));
    }
    if present.is_empty() {
        return Ok(with_fix(
            Outcome::fail(format!("STATIC_ROOT {name} is empty")).evidence(evidence(&[])),
            &fix,
        ));
    }
    Ok(Outcome::pass(format!("STATIC_ROOT {name} holds {} files", present.len())).evidence(evidence(&[])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_hooks_that_run_collectstatic_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let hooks = dir.path().join(".platform/hooks/postdeploy");
        std::fs::create_dir_all(&hooks).unwrap();
        std::fs::write(
            hooks.join("01_django.sh"),
            "#!/bin/bash\n# collectstatic in a comment\nsource /var/app/venv/*/bin/activate\npython manage.py collectstatic --noinput\n",
        )
        .unwrap();
        assert_eq!(
            hook_with_collectstatic(dir.path()).as_deref(),
            Some(".platform/hooks/postdeploy/01_django.sh:4")
        );
        assert_eq!(hook_with_collectstatic(&dir.path().join("none")), None);
    }

    #[test]
    fn a_hook_that_runs_make_is_followed_into_the_makefile() {
        let dir = tempfile::tempdir().unwrap();
        let hooks = dir.path().join(".platform/hooks/predeploy");
        std::fs::create_dir_all(&hooks).unwrap();
        std::fs::write(
            hooks.join("00_static.sh"),
            "#!/usr/bin/env bash\nmkdir -p /var/app/current/static\nsource /var/app/venv/*/bin/activate && make static\n",
        )
        .unwrap();
        // Overridable targets: `make static` runs static-default, whose
        // prerequisite django-static runs django-static-default.
        let makefile = "X := 1\n%: %-default\n\t@true\n\ndjango-static-default:\n\tpython manage.py collectstatic --noinput\nstatic-default: django-static\nlint-default:\n\truff check\n";
        std::fs::write(dir.path().join("Makefile"), makefile).unwrap();
        assert_eq!(
            hook_with_collectstatic(dir.path()).as_deref(),
            Some(".platform/hooks/predeploy/00_static.sh:3")
        );
        let rules = make_rules(makefile);
        assert!(!make_target_collects(&rules, "lint", 0));
        std::fs::write(
            dir.path().join("Makefile"),
            "static:\n\t$(MAKE) -C . assets\nassets:\n\tpython manage.py collectstatic\n",
        )
        .unwrap();
        assert!(hook_with_collectstatic(dir.path()).is_some());
        std::fs::write(dir.path().join("Makefile"), "static:\n\tnpm run build\n").unwrap();
        assert_eq!(hook_with_collectstatic(dir.path()), None);
    }
}
