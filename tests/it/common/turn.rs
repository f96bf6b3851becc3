//! Turns at the sandbox, across threads and processes: `cargo test` runs
//! the tests of this binary on several threads, `cargo nextest run` runs each
//! in a process of its own, and both must keep a test that breaks what every
//! account shares (the Redis and MariaDB servers, the site) or reads moto's
//! recorder away from every other sandbox test. A file lock does both: most
//! tests hold it shared, those few hold it exclusively.

use std::fs::{File, OpenOptions};
use std::path::Path;

/// A held turn; the lock is released when it is dropped (or the process ends).
pub(crate) struct SandboxTurn {
    _file: File,
}

impl SandboxTurn {
    /// A turn beside other tests that only use their own accounts.
    pub(crate) fn shared() -> Self {
        let file = lock_file();
        file.lock_shared().expect("take a shared turn at the sandbox");
        SandboxTurn { _file: file }
    }

    /// The whole sandbox, once every other test has let go of it.
    pub(crate) fn exclusive() -> Self {
        let file = lock_file();
        file.lock().expect("take the sandbox for this test alone");
        SandboxTurn { _file: file }
    }
}

/// Each turn opens the file anew: a lock belongs to one open file, so two
/// turns in one process exclude each other as turns in two processes do.
fn lock_file() -> File {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sandbox-turn.lock");
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()))
}
