//! What every command shares: the global flags, loading the course and the
//! lab they name, connecting to the account, and printing the output.

use super::error::Error;
use clap::{Args, ValueEnum};
use labcheck::course::Course;
use labcheck::course::lab::Lab;
use labcheck::engine::account::Account;
use labcheck::exit::Exit;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

/// The flags every command takes.
#[derive(Args, Clone)]
pub(crate) struct Common {
    /// Lab to use (default: deploy-django-eb).
    #[arg(long, global = true, value_name = "ID")]
    pub(crate) lab: Option<String>,
    /// AWS profile from ~/.aws/config (default: AWS_PROFILE or `default`).
    #[arg(long, global = true, value_name = "NAME")]
    pub(crate) profile: Option<String>,
    /// AWS Region (default: region parameter, then your AWS config).
    #[arg(long, global = true, value_name = "REGION")]
    pub(crate) region: Option<String>,
    /// Set a lab parameter, e.g. `--set bucket=my-media-bucket` (repeatable).
    #[arg(long = "set", global = true, value_name = "KEY=VALUE")]
    pub(crate) set: Vec<String>,
    /// Parameter file (default: ./labcheck.toml when it exists).
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Read labs from this course folder instead of the built-in copy.
    #[arg(long, global = true, value_name = "DIR")]
    pub(crate) course_dir: Option<PathBuf>,
    /// When to use colours (NO_COLOR is honoured).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub(crate) color: ColorChoice,
    /// Show more: parameters and where each value came from.
    #[arg(short, long, global = true)]
    pub(crate) verbose: bool,
}

/// `--color`.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// `--format` of the commands that print a listing.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum ListFormat {
    Human,
    Json,
}

impl Common {
    /// Whether to colour the output: `--color`, else NO_COLOR and whether
    /// standard output is a terminal.
    pub(crate) fn use_color(&self) -> bool {
        match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
            }
        }
    }

    /// The course: the built-in copy, or `--course-dir`'s.
    pub(crate) fn course(&self) -> Result<Course, Error> {
        Ok(Course::load(self.course_dir.as_deref(), &labcheck::checks::kind_ids())?)
    }

    /// The lab `--lab` names (or the default one) in `course`.
    pub(crate) fn lab<'c>(&self, course: &'c Course) -> Result<&'c Lab, Error> {
        Ok(course.lab(self.lab.as_deref())?)
    }

    /// The parameter file: `--config`, else ./labcheck.toml when it exists.
    pub(crate) fn config_path(&self) -> Option<PathBuf> {
        labcheck::connect::config_path(self.config.as_deref())
    }

    /// The context checks run in, from the command line.
    pub(crate) async fn connect(&self, insecure: bool) -> Result<Arc<Account>, labcheck::connect::Error> {
        let config = self.config_path();
        labcheck::connect::connect(&labcheck::connect::ConnectOptions {
            config: config.as_deref(),
            set: &self.set,
            region: self.region.as_deref(),
            profile: self.profile.as_deref(),
            insecure,
            verbose: self.verbose,
        })
        .await
    }

    /// The instructor's side of a cohort command.
    pub(crate) fn cohort_access(&self) -> labcheck::cohort::command::Access {
        labcheck::cohort::command::Access {
            profile: self.profile.clone(),
            region: self.region.clone(),
            config: self.config_path(),
            sets: self.set.clone(),
            ..Default::default()
        }
    }
}

/// Prints a command's output; a closed pipe ends it quietly.
pub(crate) fn print(text: &str) -> Result<Exit, Error> {
    labcheck::report::print_stdout(text).map_err(Error::Output)?;
    Ok(Exit::Pass)
}
