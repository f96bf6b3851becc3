//! Every fuzz target of `labcheck::fuzzing` in one libFuzzer executable; the
//! environment variable `LABCHECK_FUZZ_TARGET` names the one to run. Built by
//! `scripts/fuzz` in labcheck's own workspace (feature `libfuzzer`) with
//! coverage instrumentation on labcheck alone, so it reuses the ordinary
//! build's dependencies: minutes to build instead of the hour `cargo fuzz`
//! takes to instrument the AWS SDK. `fuzz/fuzz_targets/` are the same
//! targets for `cargo fuzz` (`scripts/fuzz --deep`).
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
