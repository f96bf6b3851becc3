#![no_main]
// One input through labcheck's answers file parser: see labcheck_course::fuzzing::answers.
libfuzzer_sys::fuzz_target!(|data: &[u8]| labcheck_course::fuzzing::answers(data));
