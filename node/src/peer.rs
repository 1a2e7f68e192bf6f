//! Node-to-node requests (Murmur's own, DESIGN.md §6.2): plain HTTPS POSTs between swarm
//! members, each signed by the sender's Ed25519 node key and checked against the manifest.
//!
//! Headers: `x-murmur-node` (sender Ed25519 hex), `x-murmur-time` (ms) and
//! `x-murmur-signature` (base64 Ed25519 over `"murmur-peer-v1\n" path "\n" time "\n" body`).
//! The path is signed so a request for one endpoint cannot be replayed at another; the time
//! bounds replays to the signature window, and every peer operation is idempotent within it.

use std::time::Duration;

use axum::http::HeaderMap;
use ed25519_dalek::{Signature, VerifyingKey};
use murmur_core::crypto;
use murmur_core::network::ManifestNode;

use crate::clock::Clock;
use crate::identity::NodeIdentity;
use crate::network::Network;
use crate::outbound::ReadError;

const DOMAIN: &str = "murmur-peer-v1";
/// How far a peer request's time may be from this node's clock.
pub const PEER_TOLERANCE_MS: u64 = 60_000;

fn signed_bytes(path: &str, time: u64, body: &[u8]) -> Vec<u8> {
    let mut out = format!("{DOMAIN}\n{path}\n{time}\n").into_bytes();
    out.extend_from_slice(body);
    out
}

/// Why a peer request failed.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    #[error("peer timed out")]
    Timeout,
    #[error("peer unreachable")]
    Unreachable,
}

/// What sending a peer request takes: this node's key to sign with, its clock to date the
/// request, and the keep-alive HTTP client.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    pub signer: &'a NodeIdentity,
    pub clock: &'a Clock,
    pub http: &'a reqwest::Client,
}

impl Caller<'_> {
    /// Sends a signed POST to `peer` at `path`; returns the status and body.
    pub async fn post(
        self,
        peer: &ManifestNode,
        path: &str,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<(u16, bytes::Bytes), PeerError> {
        let time = self.clock.now_ms();
        let signature = self.signer.sign(&signed_bytes(path, time, &body));
        let response = self
            .http
            .post(peer.endpoint(path))
            .header("content-type", "application/json")
            .header("x-murmur-node", self.signer.ed25519_hex())
            .header("x-murmur-time", time.to_string())
            .header("x-murmur-signature", crypto::b64_encode(&signature))
            .timeout(timeout)
            .body(body)
            .send()
            .await
            .map_err(classify)?;
        let status = response.status().as_u16();
        let bytes = crate::outbound::read_capped(response)
            .await
            .map_err(|e| match e {
                ReadError::Timeout => PeerError::Timeout,
                ReadError::Broken => PeerError::Unreachable,
            })?;
        Ok((status, bytes))
    }
}

fn classify(e: reqwest::Error) -> PeerError {
    if e.is_timeout() {
        PeerError::Timeout
    } else {
        PeerError::Unreachable
    }
}

/// The node a peer request came from, as [`verify`] found it (set by the peer routes'
/// authentication for their handlers).
#[derive(Debug, Clone)]
pub struct PeerSender(pub ManifestNode);

/// Who a peer request says it is from, checked as far as the headers allow: a node the
/// manifest (the current one or the one before) lists, at a time inside the window. Checked
/// before the body is read, so a stranger costs no more than its headers.
#[derive(Debug)]
pub struct Claim {
    peer: ManifestNode,
    key: VerifyingKey,
    time: u64,
    signature: Signature,
}

impl Claim {
    pub fn from_headers(
        network: &Network,
        now_ms: u64,
        headers: &HeaderMap,
    ) -> Result<Self, &'static str> {
        let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
        let sender = header("x-murmur-node").ok_or("missing x-murmur-node")?;
        let time: u64 = header("x-murmur-time")
            .and_then(|t| t.parse().ok())
            .ok_or("missing x-murmur-time")?;
        let signature = header("x-murmur-signature")
            .and_then(|s| crypto::b64_decode(s).ok())
            .and_then(|s| Signature::from_slice(&s).ok())
            .ok_or("missing x-murmur-signature")?;
        if time.abs_diff(now_ms) > PEER_TOLERANCE_MS {
            return Err("peer request time outside the window");
        }
        let peer = network
            .peer_node(sender)
            .ok_or("sender is not in the manifest")?;
        let key = peer
            .ed25519_bytes()
            .ok()
            .and_then(|k| VerifyingKey::from_bytes(&k).ok())
            .ok_or("sender key invalid")?;
        Ok(Self {
            peer,
            key,
            time,
            signature,
        })
    }

    /// Checks the signature over `path` and `body`; returns the sender.
    pub fn verify(self, path: &str, body: &[u8]) -> Result<ManifestNode, &'static str> {
        self.key
            .verify_strict(&signed_bytes(path, self.time, body), &self.signature)
            .map_err(|_| "bad peer signature")?;
        Ok(self.peer)
    }
}
