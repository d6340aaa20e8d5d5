//! Benchmarks of `sse-proto` next to the best existing SSE crates, on the
//! same inputs in the same run: the corpora, the implementations behind one
//! call each, and the report that turns criterion's estimates into the
//! README's table. The benchmark binaries are in `benches/` (`compare`, and
//! `publisher` for the fan-out publisher); run them with
//! `cargo bench -p benches`.

pub mod chart;
pub mod corpus;
pub mod decode;
pub mod encode;
pub mod floor;
pub mod report;

#[cfg(test)]
mod tests {
    use crate::corpus::{self, chunks};
    use crate::{decode, encode};

    /// Every decoder finds the events each corpus was built with, so the
    /// benchmarks compare equal work. (The large corpora are left to the
    /// benchmark run itself, which checks the same thing in release mode.)
    #[test]
    fn decoders_agree_on_the_small_corpora() {
        for corpus in [
            corpus::small(),
            corpus::crlf(),
            corpus::tokens(),
            corpus::multiline(),
        ] {
            let mut runner = decode::Runner::new(&corpus);
            for size in [7, 64, 16 * 1024] {
                let chunks = chunks(&corpus.bytes, size);
                for imp in decode::Impl::ALL {
                    assert_eq!(
                        runner.run(imp, &chunks),
                        imp.expected(&corpus),
                        "{} on {} in {size}-byte chunks",
                        imp.name(),
                        corpus.name
                    );
                }
            }
        }
    }

    #[test]
    fn encoders_write_the_same_length() {
        for corpus in corpus::encode_all() {
            let mut runner = encode::Runner::new(&corpus);
            for imp in encode::Impl::ALL {
                assert_eq!(
                    runner.run(imp),
                    runner.expected(),
                    "{} on {}",
                    imp.name(),
                    corpus.name
                );
            }
        }
    }

    #[test]
    fn chunk_labels() {
        assert_eq!(corpus::chunk_label(64), "64B");
        assert_eq!(corpus::chunk_label(16 * 1024), "16KiB");
        assert_eq!(corpus::chunk_label(usize::MAX), "whole");
        assert_eq!(chunks(b"abcde", usize::MAX), [b"abcde"]);
        assert_eq!(chunks(b"abcde", 2), [&b"ab"[..], b"cd", b"e"]);
    }
}
