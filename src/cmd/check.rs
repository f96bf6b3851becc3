//! `labcheck check [STEP|CHECK ...]`: grade the lab.

use super::{Common, Error};
use labcheck::checks::project::isolation::LearnerCode;
use labcheck::exit::Exit;
use labcheck::report::Format;
use std::path::PathBuf;
use std::time::Duration;

/// `labcheck check`'s examples and what the site checks fetch.
pub(crate) const AFTER_HELP: &str = "Examples:
  labcheck check                      every step
  labcheck check s3 cache             two steps
  labcheck check s3.cors              one check (its prerequisites run too)
  labcheck check --format json -o report.json
  labcheck check --set bucket=my-bucket --region eu-west-1

The site checks fetch only the site's own origin (site_url, else the
environment's CNAME) and pictures only from the media bucket's S3 hosts; they
never connect to a loopback, private or link-local address other than the
environment's own endpoint. A refused fetch fails the check and says why.";

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Step ids (s3, cache, rds, project, eb) or check ids (s3.cors); none means all.
    #[arg(value_name = "STEP|CHECK")]
    names: Vec<String>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Write the report to FILE (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Longest time one check may take, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    timeout: u64,
    /// Do NOT verify the cache's TLS certificate (the report says so). Prefer
    /// `--set cache_ca=FILE` when the cache uses a CA of its own.
    #[arg(long)]
    insecure: bool,
    /// Grade a project that is not yours (a learner's clone, checked by a
    /// TA): its code runs in a sandbox (bubblewrap: no network, a read-only
    /// view of the project alone, a throwaway HOME and /tmp, limits on
    /// memory, processes, CPU time and file size, nothing left running
    /// after), with your Python (the python parameter, else $VIRTUAL_ENV,
    /// else python3; never a .venv found in the project), and with the
    /// project's own environment properties (.ebextensions, and its
    /// Beanstalk environment's when AWS can be asked) instead of your
    /// shell's variables. Where the sandbox cannot be built (no bwrap, user
    /// namespaces off, not Linux), the checks that run its code are left
    /// out and say why.
    #[arg(long)]
    untrusted: bool,
    /// With --untrusted: run the project's code without the sandbox (still
    /// with your Python and the project's variables only). Only for code
    /// you have read, or where no sandbox can be built and you accept the
    /// risk: the code then runs as you, with your files and network.
    #[arg(long, requires = "untrusted")]
    trust_learner_code: bool,
}

pub(crate) async fn run(common: &Common, args: &Args) -> Result<Exit, Error> {
    let course = common.course()?;
    let lab = common.lab(&course)?;
    let selected = labcheck::engine::select(lab, &args.names)?;
    let account = common.connect(args.insecure).await?;
    if args.untrusted {
        account.set_learner_code(if args.trust_learner_code {
            LearnerCode::Trusted
        } else {
            LearnerCode::Sandboxed
        });
    }
    let opts = labcheck::check::Options {
        selected,
        format: args.format,
        output: args.output.clone(),
        timeout: Duration::from_secs(args.timeout.max(1)),
        color: common.use_color(),
    };
    Ok(labcheck::check::run(lab, account, &opts).await?)
}
