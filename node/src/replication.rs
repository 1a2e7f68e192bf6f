//! Keeping every member of a swarm holding the same messages (DESIGN.md §3, "Churn").
//!
//! Three mechanisms, each covering what the previous one can miss:
//! 1. **Forwarding**: a write a client makes at one member is sent at once to every other
//!    member (`/murmur/v1/replicate`), which checks it again and signs its own result.
//! 2. **Catch-up**: every member regularly pulls, from each peer, the messages that peer stored
//!    since it last looked (`/murmur/v1/messages`, a cursor over the peer's arrival order kept
//!    in SQLite). A member that was down or missed a forward gets them here.
//! 3. **Handoff**: when a newer manifest moves accounts to another swarm, the messages this
//!    node no longer owns are pushed to every member of their new swarm
//!    (`/murmur/v1/handoff`) and dropped here only once all of them have acknowledged.
//!
//! Every message received from a peer is checked: its hash must match its content and its
//! account must belong to this node's swarm, so a peer cannot plant or relabel messages.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::StreamExt as _;
use futures_util::future::join_all;
use futures_util::stream::FuturesUnordered;
use murmur_core::crypto;
use murmur_core::limits::HANDOFF_BATCH_BYTES;
use murmur_core::network::ManifestNode;
use murmur_core::rpc::response::{FailedEntry, Reply};
use murmur_core::rpc::rules::{self, Sender};
use murmur_core::rpc::{self, AccountId, Namespace, Request};
use murmur_core::swarm::SwarmId;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::apply;
use crate::checks::{self, Checked};
use crate::identity::NodeIdentity;
use crate::metrics::Metrics;
use crate::network::Topology;
use crate::peer::{Caller, PeerError};
use crate::state::{Node, SharedNode};
use crate::storage::{Storage, StorageError, StoredMessage};

pub const REPLICATE_PATH: &str = "/murmur/v1/replicate";
pub const MESSAGES_PATH: &str = "/murmur/v1/messages";
pub const HANDOFF_PATH: &str = "/murmur/v1/handoff";
/// Messages per catch-up page or handoff request.
pub const PAGE_SIZE: usize = 500;
const PEER_TIMEOUT: Duration = Duration::from_millis(murmur_core::limits::PEER_TIMEOUT_MS);

/// A stored message as peers exchange it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireMessage {
    pub account: String,
    pub namespace: i16,
    pub hash: String,
    pub timestamp: u64,
    pub expiry: u64,
    /// Base64.
    pub data: String,
}

impl WireMessage {
    fn from_stored(m: &StoredMessage) -> Self {
        Self {
            account: m.account.to_hex(),
            namespace: m.namespace.0,
            hash: m.hash.clone(),
            timestamp: m.timestamp,
            expiry: m.expiry,
            data: crypto::b64_encode(&m.data),
        }
    }

    /// Decodes, refusing a message whose hash does not match its account, namespace and data.
    fn into_stored(self) -> Option<StoredMessage> {
        let account = AccountId::parse(&self.account).ok()?;
        let data = crypto::b64_decode(&self.data).ok()?;
        let namespace = Namespace(self.namespace);
        if data.len() > rpc::MAX_MESSAGE_BYTES
            || rpc::message_hash(&account, namespace, &data) != self.hash
        {
            return None;
        }
        Some(StoredMessage {
            id: 0,
            account,
            namespace,
            hash: self.hash,
            timestamp: self.timestamp,
            expiry: self.expiry,
            data,
        })
    }
}

/// Asks a peer for its messages after `after` that belong to `swarm_id`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageRequest {
    pub after: i64,
    pub limit: usize,
    pub swarm_id: u64,
}

/// One page of a peer's messages; `next` is the cursor for the following page.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageReply {
    pub messages: Vec<WireMessage>,
    pub next: i64,
    pub done: bool,
}

/// Messages handed to their new swarm.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Handoff {
    pub messages: Vec<WireMessage>,
}

/// Forwards a client's write to `peers` (the other members of this node's swarm), each call
/// waiting at most `timeout`; returns each member's entry keyed by its Ed25519 hex, as JSON (a
/// failure entry for those that did not answer, counted in `metrics`). The caller reads each
/// as the write's result type.
///
/// With `enough`, returns as soon as that many members succeeded: the other forwards go on in
/// the background (each is its own task) and are absent from the map. A client's store is
/// answered once it is committed here and at enough peers for the client's quorum
/// ([`murmur_core::limits::MIN_STORE_ACKS`] members in all); the rest of the swarm gets it
/// moments later, and catch-up repairs a forward that failed.
pub async fn forward(
    node: &SharedNode,
    peers: &[ManifestNode],
    request: &Request,
    timeout: Duration,
    enough: Option<usize>,
) -> BTreeMap<String, Value> {
    let body = bytes::Bytes::from(request.to_json().to_string().into_bytes());
    let mut pending: FuturesUnordered<_> = peers
        .iter()
        .map(|p| {
            let (node, p, body) = (node.clone(), p.clone(), body.clone());
            tokio::spawn(async move {
                let result = node
                    .caller()
                    .post(&p, REPLICATE_PATH, body.to_vec(), timeout)
                    .await;
                let entry = forward_entry(result);
                if entry.get("failed").is_some() {
                    node.metrics.forward_failures.inc();
                }
                (p.ed25519, entry)
            })
        })
        .collect();
    let mut entries = BTreeMap::new();
    let mut succeeded = 0;
    while let Some(joined) = pending.next().await {
        // A forward task only ends by returning (the node's tasks do not panic-abort).
        let Ok((ed, entry)) = joined else { continue };
        succeeded += usize::from(entry.get("failed").is_none());
        entries.insert(ed, entry);
        if enough.is_some_and(|n| succeeded >= n) {
            break;
        }
    }
    entries
}

/// A peer's answer to a forwarded write, as the JSON entry of the reply's `swarm` map.
fn forward_entry(result: Result<(u16, bytes::Bytes), PeerError>) -> Value {
    let failed = |entry: FailedEntry| serde_json::to_value(entry).expect("entries serialise");
    match result {
        Ok((200, bytes)) => {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| failed(FailedEntry::bad_response()))
        }
        Ok((code, bytes)) => match serde_json::from_slice::<Value>(&bytes) {
            Ok(v @ Value::Object(_)) if v.get("failed").is_some() => v,
            _ => failed(FailedEntry::refused(
                code,
                String::from_utf8_lossy(&bytes[..bytes.len().min(200)]),
            )),
        },
        Err(PeerError::Timeout) => failed(FailedEntry::timeout()),
        Err(PeerError::Unreachable) => failed(FailedEntry::unreachable()),
    }
}

/// `/murmur/v1/replicate`: a peer forwards a client's write. It is checked again here against
/// `topology` at `now_ms`, as a client's would be (with the peer's wider signature window),
/// and applied to `storage` only: this node's own entry, signed by `signer`, is the answer.
pub fn serve_replicate(
    storage: &Storage,
    signer: &NodeIdentity,
    topology: &Topology,
    now_ms: u64,
    body: &[u8],
) -> Reply {
    let not_forwardable =
        || Reply::json(400, &FailedEntry::refused(400, "not a forwardable write"));
    let Ok(request) = Request::from_json(body) else {
        return not_forwardable();
    };
    if !rules::is_swarm_write(&request) {
        return not_forwardable();
    }
    let write = match checks::check(topology, &request, now_ms, Sender::Peer) {
        Ok(Checked::Write(write)) => write,
        Ok(_) => return not_forwardable(),
        Err(reply) => return reply,
    };
    match apply::apply(storage, signer, &write) {
        Ok(applied) => Reply::ok(&applied),
        Err(e) => {
            let (status, entry) = apply::failure(&e);
            Reply::json(status, &entry)
        }
    }
}

/// `/murmur/v1/messages`: a page of this node's unexpired messages (at `now_ms`) that belong
/// to `swarm_id` in `topology`.
pub fn serve_messages(
    storage: &Storage,
    topology: &Topology,
    now_ms: u64,
    request: &PageRequest,
) -> Result<PageReply, StorageError> {
    let limit = request.limit.clamp(1, PAGE_SIZE);
    let page = storage.page_after(request.after, now_ms, limit)?;
    let wanted = Some(SwarmId(request.swarm_id));
    let next = page.last().map_or(request.after, |m| m.id);
    let done = page.len() < limit;
    let messages = page
        .iter()
        .filter(|m| topology.swarm_of(&m.account) == wanted)
        .map(WireMessage::from_stored)
        .collect();
    Ok(PageReply {
        messages,
        next,
        done,
    })
}

/// Stores messages received from a peer in `storage` (those unexpired at `now_ms`); returns
/// how many were new or refreshed (counted in `metrics`), or `Err` when any does not match
/// its hash or is not for this swarm in `topology` (the sender's manifest may be newer).
pub fn accept(
    storage: &Storage,
    topology: &Topology,
    metrics: &Metrics,
    now_ms: u64,
    messages: Vec<WireMessage>,
) -> Result<usize, &'static str> {
    let now = now_ms;
    let mut decoded = Vec::with_capacity(messages.len());
    for m in messages {
        let mut m = m.into_stored().ok_or("a message does not match its hash")?;
        if !topology.owns(&m.account) {
            return Err("a message is not for this swarm");
        }
        // A peer's copy obeys the rules a client's store does: no expiry past the longest
        // TTL from now, and no time ahead of ours by more than a peer's window.
        m.expiry = rules::clamp_expiry(m.expiry, now);
        if m.expiry > now
            && m.timestamp <= now.saturating_add(rpc::FORWARDED_SIGNATURE_TOLERANCE_MS)
        {
            decoded.push(m);
        }
    }
    let mut stored = 0;
    for m in &decoded {
        match storage.store(m, false) {
            Ok(crate::storage::StoreOutcome::Stored { .. }) => stored += 1,
            Ok(crate::storage::StoreOutcome::Already { .. }) => {}
            Err(StorageError::Full) => return Err("storage full"),
            // A peer cannot push an account past its quota here; the rest is taken.
            Err(StorageError::AccountFull) => {}
            Err(StorageError::DiskFull) => return Err("disk full"),
            Err(StorageError::Db(e)) => {
                tracing::error!(error = %e, "database error while replicating");
                return Err("internal error");
            }
        }
    }
    metrics.replicated_in.inc_by(stored as u64);
    Ok(stored)
}

/// What a background round reads and writes: the peers it calls, this node's store, the
/// topology in force when the round began, and the counters it bumps.
#[derive(Debug, Clone, Copy)]
pub struct Round<'a> {
    pub caller: Caller<'a>,
    pub storage: &'a Storage,
    pub topology: &'a Topology,
    pub metrics: &'a Metrics,
}

/// Pulls what each swarm peer stored since the last round. Returns true when every peer was
/// read to the end.
pub async fn catch_up(round: Round<'_>) -> bool {
    let Some(swarm) = round.topology.my_swarm else {
        return true;
    };
    let mut complete = true;
    for p in round.topology.peers() {
        if let Err(why) = catch_up_from(round, &p, swarm).await {
            tracing::debug!(peer = %short(&p.ed25519), why, "catch-up incomplete");
            complete = false;
        }
    }
    complete
}

fn short(ed: &str) -> &str {
    &ed[..ed.len().min(12)]
}

async fn catch_up_from(
    round: Round<'_>,
    p: &ManifestNode,
    swarm: SwarmId,
) -> Result<(), &'static str> {
    loop {
        let after = round
            .storage
            .peer_cursor(&p.ed25519)
            .map_err(|_| "database error")?;
        let request = PageRequest {
            after,
            limit: PAGE_SIZE,
            swarm_id: swarm.0,
        };
        let body = serde_json::to_vec(&request).expect("a page request serialises");
        let (status, bytes) = round
            .caller
            .post(p, MESSAGES_PATH, body, PEER_TIMEOUT)
            .await
            .map_err(|_| "peer unreachable")?;
        if status != 200 {
            return Err("peer refused");
        }
        let page: PageReply = serde_json::from_slice(&bytes).map_err(|_| "bad peer page")?;
        let now_ms = round.caller.clock.now_ms();
        accept(
            round.storage,
            round.topology,
            round.metrics,
            now_ms,
            page.messages,
        )?;
        round
            .storage
            .set_peer_cursor(&p.ed25519, page.next)
            .map_err(|_| "database error")?;
        if page.done {
            return Ok(());
        }
    }
}

/// Pushes messages this node no longer owns to their new swarm, dropping each batch once every
/// member of that swarm acknowledged it. Returns true when nothing is left to hand off.
pub async fn hand_off(round: Round<'_>) -> bool {
    let Round {
        caller,
        storage,
        topology,
        metrics,
    } = round;
    let now = caller.clock.now_ms();
    let mut after = 0;
    let mut all_done = true;
    loop {
        let Ok(page) = storage.page_after(after, now, PAGE_SIZE) else {
            return false;
        };
        let Some(last) = page.last() else { break };
        after = last.id;
        let full_page = page.len() == PAGE_SIZE;
        let mut by_swarm: BTreeMap<SwarmId, Vec<StoredMessage>> = BTreeMap::new();
        for m in page {
            if !topology.owns(&m.account)
                && let Some(target) = topology.swarm_of(&m.account)
            {
                by_swarm.entry(target).or_default().push(m);
            }
        }
        let batches = by_swarm
            .into_iter()
            .flat_map(|(target, messages)| batches(messages).into_iter().map(move |b| (target, b)));
        for (target, messages) in batches {
            let members = topology.signed.manifest.members(target);
            let body = serde_json::to_vec(&Handoff {
                messages: messages.iter().map(WireMessage::from_stored).collect(),
            })
            .expect("a handoff serialises");
            let acks = join_all(
                members
                    .iter()
                    .map(|p| caller.post(p, HANDOFF_PATH, body.clone(), PEER_TIMEOUT)),
            )
            .await;
            let all_acked = !members.is_empty() && acks.iter().all(|r| matches!(r, Ok((200, _))));
            if all_acked && storage.remove(&messages).is_ok() {
                metrics.handed_off.inc_by(messages.len() as u64);
            } else {
                all_done = false;
            }
        }
        if !full_page {
            break;
        }
    }
    all_done
}

/// Cuts one swarm's messages into handoff requests of at most [`HANDOFF_BATCH_BYTES`] of
/// data each (one message alone may be larger, but never past the peer body bound), so
/// every request fits in what a peer reads.
fn batches(messages: Vec<StoredMessage>) -> Vec<Vec<StoredMessage>> {
    let mut out: Vec<Vec<StoredMessage>> = Vec::new();
    let mut size = 0;
    for m in messages {
        let len = m.data.len();
        match out.last_mut() {
            Some(batch) if size + len <= HANDOFF_BATCH_BYTES => batch.push(m),
            _ => {
                out.push(vec![m]);
                size = 0;
            }
        }
        size += len;
    }
    out
}

/// The background loop: sweep expired messages, catch up with peers, hand off what moved.
/// Ends when `shutdown` turns true.
pub async fn run(node: std::sync::Arc<Node>, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let mut manifests = node.network.subscribe();
    let sync_every = Duration::from_millis(node.config.replication.sync_interval_ms.max(100));
    let sweep_every = Duration::from_secs(node.config.storage.sweep_seconds.max(1));
    let mut sync_tick = tokio::time::interval(sync_every);
    let mut sweep_tick = tokio::time::interval(sweep_every);
    sync_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    sweep_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_complete = node.clock.now_ms();
    // Start by handing off anything a manifest change while we were down left here.
    let mut handoff_pending = true;
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            changed = manifests.changed() => {
                if changed.is_err() { return; }
                // New swarm layout: peers' cursors no longer cover the accounts now ours.
                if let Err(e) = node.storage.reset_peer_cursors() {
                    tracing::error!(error = %e, "cannot reset peer cursors");
                }
                handoff_pending = true;
                sync_tick.reset_immediately();
            }
            _ = sweep_tick.tick() => {
                match node.storage.sweep(node.clock.now_ms()) {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(removed = n, "expired messages swept"),
                    Err(e) => tracing::error!(error = %e, "expiry sweep failed"),
                }
            }
            _ = sync_tick.tick() => {
                let topology = node.network.current();
                let round = Round {
                    caller: node.caller(),
                    storage: &node.storage,
                    topology: &topology,
                    metrics: &node.metrics,
                };
                if catch_up(round).await {
                    last_complete = node.clock.now_ms();
                }
                node.metrics
                    .set_replication_lag(node.clock.now_ms().saturating_sub(last_complete));
                if handoff_pending {
                    handoff_pending = !hand_off(round).await;
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use murmur_core::limits::PEER_MAX_BODY;

    #[test]
    fn a_full_handoff_page_goes_in_requests_a_peer_reads() {
        // A page of maximal messages (the old single request was ~50 MiB).
        let messages: Vec<StoredMessage> = (0..PAGE_SIZE)
            .map(|i| StoredMessage {
                id: i as i64,
                account: AccountId([5; 33]),
                namespace: Namespace(0),
                hash: format!("{i:043}"),
                timestamp: 1,
                expiry: 2,
                data: vec![0xAB; rpc::MAX_MESSAGE_BYTES],
            })
            .collect();
        let mut total = 0;
        for batch in batches(messages) {
            total += batch.len();
            let body = serde_json::to_vec(&Handoff {
                messages: batch.iter().map(WireMessage::from_stored).collect(),
            })
            .unwrap();
            assert!(body.len() <= PEER_MAX_BODY, "{} bytes", body.len());
        }
        assert_eq!(total, PAGE_SIZE, "every message is in a batch");
    }
}
