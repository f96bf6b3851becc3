//! Every fuzz target of `labcheck_django::fuzzing::TARGETS` in one libFuzzer
//! executable; the environment variable `LABCHECK_FUZZ_TARGET` names the one
//! to run. Declared by labcheck-django (feature `libfuzzer`) and built by
//! `scripts/fuzz` in the workspace with coverage instrumentation on the two
//! parser crates alone, so it reuses the ordinary build's dependencies.
//! `fuzz/fuzz_targets/` are the same targets for `cargo fuzz` (`scripts/fuzz
//! --deep`), which instruments every crate they build on.
#![no_main]

use std::sync::LazyLock;

static TARGET: LazyLock<labcheck_django::fuzzing::Target> = LazyLock::new(|| {
    let name = std::env::var("LABCHECK_FUZZ_TARGET").unwrap_or_default();
    let names: Vec<&str> = labcheck_django::fuzzing::TARGETS.iter().map(|(n, _)| *n).collect();
    match labcheck_django::fuzzing::TARGETS.iter().find(|(n, _)| *n == name) {
        Some((_, target)) => *target,
        None => {
            eprintln!(
                "labcheck-fuzz: set LABCHECK_FUZZ_TARGET to one of: {}",
                names.join(", ")
            );
            std::process::exit(2)
        }
    }
});

libfuzzer_sys::fuzz_target!(|data: &[u8]| (*TARGET)(data));
