//! `labcheck cohort merge PART...`: shard gradebooks into one.

use crate::cmd::Error;
use labcheck::cohort::render::Format;
use labcheck::exit::Exit;
use std::path::PathBuf;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Gradebooks written by `cohort grade --shard I/N --format json`.
    #[arg(required = true, value_name = "PART")]
    parts: Vec<PathBuf>,
    /// Gradebook format.
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    format: Format,
    /// Write the gradebook to FILE (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub(crate) fn run(args: &Args) -> Result<Exit, Error> {
    Ok(labcheck::cohort::command::merge(
        &args.parts,
        args.format,
        args.output.as_deref(),
    )?)
}
