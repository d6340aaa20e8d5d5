//! The workspace README shows `examples/client.rs`, which `cargo test`
//! compiles: this checks that the README quotes it exactly (all but its
//! leading `//!` doc comment).

#[test]
fn the_readme_quotes_the_client_example() {
    let readme = include_str!("../../README.md");
    let example = include_str!("../examples/client.rs");
    let code: String = example
        .lines()
        .skip_while(|line| line.starts_with("//!") || line.is_empty())
        .map(|line| format!("{line}\n"))
        .collect();
    let quoted = format!("```rust,ignore\n{code}```");
    assert!(
        readme.contains(&quoted),
        "README.md must show examples/client.rs verbatim, in a rust,ignore block:\n{code}"
    );
}
