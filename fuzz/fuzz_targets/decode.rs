//! Arbitrary bytes through a small decoder: no panic, bounded memory, only the
//! documented recoverable errors.
//! The property lives in `sse_testkit::fuzz_props`, shared with the stable
//! corpus replay (`sse-proto/tests/fuzz_corpus.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sse_testkit::fuzz_props::decode(data));
