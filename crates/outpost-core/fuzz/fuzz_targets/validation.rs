//! See `outpost_core::fuzzing::validation` for the input and the properties checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| outpost_core::fuzzing::validation(data));
