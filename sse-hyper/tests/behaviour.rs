//! This crate's own behaviour tests: the readers and writers, `EventStream`,
//! the `EventSource` client against scripted servers, and the `Events`
//! endpoint and `SseBody` over HTTP. They are the suites that every runtime
//! runs (`sse_testkit::suites`), here on the test kit's own binding of
//! [`sse_hyper::rt`] to tokio (`sse_testkit::rt::KitRuntime`), so that this
//! crate is tested without the adapters built on it.

sse_testkit::behaviour_suite!(sse_testkit::rt::KitRuntime);
