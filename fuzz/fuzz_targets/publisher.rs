//! The fan-out Publisher against a model: operations decoded from the input
//! (subscribe, resume, publish, per-subscriber publish, read, drop,
//! disconnect, disconnect_all, close) under either lag policy, and every
//! subscriber gets exactly what the model says.
//! The property lives in `sse_testkit::publisher_model`, shared with the
//! stable corpus replay (`sse-proto/tests/fuzz_corpus.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sse_testkit::publisher_model::publisher(data));
