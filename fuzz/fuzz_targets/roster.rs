#![no_main]
// One input through labcheck's roster parser: see labcheck::fuzzing::roster.
libfuzzer_sys::fuzz_target!(|data: &[u8]| labcheck::fuzzing::roster(data));
