//! The storage RPC (SESSION-PROTOCOL.md §4) as this node answers it: check a request, then
//! read this node's store or coordinate a write across the swarm.
//!
//! Every request is checked first (`checks`); a client's write is applied here (`apply`) and forwarded to every other swarm member
//! (`replication::forward`); each member signs its own result, and the client sees them all
//! under `swarm`. Replies are the typed values of `murmur_core::rpc::response`.

use std::collections::BTreeMap;

use murmur_core::crypto;
use murmur_core::limits::{MAX_RETRIEVE_WAIT_MS, MIN_STORE_ACKS};
use murmur_core::rpc::response::{
    BatchResponse, FailedEntry, GetExpiriesResponse, HARDFORK, InfoResponse, NodeEntry, Reply,
    RetrieveResponse, RetrievedMessage, SubResult, WriteResponse,
};
use murmur_core::rpc::rules::{self, Refusal, Sender};
use murmur_core::rpc::{Request, WaitRetrieveParams};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::apply::{self, Applied, Write};
use crate::checks::{Checked, Read, check};
use crate::commit;
use crate::replication;
use crate::state::SharedNode;
use crate::storage::StorageError;
use crate::waiters::Refused;

/// Parses and runs one client request body (`{"method", "params"}`), batches included. The
/// body is dropped once parsed: a waiting retrieve may be held for 25 s, and ten thousand of
/// them should not keep ten thousand bodies.
pub async fn handle(node: &SharedNode, body: Vec<u8>) -> Reply {
    // The same bound whichever way it came (directly, or inside an onion's larger body), so
    // every write a peer is forwarded fits in what peers read.
    if body.len() > murmur_core::limits::STORAGE_RPC_MAX_BODY {
        return Refusal::new(413, "request too large").into_reply();
    }
    let request = match Request::from_json(&body) {
        Ok(r) => r,
        Err(e) => return Refusal::bad(format!("invalid request: {e}")).into_reply(),
    };
    drop(body);
    match request {
        Request::Batch(subs) => batch(node, subs, false).await,
        Request::Sequence(subs) => batch(node, subs, true).await,
        Request::WaitRetrieve(params) => wait_retrieve(node, &params).await,
        single => execute(node, &single).await,
    }
}

async fn batch(node: &SharedNode, subs: Vec<Request>, stop_on_error: bool) -> Reply {
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
pub async fn execute(node: &SharedNode, request: &Request) -> Reply {
    let started = crate::clock::monotonic_now();
    let reply = run(node, request).await;
    let took = crate::clock::monotonic_now().duration_since(started);
    node.metrics.record_method(request.method(), took);
    reply
}

async fn run(node: &SharedNode, request: &Request) -> Reply {
    let now_ms = node.clock.now_ms();
    let topology = node.network.current();
    let revoked = node.storage.revoked();
    let checked = match check(&topology, request, now_ms, Sender::Client, &revoked) {
        Ok(c) => c,
        Err(reply) => return reply,
    };
    match checked {
        Checked::Write(write) => coordinate(node, request, &write, now_ms).await,
        Checked::Retrieve(read) => retrieve(node, &read, now_ms).map_or_else(|r| r, |(r, _)| r),
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

/// Reads one checked retrieve at `now_ms`: the reply, and whether it holds any message.
fn retrieve(node: &SharedNode, read: &Read, now_ms: u64) -> Result<(Reply, bool), Reply> {
    let (messages, more) = node
        .storage
        .retrieve(
            &read.account,
            read.namespace,
            &read.last_hash,
            now_ms,
            read.max_count,
            read.max_size,
        )
        .map_err(|e| internal(&e))?;
    let any = !messages.is_empty();
    let page = RetrieveResponse {
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
    };
    Ok((Reply::ok(&page), any))
}

/// `wait_retrieve`: every retrieve checked as a plain one (the first refusal is the answer),
/// then answered as their batch once any has a message, at once if one has already. Held
/// otherwise until a message arrives for one of them (a client's store here or a peer's
/// copy), the node stops, or the wait (at most [`MAX_RETRIEVE_WAIT_MS`]) ends.
async fn wait_retrieve(node: &SharedNode, params: &WaitRetrieveParams) -> Reply {
    let started = crate::clock::monotonic_now();
    let now_ms = node.clock.now_ms();
    let topology = node.network.current();
    let mut reads = Vec::with_capacity(params.requests.len());
    let revoked = node.storage.revoked();
    for p in &params.requests {
        match check(
            &topology,
            &Request::Retrieve(p.clone()),
            now_ms,
            Sender::Client,
            &revoked,
        ) {
            Ok(Checked::Retrieve(read)) => reads.push(read),
            Ok(_) => return Refusal::internal().into_reply(),
            Err(reply) => return reply,
        }
    }
    let pairs: Vec<_> = reads.iter().map(|r| (r.account, r.namespace)).collect();
    // Registered before the first read, so a message stored in between still wakes it.
    let mut held = match node.storage.waiters().register(&pairs) {
        Ok(held) => held,
        Err(Refused::Account) => return Refusal::new(429, rules::TOO_MANY_WAITS).into_reply(),
        Err(Refused::Node) => return Refusal::new(503, rules::NODE_WAITS_FULL).into_reply(),
    };
    let wait_ms = params.wait_ms.min(MAX_RETRIEVE_WAIT_MS);
    let mut now_ms = now_ms;
    loop {
        let mut results = Vec::with_capacity(reads.len());
        let mut any = false;
        for read in &reads {
            let (reply, has) = match retrieve(node, read, now_ms) {
                Ok(r) => r,
                Err(reply) => return reply,
            };
            any |= has;
            results.push(SubResult {
                code: reply.status,
                body: reply.body_value(),
            });
        }
        let waited = crate::clock::monotonic_now().duration_since(started);
        let left = wait_ms.saturating_sub(u64::try_from(waited.as_millis()).unwrap_or(u64::MAX));
        if any || left == 0 || node.storage.waiters().is_closed() {
            node.metrics.record_method("wait_retrieve", waited);
            return Reply::ok(&BatchResponse { results });
        }
        held.until_arrival(left).await;
        now_ms = node.clock.now_ms();
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
        Write::Revoke { .. } => typed(value, Applied::Revoke),
    }
}

/// A client's write: applied here, forwarded to every other member, answered with every
/// member's entry. 200 when any member carried it out; else 507 when this node is full, 500.
async fn coordinate(node: &SharedNode, request: &Request, write: &Write, now_ms: u64) -> Reply {
    let mut mailbox_full = false;
    let applied = match write {
        // A store shares the next group commit; its signature is made here, not under it.
        Write::Store(msg) if !msg.namespace.is_public_outbox() => node
            .commits
            .store(msg.clone())
            .await
            .map(|outcome| apply::store_result(&node.identity, msg, outcome)),
        _ => {
            let (node, write) = (node.clone(), write.clone());
            commit::blocking(move || apply::apply(&node.storage, &node.identity, &write)).await
        }
    };
    let (local_status, local) = match applied {
        Ok(applied) => (200, NodeEntry::Ok(applied)),
        Err(e) => {
            mailbox_full = matches!(e, StorageError::AccountFull);
            let (status, entry) = apply::failure(&e);
            (status, NodeEntry::Failed(entry))
        }
    };
    let peers = node.network.current().peers();
    // A store is answered once enough members hold it for the client's quorum (this one
    // included); other writes report every member's result (a required delete needs them).
    let enough = match (write, &local) {
        (Write::Store(_), NodeEntry::Ok(_)) => Some(MIN_STORE_ACKS.saturating_sub(1)),
        (Write::Store(_), _) => Some(MIN_STORE_ACKS),
        _ => None,
    };
    let forwarded = replication::forward(node, &peers, request, enough).await;
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
