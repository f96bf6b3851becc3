//! `project.static`: the static files the site needs reach the instances.
//! They do when collectstatic runs on each deployment (a container command
//! or a platform hook), when an S3 storage takes them (collectstatic
//! uploads them), or when STATIC_ROOT, inside the source bundle, already
//! holds every file collectstatic gathers (what the probe listed through
//! Django's finders, without writing anything).

use super::ebextensions::configs;
use super::files::{MAX_FILE, read_text};
use super::layout::layout;
use super::probe::{Probe, probe};
use super::{relative_to, shown, with_fix};
use crate::engine::account::Account;
use crate::engine::outcome::{CheckResult, Outcome};
use serde_json::json;
use std::collections::BTreeSet;
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

/// A platform hook (`.platform/hooks/*/`, `.platform/confighooks/*/`) that
/// runs collectstatic, as `file:line`.
fn hook_with_collectstatic(bundle: &Path) -> Option<String> {
    for kind in ["hooks", "confighooks"] {
        for stage in ["prebuild", "predeploy", "postdeploy"] {
            let dir = bundle.join(".platform").join(kind).join(stage);
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            let mut files: Vec<_> = entries.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect();
            files.sort();
            for f in files.into_iter().take(50) {
                let Ok(text) = read_text(&f, MAX_FILE) else { continue };
                if let Some(n) = text
                    .text
                    .lines()
                    .position(|l| l.contains("collectstatic") && !l.trim_start().starts_with('#'))
                {
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

pub(super) async fn check(acc: Arc<Account>) -> CheckResult {
    let l = layout(&acc).await;
    let c = configs(&acc).await;
    let p = match probe(&acc).await {
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
    if st.is_s3 == Some(true) {
        let when = match &at_deploy {
            Some(at) => format!("collectstatic runs on each deployment ({at}) and uploads them"),
            None => "collectstatic uploads them when it runs; labcheck cannot see the bucket from here, eb.static checks them on the site".into(),
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
                "STATIC_ROOT {name} does not exist: collectstatic has not run, and no container command runs it on deployment"
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
}
