#![no_main]
// One input through labcheck's procfile parser: see labcheck::fuzzing::procfile.
libfuzzer_sys::fuzz_target!(|data: &[u8]| labcheck::fuzzing::procfile(data));
