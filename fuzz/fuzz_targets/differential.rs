//! The decoder agrees with the naive spec-text oracle.
//! The property lives in `sse_testkit::fuzz_props`, shared with the stable
//! corpus replay (`sse-proto/tests/fuzz_corpus.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sse_testkit::fuzz_props::differential(data));
