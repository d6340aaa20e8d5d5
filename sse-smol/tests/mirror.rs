//! The adapters mirror each other. The files without runtime-specific code
//! are the same in both crates, except for doc comments (whose examples
//! name the crate and the runtime); this keeps them from drifting apart.

use std::fs;
use std::path::Path;

/// Files whose code is the same in `sse-tokio` and `sse-smol`.
const SHARED: [&str; 5] = [
    "src/error.rs",
    "src/stream.rs",
    "src/event_source.rs",
    "src/event_source/request.rs",
    "src/event_source/tls.rs",
];

/// The code of a file: every line but doc comments.
fn code(crate_dir: &str, file: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(crate_dir)
        .join(file);
    let text =
        fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    text.lines()
        .filter(|line| {
            let line = line.trim_start();
            !line.starts_with("///") && !line.starts_with("//!")
        })
        .map(String::from)
        .collect()
}

#[test]
fn runtime_neutral_code_is_the_same_in_both_adapters() {
    for file in SHARED {
        let (tokio, smol) = (code("sse-tokio", file), code("sse-smol", file));
        for (line, (a, b)) in tokio.iter().zip(&smol).enumerate() {
            assert_eq!(
                a,
                b,
                "{file}: the code differs (line {} without docs)",
                line + 1
            );
        }
        assert_eq!(
            tokio.len(),
            smol.len(),
            "{file}: the code differs in length"
        );
    }
}
