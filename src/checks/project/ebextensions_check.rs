//! `project.ebextensions`: what the `.ebextensions` files (read in
//! `ebextensions.rs`) and the Procfile say: how Beanstalk starts the app
//! (the Procfile's web process when there is one, else WSGIPath) and what
//! serves the static files (the proxy's `/static` mapping, WhiteNoise, or an
//! S3 storage), judged against the settings the probe read.

use super::ebextensions::{
    APP_ROOT, Configs, ENV_NS, OLD_STATIC_NS, OptionSetting, PYTHON_NS, STATIC_NS, check_app, configs,
    module_of_wsgi_file,
};
use super::layout;
use super::layout::Layout;
use super::probe::{Probe, probe};
use super::procfile::{self, Web};
use super::relative_to;
use crate::run::account::Account;
use crate::run::outcome::{CheckResult, Outcome};
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;

/// How the platform starts the app, judged.
pub(super) fn judge_start(l: &Layout, c: &Configs, web: Option<&Web>) -> (Result<String, String>, Vec<String>) {
    let mut notes = Vec::new();
    let wsgi = c.last(PYTHON_NS, "WSGIPath");
    let env_path = c.python_path();
    if let Some(web) = web {
        if let Some(w) = wsgi {
            notes.push(format!(
                "{}: WSGIPath {} is not used: the Procfile's web process starts the app",
                w.at(),
                w.value
            ));
        }
        let mut bases = web.bases.clone();
        bases.extend(env_path.clone());
        if web.runserver {
            // The app the server should start: WSGIPath's, when it names one.
            let mut root = vec![PathBuf::new()];
            root.extend(env_path);
            let app = wsgi
                .and_then(|w| check_app(&l.bundle, &root, "WSGIPath", &w.value).ok())
                .unwrap_or_else(|| "mysite.wsgi:application".into());
            return (
                Err(format!(
                    "{} runs Django's development server ({}), which Django says not to use in production (it has had no security audit or performance testing): start the app with gunicorn, web: gunicorn --bind :8000 {app}",
                    web.at, web.command
                )),
                notes,
            );
        }
        let start = match (&web.app, &web.unread) {
            (Some(app), _) => {
                let key = format!("{} ({})", web.at, web.server);
                check_app(&l.bundle, &bases, &key, app).map(|v| format!("the Procfile starts {v} with {}", web.server))
            }
            (None, Some(why)) => {
                notes.push(format!("{}: {why}", web.at));
                Ok(format!("the Procfile's web process ({})", web.command))
            }
            (None, None) => Ok(format!("the Procfile's web process ({})", web.command)),
        };
        return (start, notes);
    }
    let mut bases = vec![PathBuf::new()];
    bases.extend(env_path);
    match wsgi {
        Some(s) => {
            let key = format!("{}: option_settings → {PYTHON_NS} → WSGIPath", s.at());
            let value = s.value.trim();
            if value.contains('/') || value.ends_with(".py") {
                let (module, pythonpath) = module_of_wsgi_file(value, &bases, l.django_shown().as_deref());
                let also = pythonpath
                    .map(|d| format!(", with PYTHONPATH: \"{APP_ROOT}/{d}:$PYTHONPATH\" in {ENV_NS}"))
                    .unwrap_or_default();
                return (
                    Err(format!(
                        "{key} is {value}, a file path (the retired Amazon Linux AMI form); the platform's gunicorn needs a module: {module}{also}"
                    )),
                    notes,
                );
            }
            (
                check_app(&l.bundle, &bases, &key, value).map(|v| format!("WSGIPath {v}")),
                notes,
            )
        }
        None => {
            // The platform's default is application:application.
            match check_app(&l.bundle, &bases, "the platform's default WSGIPath", "application") {
                Ok(_) => (Ok("application.py (the platform's default WSGIPath)".into()), notes),
                Err(_) => (
                    Err(format!(
                        "no Procfile, and no .ebextensions/*.config sets option_settings → {PYTHON_NS} → WSGIPath (the platform would look for application.py, which the bundle lacks)"
                    )),
                    notes,
                ),
            }
        }
    }
}

/// A folder as written in a mapping, for comparison: no `./`, no trailing `/`.
fn clean_folder(folder: &str) -> String {
    let f = folder.trim().trim_start_matches("./").trim_end_matches('/');
    if f.is_empty() { ".".to_string() } else { f.to_string() }
}

/// The URL path static files are served under (`STATIC_URL`'s path, no
/// trailing slash); None when STATIC_URL points at another host.
pub(super) fn static_prefix(static_url: Option<&str>) -> Option<String> {
    let url = static_url.unwrap_or("/static/").trim();
    if url.contains("://") || url.starts_with("//") {
        return None;
    }
    Some(format!("/{}", url.trim_matches('/')))
}

/// A mapping of the proxy that serves `prefix`: its URL path is `prefix`
/// or a parent of it; returns the mapping and the folder (relative to the
/// bundle) that answers `prefix`.
pub(super) fn mapping_for<'a>(c: &'a Configs, prefix: &str) -> Option<(&'a OptionSetting, String)> {
    c.settings
        .iter()
        .rev()
        .filter(|s| s.namespace == STATIC_NS)
        .find_map(|s| {
            let path = format!("/{}", s.name.trim().trim_matches('/'));
            let rest = if path == prefix {
                ""
            } else if path == "/" {
                prefix.trim_start_matches('/')
            } else {
                prefix.strip_prefix(&format!("{path}/"))?
            };
            let folder = clean_folder(&s.value);
            let folder = match (folder.as_str(), rest) {
                (_, "") => folder,
                (".", r) => r.to_string(),
                (f, r) => format!("{f}/{r}"),
            };
            Some((s, folder))
        })
}

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

pub(super) async fn check(acc: Arc<Account>) -> CheckResult {
    let l = layout(&acc).await;
    let c = configs(&acc).await;
    let web = match procfile::read(&l.bundle) {
        Ok(w) => w,
        Err(e) => return Ok(Outcome::fail(e)),
    };
    let probed = probe(&acc).await;
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
            &acc,
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
