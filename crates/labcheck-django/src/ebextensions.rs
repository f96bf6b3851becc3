//! The `.ebextensions/*.config` files (YAML) at the root of the source
//! bundle, read: their option settings (environment properties among them)
//! and commands, each where it was written. How the platform starts the app is judged here too; labcheck's
//! `project.ebextensions` check adds the static files, which need the
//! project's settings as its code reports them.

use crate::files::{MAX_FILE, read_text};
use crate::layout::Layout;
use crate::procfile::{self, Web};
use crate::shown;
use serde_norway::Value;
use std::path::{Path, PathBuf};

/// The Python platform's options (WSGIPath).
pub const PYTHON_NS: &str = "aws:elasticbeanstalk:container:python";
/// The proxy's static file mappings.
pub const STATIC_NS: &str = "aws:elasticbeanstalk:environment:proxy:staticfiles";
/// The static files namespace of the retired Amazon Linux AMI platform.
pub const OLD_STATIC_NS: &str = "aws:elasticbeanstalk:container:python:staticfiles";
/// Environment properties; also where an option without a namespace goes.
pub const ENV_NS: &str = "aws:elasticbeanstalk:application:environment";
/// Where the bundle lands on the instances.
pub const APP_ROOT: &str = "/var/app/current";
/// The same on the retired Amazon Linux AMI platform.
const AMI_APP_ROOT: &str = "/opt/python/current/app";
/// More `.config` files than this is not a project labcheck grades.
const MAX_CONFIGS: usize = 100;
/// YAML nested deeper than this is refused (Beanstalk's own files are 3 deep).
const MAX_DEPTH: usize = 32;

/// One option setting, where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionSetting {
    /// The file it is in (`.ebextensions/x.config`).
    pub file: String,
    /// 1-based line, when it could be found.
    pub line: Option<usize>,
    /// The option's namespace.
    pub namespace: String,
    /// The option's name.
    pub name: String,
    /// Its value, as text.
    pub value: String,
}

impl OptionSetting {
    /// `file:line`, or the file alone.
    pub fn at(&self) -> String {
        match self.line {
            Some(n) => format!("{}:{n}", self.file),
            None => self.file.clone(),
        }
    }
}

/// A `commands` or `container_commands` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    /// The file it is in.
    pub file: String,
    /// 1-based line, when it could be found.
    pub line: Option<usize>,
    /// The entry's name.
    pub name: String,
    /// The command it runs.
    pub command: String,
    /// Under `container_commands` (run in the extracted bundle), not
    /// `commands` (run before the bundle is extracted, outside it).
    pub container: bool,
}

impl Command {
    /// `file:line`, or the file alone.
    pub fn at(&self) -> String {
        match self.line {
            Some(n) => format!("{}:{n}", self.file),
            None => self.file.clone(),
        }
    }
}

/// Everything read from `.ebextensions`.
#[derive(Clone, Debug, Default)]
pub struct Configs {
    /// The folder exists (as a folder).
    pub exists: bool,
    /// The folder exists but could not be listed.
    pub unreadable: Option<String>,
    /// Every option setting, in file order.
    pub settings: Vec<OptionSetting>,
    /// Every command, in file order.
    pub commands: Vec<Command>,
    /// `file:line: ...` problems that make a file wrong.
    pub errors: Vec<String>,
    /// The `.config` files read.
    pub files: Vec<String>,
    /// Files of the folder Beanstalk does not read (not `.config`).
    pub ignored: Vec<String>,
}

impl Configs {
    /// The last setting of an option (later files override earlier ones).
    pub fn last(&self, ns: &str, name: &str) -> Option<&OptionSetting> {
        self.settings.iter().rev().find(|s| s.namespace == ns && s.name == name)
    }

    /// Environment properties, the last value of each name.
    pub fn env(&self) -> Vec<&OptionSetting> {
        let mut out: Vec<&OptionSetting> = Vec::new();
        for s in self.settings.iter().filter(|s| s.namespace == ENV_NS) {
            out.retain(|o| o.name != s.name);
            out.push(s);
        }
        out
    }

    /// Folders of the bundle that PYTHONPATH (an environment property) adds.
    pub fn python_path(&self) -> Vec<PathBuf> {
        let Some(p) = self.last(ENV_NS, "PYTHONPATH") else {
            return Vec::new();
        };
        p.value
            .split(':')
            .filter_map(|entry| {
                let entry = entry.trim();
                let rel = entry
                    .strip_prefix(APP_ROOT)
                    .or_else(|| entry.strip_prefix(AMI_APP_ROOT))?;
                Some(PathBuf::from(rel.trim_start_matches('/')))
            })
            .collect()
    }

    /// A container command that runs collectstatic on each deployment.
    pub fn collectstatic(&self) -> Option<&Command> {
        self.commands
            .iter()
            .find(|c| c.container && c.command.contains("collectstatic"))
    }

    /// A `commands` entry that runs collectstatic: it runs before the
    /// bundle is extracted, outside the app's folder, so it does not
    /// collect the app's files.
    pub fn collectstatic_too_early(&self) -> Option<&Command> {
        self.commands
            .iter()
            .find(|c| !c.container && c.command.contains("collectstatic"))
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Tagged(t) => scalar(&t.value),
        _ => None,
    }
}

fn depth(v: &Value) -> usize {
    match v {
        Value::Sequence(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Mapping(m) => 1 + m.values().map(depth).max().unwrap_or(0),
        Value::Tagged(t) => depth(&t.value),
        _ => 0,
    }
}

/// How deep `[` and `{` nest in a YAML text, outside quoted scalars and
/// comments, in one pass.
fn flow_depth(text: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut quote: Option<char> = None;
    let mut prev = '\n';
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some('"'), '\\') => {
                chars.next();
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '#') if prev.is_whitespace() => {
                chars.by_ref().find(|&c| c == '\n');
                prev = '\n';
                continue;
            }
            // A quoted scalar starts a token, never inside a plain one (it's).
            (None, '"' | '\'') if prev.is_whitespace() || matches!(prev, '[' | '{' | ',' | ':' | '-') => {
                quote = Some(c)
            }
            (None, '[' | '{') => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            (None, ']' | '}') => depth = depth.saturating_sub(1),
            _ => {}
        }
        prev = c;
    }
    deepest
}

/// Settings and commands of one file given a line number.
const MAX_LOCATED: usize = 200;

/// The first line of `text` that mentions `needle` (serde_norway's values
/// carry no positions; this is close enough to point the learner at it).
fn line_of(text: &str, needle: &str) -> Option<usize> {
    text.lines().position(|l| l.contains(needle)).map(|i| i + 1)
}

/// The option settings of one parsed `.config` file, in both of the forms
/// Beanstalk accepts: a mapping `namespace: {option: value}` and a list of
/// `{namespace, option_name, value}`.
pub fn option_settings(file: &str, text: &str, doc: &Value) -> Result<Vec<OptionSetting>, String> {
    let Some(settings) = doc.as_mapping().and_then(|m| m.get("option_settings")) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let mut push = |namespace: &str, name: &str, value: String| {
        out.push(OptionSetting {
            file: file.to_string(),
            // Each search reads the text: the first MAX_LOCATED only (a file
            // of 35,000 settings took minutes).
            line: (out.len() < MAX_LOCATED).then(|| line_of(text, name)).flatten(),
            namespace: namespace.to_string(),
            name: name.to_string(),
            value,
        });
    };
    match settings {
        Value::Mapping(namespaces) => {
            for (ns, options) in namespaces {
                let ns = scalar(ns).unwrap_or_default();
                match options {
                    Value::Mapping(options) => {
                        for (name, value) in options {
                            push(
                                &ns,
                                &scalar(name).unwrap_or_default(),
                                scalar(value).unwrap_or_default(),
                            );
                        }
                    }
                    // `namespace:` with nothing under it sets nothing.
                    Value::Null => {}
                    _ => return Err(format!("option_settings → {ns} must map option names to values")),
                }
            }
        }
        Value::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                let get = |k: &str| item.as_mapping().and_then(|m| m.get(k)).and_then(scalar);
                let Some(name) = get("option_name") else {
                    return Err(format!("option_settings item {} has no option_name", i + 1));
                };
                let ns = get("namespace").unwrap_or_else(|| ENV_NS.to_string());
                push(&ns, &name, get("value").unwrap_or_default());
            }
        }
        Value::Null => {}
        _ => return Err("option_settings must be a mapping or a list".into()),
    }
    Ok(out)
}

/// The `commands` and `container_commands` of one parsed file.
fn commands(file: &str, text: &str, doc: &Value) -> Vec<Command> {
    let mut out = Vec::new();
    for key in ["commands", "container_commands"] {
        let Some(Value::Mapping(entries)) = doc.as_mapping().and_then(|m| m.get(key)) else {
            continue;
        };
        for (name, entry) in entries {
            let name = scalar(name).unwrap_or_default();
            let command = match entry {
                Value::Mapping(m) => match m.get("command") {
                    Some(Value::Sequence(words)) => words.iter().filter_map(scalar).collect::<Vec<_>>().join(" "),
                    Some(v) => scalar(v).unwrap_or_default(),
                    None => String::new(),
                },
                v => scalar(v).unwrap_or_default(),
            };
            out.push(Command {
                file: file.to_string(),
                line: (out.len() < MAX_LOCATED).then(|| line_of(text, &name)).flatten(),
                name,
                command,
                container: key == "container_commands",
            });
        }
    }
    out
}

/// Parses every `.ebextensions/*.config` of the bundle, in the order
/// Beanstalk applies them (by name). Errors name the file, line and column.
pub fn read_configs(bundle: &Path) -> Configs {
    let dir = bundle.join(".ebextensions");
    let mut c = Configs::default();
    match std::fs::symlink_metadata(&dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return c,
        Err(e) => {
            c.unreadable = Some(e.to_string());
            return c;
        }
        Ok(_) => {}
    }
    match std::fs::metadata(&dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            c.unreadable = Some("it is a file, not a folder".into());
            return c;
        }
        Err(e) => {
            c.unreadable = Some(e.to_string());
            return c;
        }
    }
    c.exists = true;
    let mut names: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect(),
        Err(e) => {
            c.unreadable = Some(e.to_string());
            return c;
        }
    };
    names.sort();
    for path in names {
        let name = shown(&path, bundle);
        if path.extension().is_none_or(|x| x != "config") {
            c.ignored.push(name);
            continue;
        }
        if c.files.len() >= MAX_CONFIGS {
            c.errors.push(format!(
                ".ebextensions holds more than {MAX_CONFIGS} .config files: the rest were not read"
            ));
            break;
        }
        c.files.push(name.clone());
        let text = match read_text(&path, MAX_FILE) {
            Ok(t) if t.cut => {
                c.errors.push(format!(
                    "{name}: larger than {} KB: not read (the input was cut)",
                    MAX_FILE / 1024
                ));
                continue;
            }
            Ok(t) => t.text,
            Err(e) => {
                c.errors.push(format!("{name}: cannot read: {e}"));
                continue;
            }
        };
        // Checked before parsing: the YAML scanner takes quadratic time on
        // deep flow collections (200 KB of `{a: ` took minutes).
        if flow_depth(&text) > MAX_DEPTH {
            c.errors
                .push(format!("{name}: nests deeper than {MAX_DEPTH} levels: not read"));
            continue;
        }
        let doc: Value = match serde_norway::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                let at = e
                    .location()
                    .map_or(name.clone(), |l| format!("{name}:{}:{}", l.line(), l.column()));
                let reason = e.to_string();
                let reason = reason.split(" at line ").next().unwrap_or(&reason).to_string();
                let tabs = if text.contains('\t') {
                    " (the file holds tab characters: YAML indents with spaces only)"
                } else {
                    ""
                };
                c.errors.push(format!("{at}: not valid YAML: {reason}{tabs}"));
                continue;
            }
        };
        if depth(&doc) > MAX_DEPTH {
            c.errors
                .push(format!("{name}: nests deeper than {MAX_DEPTH} levels: not read"));
            continue;
        }
        match option_settings(&name, &text, &doc) {
            Ok(s) => c.settings.extend(s),
            Err(e) => c.errors.push(format!("{name}: {e}")),
        }
        c.commands.extend(commands(&name, &text, &doc));
    }
    c
}

/// Whether `module[:callable]`, imported with `bases` on the path (folders
/// relative to the bundle), names a file of the bundle that defines the
/// callable. `key` says where the value was written.
pub fn check_app(bundle: &Path, bases: &[PathBuf], key: &str, value: &str) -> Result<String, String> {
    let value = value.trim();
    let (module, callable) = value.split_once(':').unwrap_or((value, "application"));
    let callable = callable.trim_end_matches("()");
    if module.is_empty() || !module.split('.').all(procfile::module_part) {
        return Err(format!(
            "{key} is {value:?}, not a Python module path such as mysite.wsgi:application"
        ));
    }
    let rel = module.replace('.', "/");
    let file = bases
        .iter()
        .flat_map(|b| {
            [
                bundle.join(b).join(format!("{rel}.py")),
                bundle.join(b).join(&rel).join("__init__.py"),
            ]
        })
        .find(|p| p.is_file());
    let Some(file) = file else {
        let mut looked: Vec<String> = Vec::new();
        for b in bases {
            let p = b.join(format!("{rel}.py")).display().to_string();
            if !looked.contains(&p) {
                looked.push(p);
            }
        }
        return Err(format!(
            "{key} is {value}, but {} does not exist in the source bundle",
            looked.join(" or ")
        ));
    };
    let text = read_text(&file, MAX_FILE).map(|t| t.text).unwrap_or_default();
    let first = callable.split('.').next().unwrap_or(callable);
    let defines = text.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with(&format!("def {first}("))
            || l.strip_prefix(first)
                .is_some_and(|rest| rest.trim_start().starts_with('=') && !rest.trim_start().starts_with("=="))
            || (l.starts_with("from ") || l.starts_with("import "))
                && l.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .any(|w| w == first)
    });
    if !defines {
        return Err(format!(
            "{key} is {value}, but {} defines no {first}",
            shown(&file, bundle)
        ));
    }
    Ok(value.to_string())
}

/// The file of the WSGI module the platform starts (the Procfile's app,
/// else WSGIPath's module), with its name for messages.
pub fn wsgi_file(l: &Layout, c: &Configs) -> Option<(PathBuf, String)> {
    let web = procfile::read(&l.bundle).ok().flatten();
    let (value, mut bases) = match &web {
        Some(w) => (w.app.clone()?, w.bases.clone()),
        None => (c.last(PYTHON_NS, "WSGIPath")?.value.clone(), vec![PathBuf::new()]),
    };
    bases.extend(c.python_path());
    if let Some(d) = l.django_shown().filter(|d| d != ".") {
        bases.push(PathBuf::from(d));
    }
    let module = value
        .split(':')
        .next()?
        .trim()
        .trim_end_matches(".py")
        .replace('.', "/");
    let module = module.trim_start_matches("./").to_string();
    bases
        .iter()
        .map(|b| l.bundle.join(b).join(format!("{module}.py")))
        .find(|p| p.is_file())
        .map(|p| {
            let name = shown(&p, &l.bundle);
            (p, name)
        })
}

/// The module a WSGIPath file path names (`/opt/python/current/app/web/
/// site/wsgi.py` → `site.wsgi:application`), counted from the folder of
/// `bases` (the bundle root, PYTHONPATH) or the Django folder that holds
/// it; the Django folder is returned when it must be added to PYTHONPATH.
pub fn module_of_wsgi_file(value: &str, bases: &[PathBuf], django: Option<&str>) -> (String, Option<String>) {
    let (path, callable) = value.split_once(':').unwrap_or((value, "application"));
    let mut path = path.trim();
    for root in [
        "/opt/python/current/app/",
        "/opt/python/bundle/current/app/",
        "/var/app/current/",
    ] {
        path = path.strip_prefix(root).unwrap_or(path);
    }
    let path = path.trim_start_matches("./").trim_end_matches(".py");
    let under = |base: &str| path.strip_prefix(base).and_then(|r| r.strip_prefix('/'));
    let from_base = bases
        .iter()
        .filter_map(|b| b.to_str())
        .filter(|b| !b.is_empty())
        .filter_map(|b| under(b.trim_end_matches('/')))
        .min_by_key(|r| r.len());
    let (rel, pythonpath) = match (from_base, django.filter(|d| *d != ".")) {
        (Some(r), _) => (r, None),
        (None, Some(d)) => match under(d) {
            Some(r) => (r, Some(d.to_string())),
            None => (path, None),
        },
        (None, None) => (path, None),
    };
    (format!("{}:{callable}", rel.replace('/', ".")), pythonpath)
}

/// How the platform starts the app, judged.
pub fn judge_start(l: &Layout, c: &Configs, web: Option<&Web>) -> (Result<String, String>, Vec<String>) {
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
pub fn clean_folder(folder: &str) -> String {
    let f = folder.trim().trim_start_matches("./").trim_end_matches('/');
    if f.is_empty() { ".".to_string() } else { f.to_string() }
}

/// The URL path static files are served under (`STATIC_URL`'s path, no
/// trailing slash); None when STATIC_URL points at another host.
pub fn static_prefix(static_url: Option<&str>) -> Option<String> {
    let url = static_url.unwrap_or("/static/").trim();
    if url.contains("://") || url.starts_with("//") {
        return None;
    }
    Some(format!("/{}", url.trim_matches('/')))
}

/// A mapping of the proxy that serves `prefix`: its URL path is `prefix`
/// or a parent of it; returns the mapping and the folder (relative to the
/// bundle) that answers `prefix`.
pub fn mapping_for<'a>(c: &'a Configs, prefix: &str) -> Option<(&'a OptionSetting, String)> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn settings_of(text: &str) -> Vec<OptionSetting> {
        let doc: Value = serde_norway::from_str(text).unwrap();
        option_settings(".ebextensions/django.config", text, &doc).unwrap()
    }

    fn configs_of(text: &str) -> Configs {
        Configs {
            exists: true,
            settings: settings_of(text),
            files: vec![".ebextensions/django.config".into()],
            ..Configs::default()
        }
    }

    #[test]
    fn ami_file_paths_are_turned_into_the_module_gunicorn_loads() {
        let root = [PathBuf::new()];
        // Absolute, below a Django folder that PYTHONPATH does not name.
        assert_eq!(
            module_of_wsgi_file("/opt/python/current/app/web/hepcat/wsgi.py", &root, Some("web")),
            ("hepcat.wsgi:application".into(), Some("web".into()))
        );
        // Below a folder PYTHONPATH names: no PYTHONPATH advice.
        assert_eq!(
            module_of_wsgi_file(
                "web/hepcat/wsgi.py",
                &[PathBuf::new(), PathBuf::from("web")],
                Some("web")
            ),
            ("hepcat.wsgi:application".into(), None)
        );
        assert_eq!(
            module_of_wsgi_file("./mysite/wsgi.py:app", &root, Some(".")),
            ("mysite.wsgi:app".into(), None)
        );
    }

    #[test]
    fn module_paths_are_taken_as_importlib_takes_them() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        std::fs::create_dir_all(p.join("ERP-Template")).unwrap();
        std::fs::write(p.join("ERP-Template/wsgi.py"), "application = 1\n").unwrap();
        let root = [PathBuf::new(), PathBuf::new()];
        assert!(check_app(p, &root, "k", "ERP-Template.wsgi:application").is_ok());
        assert!(check_app(p, &root, "k", "-x.wsgi:application").is_err());
        // Each file looked for is named once, however often its folder is listed.
        let e = check_app(p, &root, "k", "nosuch.wsgi:application").unwrap_err();
        assert_eq!(
            e,
            "k is nosuch.wsgi:application, but nosuch/wsgi.py does not exist in the source bundle"
        );
    }

    fn bundle() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("mysite")).unwrap();
        std::fs::write(
            dir.path().join("mysite/wsgi.py"),
            "import os\nfrom django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("manage.py"), "").unwrap();
        dir
    }

    #[test]
    fn both_forms_of_option_settings_are_read() {
        let mapping = configs_of(
            "option_settings:\n  aws:elasticbeanstalk:container:python:\n    WSGIPath: pets_project.wsgi:application\n  aws:elasticbeanstalk:environment:proxy:staticfiles:\n    /static: static\n",
        );
        let list = configs_of(
            "option_settings:\n  - namespace: aws:elasticbeanstalk:container:python\n    option_name: WSGIPath\n    value: pets_project.wsgi:application\n  - namespace: aws:elasticbeanstalk:environment:proxy:staticfiles\n    option_name: /static\n    value: static\n  - option_name: DJANGO_DEBUG\n    value: 0\n",
        );
        for c in [&mapping, &list] {
            let w = c.last(PYTHON_NS, "WSGIPath").unwrap();
            assert_eq!(w.value, "pets_project.wsgi:application");
            assert_eq!(w.line, Some(3));
            assert_eq!(c.last(STATIC_NS, "/static").unwrap().value, "static");
        }
        assert_eq!(list.env()[0].name, "DJANGO_DEBUG");
        assert_eq!(list.env()[0].value, "0");
        let doc: Value = serde_norway::from_str("option_settings: 3").unwrap();
        assert!(option_settings("f", "", &doc).is_err());
        let doc: Value = serde_norway::from_str("packages:\n  yum: {}\n").unwrap();
        assert_eq!(option_settings("f", "", &doc).unwrap(), vec![]);
    }

    #[test]
    fn python_path_and_commands_are_read() {
        let text = "option_settings:\n  aws:elasticbeanstalk:application:environment:\n    PYTHONPATH: \"/var/app/current/web:$PYTHONPATH\"\ncontainer_commands:\n  01_migrate:\n    command: \"python web/manage.py migrate\"\n    leader_only: true\n  02_collectstatic:\n    command: \"python web/manage.py collectstatic --noinput\"\n";
        let doc: Value = serde_norway::from_str(text).unwrap();
        let mut c = configs_of(text);
        c.commands = commands(".ebextensions/django.config", text, &doc);
        assert_eq!(c.python_path(), vec![PathBuf::from("web")]);
        let cs = c.collectstatic().unwrap();
        assert_eq!((cs.name.as_str(), cs.line), ("02_collectstatic", Some(8)));
        // Under `commands`, it runs before the bundle is extracted.
        let text = "commands:\n  02_collectstatic:\n    command: \"python manage.py collectstatic --noinput\"\n    ignoreErrors: true\n";
        let doc: Value = serde_norway::from_str(text).unwrap();
        c.commands = commands(".ebextensions/django.config", text, &doc);
        assert!(c.collectstatic().is_none());
        assert_eq!(
            c.collectstatic_too_early().map(|c| c.at()).as_deref(),
            Some(".ebextensions/django.config:2")
        );
    }

    #[test]
    fn apps_must_name_a_module_of_the_bundle() {
        let dir = bundle();
        let p = dir.path();
        let base = [PathBuf::new()];
        assert_eq!(
            check_app(p, &base, "k", "mysite.wsgi:application"),
            Ok("mysite.wsgi:application".into())
        );
        assert!(check_app(p, &base, "k", "mysite.wsgi").is_ok());
        assert_eq!(
            check_app(p, &base, "k", "pets.wsgi:application"),
            Err("k is pets.wsgi:application, but pets/wsgi.py does not exist in the source bundle".into())
        );
        assert!(
            check_app(p, &base, "k", "mysite.wsgi:app")
                .unwrap_err()
                .ends_with("but mysite/wsgi.py defines no app")
        );
        assert!(check_app(p, &base, "k", "my site:x").is_err());
        // Found through a second base (PYTHONPATH, --chdir).
        std::fs::create_dir_all(p.join("web/core")).unwrap();
        std::fs::write(p.join("web/core/wsgi.py"), "application = 1\n").unwrap();
        assert!(check_app(p, &[PathBuf::new(), PathBuf::from("web")], "k", "core.wsgi:application").is_ok());
    }

    #[test]
    fn the_procfile_wins_over_wsgi_path() {
        let dir = bundle();
        let l = crate::layout::find(dir.path());
        let c = configs_of(
            "option_settings:\n  aws:elasticbeanstalk:container:python:\n    WSGIPath: wrong.wsgi:application\n",
        );
        let web = procfile::parse("web: gunicorn --bind :8000 mysite.wsgi:application\n");
        let (start, notes) = judge_start(&l, &c, web.as_ref());
        assert_eq!(
            start,
            Ok("the Procfile starts mysite.wsgi:application with gunicorn".into())
        );
        assert!(
            notes[0].contains("WSGIPath wrong.wsgi:application is not used"),
            "{notes:?}"
        );
        let (start, _) = judge_start(&l, &c, None);
        assert!(start.unwrap_err().contains("wrong/wsgi.py does not exist"));
        // The development server is no way to serve the app.
        let good = configs_of(
            "option_settings:\n  aws:elasticbeanstalk:container:python:\n    WSGIPath: mysite.wsgi:application\n",
        );
        let dev = procfile::parse("web: python manage.py runserver 0.0.0.0:$PORT\n");
        assert_eq!(
            judge_start(&l, &good, dev.as_ref()).0,
            Err("Procfile:1 runs Django's development server (python manage.py runserver 0.0.0.0:$PORT), which Django says not to use in production (it has had no security audit or performance testing): start the app with gunicorn, web: gunicorn --bind :8000 mysite.wsgi:application".into())
        );
        let old =
            configs_of("option_settings:\n  aws:elasticbeanstalk:container:python:\n    WSGIPath: mysite/wsgi.py\n");
        assert_eq!(
            judge_start(&l, &old, None).0,
            Err(".ebextensions/django.config:3: option_settings → aws:elasticbeanstalk:container:python → WSGIPath is mysite/wsgi.py, a file path (the retired Amazon Linux AMI form); the platform's gunicorn needs a module: mysite.wsgi:application".into())
        );
        let none = configs_of(
            "option_settings:\n  aws:elasticbeanstalk:environment:proxy:staticfiles:\n    /static: static\n",
        );
        assert!(
            judge_start(&l, &none, None)
                .0
                .unwrap_err()
                .starts_with("no Procfile, and no .ebextensions")
        );
    }

    #[test]
    fn mappings_serve_a_prefix_or_its_parent() {
        let c = configs_of(
            "option_settings:\n  aws:elasticbeanstalk:environment:proxy:staticfiles:\n    /static/: ./www/static/\n    /assets: public\n",
        );
        assert_eq!(mapping_for(&c, "/static").map(|(_, f)| f), Some("www/static".into()));
        assert_eq!(
            mapping_for(&c, "/assets/static").map(|(_, f)| f),
            Some("public/static".into())
        );
        assert_eq!(mapping_for(&c, "/staticfiles").map(|(_, f)| f), None);
    }

    #[test]
    fn static_prefix_follows_static_url() {
        assert_eq!(static_prefix(None).as_deref(), Some("/static"));
        assert_eq!(static_prefix(Some("static/")).as_deref(), Some("/static"));
        assert_eq!(static_prefix(Some("/assets/")).as_deref(), Some("/assets"));
        assert_eq!(static_prefix(Some("https://cdn.example.com/s/")), None);
    }

    #[test]
    fn yaml_errors_name_file_line_and_column_and_deep_nesting_is_refused() {
        let dir = bundle();
        std::fs::create_dir_all(dir.path().join(".ebextensions")).unwrap();
        std::fs::write(
            dir.path().join(".ebextensions/django.config"),
            "option_settings:\n  aws:elasticbeanstalk:container:python:\n\tWSGIPath: x\n",
        )
        .unwrap();
        std::fs::write(dir.path().join(".ebextensions/notes.yml"), "x: 1\n").unwrap();
        std::fs::write(
            dir.path().join(".ebextensions/deep.config"),
            format!("x: {}{}\n", "[".repeat(40), "]".repeat(40)),
        )
        .unwrap();
        let c = read_configs(dir.path());
        assert_eq!(
            c.files,
            vec![".ebextensions/deep.config", ".ebextensions/django.config"]
        );
        assert_eq!(c.ignored, vec![".ebextensions/notes.yml"]);
        assert_eq!(
            c.errors[0],
            ".ebextensions/deep.config: nests deeper than 32 levels: not read"
        );
        assert!(
            c.errors[1].starts_with(".ebextensions/django.config:3:1: not valid YAML: "),
            "{:?}",
            c.errors
        );
        assert!(c.errors[1].ends_with("(the file holds tab characters: YAML indents with spaces only)"));
    }

    #[test]
    fn an_unreadable_folder_is_not_an_empty_one() {
        let dir = tempfile::tempdir().unwrap();
        // A symlink to itself cannot be listed, even by root.
        std::os::unix::fs::symlink(".ebextensions", dir.path().join(".ebextensions")).unwrap();
        let c = read_configs(dir.path());
        assert!(!c.exists);
        assert!(c.unreadable.is_some(), "{c:?}");
        let none = read_configs(&dir.path().join("nowhere"));
        assert!(!none.exists && none.unreadable.is_none());
    }
}
