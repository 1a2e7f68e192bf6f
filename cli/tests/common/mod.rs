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
