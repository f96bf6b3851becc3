//! `project.settings`: the effective Django settings (read by the probe,
//! with the settings module the environment would use), and the secrets
//! written in the project's files: literals in the settings' source, and
//! secret environment properties written in `.ebextensions`.
//!
//! No secret value is ever collected: the probe says which settings equal a
//! literal of the source (and where), the source scan says which lines
//! assign one, and messages name files and lines only.

use super::configs;
use super::ebextensions::Configs;
use super::files::{MAX_FILE, read_text};
use super::layout;
use super::layout::skipped_dir;
use super::probe::{Probe, Settings, probe};
use super::static_reading::{Fault, FaultKind, read};
use super::{shown, with_fix};
use crate::run::ProjectRun;
use labcheck_course::params::Param;
use labcheck_outcome::outcome::{CheckResult, Outcome};
use regex::Regex;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

const S3_BACKENDS: &[&str] = &[
    "storages.backends.s3boto3.S3Boto3Storage",
    "storages.backends.s3.S3Storage",
    "storages.backends.s3boto.S3BotoStorage",
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
    /// Among the problems: the media storage is not S3 (the hint then
    /// depends on the Django version).
    media_not_on_s3: bool,
}

/// The media bucket: the S3 storage's own option, its class attribute,
/// else AWS_STORAGE_BUCKET_NAME.
fn bucket(s: &Settings) -> Option<&str> {
    let d = &s.default_storage;
    d.bucket_name
        .as_deref()
        .or(d.class_bucket.as_deref())
        .or(s.aws_storage_bucket_name.as_deref())
        .filter(|b| !b.is_empty())
}

fn judge(s: &Settings, version: (u32, u32)) -> Verdict {
    let mut v = Verdict::default();

    if s.debug {
        v.problems.push("DEBUG is True".into());
    } else {
        v.passed.push("DEBUG is off".into());
    }

    // As Python would print the list.
    let hosts = format!(
        "[{}]",
        s.allowed_hosts
            .iter()
            .map(|h| format!("'{h}'"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if s.allowed_hosts.iter().any(|h| h == "*") {
        v.passed.push("ALLOWED_HOSTS admits any host".into());
        v.remarks.push(
            "ALLOWED_HOSTS holds '*', which admits any Host header: list \".elasticbeanstalk.com\" (and your own domain) instead"
                .into(),
        );
    } else if let Some(h) = s
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

    // Media: where the Django in use reads the default storage from.
    let ds = &s.default_storage;
    let backend = ds.backend.clone().unwrap_or_default();
    let named_s3 = S3_BACKENDS.contains(&backend.as_str());
    let on_s3 = match ds.is_s3 {
        Some(b) => b || named_s3,
        // Its class could not be imported here: judge by its name.
        None => named_s3 || backend.to_ascii_lowercase().contains("s3"),
    };
    let source = if ds.source.is_empty() {
        "the default storage".to_string()
    } else {
        ds.source.clone()
    };
    if !on_s3 {
        let shown_backend = if backend.is_empty() {
            "not set".to_string()
        } else {
            backend.clone()
        };
        let wanted = if version >= (4, 2) {
            "storages.backends.s3.S3Storage"
        } else {
            "storages.backends.s3boto3.S3Boto3Storage"
        };
        let mut p = format!("{source} is {shown_backend}, not S3 ({wanted})");
        if version >= (5, 1) && s.default_file_storage_set {
            p.push_str(&format!(
                "; DEFAULT_FILE_STORAGE is ignored since Django 5.1 (this project runs {}.{}): set STORAGES['default'] instead",
                version.0, version.1
            ));
        }
        v.problems.push(p);
        v.media_not_on_s3 = true;
    } else {
        if ds.is_s3.is_none()
            && let Some(e) = &ds.error
        {
            v.remarks.push(format!(
                "{source} {backend} could not be imported here ({}: {}); judged S3 by its name",
                e.kind, e.message
            ));
        }
        match bucket(s) {
            Some(b) => v.passed.push(format!("media on S3 (bucket {b})")),
            None => v.problems.push(format!(
                "media go to S3 ({source}), but AWS_STORAGE_BUCKET_NAME is empty"
            )),
        }
    }

    let engine = s.session_engine.clone().unwrap_or_default();
    let alias = s.session_cache_alias.clone().unwrap_or_else(|| "default".into());
    if !CACHE_SESSIONS.contains(&engine.as_str()) {
        v.problems.push(format!(
            "SESSION_ENGINE is {engine}: sessions are not kept in the cache (django.contrib.sessions.backends.cache)"
        ));
    } else {
        match s.caches.get(&alias) {
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

    match s.databases.get("default") {
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
    if !s.secret_key_set {
        v.remarks
            .push("SECRET_KEY is empty where labcheck runs: set the variable the settings read it from".into());
    }
    v
}

/// One secret written into a settings file. The value is never kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Finding {
    pub line: usize,
    pub what: String,
    /// An AWS credential: wrong in any file, graded or not.
    pub aws: bool,
    /// Set whatever the environment holds: an assignment at the top level
    /// of the module or an entry of a dict, not a fallback value or an
    /// assignment inside an `if` or `try`.
    pub certain: bool,
}

static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\{[a-z_]+\}").expect("regex"));

static STR: &str = r#"[rRuUbB]?(?:"([^"\n]+)"|'([^'\n]+)')"#;

static DICT_PASSWORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!(r#"["']PASSWORD["']\s*:\s*{STR}"#)).expect("regex"));
static SUBSCRIPT_PASSWORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!(r#"\[\s*["']PASSWORD["']\s*\]\s*=\s*{STR}"#)).expect("regex"));
static ASSIGNED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r#"^\s*([A-Z0-9_]*PASSWORD[A-Z0-9_]*|SECRET_KEY|AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID|AWS_SESSION_TOKEN)\s*(?::\s*[\w\[\], .]+)?=\s*{STR}"#
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
        r#"(?:environ\.get|getenv|environ\.setdefault)\(\s*["']([A-Za-z0-9_]*(?:PASSWORD|SECRET_KEY|SECRET_ACCESS_KEY|SESSION_TOKEN)[A-Za-z0-9_]*)["']\s*,\s*{STR}"#
    ))
    .expect("regex")
});
/// python-decouple's `config("X", default="...")`, django-environ's `env("X", default="...")`.
static CONFIG_DEFAULT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r#"\b(?:config|env|env\.str)\(\s*["']([A-Za-z0-9_]*(?:PASSWORD|SECRET_KEY|SECRET_ACCESS_KEY|SESSION_TOKEN)[A-Za-z0-9_]*)["']\s*,\s*(?:default\s*=\s*)?{STR}"#
    ))
    .expect("regex")
});
static KEY_ID: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b").expect("regex"));

/// Secrets written as literals in Python source: database passwords (also
/// as the default of an environment lookup), the secret key, AWS keys, and
/// anything shaped like an AWS access key id. Comment lines are skipped.
pub(super) fn scan_source(text: &str) -> Vec<Finding> {
    let mut found: Vec<Finding> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with('#') {
            continue;
        }
        let n = i + 1;
        let top_level = !line.starts_with([' ', '\t']);
        let mut push = |what: String, aws: bool, certain: bool| {
            if !found.iter().any(|f| f.line == n && (f.what == what || f.aws && aws)) {
                found.push(Finding {
                    line: n,
                    what,
                    aws,
                    certain,
                });
            }
        };
        if let Some(c) = ASSIGNED.captures(line) {
            let name = c[1].to_string();
            let aws = name.starts_with("AWS_");
            push(format!("{name} is written in the source"), aws, top_level);
        }
        for _ in DICT_PASSWORD.captures_iter(line) {
            push("the database PASSWORD is written in the source".into(), false, true);
        }
        for _ in SUBSCRIPT_PASSWORD.captures_iter(line) {
            push(
                "the database PASSWORD is written in the source".into(),
                false,
                top_level,
            );
        }
        for c in DICT_AWS.captures_iter(line) {
            push(format!("{} is written in the source", &c[1]), true, true);
        }
        for c in ENV_DEFAULT
            .captures_iter(line)
            .chain(CONFIG_DEFAULT.captures_iter(line))
        {
            let aws = c[1].starts_with("AWS_");
            push(
                format!("the fallback value of {} is written in the source", &c[1]),
                aws,
                false,
            );
        }
        if KEY_ID.is_match(line) {
            push("an AWS access key id is written in the source".into(), true, true);
        }
    }
    found
}

/// Settings files to scan: the graded ones, and any `*settings*.py` (or
/// file in a `settings` package) in the Django folder's top three levels.
fn settings_files(django: &Path, graded: &[PathBuf]) -> Vec<PathBuf> {
    let mut files: BTreeSet<PathBuf> = graded.iter().cloned().collect();
    let mut stack = vec![(django.to_path_buf(), 0)];
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries.flatten().take(1000) {
            let path = e.path();
            let name = e.file_name().to_string_lossy().to_string();
            let Ok(kind) = e.file_type() else { continue };
            if kind.is_dir() {
                if depth < 2 && !skipped_dir(&name) {
                    stack.push((path, depth + 1));
                }
            } else if name.ends_with(".py")
                && (name.contains("settings") || dir.file_name().is_some_and(|d| d == "settings"))
            {
                files.insert(path);
            }
        }
        if files.len() > 200 {
            break;
        }
    }
    files.into_iter().collect()
}

/// Names of environment properties that hold secrets.
fn secret_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    n.contains("PASSWORD") || n.contains("SECRET") || n.contains("TOKEN") || n == "AWS_ACCESS_KEY_ID"
}

/// Secret environment properties written in `.ebextensions`.
fn secrets_in_configs(c: &Configs) -> Vec<String> {
    c.env()
        .into_iter()
        .filter(|p| secret_name(&p.name))
        .filter(|p| {
            let v = p.value.trim();
            !v.is_empty() && !v.starts_with("{{resolve:") && !v.starts_with('$')
        })
        .map(|p| {
            format!(
                "{}: {} is written in the source bundle (an environment property): set it with eb setenv instead",
                p.at(),
                p.name
            )
        })
        .collect()
}

/// Notes where the settings name other resources than labcheck checks.
fn compare_with_params(acc: &dyn ProjectRun, s: &Settings) {
    let mut pairs = vec![(Param::Bucket, bucket(s).map(str::to_string))];
    if let Some(db) = s
        .databases
        .get("default")
        .filter(|d| !d.engine.as_deref().unwrap_or("").contains("sqlite"))
    {
        pairs.push((Param::DbName, db.name.clone()));
        pairs.push((Param::DbUser, db.user.clone()));
    }
    for (param, value) in pairs {
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            continue;
        };
        let checked = acc.param(param);
        if checked.is_empty() || value == checked {
            continue;
        }
        if checked.contains('{') {
            // Not known yet (the account, without AWS): compare with the
            // default's pattern.
            let pattern = format!("^{}$", regex::escape(&checked).replace(r"\{", "{").replace(r"\}", "}"));
            let pattern = PLACEHOLDER.replace_all(&pattern, "[^/]+");
            if Regex::new(&pattern).is_ok_and(|re| re.is_match(&value)) {
                continue;
            }
            acc.note(format!(
                "the settings use {param} `{value}`, but labcheck's default is `{checked}`; set `{param} = \"{value}\"` in labcheck.toml"
            ));
        } else {
            acc.note(format!(
                "the settings use {param} `{value}`, but labcheck checked `{checked}`; set `{param} = \"{value}\"` in labcheck.toml"
            ));
        }
    }
}

const SECRET_HINT: &str = "Read secrets from the environment, as in SECRET_KEY = os.environ[\"DJANGO_SECRET_KEY\"] and \"PASSWORD\": os.environ[\"RDS_USER_PASSWORD\"], with no fallback value; set them with eb setenv; give the app no AWS keys at all (boto3 uses the instance role on Beanstalk). A secret that was committed may have been shared: change it.";

/// The fix for this project: diffsettings with its own settings module.
fn fix_for(p: &Probe) -> Option<String> {
    p.module.as_ref()?;
    let prefix = p.dsm_prefix();
    Some(format!(
        "cd {} && {prefix}python manage.py diffsettings | grep -E '^(DEBUG|ALLOWED_HOSTS|SESSION_ENGINE|STORAGES|DEFAULT_FILE_STORAGE|DATABASES) '",
        p.django().display()
    ))
}

/// Problems of the settings as written, from their text alone: they fail
/// whatever running the settings reports. Each is `file:line: what`.
fn plain_faults(faults: &[Fault], django_rel: &dyn Fn(&str) -> String) -> Vec<(FaultKind, String)> {
    faults
        .iter()
        .map(|f| {
            let what = match f.what {
                FaultKind::DebugTrue => "DEBUG = True is written in the settings",
                FaultKind::SecretKey => "SECRET_KEY is written in the source",
                FaultKind::Sqlite => "DATABASES['default'] is SQLite, written in the settings",
                FaultKind::DatabasePassword => "the database PASSWORD is written in the source",
            };
            (f.what, format!("{}: {what}", django_rel(&f.at)))
        })
        .collect()
}

/// Puts what the text shows in place of what the running settings
/// reported, where they differ; where they agree, says where it is written.
fn overrule(v: &mut Verdict, faults: &[(FaultKind, String)]) {
    for (kind, line) in faults {
        let at = line.split(": ").next().unwrap_or_default();
        let (said, passed) = match kind {
            FaultKind::DebugTrue => ("DEBUG is True", "DEBUG is off"),
            FaultKind::Sqlite => ("DATABASES['default'] is SQLite", "database "),
            // Secrets are listed with the other secrets.
            FaultKind::SecretKey | FaultKind::DatabasePassword => continue,
        };
        match v.problems.iter_mut().find(|p| p.starts_with(said)) {
            Some(p) => p.push_str(&format!(" (written in {at})")),
            None => {
                v.passed.retain(|p| !p.starts_with(passed));
                v.problems.push(format!(
                    "{said} as written in {at}, whatever the running settings reported"
                ));
            }
        }
    }
}

/// Grades the project of `acc`'s run.
pub async fn check(acc: Arc<dyn ProjectRun>) -> CheckResult {
    let (outcome, on_the_text) = judge_settings(&*acc).await;
    // A failure the text alone shows rests on the files, not on what the
    // project's code reported.
    Ok(if on_the_text {
        outcome
    } else {
        super::probe::on_its_word(&*acc, outcome).await
    })
}

/// The verdict, and whether it rests on the settings' text alone.
async fn judge_settings(acc: &dyn ProjectRun) -> (Outcome, bool) {
    let l = layout(acc).await;
    let c = configs(acc).await;
    let probed = probe(acc).await;
    let Some(django) = l.django.clone() else {
        let (message, hint) = l.no_django();
        return (Outcome::fail(message).hint(hint), true);
    };
    if let Err(t @ super::Trouble::Ungraded { .. }) = &probed {
        return (t.outcome(), true);
    }
    let p = probed.as_ref().ok();
    let settings = match &probed {
        Ok(p) => p.settings(),
        Err(t) => Err(t.clone()),
    };

    // The settings module the environment would use, found without running
    // anything, and its text.
    let module = super::probe::static_module(acc).await.map(|m| m.name);
    let reading = module.as_deref().map(|m| read(&django, m)).unwrap_or_default();
    let django_rel = |at: &str| {
        let rel = l.django_shown().filter(|d| d != ".");
        match rel {
            Some(d) => format!("{d}/{at}"),
            None => at.to_string(),
        }
    };
    let faults = reading.faults();
    let plain = plain_faults(&faults, &django_rel);
    let plain_at: BTreeSet<String> = faults.iter().map(|f| f.at.clone()).collect();
    // Which files hold the settings graded: the text's own imports, and
    // those the running settings loaded.
    let mut graded: Vec<PathBuf> = reading.files.clone();
    if let Some(p) = p {
        for f in &p.out.settings_files {
            let f = django.join(f);
            if !graded.contains(&f) {
                graded.push(f);
            }
        }
    }
    let files = settings_files(&django, &graded);
    let effective_literals: BTreeSet<String> = settings
        .as_ref()
        .map(|s| s.secret_literals.values().cloned().collect())
        .unwrap_or_default();

    let mut secrets: Vec<String> = Vec::new();
    let mut remarks: Vec<String> = Vec::new();
    let mut cut = Vec::new();
    // Empty package markers are scanned, but not worth naming.
    let files: Vec<PathBuf> = files
        .into_iter()
        .filter(|f| !(f.ends_with("__init__.py") && std::fs::metadata(f).is_ok_and(|m| m.len() == 0)))
        .collect();
    for file in &files {
        let Ok(text) = read_text(file, MAX_FILE) else { continue };
        if text.cut {
            cut.push(shown(file, &l.bundle));
        }
        let name = shown(file, &django);
        let is_graded = graded.contains(file);
        for f in scan_source(&text.text) {
            let at = format!("{name}:{}", f.line);
            if effective_literals.contains(&at) || plain_at.contains(&at) {
                continue; // said below, from the probe or the text
            }
            let line = format!("{}:{}: {}", shown(file, &l.bundle), f.line, f.what);
            // With the settings read, only AWS credentials fail from the
            // scan: the probe names the literals the settings use, and a
            // literal they do not use (a development fallback) is left
            // alone. Without them, literals in the graded files fail too.
            if f.aws || (settings.is_err() && is_graded && f.certain) {
                secrets.push(line);
            }
        }
    }
    // A secret the text shows is listed whatever the running settings
    // reported; where they report using that very literal, it says so.
    let used: BTreeMap<&str, &str> = settings
        .as_ref()
        .map(|s| {
            s.secret_literals
                .iter()
                .map(|(name, at)| (at.as_str(), name.as_str()))
                .collect()
        })
        .unwrap_or_default();
    for (fault, (kind, line)) in faults.iter().zip(&plain) {
        if !matches!(kind, FaultKind::SecretKey | FaultKind::DatabasePassword) {
            continue;
        }
        secrets.push(match used.get(fault.at.as_str()) {
            Some(name) => format!(
                "{}: {name} is written in the source, and is the value the settings use",
                django_rel(&fault.at)
            ),
            None => line.clone(),
        });
    }
    if let Ok(s) = &settings {
        for (name, at) in &s.secret_literals {
            if plain_at.contains(at) {
                continue;
            }
            secrets.push(format!(
                "{}: {name} is written in the source, and is the value the settings use",
                django_rel(at)
            ));
        }
    }
    secrets.extend(secrets_in_configs(&c));
    let scanned: Vec<String> = files.iter().map(|f| shown(f, &l.bundle)).collect();
    if !cut.is_empty() {
        remarks.push(format!(
            "{} larger than 1 MB: only the beginning was scanned (the input was cut)",
            cut.join(", ")
        ));
    }

    let fix = p.and_then(|p| fix_for(p));
    let finish = |o: Outcome| match &fix {
        Some(f) => with_fix(o, f),
        None => o,
    };
    let on_the_text = !plain.is_empty();
    let s = match settings {
        Ok(s) => s,
        Err(trouble) if secrets.is_empty() && plain.is_empty() => return (finish(trouble.outcome()), false),
        Err(trouble) => {
            let mut shown_faults: Vec<String> = plain
                .iter()
                .filter(|(k, _)| matches!(k, FaultKind::DebugTrue | FaultKind::Sqlite))
                .map(|(_, l)| l.clone())
                .collect();
            shown_faults.extend(secrets.iter().cloned());
            let outcome = Outcome::fail(format!(
                "{}; the effective settings could not be read: {}",
                shown_faults.join("; "),
                trouble.message()
            ))
            .hint(SECRET_HINT)
            .evidence(json!({"secrets_in_source": secrets, "scanned": scanned, "written_in_the_settings": plain_lines(&plain)}));
            return (finish(outcome), true);
        }
    };
    let probe = p.expect("settings came from the probe");
    compare_with_params(acc, s);
    let version = probe.django_version();
    let mut v = judge(s, version);
    overrule(&mut v, &plain);
    v.problems.extend(secrets.iter().cloned());
    v.remarks.extend(remarks);
    let evidence = json!({
        "python": probe.python.program.display().to_string(),
        "python_from": probe.python.source,
        "django_version": probe.out.django_version,
        "python_version": probe.out.python_version,
        "settings_module": probe.module,
        "layout": l.describe(),
        "environment_from_ebextensions": probe.env_from_ebextensions,
        "effective": s,
        "settings_files": probe.out.settings_files,
        "scanned": scanned,
        "secrets_in_source": secrets,
        "written_in_the_settings": plain_lines(&plain),
    });
    let graded_name = probe.settings_named();
    let mut message = if v.problems.is_empty() {
        let source = if scanned.is_empty() {
            "no settings file found to scan".to_string()
        } else {
            format!("no password, secret key or AWS key written in {}", scanned.join(", "))
        };
        format!("{graded_name}: {}; {source}", v.passed.join("; "))
    } else {
        format!("{graded_name}: {}", v.problems.join("; "))
    };
    if !v.remarks.is_empty() {
        message.push_str(&format!(" (note: {})", v.remarks.join("; ")));
    }
    if v.problems.is_empty() {
        return (finish(Outcome::pass(message).evidence(evidence)), false);
    }
    let outcome = Outcome::fail(message).evidence(evidence);
    let outcome = finish(if !secrets.is_empty() {
        outcome.hint(SECRET_HINT)
    } else if v.media_not_on_s3 && version < (4, 2) {
        outcome.hint(format!(
            "This project runs Django {}.{}, which has no STORAGES setting: store media on S3 with DEFAULT_FILE_STORAGE = \"storages.backends.s3boto3.S3Boto3Storage\" and AWS_STORAGE_BUCKET_NAME. Set DEBUG = False, admit .elasticbeanstalk.com in ALLOWED_HOSTS, keep sessions in a rediss:// Redis cache (SESSION_ENGINE django.contrib.sessions.backends.cache), and data in MySQL; read every secret from the environment.",
            version.0, version.1
        ))
    } else {
        outcome
    });
    (outcome, on_the_text)
}

fn plain_lines(plain: &[(FaultKind, String)]) -> Vec<&str> {
    plain.iter().map(|(_, l)| l.as_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_in_source_name_the_line_never_the_value() {
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
SECRET_KEY = 'django-insecure-abc123'
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "fallback-key")
SECRET_KEY = config('SECRET_KEY', default='decouple-fallback')
DATABASES["default"]["PASSWORD"] = "subscript-pass"
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
"#;
        let found = scan_source(src);
        let summary: Vec<(usize, &str, bool)> = found.iter().map(|f| (f.line, f.what.as_str(), f.aws)).collect();
        let certain: Vec<usize> = found.iter().filter(|f| f.certain).map(|f| f.line).collect();
        assert_eq!(certain, vec![7, 11, 12, 13, 14, 19, 20, 23]);
        assert_eq!(
            summary,
            vec![
                (7, "the database PASSWORD is written in the source", false),
                (11, "EMAIL_HOST_PASSWORD is written in the source", false),
                (12, "AWS_SECRET_ACCESS_KEY is written in the source", true),
                (13, "AWS_ACCESS_KEY_ID is written in the source", true),
                (14, "secret_key is written in the source", true),
                (
                    15,
                    "the fallback value of RDS_USER_PASSWORD is written in the source",
                    false
                ),
                (19, "an AWS access key id is written in the source", true),
                (20, "SECRET_KEY is written in the source", false),
                (
                    21,
                    "the fallback value of DJANGO_SECRET_KEY is written in the source",
                    false
                ),
                (22, "the fallback value of SECRET_KEY is written in the source", false),
                (23, "the database PASSWORD is written in the source", false),
            ]
        );
    }

    #[test]
    fn reference_settings_hold_only_the_development_fallback_key() {
        let text = include_str!("../../../../labs/pets_project/pets_project/settings.py");
        let found = scan_source(text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].what, "SECRET_KEY is written in the source");
        // It is a development fallback inside an `if`: not certain.
        assert!(!found[0].certain);
    }

    fn settings(raw: serde_json::Value) -> Settings {
        serde_json::from_value(raw).unwrap()
    }

    #[test]
    fn production_settings_pass_and_local_ones_fail() {
        let good = settings(json!({
            "debug": false,
            "allowed_hosts": [".elasticbeanstalk.com", "localhost"],
            "default_storage": {"backend": "storages.backends.s3boto3.S3Boto3Storage", "is_s3": true, "source": "STORAGES['default']"},
            "aws_storage_bucket_name": "b1",
            "session_engine": "django.contrib.sessions.backends.cache",
            "session_cache_alias": "default",
            "caches": {"default": {"backend": "django.core.cache.backends.redis.RedisCache", "location": ["rediss://h:6379/0"]}},
            "databases": {"default": {"engine": "django.db.backends.mysql", "name": "pets", "host": "h", "password_set": true}},
            "secret_key_set": true,
        }));
        let v = judge(&good, (5, 2));
        assert!(v.problems.is_empty(), "{v:?}");
        assert_eq!(
            v.passed.join("; "),
            "DEBUG is off; ALLOWED_HOSTS admits .elasticbeanstalk.com; media on S3 (bucket b1); sessions in Redis over TLS (rediss://h:6379/0); database mysql pets on h"
        );
        let bad = settings(json!({
            "debug": true,
            "allowed_hosts": ["localhost"],
            "default_storage": {"backend": "django.core.files.storage.FileSystemStorage", "is_s3": false, "source": "STORAGES['default']"},
            "session_engine": "django.contrib.sessions.backends.db",
            "caches": {"default": {"backend": "django.core.cache.backends.locmem.LocMemCache", "location": []}},
            "databases": {"default": {"engine": "django.db.backends.sqlite3", "name": "/p/db.sqlite3"}},
            "secret_key_set": true,
        }));
        assert_eq!(
            judge(&bad, (5, 2)).problems,
            vec![
                "DEBUG is True",
                "ALLOWED_HOSTS ['localhost'] does not admit .elasticbeanstalk.com",
                "STORAGES['default'] is django.core.files.storage.FileSystemStorage, not S3 (storages.backends.s3.S3Storage)",
                "SESSION_ENGINE is django.contrib.sessions.backends.db: sessions are not kept in the cache (django.contrib.sessions.backends.cache)",
                "DATABASES['default'] is SQLite (db.sqlite3), not the RDS database",
            ]
        );
    }

    #[test]
    fn storage_is_judged_by_the_django_in_use() {
        // Django 3.2: DEFAULT_FILE_STORAGE is where media go.
        let old = settings(json!({
            "default_storage": {"backend": "storages.backends.s3boto3.S3Boto3Storage", "is_s3": true, "source": "DEFAULT_FILE_STORAGE"},
            "aws_storage_bucket_name": "media-b",
        }));
        let v = judge(&old, (3, 2));
        assert!(v.passed.contains(&"media on S3 (bucket media-b)".to_string()), "{v:?}");
        let local = settings(json!({
            "default_storage": {"backend": "django.core.files.storage.FileSystemStorage", "is_s3": false, "source": "DEFAULT_FILE_STORAGE"},
        }));
        assert!(judge(&local, (2, 2)).problems.contains(
            &"DEFAULT_FILE_STORAGE is django.core.files.storage.FileSystemStorage, not S3 (storages.backends.s3boto3.S3Boto3Storage)".to_string()
        ));
        // A project's own subclass, with its bucket as a class attribute.
        let custom = settings(json!({
            "default_storage": {"backend": "mysite.storage.MediaStorage", "is_s3": true, "class_bucket": "cls-b", "source": "DEFAULT_FILE_STORAGE"},
        }));
        assert!(
            judge(&custom, (3, 1))
                .passed
                .contains(&"media on S3 (bucket cls-b)".to_string())
        );
        // Django 5.1 ignores DEFAULT_FILE_STORAGE.
        let ignored = settings(json!({
            "default_storage": {"backend": "django.core.files.storage.FileSystemStorage", "is_s3": false, "source": "STORAGES['default']"},
            "default_file_storage_set": true,
        }));
        assert!(judge(&ignored, (5, 1)).problems[1].ends_with(
            "DEFAULT_FILE_STORAGE is ignored since Django 5.1 (this project runs 5.1): set STORAGES['default'] instead"
        ));
    }

    #[test]
    fn secret_environment_properties_in_ebextensions_are_named() {
        let text = "option_settings:\n  aws:elasticbeanstalk:application:environment:\n    DJANGO_SECRET_KEY: \"abc\"\n    RDS_PASSWORD: '{{resolve:secretsmanager:db}}'\n    DEBUG: 'False'\n";
        let doc: serde_norway::Value = serde_norway::from_str(text).unwrap();
        let c = Configs {
            exists: true,
            settings: super::super::ebextensions::option_settings(".ebextensions/django.config", text, &doc).unwrap(),
            ..Configs::default()
        };
        assert_eq!(
            secrets_in_configs(&c),
            vec![
                ".ebextensions/django.config:3: DJANGO_SECRET_KEY is written in the source bundle (an environment property): set it with eb setenv instead"
            ]
        );
    }
}
