//! Running a program for a check: standard input closed, output captured,
//! and the program's whole process group killed when it outlives its time
//! limit or the check is dropped (the engine's timeout), so nothing a check
//! starts outlives it.

use std::process::Stdio;
use std::time::Duration;

/// What a finished program printed.
#[derive(Clone, Debug)]
pub struct Ran {
    pub success: bool,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Why a program did not run to its end.
#[derive(Clone, Debug)]
pub enum RunError {
    /// The program does not exist (or is not executable).
    NotFound(String),
    Other(String),
    TimedOut,
}

/// Kills a process group when dropped while it may still run.
struct ProcessGroup(Option<u32>);

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        if let Some(pgid) = self.0 {
            // SAFETY: killpg only sends a signal; a group that has already
            // exited makes it fail with ESRCH, which is fine to ignore.
            unsafe {
                libc::killpg(pgid as libc::pid_t, libc::SIGKILL);
            }
        }
    }
}

/// Runs `cmd` in a process group of its own, waiting at most `limit`.
pub async fn run(mut cmd: tokio::process::Command, limit: Option<Duration>) -> Result<Ran, RunError> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0);
    let child = cmd.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => RunError::NotFound(e.to_string()),
        _ => RunError::Other(e.to_string()),
    })?;
    let mut group = ProcessGroup(child.id());
    let waiting = child.wait_with_output();
    let finished = match limit {
        Some(limit) => tokio::time::timeout(limit, waiting)
            .await
            .map_err(|_| RunError::TimedOut)?,
        None => waiting.await,
    };
    // It ended by itself (or failed to be waited for): nothing to kill.
    group.0 = None;
    let out = finished.map_err(|e| RunError::Other(e.to_string()))?;
    Ok(Ran {
        success: out.status.success(),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}
