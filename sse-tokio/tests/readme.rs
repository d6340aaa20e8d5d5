//! The workspace README shows the adapters' examples, which `cargo test`
//! compiles: this checks that the README quotes each exactly (all but its
//! leading `//!` doc comment), in a `rust,ignore` block.

/// Panics unless the README quotes `example` (the file `name`) verbatim.
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
fn the_readme_quotes_the_client_example() {
    assert_quoted(
        "sse-tokio/examples/client.rs",
        include_str!("../examples/client.rs"),
    );
}

#[test]
fn the_readme_quotes_the_server_example() {
    assert_quoted(
        "sse-tokio/examples/server.rs",
        include_str!("../examples/server.rs"),
    );
}

#[test]
fn the_readme_quotes_the_smol_client_example() {
    assert_quoted(
        "sse-smol/examples/client.rs",
        include_str!("../../sse-smol/examples/client.rs"),
    );
}

#[test]
fn the_readme_quotes_the_redis_node_example() {
    assert_quoted(
        "sse-tokio/examples/redis_node.rs",
        include_str!("../examples/redis_node.rs"),
    );
}
