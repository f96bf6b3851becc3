//! `labcheck book build|serve`: the book built into labcheck, or a checkout's.

use super::{Common, Error};
use clap::Subcommand;
use labcheck::exit::Exit;

pub(crate) mod build;
pub(crate) mod serve;

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Build the book's HTML: the book built into labcheck (into ./labcheck-book),
    /// or with --course-dir a checkout's (into its book/book).
    Build(build::Args),
    /// Serve the book on 127.0.0.1 (only), where every lab step checks your work in the page.
    #[command(after_help = serve::AFTER_HELP)]
    Serve(serve::Args),
}

pub(crate) async fn run(common: &Common, command: &Command) -> Result<Exit, Error> {
    match command {
        Command::Build(args) => build::run(common, args).await,
        Command::Serve(args) => serve::run(common, args).await,
    }
}
