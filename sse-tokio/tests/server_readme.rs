//! The workspace README shows `examples/server.rs`, which `cargo test`
//! compiles: this checks that the README quotes it exactly (all but its
//! leading `//!` doc comment).

#[test]
fn the_readme_quotes_the_server_example() {
    let readme = include_str!("../../README.md");
    let example = include_str!("../examples/server.rs");
    let code: String = example
        .lines()
        .skip_while(|line| line.starts_with("//!") || line.is_empty())
        .map(|line| format!("{line}\n"))
        .collect();
    let quoted = format!("```rust,ignore\n{code}```");
    assert!(
        readme.contains(&quoted),
        "README.md must show examples/server.rs verbatim, in a rust,ignore block:\n{code}"
    );
}
