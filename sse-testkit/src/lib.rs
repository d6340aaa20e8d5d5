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
//! - `suites` (feature `suites`): the behaviour tests every runtime runs,
//!   as functions generic over `rt::TestRuntime`, the few things a suite
//!   needs from a runtime; `behaviour_suite!(MyRuntime)` makes them
//!   `#[test]`s. With what they use: `scripted` readers, a
//!   `scripted_server` on std threads, a plain hyper `http_client`.
//! - `process` (feature `process`): servers as processes, and a raw
//!   blocking HTTP/1.1 client that shows exactly what they answer.
//!
//! ```text
//!  sse-proto/tests ──▶ vectors, oracle, fuzz_props, publisher_model ◀── fuzz/
//!  sse-tokio/tests ─┐
//!  sse-smol/tests  ─┼─▶ behaviour_suite!(their TestRuntime) ──▶ suites
//!  sse-hyper/tests ─┘    (sse-hyper's: rt::KitRuntime, on tokio)
//! ```
//!
//! This is test code: it panics, on purpose, when a property does not hold.
//!
//! # Features
//!
//! Each part comes with only what it needs, so that the fuzz targets build
//! the decoder properties without hyper or a runtime.
//!
//! - `publisher`: `publisher_model` (sse-proto with `std`).
//! - `suites`: the suites and `rt::TestRuntime`, over sse-hyper's client
//!   and server; no runtime.
//! - `rustls`: the suites' https tests.
//! - `kit-runtime`: `rt::KitRuntime`, sse-hyper's runtime traits on tokio,
//!   for sse-hyper's own tests.
//! - `process`: `process::Server`, a server process a test starts (the
//!   `sse` binary, an example) with a raw, blocking HTTP/1.1 client.

pub mod fuzz_props;
#[cfg(feature = "suites")]
pub mod http_client;
pub mod oracle;
#[cfg(feature = "process")]
pub mod process;
#[cfg(feature = "publisher")]
pub mod publisher_model;
#[cfg(feature = "suites")]
pub mod rt;
#[cfg(feature = "suites")]
pub mod scripted;
#[cfg(feature = "suites")]
pub mod scripted_server;
#[cfg(feature = "suites")]
pub mod suites;
pub mod vectors;
