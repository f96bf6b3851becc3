//! `labcheck cleanup`: what of the lab still costs money.

use super::common::{ListFormat, print};
use super::{Common, Error};
use labcheck::exit::Exit;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Human)]
    format: ListFormat,
}

pub(crate) async fn run(common: &Common, args: &Args) -> Result<Exit, Error> {
    let account = common.connect(false).await?;
    account.aws_ready().await?;
    account.identity().await?;
    let found = labcheck::cleanup::leftovers(&account).await?;
    let redactor = account.redactor();
    let text = match args.format {
        ListFormat::Json => {
            serde_json::to_string_pretty(&serde_json::json!({"leftovers": found})).expect("serializes") + "\n"
        }
        ListFormat::Human => labcheck::cleanup::render(&found),
    };
    print(&redactor.clean(&text))
}
