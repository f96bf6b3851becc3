//! `labcheck status`: recorded results, quiz scores, what next.

use super::common::{ListFormat, print};
use super::{Common, Error};
use labcheck::exit::Exit;
use labcheck::params::Params;

/// Where the results come from, and examples.
pub(crate) const AFTER_HELP: &str = "Every `labcheck check` (and `labcheck watch`) run records its results per
account and lab in $LABCHECK_STATE_DIR, else $XDG_STATE_HOME/labcheck, else
~/.local/state/labcheck; quiz scores come from `labcheck quiz`'s progress file.

Examples:
  labcheck status
  labcheck status --format json
  labcheck status --account 123456789012";

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Human)]
    format: ListFormat,
    /// The account whose results to show (default: the `account` parameter,
    /// else the account checked most recently).
    #[arg(long, value_name = "ID")]
    account: Option<String>,
}

pub(crate) fn run(common: &Common, args: &Args) -> Result<Exit, Error> {
    let course = common.course()?;
    let lab = common.lab(&course)?;
    let env = |var: &str| std::env::var(var).ok();
    let params = Params::gather(common.config_path().as_deref(), &common.set, &env)?;
    let account = args
        .account
        .clone()
        .or_else(|| params.explicit(labcheck::params::Param::Account).map(str::to_string));
    let overview = labcheck::status::gather(lab, account.as_deref());
    for w in &overview.warnings {
        eprintln!("warning: {w}");
    }
    print(&match args.format {
        ListFormat::Json => serde_json::to_string_pretty(&overview.to_json(&course, lab)).expect("serializes") + "\n",
        ListFormat::Human => overview.to_human(&course, lab),
    })
}
