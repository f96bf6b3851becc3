//! `labcheck cohort quizzes DIR`: what the cohort got wrong, per question.

use crate::cmd::{Common, Error};
use labcheck::cohort::quiz_stats::render::Format;
use labcheck::exit::Exit;
use std::path::PathBuf;

/// What DIR holds, what is measured, and examples.
pub(crate) const AFTER_HELP: &str = "DIR holds learners' `labcheck quiz QUIZ --format json` results (any .json
file below it, up to four folders deep). A result is the learner's named by its
`learner` field, else by its first folder below DIR (DIR/ada/kc.json), else by
its file name (DIR/ada.json). A learner's earliest attempt at a quiz is their
first try.

Per question: learners, attempts, the share right on the first try, the
discrimination (point-biserial correlation of the first try with the rest of
the quiz's score), the wrong answer chosen most, and flags: too-easy (>= 95 %),
too-hard (<= 30 %), negative-discrimination (the key is probably wrong).
Worst first. Files that are not quiz results are named and skipped.

Examples:
  labcheck cohort quizzes results/ --format html -o quizzes.html
  labcheck cohort quizzes results/ --format csv > quizzes.csv";

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Folder of quiz results (labcheck/quiz-result-v1 JSON files).
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Html)]
    format: Format,
    /// Write the report to FILE (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub(crate) fn run(common: &Common, args: &Args) -> Result<Exit, Error> {
    let course = common.course()?;
    Ok(labcheck::cohort::command::quizzes(
        &args.dir,
        &course,
        args.format,
        args.output.as_deref(),
    )?)
}
