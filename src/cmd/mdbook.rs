//! `labcheck mdbook [supports RENDERER]`: the mdBook preprocessor protocol.

use super::Error;
use clap::Subcommand;
use labcheck::exit::Exit;

#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Exit 0 when the preprocessor supports RENDERER (html).
    Supports { renderer: String },
}

pub(crate) fn run(args: &Args) -> Result<Exit, Error> {
    match &args.command {
        Some(Command::Supports { renderer }) => Ok(if labcheck::book::supports(renderer) {
            Exit::Pass
        } else {
            Exit::Fail
        }),
        None => {
            labcheck::book::protocol::run_stdio()?;
            Ok(Exit::Pass)
        }
    }
}
