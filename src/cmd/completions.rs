//! `labcheck completions SHELL`: a shell completion script.

use super::Error;
use super::common::print;
use labcheck::exit::Exit;

/// Where each shell's script goes.
pub(crate) const AFTER_HELP: &str = "Install (see the README):
  bash:        labcheck completions bash > ~/.local/share/bash-completion/completions/labcheck
  zsh:         labcheck completions zsh > ~/.zfunc/_labcheck   (with fpath+=(~/.zfunc) before compinit)
  fish:        labcheck completions fish > ~/.config/fish/completions/labcheck.fish
  powershell:  labcheck completions powershell >> $PROFILE";

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The shell.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

/// The script for `command`, the whole command line.
pub(crate) fn run(mut command: clap::Command, args: &Args) -> Result<Exit, Error> {
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut command, "labcheck", &mut buf);
    print(&String::from_utf8_lossy(&buf))
}
