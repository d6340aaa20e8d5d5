//! Criterion benchmarks of the SSE workspace; the code is in `benches/`.
//! Run them with `cargo bench -p benches`.
