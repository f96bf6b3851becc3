//! Kind `command`: a script an instructor writes in the lab file. Exit 0
//! passes; a line `FAIL: reason` on standard output becomes the message.
//! Parameters reach the script as `LABCHECK_<NAME>` environment variables.

use super::CheckKind;
use crate::course::lab::CheckSpec;
use crate::params::Param;
use crate::run::account::Account;
use crate::run::outcome::{CheckError, CheckResult, Outcome};
use std::sync::Arc;

pub(crate) const COMMAND: CheckKind = CheckKind {
    id: crate::course::lab::COMMAND_KIND,
    passes: "the script given as `run` exits with status 0",
    iam_actions: &[],
    data_plane: false,
    reads_project: false,
    run: |account, spec| Box::pin(run(account, spec)),
};

async fn run(account: Arc<Account>, spec: Arc<CheckSpec>) -> CheckResult {
    // The script may name the account (or the default bucket, made from it).
    if account.aws_ready().await.is_ok() {
        let _ = account.identity().await;
    }
    let script = account.expand(spec.run.as_deref().unwrap_or_default());
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c").arg(&script);
    let project_dir = account.param(Param::ProjectDir);
    if std::path::Path::new(&project_dir).is_dir() {
        cmd.current_dir(&project_dir);
    }
    for (name, value, _) in account.public_params() {
        cmd.env(format!("LABCHECK_{}", name.to_uppercase()), value);
    }
    // The script acts as the account being graded: in cohort mode that is
    // the learner's assumed role, not the instructor's own credentials.
    if account.aws_ready().await.is_ok()
        && let Some(provider) = account.sdk.credentials_provider()
        && let Ok(creds) = aws_credential_types::provider::ProvideCredentials::provide_credentials(&provider).await
    {
        cmd.env("AWS_ACCESS_KEY_ID", creds.access_key_id())
            .env("AWS_SECRET_ACCESS_KEY", creds.secret_access_key())
            .env_remove("AWS_PROFILE");
        match creds.session_token() {
            Some(token) => cmd.env("AWS_SESSION_TOKEN", token),
            None => cmd.env_remove("AWS_SESSION_TOKEN"),
        };
        if !account.region.is_empty() {
            cmd.env("AWS_REGION", &account.region)
                .env("AWS_DEFAULT_REGION", &account.region);
        }
    }
    // No limit here: the engine's timeout drops this future, and with it the
    // script's whole process group.
    let out = super::process::run(cmd, None).await.map_err(|e| match e {
        super::process::RunError::NotFound(e) | super::process::RunError::Other(e) => {
            CheckError::Other(format!("cannot run the check's script: {e}"))
        }
        super::process::RunError::TimedOut => CheckError::Other("the check's script timed out".into()),
    })?;
    let (stdout, stderr) = (&out.stdout, &out.stderr);
    let reason = stdout
        .lines()
        .find_map(|l| l.strip_prefix("FAIL:"))
        .map(|r| r.trim().to_string());
    let evidence = serde_json::json!({ "exit_code": out.code });
    if out.success && reason.is_none() {
        let last = stdout
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("the script succeeded");
        return Ok(Outcome::pass(last.trim()).evidence(evidence));
    }
    let message = reason.unwrap_or_else(|| {
        let last_err = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
        match out.code {
            Some(code) => format!("the script exited with status {code}. {last_err}")
                .trim()
                .to_string(),
            None => "the script was killed by a signal".to_string(),
        }
    });
    Ok(Outcome::fail(message).evidence(evidence))
}
