//! The one run of the learner's Python for the whole step: `probe.py`,
//! run as a script in the Django folder with the settings module the
//! environment would use, sets Django up once and reports the effective
//! settings, what collectstatic would gather, and what `check --deploy`
//! prints, as JSON. It is started by whichever project check asks first
//! (none of them waits on AWS) and shared through the run's memo.
//!
//! When a part fails, the failure is told in the learner's terms: a problem
//! of the project (`fail`), or of the environment labcheck runs in (a
//! package or variable missing there: `error`, with the fix).

use super::configs;
use super::files::{MAX_FILE, read_text};
use super::isolation::{self, LearnerCode};
use super::layout;
use super::layout::{Layout, skipped_dir};
use super::{
    Launch, PYTHON_TIMEOUT, Python, Trouble, VENV_HINT, absolute, project_venv, resolve_python, run_python, shown,
};
use crate::process::RunError;
use crate::run::{ProjectRun, PropertiesError};
use labcheck_outcome::outcome::Basis;
use labcheck_outcome::outcome::Outcome;
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

/// The probe itself (linted with ruff; see scripts/test).
const PROBE_PY: &str = include_str!("probe.py");
/// The marker in front of the probe's JSON line (followed by the run's
/// nonce), so that whatever the project prints itself is ignored.
const MARKER: &str = "LABCHECK-PROBE ";

/// An exception in the learner's Python, as the probe describes it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default)]
pub(super) struct Failure {
    #[serde(rename = "type")]
    pub kind: String,
    /// With credentials in URLs and secret variables' values masked.
    pub message: String,
    /// The last place in the project's own files the traceback went through.
    #[serde(rename = "where")]
    pub at: Option<String>,
    pub raised_in_project: bool,
    pub raised_at: Option<String>,
    /// The module an ImportError could not find.
    pub module: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub(super) struct StorageInfo {
    pub backend: Option<String>,
    pub is_s3: Option<bool>,
    /// A `bucket_name` class attribute (custom S3 storage classes).
    pub class_bucket: Option<String>,
    #[serde(skip_serializing)]
    pub error: Option<Failure>,
    /// Where the Django in use reads it: `STORAGES['default']`, `DEFAULT_FILE_STORAGE`.
    pub source: String,
    pub bucket_name: Option<String>,
    pub location: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub(super) struct Cache {
    pub backend: Option<String>,
    pub location: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub(super) struct Database {
    pub engine: Option<String>,
    pub host: Option<String>,
    pub port: Option<String>,
    pub name: Option<String>,
    pub user: Option<String>,
    pub password_set: bool,
}

/// The effective settings the checks grade. No secret value is here: only
/// whether one is set, and where a secret equals a literal of the source.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub(super) struct Settings {
    pub debug: bool,
    pub allowed_hosts: Vec<String>,
    pub default_storage: StorageInfo,
    pub staticfiles_storage: StorageInfo,
    pub default_file_storage_set: bool,
    pub storages_set: bool,
    pub session_engine: Option<String>,
    pub session_cache_alias: Option<String>,
    pub caches: BTreeMap<String, Cache>,
    pub databases: BTreeMap<String, Database>,
    pub static_root: Option<String>,
    pub static_url: Option<String>,
    pub aws_storage_bucket_name: Option<String>,
    pub aws_s3_region_name: Option<String>,
    pub installed_apps: Vec<String>,
    pub middleware: Vec<String>,
    pub secret_key_set: bool,
    /// Setting name → `file:line` of the literal it equals.
    pub secret_literals: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub(super) struct Deploy {
    pub output: String,
    pub serious: bool,
}

/// Everything the probe printed.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub(super) struct Out {
    pub cwd: String,
    pub python_version: String,
    pub django_version: Option<String>,
    pub settings_module: Option<String>,
    pub settings_files: Vec<String>,
    pub settings_file: Option<String>,
    pub settings: Option<Settings>,
    #[serde(skip_serializing)]
    pub static_sources: Option<Vec<String>>,
    #[serde(skip_serializing)]
    pub deploy: Option<Deploy>,
    pub import_error: Option<Failure>,
    pub manage_py_error: Option<Failure>,
    pub settings_error: Option<Failure>,
    pub setup_error: Option<Failure>,
    pub static_error: Option<Failure>,
    pub deploy_error: Option<Failure>,
    pub probe_error: Option<Failure>,
}

/// The settings module graded, and where it comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(super) struct SettingsModule {
    pub name: String,
    pub from: String,
}

/// One probe of the project.
#[derive(Debug)]
pub(super) struct Probe {
    pub out: Out,
    pub python: Python,
    pub layout: Arc<Layout>,
    pub module: Option<SettingsModule>,
    /// Names (normalized) in the bundle's requirements, to tell a missing
    /// package from a missing app.
    pub requirements: Vec<String>,
    pub pinned_django: Option<String>,
    /// Environment properties from `.ebextensions` the probe was given.
    pub env_from_ebextensions: Vec<String>,
}

static SETDEFAULT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?m)^[^#\n]*DJANGO_SETTINGS_MODULE["']\s*(?:,|\]\s*=)\s*["']([\w.]+)["']"#).expect("regex")
});

/// The settings module the environment would use: an environment property
/// (`property`: its value, and where it is set, worded for messages) of
/// `.ebextensions` or the Beanstalk environment (Beanstalk sets it before
/// anything runs), else DJANGO_SETTINGS_MODULE where labcheck runs, else
/// the default of the WSGI module the platform starts (`wsgi`: its file and
/// its name for messages), else manage.py's default.
pub(super) fn settings_module(
    django: &Path,
    property: Option<(&str, String)>,
    env: Option<String>,
    wsgi: Option<(PathBuf, String)>,
) -> Option<SettingsModule> {
    if let Some((value, at)) = property.filter(|(v, _)| !v.trim().is_empty()) {
        return Some(SettingsModule {
            name: value.trim().to_string(),
            from: at,
        });
    }
    if let Some(v) = env.filter(|v| !v.trim().is_empty()) {
        return Some(SettingsModule {
            name: v.trim().to_string(),
            from: "DJANGO_SETTINGS_MODULE where labcheck runs".into(),
        });
    }
    if let Some((file, name)) = wsgi
        && let Ok(text) = read_text(&file, MAX_FILE)
        && let Some(c) = SETDEFAULT.captures(&text.text)
    {
        return Some(SettingsModule {
            name: c[1].to_string(),
            from: name,
        });
    }
    let manage = read_text(&django.join("manage.py"), MAX_FILE).ok()?;
    SETDEFAULT.captures(&manage.text).map(|c| SettingsModule {
        name: c[1].to_string(),
        from: "manage.py".into(),
    })
}

/// What the one run of the project's Python gave.
#[derive(Clone, Debug)]
struct Probed {
    result: Result<Arc<Probe>, Trouble>,
    /// The project's code ran: what it reported is its word.
    ran: bool,
    /// The settings module the environment would use, found without
    /// running anything.
    module: Option<SettingsModule>,
}

/// The memo's key for [`probe`].
#[derive(PartialEq, Eq, Hash)]
struct TheProbe;
impl labcheck_outcome::memo::MemoKey for TheProbe {
    type Value = Probed;
}

async fn probed(acc: &dyn ProjectRun) -> Probed {
    acc.memo().once(TheProbe, || run(acc)).await
}

/// The run's probe, made once. Err when it could not run at all.
pub(super) async fn probe(acc: &dyn ProjectRun) -> Result<Arc<Probe>, Trouble> {
    probed(acc).await.result
}

/// The settings module the environment would use, as found without running
/// the project (its code may say another).
pub(super) async fn static_module(acc: &dyn ProjectRun) -> Option<SettingsModule> {
    probed(acc).await.module
}

/// Marks `outcome` as resting on what the project's code reported, when
/// that code ran (a verdict of the files alone, or a check left out, is not).
pub(super) async fn on_its_word(acc: &dyn ProjectRun, outcome: Outcome) -> Outcome {
    let ran = probed(acc).await.ran;
    if ran && !outcome.ungraded && outcome.basis.is_none() {
        outcome.basis(Basis::LearnerCode)
    } else {
        outcome
    }
}

/// The environment properties the project's code is given, and what was
/// left out of them.
#[derive(Debug, Default)]
struct Given {
    /// Name and value of each property, in order.
    env: Vec<(String, String)>,
    /// Where each came from, for the evidence (`.ebextensions/x.config:3`).
    names: Vec<String>,
    /// Properties refused: they change how Python or the loader starts.
    refused: Vec<String>,
    /// `DJANGO_SETTINGS_MODULE` among them, and where it was set.
    module: Option<(String, String)>,
}

/// Where the Beanstalk environment's own properties are said to come from.
const FROM_BEANSTALK: &str = "the Beanstalk environment's properties";

impl Given {
    fn add(&mut self, name: &str, value: &str, at: String, someone_elses: bool) {
        if name.is_empty()
            || name.contains('=')
            || name.contains('\0')
            || value.contains('\0')
            // A dynamic reference (`{{resolve:ssm:NAME}}`) is resolved by
            // CloudFormation on deployment: its text is not the value the
            // settings get, so they read the variable as they do here.
            || value.trim_start().starts_with("{{resolve:")
        {
            return;
        }
        if name == "DJANGO_SETTINGS_MODULE" {
            self.module = Some((value.to_string(), at));
            return;
        }
        if name == "PYTHONPATH" {
            return; // made below from the bundle's folders
        }
        if someone_elses && isolation::refused_property(name) {
            if !self.refused.iter().any(|r| r.starts_with(&format!("{name} "))) {
                self.refused.push(format!("{name} ({at})"));
            }
            return;
        }
        self.env.retain(|(n, _)| n != name);
        self.names.retain(|n| n != name);
        self.env.push((name.to_string(), value.to_string()));
        self.names.push(name.to_string());
    }
}

/// The properties from `.ebextensions`; for someone else's project, the
/// Beanstalk environment's own on top (they win there, as on AWS), and
/// never a variable of labcheck's; for the learner's own, those their shell
/// does not set already.
async fn given(acc: &dyn ProjectRun, c: &super::ebextensions::Configs) -> Given {
    let someone_elses = acc.learner_code().is_someone_elses();
    let mut g = Given::default();
    for p in c.env() {
        if !someone_elses && std::env::var_os(&p.name).is_some() && p.name != "DJANGO_SETTINGS_MODULE" {
            continue;
        }
        g.add(&p.name, &p.value, p.at(), someone_elses);
    }
    if someone_elses {
        match acc.environment_properties().await {
            Ok(properties) => {
                for (name, value) in &properties {
                    g.add(name, value, FROM_BEANSTALK.into(), true);
                }
            }
            Err(PropertiesError::NoAws) => {}
            Err(e @ PropertiesError::Failed(_)) => acc.note(format!(
                "the Beanstalk environment's properties could not be read ({e}): the project's settings ran with those of .ebextensions only"
            )),
        }
    }
    for (name, value) in &g.env {
        if secret_property(name, value) {
            acc.add_secret(value);
        }
    }
    if !g.refused.is_empty() {
        acc.note(format!(
            "environment properties not given to the project's code, since they change how Python or the loader starts: {}",
            g.refused.join(", ")
        ));
    }
    g
}

/// A property whose value must never be shown.
fn secret_property(name: &str, value: &str) -> bool {
    let n = name.to_ascii_uppercase();
    ["PASSWORD", "SECRET", "TOKEN", "KEY", "CREDENTIAL", "DATABASE_URL"]
        .iter()
        .any(|w| n.contains(w))
        || (value.contains("://") && value.contains('@'))
}

async fn run(acc: &dyn ProjectRun) -> Probed {
    let mut module = None;
    let (result, ran) = run_once(acc, &mut module).await;
    Probed { result, ran, module }
}

async fn run_once(
    acc: &dyn ProjectRun,
    module_found: &mut Option<SettingsModule>,
) -> (Result<Arc<Probe>, Trouble>, bool) {
    let l = layout(acc).await;
    if !l.given.is_dir() {
        let t = Trouble::Fail {
            message: format!("project_dir {} is not a folder", l.given.display()),
            hint: "Run labcheck from your Django project folder (the one that holds manage.py), or point it there with --set project_dir=PATH.".into(),
        };
        return (Err(t), false);
    }
    let Some(django) = l.django.clone() else {
        let (message, hint) = l.no_django();
        return (Err(Trouble::Fail { message, hint }), false);
    };
    let code = acc.learner_code();
    let someone_elses = code.is_someone_elses();
    let c = configs(acc).await;
    let given = given(acc, &c).await;
    let module_property = given.module.as_ref().map(|(v, at)| {
        let at = if at == FROM_BEANSTALK {
            FROM_BEANSTALK.to_string()
        } else {
            format!("{at}, an environment property")
        };
        (v.as_str(), at)
    });
    let shell_module = (!someone_elses)
        .then(|| std::env::var("DJANGO_SETTINGS_MODULE").ok())
        .flatten();
    let mut module = settings_module(
        &django,
        module_property,
        shell_module,
        super::ebextensions::wsgi_file(&l, &c),
    );
    // Name manage.py from the bundle root, as the other files are named.
    if let (Some(m), Some(d)) = (module.as_mut(), l.django_shown().filter(|_| l.split()))
        && m.from == "manage.py"
    {
        m.from = format!("{d}/manage.py");
    }
    module_found.clone_from(&module);
    let python = resolve_python(acc, &[&django, &l.bundle]);
    if someone_elses && let Some(venv) = project_venv(&[&django, &l.bundle]) {
        acc.note(format!(
            "the project's own {} is not run: someone else's project runs with the grader's Python ({})",
            shown(&venv, &l.bundle),
            python.program.display()
        ));
    }
    let sandbox = match code {
        LearnerCode::Sandboxed => match isolation::sandbox_for(&python.program).await {
            Ok(s) => Some(s),
            Err(u) => {
                let t = Trouble::Ungraded {
                    message: u.message(),
                    hint: u.hint(),
                };
                return (Err(t), false);
            }
        },
        _ => None,
    };

    let mut env = given.env;
    let mut path: Vec<String> = c
        .python_path()
        .iter()
        .map(|p| l.bundle.join(p).display().to_string())
        .collect();
    // The web process runs from the bundle root, which gunicorn puts on
    // sys.path: modules named from there (`web.storage_backends` when
    // manage.py is in web/) import on the servers, so they must here.
    if l.split() {
        path.push(l.bundle.display().to_string());
    }
    if someone_elses {
        // Started with -E -S: the probe sets the path up itself, once it
        // has dropped what it must (see probe.py).
        env.push((PATH_VAR.into(), path.join(":")));
    } else if !path.is_empty() {
        path.extend(std::env::var("PYTHONPATH").ok().filter(|p| !p.is_empty()));
        env.push(("PYTHONPATH".into(), path.join(":")));
    }
    if let Some(m) = &module {
        env.push(("DJANGO_SETTINGS_MODULE".into(), m.name.clone()));
    }
    // The marker the probe's own line carries: the project cannot print it
    // by chance, nor by copying a line of an earlier run.
    let nonce = nonce();
    env.push((NONCE_VAR.into(), nonce.clone()));
    if let Some(sandbox) = &sandbox {
        env.push((PROCESSES_VAR.into(), isolation::LIMITS.processes.to_string()));
        if let Some(uid) = sandbox.probe_user() {
            env.push((USER_VAR.into(), uid.to_string()));
        }
    }
    let marker = format!("{MARKER}{nonce} ");
    let reqs = super::requirements::quick(&l.bundle);
    let pinned_django = reqs.iter().find(|r| r.name == "django").and_then(|r| r.pinned.clone());
    let requirements = reqs.into_iter().map(|r| r.name).collect();

    let launch = match (&sandbox, code) {
        (Some(sandbox), _) => Launch::Sandboxed {
            sandbox,
            project: &l.bundle,
        },
        (None, LearnerCode::Own) => Launch::Inherit,
        (None, _) => Launch::Cleared,
    };
    let args: &[&str] = if someone_elses {
        &["-E", "-S", "-c", PROBE_PY]
    } else {
        &["-c", PROBE_PY]
    };
    // The answer of an earlier run, when nothing it read has changed.
    let folder = acc.probe_cache_folder();
    let cache = super::probe_cache::Key::new(&super::probe_cache::Start {
        python: &python.program,
        project: &l.bundle,
        dir: &django,
        args,
        env: &env,
        volatile: &[NONCE_VAR],
        code,
        folder: folder.as_deref(),
        inherits: matches!(launch, Launch::Inherit),
    });
    let cached = cache.as_ref().and_then(super::probe_cache::find);
    let ran = match &cached {
        Some(answer) => Ok(super::probe_cache::as_ran(&marker, answer)),
        None => run_python(&python, &django, args, &env, PYTHON_TIMEOUT, launch).await,
    };
    let what = "running the project's Python";
    let program = python.program.display();
    let ran = match ran {
        Ok(ran) => ran,
        Err(RunError::NotFound(e)) => {
            let t = Trouble::Error {
                message: format!("cannot run Python {program} (from {}): {e}", python.source),
                hint: VENV_HINT.into(),
            };
            return (Err(t), false);
        }
        Err(RunError::Other(e)) => {
            let t = Trouble::Error {
                message: format!("cannot run {program}: {e}"),
                hint: VENV_HINT.into(),
            };
            return (Err(t), false);
        }
        Err(RunError::TimedOut) => {
            let t = Trouble::Error {
                message: format!(
                    "the project's Python (reading the settings, listing the static files, check --deploy) did not finish within {} s and was stopped",
                    PYTHON_TIMEOUT.as_secs()
                ),
                hint: format!(
                    "Run python manage.py check --deploy in {} to see where it hangs: settings that connect to a server when they are imported are a common cause.",
                    django.display()
                ),
            };
            return (Err(t), true);
        }
    };
    let Some(line) = ran.stdout.lines().rev().find_map(|l| l.strip_prefix(marker.as_str())) else {
        if ran.cut {
            let t = Trouble::Error {
                message: format!(
                    "the project printed more than {} MB while its settings were read; labcheck stopped it (the output was cut)",
                    crate::process::OUTPUT_CAP >> 20
                ),
                hint: "Find what prints so much when the settings are imported (python manage.py check shows it too), and make it quiet.".into(),
            };
            return (Err(t), true);
        }
        let last = ran
            .stderr
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("");
        if sandbox.is_some() && last.starts_with("bwrap: ") {
            let t = Trouble::Error {
                message: format!("the sandbox could not be built for this project: {last}"),
                hint: isolation::refused_hint(last),
            };
            return (Err(t), false);
        }
        let code = ran.code.map_or("a signal".to_string(), |c| format!("status {c}"));
        let t = Trouble::Error {
            message: format!("{what} ended ({code}) before it could report: {last}"),
            hint: format!(
                "Run python manage.py check in {} to see what stops it.",
                django.display()
            ),
        };
        return (Err(t), true);
    };
    let out: Out = match serde_json::from_str::<Out>(line) {
        Ok(out) => {
            if let (None, Some(key)) = (&cached, &cache)
                && out.import_error.is_none()
                && out.probe_error.is_none()
            {
                super::probe_cache::keep(key, line);
            }
            out
        }
        Err(e) => {
            let t = Trouble::Error {
                message: format!("labcheck could not read what its probe printed: {e}"),
                hint: String::new(),
            };
            return (Err(t), true);
        }
    };
    let probe = Probe {
        out,
        python,
        layout: l.clone(),
        module,
        requirements,
        pinned_django,
        env_from_ebextensions: given.names,
    };
    if let Some(f) = &probe.out.import_error {
        return (Err(probe.classify("importing Django", f)), true);
    }
    if let Some(f) = &probe.out.probe_error {
        return (Err(probe.classify(what, f)), true);
    }
    (Ok(Arc::new(probe)), true)
}

/// The variable that hands the probe its marker's nonce (taken out of the
/// environment before the project's code runs).
const NONCE_VAR: &str = "LABCHECK_PROBE_NONCE";
/// The variable that hands the probe the sandbox's process limit.
const PROCESSES_VAR: &str = "LABCHECK_PROBE_MAX_PROCESSES";
/// The variable that names the user the probe becomes (labcheck runs as root).
const USER_VAR: &str = "LABCHECK_PROBE_USER";
/// The variable that hands the probe the project's import path (the
/// interpreter, started with -E, reads no PYTHONPATH).
const PATH_VAR: &str = "LABCHECK_PROBE_PATH";

/// 128 random bits, in hex.
fn nonce() -> String {
    let mut bytes = [0u8; 16];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))
        .is_err()
    {
        // No /dev/urandom: the time and the process, still not printable by chance.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        bytes[..8].copy_from_slice(&(t.as_nanos() as u64).to_le_bytes());
        bytes[8..12].copy_from_slice(&std::process::id().to_le_bytes());
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Database drivers: a missing one is the environment's.
const DRIVERS: &[&str] = &[
    "MySQLdb",
    "pymysql",
    "psycopg2",
    "psycopg",
    "mysql",
    "cx_Oracle",
    "oracledb",
];

/// Import names whose distribution has another name.
const IMPORT_NAMES: &[(&str, &str)] = &[
    ("PIL", "pillow"),
    ("MySQLdb", "mysqlclient"),
    ("bs4", "beautifulsoup4"),
    ("cv2", "opencv"),
    ("sklearn", "scikit-learn"),
    ("Crypto", "pycryptodome"),
    ("django_filters", "django-filter"),
    ("social_django", "social-auth-app-django"),
    ("oauth2_provider", "django-oauth-toolkit"),
    ("rest_framework", "djangorestframework"),
    ("yaml", "pyyaml"),
    ("google", "google"),
    ("jose", "python-jose"),
];

fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// The requirement (normalized name) that provides import `top`, if any.
pub(super) fn requirement_for<'a>(top: &str, requirements: &'a [String]) -> Option<&'a String> {
    if let Some((_, dist)) = IMPORT_NAMES.iter().find(|(m, _)| *m == top)
        && let Some(r) = requirements.iter().find(|r| r.starts_with(dist))
    {
        return Some(r);
    }
    let m = squash(top);
    if m.len() < 3 {
        return requirements.iter().find(|r| squash(r) == m);
    }
    requirements.iter().find(|r| squash(r).contains(&m))
}

/// `KeyError: 'RDS_USER_PASSWORD'` → RDS_USER_PASSWORD, when it looks like
/// an environment variable.
fn missing_env_var(f: &Failure) -> Option<String> {
    let looks_like_var = |name: &str| {
        name.len() > 1
            && name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    };
    if f.kind == "KeyError" {
        let name = f.message.trim().trim_matches(|c| c == '\'' || c == '"');
        return looks_like_var(name).then(|| name.to_string());
    }
    // python-decouple: "X not found. Declare it as envvar or define a default value."
    if f.kind == "UndefinedValueError" {
        let name = f.message.split_whitespace().next()?;
        return looks_like_var(name).then(|| name.to_string());
    }
    // ImproperlyConfigured: "X is not set", django-environ's "Set the X environment variable".
    if f.kind == "ImproperlyConfigured" {
        let lower = f.message.to_ascii_lowercase();
        if !(lower.contains("environment") || lower.contains("not set")) {
            return None;
        }
        return f
            .message
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| w.len() > 2 && w.contains('_') && looks_like_var(w))
            .find(|w| std::env::var_os(w).is_none_or(|v| v.is_empty()))
            .map(str::to_string);
    }
    None
}

fn major_minor(version: &str) -> String {
    version.split('.').take(2).collect::<Vec<_>>().join(".")
}

impl Probe {
    pub(super) fn django(&self) -> &Path {
        self.layout.django.as_deref().unwrap_or(&self.layout.bundle)
    }

    pub(super) fn settings_module(&self) -> Option<&str> {
        self.out
            .settings_module
            .as_deref()
            .or(self.module.as_ref().map(|m| m.name.as_str()))
    }

    /// `DJANGO_SETTINGS_MODULE=x ` for commands run with manage.py, when
    /// the module graded is not manage.py's own default.
    pub(super) fn dsm_prefix(&self) -> String {
        let Some(m) = &self.module else {
            return String::new();
        };
        let managed = settings_module(self.django(), None, None, None);
        if managed.is_some_and(|d| d.name == m.name) {
            String::new()
        } else {
            format!("DJANGO_SETTINGS_MODULE={} ", m.name)
        }
    }

    /// "settings mysite.settings (from manage.py)", for messages.
    pub(super) fn settings_named(&self) -> String {
        match (&self.module, self.settings_module()) {
            (Some(m), _) => format!("settings {} (from {})", m.name, m.from),
            (None, Some(name)) => format!("settings {name}"),
            (None, None) => "settings".to_string(),
        }
    }

    /// The effective settings, or why they could not be read.
    pub(super) fn settings(&self) -> Result<&Settings, Trouble> {
        if let Some(f) = &self.out.settings_error {
            let what = match self.settings_module() {
                Some(m) => format!("reading the settings {m}"),
                None => "reading the settings".into(),
            };
            if self.settings_module().is_none() {
                return Err(Trouble::Fail {
                    message: "no settings module: manage.py sets no DJANGO_SETTINGS_MODULE, and neither .ebextensions nor the environment does".into(),
                    hint: "Set it in manage.py and wsgi.py as django-admin startproject does: os.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"mysite.settings\").".into(),
                });
            }
            return Err(self.classify(&what, f));
        }
        self.out.settings.as_ref().ok_or_else(|| Trouble::Error {
            message: "the probe reported no settings".into(),
            hint: String::new(),
        })
    }

    /// Whether Django could be set up (apps loaded), or why not.
    pub(super) fn setup(&self) -> Result<(), Trouble> {
        self.settings()?;
        match &self.out.setup_error {
            Some(f) => Err(self.classify(
                "setting Django up (django.setup(), which imports every installed app)",
                f,
            )),
            None => Ok(()),
        }
    }

    /// STATIC_ROOT as an absolute path (Python ran in the Django folder).
    pub(super) fn static_root(&self) -> Option<PathBuf> {
        let root = self.out.settings.as_ref()?.static_root.as_deref()?;
        Some(if Path::new(root).is_absolute() {
            absolute(Path::new(root))
        } else {
            absolute(&Path::new(&self.out.cwd).join(root))
        })
    }

    /// The Django version in use, as (major, minor).
    pub(super) fn django_version(&self) -> (u32, u32) {
        let v = self.out.django_version.as_deref().unwrap_or("0.0");
        let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
    }

    /// A module `top` exists somewhere in the bundle (not importable here).
    fn bundle_has_module(&self, top: &str) -> bool {
        let mut stack = vec![(self.layout.bundle.clone(), 0)];
        while let Some((dir, depth)) = stack.pop() {
            if dir.join(top).join("__init__.py").is_file() || dir.join(format!("{top}.py")).is_file() {
                return true;
            }
            if depth >= 3 {
                continue;
            }
            for e in std::fs::read_dir(&dir).into_iter().flatten().flatten().take(500) {
                if e.file_type().is_ok_and(|t| t.is_dir()) && !skipped_dir(&e.file_name().to_string_lossy()) {
                    stack.push((e.path(), depth + 1));
                }
            }
        }
        false
    }

    fn installed_app(&self, top: &str) -> bool {
        self.out
            .settings
            .as_ref()
            .is_some_and(|s| s.installed_apps.iter().any(|a| a.split('.').next() == Some(top)))
    }

    /// A failure of the learner's Python, told as the project's problem or
    /// the environment's.
    pub(super) fn classify(&self, what: &str, f: &Failure) -> Trouble {
        let program = self.python.program.display();
        let django = shown(self.django(), &self.layout.given);
        let at = f.at.as_deref().map(|a| format!(" at {a}")).unwrap_or_default();
        let install_hint = format!(
            "Install the project's packages into the Python labcheck uses (pip install -r requirements.txt), or point labcheck at the project's virtual environment. {VENV_HINT}"
        );
        let missing = f.module.clone().or_else(|| {
            f.message
                .split("No module named ")
                .nth(1)
                .map(|m| m.trim().trim_matches(|c| c == '\'' || c == '"').to_string())
        });
        if let Some(module) = missing.filter(|m| !m.is_empty()) {
            let top = module.split('.').next().unwrap_or(&module).to_string();
            if top == "django" {
                return Trouble::Error {
                    message: format!("Django is not importable with {program} (from {})", self.python.source),
                    hint: VENV_HINT.into(),
                };
            }
            if DRIVERS.contains(&top.as_str()) {
                return Trouble::Error {
                    message: format!("{what} stopped: the database driver {module} is not installed for {program}"),
                    hint: install_hint,
                };
            }
            if let Some(req) = requirement_for(&top, &self.requirements) {
                return Trouble::Error {
                    message: format!(
                        "{what} stopped{at}: the project needs {module} ({req} in requirements.txt), which is not installed for {program}"
                    ),
                    hint: install_hint,
                };
            }
            if self.bundle_has_module(&top) {
                return Trouble::Error {
                    message: format!(
                        "{what} stopped{at}: {module} is in the source bundle, but not importable from {django} with {program}"
                    ),
                    hint: "Run python manage.py check in the Django folder to see the whole traceback; if the project adds folders to sys.path or PYTHONPATH, labcheck needs the same.".into(),
                };
            }
            if self.installed_app(&top) || f.raised_in_project {
                return Trouble::Fail {
                    message: format!(
                        "{what} stopped{at}: {module} is neither a module of the project nor listed in requirements.txt"
                    ),
                    hint: format!(
                        "If {top} is one of your apps, add its folder to the repository (is it in .gitignore?); if it is a package, add it to requirements.txt; if it is gone, remove it from INSTALLED_APPS."
                    ),
                };
            }
            return Trouble::Error {
                message: format!("{what} stopped{at}: {module} is not installed for {program}"),
                hint: install_hint,
            };
        }
        let message = &f.message;
        if message.contains("Did you install mysqlclient")
            || message.contains("Error loading MySQLdb")
            || message.contains("Error loading psycopg")
        {
            return Trouble::Error {
                message: format!(
                    "{what} stopped: the database driver is not installed for {program} ({})",
                    message.lines().next().unwrap_or("")
                ),
                hint: install_hint,
            };
        }
        if let Some(var) = missing_env_var(f) {
            return Trouble::Error {
                message: format!(
                    "{what} stopped{at}: the settings need {var} from the environment, and it is not set where labcheck runs"
                ),
                hint: format!(
                    "Run labcheck from a shell where the app's variables are set (source ~/pets-lab.env, or export {var}=...), as on the servers."
                ),
            };
        }
        if message.contains("SECRET_KEY setting must not be empty") {
            return Trouble::Error {
                message: format!(
                    "{what} stopped: SECRET_KEY is empty where labcheck runs (the settings read it from a variable that is not set here)"
                ),
                hint: "Export the variable your settings read the secret key from, as on the servers, then run labcheck again.".into(),
            };
        }
        let running = self.out.django_version.as_deref().map(major_minor);
        if let (Some(running), Some(pinned)) = (&running, self.pinned_django.as_deref().map(major_minor))
            && *running != pinned
            && !f.raised_in_project
        {
            return Trouble::Error {
                message: format!(
                    "{what} stopped{at}: {}: {message}; the Python labcheck uses has Django {running}, but requirements.txt pins Django {pinned}",
                    f.kind
                ),
                hint: format!(
                    "Run labcheck with the project's own virtual environment, where requirements.txt is installed. {VENV_HINT}"
                ),
            };
        }
        Trouble::Fail {
            message: format!("{what} stopped{at}: {}: {message}", f.kind),
            hint: format!(
                "Run python manage.py check in {} to see the whole traceback, and fix what it names.",
                self.django().display()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe_with(out: Out, requirements: &[&str]) -> Probe {
        Probe {
            out,
            python: Python {
                program: "/v/bin/python".into(),
                source: "the python parameter",
            },
            layout: Arc::new(Layout {
                given: "/nonexistent/p".into(),
                bundle: "/nonexistent/p".into(),
                django: Some("/nonexistent/p".into()),
                other_django: vec![],
            }),
            module: None,
            requirements: requirements.iter().map(|r| r.to_string()).collect(),
            pinned_django: Some("4.2.11".into()),
            env_from_ebextensions: vec![],
        }
    }

    fn failure(kind: &str, message: &str) -> Failure {
        Failure {
            kind: kind.into(),
            message: message.into(),
            ..Failure::default()
        }
    }

    #[test]
    fn packages_are_matched_to_requirements() {
        let reqs: Vec<String> = [
            "djangorestframework",
            "django-storages",
            "pillow",
            "psycopg2-binary",
            "django-filter",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            requirement_for("rest_framework", &reqs).map(String::as_str),
            Some("djangorestframework")
        );
        assert_eq!(
            requirement_for("storages", &reqs).map(String::as_str),
            Some("django-storages")
        );
        assert_eq!(requirement_for("PIL", &reqs).map(String::as_str), Some("pillow"));
        assert_eq!(
            requirement_for("django_filters", &reqs).map(String::as_str),
            Some("django-filter")
        );
        assert_eq!(requirement_for("blog", &reqs), None);
    }

    #[test]
    fn failures_are_told_apart() {
        let mut out = Out {
            django_version: Some("4.2.30".into()),
            settings: Some(Settings {
                installed_apps: vec!["django.contrib.admin".into(), "blog.apps.BlogConfig".into()],
                ..Settings::default()
            }),
            ..Out::default()
        };
        out.settings_module = Some("mysite.settings".into());
        let p = probe_with(out, &["django", "django-storages"]);
        let is_error = |t: &Trouble| matches!(t, Trouble::Error { .. });

        // A local app missing from the repository is the project's.
        let mut f = failure("ModuleNotFoundError", "No module named 'blog'");
        f.module = Some("blog".into());
        let t = p.classify("x", &f);
        assert_eq!(
            t.message(),
            "x stopped: blog is neither a module of the project nor listed in requirements.txt"
        );
        assert!(!is_error(&t));
        // A package in requirements.txt that is not installed here is the environment's.
        f.module = Some("storages".into());
        let t = p.classify("x", &f);
        assert!(is_error(&t), "{t:?}");
        assert!(
            t.message()
                .contains("(django-storages in requirements.txt), which is not installed for /v/bin/python")
        );
        // So is a missing database driver, whichever way Django says it.
        f.module = Some("MySQLdb".into());
        assert!(is_error(&p.classify("x", &f)));
        let t = p.classify(
            "x",
            &failure(
                "ImproperlyConfigured",
                "Error loading MySQLdb module.\nDid you install mysqlclient?",
            ),
        );
        assert!(is_error(&t) && t.message().contains("database driver"), "{t:?}");
        // Variables that are not set here.
        let t = p.classify("x", &failure("KeyError", "'RDS_USER_PASSWORD'"));
        assert!(
            is_error(&t) && t.message().contains("need RDS_USER_PASSWORD from the environment"),
            "{t:?}"
        );
        let t = p.classify(
            "x",
            &failure(
                "UndefinedValueError",
                "SECRET_KEY not found. Declare it as envvar or define a default value.",
            ),
        );
        assert!(is_error(&t) && t.message().contains("need SECRET_KEY"), "{t:?}");
        let t = p.classify(
            "x",
            &failure(
                "ImproperlyConfigured",
                "Set the LABCHECK_TEST_UNSET_KEY environment variable",
            ),
        );
        assert!(is_error(&t), "{t:?}");
        // A configuration error about a setting is the project's.
        let mut f = failure(
            "ImproperlyConfigured",
            "The STATICFILES_DIRS setting should not contain the STATIC_ROOT setting.",
        );
        f.raised_in_project = false;
        let mut p2 = probe_with(p.out.clone(), &[]);
        p2.pinned_django = Some("4.2".into());
        assert!(matches!(p2.classify("x", &f), Trouble::Fail { .. }));
        // An error inside a package, with another Django than the pin: the environment's.
        p2.pinned_django = Some("2.2.28".into());
        let t = p2.classify(
            "x",
            &failure(
                "ImportError",
                "cannot import name 'ugettext_lazy' from 'django.utils.translation'",
            ),
        );
        assert!(is_error(&t) && t.message().contains("pins Django 2.2"), "{t:?}");
        // Django itself missing.
        let mut f = failure("ModuleNotFoundError", "No module named 'django'");
        f.module = Some("django".into());
        assert!(
            p.classify("x", &f)
                .message()
                .starts_with("Django is not importable with /v/bin/python")
        );
        // Anything else raised in the project's code is the project's, with the place.
        let mut f = failure("NameError", "name 'Path' is not defined");
        f.at = Some("mysite/settings.py:14".into());
        f.raised_in_project = true;
        assert_eq!(
            p.classify("x", &f).message(),
            "x stopped at mysite/settings.py:14: NameError: name 'Path' is not defined"
        );
    }

    #[test]
    fn the_settings_module_comes_from_the_environment_first() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("manage.py"),
            "import os\n# os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'old.settings')\ndef main():\n    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mysite.settings.dev')\n",
        )
        .unwrap();
        let m = settings_module(dir.path(), None, None, None).unwrap();
        assert_eq!((m.name.as_str(), m.from.as_str()), ("mysite.settings.dev", "manage.py"));
        // The WSGI module the platform starts comes before manage.py.
        std::fs::write(
            dir.path().join("wsgi.py"),
            "os.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"mysite.settings.prod\")\n",
        )
        .unwrap();
        let wsgi = Some((dir.path().join("wsgi.py"), "wsgi.py".to_string()));
        let m = settings_module(dir.path(), None, None, wsgi.clone()).unwrap();
        assert_eq!((m.name.as_str(), m.from.as_str()), ("mysite.settings.prod", "wsgi.py"));
        let m = settings_module(dir.path(), None, Some("mysite.settings.ci".into()), wsgi).unwrap();
        assert_eq!(m.name, "mysite.settings.ci");
        let m = settings_module(
            dir.path(),
            Some((
                "mysite.settings.production",
                ".ebextensions/django.config:4, an environment property".into(),
            )),
            Some("mysite.settings.ci".into()),
            None,
        )
        .unwrap();
        assert_eq!(
            (m.name.as_str(), m.from.as_str()),
            (
                "mysite.settings.production",
                ".ebextensions/django.config:4, an environment property"
            )
        );
        std::fs::write(
            dir.path().join("manage.py"),
            "os.environ[\"DJANGO_SETTINGS_MODULE\"] = \"a.b\"\n",
        )
        .unwrap();
        assert_eq!(settings_module(dir.path(), None, None, None).unwrap().name, "a.b");
    }
}
