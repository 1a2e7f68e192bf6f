//! murmur-node: the Murmur service node.
//!
//! It holds messages for the accounts of its swarm in SQLite (`storage`), answers Session's
//! storage RPC (`rpc`) directly and as the last hop of onion requests (`onion`), relays onion
//! layers to other nodes, keeps its swarm in step (`replication`, over signed `peer`
//! requests) and follows the operator-signed manifest (`network`). `server` wires one node
//! together; `devnet` runs a whole network on loopback; `operator` is the operator's tooling.
#![forbid(unsafe_code)]

/// What this build offers beyond Session's storage RPC, as the manifest names it
/// (`murmur_core::network::ManifestNode::capabilities`): `node init` writes it into the node's
/// card and devnets into their manifests, so clients know which nodes hold waits.
pub const CAPABILITIES: &[&str] = &[murmur_core::network::CAPABILITY_WAITING_RETRIEVE];

/// [`CAPABILITIES`] as a manifest entry holds them.
pub fn capabilities() -> Vec<String> {
    CAPABILITIES.iter().map(|c| (*c).to_string()).collect()
}

pub mod apply;
pub mod checks;
pub mod clock;
pub mod commit;
pub mod config;
pub mod connections;
pub mod devnet;
pub mod files;
pub mod http;
pub mod identity;
pub mod metrics;
pub mod network;
pub mod onion;
pub mod operator;
pub mod outbound;
pub mod peer;
pub mod ratelimit;
pub mod replication;
pub mod rpc;
pub mod server;
pub mod state;
pub mod storage;
pub mod waiters;
