//! `POST /onion_req/v2` (SESSION-PROTOCOL.md §3.5–3.6): peel one layer with this node's X25519
//! key, then either execute the request (final destination) and encrypt the reply, or relay the
//! rest to the next node and pass its answer back byte for byte.
//!
//! Path errors are plain text with a non-200 status, as Session nodes answer them; only the
//! final destination's reply is encrypted, so a relay never sees a request or a reply.

use std::time::Duration;

use bytes::Bytes;
use murmur_core::Error;
use murmur_core::onion::{self, Peeled, RelayError};

use crate::network::Topology;
use crate::outbound::{ReadError, read_capped};
use crate::rpc;
use crate::state::SharedNode;

/// How long a relay waits for the next hop (Session: 30 s).
pub const RELAY_TIMEOUT: Duration = Duration::from_millis(murmur_core::limits::RELAY_TIMEOUT_MS);

/// An onion answer: the status and body to send back (plain text unless the status is 200).
#[derive(Debug)]
pub struct OnionReply {
    pub status: u16,
    pub body: Bytes,
}

fn plain(error: RelayError) -> OnionReply {
    OnionReply {
        status: error.status(),
        body: Bytes::from(error.text()),
    }
}

/// Handles one onion request body (dropped once peeled: the request inside may wait).
pub async fn handle(node: &SharedNode, body: bytes::Bytes) -> OnionReply {
    let peeled = onion::peel_layer(node.identity.onion_key(), &body);
    drop(body);
    let peeled = match peeled {
        Ok(p) => p,
        Err(Error::DecryptionFailed | Error::InvalidKey) => {
            return plain(RelayError::Undecryptable);
        }
        Err(Error::UnknownEncType) => return plain(RelayError::UnknownEncType),
        Err(Error::LimitExceeded(why)) => return plain(RelayError::Invalid(why.into())),
        Err(_) => return plain(RelayError::Invalid("malformed onion layer".into())),
    };
    match peeled {
        Peeled::Final { request, reply_key } => {
            let reply = rpc::handle(node, request).await;
            let encrypted = onion::encrypt_node_reply(
                &reply_key,
                reply.status,
                &reply.body_text(),
                &mut crate::clock::os_rng(),
            );
            OnionReply {
                status: 200,
                body: Bytes::from(encrypted),
            }
        }
        Peeled::RelayToNode {
            destination_ed25519,
            body,
        } => {
            relay(
                &node.http,
                &node.network.current(),
                &destination_ed25519,
                body,
            )
            .await
        }
        // Proxying to HTTP servers (SOGS, file server) arrives with attachments; until then a
        // clear refusal rather than a silent drop.
        Peeled::RelayToServer { .. } => plain(RelayError::ServerRelayUnsupported),
    }
}

/// Passes `body` on to the manifest node `destination` names in `topology`, and its answer
/// back.
async fn relay(
    http: &reqwest::Client,
    topology: &Topology,
    destination: &[u8; 32],
    body: Vec<u8>,
) -> OnionReply {
    let Some(next) = topology.signed.manifest.node(destination) else {
        return plain(RelayError::NextNodeNotFound(hex::encode(destination)));
    };
    let result = http
        .post(next.endpoint(murmur_core::onion::ONION_REQ_PATH))
        .header("content-type", "application/octet-stream")
        .timeout(RELAY_TIMEOUT)
        .body(body)
        .send()
        .await;
    let response = match result {
        Ok(r) => r,
        Err(e) if e.is_timeout() => return plain(RelayError::Timeout),
        Err(_) => return plain(RelayError::NextNodeUnreachable(next.ed25519.clone())),
    };
    let status = response.status().as_u16();
    // A node answers an onion request with 200 or a plain-text error, never a redirect (the
    // client is not told where to; this relay never follows one).
    if response.status().is_redirection() {
        return plain(RelayError::InvalidResponse);
    }
    match read_capped(response).await {
        Ok(bytes) => OnionReply {
            status,
            body: bytes,
        },
        Err(ReadError::Timeout) => plain(RelayError::Timeout),
        Err(ReadError::Broken) => plain(RelayError::InvalidResponse),
    }
}
