//! murmur-core: the Murmur protocol, sans-IO.
//!
//! Everything here is a pure function or a state machine over bytes. Randomness is passed in as
//! `&mut impl CryptoRng` and time as `now_ms: u64`; nothing in this crate reads the clock, the OS
//! RNG, the network or the disk, so the same code runs natively and in a browser (wasm32).
//! Wire formats follow the public Session protocol (`shared/protocol/SESSION-PROTOCOL.md`).
#![forbid(unsafe_code)]

pub mod attachment;
pub mod bencode;
pub mod client;
pub mod config;
pub mod crypto;
pub mod error;
pub mod files;
pub mod groups;
pub mod history;
pub mod keys;
pub mod limits;
pub mod media;
pub mod message;
pub mod messenger;
pub mod network;
pub mod onion;
pub mod order;
pub mod rpc;
pub mod swarm;
#[cfg(test)]
mod test_util;
pub mod v2;
pub mod vault;
pub mod zstd;

pub use error::{Error, ManifestError, MnemonicError};
pub use keys::{Identity, Seed, SessionId};
