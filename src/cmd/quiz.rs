//! `labcheck quiz [QUIZ]`: list the quizzes, or take one.

use super::{Common, Error};
use labcheck::exit::Exit;
use std::path::PathBuf;

/// Examples, exit codes, and where results are kept.
pub(crate) const AFTER_HELP: &str = "Examples:
  labcheck quiz                                   the quizzes, with your best scores
  labcheck quiz pre-assessment                    one question at a time
  labcheck quiz knowledge-check --answers a.toml --format json
                                                  scripted: question id = \"option text\"

Exit codes: 0 every answer right, 1 some answer wrong, 2 bad usage or input.
Results are kept in $LABCHECK_DATA_DIR, else $XDG_DATA_HOME/labcheck, else
~/.local/share/labcheck (progress.json).";

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Quiz id (pre-assessment, knowledge-check, one per chapter); none lists them.
    #[arg(value_name = "QUIZ")]
    quiz: Option<String>,
    /// Answer from FILE instead of the terminal: TOML or JSON, question id = option text (or a list).
    #[arg(long, value_name = "FILE")]
    answers: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = labcheck::quiz::Format::Human)]
    format: labcheck::quiz::Format,
    /// Shuffle the options with this seed (default: a random seed, shown in the JSON).
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
}

pub(crate) fn run(common: &Common, args: &Args) -> Result<Exit, Error> {
    let course = common.course()?;
    let opts = labcheck::quiz::Options {
        quiz: args.quiz.clone(),
        answers: args.answers.clone(),
        format: args.format,
        seed: args.seed,
    };
    Ok(labcheck::quiz::run(&course, &opts)?)
}
