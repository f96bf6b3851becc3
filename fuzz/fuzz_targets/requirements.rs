#![no_main]
// One input through labcheck's requirements parser: see labcheck::fuzzing::requirements.
libfuzzer_sys::fuzz_target!(|data: &[u8]| labcheck::fuzzing::requirements(data));
