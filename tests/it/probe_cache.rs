//! The project probe's cache: re-checking a project when nothing the probe
//! read has changed starts no Python, whether the check comes from
//! `labcheck check` or from the book's "Check my progress"; a changed
//! settings file, variable or interpreter, or a run of someone else's code
//! (`--untrusted`), starts it again. Python starts are counted by a
//! wrapper that stands in for the interpreter.

use crate::common::{Learner, repo, shared_learner, text, write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A copy of the reference project (its code only).
fn project_copy() -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().to_string();
            if matches!(
                name.as_str(),
                ".venv" | "venv" | "__pycache__" | "db.sqlite3" | "media" | "static"
            ) {
                continue;
            }
            let (src, dst) = (entry.path(), to.join(&name));
            if entry.file_type().unwrap().is_dir() {
                copy(&src, &dst);
            } else {
                std::fs::copy(&src, &dst).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(&repo().join("labs/pets_project"), dir.path());
    dir
}

/// An interpreter that counts its starts in `count`, then runs the
/// sandbox's app Python.
fn counting_python(dir: &Path, count: &Path) -> PathBuf {
    let real = repo().join("sandbox/.app-venv/bin/python");
    assert!(real.exists(), "{} is missing: run sandbox/up", real.display());
    let script = write(
        dir,
        "python",
        &format!(
            "#!/bin/sh\necho start >> '{}'\nexec '{}' \"$@\"\n",
            count.display(),
            real.display()
        ),
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    script
}

fn starts(count: &Path) -> usize {
    std::fs::read_to_string(count).map_or(0, |t| t.lines().count())
}

struct Setup {
    learner: Learner,
    project: tempfile::TempDir,
    state: tempfile::TempDir,
    tools: tempfile::TempDir,
    python: PathBuf,
    count: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let tools = tempfile::tempdir().unwrap();
        let count = tools.path().join("starts");
        let python = counting_python(tools.path(), &count);
        Setup {
            learner: shared_learner("probe_cache"),
            project: project_copy(),
            state: tempfile::tempdir().unwrap(),
            tools,
            python,
            count,
        }
    }

    fn labcheck(&self) -> Command {
        let mut cmd = self.learner.labcheck();
        cmd.env("LABCHECK_STATE_DIR", self.state.path())
            .env("LABCHECK_DATA_DIR", self.tools.path())
            .env("LABCHECK_PROJECT_DIR", self.project.path())
            .env("LABCHECK_PYTHON", &self.python);
        cmd
    }

    /// `labcheck check project ARGS`: its report's deploy-check status.
    fn check(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        let out = self
            .labcheck()
            .args(["check", "project", "--format", "json"])
            .args(args)
            .envs(env.iter().copied())
            .output()
            .unwrap();
        let report: serde_json::Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("no report ({e}):\n{}", text(&out)));
        crate::common::check(&report, "project.settings")["status"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

#[test]
fn an_unchanged_project_starts_no_python_and_each_change_one() {
    let s = Setup::new();
    let first = s.check(&[], &[]);
    let once = starts(&s.count);
    assert!(once >= 1, "the first check runs Python");
    assert_eq!(s.check(&[], &[]), first, "the same verdict from the kept answer");
    assert_eq!(starts(&s.count), once, "an unchanged project starts no Python");

    // A changed settings file: one run, then kept again.
    let settings = s.project.path().join("pets_project/settings.py");
    let text = std::fs::read_to_string(&settings).unwrap();
    std::fs::write(&settings, format!("{text}\n# edited\n")).unwrap();
    s.check(&[], &[]);
    assert_eq!(starts(&s.count), once + 1, "one changed settings file, one run");
    s.check(&[], &[]);
    assert_eq!(starts(&s.count), once + 1);

    // A file added beside the settings (it could be imported): one run.
    write(s.project.path(), "pets_project/local_settings.py", "X = 1\n");
    s.check(&[], &[]);
    assert_eq!(starts(&s.count), once + 2, "a new module beside the settings");

    // A variable the settings could read: one run.
    s.check(&[], &[("RDS_USER_PASSWORD", "another-password")]);
    assert_eq!(starts(&s.count), once + 3, "a changed variable");

    // Someone else's code never reuses the learner's own answer.
    s.check(&["--untrusted", "--trust-learner-code"], &[]);
    assert_eq!(starts(&s.count), once + 4, "a trusted run of someone else's code");

    // No variable's value is in the cache, only what the probe read and said.
    let cache = s.state.path().join("probe-cache");
    for entry in std::fs::read_dir(&cache).unwrap() {
        let kept = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for secret in ["another-password", "sandbox-db-password", "sandbox-secret"] {
            assert!(!kept.contains(secret), "{secret} is in the probe cache");
        }
    }
}

#[test]
fn the_book_reuses_the_answer_of_labcheck_check() {
    let s = Setup::new();
    s.check(&[], &[]);
    let once = starts(&s.count);
    // The book's "Check my progress" on the project step, same folder and variables.
    let mut cmd = s.labcheck();
    cmd.args(["book", "serve", "--port", "0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
    let url = lines
        .find_map(|l| l.ok()?.strip_prefix("Serving the book at ").map(str::to_string))
        .expect("an address");
    let rest = url.strip_prefix("http://127.0.0.1:").unwrap();
    let (port, token) = rest.split_once("/?token=").unwrap();
    let body = r#"{"step":"project"}"#;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).unwrap();
    std::io::Write::write_all(
        &mut stream,
        format!(
            "POST /api/run HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nX-Labcheck-Token: {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
    .unwrap();
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut stream, &mut answer).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(answer.contains("event: done"), "{answer}");
    assert_eq!(starts(&s.count), once, "the book reused the kept answer");
}
