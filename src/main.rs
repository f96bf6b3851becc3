//! The `labcheck` command line: parsing and dispatch. Each command is a file
//! of `cmd/`; everything else lives in the library.

mod cmd;

use clap::{CommandFactory, Parser, Subcommand};
use cmd::Common;
use labcheck::exit::Exit;
use std::io::IsTerminal;
use std::process::ExitCode;

const AFTER_HELP: &str = "\
Getting started:
  labcheck list                 see the lab's steps and check ids
  labcheck check                grade every step against your AWS account
  labcheck check s3             grade one step
  labcheck check s3.cors        grade one check (and what it needs)

Rehearse without AWS on the local sandbox:
  sandbox/up && source sandbox/env && labcheck check

Exit codes: 0 all graded checks passed, 1 a check failed, 2 bad usage or bad
input, 3 nothing failed but some checks could not be evaluated.";

/// Grade the Django-on-Elastic-Beanstalk lab against your own AWS account.
///
/// labcheck reads your account (it never changes anything) and tells you, for
/// each step of the lab, what passes, what does not, and how to fix it.
#[derive(Parser)]
#[command(name = "labcheck", version, after_help = AFTER_HELP, max_term_width = 100)]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Grade the lab: every step, or the steps and checks you name.
    #[command(after_help = cmd::check::AFTER_HELP)]
    Check(cmd::check::Args),
    /// List the lab's steps and checks, with their ids and points.
    List(cmd::list::Args),
    /// Where you stand: each step's last results, your quiz scores, what to do next.
    #[command(after_help = cmd::status::AFTER_HELP)]
    Status(cmd::status::Args),
    /// Grade again whenever a project file changes, and every few seconds, until green.
    #[command(after_help = cmd::watch::AFTER_HELP)]
    Watch(cmd::watch::Args),
    /// Take a quiz in the terminal; with no QUIZ, list the quizzes and your best scores.
    #[command(after_help = cmd::quiz::AFTER_HELP)]
    Quiz(cmd::quiz::Args),
    /// Print the read-only IAM policy that labcheck's checks need.
    Policy(cmd::policy::Args),
    /// Grade a whole cohort: every learner of a roster, through a read-only role in each account.
    #[command(subcommand)]
    Cohort(cmd::cohort::Command),
    /// List the lab's resources that still cost money, and how to delete them.
    Cleanup(cmd::cleanup::Args),
    /// The course book (mdBook, in process): build it, or serve it with a "Check my progress" button on every lab step.
    #[command(subcommand)]
    Book(cmd::book::Command),
    /// mdBook preprocessor protocol, for `mdbook build book` (see book/book.toml).
    Mdbook(cmd::mdbook::Args),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    #[command(after_help = cmd::completions::AFTER_HELP)]
    Completions(cmd::completions::Args),
    /// Print the man page (roff) to standard output.
    #[command(after_help = cmd::man::AFTER_HELP)]
    Man,
}

fn main() -> ExitCode {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => e.exit(),
        // --help and --version: printed like any command's output, so a closed
        // pipe is quiet and a failed write is an error.
        Err(e) => {
            let text = if std::io::stdout().is_terminal() {
                e.render().ansi().to_string()
            } else {
                e.render().to_string()
            };
            return match cmd::common::print(&text) {
                Ok(exit) => exit.into(),
                Err(err) => {
                    err.display_to_stderr();
                    err.process_exit().into()
                }
            };
        }
    };
    let color = cli.common.use_color();
    console::set_colors_enabled(color);
    console::set_colors_enabled_stderr(color);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = runtime.block_on(run(&cli.common, &cli.command));
    match result {
        Ok(exit) => exit.into(),
        Err(e) => {
            e.display_to_stderr();
            e.process_exit().into()
        }
    }
}

/// Runs the command parsed.
async fn run(common: &Common, command: &Command) -> Result<Exit, cmd::Error> {
    match command {
        Command::Check(args) => cmd::check::run(common, args).await,
        Command::List(args) => cmd::list::run(common, args),
        Command::Status(args) => cmd::status::run(common, args),
        Command::Watch(args) => cmd::watch::run(common, args).await,
        Command::Quiz(args) => cmd::quiz::run(common, args),
        Command::Policy(args) => cmd::policy::run(common, args),
        Command::Cohort(command) => cmd::cohort::run(common, command).await,
        Command::Cleanup(args) => cmd::cleanup::run(common, args).await,
        Command::Book(command) => cmd::book::run(common, command).await,
        Command::Mdbook(args) => cmd::mdbook::run(args),
        Command::Completions(args) => cmd::completions::run(Cli::command(), args),
        Command::Man => cmd::man::run(Cli::command()),
    }
}
