//! `project.ebextensions`: what the `.ebextensions` files (read in
//! `ebextensions.rs`) and the Procfile say: how Beanstalk starts the app
//! (the Procfile's web process when there is one, else WSGIPath) and what
//! serves the static files (the proxy's `/static` mapping, WhiteNoise, or an
//! S3 storage), judged against the settings the probe read.

use super::configs;
use super::ebextensions::{
    APP_ROOT, Configs, ENV_NS, OLD_STATIC_NS, PYTHON_NS, STATIC_NS, clean_folder, judge_start, mapping_for,
    static_prefix,
};
use super::layout;
use super::layout::Layout;
use super::probe::{Probe, probe};
use super::procfile;
use super::relative_to;
use crate::run::ProjectRun;
use labcheck_outcome::outcome::{CheckResult, Outcome};
use serde_json::json;
use std::sync::Arc;

/// What serves the static files, judged. `Ok(None)` when it cannot be told
/// (the settings could not be read).
fn judge_static(l: &Layout, c: &Configs, probe: Option<&Probe>) -> Result<Option<String>, String> {
    let settings = probe.and_then(|p| p.settings().ok());
    if let Some(s) = settings {
        let st = &s.staticfiles_storage;
        if st.is_s3 == Some(true) {
            return Ok(Some(format!(
                "static files go to S3 ({} is {})",
                st.source,
                st.backend.as_deref().unwrap_or("")
            )));
        }
        if st.is_s3.is_none() && st.error.is_some() && mapping_for(c, "/static").is_none() {
            // Its class did not import here: it may be the S3 storage that serves them.
            return Ok(None);
        }
    }
    let Some(prefix) = static_prefix(settings.and_then(|s| s.static_url.as_deref())) else {
        return Ok(Some(
            "STATIC_URL points at another host: no proxy mapping needed".into(),
        ));
    };
    let whitenoise = settings.is_some_and(|s| s.middleware.iter().any(|m| m.starts_with("whitenoise.")));
    let Some((m, folder)) = mapping_for(c, &prefix) else {
        if whitenoise {
            return Ok(Some(format!("WhiteNoise serves {prefix}/ from STATIC_ROOT")));
        }
        if let Some(old) = c.settings.iter().find(|s| s.namespace == OLD_STATIC_NS) {
            return Err(format!(
                "{}: {OLD_STATIC_NS} is the namespace of the retired Amazon Linux AMI platform; map {prefix} under {STATIC_NS}",
                old.at()
            ));
        }
        if settings.is_none() {
            return Ok(None);
        }
        // The Python platform serves the bundle's static/ folder at /static
        // when no mapping says otherwise.
        let root = probe
            .and_then(|p| p.static_root())
            .and_then(|abs| relative_to(&abs, &l.bundle))
            .map(|r| clean_folder(&r.display().to_string()));
        if prefix == "/static" && root.as_deref() == Some("static") {
            return Ok(Some(
                "/static → static (no mapping: the Python platform's default, which STATIC_ROOT static/ matches)"
                    .into(),
            ));
        }
        let default = match (prefix.as_str(), &root) {
            ("/static", Some(_)) => " (the platform's default mapping serves static/, which is not STATIC_ROOT)",
            ("/static", None) => " (the platform's default mapping serves static/, and STATIC_ROOT is not set)",
            _ => "",
        };
        return Err(format!(
            "no option_settings → {STATIC_NS} maps {prefix} to a folder{default}, and no WhiteNoise in MIDDLEWARE: nothing serves the static files"
        ));
    };
    let key = format!("{}: {STATIC_NS} → {}", m.at(), m.name);
    let Some(probe) = probe.filter(|_| settings.is_some()) else {
        return Ok(None);
    };
    let root = match probe.static_root() {
        None => return Err(format!("{key} is {}, but STATIC_ROOT is not set", m.value)),
        Some(abs) => match relative_to(&abs, &l.bundle) {
            Some(r) => clean_folder(&r.display().to_string()),
            None => {
                return Err(format!(
                    "STATIC_ROOT {} is outside the source bundle, so the bundle does not carry it; {key} is {}",
                    abs.display(),
                    m.value
                ));
            }
        },
    };
    if root == folder {
        Ok(Some(format!("{prefix} → {folder}")))
    } else {
        Err(format!(
            "{key} is {}, but STATIC_ROOT is {root} in the source bundle: the proxy would serve a folder collectstatic does not fill",
            m.value
        ))
    }
}

/// The fix for this project: its own wsgi module and static folder.
fn fix_for(l: &Layout, probe: Option<&Probe>) -> Option<String> {
    let probe = probe?;
    let module = probe.settings_module()?;
    let package = module.split('.').next()?;
    let django = l.django.as_ref()?;
    if !django.join(package).join("wsgi.py").is_file() {
        return None;
    }
    let root = probe
        .static_root()
        .and_then(|r| relative_to(&r, &l.bundle))
        .map(|r| clean_folder(&r.display().to_string()))
        .unwrap_or_else(|| "static".into());
    let path = if l.split() {
        format!(
            "\\n  {ENV_NS}:\\n    PYTHONPATH: {APP_ROOT}/{}:$PYTHONPATH",
            l.django_shown().unwrap_or_default()
        )
    } else {
        String::new()
    };
    Some(format!(
        "mkdir -p {b}/.ebextensions && printf 'option_settings:\\n  {PYTHON_NS}:\\n    WSGIPath: {package}.wsgi:application\\n  {STATIC_NS}:\\n    /static: {root}{path}\\n' > {b}/.ebextensions/django.config",
        b = l.bundle.display()
    ))
}

/// Grades the project of `acc`'s run.
pub async fn check(acc: Arc<dyn ProjectRun>) -> CheckResult {
    let l = layout(&*acc).await;
    let c = configs(&*acc).await;
    let web = match procfile::read(&l.bundle) {
        Ok(w) => w,
        Err(e) => return Ok(Outcome::fail(e)),
    };
    let probed = probe(&*acc).await;
    let probe = probed.as_ref().ok().map(Arc::as_ref);
    let fix = fix_for(&l, probe);
    let with_fix = |o: Outcome| match &fix {
        Some(f) => super::with_fix(o, f),
        None => o,
    };
    if let Some(why) = &c.unreadable {
        return Ok(Outcome::error(format!(
            "cannot read {}: {why}",
            l.bundle.join(".ebextensions").display()
        ))
        .hint("Make the folder readable (ls -la .ebextensions shows its owner and mode), then run labcheck again."));
    }
    let evidence = |start: Option<&str>, stat: Option<&str>, notes: &[String]| {
        json!({
            "bundle": l.bundle.display().to_string(),
            "django_project": l.django_shown(),
            "files": c.files,
            "ignored": c.ignored,
            "procfile": web.as_ref().map(|w| json!({"at": w.at, "command": w.command, "app": w.app})),
            "option_settings": c.settings.iter().filter(|s| s.namespace != ENV_NS).map(|s| json!({
                "file": s.file, "line": s.line, "namespace": s.namespace, "option": s.name, "value": s.value,
            })).collect::<Vec<_>>(),
            "environment_properties": c.env().iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
            "starts": start,
            "static": stat,
            "notes": notes,
        })
    };
    if !c.exists && web.is_none() {
        let mut message = format!("no .ebextensions folder in {}", l.bundle.display());
        if l.given != l.bundle || l.split() {
            message.push_str(&format!(" ({})", l.describe()));
        }
        return Ok(with_fix(Outcome::fail(message)));
    }
    if !c.errors.is_empty() {
        return Ok(with_fix(Outcome::fail(c.errors.join("; ")).evidence(evidence(
            None,
            None,
            &[],
        ))));
    }
    if c.exists && c.files.is_empty() && web.is_none() {
        let also = if c.ignored.is_empty() {
            String::new()
        } else {
            format!(
                " ({} ignored: Beanstalk reads only files ending in .config)",
                c.ignored.join(", ")
            )
        };
        return Ok(with_fix(
            Outcome::fail(format!(".ebextensions holds no .config file{also}")).evidence(evidence(None, None, &[])),
        ));
    }
    let (start, notes) = judge_start(&l, &c, web.as_ref());
    let stat = judge_static(&l, &c, probe);
    let mut problems = Vec::new();
    if let Err(p) = &start {
        problems.push(p.clone());
    }
    if let Err(p) = &stat {
        problems.push(p.clone());
    }
    let ev = evidence(
        start.as_ref().ok().map(String::as_str),
        stat.as_ref().ok().and_then(|s| s.as_deref()),
        &notes,
    );
    let where_ = if l.split() {
        format!(" ({})", l.describe())
    } else {
        String::new()
    };
    let noted = if notes.is_empty() {
        String::new()
    } else {
        format!(" (note: {})", notes.join("; "))
    };
    if !problems.is_empty() {
        return Ok(with_fix(
            Outcome::fail(format!("{}{where_}{noted}", problems.join("; "))).evidence(ev),
        ));
    }
    let files = if c.files.is_empty() {
        "Procfile".to_string()
    } else {
        c.files.join(", ")
    };
    match stat {
        // The static mapping was compared with STATIC_ROOT as the project's
        // code reported it.
        Ok(Some(stat)) => Ok(super::probe::on_its_word(
            &*acc,
            Outcome::pass(format!(
                "{files}: {} names a module of the bundle; static files: {stat}{where_}{noted}",
                start.unwrap_or_default()
            ))
            .evidence(ev),
        )
        .await),
        // Someone else's code, and no sandbox here to run it in.
        _ if let Err(t @ super::Trouble::Ungraded { .. }) = &probed => Ok(t.outcome()),
        _ => {
            // The settings could not be read: the mapping cannot be compared
            // with STATIC_ROOT.
            let why = match &probed {
                Err(t) => format!("the settings could not be read: {}", t.message()),
                Ok(p) => match p.settings() {
                    Err(t) => format!("the settings could not be read: {}", t.message()),
                    Ok(s) => {
                        let st = &s.staticfiles_storage;
                        let e = st
                            .error
                            .as_ref()
                            .map(|e| format!("{}: {}", e.kind, e.message))
                            .unwrap_or_default();
                        format!(
                            "{} {} could not be imported here ({}), so whether it sends them to S3 is unknown",
                            st.source,
                            st.backend.as_deref().unwrap_or(""),
                            e.lines().next().unwrap_or("")
                        )
                    }
                },
            };
            Ok(Outcome::error(format!(
                "{}; labcheck cannot tell what serves the static files, since {why}",
                start.unwrap_or_default()
            ))
            .hint("project.settings says why the settings could not be read; fix that, then run labcheck again.")
            .evidence(ev))
        }
    }
}
