//! Kind `command`: a script an instructor writes in the lab file. Exit 0
//! passes; a line `FAIL: reason` on standard output becomes the message.
//! Parameters reach the script as `LABCHECK_<NAME>` environment variables.

use super::CheckKind;
use crate::course::lab::CheckSpec;
use crate::engine::account::Account;
use crate::engine::outcome::{CheckError, CheckResult, Outcome};
use std::process::Stdio;
use std::sync::Arc;

pub const COMMAND: CheckKind = CheckKind {
    id: "command",
    title: "A scripted check",
    passes: "the script given as `run` exits with status 0",
    iam_actions: &[],
    data_plane: false,
    run: |account, spec| Box::pin(run(account, spec)),
};

/// Kills a process group when dropped while it still runs.
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

async fn run(account: Arc<Account>, spec: Arc<CheckSpec>) -> CheckResult {
    let script = account.expand(spec.run.as_deref().unwrap_or_default());
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c")
        .arg(&script)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0);
    let project_dir = account.param("project_dir");
    if std::path::Path::new(&project_dir).is_dir() {
        cmd.current_dir(&project_dir);
    }
    for (name, value, _) in account.public_params() {
        cmd.env(format!("LABCHECK_{}", name.to_uppercase()), value);
    }
    let child = cmd
        .spawn()
        .map_err(|e| CheckError::Other(format!("cannot run the check's script: {e}")))?;
    // If the check is dropped (timeout), the whole process group goes too,
    // so a script's own children do not outlive it.
    let mut group = ProcessGroup(child.id());
    let out = child.wait_with_output().await;
    group.0 = None; // it ended by itself: nothing to kill
    let out = out.map_err(|e| CheckError::Other(format!("the check's script failed: {e}")))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let reason = stdout
        .lines()
        .find_map(|l| l.strip_prefix("FAIL:"))
        .map(|r| r.trim().to_string());
    let evidence = serde_json::json!({ "exit_code": out.status.code() });
    if out.status.success() && reason.is_none() {
        let last = stdout
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("the script succeeded");
        return Ok(Outcome::pass(last.trim()).evidence(evidence));
    }
    let message = reason.unwrap_or_else(|| {
        let last_err = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
        match out.status.code() {
            Some(code) => format!("the script exited with status {code}. {last_err}")
                .trim()
                .to_string(),
            None => "the script was killed by a signal".to_string(),
        }
    });
    Ok(Outcome::fail(message).evidence(evidence))
}
