#![no_main]
// One input through labcheck's lab guide parser: see labcheck_course::fuzzing::lab.
libfuzzer_sys::fuzz_target!(|data: &[u8]| labcheck_course::fuzzing::lab(data));
