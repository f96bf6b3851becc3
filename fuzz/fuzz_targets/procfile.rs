#![no_main]
// One input through labcheck's Procfile parser: see labcheck_django::fuzzing::procfile.
libfuzzer_sys::fuzz_target!(|data: &[u8]| labcheck_django::fuzzing::procfile(data));
