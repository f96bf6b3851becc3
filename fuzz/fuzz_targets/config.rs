#![no_main]
// One input through labcheck's labcheck.toml and --set parser: see labcheck_course::fuzzing::config.
libfuzzer_sys::fuzz_target!(|data: &[u8]| labcheck_course::fuzzing::config(data));
