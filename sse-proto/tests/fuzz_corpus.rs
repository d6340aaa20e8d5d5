//! The fuzz corpora, replayed on stable: every file under
//! `fuzz/corpus/<target>/` goes through the same property functions as the
//! fuzz target of that name (`sse_testkit::fuzz_props`). A file that breaks a
//! property fails this test, naming the file.

use std::panic;
use std::path::PathBuf;

use sse_testkit::fuzz_props;

fn corpus(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target)
}

fn replay(target: &str, property: fn(&[u8])) {
    let dir = corpus(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| entry.expect("a corpus entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} has no seeds", dir.display());
    let failed: Vec<String> = files
        .iter()
        .filter(|file| {
            let input = std::fs::read(file).expect("a readable corpus file");
            panic::catch_unwind(|| property(&input)).is_err()
        })
        .map(|file| file.display().to_string())
        .collect();
    assert!(
        failed.is_empty(),
        "{target}: {} of {} corpus files break the property: {failed:#?}",
        failed.len(),
        files.len()
    );
}

#[test]
fn decode_corpus() {
    replay("decode", fuzz_props::decode);
}

#[test]
fn decode_chunked_corpus() {
    replay("decode_chunked", fuzz_props::decode_chunked);
}

#[test]
fn differential_corpus() {
    replay("differential", fuzz_props::differential);
}

#[test]
fn roundtrip_corpus() {
    replay("roundtrip", fuzz_props::roundtrip);
}

#[cfg(feature = "std")]
#[test]
fn publisher_corpus() {
    replay("publisher", sse_testkit::publisher_model::publisher);
}

/// The hand-built publisher seeds hold on stable too; with `SSE_FUZZ_SEEDS`
/// set to the `fuzz/corpus` folder, they are (re)written there.
#[cfg(feature = "std")]
#[test]
fn publisher_seeds() {
    let root = std::env::var_os("SSE_FUZZ_SEEDS");
    for seed in sse_testkit::publisher_model::seeds() {
        sse_testkit::publisher_model::publisher(&seed);
        if let Some(root) = &root {
            fuzz_props::write_seed(std::path::Path::new(root), "publisher", &seed);
        }
    }
}
