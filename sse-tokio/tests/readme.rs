//! The READMEs show the adapters' examples, which `cargo test` compiles:
//! this checks that a README quotes each exactly (all but its leading `//!`
//! doc comment), in a `rust,ignore` block. The clients are in the workspace
//! README, the server and the Redis node in this crate's.

const WORKSPACE: &str = include_str!("../../README.md");
const CRATE: &str = include_str!("../README.md");

/// Panics unless `readme` quotes `example` (the file `name`) verbatim.
fn assert_quoted(readme: &str, name: &str, example: &str) {
    let code: String = example
        .lines()
        .skip_while(|line| line.starts_with("//!") || line.is_empty())
        .map(|line| format!("{line}\n"))
        .collect();
    let quoted = format!("```rust,ignore\n{code}```");
    assert!(
        readme.contains(&quoted),
        "the README must show {name} verbatim, in a rust,ignore block:\n{code}"
    );
}

#[test]
fn the_readme_quotes_the_client_example() {
    assert_quoted(
        WORKSPACE,
        "sse-tokio/examples/client.rs",
        include_str!("../examples/client.rs"),
    );
}

#[test]
fn the_readme_quotes_the_server_example() {
    assert_quoted(
        CRATE,
        "sse-tokio/examples/server.rs",
        include_str!("../examples/server.rs"),
    );
}

#[test]
fn the_readme_quotes_the_smol_client_example() {
    assert_quoted(
        WORKSPACE,
        "sse-smol/examples/client.rs",
        include_str!("../../sse-smol/examples/client.rs"),
    );
}

#[test]
fn the_readme_quotes_the_redis_node_example() {
    assert_quoted(
        CRATE,
        "sse-tokio/examples/redis_node.rs",
        include_str!("../examples/redis_node.rs"),
    );
}

#[test]
fn the_readme_quotes_the_hub_example() {
    assert_quoted(
        CRATE,
        "sse-tokio/examples/hub_in_axum.rs",
        include_str!("../examples/hub_in_axum.rs"),
    );
}

/// The migration guide's "after" code is the code the migration test runs
/// (between its `README` markers), quoted verbatim.
#[test]
fn the_readme_quotes_the_reqwest_migration_test() {
    let test = include_str!("reqwest_migration.rs");
    let start = test.find("// README: after (begin)\n").unwrap();
    let end = test.find("// README: after (end)").unwrap();
    let code = &test[start + "// README: after (begin)\n".len()..end];
    let quoted = format!("```rust,ignore\n{code}```");
    assert!(
        CRATE.contains(&quoted),
        "the README must quote the migration test's code verbatim:\n{code}"
    );
}
