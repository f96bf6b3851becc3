//! `labcheck cohort export GRADEBOOK`: a gradebook in another format (the
//! arguments are the library's, [`labcheck::cohort::export::ExportArgs`]).

use crate::cmd::Error;
use labcheck::exit::Exit;

pub(crate) use labcheck::cohort::export::ExportArgs as Args;

pub(crate) fn run(args: &Args) -> Result<Exit, Error> {
    Ok(labcheck::cohort::export::run(args)?)
}
