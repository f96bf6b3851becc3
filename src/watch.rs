//! `labcheck watch [STEP|CHECK ...]`: grades the selected checks again
//! whenever a file of the project folder changes (the `notify` crate) and
//! every `--interval` seconds (AWS state has no change events), until the
//! learner quits.
//!
//! - On a terminal the screen is redrawn in place with the console report;
//!   `q` (or Esc) quits with the last run's exit code, `r` or Enter runs
//!   again now, Ctrl-C quits with 130.
//! - Otherwise (a pipe, a file, CI) it prints one summary line per run.
//! - `--exit-on-pass` ends with 0 as soon as every selected check passes.
//!
//! Every run is a fresh [`Account`] (the memo of AWS answers lasts one run)
//! and is recorded like a `labcheck check` run, so `labcheck status` sees it.

use crate::course::lab::Lab;
use crate::engine::{self, RunOptions, account::Account};
use crate::exit::Exit;
use crate::report::{Report, Status, Verdict};
use std::future::Future;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// What `labcheck watch` was asked to do.
pub struct Options {
    /// The checks to grade (from [`engine::select`]).
    pub selected: Vec<String>,
    /// What the learner named, for the screen ("" for all).
    pub names: Vec<String>,
    /// How often to grade again with no file change.
    pub interval: Duration,
    /// Stop once every check passes.
    pub exit_on_pass: bool,
    /// How each grading run runs.
    pub run: RunOptions,
    /// Color the report.
    pub color: bool,
}

/// Why a run was started.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Trigger {
    Start,
    /// The files that changed, relative to the watched folder, in the order
    /// they were first seen.
    Files(Vec<PathBuf>),
    Interval,
    Key,
}

/// How many changed files a summary names before it counts the rest.
const FILES_NAMED: usize = 3;

impl Trigger {
    /// `start`, `interval`, `key`, or `files changed: app/views.py, +2 more`.
    fn describe(&self) -> String {
        match self {
            Trigger::Start => "start".into(),
            Trigger::Files(paths) => {
                let mut named: Vec<String> = paths
                    .iter()
                    .take(FILES_NAMED)
                    .map(|p| crate::redact::strip_control(&p.display().to_string()))
                    .collect();
                if paths.len() > FILES_NAMED {
                    named.push(format!("+{} more", paths.len() - FILES_NAMED));
                }
                format!("files changed: {}", named.join(", "))
            }
            Trigger::Interval => "interval".into(),
            Trigger::Key => "key".into(),
        }
    }
}

/// What the learner asked for from the keyboard (or Ctrl-C).
enum Control {
    Rerun,
    Quit,
    Interrupt,
}

/// A failure that ends the watch.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A run's context could not be built (a config file edited into a bad one).
    #[error(transparent)]
    Connect(#[from] crate::connect::Error),
    /// Standard output could not be written.
    #[error("cannot write to standard output: {0}")]
    Output(std::io::Error),
}

impl Error {
    /// How the process ends for this error.
    pub fn exit(&self) -> Exit {
        match self {
            Error::Connect(e) => e.exit(),
            Error::Output(_) => Exit::Fail,
        }
    }
}

/// Runs the watch loop; returns how the process ends: the last run's
/// verdict, [`Exit::Pass`] with `exit_on_pass`, [`Exit::Interrupted`] on
/// Ctrl-C. `connect` builds the context of one run (parameters, SDK
/// clients); `project_dir` is the folder watched.
pub async fn run<C, F>(lab: &Lab, opts: &Options, project_dir: &Path, connect: C) -> Result<Exit, Error>
where
    C: Fn() -> F,
    F: Future<Output = Result<Arc<Account>, crate::connect::Error>>,
{
    let tty = std::io::stdout().is_terminal();
    let _terminal = TerminalGuard::save();

    let (files_tx, mut files_rx) = mpsc::unbounded_channel::<PathBuf>();
    let watcher = watch_files(project_dir, files_tx);
    if let Err(e) = &watcher {
        eprintln!(
            "warning: cannot watch {} for changes ({e}); grading every {} s only",
            project_dir.display(),
            opts.interval.as_secs()
        );
    }

    let (control_tx, mut control_rx) = mpsc::unbounded_channel::<Control>();
    {
        let tx = control_tx.clone();
        tokio::spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                if tx.send(Control::Interrupt).is_err() {
                    break;
                }
            }
        });
    }
    if tty && std::io::stdin().is_terminal() {
        read_keys(control_tx);
    } else {
        drop(control_tx);
    }

    let mut trigger = Trigger::Start;
    let mut runs = 0u64;
    let mut last = Verdict::Incomplete;
    let mut warned = false;
    loop {
        runs += 1;
        let account = connect().await?;
        let report = tokio::select! {
            report = engine::run(lab, &opts.selected, account, &opts.run) => report,
            Some(c) = control_rx.recv() => match c {
                Control::Interrupt => return Ok(Exit::Interrupted),
                Control::Quit => return Ok(last.exit()),
                Control::Rerun => continue,
            },
        };
        if let Err(e) = crate::state::record(&report)
            && !warned
        {
            warned = true;
            eprintln!("warning: this run was not recorded for `labcheck status`: {e}");
        }
        last = report.verdict();
        let text = if tty {
            screen(&report, opts, project_dir, &trigger, runs, watcher.is_ok())
        } else {
            summary_line(&report, &trigger, runs) + "\n"
        };
        match write_stdout(&text) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(last.exit()),
            Err(e) => return Err(Error::Output(e)),
        }
        if opts.exit_on_pass && last == Verdict::Passed {
            return Ok(Exit::Pass);
        }
        trigger = tokio::select! {
            _ = tokio::time::sleep(opts.interval) => Trigger::Interval,
            Some(first) = files_rx.recv() => {
                // Editors write several files (and temporary ones) per save:
                // wait for the burst to end, then run once.
                let mut changed = vec![first];
                while let Ok(Some(path)) = tokio::time::timeout(Duration::from_millis(300), files_rx.recv()).await {
                    changed.push(path);
                }
                Trigger::Files(relative_and_unique(changed, project_dir))
            }
            Some(c) = control_rx.recv() => match c {
                Control::Interrupt => return Ok(Exit::Interrupted),
                Control::Quit => return Ok(last.exit()),
                Control::Rerun => Trigger::Key,
            },
        };
    }
}

/// Writes to standard output and flushes; a closed pipe is returned as such.
fn write_stdout(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// One line per run, for a pipe or a log:
/// `2026-05-01T10:00:00Z run 2 (files changed): 8/10 · 4 passed · 1 failed: s3.cors`.
fn summary_line(report: &Report, trigger: &Trigger, runs: u64) -> String {
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
    let ids = |status: Status| -> Vec<&str> {
        report
            .checks()
            .filter(|c| c.status == status)
            .map(|c| c.id.as_str())
            .collect()
    };
    let mut line = format!(
        "{now} run {runs} ({}): {}/{} · {} passed",
        trigger.describe(),
        report.score,
        report.max_score,
        report.count(Status::Pass)
    );
    let failed = ids(Status::Fail);
    if !failed.is_empty() {
        line.push_str(&format!(" · {} failed: {}", failed.len(), failed.join(", ")));
    }
    let errors = ids(Status::Error);
    if !errors.is_empty() {
        line.push_str(&format!(" · {} not checked: {}", errors.len(), errors.join(", ")));
    }
    let skipped = report.count(Status::Skip);
    if skipped > 0 {
        line.push_str(&format!(" · {skipped} skipped"));
    }
    line.push_str(match report.verdict() {
        Verdict::Passed => " · all pass",
        Verdict::Failed => "",
        Verdict::Incomplete => "",
    });
    line
}

/// The whole screen on a terminal: cleared, the report, then what is watched.
fn screen(report: &Report, opts: &Options, dir: &Path, trigger: &Trigger, runs: u64, files: bool) -> String {
    let mut text = String::from("\x1b[H\x1b[2J\x1b[3J");
    text.push_str(&crate::report::render(report, crate::report::Format::Human, opts.color));
    let dim = console::Style::new().dim();
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
    let what = if opts.names.is_empty() {
        "every step".to_string()
    } else {
        opts.names.join(" ")
    };
    let files = if files {
        format!("on changes in {} and ", dir.display())
    } else {
        String::new()
    };
    text.push_str(&format!(
        "\n{}\n",
        dim.apply_to(format!(
            "watching {what}: grading {files}every {} s · run {runs} ({}) at {now} · r run now · q quit",
            opts.interval.as_secs(),
            trigger.describe()
        ))
    ));
    text
}

/// The changed paths relative to the watched folder, each once, in the order
/// first seen.
fn relative_and_unique(paths: Vec<PathBuf>, dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for path in paths {
        let path = path.strip_prefix(dir).map(Path::to_path_buf).unwrap_or(path);
        if !out.contains(&path) {
            out.push(path);
        }
    }
    out
}

/// Folders never watched: version control, build output, caches, virtualenvs.
const IGNORED: &[&str] = &[
    ".git",
    ".hg",
    "target",
    "node_modules",
    "__pycache__",
    ".venv",
    "venv",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".tox",
];

fn ignored(path: &Path) -> bool {
    path.components().any(|c| {
        let name = c.as_os_str().to_string_lossy();
        IGNORED.contains(&name.as_ref())
    }) || path.file_name().is_some_and(|n| {
        let n = n.to_string_lossy();
        n.ends_with('~') || n.ends_with(".swp") || n.ends_with(".swx") || n.ends_with(".pyc") || n.starts_with(".#")
    })
}

/// Watches the project folder: the folder itself, and each of its
/// sub-folders that is not ignored, recursively (so a big `target/` or
/// virtualenv costs no watches). Sends each changed path that is not
/// ignored.
fn watch_files(dir: &Path, tx: mpsc::UnboundedSender<PathBuf>) -> notify::Result<notify::RecommendedWatcher> {
    use notify::{EventKind, RecursiveMode, Watcher};
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if matches!(event.kind, EventKind::Access(_)) {
            return;
        }
        for path in event.paths.into_iter().filter(|p| !ignored(p)) {
            let _ = tx.send(path);
        }
    })?;
    watcher.watch(dir, RecursiveMode::NonRecursive)?;
    let entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(notify::Error::io)?
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .filter(|p| !ignored(p))
        .collect();
    for sub in entries {
        // A folder that vanished or cannot be read is not a reason to stop.
        let _ = watcher.watch(&sub, RecursiveMode::Recursive);
    }
    Ok(watcher)
}

/// Reads keys on a thread of its own (a blocking read): q / Esc quit, r /
/// Enter run again, Ctrl-C interrupts.
fn read_keys(tx: mpsc::UnboundedSender<Control>) {
    std::thread::spawn(move || {
        let term = console::Term::stdout();
        loop {
            let control = match term.read_key() {
                Ok(console::Key::Char('q' | 'Q')) | Ok(console::Key::Escape) => Control::Quit,
                Ok(console::Key::CtrlC) => Control::Interrupt,
                Ok(console::Key::Char('r' | 'R')) | Ok(console::Key::Enter) => Control::Rerun,
                Ok(_) => continue,
                Err(_) => return,
            };
            if tx.send(control).is_err() {
                return;
            }
        }
    });
}

/// Restores the terminal's settings when the watch ends: the key reader may
/// be stopped in the middle of a read, with the terminal in raw mode.
struct TerminalGuard(Option<libc::termios>);

impl TerminalGuard {
    fn save() -> Self {
        if !std::io::stdin().is_terminal() {
            return TerminalGuard(None);
        }
        let mut termios = std::mem::MaybeUninit::<libc::termios>::uninit();
        // SAFETY: tcgetattr fills the struct when it returns 0.
        let ok = unsafe { libc::tcgetattr(libc::STDIN_FILENO, termios.as_mut_ptr()) } == 0;
        TerminalGuard(ok.then(|| unsafe { termios.assume_init() }))
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        if let Some(termios) = &self.0 {
            // SAFETY: restores settings read from the same descriptor.
            unsafe {
                libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, termios);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Trigger, ignored, relative_and_unique};
    use std::path::{Path, PathBuf};

    #[test]
    fn a_files_trigger_names_what_changed_once_relative_to_the_folder() {
        let dir = Path::new("/home/l/proj");
        let changed = relative_and_unique(
            ["app/views.py", "app/views.py", "a", "b", "c"]
                .iter()
                .map(|p| dir.join(p))
                .collect(),
            dir,
        );
        assert_eq!(
            Trigger::Files(changed).describe(),
            "files changed: app/views.py, a, b, +1 more"
        );
        let odd = Trigger::Files(vec![PathBuf::from("evil\x1b]0;title\x07.py")]);
        assert!(!odd.describe().contains('\x1b'), "{}", odd.describe());
    }

    #[test]
    fn ignores_build_output_and_editor_files() {
        assert!(ignored(Path::new("./target/debug/x")));
        assert!(ignored(Path::new("proj/.git/index")));
        assert!(ignored(Path::new("proj/app/__pycache__/m.pyc")));
        assert!(ignored(Path::new("proj/settings.py~")));
        assert!(!ignored(Path::new("proj/pets_project/settings.py")));
        assert!(!ignored(Path::new("proj/.ebextensions/django.config")));
    }
}
