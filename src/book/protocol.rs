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
