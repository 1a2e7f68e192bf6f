//! The client engine (DESIGN.md §2 `client`): what the browser app and the native CLI share to
//! reach the network. Async, generic over the platform ([`platform`]: HTTP, clock, store; any
//! `rand_core::CryptoRng`), spawning nothing and never reading the clock itself.
//!
//! - `path`: guards and three-hop onion paths, with Session's failure policy.
//! - `engine`: the [`Client`]: manifest bootstrap and refresh (pinned operator key), network
//!   time, swarm cache, one storage RPC through a path with retries.
//! - `messaging`: send a v1 direct message (+ sync copy), poll with `last_hash`, dedupe
//!   (against `seen`, the hashes already handed out).
//! - `files`: attachments and pictures through the operator's file server (v4 onion requests;
//!   every ID checked against the bytes).
//! - `live`: one step of following the inbox — a waiting retrieve at the next member in
//!   turn, or a plain poll where no member holds waits.
//! - `v2`: protocol v2 — this device's keys and device group, publishing the account keys at
//!   −21, the cache of others' keys, v1 or v2 per message.
//! - `groups`: groups v2 — create, invite, accept, read and write, remove (rekey and
//!   revoke), promote, leave, delete (behind the `groups-client` feature).
//! - `conformance`: the rules every `Store` backend is tested against.

pub mod conformance;
mod engine;
mod error;
pub mod files;
#[cfg(feature = "groups-client")]
pub mod groups;
pub mod live;
mod messaging;
pub mod path;
pub mod platform;
pub mod retry;
mod seen;
pub mod v2;

use crate::network::ManifestNode;

pub use crate::network::NetworkConfig;
pub use engine::{Client, ClientConfig, TIME_QUORUM};
pub use error::{ClientError, ClientResult};
pub use live::Step;
pub use messaging::{Incoming, MAX_TEXT_BYTES, NAMESPACE_DM, Sent, parse_recipient};
pub use platform::{
    Clock, HttpResponse, MemoryStore, Store, StoreError, Transport, TransportError,
};

use crate::order::shuffle;

/// The nodes of `nodes` not named in `asked` (Ed25519 hex), in order: the ones left to try
/// when a request must reach several distinct nodes.
fn not_asked(nodes: &[ManifestNode], asked: &[String]) -> Vec<ManifestNode> {
    nodes
        .iter()
        .filter(|n| !asked.contains(&n.ed25519))
        .cloned()
        .collect()
}
