#![no_main]
// One input through labcheck's quiz parser: see labcheck::fuzzing::quiz.
libfuzzer_sys::fuzz_target!(|data: &[u8]| labcheck::fuzzing::quiz(data));
