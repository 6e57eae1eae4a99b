//! See `outpost_core::fuzzing::generic_rest_response` for the input and the properties checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| outpost_core::fuzzing::generic_rest_response(data));
