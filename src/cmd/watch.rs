//! `labcheck watch [STEP|CHECK ...]`: grade again on file changes and every
//! few seconds.

use super::{Common, Error};
use labcheck::engine::RunOptions;
use labcheck::exit::Exit;
use std::path::PathBuf;
use std::time::Duration;

/// Examples, the keys, and what is not watched.
pub(crate) const AFTER_HELP: &str = "Examples:
  labcheck watch                       every step; q quits
  labcheck watch s3 --exit-on-pass     until the S3 step passes, then exit 0
  labcheck watch project --interval 60

On a terminal the screen is redrawn in place (q or Esc quits, r or Enter runs
again now, Ctrl-C quits with 130); otherwise one summary line is printed per run.
Files under .git, target, node_modules, __pycache__ and virtualenvs are ignored.";

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Step ids (s3, cache, rds, project, eb) or check ids (s3.cors); none means all.
    #[arg(value_name = "STEP|CHECK")]
    names: Vec<String>,
    /// Grade again every SECS seconds even when no file changed (AWS state).
    #[arg(long, value_name = "SECS", default_value_t = 15)]
    interval: u64,
    /// Exit 0 as soon as every selected check passes.
    #[arg(long)]
    exit_on_pass: bool,
    /// Longest time one check may take, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    timeout: u64,
    /// Do NOT verify the cache's TLS certificate (see `labcheck check --help`).
    #[arg(long)]
    insecure: bool,
}

pub(crate) async fn run(common: &Common, args: &Args) -> Result<Exit, Error> {
    let course = common.course()?;
    let lab = common.lab(&course)?;
    let selected = labcheck::engine::select(lab, &args.names)?;
    // The first connection finds bad input (a bad config, a bad Region) before the loop.
    let first = common.connect(args.insecure).await?;
    let project_dir = PathBuf::from(first.param(labcheck::params::Param::ProjectDir)).join("");
    let project_dir = if project_dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        project_dir
    };
    let opts = labcheck::watch::Options {
        selected,
        names: args.names.clone(),
        interval: Duration::from_secs(args.interval.max(1)),
        exit_on_pass: args.exit_on_pass,
        run: RunOptions {
            timeout: Duration::from_secs(args.timeout.max(1)),
            ..RunOptions::default()
        },
        color: common.use_color(),
    };
    let first = std::sync::Mutex::new(Some(first));
    let exit = labcheck::watch::run(lab, &opts, &project_dir, || {
        let reuse = first.lock().expect("lock").take();
        async move {
            match reuse {
                Some(account) => Ok(account),
                None => common.connect(args.insecure).await,
            }
        }
    })
    .await?;
    Ok(exit)
}
