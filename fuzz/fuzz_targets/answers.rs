#![no_main]
// One input through labcheck's answers parser: see labcheck::fuzzing::answers.
libfuzzer_sys::fuzz_target!(|data: &[u8]| labcheck::fuzzing::answers(data));
