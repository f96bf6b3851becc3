//! `project.ebextensions`: the `.ebextensions/*.config` files (YAML) that
//! tell Elastic Beanstalk which WSGI callable to start and which folder the
//! proxy serves at `/static`.

use super::{project_dir, relative_to, shown};
use crate::engine::account::Account;
use crate::engine::outcome::{CheckResult, Outcome};
use serde_json::json;
use serde_norway::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const PYTHON_NS: &str = "aws:elasticbeanstalk:container:python";
const STATIC_NS: &str = "aws:elasticbeanstalk:environment:proxy:staticfiles";
/// The static files namespace of the retired Amazon Linux AMI platform.
const OLD_STATIC_NS: &str = "aws:elasticbeanstalk:container:python:staticfiles";
/// Where an option without a namespace goes (the list form allows that).
const DEFAULT_NS: &str = "aws:elasticbeanstalk:application:environment";

/// One option setting, where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct OptionSetting {
    pub file: String,
    pub line: Option<usize>,
    pub namespace: String,
    pub name: String,
    pub value: String,
}

impl OptionSetting {
    fn at(&self) -> String {
        match self.line {
            Some(n) => format!("{}:{n}", self.file),
            None => self.file.clone(),
        }
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

/// The first line of `text` that mentions `needle` (serde_norway's values
/// carry no positions; this is close enough to point the learner at it).
fn line_of(text: &str, needle: &str) -> Option<usize> {
    text.lines().position(|l| l.contains(needle)).map(|i| i + 1)
}

/// The option settings of one parsed `.config` file, in both of the forms
/// Beanstalk accepts: a mapping `namespace: {option: value}` and a list of
/// `{namespace, option_name, value}`.
pub(super) fn option_settings(file: &str, text: &str, doc: &Value) -> Result<Vec<OptionSetting>, String> {
    let Some(settings) = doc.as_mapping().and_then(|m| m.get("option_settings")) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let mut push = |namespace: &str, name: &str, value: String| {
        out.push(OptionSetting {
            file: file.to_string(),
            line: line_of(text, name),
            namespace: namespace.to_string(),
            name: name.to_string(),
            value,
        });
    };
    match settings {
        Value::Mapping(namespaces) => {
            for (ns, options) in namespaces {
                let ns = scalar(ns).unwrap_or_default();
                let Some(options) = options.as_mapping() else {
                    return Err(format!("option_settings → {ns} must map option names to values"));
                };
                for (name, value) in options {
                    push(
                        &ns,
                        &scalar(name).unwrap_or_default(),
                        scalar(value).unwrap_or_default(),
                    );
                }
            }
        }
        Value::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                let get = |k: &str| item.as_mapping().and_then(|m| m.get(k)).and_then(scalar);
                let Some(name) = get("option_name") else {
                    return Err(format!("option_settings item {} has no option_name", i + 1));
                };
                let ns = get("namespace").unwrap_or_else(|| DEFAULT_NS.to_string());
                push(&ns, &name, get("value").unwrap_or_default());
            }
        }
        Value::Null => {}
        _ => return Err("option_settings must be a mapping or a list".into()),
    }
    Ok(out)
}

/// Parses every `.ebextensions/*.config`, in the order Beanstalk applies
/// them (by name). Errors name the file, line and column.
fn read_configs(project: &Path) -> (Vec<OptionSetting>, Vec<String>, Vec<String>, Vec<String>) {
    let dir = project.join(".ebextensions");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| rd.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    names.sort();
    let (mut settings, mut errors, mut files, mut ignored) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for path in names {
        let name = shown(&path, project);
        if path.extension().is_none_or(|x| x != "config") {
            ignored.push(name);
            continue;
        }
        files.push(name.clone());
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                errors.push(format!("{name}: cannot read: {e}"));
                continue;
            }
        };
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
                errors.push(format!("{at}: not valid YAML: {reason}{tabs}"));
                continue;
            }
        };
        match option_settings(&name, &text, &doc) {
            Ok(s) => settings.extend(s),
            Err(e) => errors.push(format!("{name}: {e}")),
        }
    }
    (settings, errors, files, ignored)
}

/// The last setting of an option (later files override earlier ones).
fn last<'a>(settings: &'a [OptionSetting], ns: &str, name: &str) -> Option<&'a OptionSetting> {
    settings.iter().rev().find(|s| s.namespace == ns && s.name == name)
}

/// What the WSGIPath says is wrong, if anything: the module (before `:`)
/// must be a file of the project, and the callable (after it, `application`
/// by default) must be named in that file.
pub(super) fn check_wsgi_path(project: &Path, s: &OptionSetting) -> Result<String, String> {
    let key = format!("{}: option_settings → {PYTHON_NS} → WSGIPath", s.at());
    let value = s.value.trim();
    if value.contains('/') || value.ends_with(".py") {
        let suggestion = value.trim_end_matches(".py").trim_start_matches("./").replace('/', ".");
        return Err(format!(
            "{key} is {value}, a file path (the retired Amazon Linux AMI form); the platform's gunicorn needs a module: {suggestion}:application"
        ));
    }
    let (module, callable) = value.split_once(':').unwrap_or((value, "application"));
    if module.is_empty()
        || !module
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '_'))
    {
        return Err(format!(
            "{key} is {value:?}, not a Python module path such as pets_project.wsgi:application"
        ));
    }
    let base = module.replace('.', "/");
    let file = [format!("{base}.py"), format!("{base}/__init__.py")]
        .into_iter()
        .map(|f| project.join(f))
        .find(|p| p.is_file());
    let Some(file) = file else {
        return Err(format!("{key} is {value}, but {base}.py does not exist in the project"));
    };
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    let defines = text.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with(&format!("def {callable}("))
            || l.strip_prefix(callable)
                .is_some_and(|rest| rest.trim_start().starts_with('=') && !rest.trim_start().starts_with("=="))
            || (l.starts_with("from ") || l.starts_with("import "))
                && l.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .any(|w| w == callable)
    });
    if !defines {
        return Err(format!(
            "{key} is {value}, but {} defines no {callable}",
            shown(&file, project)
        ));
    }
    Ok(value.to_string())
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
    let path = format!("/{}", url.trim_matches('/'));
    Some(path)
}

/// What is wrong with the static files mapping. `static_root` is the
/// effective STATIC_ROOT relative to the project (`Some(Err(abs))` when it
/// is outside), or None when the settings could not be read.
pub(super) fn check_static(
    project: &Path,
    settings: &[OptionSetting],
    prefix: &str,
    static_root: Option<Result<String, String>>,
) -> Result<String, String> {
    let mapping = settings
        .iter()
        .rev()
        .find(|s| s.namespace == STATIC_NS && s.name.trim_end_matches('/') == prefix);
    let Some(m) = mapping else {
        if let Some(old) = settings.iter().find(|s| s.namespace == OLD_STATIC_NS) {
            return Err(format!(
                "{}: {OLD_STATIC_NS} is the namespace of the retired Amazon Linux AMI platform; map {prefix} under {STATIC_NS}",
                old.at()
            ));
        }
        return Err(format!(
            "no option_settings → {STATIC_NS} maps {prefix} to a folder, so nothing serves the static files"
        ));
    };
    let folder = clean_folder(&m.value);
    let key = format!("{}: {STATIC_NS} → {}", m.at(), m.name);
    match static_root {
        Some(Ok(root)) if clean_folder(&root) == folder => Ok(format!("{prefix} → {folder}")),
        Some(Ok(root)) => Err(format!(
            "{key} is {}, but STATIC_ROOT is {root}: the proxy would serve a folder collectstatic does not fill",
            m.value
        )),
        Some(Err(outside)) => Err(format!(
            "STATIC_ROOT {outside} is outside the project folder, so the source bundle does not carry it; {key} is {}",
            m.value
        )),
        None if project.join(&folder).is_dir() => Ok(format!("{prefix} → {folder}")),
        None => Err(format!(
            "{key} is {}, a folder that does not exist in the project (run collectstatic)",
            m.value
        )),
    }
}

pub(super) async fn check(acc: Arc<Account>) -> CheckResult {
    let project = project_dir(&acc);
    if !project.join(".ebextensions").is_dir() {
        return Ok(Outcome::fail(format!(
            "no .ebextensions folder in {}",
            project.display()
        )));
    }
    let (settings, errors, files, ignored) = read_configs(&project);
    let evidence = |wsgi: Option<&str>, stat: Option<&str>| {
        json!({
            "files": files,
            "ignored": ignored,
            "option_settings": settings.iter().map(|s| json!({
                "file": s.file, "line": s.line, "namespace": s.namespace, "option": s.name, "value": s.value,
            })).collect::<Vec<_>>(),
            "wsgi_path": wsgi,
            "static": stat,
        })
    };
    if !errors.is_empty() {
        return Ok(Outcome::fail(errors.join("; ")).evidence(evidence(None, None)));
    }
    if files.is_empty() {
        let also = if ignored.is_empty() {
            String::new()
        } else {
            format!(
                " ({} ignored: Beanstalk reads only files ending in .config)",
                ignored.join(", ")
            )
        };
        return Ok(Outcome::fail(format!(".ebextensions holds no .config file{also}")).evidence(evidence(None, None)));
    }
    let mut problems = Vec::new();
    let wsgi = match last(&settings, PYTHON_NS, "WSGIPath") {
        None => {
            problems.push(format!(
                "no .ebextensions/*.config sets option_settings → {PYTHON_NS} → WSGIPath"
            ));
            None
        }
        Some(s) => match check_wsgi_path(&project, s) {
            Ok(v) => Some(v),
            Err(p) => {
                problems.push(p);
                None
            }
        },
    };
    let effective = super::effective_settings(&acc).await;
    let prefix = match &effective {
        Some(e) => static_prefix(e.raw.static_url.as_deref()),
        None => static_prefix(None),
    };
    let stat = match prefix {
        None => Some("STATIC_URL points at another host: no proxy mapping needed".to_string()),
        Some(prefix) => {
            let root = effective.as_ref().map(|e| match e.static_root() {
                None => Ok("not set".to_string()),
                Some(abs) => relative_to(&abs, &project)
                    .map(|r| r.display().to_string())
                    .ok_or_else(|| abs.display().to_string()),
            });
            match check_static(&project, &settings, &prefix, root) {
                Ok(v) => Some(v),
                Err(p) => {
                    problems.push(p);
                    None
                }
            }
        }
    };
    let ev = evidence(wsgi.as_deref(), stat.as_deref());
    Ok(if problems.is_empty() {
        Outcome::pass(format!(
            "{}: WSGIPath {} names a module of the project; static files {}",
            files.join(", "),
            wsgi.unwrap_or_default(),
            stat.unwrap_or_default()
        ))
        .evidence(ev)
    } else {
        Outcome::fail(problems.join("; ")).evidence(ev)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings_of(text: &str) -> Vec<OptionSetting> {
        let doc: Value = serde_norway::from_str(text).unwrap();
        option_settings(".ebextensions/django.config", text, &doc).unwrap()
    }

    fn project() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("pets_project")).unwrap();
        std::fs::write(
            dir.path().join("pets_project/wsgi.py"),
            "import os\nfrom django.core.wsgi import get_wsgi_application\napplication = get_wsgi_application()\n",
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join("static")).unwrap();
        dir
    }

    #[test]
    fn both_forms_of_option_settings_are_read() {
        let mapping = settings_of(
            "option_settings:\n  aws:elasticbeanstalk:container:python:\n    WSGIPath: pets_project.wsgi:application\n  aws:elasticbeanstalk:environment:proxy:staticfiles:\n    /static: static\n",
        );
        let list = settings_of(
            "option_settings:\n  - namespace: aws:elasticbeanstalk:container:python\n    option_name: WSGIPath\n    value: pets_project.wsgi:application\n  - namespace: aws:elasticbeanstalk:environment:proxy:staticfiles\n    option_name: /static\n    value: static\n  - option_name: DJANGO_DEBUG\n    value: 0\n",
        );
        for s in [&mapping, &list] {
            let w = last(s, PYTHON_NS, "WSGIPath").unwrap();
            assert_eq!(w.value, "pets_project.wsgi:application");
            assert_eq!(w.line, Some(3));
            assert_eq!(last(s, STATIC_NS, "/static").unwrap().value, "static");
        }
        assert_eq!(list[2].namespace, DEFAULT_NS);
        assert_eq!(list[2].value, "0");
        let doc: Value = serde_norway::from_str("option_settings: 3").unwrap();
        assert!(option_settings("f", "", &doc).is_err());
        let doc: Value = serde_norway::from_str("packages:\n  yum: {}\n").unwrap();
        assert_eq!(option_settings("f", "", &doc).unwrap(), vec![]);
    }

    fn wsgi(value: &str) -> OptionSetting {
        OptionSetting {
            file: ".ebextensions/django.config".into(),
            line: Some(3),
            namespace: PYTHON_NS.into(),
            name: "WSGIPath".into(),
            value: value.into(),
        }
    }

    #[test]
    fn wsgi_path_must_name_a_module_of_the_project() {
        let dir = project();
        let p = dir.path();
        assert_eq!(
            check_wsgi_path(p, &wsgi("pets_project.wsgi:application")),
            Ok("pets_project.wsgi:application".into())
        );
        assert!(check_wsgi_path(p, &wsgi("pets_project.wsgi")).is_ok());
        assert_eq!(
            check_wsgi_path(p, &wsgi("pets.wsgi:application")),
            Err(".ebextensions/django.config:3: option_settings → aws:elasticbeanstalk:container:python → WSGIPath is pets.wsgi:application, but pets/wsgi.py does not exist in the project".into())
        );
        assert_eq!(
            check_wsgi_path(p, &wsgi("pets_project/wsgi.py")),
            Err(".ebextensions/django.config:3: option_settings → aws:elasticbeanstalk:container:python → WSGIPath is pets_project/wsgi.py, a file path (the retired Amazon Linux AMI form); the platform's gunicorn needs a module: pets_project.wsgi:application".into())
        );
        assert!(
            check_wsgi_path(p, &wsgi("pets_project.wsgi:app"))
                .unwrap_err()
                .ends_with("but pets_project/wsgi.py defines no app")
        );
        assert!(check_wsgi_path(p, &wsgi("pets project:x")).is_err());
    }

    #[test]
    fn static_mapping_must_match_static_root() {
        let dir = project();
        let p = dir.path();
        let s = settings_of(
            "option_settings:\n  aws:elasticbeanstalk:environment:proxy:staticfiles:\n    /static/: ./static/\n",
        );
        assert_eq!(
            check_static(p, &s, "/static", Some(Ok("static".into()))),
            Ok("/static → static".into())
        );
        assert_eq!(
            check_static(p, &s, "/static", Some(Ok("staticfiles".into()))),
            Err(".ebextensions/django.config:3: aws:elasticbeanstalk:environment:proxy:staticfiles → /static/ is ./static/, but STATIC_ROOT is staticfiles: the proxy would serve a folder collectstatic does not fill".into())
        );
        assert!(
            check_static(p, &s, "/static", Some(Err("/srv/static".into())))
                .unwrap_err()
                .starts_with("STATIC_ROOT /srv/static is outside the project folder")
        );
        // Without settings, an existing folder will do.
        assert!(check_static(p, &s, "/static", None).is_ok());
        let s = settings_of(
            "option_settings:\n  aws:elasticbeanstalk:environment:proxy:staticfiles:\n    /static: assets\n",
        );
        assert!(
            check_static(p, &s, "/static", None)
                .unwrap_err()
                .ends_with("a folder that does not exist in the project (run collectstatic)")
        );
        let old = settings_of(
            "option_settings:\n  aws:elasticbeanstalk:container:python:staticfiles:\n    /static/: static/\n",
        );
        assert!(
            check_static(p, &old, "/static", None)
                .unwrap_err()
                .contains("retired Amazon Linux AMI platform")
        );
        assert!(
            check_static(p, &[], "/static", None)
                .unwrap_err()
                .starts_with("no option_settings")
        );
    }

    #[test]
    fn static_prefix_follows_static_url() {
        assert_eq!(static_prefix(None).as_deref(), Some("/static"));
        assert_eq!(static_prefix(Some("static/")).as_deref(), Some("/static"));
        assert_eq!(static_prefix(Some("/assets/")).as_deref(), Some("/assets"));
        assert_eq!(static_prefix(Some("https://cdn.example.com/s/")), None);
    }

    #[test]
    fn yaml_errors_name_file_line_and_column() {
        let dir = project();
        std::fs::create_dir_all(dir.path().join(".ebextensions")).unwrap();
        std::fs::write(
            dir.path().join(".ebextensions/django.config"),
            "option_settings:\n  aws:elasticbeanstalk:container:python:\n\tWSGIPath: x\n",
        )
        .unwrap();
        std::fs::write(dir.path().join(".ebextensions/notes.yml"), "x: 1\n").unwrap();
        let (_, errors, files, ignored) = read_configs(dir.path());
        assert_eq!(files, vec![".ebextensions/django.config"]);
        assert_eq!(ignored, vec![".ebextensions/notes.yml"]);
        assert!(
            errors[0].starts_with(".ebextensions/django.config:3:1: not valid YAML: "),
            "{errors:?}"
        );
        assert!(
            errors[0].ends_with("(the file holds tab characters: YAML indents with spaces only)"),
            "{errors:?}"
        );
    }
}
