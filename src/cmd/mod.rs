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

#[cfg(test)]
mod tests {
    use labcheck::exit::Exit;

    /// Every command's help, long form, with its path (`cohort grade`).
    fn helps(command: &mut clap::Command, path: &str, out: &mut Vec<(String, String)>) {
        out.push((path.to_string(), command.render_long_help().to_string()));
        for sub in command.get_subcommands_mut() {
            let path = format!("{path} {}", sub.get_name()).trim().to_string();
            helps(sub, &path, out);
        }
    }

    /// The exit codes a `--help` names are the table's, and each is named
    /// with its meaning: a code dropped from or added to [`Exit`] without
    /// the help (or the other way round) fails here.
    #[test]
    fn help_names_only_the_tables_exit_codes() {
        let codes: Vec<u8> = Exit::ALL.iter().map(|e| e.code()).collect();
        let number = regex::Regex::new(r"(?:^|[\s,(])(\d+) [a-z]").expect("valid regex");
        let mut all = Vec::new();
        helps(&mut <crate::Cli as clap::CommandFactory>::command(), "", &mut all);
        let mut paragraphs = 0;
        for (path, help) in &all {
            for paragraph in help.split("\n\n").filter(|p| p.contains("Exit codes:")) {
                paragraphs += 1;
                let named: Vec<u8> = number
                    .captures_iter(paragraph)
                    .map(|c| c[1].parse().expect("a small number"))
                    .collect();
                assert!(!named.is_empty(), "`labcheck {path} --help` names no code: {paragraph}");
                for code in named {
                    assert!(
                        codes.contains(&code),
                        "`labcheck {path} --help` names exit code {code}, not in labcheck::exit: {paragraph}"
                    );
                }
            }
        }
        // labcheck, quiz, cohort grade, invite, export and leftovers say theirs.
        assert!(paragraphs >= 6, "only {paragraphs} help texts name their exit codes");
    }
}
