//! The fan-out Publisher against a model: operations decoded from the input
//! (subscribe, resume, publish, per-subscriber publish, read, drop,
//! disconnect, disconnect_all, close) under either lag policy, and every
//! subscriber gets exactly what the model says.
//! The property lives in `sse-proto/tests/common/publisher_model.rs`, shared
//! with the stable corpus replay (`sse-proto/tests/fuzz_corpus.rs`).
#![no_main]

#[path = "../../sse-proto/tests/common/mod.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::publisher_model::publisher(data));
