#![no_main]
// One input through labcheck's config parser: see labcheck::fuzzing::config.
libfuzzer_sys::fuzz_target!(|data: &[u8]| labcheck::fuzzing::config(data));
