//! The one error a command ends with: each library error a command can meet,
//! with the exit it maps to (the table is [`labcheck::exit`]) and how it is
//! shown on standard error.

use labcheck::exit::Exit;

/// Why a command stopped. Commands reach it with `?`: every library error
/// they meet converts into it.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// The course's labs or quizzes, or the `--lab` asked for.
    #[error(transparent)]
    Course(#[from] labcheck::course::CourseError),
    /// A step or check id on the command line that the lab does not have.
    #[error(transparent)]
    UnknownName(#[from] labcheck::engine::UnknownName),
    /// The parameters (file, `--set`, environment).
    #[error(transparent)]
    Params(#[from] labcheck::params::ParamError),
    /// The context of a run (parameters, Region, profile).
    #[error(transparent)]
    Connect(#[from] labcheck::connect::Error),
    /// `labcheck check`.
    #[error(transparent)]
    Check(#[from] labcheck::check::Error),
    /// `labcheck watch`.
    #[error(transparent)]
    Watch(#[from] labcheck::watch::Error),
    /// `labcheck quiz`.
    #[error(transparent)]
    Quiz(#[from] labcheck::quiz::Error),
    /// `labcheck cohort …`.
    #[error(transparent)]
    Cohort(#[from] labcheck::cohort::command::Error),
    /// `labcheck book build`.
    #[error(transparent)]
    Book(#[from] labcheck::book::BookError),
    /// `labcheck book serve`.
    #[error(transparent)]
    Serve(#[from] labcheck::book::server::ServeError),
    /// `labcheck mdbook`.
    #[error(transparent)]
    Mdbook(#[from] labcheck::book::protocol::StdioError),
    /// AWS cannot be asked (no credentials, no Region, no identity).
    #[error(transparent)]
    Unavailable(#[from] labcheck::engine::account::Unavailable),
    /// An AWS call failed.
    #[error(transparent)]
    Aws(#[from] labcheck::aws::AwsError),
    /// The man page could not be rendered.
    #[error("{0}")]
    Man(std::io::Error),
    /// A blocking task ended abnormally.
    #[error("{0}")]
    Task(#[from] tokio::task::JoinError),
    /// Standard output could not be written.
    #[error("cannot write to standard output: {0}")]
    Output(std::io::Error),
}

impl Error {
    /// How the process ends for this error.
    pub(crate) fn process_exit(&self) -> Exit {
        match self {
            Error::Course(_) | Error::UnknownName(_) | Error::Params(_) | Error::Book(_) => Exit::BadInput,
            Error::Man(_) | Error::Task(_) => Exit::BadInput,
            Error::Connect(e) => e.exit(),
            Error::Check(e) => e.exit(),
            Error::Watch(e) => e.exit(),
            Error::Quiz(e) => e.exit(),
            Error::Cohort(e) => e.exit(),
            Error::Serve(e) => e.exit(),
            Error::Mdbook(e) => e.exit(),
            Error::Unavailable(_) | Error::Aws(_) => Exit::NotEvaluated,
            Error::Output(_) => Exit::Fail,
        }
    }

    /// Prints `error: MESSAGE` on standard error. A message may quote what a
    /// user or a learner typed (a flag, a roster cell, a file name): no
    /// control sequence of theirs reaches the terminal.
    pub(crate) fn display_to_stderr(&self) {
        let message = labcheck::redact::strip_control(&self.to_string());
        eprintln!("{} {message}", console::style("error:").red().bold());
    }
}
