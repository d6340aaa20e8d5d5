//! The workspace's shared test code, in one place; never published.
//!
//! The crates' own tests use it as a dev-dependency, and the fuzz targets
//! (their own workspace, in `fuzz/`) as a path dependency, so that each
//! property, model and suite is written once:
//!
//! - [`vectors`]: frames as owned values, a roomy decoder, and
//!   [`check`](vectors::check), which feeds a spec vector whole, split at
//!   every point and one byte at a time, and asks the oracle too.
//! - [`oracle`]: a naive decoder written from the spec text, sharing no code
//!   with `sse_proto::Decoder`.
//! - [`fuzz_props`]: the properties the fuzz targets check, which
//!   `sse-proto/tests/fuzz_corpus.rs` replays on stable over the committed
//!   corpora.
//! - `publisher_model` (feature `publisher`): the fan-out `Publisher`
//!   against a plain model, for the `publisher` fuzz target.
//!
//! This is test code: it panics, on purpose, when a property does not hold.
//!
//! # Features
//!
//! Each part comes with only what it needs, so that the fuzz targets build
//! the decoder properties without hyper or a runtime.
//!
//! - `publisher`: `publisher_model` (sse-proto with `std`).

pub mod fuzz_props;
pub mod oracle;
#[cfg(feature = "publisher")]
pub mod publisher_model;
pub mod vectors;
