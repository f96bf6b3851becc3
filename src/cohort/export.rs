//! `labcheck cohort export GRADEBOOK.json --format FORMAT`: an existing
//! gradebook (a `--format json` one, from `cohort grade` or `cohort merge`)
//! in another format: the LMS import files above all, so grades already
//! taken reach Canvas or Moodle without grading again. `--roster` adds the
//! LMS identities of a roster to a gradebook made without them.

use super::command::{Error, write_out};
use super::gradebook::Gradebook;
use super::lms::LmsArgs;
use super::render::{self, Format};
use super::roster;
use crate::exit::Exit;
use std::path::PathBuf;

/// `labcheck cohort export`'s arguments.
#[derive(clap::Args, Clone, Debug)]
#[command(after_help = "Examples:
  labcheck cohort export gradebook.json --format canvas --assignment \"Lab 3: Django on Beanstalk\" -o canvas.csv
  labcheck cohort export gradebook.json --format moodle --moodle-id username -o moodle.csv
  labcheck cohort export gradebook.json --format html -o gradebook.html
  labcheck cohort export old-gradebook.json --roster roster.csv --format canvas -o canvas.csv

A learner who could not be graded gets an empty cell in the LMS files, never a
zero. What an import cannot match (a learner without the identifier Moodle is
told to use, say) is named on standard error.

Exit codes: 0 written, 2 not a gradebook or a bad roster.")]
pub struct ExportArgs {
    /// A `labcheck/gradebook-v1` JSON file (`cohort grade --format json`).
    #[arg(value_name = "GRADEBOOK")]
    pub gradebook: PathBuf,
    /// The format to write.
    #[arg(long, value_enum)]
    pub format: Format,
    /// Write to FILE (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Take the learners' LMS identities (email, sis_login_id, sis_user_id,
    /// section) from this roster, matched by learner name.
    #[arg(long, value_name = "ROSTER")]
    pub roster: Option<PathBuf>,
    /// The LMS files' options.
    #[command(flatten)]
    pub lms: LmsArgs,
}

/// `labcheck cohort export`.
pub fn run(args: &ExportArgs) -> Result<Exit, Error> {
    let mut book = Gradebook::read(&args.gradebook, "export reads a `--format json` gradebook")?;
    if let Some(path) = &args.roster {
        let roster = roster::load(path).map_err(Error::bad)?;
        let mut matched = 0;
        for l in &mut book.learners {
            if let Some(entry) = roster.learners.iter().find(|e| e.learner == l.learner) {
                l.identity = entry.identity.clone();
                matched += 1;
            }
        }
        eprintln!("{matched} of {} learners found in {}", book.learners.len(), roster.file);
    }
    for w in render::lms_warnings(&book, args.format, &args.lms) {
        eprintln!("warning: {}", crate::redact::strip_control(&w));
    }
    let text = render::render_with(&book, args.format, &args.lms);
    let wrote = write_out(args.output.as_deref(), &text)?;
    if let Some(p) = wrote {
        eprintln!("wrote {p}");
    }
    Ok(Exit::Pass)
}
