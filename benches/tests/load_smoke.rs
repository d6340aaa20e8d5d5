//! The load benchmark, small: `load smoke` starts the real `sse serve`,
//! opens 20 streams on it from several loopback addresses, publishes 100
//! events through keep-alive connections, and fails unless every stream
//! got every event once; then opens streams over HTTP/1.1 with TLS and
//! over HTTP/2 with TLS on a hub serving HTTPS. (nchan and Node are not
//! involved; the full
//! comparison is `cargo run --release -p benches --bin load -- all`.)

use std::path::PathBuf;
use std::process::Command;

/// The `sse` binary of this build's profile (target/<profile>/sse): the
/// one `cargo test --workspace --all-features` builds before any test runs.
/// Built here, with cargo, only when it is missing (`cargo test -p benches`
/// alone on a fresh checkout): rebuilding it with other features in the
/// middle of a workspace run would replace the binary other crates' tests
/// are about to run.
fn sse_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/load_smoke-HASH
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let sse = profile_dir.join("sse");
    if !sse.exists() {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = Command::new(cargo);
        build
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .args([
                "build",
                "-p",
                "sse-tokio",
                "--features",
                "cli",
                "--bin",
                "sse",
            ])
            .env("CARGO_TARGET_DIR", profile_dir.parent().unwrap());
        if profile_dir
            .file_name()
            .is_some_and(|name| name == "release")
        {
            build.arg("--release");
        }
        let status = build.status().unwrap();
        assert!(status.success(), "building sse: {status}");
    }
    sse
}

#[test]
fn nothing_is_lost_through_the_real_hub() {
    let output = Command::new(env!("CARGO_BIN_EXE_load"))
        .args(["smoke", "--quiet", "--sse"])
        .arg(sse_binary())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "load smoke failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    assert!(
        stdout.contains("2000 of 2000 delivered, 0 lost, 0 duplicated, 0 failed publishes, 0 streams closed early"),
        "{stdout}\n{stderr}"
    );
    for transport in ["HTTP/1.1 + TLS", "HTTP/2 + TLS"] {
        assert!(
            stdout.contains(&format!("smoke: 10 idle streams over {transport}\n")),
            "{stdout}\n{stderr}"
        );
    }
}

#[test]
fn a_hub_that_is_not_there_fails_the_run() {
    // The smoke run must be able to fail: a binary that is not a hub.
    let output = Command::new(env!("CARGO_BIN_EXE_load"))
        .args(["smoke", "--quiet", "--sse", "/bin/true"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("ours hub"), "{stderr}");
}
