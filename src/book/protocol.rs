//! `labcheck mdbook`: the mdBook preprocessor protocol.
//!
//! mdBook first runs `labcheck mdbook supports RENDERER` (exit 0: yes), then
//! `labcheck mdbook` with `[context, book]` as JSON on standard input, and
//! reads the rewritten book as JSON from standard output.

use super::Labcheck;
use mdbook_preprocessor::Preprocessor;
use std::io::{Read, Write};

/// Runs the preprocessor on the JSON in `input`, writing the book to `output`.
pub fn run(input: impl Read, mut output: impl Write) -> anyhow::Result<()> {
    let (ctx, book) = mdbook_preprocessor::parse_input(input)?;
    if ctx.mdbook_version != mdbook_preprocessor::MDBOOK_VERSION {
        eprintln!(
            "warning: labcheck was built with mdBook {}, but is being called from mdBook {}",
            mdbook_preprocessor::MDBOOK_VERSION,
            ctx.mdbook_version
        );
    }
    let book = Labcheck.run(&ctx, book)?;
    serde_json::to_writer(&mut output, &book)?;
    output.flush()?;
    Ok(())
}

/// Why the preprocessor failed between standard input and output.
#[derive(Debug, thiserror::Error)]
pub enum StdioError {
    /// Standard output could not be written.
    #[error("cannot write to standard output: {0}")]
    Output(std::io::Error),
    /// The book could not be read or preprocessed.
    #[error("labcheck preprocessor: {0:#}")]
    Failed(anyhow::Error),
}

impl StdioError {
    /// How the process ends: a failure when standard output failed, bad input otherwise.
    pub fn exit(&self) -> crate::exit::Exit {
        use crate::exit::Exit;
        match self {
            StdioError::Output(_) => Exit::Fail,
            StdioError::Failed(_) => Exit::BadInput,
        }
    }
}

/// [`run`] between standard input and standard output, as mdBook calls it. A
/// closed standard output (mdBook has gone) ends it quietly.
pub fn run_stdio() -> Result<(), StdioError> {
    let out = TrackedStdout::default();
    let failed = out.failed.clone();
    // Standard output is buffered: a write error may only show at the flush.
    let result = run(std::io::stdin().lock(), out).and_then(|()| {
        std::io::stdout().flush().inspect_err(|e| failed.set(Some(e.kind())))?;
        Ok(())
    });
    match result {
        Ok(()) => Ok(()),
        Err(e) => match failed.take() {
            Some(std::io::ErrorKind::BrokenPipe) => Ok(()),
            Some(kind) => Err(StdioError::Output(std::io::Error::from(kind))),
            None => Err(StdioError::Failed(e)),
        },
    }
}

/// Standard output that remembers why a write failed, so that a closed pipe
/// can be told from a broken book.
#[derive(Default)]
struct TrackedStdout {
    failed: std::rc::Rc<std::cell::Cell<Option<std::io::ErrorKind>>>,
}

impl Write for TrackedStdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        std::io::stdout()
            .write(buf)
            .inspect_err(|e| self.failed.set(Some(e.kind())))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stdout()
            .flush()
            .inspect_err(|e| self.failed.set(Some(e.kind())))
    }
}
