//! Running a program for a check: standard input closed, output captured
//! up to a cap, and the program's whole process group killed when it
//! outlives its time limit, prints more than the cap, finishes (a detached
//! grandchild that kept the pipes open would otherwise hold the check), or
//! the check is dropped (the engine's timeout). Nothing a check starts
//! outlives it.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Most bytes kept of a program's standard output, and of its standard error.
pub const OUTPUT_CAP: usize = 8 << 20;

/// How long the pipes may stay open once the program itself has exited
/// (its process group has been killed by then; only a process that left the
/// group can still hold them).
const DRAIN: Duration = Duration::from_millis(500);

/// What a finished program printed.
#[derive(Clone, Debug, Default)]
pub struct Ran {
    /// The program exited with status 0 and its output was not cut.
    pub success: bool,
    /// The exit status; `None` when a signal ended the program.
    pub code: Option<i32>,
    /// Standard output, lossily decoded as UTF-8.
    pub stdout: String,
    /// Standard error, lossily decoded as UTF-8.
    pub stderr: String,
    /// The program printed more than [`OUTPUT_CAP`] bytes and was stopped:
    /// the output above is cut.
    pub cut: bool,
}

/// Why a program did not run to its end.
#[derive(Clone, Debug)]
pub enum RunError {
    /// The program does not exist (or is not executable).
    NotFound(String),
    /// The program could not be started or waited for.
    Other(String),
    /// The program did not finish in time and was killed.
    TimedOut,
}

/// Kills a process group when dropped while it may still run.
struct ProcessGroup(Option<u32>);

impl ProcessGroup {
    fn kill(&self) {
        if let Some(pgid) = self.0 {
            // SAFETY: killpg only sends a signal; a group that has already
            // exited makes it fail with ESRCH, which is fine to ignore.
            unsafe {
                libc::killpg(pgid as libc::pid_t, libc::SIGKILL);
            }
        }
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        self.kill();
    }
}

/// What has been read of one pipe so far: shared between its reader and the
/// run, so that output read before a pipe stops being drained is kept.
#[derive(Default)]
struct Kept {
    bytes: Vec<u8>,
    /// The pipe gave more than the cap.
    cut: bool,
}

type SharedKept = Arc<Mutex<Kept>>;

/// Reads a pipe to its end into `kept`, keeping at most `cap` bytes;
/// returns whether there was more.
async fn read_capped(pipe: Option<impl AsyncRead + Unpin>, cap: usize, kept: &SharedKept) -> bool {
    let Some(mut pipe) = pipe else {
        return false;
    };
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match pipe.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => {
                let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
                let room = cap - kept.bytes.len();
                if n > room {
                    kept.bytes.extend_from_slice(&buf[..room]);
                    kept.cut = true;
                    return true;
                }
                kept.bytes.extend_from_slice(&buf[..n]);
            }
        }
    }
}

fn spawn_reader<R: AsyncRead + Unpin + Send + 'static>(
    pipe: Option<R>,
    cap: usize,
    overflow: tokio::sync::mpsc::Sender<()>,
) -> (tokio::task::JoinHandle<()>, SharedKept) {
    let kept = SharedKept::default();
    let reading = kept.clone();
    let task = tokio::spawn(async move {
        if read_capped(pipe, cap, &reading).await {
            let _ = overflow.send(()).await;
        }
    });
    (task, kept)
}

/// Runs `cmd` in a process group of its own, waiting at most `limit`.
pub async fn run(cmd: tokio::process::Command, limit: Option<Duration>) -> Result<Ran, RunError> {
    run_capped(cmd, limit, OUTPUT_CAP).await
}

/// [`run`] with a cap of `cap` bytes on each of stdout and stderr.
pub async fn run_capped(
    mut cmd: tokio::process::Command,
    limit: Option<Duration>,
    cap: usize,
) -> Result<Ran, RunError> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0);
    let mut child = cmd.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => RunError::NotFound(e.to_string()),
        _ => RunError::Other(e.to_string()),
    })?;
    let group = ProcessGroup(child.id());
    let (out_pipe, err_pipe) = (child.stdout.take(), child.stderr.take());
    // The readers run as their own tasks, so that the pipes keep draining
    // while the program runs, and an overflow can stop it at once.
    let (overflow_tx, mut overflow_rx) = tokio::sync::mpsc::channel::<()>(2);
    let (out_task, out_kept) = spawn_reader(out_pipe, cap, overflow_tx.clone());
    let (err_task, err_kept) = spawn_reader(err_pipe, cap, overflow_tx);

    enum End {
        Exited(std::io::Result<std::process::ExitStatus>),
        Overflow,
        TimedOut,
    }
    let deadline = async {
        match limit {
            Some(limit) => tokio::time::sleep(limit).await,
            None => std::future::pending().await,
        }
    };
    let end = tokio::select! {
        status = child.wait() => End::Exited(status),
        Some(()) = overflow_rx.recv() => End::Overflow,
        () = deadline => End::TimedOut,
    };
    // Whatever happened, nothing of the group may go on running.
    group.kill();
    let status = match end {
        End::Exited(status) => Some(status.map_err(|e| RunError::Other(e.to_string()))?),
        End::Overflow => child.wait().await.ok(),
        End::TimedOut => {
            let _ = child.wait().await;
            out_task.abort();
            err_task.abort();
            return Err(RunError::TimedOut);
        }
    };
    // What each pipe gave, once it closes or the drain time is over: a
    // process that left the group may hold a pipe open, but what was read
    // before is kept.
    let collect = |task: tokio::task::JoinHandle<()>, kept: SharedKept| async move {
        let abort = task.abort_handle();
        if tokio::time::timeout(DRAIN, task).await.is_err() {
            abort.abort();
        }
        let kept = std::mem::take(&mut *kept.lock().unwrap_or_else(|e| e.into_inner()));
        (kept.bytes, kept.cut)
    };
    let ((stdout, out_cut), (stderr, err_cut)) = tokio::join!(collect(out_task, out_kept), collect(err_task, err_kept));
    let cut = out_cut || err_cut;
    Ok(Ran {
        success: !cut && status.is_some_and(|s| s.success()),
        code: status.and_then(|s| s.code()),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        cut,
    })
}

/// Whether process `pid` still runs a second after it was killed: a killed
/// process may linger a moment, or as a zombie until reaped (for the tests
/// that check nothing a run started outlives it).
#[cfg(test)]
pub(crate) async fn still_alive(pid: i32) -> bool {
    for _ in 0..50 {
        // SAFETY: signal 0 only asks whether the process exists.
        let alive = unsafe { libc::kill(pid, 0) } == 0
            && !std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "));
        if !alive {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new("sh");
        cmd.arg("-c").arg(script);
        cmd
    }

    /// Bounds a run that should end at once: a regression shows as this
    /// watchdog firing (a hang), not as a time the test asserts.
    async fn within_watchdog<T>(run: impl std::future::Future<Output = T>) -> T {
        tokio::time::timeout(Duration::from_secs(300), run)
            .await
            .expect("hung: the run did not end with its program")
    }

    #[tokio::test]
    async fn output_past_the_cap_stops_the_program() {
        // Without the cap, `yes` runs until the limit, and the run is an error.
        let ran = run_capped(sh("yes labcheck"), Some(Duration::from_secs(60)), 100_000)
            .await
            .unwrap();
        assert!(ran.cut && !ran.success, "{:?}", (ran.cut, ran.code));
        assert_eq!(ran.stdout.len(), 100_000);
    }

    #[tokio::test]
    async fn a_detached_grandchild_does_not_hold_the_run() {
        // The grandchild would keep stdout open for an hour; the run must
        // end with its parent (else the limit makes it an error), and the
        // grandchild must be gone.
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let ran = run(
            sh(&format!("sleep 3600 & echo $! > {}; echo done", pid_file.display())),
            Some(Duration::from_secs(60)),
        )
        .await
        .unwrap();
        assert!(ran.success, "{ran:?}");
        assert_eq!(ran.stdout, "done\n");
        let pid: i32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
        assert!(!still_alive(pid).await, "sleep {pid} outlived the run");
    }

    #[tokio::test]
    async fn a_process_that_left_the_group_cannot_hold_the_pipes() {
        // setsid puts the grandchild in a session of its own, out of reach
        // of the group kill; the run still ends promptly.
        std::process::Command::new("setsid")
            .arg("--version")
            .output()
            .expect("setsid (util-linux) runs this test");
        // It would hold the pipes for an hour: the run ends once its own
        // program has, and the test ends the escaped process itself.
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let script = format!(
            "setsid sh -c 'echo $$ > {}; exec sleep 3600' & sleep 0.2; echo ok",
            pid_file.display()
        );
        let ran = within_watchdog(run(sh(&script), None)).await.unwrap();
        if let Some(pid) = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|p| p.trim().parse::<i32>().ok())
        {
            // SAFETY: ends the process this test started.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        assert!(ran.success, "{ran:?}");
        // What the program printed before it ended is kept, though the
        // escaped process still held the pipe when the run gave up on it.
        assert_eq!(ran.stdout, "ok\n");
    }
}
