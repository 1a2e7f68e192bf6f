//! The storage RPC (SESSION-PROTOCOL.md §4) as this node answers it: check a request, then
//! read this node's store or coordinate a write across the swarm.
//!
//! Every request is checked first (`checks`); a client's write is applied here (`apply`) and forwarded to every other swarm member
//! (`replication::forward`); each member signs its own result, and the client sees them all
//! under `swarm`. Replies are the typed values of `murmur_core::rpc::response`.

use std::collections::BTreeMap;

use murmur_core::crypto;
use murmur_core::rpc::Request;
use murmur_core::rpc::response::{
    BatchResponse, FailedEntry, GetExpiriesResponse, HARDFORK, InfoResponse, NodeEntry, Reply,
    RetrieveResponse, RetrievedMessage, SubResult, WriteResponse,
};
use murmur_core::rpc::rules::{self, Refusal, Sender};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::apply::{self, Applied, Write};
use crate::checks::{Checked, check};
use crate::replication;
use crate::state::Node;
use crate::storage::StorageError;

/// Parses and runs one client request body (`{"method", "params"}`), batches included.
pub async fn handle(node: &Node, body: &[u8]) -> Reply {
    // The same bound whichever way it came (directly, or inside an onion's larger body), so
    // every write a peer is forwarded fits in what peers read.
    if body.len() > murmur_core::limits::STORAGE_RPC_MAX_BODY {
        return Refusal::new(413, "request too large").into_reply();
    }
    let request = match Request::from_json(body) {
        Ok(r) => r,
        Err(e) => return Refusal::bad(format!("invalid request: {e}")).into_reply(),
    };
    match request {
        Request::Batch(subs) => batch(node, subs, false).await,
        Request::Sequence(subs) => batch(node, subs, true).await,
        single => execute(node, &single).await,
    }
}

async fn batch(node: &Node, subs: Vec<Request>, stop_on_error: bool) -> Reply {
    let mut results = Vec::with_capacity(subs.len());
    for sub in subs {
        let reply = execute(node, &sub).await;
        let failed = !reply.is_success();
        results.push(SubResult {
            code: reply.status,
            body: reply.body_value(),
        });
        if failed && stop_on_error {
            break;
        }
    }
    Reply::ok(&BatchResponse { results })
}

/// Runs one (non-batch) client request, timed per method.
pub async fn execute(node: &Node, request: &Request) -> Reply {
    let started = crate::clock::monotonic_now();
    let reply = run(node, request).await;
    let took = crate::clock::monotonic_now().duration_since(started);
    node.metrics.record_method(request.method(), took);
    reply
}

async fn run(node: &Node, request: &Request) -> Reply {
    let now_ms = node.clock.now_ms();
    let topology = node.network.current();
    let checked = match check(&topology, request, now_ms, Sender::Client) {
        Ok(c) => c,
        Err(reply) => return reply,
    };
    match checked {
        Checked::Write(write) => coordinate(node, request, &write, now_ms).await,
        Checked::Retrieve {
            account,
            namespace,
            last_hash,
            max_count,
            max_size,
        } => {
            let read = node
                .storage
                .retrieve(&account, namespace, &last_hash, now_ms, max_count, max_size);
            match read {
                Ok((messages, more)) => Reply::ok(&RetrieveResponse {
                    messages: messages
                        .into_iter()
                        .map(|m| RetrievedMessage {
                            hash: m.hash,
                            timestamp: m.timestamp,
                            expiration: m.expiry,
                            data: crypto::b64_encode(&m.data),
                        })
                        .collect(),
                    more,
                    t: now_ms,
                    hf: HARDFORK.to_vec(),
                }),
                Err(e) => internal(&e),
            }
        }
        Checked::GetExpiries { account, hashes } => {
            match node.storage.get_expiries(&account, &hashes, now_ms) {
                Ok(expiries) => Reply::ok(&GetExpiriesResponse {
                    expiries,
                    t: now_ms,
                    hf: HARDFORK.to_vec(),
                }),
                Err(e) => internal(&e),
            }
        }
        Checked::GetSwarm(account) => Reply::ok(&topology.swarm_response(&account, now_ms)),
        Checked::Info => Reply::ok(&InfoResponse {
            version: version().to_vec(),
            timestamp: now_ms,
            t: now_ms,
            hf: HARDFORK.to_vec(),
        }),
    }
}

fn internal(e: &crate::storage::StorageError) -> Reply {
    tracing::error!(error = %e, "database error");
    Refusal::internal().into_reply()
}

/// A peer's entry read as the result type of `write`; anything else is a bad response.
fn peer_entry(write: &Write, value: Value) -> NodeEntry<Applied> {
    fn typed<T: DeserializeOwned>(value: Value, wrap: fn(T) -> Applied) -> NodeEntry<Applied> {
        match NodeEntry::<T>::from_value(value) {
            NodeEntry::Ok(t) => NodeEntry::Ok(wrap(t)),
            NodeEntry::Failed(f) => NodeEntry::Failed(f),
            NodeEntry::Unreadable(_) => NodeEntry::Failed(FailedEntry::bad_response()),
        }
    }
    match write {
        Write::Store(_) => typed(value, Applied::Store),
        Write::Delete { .. } | Write::DeleteAll { .. } | Write::DeleteBefore { .. } => {
            typed(value, Applied::Delete)
        }
        Write::Expire { .. } => typed(value, Applied::Expire),
        Write::ExpireAll { .. } => typed(value, Applied::ExpireAll),
    }
}

/// A client's write: applied here, forwarded to every other member, answered with every
/// member's entry. 200 when any member carried it out; else 507 when this node is full, 500.
async fn coordinate(node: &Node, request: &Request, write: &Write, now_ms: u64) -> Reply {
    let mut mailbox_full = false;
    let (local_status, local) = match apply::apply(&node.storage, &node.identity, write) {
        Ok(applied) => (200, NodeEntry::Ok(applied)),
        Err(e) => {
            mailbox_full = matches!(e, StorageError::AccountFull);
            let (status, entry) = apply::failure(&e);
            (status, NodeEntry::Failed(entry))
        }
    };
    let peers = node.network.current().peers();
    let timeout = std::time::Duration::from_millis(node.config.replication.forward_timeout_ms);
    let forwarded =
        replication::forward(node.caller(), &node.metrics, &peers, request, timeout).await;
    let mut swarm: BTreeMap<String, NodeEntry<Applied>> = forwarded
        .into_iter()
        .map(|(ed, value)| (ed, peer_entry(write, value)))
        .collect();
    swarm.insert(node.identity.ed25519_hex(), local);
    let all_failed = swarm.values().all(NodeEntry::is_failed);
    // Said plainly, so the sender can tell the user rather than retry for nothing.
    if all_failed && mailbox_full {
        return Reply::text(507, rules::MAILBOX_FULL);
    }
    let status = match (all_failed, local_status) {
        (true, 507) => 507,
        (true, _) => 500,
        (false, _) => 200,
    };
    if let Request::Delete(p) = request {
        let nothing = swarm.values().all(|e| match e.ok() {
            Some(Applied::Delete(d)) => d.deleted.is_empty(),
            _ => true,
        });
        if p.required && nothing && !all_failed {
            return Reply::text(404, "delete: no such message");
        }
    }
    let hash = match write {
        Write::Store(m) => Some(m.hash.clone()),
        _ => None,
    };
    Reply::json(
        status,
        &WriteResponse {
            hash,
            swarm,
            t: now_ms,
            hf: HARDFORK.to_vec(),
        },
    )
}

/// This build's version as `[major, minor, patch]`.
pub fn version() -> [u32; 3] {
    let mut parts = env!("CARGO_PKG_VERSION")
        .split('.')
        .map(|p| p.parse().unwrap_or(0));
    [
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_is_three_numbers() {
        assert_eq!(version().len(), 3);
    }
}
