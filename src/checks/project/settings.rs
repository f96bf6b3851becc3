//! `project.settings` and `project.static`: the effective Django settings,
//! read by running the learner's Python on the project, and a scan of the
//! settings' source for secrets written as literals.

use super::{
    PYTHON_TIMEOUT, Python, Trouble, absolute, explain_python_failure, project_dir, relative_to, resolve_python,
    run_python, shown,
};
use crate::engine::account::Account;
use crate::engine::outcome::{CheckError, CheckResult, Outcome};
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

/// The marker in front of the snippet's JSON line, so that whatever the
/// settings or `shell` print themselves is ignored.
const MARKER: &str = "LABCHECK-SETTINGS ";

/// Prints what the checks need from the effective settings as one JSON
/// line. Never the SECRET_KEY or a password: only whether one is set.
/// Passwords inside cache URLs are masked before they leave Python.
const SNIPPET: &str = r#"
import json, os, sys
from urllib.parse import urlsplit
import django
from django.conf import settings as s

def text(v):
    return None if v is None else str(v)

def locations(v):
    out = []
    for item in (v if isinstance(v, (list, tuple)) else [v]):
        if item is None or item == "":
            continue
        item = str(item)
        try:
            u = urlsplit(item)
            if u.scheme and u.netloc:
                host = u.hostname or ""
                if ":" in host:
                    host = "[" + host + "]"
                port = ":" + str(u.port) if u.port else ""
                auth = "***@" if (u.username or u.password) else ""
                item = u.scheme + "://" + auth + host + port + u.path
        except Exception:
            item = "(unreadable location)"
        out.append(item)
    return out

def is_s3(path):
    try:
        from django.utils.module_loading import import_string
        cls = import_string(path)
        names = {c.__module__ + "." + c.__name__ for c in cls.__mro__}
        return bool(names & {"storages.backends.s3.S3Storage", "storages.backends.s3boto3.S3Boto3Storage"})
    except Exception:
        return None

storages = {}
for alias, conf in (getattr(s, "STORAGES", None) or {}).items():
    conf = conf or {}
    opts = conf.get("OPTIONS") or {}
    backend = text(conf.get("BACKEND"))
    storages[alias] = {
        "backend": backend,
        "is_s3": is_s3(backend) if backend else None,
        "bucket_name": text(opts.get("bucket_name")),
    }

static_sources, static_sources_error = None, None
try:
    if "django.contrib.staticfiles" in s.INSTALLED_APPS:
        from django.contrib.staticfiles.finders import get_finders
        seen = set()
        for finder in get_finders():
            for path, storage in finder.list(["CVS", ".*", "*~"]):
                prefix = getattr(storage, "prefix", None)
                if prefix:
                    path = os.path.join(prefix, path)
                seen.add(path.replace(os.sep, "/"))
                if len(seen) > 50000:
                    raise RuntimeError("more than 50000 static files")
        static_sources = sorted(seen)
except Exception as e:
    static_sources_error = type(e).__name__ + ": " + str(e)

module = sys.modules.get(s.SETTINGS_MODULE)
out = {
    "django_version": django.get_version(),
    "python_version": sys.version.split()[0],
    "settings_module": s.SETTINGS_MODULE,
    "settings_file": getattr(module, "__file__", None),
    "cwd": os.getcwd(),
    "debug": bool(s.DEBUG),
    "allowed_hosts": [str(h) for h in s.ALLOWED_HOSTS],
    "storages": storages,
    "default_file_storage": text(getattr(s, "DEFAULT_FILE_STORAGE", None)) if s.is_overridden("DEFAULT_FILE_STORAGE") else None,
    "session_engine": text(s.SESSION_ENGINE),
    "session_cache_alias": text(getattr(s, "SESSION_CACHE_ALIAS", "default")),
    "caches": {a: {"backend": text(c.get("BACKEND")), "location": locations(c.get("LOCATION"))} for a, c in s.CACHES.items()},
    "databases": {a: {
        "engine": text(d.get("ENGINE")), "host": text(d.get("HOST")), "port": text(d.get("PORT")),
        "name": text(d.get("NAME")), "user": text(d.get("USER")), "password_set": bool(d.get("PASSWORD")),
    } for a, d in s.DATABASES.items()},
    "static_root": text(s.STATIC_ROOT) if s.STATIC_ROOT else None,
    "static_url": text(s.STATIC_URL),
    "aws_storage_bucket_name": text(getattr(s, "AWS_STORAGE_BUCKET_NAME", None)),
    "aws_s3_region_name": text(getattr(s, "AWS_S3_REGION_NAME", None)),
    "installed_apps": [str(a) for a in s.INSTALLED_APPS],
    "static_sources": static_sources,
    "static_sources_error": static_sources_error,
}
print()
print("LABCHECK-SETTINGS " + json.dumps(out, default=str))
"#;

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Raw {
    pub django_version: String,
    pub python_version: String,
    pub settings_module: String,
    pub settings_file: Option<String>,
    pub cwd: String,
    pub debug: bool,
    pub allowed_hosts: Vec<String>,
    pub storages: BTreeMap<String, Storage>,
    pub default_file_storage: Option<String>,
    pub session_engine: Option<String>,
    pub session_cache_alias: Option<String>,
    pub caches: BTreeMap<String, Cache>,
    pub databases: BTreeMap<String, Database>,
    pub static_root: Option<String>,
    pub static_url: Option<String>,
    pub aws_storage_bucket_name: Option<String>,
    pub aws_s3_region_name: Option<String>,
    pub installed_apps: Vec<String>,
    #[serde(skip_serializing)]
    pub static_sources: Option<Vec<String>>,
    pub static_sources_error: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Storage {
    pub backend: Option<String>,
    pub is_s3: Option<bool>,
    pub bucket_name: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Cache {
    pub backend: Option<String>,
    pub location: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Database {
    pub engine: Option<String>,
    pub host: Option<String>,
    pub port: Option<String>,
    pub name: Option<String>,
    pub user: Option<String>,
    pub password_set: bool,
}

/// The effective settings of the learner's project, with the Python that
/// produced them.
#[derive(Clone, Debug)]
pub struct Effective {
    pub raw: Raw,
    pub python: Python,
    pub project: PathBuf,
}

impl Effective {
    /// STATIC_ROOT as an absolute path (Python ran in the project folder).
    pub fn static_root(&self) -> Option<PathBuf> {
        let root = self.raw.static_root.as_deref()?;
        Some(if Path::new(root).is_absolute() {
            PathBuf::from(root)
        } else {
            absolute(&Path::new(&self.raw.cwd).join(root))
        })
    }

    /// The media bucket: the S3 storage's own option, else AWS_STORAGE_BUCKET_NAME.
    pub fn bucket(&self) -> Option<&str> {
        self.raw
            .storages
            .get("default")
            .and_then(|s| s.bucket_name.as_deref())
            .or(self.raw.aws_storage_bucket_name.as_deref())
            .filter(|b| !b.is_empty())
    }

    pub fn default_db(&self) -> Option<&Database> {
        self.raw.databases.get("default")
    }
}

type Memoized = Result<Arc<Effective>, Trouble>;

/// The effective settings, computed once per run (by whichever check asks
/// first). `None` when they could not be read; `project.settings` says why.
pub async fn effective_settings(acc: &Account) -> Option<Arc<Effective>> {
    load(acc).await.ok()
}

async fn load(acc: &Account) -> Memoized {
    acc.memo
        .once("project:settings", || async {
            let project = project_dir(acc);
            if !project.is_dir() {
                return Err(Trouble::Fail {
                    message: format!("project_dir {} is not a folder", project.display()),
                    hint: "Run labcheck from your Django project folder (the one that holds manage.py), or point it there with --set project_dir=PATH.".into(),
                });
            }
            if !project.join("manage.py").is_file() {
                return Err(Trouble::Fail {
                    message: format!("no manage.py in {}: this is not the Django project folder", project.display()),
                    hint: "Run labcheck from your Django project folder (the one that holds manage.py), or point it there with --set project_dir=PATH.".into(),
                });
            }
            let python = resolve_python(acc, &project);
            // Ask first whether Django imports at all, to say so plainly.
            let probe = run_python(
                &python,
                &project,
                &["-c", "import django; print(django.get_version())"],
                PYTHON_TIMEOUT,
            )
            .await;
            let version = match &probe {
                Ok(ran) if ran.success => ran.stdout.trim().to_string(),
                Ok(ran) => return Err(explain_python_failure("importing Django", &python, Ok(ran))),
                Err(e) => return Err(explain_python_failure("importing Django", &python, Err(e))),
            };
            let mut args = vec!["manage.py", "shell"];
            // Django 5.2's shell imports every model first; not needed here.
            if version_at_least(&version, 5, 2) {
                args.push("--no-imports");
            }
            args.extend(["-c", SNIPPET]);
            let ran = run_python(&python, &project, &args, PYTHON_TIMEOUT).await;
            let what = "reading the settings (manage.py shell)";
            let ran = match &ran {
                Ok(ran) => ran,
                Err(e) => return Err(explain_python_failure(what, &python, Err(e))),
            };
            let Some(line) = ran.stdout.lines().find_map(|l| l.strip_prefix(MARKER)) else {
                return Err(explain_python_failure(what, &python, Ok(ran)));
            };
            let raw: Raw = serde_json::from_str(line).map_err(|e| Trouble::Error {
                message: format!("labcheck could not read what the settings snippet printed: {e}"),
                hint: String::new(),
            })?;
            Ok(Arc::new(Effective { raw, python, project }))
        })
        .await
}

fn version_at_least(version: &str, major: u32, minor: u32) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (ma, mi) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (ma, mi) >= (major, minor)
}

const S3_BACKENDS: &[&str] = &[
    "storages.backends.s3boto3.S3Boto3Storage",
    "storages.backends.s3.S3Storage",
];
const CACHE_SESSIONS: &[&str] = &[
    "django.contrib.sessions.backends.cache",
    "django.contrib.sessions.backends.cached_db",
];

/// What is wrong (problems) and worth saying (remarks) about effective settings.
#[derive(Debug, Default, PartialEq)]
struct Verdict {
    problems: Vec<String>,
    passed: Vec<String>,
    remarks: Vec<String>,
}

fn judge(e: &Effective) -> Verdict {
    let raw = &e.raw;
    let mut v = Verdict::default();

    if raw.debug {
        v.problems.push("DEBUG is True".into());
    } else {
        v.passed.push("DEBUG is off".into());
    }

    // As Python would print the list.
    let hosts = format!(
        "[{}]",
        raw.allowed_hosts
            .iter()
            .map(|h| format!("'{h}'"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if raw.allowed_hosts.iter().any(|h| h == "*") {
        v.passed.push("ALLOWED_HOSTS admits any host".into());
        v.remarks.push(
            "ALLOWED_HOSTS holds '*', which admits any Host header: list \".elasticbeanstalk.com\" (and your own domain) instead"
                .into(),
        );
    } else if let Some(h) = raw
        .allowed_hosts
        .iter()
        .find(|h| h.to_ascii_lowercase().ends_with(".elasticbeanstalk.com"))
    {
        v.passed.push(if h.starts_with('.') {
            format!("ALLOWED_HOSTS admits {h}")
        } else {
            format!("ALLOWED_HOSTS admits {h} (that environment only)")
        });
    } else {
        v.problems
            .push(format!("ALLOWED_HOSTS {hosts} does not admit .elasticbeanstalk.com"));
    }

    let default_storage = raw.storages.get("default");
    let backend = default_storage.and_then(|s| s.backend.clone()).unwrap_or_default();
    let on_s3 = S3_BACKENDS.contains(&backend.as_str()) || default_storage.and_then(|s| s.is_s3) == Some(true);
    if !on_s3 {
        let shown_backend = if backend.is_empty() {
            "not set".to_string()
        } else {
            backend.clone()
        };
        let mut p = format!("STORAGES['default'] is {shown_backend}, not S3 (storages.backends.s3.S3Storage)");
        if let Some(old) = &raw.default_file_storage
            && S3_BACKENDS.contains(&old.as_str())
        {
            p.push_str(&format!(
                "; DEFAULT_FILE_STORAGE = {old} is ignored since Django 5.1: set STORAGES['default'] instead"
            ));
        }
        v.problems.push(p);
    } else if let Some(bucket) = e.bucket() {
        v.passed.push(format!("media on S3 (bucket {bucket})"));
    } else {
        v.problems
            .push("media go to S3, but AWS_STORAGE_BUCKET_NAME is empty".into());
    }

    let engine = raw.session_engine.clone().unwrap_or_default();
    let alias = raw.session_cache_alias.clone().unwrap_or_else(|| "default".into());
    if !CACHE_SESSIONS.contains(&engine.as_str()) {
        v.problems.push(format!(
            "SESSION_ENGINE is {engine}: sessions are not kept in the cache (django.contrib.sessions.backends.cache)"
        ));
    } else {
        match raw.caches.get(&alias) {
            None => v
                .problems
                .push(format!("sessions use cache '{alias}', which CACHES does not define")),
            Some(c) => {
                let cb = c.backend.clone().unwrap_or_default();
                let lower = cb.to_ascii_lowercase();
                let location = c.location.first().cloned().unwrap_or_default();
                if !(lower.contains("redis") || lower.contains("valkey")) {
                    v.problems
                        .push(format!("the sessions' cache '{alias}' is {cb}, not Redis"));
                } else if location.is_empty() {
                    v.problems
                        .push(format!("the sessions' Redis cache '{alias}' has no LOCATION"));
                } else if !(location.starts_with("rediss://") || location.starts_with("valkeys://")) {
                    v.problems.push(format!(
                        "the cache LOCATION {location} does not use TLS: ElastiCache serverless needs rediss://"
                    ));
                } else {
                    v.passed.push(format!("sessions in Redis over TLS ({location})"));
                }
            }
        }
    }

    match e.default_db() {
        None => v.problems.push("DATABASES has no 'default' database".into()),
        Some(db) => {
            let engine = db.engine.clone().unwrap_or_default();
            if engine.contains("sqlite") {
                let file = db
                    .name
                    .as_deref()
                    .and_then(|n| Path::new(n).file_name())
                    .map(|n| format!(" ({})", n.to_string_lossy()))
                    .unwrap_or_default();
                v.problems
                    .push(format!("DATABASES['default'] is SQLite{file}, not the RDS database"));
            } else if engine.is_empty() || engine.ends_with(".dummy") {
                v.problems.push("DATABASES['default'] has no ENGINE".into());
            } else {
                let short = engine.rsplit('.').next().unwrap_or(&engine);
                v.passed.push(format!(
                    "database {short} {} on {}",
                    db.name.as_deref().unwrap_or("?"),
                    db.host.as_deref().filter(|h| !h.is_empty()).unwrap_or("localhost")
                ));
                if !db.password_set {
                    v.remarks.push(
                        "the database PASSWORD is empty here: the settings should read it from RDS_USER_PASSWORD, set where labcheck runs"
                            .into(),
                    );
                }
            }
        }
    }
    v
}

/// One secret written into a settings file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Finding {
    pub line: usize,
    pub what: String,
    /// The literal itself: registered with the redactor, never shown.
    pub value: String,
}

static STR: &str = r#"[rRuU]?(?:"([^"\n]*)"|'([^'\n]*)')"#;

static DICT_PASSWORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!(r#"["']PASSWORD["']\s*:\s*{STR}"#)).expect("regex"));
static ASSIGNED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r#"^\s*([A-Z0-9_]*PASSWORD[A-Z0-9_]*|AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID|AWS_SESSION_TOKEN)\s*(?::\s*[\w\[\], .]+)?=\s*{STR}"#
    ))
    .expect("regex")
});
static DICT_AWS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r#"(?i)["'](aws_secret_access_key|aws_access_key_id|aws_session_token|access_key|secret_key|security_token)["']\s*:\s*{STR}"#
    ))
    .expect("regex")
});
static ENV_DEFAULT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r#"(?:environ\.get|getenv|environ\.setdefault)\(\s*["']([A-Za-z0-9_]*(?:PASSWORD|SECRET_ACCESS_KEY|SESSION_TOKEN)[A-Za-z0-9_]*)["']\s*,\s*{STR}"#
    ))
    .expect("regex")
});
static KEY_ID: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b").expect("regex"));

fn literal(c: &regex::Captures, first: usize) -> String {
    c.get(first)
        .or_else(|| c.get(first + 1))
        .map_or(String::new(), |m| m.as_str().to_string())
}

/// Secrets written as literals in Python source: database passwords
/// (also as the default of an environment lookup), AWS keys, and anything
/// shaped like an AWS access key id. Comment lines are skipped.
pub(super) fn scan_source(text: &str) -> Vec<Finding> {
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with('#') {
            continue;
        }
        let n = i + 1;
        let mut push = |what: String, value: String| {
            if !value.is_empty() && !found.iter().any(|f: &Finding| f.line == n && f.value == value) {
                found.push(Finding { line: n, what, value });
            }
        };
        for c in DICT_PASSWORD.captures_iter(line) {
            push("the database PASSWORD is written in the source".into(), literal(&c, 1));
        }
        if let Some(c) = ASSIGNED.captures(line) {
            push(format!("{} is written in the source", &c[1]), literal(&c, 2));
        }
        for c in DICT_AWS.captures_iter(line) {
            push(format!("{} is written in the source", &c[1]), literal(&c, 2));
        }
        for c in ENV_DEFAULT.captures_iter(line) {
            push(
                format!("the fallback value of {} is written in the source", &c[1]),
                literal(&c, 2),
            );
        }
        for m in KEY_ID.find_iter(line) {
            push(
                "an AWS access key id is written in the source".into(),
                m.as_str().to_string(),
            );
        }
    }
    found
}

static SETTINGS_MODULE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]+)["']"#).expect("regex"));

/// Folders never searched for settings files.
fn skipped_dir(name: &str) -> bool {
    name.starts_with('.')
        || matches!(
            name,
            "venv" | "env" | "node_modules" | "site-packages" | "__pycache__" | "static" | "media" | "staticfiles"
        )
}

/// The settings files to scan: the module Django loaded (a whole package
/// when it is one), the module manage.py names, and any `*settings*.py`
/// in the project's top two levels.
fn settings_files(project: &Path, effective: Option<&Effective>) -> Vec<PathBuf> {
    let mut files = BTreeSet::new();
    let mut add_module_file = |file: &Path| {
        if file.file_name().is_some_and(|n| n == "__init__.py") {
            if let Ok(entries) = std::fs::read_dir(file.parent().unwrap_or(project)) {
                for e in entries.flatten() {
                    if e.path().extension().is_some_and(|x| x == "py") {
                        files.insert(e.path());
                    }
                }
            }
        } else if file.is_file() {
            files.insert(file.to_path_buf());
        }
    };
    if let Some(file) = effective.and_then(|e| e.raw.settings_file.as_deref()) {
        add_module_file(Path::new(file));
    }
    let named = std::env::var("DJANGO_SETTINGS_MODULE")
        .ok()
        .filter(|m| !m.is_empty())
        .or_else(|| {
            let manage = std::fs::read_to_string(project.join("manage.py")).ok()?;
            SETTINGS_MODULE.captures(&manage).map(|c| c[1].to_string())
        });
    if let Some(module) = named {
        let base = project.join(module.replace('.', "/"));
        add_module_file(&base.with_extension("py"));
        add_module_file(&base.join("__init__.py"));
    }
    let mut stack = vec![(project.to_path_buf(), 0)];
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries.flatten() {
            let path = e.path();
            let name = e.file_name().to_string_lossy().to_string();
            if path.is_dir() {
                if depth < 2 && !skipped_dir(&name) {
                    stack.push((path, depth + 1));
                }
            } else if name.ends_with(".py")
                && (name.contains("settings") || dir.file_name().is_some_and(|d| d == "settings"))
            {
                files.insert(path);
            }
        }
    }
    files.into_iter().collect()
}

/// Secrets in the settings files, as `file:line: what`, registering each
/// value with the redactor.
fn scan_settings(acc: &Account, project: &Path, files: &[PathBuf]) -> Vec<String> {
    let mut out = Vec::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        for f in scan_source(&text) {
            acc.add_secret(&f.value);
            out.push(format!("{}:{}: {}", shown(file, project), f.line, f.what));
        }
    }
    out
}

/// Notes where the settings name other resources than labcheck checks.
fn compare_with_params(acc: &Account, e: &Effective) {
    let mut pairs = vec![("bucket", e.bucket().map(str::to_string))];
    if let Some(db) = e
        .default_db()
        .filter(|d| !d.engine.as_deref().unwrap_or("").contains("sqlite"))
    {
        pairs.push(("db_name", db.name.clone()));
        pairs.push(("db_user", db.user.clone()));
    }
    for (param, value) in pairs {
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            continue;
        };
        let checked = acc.param(param);
        if value != checked {
            acc.note(format!(
                "the settings use {param} `{value}`, but labcheck checked `{checked}`; set `{param} = \"{value}\"` in labcheck.toml"
            ));
        }
    }
}

fn from_trouble(t: Trouble) -> Outcome {
    match t {
        Trouble::Fail { message, hint } => Outcome::fail(message).hint(hint),
        Trouble::Error { message, hint } => {
            let o = Outcome::error(message);
            if hint.is_empty() { o } else { o.hint(hint) }
        }
    }
}

pub(super) async fn check(acc: Arc<Account>) -> CheckResult {
    // Keep the app's secret key out of any output, should anything echo it.
    if let Ok(key) = std::env::var("DJANGO_SECRET_KEY") {
        acc.add_secret(&key);
    }
    let project = project_dir(&acc);
    let loaded = load(&acc).await;
    let effective = loaded.as_ref().ok().map(|e| e.as_ref());
    let files = if project.is_dir() {
        settings_files(&project, effective)
    } else {
        Vec::new()
    };
    let secrets = scan_settings(&acc, &project, &files);
    let scanned: Vec<String> = files.iter().map(|f| shown(f, &project)).collect();

    let e = match loaded {
        Ok(e) => e,
        Err(trouble) if secrets.is_empty() => return Ok(from_trouble(trouble)),
        Err(trouble) => {
            let (Trouble::Fail { message, .. } | Trouble::Error { message, .. }) = trouble;
            return Ok(Outcome::fail(format!(
                "{}; the effective settings could not be read: {message}",
                secrets.join("; ")
            ))
            .hint(SECRET_HINT)
            .evidence(json!({"secrets_in_source": secrets, "scanned": scanned})));
        }
    };
    compare_with_params(&acc, &e);
    let mut v = judge(&e);
    v.problems.extend(secrets.iter().cloned());
    let evidence = json!({
        "python": e.python.program.display().to_string(),
        "python_from": e.python.source,
        "effective": e.raw,
        "scanned": scanned,
        "secrets_in_source": secrets,
    });
    let mut message = if v.problems.is_empty() {
        let source = if scanned.is_empty() {
            "no settings file found to scan".to_string()
        } else {
            format!("no password or AWS key in {}", scanned.join(", "))
        };
        format!("{}; {source}", v.passed.join("; "))
    } else {
        v.problems.join("; ")
    };
    if !v.remarks.is_empty() {
        message.push_str(&format!(" (note: {})", v.remarks.join("; ")));
    }
    Ok(if v.problems.is_empty() {
        Outcome::pass(message).evidence(evidence)
    } else {
        let outcome = Outcome::fail(message).evidence(evidence);
        if secrets.is_empty() {
            outcome
        } else {
            outcome.hint(SECRET_HINT)
        }
    })
}

const SECRET_HINT: &str = "Read secrets from the environment, as in \"PASSWORD\": os.environ[\"RDS_USER_PASSWORD\"], and give the app no AWS keys at all (boto3 uses the instance role on Beanstalk). A password that was written in a file may have been shared: change it.";

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

pub(super) async fn static_files(acc: Arc<Account>) -> CheckResult {
    let e = load(&acc)
        .await
        .map_err(|_| CheckError::Other("the project's settings could not be read".into()))?;
    let Some(root) = e.static_root() else {
        return Ok(Outcome::fail("STATIC_ROOT is not set: collectstatic has nowhere to gather the files")
            .hint("Name the folder in settings.py, STATIC_ROOT = BASE_DIR / \"static\", then run python manage.py collectstatic --noinput."));
    };
    let name = match relative_to(&root, &e.project) {
        Some(_) => format!("{}/", shown(&root, &e.project)),
        None => root.display().to_string(),
    };
    if !root.is_dir() {
        return Ok(
            Outcome::fail(format!("STATIC_ROOT {name} does not exist: collectstatic has not run"))
                .evidence(json!({"static_root": root.display().to_string()})),
        );
    }
    let present = files_under(&root, 200_000);
    let admin = e.raw.installed_apps.iter().any(|a| a == "django.contrib.admin");
    let evidence = |missing: &[&String]| {
        json!({
            "static_root": root.display().to_string(),
            "inside_project": relative_to(&root, &e.project).is_some(),
            "files": present.len(),
            "expected": e.raw.static_sources.as_ref().map(Vec::len),
            "missing": missing.iter().take(20).collect::<Vec<_>>(),
        })
    };
    if let Some(expected) = &e.raw.static_sources {
        let missing: Vec<&String> = expected.iter().filter(|f| !present.contains(*f)).collect();
        if !missing.is_empty() {
            let sample: Vec<&str> = missing.iter().take(5).map(|s| s.as_str()).collect();
            let more = if missing.len() > sample.len() { ", ..." } else { "" };
            return Ok(Outcome::fail(format!(
                "STATIC_ROOT {name} holds {} files, but {} of the {} files collectstatic gathers are missing: {}{more}",
                present.len(),
                missing.len(),
                expected.len(),
                sample.join(", ")
            ))
            .evidence(evidence(&missing)));
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
        return Ok(Outcome::fail(format!(
            "STATIC_ROOT {name} holds {} files, but not the admin's admin/css/base.css",
            present.len()
        ))
        .evidence(evidence(&[])));
    }
    if present.is_empty() {
        return Ok(Outcome::fail(format!("STATIC_ROOT {name} is empty")).evidence(evidence(&[])));
    }
    Ok(Outcome::pass(format!("STATIC_ROOT {name} holds {} files", present.len())).evidence(evidence(&[])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_source_name_the_line_not_the_value() {
        let src = r#"
import os
# "PASSWORD": "commented-out-secret",
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.mysql",
        "PASSWORD": "Hunter2-Literal",
        "USER": os.environ.get("RDS_USER_NAME", "django"),
    }
}
EMAIL_HOST_PASSWORD = 'mail-pass-123'
AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
STORAGES = {"default": {"BACKEND": "x", "OPTIONS": {"secret_key": "opt-secret-1"}}}
PW = os.environ.get("RDS_USER_PASSWORD", "fallback-pass")
OK = os.environ["RDS_USER_PASSWORD"]
EMPTY = {"PASSWORD": ""}
AUTH_PASSWORD_VALIDATORS = []
note = "ASIAABCDEFGHIJKLMNOP"
"#;
        let found = scan_source(src);
        let summary: Vec<(usize, &str)> = found.iter().map(|f| (f.line, f.what.as_str())).collect();
        assert_eq!(
            summary,
            vec![
                (7, "the database PASSWORD is written in the source"),
                (11, "EMAIL_HOST_PASSWORD is written in the source"),
                (12, "AWS_SECRET_ACCESS_KEY is written in the source"),
                (13, "AWS_ACCESS_KEY_ID is written in the source"),
                (14, "secret_key is written in the source"),
                (15, "the fallback value of RDS_USER_PASSWORD is written in the source"),
                (19, "an AWS access key id is written in the source"),
            ]
        );
        // The key id on line 13 is reported once, and no message holds a value.
        for f in &found {
            assert!(!f.what.contains(&f.value), "{f:?}");
        }
        assert_eq!(found[0].value, "Hunter2-Literal");
    }

    #[test]
    fn reference_settings_hold_no_secret() {
        let text = include_str!("../../../labs/pets_project/pets_project/settings.py");
        assert_eq!(scan_source(text), vec![]);
    }

    fn effective(raw: serde_json::Value) -> Effective {
        Effective {
            raw: serde_json::from_value(raw).unwrap(),
            python: Python {
                program: "python3".into(),
                source: "PATH",
            },
            project: PathBuf::from("/p"),
        }
    }

    #[test]
    fn production_settings_pass_and_local_ones_fail() {
        let good = effective(json!({
            "debug": false,
            "allowed_hosts": [".elasticbeanstalk.com", "localhost"],
            "storages": {"default": {"backend": "storages.backends.s3boto3.S3Boto3Storage"}},
            "aws_storage_bucket_name": "b1",
            "session_engine": "django.contrib.sessions.backends.cache",
            "session_cache_alias": "default",
            "caches": {"default": {"backend": "django.core.cache.backends.redis.RedisCache", "location": ["rediss://h:6379/0"]}},
            "databases": {"default": {"engine": "django.db.backends.mysql", "name": "pets", "host": "h", "password_set": true}},
        }));
        let v = judge(&good);
        assert!(v.problems.is_empty(), "{v:?}");
        assert_eq!(
            v.passed.join("; "),
            "DEBUG is off; ALLOWED_HOSTS admits .elasticbeanstalk.com; media on S3 (bucket b1); sessions in Redis over TLS (rediss://h:6379/0); database mysql pets on h"
        );
        let bad = effective(json!({
            "debug": true,
            "allowed_hosts": ["localhost"],
            "storages": {"default": {"backend": "django.core.files.storage.FileSystemStorage", "is_s3": false}},
            "session_engine": "django.contrib.sessions.backends.db",
            "caches": {"default": {"backend": "django.core.cache.backends.locmem.LocMemCache", "location": []}},
            "databases": {"default": {"engine": "django.db.backends.sqlite3", "name": "/p/db.sqlite3"}},
        }));
        assert_eq!(
            judge(&bad).problems,
            vec![
                "DEBUG is True",
                "ALLOWED_HOSTS ['localhost'] does not admit .elasticbeanstalk.com",
                "STORAGES['default'] is django.core.files.storage.FileSystemStorage, not S3 (storages.backends.s3.S3Storage)",
                "SESSION_ENGINE is django.contrib.sessions.backends.db: sessions are not kept in the cache (django.contrib.sessions.backends.cache)",
                "DATABASES['default'] is SQLite (db.sqlite3), not the RDS database",
            ]
        );
        let plain = effective(json!({
            "allowed_hosts": ["*"],
            "session_engine": "django.contrib.sessions.backends.cached_db",
            "caches": {"default": {"backend": "django_redis.cache.RedisCache", "location": ["redis://***@h:6379"]}},
        }));
        let v = judge(&plain);
        assert!(
            v.problems.contains(
                &"the cache LOCATION redis://***@h:6379 does not use TLS: ElastiCache serverless needs rediss://"
                    .to_string()
            ),
            "{v:?}"
        );
        assert!(v.remarks[0].starts_with("ALLOWED_HOSTS holds '*'"), "{v:?}");
    }

    #[test]
    fn versions_compare() {
        assert!(version_at_least("5.2.19", 5, 2));
        assert!(version_at_least("6.0", 5, 2));
        assert!(!version_at_least("5.1.4", 5, 2));
        assert!(!version_at_least("4.2", 5, 2));
    }
}
