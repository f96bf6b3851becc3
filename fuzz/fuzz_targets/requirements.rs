#![no_main]
// One input through labcheck's requirements parser: see labcheck_django::fuzzing::requirements.
libfuzzer_sys::fuzz_target!(|data: &[u8]| labcheck_django::fuzzing::requirements(data));
