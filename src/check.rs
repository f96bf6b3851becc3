//! `labcheck check`: grade the selected checks, record the results for
//! `labcheck status`, and print or write the report.

use crate::course::lab::Lab;
use crate::engine::{self, RunOptions, account::Account};
use crate::exit::Exit;
use crate::report::{self, Format, Status, output::write_atomic};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How `labcheck check` grades and reports.
pub struct Options {
    /// Check ids to grade (their prerequisites run too), from [`engine::select`].
    pub selected: Vec<String>,
    /// How to print the report.
    pub format: Format,
    /// Write the report here (atomically) instead of standard output.
    pub output: Option<PathBuf>,
    /// Longest one check may take.
    pub timeout: Duration,
    /// Colours in a human report printed to the terminal.
    pub color: bool,
}

/// Why the report could not be delivered.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The report file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What the operating system reported.
        source: std::io::Error,
    },
    /// Standard output could not be written.
    #[error("cannot write to standard output: {0}")]
    Output(std::io::Error),
}

impl Error {
    /// How the process ends: bad input for a report file that cannot be
    /// written, a failure for standard output.
    pub fn exit(&self) -> Exit {
        match self {
            Error::Write { .. } => Exit::BadInput,
            Error::Output(_) => Exit::Fail,
        }
    }
}

/// Grades the lab and delivers the report; the exit is the report's verdict.
pub async fn run(lab: &Lab, account: Arc<Account>, opts: &Options) -> Result<Exit, Error> {
    let progress = progress_bar(
        opts.selected.len() as u64,
        opts.format == Format::Human && opts.output.is_none(),
    );
    let mut run = RunOptions {
        timeout: opts.timeout,
        ..RunOptions::default()
    };
    if let Some(bar) = progress.clone() {
        run.on_done = Some(Arc::new(move |check: &report::CheckReport| {
            bar.set_message(check.id.clone());
            bar.inc(1);
        }));
    }
    let report = engine::run(lab, &opts.selected, account, &run).await;
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    if let Err(e) = crate::state::record(&report) {
        eprintln!("warning: this run was not recorded for `labcheck status`: {e}");
    }

    let text = report::render(&report, opts.format, opts.color && opts.output.is_none());
    match &opts.output {
        Some(path) => {
            write_atomic(path, text.as_bytes()).map_err(|source| Error::Write {
                path: path.clone(),
                source,
            })?;
            eprintln!(
                "wrote {} ({}/{} points, {} failed)",
                path.display(),
                report.score,
                report.max_score,
                report.count(Status::Fail)
            );
        }
        None => report::print_stdout(&text).map_err(Error::Output)?,
    }
    Ok(report.verdict().exit())
}

/// A progress bar on standard error, when wanted and it is a terminal.
fn progress_bar(len: u64, wanted: bool) -> Option<indicatif::ProgressBar> {
    if !wanted || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} checking {pos}/{len} {wide_msg}").expect("valid template"),
    );
    bar.enable_steady_tick(Duration::from_millis(100));
    Some(bar)
}
