#![no_main]
// One input through labcheck's ebextensions parser: see labcheck::fuzzing::ebextensions.
libfuzzer_sys::fuzz_target!(|data: &[u8]| labcheck::fuzzing::ebextensions(data));
