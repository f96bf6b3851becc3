#![no_main]
// One input through labcheck's roster parser: see labcheck_course::fuzzing::roster.
libfuzzer_sys::fuzz_target!(|data: &[u8]| labcheck_course::fuzzing::roster(data));
