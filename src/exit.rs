//! The process exit codes of every command, in one table (DESIGN §6).
//!
//! | code | [`Exit`] | meaning |
//! |---:|---|---|
//! | 0 | [`Exit::Pass`] | every graded check passed; every learner graded; every answer right; the command did what was asked |
//! | 1 | [`Exit::Fail`] | a check failed; a quiz answer was wrong; standard output could not be written; `mdbook supports` a renderer it does not |
//! | 2 | [`Exit::BadInput`] | bad usage or bad input: a flag, the config, a lab, a quiz, a roster, an answers file, a report file that cannot be written |
//! | 3 | [`Exit::NotEvaluated`] | nothing failed, but some checks (or learners) could not be evaluated: no credentials or Region, the network, an AWS error |
//! | 130 | [`Exit::Interrupted`] | interrupted (Ctrl-C), or a quiz left before its end; what was done is kept |
//!
//! Commands return an [`Exit`] when they run to the end; an error that stops
//! one carries its own (the command line's edge error maps each to a row of
//! this table).

/// How a command ends, as the process exit code. The discriminant is the code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Exit {
    /// 0: everything graded passed, or the command did what was asked.
    Pass = 0,
    /// 1: a check failed, an answer was wrong, or standard output failed.
    Fail = 1,
    /// 2: bad usage or bad input.
    BadInput = 2,
    /// 3: nothing failed, but something could not be evaluated.
    NotEvaluated = 3,
    /// 130: interrupted (Ctrl-C), or left before the end.
    Interrupted = 130,
}

impl Exit {
    /// Every exit, in the order of the table above.
    pub const ALL: [Exit; 5] = [
        Exit::Pass,
        Exit::Fail,
        Exit::BadInput,
        Exit::NotEvaluated,
        Exit::Interrupted,
    ];

    /// The process exit code.
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The codes are DESIGN §6's, and the module's table lists each once.
    #[test]
    fn codes_are_the_documented_ones() {
        let codes: Vec<u8> = Exit::ALL.iter().map(|e| e.code()).collect();
        assert_eq!(codes, [0, 1, 2, 3, 130]);
        let table = include_str!("exit.rs");
        for exit in Exit::ALL {
            let row = format!("| {} | [`Exit::{exit:?}`] |", exit.code());
            assert_eq!(table.matches(&row).count(), 1, "the table's row {row}");
        }
    }
}
