#![no_main]
// One input through labcheck's lab parser: see labcheck::fuzzing::lab.
libfuzzer_sys::fuzz_target!(|data: &[u8]| labcheck::fuzzing::lab(data));
