//! The `project` step's checks: the learner's Django project, read from
//! `project_dir`. labcheck registers each module's `check` as a check kind
//! and answers what they ask of the run ([`ProjectRun`]).
//! The source bundle (`.ebextensions/`, `requirements.txt`, `Procfile`) and
//! the Django project (`manage.py`) are found from there (`layout.rs`), each
//! file graded where it is. One run of the project's Python (`probe.rs`,
//! started by whichever check asks first) reads the effective settings with
//! the settings module the environment would use, lists what collectstatic
//! would gather, and runs Django's deployment checklist; the configuration
//! files are parsed by this crate's modules. What that run reports is the project's word: the
//! settings' own text (`static_reading.rs`) overrules it where it can see,
//! and the checks that rest on it say so. Someone else's project (a
//! cohort's, `check --untrusted`) runs in a sandbox (`isolation.rs`) with
//! the grader's interpreter and the learner's environment properties only,
//! read from `.ebextensions` and, when AWS can be asked, the Beanstalk
//! environment (with `eb.envvars`' permission, DescribeConfigurationSettings).

pub mod deploy;
pub mod ebextensions_check;
mod probe;
pub mod requirements_check;
pub mod settings;
pub mod static_files;

// Read by the modules below, from the modules of this crate that own them.
use crate::process::{Ran, RunError};
use crate::run::ProjectRun;
use crate::{
    absolute, ebextensions, files, isolation, layout, probe_cache, procfile, relative_to, requirements, shown,
    static_reading,
};
use labcheck_course::params::Param;
use labcheck_outcome::outcome::Outcome;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How long the one run of the learner's Python may take before it is killed.
const PYTHON_TIMEOUT: Duration = Duration::from_secs(45);

/// An outcome with a fix command for this project in place of the lab's.
fn with_fix(outcome: Outcome, fix: &str) -> Outcome {
    outcome.fix(fix)
}

/// The project folder as given (`project_dir`), made absolute.
fn project_dir(acc: &dyn ProjectRun) -> PathBuf {
    let dir = acc.param(Param::ProjectDir);
    absolute(Path::new(if dir.is_empty() { "." } else { &dir }))
}

/// The memo's key for [`layout`].
#[derive(PartialEq, Eq, Hash)]
struct TheLayout;
impl labcheck_outcome::memo::MemoKey for TheLayout {
    type Value = Arc<layout::Layout>;
}

/// The layout of this run's project, found once.
async fn layout(acc: &dyn ProjectRun) -> Arc<layout::Layout> {
    acc.memo()
        .once(TheLayout, || async { Arc::new(layout::find(&project_dir(acc))) })
        .await
}

/// The memo's key for [`configs`].
#[derive(PartialEq, Eq, Hash)]
struct TheConfigs;
impl labcheck_outcome::memo::MemoKey for TheConfigs {
    type Value = Arc<ebextensions::Configs>;
}

/// The `.ebextensions` of this run's bundle, read once.
async fn configs(acc: &dyn ProjectRun) -> Arc<ebextensions::Configs> {
    let l = layout(acc).await;
    acc.memo()
        .once(
            TheConfigs,
            || async move { Arc::new(ebextensions::read_configs(&l.bundle)) },
        )
        .await
}

/// The Python that runs the learner's project, and why that one.
#[derive(Clone, Debug)]
pub struct Python {
    /// The Python interpreter to run.
    pub program: PathBuf,
    /// Where it was found, in words: `PATH`, `$VIRTUAL_ENV`, the `python` parameter, ...
    pub source: &'static str,
}

/// The `python` parameter if set; else the active virtualenv; else a
/// `.venv` or `venv` folder in the Django folder or the bundle root; else
/// `python3` from PATH. For someone else's code, the grader's alone: the
/// parameter unless a roster row set it, the virtualenv, `python3`.
fn resolve_python(acc: &dyn ProjectRun, folders: &[&Path]) -> Python {
    if acc.learner_code().is_someone_elses() {
        let param = if acc.param_from_roster(Param::Python) {
            String::new()
        } else {
            acc.param(Param::Python)
        };
        return resolve_python_from(&param, std::env::var_os("VIRTUAL_ENV"), &[]);
    }
    resolve_python_from(&acc.param(Param::Python), std::env::var_os("VIRTUAL_ENV"), folders)
}

/// Whether someone else's code can run in the sandbox with the grader's
/// Python (the `python` parameter as the grader gave it, else
/// `$VIRTUAL_ENV`, else `python3`), and if not, why.
pub async fn sandbox_ready(python_param: &str) -> Result<(), isolation::Unavailable> {
    let python = resolve_python_from(python_param, std::env::var_os("VIRTUAL_ENV"), &[]);
    isolation::sandbox_for(&python.program).await.map(|_| ())
}

/// A virtual environment the project carries (`.venv`, `venv`), which is
/// never run for someone else's code.
fn project_venv(folders: &[&Path]) -> Option<PathBuf> {
    folders
        .iter()
        .flat_map(|f| [f.join(".venv"), f.join("venv")])
        .find(|v| v.join("bin/python").symlink_metadata().is_ok())
}

fn resolve_python_from(param: &str, virtual_env: Option<std::ffi::OsString>, folders: &[&Path]) -> Python {
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
    for project in folders {
        for (folder, source) in [(".venv", "the project's .venv"), ("venv", "the project's venv")] {
            let candidate = project.join(folder).join("bin/python");
            if candidate.exists() {
                return Python {
                    program: candidate,
                    source,
                };
            }
        }
    }
    Python {
        program: PathBuf::from("python3"),
        source: "PATH",
    }
}

/// How the project's Python is started.
#[derive(Clone, Copy)]
enum Launch<'a> {
    /// With labcheck's own environment (the learner's shell) plus `env`.
    Inherit,
    /// With `env` alone, and the limits of [`isolation::LIMITS`] (someone
    /// else's code, trusted by the grader).
    Cleared,
    /// With `env` alone, in the sandbox, seeing `project` (read-only).
    Sandboxed {
        sandbox: &'a isolation::Sandbox,
        project: &'a Path,
    },
}

/// Runs the project's Python in `dir` with `env`, as `launch` says, killing
/// it and its children when it outlives `limit`, prints too much, or the
/// check is dropped.
async fn run_python(
    python: &Python,
    dir: &Path,
    args: &[&str],
    env: &[(String, String)],
    limit: Duration,
    launch: Launch<'_>,
) -> Result<Ran, RunError> {
    let mut cmd = match launch {
        Launch::Sandboxed { sandbox, project } => sandbox.command(Some(project), dir, args),
        Launch::Inherit | Launch::Cleared => {
            let mut cmd = tokio::process::Command::new(&python.program);
            cmd.args(args).current_dir(dir);
            cmd
        }
    };
    match launch {
        Launch::Inherit => {}
        Launch::Cleared => {
            let path = std::env::var("PATH").unwrap_or_default();
            cmd.env_clear().envs(isolation::base_env(path));
            isolation::limit(&mut cmd);
        }
        Launch::Sandboxed { sandbox, .. } => {
            cmd.env_clear().envs(sandbox.base_env());
        }
    }
    cmd.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        // Leave no __pycache__ folders behind in the learner's project.
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONIOENCODING", "utf-8")
        // Django's deprecation warnings are not the learner's concern here.
        .env("PYTHONWARNINGS", "ignore");
    crate::process::run(cmd, Some(limit)).await
}

/// Something that kept a check from grading the project as it should: the
/// learner's project (`fail`), the environment labcheck runs in (`error`,
/// "could not be checked", with the fix), or a sandbox that cannot be built
/// here for someone else's code (`ungraded`: left out, with the fix).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Trouble {
    Fail { message: String, hint: String },
    Error { message: String, hint: String },
    Ungraded { message: String, hint: String },
}

impl Trouble {
    fn message(&self) -> &str {
        match self {
            Trouble::Fail { message, .. } | Trouble::Error { message, .. } | Trouble::Ungraded { message, .. } => {
                message
            }
        }
    }

    fn outcome(&self) -> Outcome {
        let (o, hint) = match self {
            Trouble::Fail { message, hint } => (Outcome::fail(message), hint),
            Trouble::Error { message, hint } => (Outcome::error(message), hint),
            Trouble::Ungraded { message, hint } => (Outcome::ungraded(message), hint),
        };
        if hint.is_empty() { o } else { o.hint(hint) }
    }
}

const VENV_HINT: &str = "Point labcheck at the project's virtual environment: activate it (source .venv/bin/activate) before running labcheck, or pass --set python=.venv/bin/python.";

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

        let p = resolve_python_from("/usr/bin/python3.11", Some(venv.clone().into()), &[&project]);
        assert_eq!(
            (p.program, p.source),
            (PathBuf::from("/usr/bin/python3.11"), "the python parameter")
        );
        let p = resolve_python_from("", Some(venv.clone().into()), &[&project]);
        assert_eq!((p.program, p.source), (venv.join("bin/python"), "$VIRTUAL_ENV"));
        let p = resolve_python_from("", None, &[&project]);
        assert_eq!(
            (p.program, p.source),
            (project.join("venv/bin/python"), "the project's venv")
        );
        std::fs::create_dir_all(project.join(".venv/bin")).unwrap();
        std::fs::write(project.join(".venv/bin/python"), "").unwrap();
        let p = resolve_python_from("", Some("".into()), &[&project]);
        assert_eq!(p.program, project.join(".venv/bin/python"));
        // The bundle root's venv when the Django folder has none.
        let web = project.join("web");
        let p = resolve_python_from("", None, &[&web, &project]);
        assert_eq!(p.program, project.join(".venv/bin/python"));
        let p = resolve_python_from("", None, &[&dir.path().join("elsewhere")]);
        assert_eq!((p.program, p.source), (PathBuf::from("python3"), "PATH"));
        // A relative path is taken from where labcheck runs.
        let p = resolve_python_from(".venv/bin/python", None, &[&project]);
        assert!(p.program.is_absolute() && p.program.ends_with(".venv/bin/python"));
    }

    #[tokio::test]
    async fn a_run_past_its_time_is_killed_with_its_children() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("child.pid");
        let sh = Python {
            program: PathBuf::from("sh"),
            source: "PATH",
        };
        // An hour: if the kill did not reach the group, the run would wait
        // for it, and the watchdog says it hung.
        let script = format!("sleep 3600 & echo $! > {}; wait", pid_file.display());
        let result = tokio::time::timeout(
            Duration::from_secs(300),
            run_python(
                &sh,
                dir.path(),
                &["-c", &script],
                &[],
                Duration::from_millis(500),
                Launch::Inherit,
            ),
        )
        .await
        .expect("hung: the run outlived its limit waiting for a child");
        assert!(matches!(result, Err(RunError::TimedOut)), "{result:?}");
        let pid: i32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
        // The grandchild went with the group (give the signal a moment).
        assert!(
            !crate::process::still_alive(pid).await,
            "sleep {pid} outlived the timeout"
        );

        let ran = run_python(
            &sh,
            dir.path(),
            &["-c", "echo out $LABCHECK_T; echo err >&2; exit 3"],
            &[("LABCHECK_T".into(), "t".into())],
            Duration::from_secs(5),
            Launch::Inherit,
        )
        .await
        .unwrap();
        assert_eq!(
            (ran.success, ran.code, ran.stdout.as_str(), ran.stderr.as_str()),
            (false, Some(3), "out t\n", "err\n")
        );
        let missing = Python {
            program: PathBuf::from("/nonexistent/python"),
            source: "PATH",
        };
        assert!(matches!(
            run_python(&missing, dir.path(), &[], &[], Duration::from_secs(5), Launch::Inherit).await,
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

    /// A run of one project folder that AWS cannot reach: what a run gives
    /// the checks, with no account behind it.
    struct FolderRun {
        project: PathBuf,
        memo: labcheck_outcome::memo::Memo,
    }

    impl ProjectRun for FolderRun {
        fn param(&self, param: Param) -> String {
            match param {
                Param::ProjectDir => self.project.display().to_string(),
                _ => String::new(),
            }
        }
        fn param_from_roster(&self, _: Param) -> bool {
            false
        }
        fn learner_code(&self) -> isolation::LearnerCode {
            isolation::LearnerCode::Own
        }
        fn note(&self, _: String) {}
        fn add_secret(&self, _: &str) {}
        fn memo(&self) -> &labcheck_outcome::memo::Memo {
            &self.memo
        }
        fn environment_properties(&self) -> crate::run::Properties<'_> {
            Box::pin(async { Err(crate::run::PropertiesError::NoAws) })
        }
        fn probe_cache_folder(&self) -> Option<PathBuf> {
            None
        }
    }

    fn folder_run(project: &Path) -> Arc<dyn ProjectRun> {
        Arc::new(FolderRun {
            project: project.to_path_buf(),
            memo: Default::default(),
        })
    }

    #[tokio::test]
    async fn a_check_grades_a_project_through_any_run() {
        use labcheck_outcome::outcome::Status;
        // The reference project the sandbox deploys pins everything the lab asks for.
        let reference = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../labs/pets_project");
        let o = requirements_check::check(folder_run(&reference)).await.unwrap();
        assert_eq!(o.status, Status::Pass, "{}", o.message);
        // The same project with Django unpinned.
        let dir = tempfile::tempdir().unwrap();
        let text = std::fs::read_to_string(reference.join("requirements.txt")).unwrap();
        std::fs::write(
            dir.path().join("requirements.txt"),
            text.replace("Django==5.2.19", "Django"),
        )
        .unwrap();
        std::fs::copy(reference.join("manage.py"), dir.path().join("manage.py")).unwrap();
        let o = requirements_check::check(folder_run(dir.path())).await.unwrap();
        assert_eq!(o.status, Status::Fail, "{}", o.message);
        assert!(o.message.contains("django"), "{}", o.message);
    }
}
