//! Shared by the CLI's tests: running the `murmur` binary built for them (devnets, clients
//! and requests come from `murmur-testkit`).
#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;
use std::process::Output;

/// Runs the `murmur` binary with `home` and `args`, off the runtime's threads.
pub async fn murmur(home: &Path, args: &[&str]) -> Output {
    murmur_with_stdin(home, args, "").await
}

/// Runs the `murmur` binary with `input` on its stdin.
pub async fn murmur_with_stdin(home: &Path, args: &[&str], input: &str) -> Output {
    use std::io::Write as _;
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_murmur"));
    cmd.arg("--home")
        .arg(home)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let input = input.to_string();
    tokio::task::spawn_blocking(move || {
        let mut child = cmd.spawn().unwrap();
        // Dropped at the end of the statement: the child sees end of input.
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// Creates an identity in `home`, remembers the devnet there, and returns the Session ID.
pub async fn new_user(home: &Path, network_file: &Path) -> String {
    let out = murmur(home, &["identity", "new"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(
        text.lines().nth(2).unwrap().split(' ').count(),
        13,
        "13 words"
    );
    let id = text
        .lines()
        .next()
        .unwrap()
        .strip_prefix("Session ID: ")
        .unwrap()
        .to_string();
    // The first network command remembers the network file.
    let out = murmur(
        home,
        &[
            "--network-file",
            network_file.to_str().unwrap(),
            "path",
            "--json",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    id
}
