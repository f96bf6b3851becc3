//! `labcheck book serve`: the book on 127.0.0.1, with a "Check my progress"
//! button on every lab step.

use crate::cmd::{Common, Error};
use labcheck::book::server;
use labcheck::exit::Exit;
use std::path::PathBuf;
use std::time::Duration;

/// Where to run it, the token, and examples.
pub(crate) const AFTER_HELP: &str = "Run it from your Django project folder, with your AWS configuration, as you
run `labcheck check`: each step of the lab gets a \"Check my progress\" button
that runs that step's checks here, with the same parameters (labcheck.toml,
--set), profile and Region, and shows each result as it finishes, with its hint
and fix. Runs are recorded for `labcheck status`, and quizzes answered in the
page too. Open the link it prints: it holds a token the page needs to run
checks (other sites and other users' pages get 403).

Examples:
  labcheck book serve --open            serve the book and open it in the browser
  labcheck book serve --port 0          any free port
  labcheck book serve --course-dir . --watch
                                        authors: a checkout's book, rebuilt and
                                        reloaded on every change";

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 3000)]
    port: u16,
    /// Write the HTML to DIR (default: a temporary folder).
    #[arg(long, value_name = "DIR")]
    dest: Option<PathBuf>,
    /// Open the book in your browser.
    #[arg(long)]
    open: bool,
    /// With --course-dir: rebuild when book/, labs/ or quizzes/ change, and reload open pages.
    #[arg(long)]
    watch: bool,
    /// Longest time one check may take, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    timeout: u64,
    /// Do NOT verify the cache's TLS certificate (see `labcheck check --help`).
    #[arg(long)]
    insecure: bool,
}

pub(crate) async fn run(common: &Common, args: &Args) -> Result<Exit, Error> {
    let opts = server::ServeOptions {
        course_dir: common.course_dir.clone(),
        dest: args.dest.clone(),
        port: args.port,
        open: args.open,
        watch: args.watch,
        lab: common.lab.clone(),
        run: server::RunSettings {
            config: common.config.clone(),
            set: common.set.clone(),
            region: common.region.clone(),
            profile: common.profile.clone(),
            insecure: args.insecure,
            timeout: Duration::from_secs(args.timeout.max(1)),
        },
    };
    server::run(opts).await?;
    Ok(Exit::Pass)
}
