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
        Peeled::RelayToServer {
            host,
            port,
            protocol,
            target,
            body,
        } => {
            let topology = node.network.current();
            // Only the operator's file servers, at their onion endpoint: a node is no open
            // proxy to any URL a client names.
            let listed = topology.signed.manifest.file_servers.iter().find(|f| {
                let scheme = f.url.split_once("://").map_or("https", |(s, _)| s);
                scheme == protocol && crate::network::host_port(&f.url) == (host.clone(), port)
            });
            match listed {
                Some(server) if target == murmur_core::client::files::FILE_SERVER_ONION_PATH => {
                    let url = format!("{}{target}", server.url.trim_end_matches('/'));
                    forward(&node.http, &url, body, &server.x25519).await
                }
                _ => plain(RelayError::ServerNotListed),
            }
        }
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
    forward(
        http,
        &next.endpoint(murmur_core::onion::ONION_REQ_PATH),
        body,
        &next.ed25519,
    )
    .await
}

/// POSTs `body` to `url` (the next node, or a file server) and passes its answer back as it
/// came; `name` names the next hop in an "unreachable" error.
async fn forward(http: &reqwest::Client, url: &str, body: Vec<u8>, name: &str) -> OnionReply {
    let result = http
        .post(url)
        .header("content-type", "application/octet-stream")
        .timeout(RELAY_TIMEOUT)
        .body(body)
        .send()
        .await;
    let response = match result {
        Ok(r) => r,
        Err(e) if e.is_timeout() => return plain(RelayError::Timeout),
        Err(_) => return plain(RelayError::NextNodeUnreachable(name.to_string())),
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
