//! The behaviour suites every runtime runs: test functions generic over a
//! [`TestRuntime`](crate::rt::TestRuntime), written once.
//!
//! - [`reader`]: `EventReader` and `EventWriter` over the runtime's readers
//!   and writers.
//! - [`stream`]: `EventStream` over streams of byte chunks.
//! - [`source`]: the `EventSource` client against scripted servers.
//! - [`endpoint`]: the `Events` endpoint and `SseBody` over real HTTP.
//!
//! A runtime's tests run them all with
//! [`behaviour_suite!`](crate::behaviour_suite), one `#[test]` each. A test
//! function is `pub async fn name<R: TestRuntime>()`, run by
//! [`rt::run`](crate::rt::run), or a plain `pub fn` for one that needs no
//! runtime; its name says what it checks, which is its documentation. A new
//! one is listed in the macro too (the kit's own test
//! `tests/suites_listed.rs` fails until it is).

#![allow(missing_docs, reason = "a suite function's name says what it checks")]

pub mod endpoint;
pub mod reader;
pub mod source;
pub mod stream;

/// Runs every suite on a runtime: `sse_testkit::behaviour_suite!(MyRuntime);`
/// where `MyRuntime` implements [`TestRuntime`](crate::rt::TestRuntime),
/// expands to one `#[test]` per suite function, in modules named after the
/// suites (`reader::reader_reports_an_oversized_event_and_goes_on`, ...).
///
/// The https tests (`source::tls`) are compiled when the calling crate's
/// `rustls` feature is on; they need this crate's `rustls` feature too.
#[macro_export]
macro_rules! behaviour_suite {
    ($runtime:ty) => {
        /// `EventReader` and `EventWriter` (`sse_testkit::suites::reader`).
        mod reader {
            $crate::__suite_tests! { $runtime, reader,
                run [
                    reader_yields_the_same_frames_however_the_input_is_split,
                    reader_reads_whole_events_from_a_socket_written_a_byte_at_a_time,
                    reader_reports_an_oversized_event_and_goes_on,
                    reader_ends_after_an_io_error_and_drops_the_unfinished_event,
                    writer_output_reads_back_as_the_same_frames,
                    writer_streams_an_event_larger_than_its_buffer,
                ]
                call [
                    readers_writers_and_their_futures_are_send,
                ]
            }
        }

        /// `EventStream` (`sse_testkit::suites::stream`).
        mod stream {
            $crate::__suite_tests! { $runtime, stream,
                run [
                    a_bom_split_across_chunks_is_stripped_once,
                    invalid_utf8_never_stalls_the_stream,
                    a_long_line_in_small_chunks_is_not_scanned_again_per_chunk,
                    a_standalone_retry_is_yielded,
                    a_body_error_ends_the_stream_and_drops_the_unfinished_event,
                    oversized_events_are_errors_and_decoding_goes_on,
                    reads_a_hyper_body,
                ]
                call []
            }
        }

        /// `EventSource` (`sse_testkit::suites::source`), over sse-hyper's
        /// own transport.
        mod source {
            $crate::source_suite!($runtime, $crate::rt::Hyper);

            /// What sse-hyper's transport does itself: follows redirects.
            mod redirects {
                $crate::__suite_tests! { $runtime, $crate::rt::Hyper, source,
                    run [
                        source_fails_on_a_redirect_with_an_empty_location,
                        source_retries_a_redirect_it_cannot_follow,
                    ]
                    call []
                }
            }

            /// `EventSource` over https.
            #[cfg(feature = "rustls")]
            mod tls {
                $crate::__suite_tests! { $runtime, source,
                    run [
                        source_streams_over_https,
                        source_refuses_an_untrusted_certificate,
                    ]
                    call []
                }
            }
        }

        /// The `Events` endpoint and `SseBody` over HTTP
        /// (`sse_testkit::suites::endpoint`).
        mod endpoint {
            $crate::__suite_tests! { $runtime, endpoint,
                run [
                    the_endpoint_streams_channels_and_resumes_from_last_event_id,
                    the_access_hook_refuses_before_the_stream_starts,
                    a_client_that_goes_away_is_unregistered_promptly,
                    a_hand_written_service_serves_a_subscription_or_any_stream,
                    the_event_source_resumes_after_the_server_ends_its_stream,
                ]
                call []
            }
        }
    };
}

/// Runs the `source` suite (`sse_testkit::suites::source`) on a runtime
/// over a transport: `sse_testkit::source_suite!(MyRuntime, MyTransport);`
/// where `MyTransport` implements
/// [`TestTransport`](crate::rt::TestTransport) for the runtime's `Rt`.
/// [`behaviour_suite!`](crate::behaviour_suite) runs it over
/// [`Hyper`](crate::rt::Hyper), with the tests of what only sse-hyper's
/// transport does (following redirects itself, TLS settings); sse-tokio's
/// tests run it over reqwest as well.
#[macro_export]
macro_rules! source_suite {
    ($runtime:ty, $transport:ty) => {
        $crate::__suite_tests! { $runtime, $transport, source,
            run [
                source_sends_the_spec_headers_and_yields_open_then_events,
                source_gets_whole_events_however_the_server_splits_its_writes,
                source_sends_its_method_headers_and_body_and_a_seeded_last_event_id,
                source_reports_comments_when_the_decoder_does,
                source_reconnects_after_a_drop_and_resumes_without_loss_or_duplicates,
                source_takes_the_delay_from_a_standalone_retry_block,
                source_stops_for_good_on_no_content,
                source_fails_on_error_statuses_and_wrong_content_types_in_spec_mode,
                source_retries_transient_failures_under_the_transient_policy,
                source_retries_a_wrong_content_type_under_the_always_policy,
                source_counts_attempts_and_gives_up_after_max_attempts,
                source_follows_redirects_and_reconnects_to_the_original_url,
                source_redirects_change_the_method_as_fetch_does,
                source_trips_the_idle_timeout_on_a_stalled_stream_and_reconnects,
                source_keep_alive_comments_hold_off_the_idle_timeout,
                source_close_ends_the_stream,
                source_fails_on_a_redirect_without_location,
                source_holds_retry_zero_to_the_floor,
            ]
            call [
                source_and_its_futures_are_send,
                source_rejects_urls_it_cannot_fetch,
            ]
        }
    };
}

/// The `#[test]`s of one suite module: `run` for async suite functions,
/// `call` for plain ones. (An implementation detail of
/// [`behaviour_suite!`](crate::behaviour_suite).)
#[doc(hidden)]
#[macro_export]
macro_rules! __suite_tests {
    ($runtime:ty, $transport:ty, $suite:ident, run [$($run:ident),* $(,)?] call [$($call:ident),* $(,)?]) => {
        #[allow(unused_imports, reason = "the runtime may be named by a path from the root")]
        use super::*;

        $(
            #[test]
            fn $run() {
                $crate::rt::run::<$runtime, _>(
                    $crate::suites::$suite::$run::<$runtime, $transport>(),
                );
            }
        )*

        $(
            #[test]
            fn $call() {
                $crate::suites::$suite::$call::<$runtime, $transport>();
            }
        )*
    };
    ($runtime:ty, $suite:ident, run [$($run:ident),* $(,)?] call [$($call:ident),* $(,)?]) => {
        #[allow(unused_imports, reason = "the runtime may be named by a path from the root")]
        use super::*;

        $(
            #[test]
            fn $run() {
                $crate::rt::run::<$runtime, _>($crate::suites::$suite::$run::<$runtime>());
            }
        )*

        $(
            #[test]
            fn $call() {
                $crate::suites::$suite::$call::<$runtime>();
            }
        )*
    };
}
