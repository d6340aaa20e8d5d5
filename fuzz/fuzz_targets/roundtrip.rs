//! An arbitrary frame encodes to its announced length and decodes back to
//! itself.
//! The property lives in `sse-proto/tests/common/fuzz_props.rs`, shared with
//! the stable corpus replay (`sse-proto/tests/fuzz_corpus.rs`).
#![no_main]

#[path = "../../sse-proto/tests/common/mod.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::fuzz_props::roundtrip(data));
