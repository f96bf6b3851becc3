#![no_main]
// One input through labcheck's quiz parser: see labcheck_course::fuzzing::quiz.
libfuzzer_sys::fuzz_target!(|data: &[u8]| labcheck_course::fuzzing::quiz(data));
