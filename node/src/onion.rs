//! `POST /onion_req/v2` (SESSION-PROTOCOL.md §3.5–3.6): peel one layer with this node's X25519
//! key, then either execute the request (final destination) and encrypt the reply, or relay the
//! rest to the next node and pass its answer back byte for byte.
//!
//! Path errors are plain text with a non-200 status, as Session nodes answer them; only the
//! final destination's reply is encrypted, so a relay never sees a request or a reply.

use std::time::Duration;

use bytes::Bytes;
use murmur_core::Error;
use murmur_core::onion::{self, Peeled};
use rand_core::UnwrapErr;

use crate::rpc::{self, Origin};
use crate::state::Node;

/// How long a relay waits for the next hop (Session: 30 s).
pub const RELAY_TIMEOUT: Duration = Duration::from_secs(30);

/// An onion answer: the status and body to send back (plain text unless the status is 200).
#[derive(Debug)]
pub struct OnionReply {
    pub status: u16,
    pub body: Bytes,
}

fn plain(status: u16, text: impl Into<String>) -> OnionReply {
    OnionReply {
        status,
        body: Bytes::from(text.into()),
    }
}

/// Handles one onion request body.
pub async fn handle(node: &Node, body: &[u8]) -> OnionReply {
    let peeled = match onion::peel_layer(node.identity.onion_key(), body) {
        Ok(p) => p,
        Err(Error::DecryptionFailed | Error::InvalidKey) => {
            return plain(400, "Invalid ciphertext");
        }
        Err(Error::UnknownEncType) => return plain(400, "Invalid ciphertext: unknown enc_type"),
        Err(Error::LimitExceeded(why)) => return plain(400, format!("Invalid request: {why}")),
        Err(_) => return plain(400, "Invalid request: malformed onion layer"),
    };
    match peeled {
        Peeled::Final { request, reply_key } => {
            let reply = rpc::handle(node, &request, Origin::Client).await;
            let encrypted = onion::encrypt_node_reply(
                &reply_key,
                reply.status,
                &reply.body_text(),
                &mut UnwrapErr(getrandom::SysRng),
            );
            OnionReply {
                status: 200,
                body: Bytes::from(encrypted),
            }
        }
        Peeled::RelayToNode {
            destination_ed25519,
            body,
        } => relay(node, &destination_ed25519, body).await,
        // Proxying to HTTP servers (SOGS, file server) arrives with attachments; until then a
        // clear refusal rather than a silent drop.
        Peeled::RelayToServer { .. } => plain(
            501,
            "Relaying onion requests to HTTP servers is not supported by this node yet",
        ),
    }
}

async fn relay(node: &Node, destination: &[u8; 32], body: Vec<u8>) -> OnionReply {
    let topology = node.network.current();
    let Some(next) = topology.signed.manifest.node(destination) else {
        return plain(
            502,
            format!("Next node not found: {}", hex::encode(destination)),
        );
    };
    let result = node
        .http
        .post(next.endpoint("/onion_req/v2"))
        .header("content-type", "application/octet-stream")
        .timeout(RELAY_TIMEOUT)
        .body(body)
        .send()
        .await;
    let response = match result {
        Ok(r) => r,
        Err(e) if e.is_timeout() => return plain(504, "Request time out"),
        Err(_) => {
            return plain(
                502,
                format!("Next node is currently unreachable: {}", next.ed25519),
            );
        }
    };
    let status = response.status().as_u16();
    match response.bytes().await {
        Ok(bytes) => OnionReply {
            status,
            body: bytes,
        },
        Err(e) if e.is_timeout() => plain(504, "Request time out"),
        Err(_) => plain(502, "Invalid response from snode"),
    }
}
