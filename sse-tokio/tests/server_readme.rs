//! The workspace README shows `examples/server.rs` and
//! `examples/redis_node.rs`, which `cargo test` compiles: this checks that
//! the README quotes them exactly (all but their leading `//!` doc comment).

/// Asserts that the README shows `example` (named `name`) verbatim.
fn assert_quoted(name: &str, example: &str) {
    let readme = include_str!("../../README.md");
    let code: String = example
        .lines()
        .skip_while(|line| line.starts_with("//!") || line.is_empty())
        .map(|line| format!("{line}\n"))
        .collect();
    let quoted = format!("```rust,ignore\n{code}```");
    assert!(
        readme.contains(&quoted),
        "README.md must show {name} verbatim, in a rust,ignore block:\n{code}"
    );
}

#[test]
fn the_readme_quotes_the_server_example() {
    assert_quoted("examples/server.rs", include_str!("../examples/server.rs"));
}

#[test]
fn the_readme_quotes_the_redis_node_example() {
    assert_quoted(
        "examples/redis_node.rs",
        include_str!("../examples/redis_node.rs"),
    );
}
