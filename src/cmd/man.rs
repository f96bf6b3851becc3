//! `labcheck man`: the man page, roff.

use super::Error;
use super::common::print;
use labcheck::exit::Exit;

/// How to install it.
pub(crate) const AFTER_HELP: &str = "Install:
  mkdir -p ~/.local/share/man/man1 && labcheck man > ~/.local/share/man/man1/labcheck.1
  man labcheck";

/// The man page of `command`, the whole command line.
pub(crate) fn run(command: clap::Command) -> Result<Exit, Error> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(command).render(&mut buf).map_err(Error::Man)?;
    print(&String::from_utf8_lossy(&buf))
}
