//! The `project` step: the learner's Django project, read from `project_dir`
//! without calling AWS. The effective settings come from running the
//! learner's own Python on the project (`manage.py shell`), so what is graded
//! is what the app would use, with the environment labcheck runs in; the
//! configuration files (`.ebextensions/*.config`, `requirements.txt`) are
//! parsed here; `manage.py check --deploy` runs as Django's own checklist.

mod deploy;
mod ebextensions;
mod requirements;
mod settings;

pub use requirements::pinned_version;
pub use settings::{Effective, effective_settings};

use super::CheckKind;
use super::process::{Ran, RunError};
use crate::engine::account::Account;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

pub const EBEXTENSIONS: CheckKind = CheckKind {
    id: "project.ebextensions",
    title: ".ebextensions tells Beanstalk how to start the app and serve static files",
    passes: "`.ebextensions/*.config` sets a WSGIPath whose module is a file of the project, and maps `/static` to the STATIC_ROOT folder",
    iam_actions: &[],
    data_plane: false,
    run: |a, _| Box::pin(ebextensions::check(a)),
};

pub const REQUIREMENTS: CheckKind = CheckKind {
    id: "project.requirements",
    title: "requirements.txt pins what the servers must install",
    passes: "`requirements.txt` (with the files it includes) pins django, gunicorn, django-storages, boto3, redis, a MySQL driver and pillow with `==`, and does not list awsebcli",
    iam_actions: &[],
    data_plane: false,
    run: |a, _| Box::pin(requirements::check(a)),
};

pub const SETTINGS: CheckKind = CheckKind {
    id: "project.settings",
    title: "The Django settings are ready for production",
    passes: "the effective settings turn DEBUG off, admit .elasticbeanstalk.com, store media on S3, keep sessions in a rediss:// Redis cache and use a database other than SQLite, and the settings files hold no password or AWS key",
    iam_actions: &[],
    data_plane: false,
    run: |a, _| Box::pin(settings::check(a)),
};

pub const STATIC: CheckKind = CheckKind {
    id: "project.static",
    title: "collectstatic has filled STATIC_ROOT",
    passes: "the STATIC_ROOT folder holds every file collectstatic gathers (the admin's among them)",
    iam_actions: &[],
    data_plane: false,
    run: |a, _| Box::pin(settings::static_files(a)),
};

pub const DEPLOY_CHECK: CheckKind = CheckKind {
    id: "project.deploy-check",
    title: "Django's deployment checklist finds no error",
    passes: "`manage.py check --deploy` reports no error (warnings are listed)",
    iam_actions: &[],
    data_plane: false,
    run: |a, _| Box::pin(deploy::check(a)),
};

/// How long one run of the learner's Python may take before it is killed.
const PYTHON_TIMEOUT: Duration = Duration::from_secs(30);

/// The project folder as given (`project_dir`), made absolute.
fn project_dir(acc: &Account) -> PathBuf {
    let dir = acc.param("project_dir");
    absolute(Path::new(if dir.is_empty() { "." } else { &dir }))
}

fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        normalize(path)
    } else {
        normalize(&std::env::current_dir().unwrap_or_default().join(path))
    }
}

/// Removes `.` and `..` components without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// `path` relative to `base` when it lies inside it (comparing both the
/// paths as given and their canonical forms, since Python resolves symlinks).
fn relative_to(path: &Path, base: &Path) -> Option<PathBuf> {
    let path = normalize(path);
    if let Ok(rel) = path.strip_prefix(normalize(base)) {
        return Some(rel.to_path_buf());
    }
    let base = base.canonicalize().ok()?;
    let path = path.canonicalize().unwrap_or(path);
    path.strip_prefix(base).ok().map(Path::to_path_buf)
}

/// A path for messages: relative to the project when inside it.
fn shown(path: &Path, project: &Path) -> String {
    match relative_to(path, project) {
        Some(rel) if rel.as_os_str().is_empty() => ".".to_string(),
        Some(rel) => rel.display().to_string(),
        None => path.display().to_string(),
    }
}

/// The Python that runs the learner's project, and why that one.
#[derive(Clone, Debug)]
pub struct Python {
    pub program: PathBuf,
    pub source: &'static str,
}

/// The `python` parameter if set; else the active virtualenv; else a
/// `.venv` or `venv` folder in the project; else `python3` from PATH.
fn resolve_python(acc: &Account, project: &Path) -> Python {
    resolve_python_from(&acc.param("python"), std::env::var_os("VIRTUAL_ENV"), project)
}

fn resolve_python_from(param: &str, virtual_env: Option<std::ffi::OsString>, project: &Path) -> Python {
    let param = param.trim();
    if !param.is_empty() {
        // A relative path is relative to where labcheck runs; a bare name is
        // looked up in PATH.
        let program = if param.contains('/') {
            absolute(Path::new(param))
        } else {
            PathBuf::from(param)
        };
        return Python {
            program,
            source: "the python parameter",
        };
    }
    if let Some(venv) = virtual_env.filter(|v| !v.is_empty()) {
        let candidate = Path::new(&venv).join("bin/python");
        if candidate.exists() {
            return Python {
                program: candidate,
                source: "$VIRTUAL_ENV",
            };
        }
    }
    for (folder, source) in [(".venv", "the project's .venv"), ("venv", "the project's venv")] {
        let candidate = project.join(folder).join("bin/python");
        if candidate.exists() {
            return Python {
                program: candidate,
                source,
            };
        }
    }
    Python {
        program: PathBuf::from("python3"),
        source: "PATH",
    }
}

/// Runs the learner's Python in the project folder with labcheck's own
/// environment (the settings read it), killing it and its children when
/// it outlives `limit` or the check is dropped.
async fn run_python(python: &Python, dir: &Path, args: &[&str], limit: Duration) -> Result<Ran, RunError> {
    let mut cmd = tokio::process::Command::new(&python.program);
    cmd.args(args)
        .current_dir(dir)
        // Leave no __pycache__ folders behind in the learner's project.
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONIOENCODING", "utf-8");
    super::process::run(cmd, Some(limit)).await
}

/// The last line of a Python traceback: the exception and its message.
fn exception_line(stderr: &str) -> Option<&str> {
    stderr
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('^') && !l.starts_with('~'))
}

/// A Python run that failed, in the learner's terms: whether it is the
/// learner's project (`fail`) or the environment labcheck runs in (`error`).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Trouble {
    Fail { message: String, hint: String },
    Error { message: String, hint: String },
}

const VENV_HINT: &str = "Point labcheck at the project's virtual environment: activate it (source .venv/bin/activate) before running labcheck, or pass --set python=.venv/bin/python.";

/// Explains why `manage.py ARGS` did not run to the end.
fn explain_python_failure(what: &str, python: &Python, failure: Result<&Ran, &RunError>) -> Trouble {
    let program = python.program.display();
    match failure {
        Err(RunError::NotFound(e)) => Trouble::Error {
            message: format!("cannot run Python {program} (from {}): {e}", python.source),
            hint: VENV_HINT.to_string(),
        },
        Err(RunError::Other(e)) => Trouble::Error {
            message: format!("cannot run {what} with {program}: {e}"),
            hint: VENV_HINT.to_string(),
        },
        Err(RunError::TimedOut) => Trouble::Error {
            message: format!(
                "{what} did not finish within {} s and was stopped",
                PYTHON_TIMEOUT.as_secs()
            ),
            hint: "Run the same command in the project folder to see where it hangs: settings that connect to a server at import time are a common cause.".to_string(),
        },
        Ok(ran) => {
            let last = exception_line(&ran.stderr).unwrap_or("").to_string();
            let code = ran.code.map_or("a signal".to_string(), |c| format!("status {c}"));
            if let Some(module) = missing_module(&last) {
                let first = module.split('.').next().unwrap_or(module);
                if first == "django" {
                    return Trouble::Error {
                        message: format!("Django is not importable with {program} (from {})", python.source),
                        hint: VENV_HINT.to_string(),
                    };
                }
                return Trouble::Error {
                    message: format!(
                        "{what} stopped: the project imports {module}, which is not installed for {program}"
                    ),
                    hint: format!(
                        "Install the project's packages into the Python labcheck uses (pip install -r requirements.txt), or point labcheck at the right virtual environment. {VENV_HINT}"
                    ),
                };
            }
            if last.contains("Couldn't import Django") || last.contains("Django is not importable") {
                return Trouble::Error {
                    message: format!("Django is not importable with {program} (from {})", python.source),
                    hint: VENV_HINT.to_string(),
                };
            }
            if let Some(var) = missing_env_var(&last).or_else(|| unset_var_in_config_error(&last)) {
                return Trouble::Error {
                    message: format!(
                        "{what} stopped: the settings need {var} from the environment, and it is not set where labcheck runs"
                    ),
                    hint: format!(
                        "Run labcheck from a shell where the app's variables are set (source ~/pets-lab.env, or export {var}=...), as on the servers."
                    ),
                };
            }
            Trouble::Fail {
                message: if last.is_empty() {
                    format!("{what} exited with {code}")
                } else {
                    format!("{what} stopped: {last}")
                },
                hint: "Run the same command in the project folder to see the whole traceback, and fix what it names.".to_string(),
            }
        }
    }
}

/// `No module named 'x'` → x.
fn missing_module(line: &str) -> Option<&str> {
    let rest = line.split("No module named ").nth(1)?;
    Some(rest.trim().trim_matches(|c| c == '\'' || c == '"'))
}

/// `KeyError: 'RDS_USER_PASSWORD'` → RDS_USER_PASSWORD, when it looks like
/// an environment variable.
fn missing_env_var(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("KeyError: ")?;
    let name = rest.trim().trim_matches(|c| c == '\'' || c == '"');
    (!name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
    .then_some(name)
}

/// `ImproperlyConfigured: DJANGO_SECRET_KEY is not set ...` (or
/// django-environ's `Set the X environment variable`) → the first
/// UPPER_SNAKE name in the message that is not set where labcheck runs.
fn unset_var_in_config_error(line: &str) -> Option<&str> {
    let (_, message) = line.split_once("ImproperlyConfigured")?;
    let lower = message.to_ascii_lowercase();
    if !(lower.contains("environment") || lower.contains("not set")) {
        return None;
    }
    message
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| {
            w.len() > 2
                && w.contains('_')
                && w.starts_with(|c: char| c.is_ascii_uppercase())
                && w.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        })
        .find(|w| std::env::var_os(w).is_none_or(|v| v.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_is_resolved_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("proj");
        let venv = dir.path().join("active");
        std::fs::create_dir_all(venv.join("bin")).unwrap();
        std::fs::write(venv.join("bin/python"), "").unwrap();
        std::fs::create_dir_all(project.join("venv/bin")).unwrap();
        std::fs::write(project.join("venv/bin/python"), "").unwrap();

        let p = resolve_python_from("/usr/bin/python3.11", Some(venv.clone().into()), &project);
        assert_eq!(
            (p.program, p.source),
            (PathBuf::from("/usr/bin/python3.11"), "the python parameter")
        );
        let p = resolve_python_from("", Some(venv.clone().into()), &project);
        assert_eq!((p.program, p.source), (venv.join("bin/python"), "$VIRTUAL_ENV"));
        let p = resolve_python_from("", None, &project);
        assert_eq!(
            (p.program, p.source),
            (project.join("venv/bin/python"), "the project's venv")
        );
        std::fs::create_dir_all(project.join(".venv/bin")).unwrap();
        std::fs::write(project.join(".venv/bin/python"), "").unwrap();
        let p = resolve_python_from("", Some("".into()), &project);
        assert_eq!(p.program, project.join(".venv/bin/python"));
        let p = resolve_python_from("", None, &dir.path().join("elsewhere"));
        assert_eq!((p.program, p.source), (PathBuf::from("python3"), "PATH"));
        // A relative path is taken from where labcheck runs.
        let p = resolve_python_from(".venv/bin/python", None, &project);
        assert!(p.program.is_absolute() && p.program.ends_with(".venv/bin/python"));
    }

    #[test]
    fn python_failures_are_told_apart() {
        let python = Python {
            program: PathBuf::from("/v/bin/python"),
            source: "the python parameter",
        };
        let ran = |stderr: &str| Ran {
            success: false,
            code: Some(1),
            stdout: String::new(),
            stderr: stderr.to_string(),
        };
        let t = explain_python_failure("x", &python, Ok(&ran("Traceback...\nKeyError: 'RDS_USER_PASSWORD'\n")));
        assert!(
            matches!(&t, Trouble::Error { message, .. } if message.contains("need RDS_USER_PASSWORD from the environment")),
            "{t:?}"
        );
        let t = explain_python_failure(
            "x",
            &python,
            Ok(&ran(
                "django.core.exceptions.ImproperlyConfigured: LABCHECK_TEST_UNSET_KEY is not set. Export it.",
            )),
        );
        assert!(
            matches!(&t, Trouble::Error { message, .. } if message == "x stopped: the settings need LABCHECK_TEST_UNSET_KEY from the environment, and it is not set where labcheck runs"),
            "{t:?}"
        );
        let t = explain_python_failure(
            "x",
            &python,
            Ok(&ran(
                "django.core.exceptions.ImproperlyConfigured: Set the LABCHECK_TEST_UNSET_KEY environment variable",
            )),
        );
        assert!(matches!(&t, Trouble::Error { .. }), "{t:?}");
        // A configuration error about a setting, not a variable, is the project's.
        let t = explain_python_failure(
            "x",
            &python,
            Ok(&ran(
                "django.core.exceptions.ImproperlyConfigured: The SECRET_KEY setting must not be empty.",
            )),
        );
        assert!(matches!(&t, Trouble::Fail { .. }), "{t:?}");
        let t = explain_python_failure(
            "x",
            &python,
            Ok(&ran("ModuleNotFoundError: No module named 'storages'")),
        );
        assert!(
            matches!(&t, Trouble::Error { message, .. } if message.contains("imports storages")),
            "{t:?}"
        );
        let t = explain_python_failure("x", &python, Ok(&ran("ModuleNotFoundError: No module named 'django'")));
        assert!(matches!(&t, Trouble::Error { message, .. } if message.starts_with("Django is not importable")));
        let t = explain_python_failure(
            "x",
            &python,
            Ok(&ran("  File \"s.py\", line 3\nNameError: name 'Path' is not defined")),
        );
        assert_eq!(
            t,
            Trouble::Fail {
                message: "x stopped: NameError: name 'Path' is not defined".into(),
                hint: "Run the same command in the project folder to see the whole traceback, and fix what it names."
                    .into(),
            }
        );
        let t = explain_python_failure("x", &python, Err(&RunError::NotFound("No such file".into())));
        assert!(matches!(&t, Trouble::Error { hint, .. } if hint.contains("--set python=.venv/bin/python")));
    }

    #[tokio::test]
    async fn a_run_past_its_time_is_killed_with_its_children() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("child.pid");
        let sh = Python {
            program: PathBuf::from("sh"),
            source: "PATH",
        };
        let script = format!("sleep 30 & echo $! > {}; wait", pid_file.display());
        let started = std::time::Instant::now();
        let result = run_python(&sh, dir.path(), &["-c", &script], Duration::from_millis(500)).await;
        assert!(matches!(result, Err(RunError::TimedOut)), "{result:?}");
        assert!(started.elapsed() < Duration::from_secs(10));
        let pid: i32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
        // The grandchild went with the group (give the signal a moment).
        let mut alive = true;
        for _ in 0..50 {
            // SAFETY: signal 0 only asks whether the process exists.
            alive = unsafe { libc::kill(pid, 0) } == 0
                && !std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "));
            if !alive {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(!alive, "sleep {pid} outlived the timeout");

        let ran = run_python(
            &sh,
            dir.path(),
            &["-c", "echo out; echo err >&2; exit 3"],
            Duration::from_secs(5),
        )
        .await
        .unwrap();
        assert_eq!(
            (ran.success, ran.code, ran.stdout.as_str(), ran.stderr.as_str()),
            (false, Some(3), "out\n", "err\n")
        );
        let missing = Python {
            program: PathBuf::from("/nonexistent/python"),
            source: "PATH",
        };
        assert!(matches!(
            run_python(&missing, dir.path(), &[], Duration::from_secs(5)).await,
            Err(RunError::NotFound(_))
        ));
    }

    #[test]
    fn paths_relative_to_the_project() {
        let project = Path::new("/p/proj");
        assert_eq!(shown(Path::new("/p/proj/static"), project), "static");
        assert_eq!(shown(Path::new("/p/proj/./a/../static"), project), "static");
        assert_eq!(shown(Path::new("/srv/static"), project), "/srv/static");
    }
}
