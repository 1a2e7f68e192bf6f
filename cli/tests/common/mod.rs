//! Shared by the delivery tests: an in-process devnet and native clients on it.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;
use std::process::Output;

use murmur_cli::platform::{HttpTransport, SystemClock};
use murmur_core::Identity;
use murmur_core::client::{Client, ClientConfig, NetworkConfig, Store, Transport};
use murmur_node::devnet::{Devnet, DevnetSpec};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;
use tempfile::TempDir;

/// Starts a devnet of `nodes` nodes on free ports (3 swarms of 3 for 9 nodes).
pub async fn devnet(nodes: usize) -> (Devnet, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let devnet = Devnet::start(DevnetSpec {
        nodes,
        dir: dir.path().join("devnet"),
        base_port: 0,
        sync_interval_ms: 500,
    })
    .await
    .unwrap();
    (devnet, dir)
}

pub fn network(devnet: &Devnet) -> NetworkConfig {
    devnet.info().network.config().unwrap()
}

pub type TestClient<T, S> = Client<T, SystemClock, S, ChaCha20Rng>;

/// A library client for `identity`, with its local clock `skew_ms` off.
pub fn client<T: Transport, S: Store>(
    devnet: &Devnet,
    identity: Identity,
    transport: T,
    store: S,
    skew_ms: i64,
    seed: u64,
) -> TestClient<T, S> {
    let mut config = ClientConfig::new(network(devnet));
    // Fail fast in tests; the policy is the same.
    config.backoff_ms = 50;
    Client::new(
        identity,
        config,
        transport,
        SystemClock { skew_ms },
        store,
        ChaCha20Rng::seed_from_u64(seed),
    )
}

pub fn http() -> HttpTransport {
    HttpTransport::new(None).unwrap()
}

pub fn identity(seed: u64) -> Identity {
    Identity::generate(&mut ChaCha20Rng::seed_from_u64(seed))
}

/// Index (in the devnet) of the node with this Ed25519 key.
pub fn node_index(devnet: &Devnet, ed25519: &str) -> usize {
    devnet
        .info()
        .nodes
        .iter()
        .position(|n| n.ed25519 == ed25519)
        .unwrap()
}

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
