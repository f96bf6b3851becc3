//! The sandbox a learner's Python runs in when the person running labcheck
//! did not write it (cohort grading, `labcheck check --untrusted`). It is
//! built with bubblewrap (`bwrap`): its own PID, network, IPC and UTS
//! namespaces (and user namespace, unless labcheck runs as root); a file
//! system of `/usr` (and the loader's links), the grader's interpreter with
//! its packages, and that learner's project, all read-only, with tmpfs for
//! `/tmp` and `HOME`; no network; the environment it is given and nothing
//! else; resource limits on memory, processes, CPU time and file size; and
//! every process in it killed when the run ends or labcheck dies
//! (`--die-with-parent`, the PID namespace's end).
//!
//! The process limit is counted per user: in the sandbox's own user
//! namespace for an ordinary user, and for root (whom the kernel exempts)
//! under a user id of the run's own that the probe switches to before
//! anything of the project is imported.
//!
//! Whether the sandbox can be built is found out once per interpreter (a
//! real run of it in the sandbox); where it cannot, the checks that would
//! run a learner's code are left out, with the cause and the fix, unless the
//! grader trusts the code (`--trust-learner-code`).

use labcheck_course::path::normalize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;
use tokio::sync::OnceCell;

/// Whose code the project checks run, and so how.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LearnerCode {
    /// Learners checking their own project (`labcheck check`): their code,
    /// their Python, their shell's variables.
    #[default]
    Own,
    /// Someone else's project: the grader's Python, the learner's variables
    /// only, inside the sandbox; left out where the sandbox cannot be built.
    Sandboxed,
    /// Someone else's project, which the grader chose to trust
    /// (`--trust-learner-code`): the grader's Python and the learner's
    /// variables only, as in the sandbox, but run without it.
    Trusted,
}

impl LearnerCode {
    /// The code is not the runner's own: the environment is the learner's
    /// alone and the interpreter the grader's.
    pub fn is_someone_elses(self) -> bool {
        self != LearnerCode::Own
    }
}

/// The limits a learner's code runs under.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Bytes of address space per process (`RLIMIT_AS`).
    pub address_space: u64,
    /// Processes in the sandbox (`RLIMIT_NPROC`, counted in its own user
    /// namespace; set by the probe before the project's code runs).
    pub processes: u64,
    /// Seconds of CPU time per process (`RLIMIT_CPU`).
    pub cpu_seconds: u64,
    /// Largest file a process may write (`RLIMIT_FSIZE`).
    pub file_size: u64,
    /// Size of each tmpfs (`/tmp`, `HOME`).
    pub tmpfs: u64,
}

/// The limits of every run.
pub const LIMITS: Limits = Limits {
    address_space: 1 << 30,
    processes: 16,
    cpu_seconds: 45,
    file_size: 64 << 20,
    tmpfs: 64 << 20,
};

/// `HOME` inside the sandbox (a tmpfs), and in a trusted run.
pub const HOME: &str = "/home/learner";

/// The first of the user ids a run of learners' code gets when labcheck
/// runs as root (root is exempt from the process limit; each run has an id
/// of its own, so one run's processes do not count against another's).
const FIRST_RUN_UID: u32 = 2_100_000_000;

/// How the message of a check left out for want of a sandbox begins.
pub const NO_SANDBOX: &str = "not run: labcheck runs a learner's code only in its sandbox";

/// Why learners' code cannot be run in the sandbox here, and what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unavailable {
    /// What is missing or refused.
    pub cause: String,
    /// How to make it work.
    pub fix: String,
}

impl Unavailable {
    /// One message for a check that was left out (it starts with [`NO_SANDBOX`]).
    pub fn message(&self) -> String {
        format!("{NO_SANDBOX}, which cannot be built here: {}", self.cause)
    }

    /// What to do, naming the way around it.
    pub fn hint(&self) -> String {
        format!(
            "{} Or, if you trust every learner's code, pass --trust-learner-code to run it without the sandbox.",
            self.fix
        )
    }
}

/// A sandbox that can be built for one interpreter.
#[derive(Debug)]
pub struct Sandbox {
    bwrap: PathBuf,
    /// The interpreter, as run inside (an absolute path).
    pub python: PathBuf,
    /// Its folders and those of its packages, bound read-only.
    interpreter_dirs: Vec<PathBuf>,
    /// This bwrap knows `--size` (tmpfs sizes), `--perms` and `--disable-userns`.
    sizes: bool,
    perms: bool,
    no_nested_userns: bool,
    /// labcheck runs as root: bwrap runs privileged, without a user
    /// namespace, and the probe becomes a user of the run's own.
    root: bool,
}

type Known = Arc<OnceCell<Result<Arc<Sandbox>, Unavailable>>>;

/// What was found out per interpreter, for the whole process (a cohort
/// grades every learner with one).
static SANDBOXES: LazyLock<Mutex<HashMap<PathBuf, Known>>> = LazyLock::new(Default::default);

/// The sandbox for `python` (the grader's interpreter), found out once.
pub async fn sandbox_for(python: &Path) -> Result<Arc<Sandbox>, Unavailable> {
    let cell = SANDBOXES
        .lock()
        .expect("sandbox table")
        .entry(python.to_path_buf())
        .or_default()
        .clone();
    cell.get_or_init(|| build(python.to_path_buf())).await.clone()
}

const PACKAGES_FIX: &str = "Install bubblewrap: apt-get install bubblewrap (Debian, Ubuntu), dnf install bubblewrap (Fedora), pacman -S bubblewrap (Arch).";

async fn build(python: PathBuf) -> Result<Arc<Sandbox>, Unavailable> {
    if !cfg!(target_os = "linux") {
        return Err(Unavailable {
            cause: format!(
                "the sandbox needs Linux namespaces (bubblewrap), and this is {}",
                std::env::consts::OS
            ),
            fix: "Grade on a Linux machine (a VM or a container will do) with bubblewrap installed.".into(),
        });
    }
    let Some(bwrap) = on_path("bwrap") else {
        return Err(Unavailable {
            cause: "bubblewrap (bwrap) is not installed, or not on PATH".into(),
            fix: PACKAGES_FIX.into(),
        });
    };
    let help = quick(tokio::process::Command::new(&bwrap).arg("--help"))
        .await
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr))
        .unwrap_or_default();
    let program = if python.components().count() > 1 {
        python.clone()
    } else {
        on_path(&python.to_string_lossy()).unwrap_or(python.clone())
    };
    let interpreter_dirs = interpreter_dirs(&program).await.map_err(|e| Unavailable {
        cause: format!("the grader's Python {} did not say where it lives: {e}", program.display()),
        fix: "Point labcheck at a working Python with Django and the lab's packages: --set python=PATH, or activate its virtual environment.".into(),
    })?;
    let sandbox = Sandbox {
        bwrap,
        python: program,
        interpreter_dirs,
        sizes: help.contains("--size"),
        perms: help.contains("--perms"),
        no_nested_userns: help.contains("--disable-userns"),
        root: running_as_root(),
    };
    // A real run, so that what the kernel or the files refuse is known now.
    let mut cmd = sandbox.command(None, Path::new("/"), &["-c", "pass"]);
    cmd.env_clear().envs(sandbox.base_env());
    match quick(&mut cmd).await {
        Ok(out) if out.status.success() => Ok(Arc::new(sandbox)),
        Ok(out) => {
            let said = String::from_utf8_lossy(&out.stderr).trim().to_string();
            Err(refused(&said))
        }
        Err(e) => Err(Unavailable {
            cause: format!("bwrap could not be started: {e}"),
            fix: PACKAGES_FIX.into(),
        }),
    }
}

/// What to do when bwrap refuses to build the sandbox for one project.
pub fn refused_hint(said: &str) -> String {
    refused(said).fix
}

/// What bwrap's refusal means, and its fix.
fn refused(said: &str) -> Unavailable {
    let said = said.lines().next().unwrap_or("no message").to_string();
    let namespaces = ["uid map", "namespace", "Operation not permitted", "No permissions"];
    let fix = if namespaces.iter().any(|n| said.contains(n)) {
        "Allow unprivileged user namespaces: sysctl kernel.unprivileged_userns_clone=1 (Debian before 11), user.max_user_namespaces above 0, or on Ubuntu 24.04 and later the AppArmor profile that lets bwrap use them (apt-get install apparmor-profiles, or sysctl kernel.apparmor_restrict_unprivileged_userns=0)."
    } else if said.contains("Permission denied") {
        "The grader's Python and the learners' projects must be readable by the user labcheck runs as (and, when it runs as root, by other users: chmod -R o+rX)."
    } else {
        "Run bwrap by hand to see what it needs, or install a current bubblewrap."
    };
    Unavailable {
        cause: format!("bwrap refused to start: {said}"),
        fix: fix.into(),
    }
}

/// Runs a short command to its end, bounded in time.
async fn quick(cmd: &mut tokio::process::Command) -> std::io::Result<std::process::Output> {
    cmd.stdin(std::process::Stdio::null()).kill_on_drop(true);
    match tokio::time::timeout(Duration::from_secs(20), cmd.output()).await {
        Ok(out) => out,
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "no answer within 20 s",
        )),
    }
}

/// `name` in the folders of PATH.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A user id for one run of learners' code as root: the process's own
/// range, one id per run.
fn run_uid() -> u32 {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 10_000;
    FIRST_RUN_UID + (std::process::id() % 1_000) * 10_000 + n
}

/// Where the grader's interpreter lives, as it says itself (run with its
/// own environment ignored, from `/`): its prefixes and import path. It is
/// the grader's program, so this runs outside the sandbox.
const WHERE_PYTHON_LIVES: &str = "import json, sys\nprint(json.dumps([sys.executable, sys.prefix, sys.exec_prefix, getattr(sys, 'base_prefix', ''), getattr(sys, 'base_exec_prefix', ''), getattr(sys, 'real_prefix', '')] + sys.path))";

async fn interpreter_dirs(program: &Path) -> Result<Vec<PathBuf>, String> {
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(["-E", "-s", "-c", WHERE_PYTHON_LIVES])
        .current_dir("/")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    let out = quick(&mut cmd).await.map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr)
            .lines()
            .last()
            .unwrap_or("it failed")
            .to_string());
    }
    let said: Vec<String> = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    let mut paths: Vec<PathBuf> = said.iter().filter(|p| !p.is_empty()).map(PathBuf::from).collect();
    // The program's own folder, where a symlink leads.
    if let Ok(real) = std::fs::canonicalize(program)
        && let Some(prefix) = real.parent().and_then(Path::parent)
    {
        paths.push(prefix.to_path_buf());
    }
    paths.push(program.parent().and_then(Path::parent).unwrap_or(program).to_path_buf());
    let home = std::env::var_os("HOME").map(PathBuf::from);
    Ok(binds(paths, home.as_deref()))
}

/// The folders to bind for the interpreter: absolute, existing, none of
/// `/`, `/usr` (bound whole) or the home folder and its parents, and none
/// inside another.
fn binds(paths: Vec<PathBuf>, home: Option<&Path>) -> Vec<PathBuf> {
    let mut kept: Vec<PathBuf> = paths
        .into_iter()
        .filter(|p| p.is_absolute() && p.exists())
        .map(|p| normalize(&p))
        .filter(|p| p != Path::new("/") && !p.starts_with("/usr"))
        .filter(|p| home.is_none_or(|h| !h.starts_with(p)))
        .collect();
    kept.sort();
    kept.dedup();
    let all = kept.clone();
    kept.retain(|p| !all.iter().any(|q| q != p && p.starts_with(q)));
    kept
}

/// Top-level folders that hold the loader and libraries (links to `/usr`
/// on merged systems).
const SYSTEM_DIRS: &[&str] = &["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];
/// Files of /etc a Python start reads.
const ETC_FILES: &[&str] = &["/etc/ld.so.cache", "/etc/localtime"];

impl Sandbox {
    /// PATH inside: the interpreter's folder, then the system's.
    fn path(&self) -> String {
        let bin = self.python.parent().map(|p| p.display().to_string());
        bin.into_iter()
            .chain(["/usr/local/bin".into(), "/usr/bin".into(), "/bin".into()])
            .collect::<Vec<_>>()
            .join(":")
    }

    /// The variables every run starts from: `PATH`, `LANG`, `HOME`.
    pub fn base_env(&self) -> Vec<(String, String)> {
        base_env(self.path())
    }

    /// A command that runs the interpreter with `args` in `cwd`, seeing
    /// `project` (read-only) when given. Its environment is the caller's to
    /// set, after `env_clear` (bwrap passes its own on, and variables given
    /// this way stay out of the command line other users can read).
    pub fn command(&self, project: Option<&Path>, cwd: &Path, args: &[&str]) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(&self.bwrap);
        cmd.args(self.arguments(project, cwd)).arg(&self.python).args(args);
        limit(&mut cmd);
        cmd
    }

    /// The user id the probe must switch to before it imports anything of
    /// the project (labcheck runs as root): a fresh one per run.
    pub fn probe_user(&self) -> Option<u32> {
        self.root.then(run_uid)
    }

    fn arguments(&self, project: Option<&Path>, cwd: &Path) -> Vec<String> {
        let mut a: Vec<String> = Vec::new();
        let mut push = |items: &[&str]| a.extend(items.iter().map(|s| s.to_string()));
        if self.root {
            // Privileged: no user namespace (root in one is still exempt
            // from the process limit); the probe drops to its own user.
            push(&[
                "--unshare-pid",
                "--unshare-net",
                "--unshare-ipc",
                "--unshare-uts",
                "--unshare-cgroup-try",
            ]);
        } else {
            push(&["--unshare-all", "--unshare-user"]);
            if self.no_nested_userns {
                push(&["--disable-userns"]);
            }
        }
        push(&["--die-with-parent", "--new-session"]);
        push(&["--hostname", "sandbox", "--proc", "/proc", "--dev", "/dev"]);
        // The tmpfs first: a project under /tmp is bound on top of it.
        let size = LIMITS.tmpfs.to_string();
        for tmp in ["/tmp", HOME] {
            if self.sizes {
                push(&["--size", &size]);
            }
            // Writable by the user the probe becomes.
            if self.root && self.perms {
                push(&["--perms", "1777"]);
            }
            push(&["--tmpfs", tmp]);
        }
        push(&["--ro-bind", "/usr", "/usr"]);
        for dir in SYSTEM_DIRS {
            let path = Path::new(dir);
            match std::fs::read_link(path) {
                Ok(target) => push(&["--symlink", &target.to_string_lossy(), dir]),
                Err(_) if path.is_dir() => push(&["--ro-bind", dir, dir]),
                Err(_) => {}
            }
        }
        for file in ETC_FILES {
            push(&["--ro-bind-try", file, file]);
        }
        for dir in &self.interpreter_dirs {
            let d = dir.to_string_lossy();
            push(&["--ro-bind", &d, &d]);
        }
        if let Some(project) = project {
            let p = project.to_string_lossy();
            push(&["--ro-bind", &p, &p]);
        }
        if self.root {
            // Privileged bwrap makes the folders above a bind as closed as
            // the host's (/root is 0700): the user the probe becomes must
            // get through them.
            let mut bound: Vec<&Path> = vec![Path::new("/usr")];
            bound.extend(self.interpreter_dirs.iter().map(PathBuf::as_path));
            bound.extend(project);
            // (Not the tmpfs themselves: they stay open to all, 1777.)
            for dir in parents_to_open(&bound)
                .into_iter()
                .filter(|d| d != Path::new("/tmp") && d != Path::new(HOME))
            {
                push(&["--chmod", "0755", &dir.to_string_lossy()]);
            }
        }
        push(&["--chdir", &cwd.to_string_lossy(), "--"]);
        a
    }
}

/// The folders above the bound ones that bwrap creates (none inside a
/// bound folder, which is the host's), shallowest first.
fn parents_to_open(bound: &[&Path]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for b in bound {
        for parent in b.ancestors().skip(1) {
            if parent == Path::new("/") || bound.iter().any(|o| parent.starts_with(o)) {
                continue;
            }
            if !out.iter().any(|p| p == parent) {
                out.push(parent.to_path_buf());
            }
        }
    }
    out.sort_by_key(|p| p.components().count());
    out
}

/// `PATH`, `LANG` and `HOME` for a run of someone else's code.
pub fn base_env(path: String) -> Vec<(String, String)> {
    vec![
        ("PATH".into(), path),
        ("LANG".into(), "C.UTF-8".into()),
        ("HOME".into(), HOME.into()),
    ]
}

/// Sets the per-process limits (memory, CPU time, file size, no core
/// files) on `cmd`, inherited by everything it starts.
pub fn limit(cmd: &mut tokio::process::Command) {
    let limits = [
        (libc::RLIMIT_AS, LIMITS.address_space),
        (libc::RLIMIT_CPU, LIMITS.cpu_seconds),
        (libc::RLIMIT_FSIZE, LIMITS.file_size),
        (libc::RLIMIT_CORE, 0),
    ];
    // SAFETY: the closure runs in the child between fork and exec and only
    // calls setrlimit, which is async-signal-safe; it allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            for (resource, value) in limits {
                let limit = libc::rlimit {
                    rlim_cur: value as libc::rlim_t,
                    rlim_max: value as libc::rlim_t,
                };
                if libc::setrlimit(resource, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
}

/// Environment properties that change how the interpreter or the loader
/// starts, or that labcheck sets itself: never taken from a learner.
pub fn refused_property(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    const PREFIXES: &[&str] = &["LD_", "PYTHON", "LABCHECK_", "DYLD_", "MALLOC_", "BASH_FUNC_"];
    const NAMES: &[&str] = &[
        "PATH",
        "HOME",
        "LANG",
        "GCONV_PATH",
        "GLIBC_TUNABLES",
        "HOSTALIASES",
        "LOCPATH",
        "NLSPATH",
        "RESOLV_HOST_CONF",
        "TMPDIR",
        "ENV",
        "BASH_ENV",
        "DJANGO_SETTINGS_MODULE",
    ];
    PREFIXES.iter().any(|p| upper.starts_with(p)) || NAMES.contains(&upper.as_str()) || upper.starts_with("LC_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_that_change_how_python_starts_are_refused() {
        for name in [
            "LD_PRELOAD",
            "ld_library_path",
            "PYTHONSTARTUP",
            "PYTHONINSPECT",
            "PYTHONHOME",
            "PYTHONPATH",
            "PYTHONWARNINGS",
            "GLIBC_TUNABLES",
            "LABCHECK_PROBE",
            "PATH",
            "HOME",
            "LC_ALL",
            "DJANGO_SETTINGS_MODULE",
        ] {
            assert!(refused_property(name), "{name}");
        }
        for name in [
            "RDS_HOSTNAME",
            "DJANGO_SECRET_KEY",
            "CACHE_LOCATION",
            "AWS_STORAGE_BUCKET_NAME",
            "DEBUG",
        ] {
            assert!(!refused_property(name), "{name}");
        }
    }

    #[test]
    fn the_interpreter_binds_leave_out_home_and_the_system() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let venv = d.join("home/ins/venv");
        std::fs::create_dir_all(venv.join("lib/site-packages")).unwrap();
        let home = d.join("home/ins");
        let kept = binds(
            vec![
                venv.clone(),
                venv.join("lib/site-packages"),
                home.clone(),
                d.join("home"),
                PathBuf::from("/"),
                PathBuf::from("/usr/lib/python3"),
                PathBuf::from("relative"),
                d.join("missing"),
            ],
            Some(&home),
        );
        assert_eq!(kept, vec![venv]);
    }

    #[test]
    fn the_folders_above_binds_are_opened_but_never_a_bound_one() {
        let got = parents_to_open(&[
            Path::new("/usr"),
            Path::new("/root/.pyenv/versions/3.11"),
            Path::new("/srv/cohort/ada"),
            Path::new("/srv/cohort/ada/web/venv"),
        ]);
        let want: Vec<PathBuf> = ["/root", "/srv", "/root/.pyenv", "/srv/cohort", "/root/.pyenv/versions"]
            .iter()
            .map(PathBuf::from)
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn an_unavailable_sandbox_names_its_way_around() {
        let u = refused("bwrap: setting up uid map: Permission denied");
        assert!(u.message().contains("uid map"), "{u:?}");
        assert!(u.hint().contains("user namespaces") && u.hint().contains("--trust-learner-code"));
        let u = refused("bwrap: Can't find source path /srv/venv: Permission denied");
        assert!(u.fix.contains("readable"), "{u:?}");
    }
}
