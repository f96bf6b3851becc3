//! `labcheck cohort …`: the instructor's commands, one file each.

use super::{Common, Error};
use clap::Subcommand;
use labcheck::exit::Exit;

pub(crate) mod export;
pub(crate) mod grade;
pub(crate) mod invite;
pub(crate) mod leftovers;
pub(crate) mod merge;
pub(crate) mod quizzes;

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Grade every learner of ROSTER (CSV), or of an AWS Organizations unit, and write the gradebook.
    #[command(after_help = grade::AFTER_HELP)]
    Grade(Box<grade::Args>),
    /// What the cohort got wrong in the quizzes: per question, from a folder of quiz results.
    #[command(after_help = quizzes::AFTER_HELP)]
    Quizzes(quizzes::Args),
    /// Give each learner of ROSTER an external id of their own, and print the
    /// command (and link) that deploys each learner's grader role.
    #[command(after_help = invite::AFTER_HELP)]
    Invite(invite::Args),
    /// Write an existing gradebook (`--format json`) in another format: Canvas or Moodle's import CSV, html, ...
    Export(export::Args),
    /// Who left resources running: per learner, what still costs money, since when, and about how much a month.
    Leftovers(Box<leftovers::Args>),
    /// Combine shard gradebooks (`--format json`) into the one an unsharded run gives.
    Merge(merge::Args),
}

pub(crate) async fn run(common: &Common, command: &Command) -> Result<Exit, Error> {
    match command {
        Command::Grade(args) => grade::run(common, args).await,
        Command::Quizzes(args) => quizzes::run(common, args),
        Command::Invite(args) => invite::run(common, args),
        Command::Export(args) => export::run(args),
        Command::Leftovers(args) => leftovers::run(common, args).await,
        Command::Merge(args) => merge::run(args),
    }
}
