//! `labcheck book build`: the book's HTML.

use crate::cmd::{Common, Error};
use labcheck::exit::Exit;
use std::path::PathBuf;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Write the HTML to DIR.
    #[arg(long, value_name = "DIR")]
    dest: Option<PathBuf>,
}

pub(crate) async fn run(common: &Common, args: &Args) -> Result<Exit, Error> {
    let course_dir = common.course_dir.clone();
    let dest = args.dest.clone();
    let dir = tokio::task::spawn_blocking(move || match (&course_dir, dest) {
        (Some(course), dest) => labcheck::book::build(course, dest.as_deref()),
        (None, dest) => labcheck::book::build_embedded(&dest.unwrap_or_else(|| "labcheck-book".into())),
    })
    .await??;
    eprintln!("built the book in {}", dir.display());
    Ok(Exit::Pass)
}
