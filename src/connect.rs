//! From the command line to an [`Account`]: the lab's parameters (file,
//! `--set`, environment), the Region and profile, the SDK's configuration,
//! and the notes a report carries about them. Nothing is asked of AWS here:
//! the checks that need it ask, so the project checks run with no AWS
//! configuration at all. Every error is bad input (exit 2).

use crate::aws::{self, AwsOptions};
use crate::engine::account::Account;
use crate::exit::Exit;
use crate::params::{Param, ParamError, Params, Source};
use std::path::{Path, PathBuf};
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

/// Why no context could be built: each is bad input (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The parameters (file, `--set`, environment) have a problem.
    #[error(transparent)]
    Params(#[from] ParamError),
    /// A Region given on the command line or as a parameter is not a Region name.
    #[error("{origin}: `{}` is not an AWS Region name (like us-west-2 or eu-central-1)", crate::redact::strip_control(.value).escape_debug())]
    Region {
        /// Where it was given (`--region`, the region parameter).
        origin: &'static str,
        /// The value given.
        value: String,
    },
    /// The AWS configuration's Region is not a Region name.
    #[error("the AWS configuration's Region `{}` is not a Region name (like us-west-2); fix AWS_REGION or ~/.aws/config, or pass --region", crate::redact::strip_control(.0).escape_debug())]
    AwsRegion(String),
    /// The named profile is not in the AWS config files: what to do about it.
    #[error("{0}")]
    MissingProfile(String),
}

impl Error {
    /// How the process ends: every one is bad input.
    pub fn exit(&self) -> Exit {
        Exit::BadInput
    }
}

/// The parameter file a run reads: the one given (`--config`), else
/// `./labcheck.toml` when it exists.
pub fn config_path(given: Option<&Path>) -> Option<PathBuf> {
    given
        .map(Path::to_path_buf)
        .or_else(|| Some(PathBuf::from("labcheck.toml")).filter(|p| p.is_file()))
}

/// Builds the context checks run in: parameters, SDK clients, secrets to
/// redact.
pub async fn connect(opts: &ConnectOptions<'_>) -> Result<Arc<Account>, Error> {
    let env = |var: &str| std::env::var(var).ok();
    let mut params = Params::gather(opts.config, opts.set, &env)?;

    let given = opts.region.map(|r| (r.to_string(), "--region")).or_else(|| {
        params
            .explicit(Param::Region)
            .map(|r| (r.to_string(), "the region parameter"))
    });
    if let Some((region, origin)) = &given
        && !aws::is_valid_region(region)
    {
        return Err(Error::Region {
            origin,
            value: region.clone(),
        });
    }
    if let Some(problem) = aws::missing_profile(opts.profile, &env).await {
        return Err(Error::MissingProfile(problem));
    }
    let sdk = aws::load(&AwsOptions {
        profile: opts.profile.map(str::to_string),
        region: given.map(|(r, _)| r),
    })
    .await;
    if let Some(region) = sdk.region().map(|r| r.to_string()) {
        if !aws::is_valid_region(&region) {
            return Err(Error::AwsRegion(region));
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
