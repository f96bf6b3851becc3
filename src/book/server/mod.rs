//! `labcheck book serve`: the book and a local API beside it, on 127.0.0.1
//! only (axum on hyper).
//!
//! - [`files`]: the built book, each page marked as served (so its script
//!   offers the "Check my progress" buttons), or the build's error;
//! - [`guard`]: who may ask: the Host and Origin of this server only, and
//!   the API only with the token printed at start;
//! - [`api`]: the routes: a step's checks run and streamed as server-sent
//!   events ([`runs`]), the last results and quiz scores (what `labcheck
//!   status` shows), quiz attempts recorded ([`quiz`]);
//! - [`rebuild`]: `--watch`, for course authors: rebuilt on every change of
//!   `book/`, `labs/` or `quizzes/`, open pages reloaded.
//!
//! Nothing is written but the book's build, the state file (each run, as
//! `labcheck check` records it) and the progress file (each quiz attempt).

pub mod api;
pub mod files;
pub mod guard;
pub mod quiz;
pub mod rebuild;
pub mod runs;

use crate::book::BookError;
use crate::course::Course;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::net::TcpListener;

/// How the checks a page asks for are run: what `labcheck check` is given
/// on its command line.
#[derive(Clone, Debug, Default)]
pub struct RunSettings {
    /// The parameter file (`--config`, or `./labcheck.toml` when it exists).
    pub config: Option<PathBuf>,
    /// `--set KEY=VALUE` flags.
    pub set: Vec<String>,
    /// `--region`.
    pub region: Option<String>,
    /// `--profile`.
    pub profile: Option<String>,
    /// `--insecure`: the cache's TLS certificate is not verified.
    pub insecure: bool,
    /// Longest one check may take.
    pub timeout: Duration,
}

/// What `labcheck book serve` was asked for.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// The course checkout to build from (`--course-dir`); the copy built
    /// into labcheck when `None`.
    pub course_dir: Option<PathBuf>,
    /// Where the HTML goes (`--dest`); a temporary folder when `None`.
    pub dest: Option<PathBuf>,
    /// Port on 127.0.0.1 (0: any free port).
    pub port: u16,
    /// Open the book in the browser once it is served.
    pub open: bool,
    /// Rebuild on changes of the course and reload open pages.
    pub watch: bool,
    /// The lab whose steps the panels check (`--lab`).
    pub lab: Option<String>,
    /// How checks are run.
    pub run: RunSettings,
}

/// Why `labcheck book serve` stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The book could not be built (or, with `--watch`, could not be watched).
    #[error("{0}")]
    Build(#[from] BookError),
    /// The course's labs or quizzes have problems.
    #[error("{0}")]
    Course(#[from] crate::course::CourseError),
    /// 127.0.0.1:`port` could not be listened on.
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind {
        /// The port.
        port: u16,
        /// What the operating system reported.
        source: std::io::Error,
    },
    /// No random token could be made.
    #[error("cannot make the server's token: {0}")]
    Token(getrandom::Error),
    /// Standard output could not be written.
    #[error("cannot write to standard output: {0}")]
    Output(std::io::Error),
    /// Serving failed (a broken listener), or a temporary folder could not be made.
    #[error("{0}")]
    Serve(std::io::Error),
}

impl ServeError {
    /// How the process ends: a failure when standard output failed, else bad input.
    pub fn exit(&self) -> crate::exit::Exit {
        use crate::exit::Exit;
        match self {
            ServeError::Output(_) => Exit::Fail,
            _ => Exit::BadInput,
        }
    }
}

/// The served book: where its HTML is, or why the last build failed.
#[derive(Debug)]
pub struct Site {
    /// The folder of the built HTML.
    pub dir: PathBuf,
    /// The last build's error (with `--watch`: shown instead of a stale page).
    pub error: Option<String>,
}

/// Everything the routes share.
pub struct Server {
    /// The port listened on, for the Host and Origin checks.
    pub port: u16,
    /// The API's token.
    pub token: String,
    /// The book as built.
    pub site: RwLock<Site>,
    /// The course the panels' steps belong to (reloaded on rebuild).
    pub course: RwLock<Arc<Course>>,
    /// `--lab`.
    pub lab: Option<String>,
    /// How checks are run.
    pub settings: RunSettings,
    /// Runs in progress, joined by later clicks.
    pub runs: runs::Runs,
    /// The account of the last run here, whose results the pages show.
    pub account: Mutex<Option<String>>,
    /// Rebuilds, for pages to reload (`--watch` only).
    pub reload: Option<tokio::sync::broadcast::Sender<()>>,
}

impl Server {
    /// The course as last loaded.
    pub fn course(&self) -> Arc<Course> {
        self.course.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// A random token: 128 bits from the operating system, in hex.
fn new_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Builds the book (from `--course-dir`, or from the copy built into
/// labcheck written to a temporary folder) into `dest`.
pub(crate) fn build_book(course_dir: Option<&Path>, dest: &Path) -> Result<PathBuf, BookError> {
    match course_dir {
        Some(dir) => crate::book::build(dir, Some(dest)),
        None => crate::book::build_embedded(dest),
    }
}

/// `labcheck book serve`: builds the book, serves it and its API until
/// Ctrl-C, printing the address (with its token) on standard output.
pub async fn run(opts: ServeOptions) -> Result<(), ServeError> {
    let course = Course::load(opts.course_dir.as_deref(), &crate::checks::kind_ids())?;
    course.lab(opts.lab.as_deref())?;
    // A private folder (0700) for a build with no --dest, and for the page
    // that --open hands the browser (the token stays off command lines).
    let scratch = tempfile::Builder::new()
        .prefix("labcheck-book-")
        .tempdir()
        .map_err(ServeError::Serve)?;
    let dest = opts.dest.clone().unwrap_or_else(|| scratch.path().join("html"));
    let (course_dir, built_to) = (opts.course_dir.clone(), dest.clone());
    let dir = tokio::task::spawn_blocking(move || build_book(course_dir.as_deref(), &built_to))
        .await
        .map_err(|e| ServeError::Serve(std::io::Error::other(e)))??;
    eprintln!("built the book in {}", dir.display());

    let listener = TcpListener::bind(("127.0.0.1", opts.port))
        .await
        .map_err(|source| ServeError::Bind {
            port: opts.port,
            source,
        })?;
    let port = listener.local_addr().map_err(ServeError::Serve)?.port();
    let token = new_token().map_err(ServeError::Token)?;
    let server = Arc::new(Server {
        port,
        token,
        site: RwLock::new(Site { dir, error: None }),
        course: RwLock::new(Arc::new(course)),
        lab: opts.lab.clone(),
        settings: opts.run.clone(),
        runs: runs::Runs::default(),
        account: Mutex::new(None),
        reload: opts.watch.then(|| tokio::sync::broadcast::channel(16).0),
    });
    let url = format!("http://127.0.0.1:{port}/?token={}", server.token);
    let folder = std::env::current_dir().map_or_else(|_| ".".into(), |d| d.display().to_string());
    crate::report::print_stdout(&format!(
        "Serving the book at {url}\n\
         The link holds this server's token: the pages need it to run checks, so keep it to yourself.\n\
         Checks run from {folder}, as `labcheck check` run there would. Ctrl-C stops.\n"
    ))
    .map_err(ServeError::Output)?;
    let _watcher = match (&opts.course_dir, opts.watch) {
        (Some(dir), true) => Some(rebuild::watch(server.clone(), dir.clone(), dest).map_err(ServeError::Build)?),
        (None, true) => {
            eprintln!("warning: --watch rebuilds a course checkout: pass --course-dir DIR too");
            None
        }
        _ => None,
    };
    if opts.open {
        open_browser(&url, scratch.path());
    }
    let app = api::router(server);
    tokio::select! {
        r = axum::serve(listener, app) => r.map_err(ServeError::Serve),
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}

/// Opens the book in the default browser through a page in `private` that
/// redirects to `url`: the token never appears on a command line, where
/// other users of the machine could read it.
fn open_browser(url: &str, private: &Path) {
    let page = private.join("open.html");
    let html = format!(
        "<!DOCTYPE html><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"0;url={0}\">\
         <title>labcheck book</title><a href=\"{0}\">Open the book</a>",
        crate::book::escape(url)
    );
    let opener = if cfg!(target_os = "macos") { "open" } else { "xdg-open" };
    let opened = std::fs::write(&page, html).and_then(|()| {
        std::process::Command::new(opener)
            .arg(&page)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map(drop)
    });
    if let Err(e) = opened {
        eprintln!("warning: could not open a browser ({opener}: {e}); open the link above");
    }
}
