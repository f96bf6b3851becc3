//! `labcheck list`: the lab's steps and checks.

use super::common::{ListFormat, print};
use super::{Common, Error};
use labcheck::exit::Exit;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Human)]
    format: ListFormat,
}

pub(crate) fn run(common: &Common, args: &Args) -> Result<Exit, Error> {
    let course = common.course()?;
    let lab = common.lab(&course)?;
    print(&match args.format {
        ListFormat::Json => labcheck::list::json(&course, lab),
        ListFormat::Human => labcheck::list::human(&course, lab),
    })
}
