//! An in-process devnet (`murmur_node::devnet`) on free ports, and native clients on it or on
//! any network.

use murmur_cli::platform::{HttpTransport, SystemClock};
use murmur_core::Identity;
use murmur_core::client::{Client, ClientConfig, NetworkConfig, Store, Transport};
use murmur_node::devnet::{Devnet, DevnetSpec};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;
use tempfile::TempDir;

/// Starts a devnet of `nodes` nodes on free ports (3 swarms of 3 for 9 nodes), syncing every
/// `sync_interval_ms`; it lives in the returned directory.
pub async fn start(nodes: usize, sync_interval_ms: u64) -> (Devnet, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let devnet = Devnet::start(DevnetSpec {
        nodes,
        dir: dir.path().join("devnet"),
        base_port: 0,
        sync_interval_ms,
        account_max_count: None,
    })
    .await
    .expect("the devnet starts");
    (devnet, dir)
}

/// What clients need to find `devnet`.
pub fn network(devnet: &Devnet) -> NetworkConfig {
    devnet.info().network.config().unwrap()
}

/// A client on the system clock and a seeded RNG.
pub type TestClient<T, S> = Client<T, SystemClock, S, ChaCha20Rng>;

/// The client configuration tests use: the production policy, retrying after 50 ms instead of
/// seconds (tests fail fast; the policy is the same).
pub fn config(network: NetworkConfig) -> ClientConfig {
    let mut config = ClientConfig::new(network);
    config.backoff_ms = 50;
    config
}

/// A library client for `identity` with `config`, its local clock `skew_ms` off.
pub fn client_with<T: Transport, S: Store>(
    config: ClientConfig,
    identity: Identity,
    transport: T,
    store: S,
    skew_ms: i64,
    seed: u64,
) -> TestClient<T, S> {
    Client::new(
        identity,
        config,
        transport,
        SystemClock { skew_ms },
        store,
        ChaCha20Rng::seed_from_u64(seed),
    )
}

/// A library client for `identity` on `devnet` ([`config`]), its local clock `skew_ms` off.
pub fn client<T: Transport, S: Store>(
    devnet: &Devnet,
    identity: Identity,
    transport: T,
    store: S,
    skew_ms: i64,
    seed: u64,
) -> TestClient<T, S> {
    client_with(
        config(network(devnet)),
        identity,
        transport,
        store,
        skew_ms,
        seed,
    )
}

/// The CLI's HTTP transport (system roots; devnets are plain HTTP).
pub fn transport() -> HttpTransport {
    HttpTransport::new(None).unwrap()
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
