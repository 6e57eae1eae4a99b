//! See `outpost_core::fuzzing::search_query` for the input and the properties checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| outpost_core::fuzzing::search_query(data));
