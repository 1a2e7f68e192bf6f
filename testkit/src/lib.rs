//! Murmur's test kit (dev-only, never shipped): what the workspace's integration tests, the
//! soak run and the benches share to stand up networks and talk to them.
//!
//! - [`devnet`]: an in-process devnet on free ports, and native clients on it.
//! - [`processes`]: separate `murmur-node run` processes sharing one manifest, for tests that
//!   kill, restart or proxy nodes.
//! - [`churn`]: steady client traffic through [`processes::ProcessNet`] while nodes die.
//! - [`liar`]: a manifest node run by an attacker (real keys, chosen lies) for the
//!   Byzantine tests.
//! - [`lying_files`]: a file server with the network's real key that lies about files.
//! - [`requests`]: storage-RPC requests tests send straight to a node.
//! - [`net`]: plain HTTP to a node and free loopback ports.
// A failure inside the kit is a failed test: it unwraps.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// Tests run on real time; the node's clock/RNG rule (node/clippy.toml) is for the node.
#![allow(clippy::disallowed_methods)]

pub mod churn;
pub mod devnet;
pub mod liar;
pub mod lying_files;
pub mod net;
pub mod processes;
pub mod requests;

use murmur_core::Identity;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;

/// A day in milliseconds (a TTL tests use where the TTL itself does not matter).
pub const DAY_MS: u64 = 24 * 3600 * 1000;

/// Wall-clock milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// A deterministic identity: the same `seed`, the same account.
pub fn identity(seed: u64) -> Identity {
    Identity::generate(&mut ChaCha20Rng::seed_from_u64(seed))
}
