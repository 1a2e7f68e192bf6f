//! Responses of the storage RPC methods, as JSON shapes (§4.4).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One node's result for a `store`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreNodeResult {
    pub hash: String,
    /// The node's Ed25519 signature over the hash (base64).
    pub signature: String,
    pub expiry: u64,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub already: bool,
}

/// `store` response: per-node results keyed by node Ed25519 hex.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreResponse {
    pub swarm: BTreeMap<String, serde_json::Value>,
    pub hash: String,
    pub t: u64,
    #[serde(default)]
    pub hf: Vec<u32>,
}

/// A retrieved message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetrievedMessage {
    pub hash: String,
    pub timestamp: u64,
    pub expiration: u64,
    /// Base64 message bytes.
    pub data: String,
}

/// `retrieve` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetrieveResponse {
    pub messages: Vec<RetrievedMessage>,
    #[serde(default)]
    pub more: bool,
    pub t: u64,
    #[serde(default)]
    pub hf: Vec<u32>,
}

/// A node as `get_swarm` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwarmNode {
    pub pubkey_ed25519: String,
    pub pubkey_x25519: String,
    pub ip: String,
    pub port_https: u16,
    /// Murmur: the node's base URL, since browsers reach nodes by name over HTTPS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// `get_swarm` response (also the body of a 421).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetSwarmResponse {
    pub snodes: Vec<SwarmNode>,
    /// Swarm id in hex.
    pub swarm: String,
    pub t: u64,
    #[serde(default)]
    pub hf: Vec<u32>,
}

/// `info` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InfoResponse {
    pub version: Vec<u32>,
    pub timestamp: u64,
    pub t: u64,
    #[serde(default)]
    pub hf: Vec<u32>,
}

/// One subrequest's result in a `batch`/`sequence` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubResult {
    pub code: u16,
    pub body: serde_json::Value,
}

/// `batch` / `sequence` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchResponse {
    pub results: Vec<SubResult>,
}

/// The strings a node signs to vouch for its own results (§4.4), so a client can check each
/// swarm member's answer: `PUBKEY_HEX || …`.
pub mod node_sig {
    /// `delete`: account hex, requested hashes, deleted hashes.
    pub fn delete(account_hex: &str, requested: &[String], deleted: &[String]) -> Vec<u8> {
        format!("{account_hex}{}{}", requested.concat(), deleted.concat()).into_bytes()
    }
    /// `delete_all`: account hex, timestamp, deleted hashes.
    pub fn delete_all(account_hex: &str, timestamp: u64, deleted: &[String]) -> Vec<u8> {
        format!("{account_hex}{timestamp}{}", deleted.concat()).into_bytes()
    }
    /// `delete_before`: account hex, before, deleted hashes.
    pub fn delete_before(account_hex: &str, before: u64, deleted: &[String]) -> Vec<u8> {
        format!("{account_hex}{before}{}", deleted.concat()).into_bytes()
    }
    /// `expire_all`: account hex, expiry, updated hashes.
    pub fn expire_all(account_hex: &str, expiry: u64, updated: &[String]) -> Vec<u8> {
        format!("{account_hex}{expiry}{}", updated.concat()).into_bytes()
    }
    /// `expire`: account hex, expiry, requested, updated, then `hash||expiry` of unchanged.
    pub fn expire(
        account_hex: &str,
        expiry: u64,
        requested: &[String],
        updated: &[String],
        unchanged: &std::collections::BTreeMap<String, u64>,
    ) -> Vec<u8> {
        let unchanged: String = unchanged.iter().map(|(h, e)| format!("{h}{e}")).collect();
        format!(
            "{account_hex}{expiry}{}{}{unchanged}",
            requested.concat(),
            updated.concat()
        )
        .into_bytes()
    }
}
