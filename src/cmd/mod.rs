//! One file per command: each holds its clap arguments, its `--help`
//! examples, and a `run` that returns how the process ends ([`Exit`]) or the
//! one edge [`Error`]. What every command shares is in [`common`].
//!
//! [`Exit`]: labcheck::exit::Exit

pub(crate) mod book;
pub(crate) mod check;
pub(crate) mod cleanup;
pub(crate) mod cohort;
pub(crate) mod common;
pub(crate) mod completions;
pub(crate) mod error;
pub(crate) mod list;
pub(crate) mod man;
pub(crate) mod mdbook;
pub(crate) mod policy;
pub(crate) mod quiz;
pub(crate) mod status;
pub(crate) mod watch;

pub(crate) use common::Common;
pub(crate) use error::Error;
