#![no_main]
// One input through labcheck's .ebextensions parser: see labcheck_django::fuzzing::ebextensions.
libfuzzer_sys::fuzz_target!(|data: &[u8]| labcheck_django::fuzzing::ebextensions(data));
