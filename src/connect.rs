//! From the command line to an [`Account`]: the lab's parameters (file,
//! `--set`, environment), the Region and profile, the SDK's configuration,
//! and the notes a report carries about them. Nothing is asked of AWS here:
//! the checks that need it ask, so the project checks run with no AWS
//! configuration at all. Every error is bad input (exit 2).

use crate::aws::{self, AwsOptions};
use crate::engine::account::Account;
use crate::params::Param;
use crate::params::{Params, Source};
use std::path::Path;
use std::sync::Arc;

/// What the command line says about where and as whom to check.
#[derive(Debug, Default, Clone)]
pub struct ConnectOptions<'a> {
    /// The parameter file (`--config`, or `./labcheck.toml` when it exists).
    pub config: Option<&'a Path>,
    /// `--set KEY=VALUE` flags.
    pub set: &'a [String],
    /// `--region`.
    pub region: Option<&'a str>,
    /// `--profile`.
    pub profile: Option<&'a str>,
    /// `--insecure`: the cache's TLS certificate is not verified.
    pub insecure: bool,
    /// `--verbose`: print each parameter and where its value came from.
    pub verbose: bool,
}

/// Builds the context checks run in: parameters, SDK clients, secrets to
/// redact. The error is a message for the learner (bad input).
pub async fn connect(opts: &ConnectOptions<'_>) -> Result<Arc<Account>, String> {
    let env = |var: &str| std::env::var(var).ok();
    let mut params = Params::gather(opts.config, opts.set, &env).map_err(|e| e.to_string())?;

    let given = opts.region.map(|r| (r.to_string(), "--region")).or_else(|| {
        params
            .explicit(Param::Region)
            .map(|r| (r.to_string(), "the region parameter"))
    });
    if let Some((region, origin)) = &given
        && !aws::is_valid_region(region)
    {
        return Err(format!(
            "{origin}: `{}` is not an AWS Region name (like us-west-2 or eu-central-1)",
            crate::redact::strip_control(region).escape_debug()
        ));
    }
    if let Some(problem) = aws::missing_profile(opts.profile, &env).await {
        return Err(problem);
    }
    let sdk = aws::load(&AwsOptions {
        profile: opts.profile.map(str::to_string),
        region: given.map(|(r, _)| r),
    })
    .await;
    if let Some(region) = sdk.region().map(|r| r.to_string()) {
        if !aws::is_valid_region(&region) {
            return Err(format!(
                "the AWS configuration's Region `{}` is not a Region name (like us-west-2); fix AWS_REGION or ~/.aws/config, or pass --region",
                crate::redact::strip_control(&region).escape_debug()
            ));
        }
        if params.explicit(Param::Region).is_none() || opts.region.is_some() {
            let source = if opts.region.is_some() {
                Source::Flag
            } else {
                Source::Aws
            };
            params.set(Param::Region, &region, source);
        }
    }
    let mut account = Account::new(sdk, params);
    if let Some(note) = aws::profile_note(opts.profile, &env) {
        account.note(note);
    }
    if opts.insecure {
        account.insecure = true;
        account.note("--insecure: the cache's TLS certificate was NOT verified; a passing cache.reachable proves less");
    }
    let account = Arc::new(account);
    if opts.verbose {
        for (name, value, source) in account.public_params() {
            eprintln!("  {name:16} = {value:40} ({source})");
        }
    }
    Ok(account)
}
