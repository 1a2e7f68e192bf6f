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
//! A group owner's revocations of member tokens travel the first two ways too: forwarded at
//! once, and logged as the owner signed them for peers to read at catch-up
//! (`/murmur/v1/subaccounts`), where each is checked again against the group's key.
//!
//! Every message received from a peer is checked: its hash must match its content and its
//! account must belong to this node's swarm, so a peer cannot plant or relabel messages.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::StreamExt as _;
use futures_util::future::join_all;
use futures_util::stream::FuturesUnordered;
use murmur_core::crypto;
use murmur_core::limits::HANDOFF_BATCH_BYTES;
use murmur_core::network::ManifestNode;
use murmur_core::rpc::response::{BatchResponse, FailedEntry, Reply, SubResult};
use murmur_core::rpc::rules::{self, Sender};
use murmur_core::rpc::{self, AccountId, Namespace, Request};
use murmur_core::swarm::SwarmId;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::apply::{self, Write};
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
pub const REPLICATE_BATCH_PATH: &str = "/murmur/v1/replicate_batch";
pub const SUBACCOUNTS_PATH: &str = "/murmur/v1/subaccounts";
/// Subaccount changes per catch-up page.
pub const CHANGES_PAGE_SIZE: usize = 100;
/// Most forwarded writes in one `/murmur/v1/replicate_batch` request.
pub const FORWARD_BATCH_MAX: usize = 64;
/// Forwarded batches in flight to one peer at once.
const FORWARD_BATCHES_IN_FLIGHT: usize = 4;
/// Messages per catch-up page or handoff request.
pub const PAGE_SIZE: usize = 500;
/// Digests a catch-up round asks for at a time: each page is checked against the store under
/// its lock, so a page stays short enough not to hold clients' stores up.
const DIGEST_PAGE_SIZE: usize = 100;
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

/// Asks a peer for its messages after `after` that belong to `swarm_id`: whole, or with
/// `digests` only their digests (the page a catch-up round reads first), or with `ids`
/// exactly those messages (the ones a digest page showed missing here; `after` is ignored).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageRequest {
    pub after: i64,
    pub limit: usize,
    pub swarm_id: u64,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub digests: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<i64>,
}

/// One page of a peer's messages (or of their digests); `next` is the cursor for the
/// following page.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageReply {
    pub messages: Vec<WireMessage>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub digests: Vec<WireDigest>,
    pub next: i64,
    pub done: bool,
}

/// A peer's message without its data: enough to tell whether this node holds it already.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireDigest {
    /// The peer's local id, to ask for the message whole.
    pub id: i64,
    pub account: String,
    pub namespace: i16,
    pub hash: String,
    pub expiry: u64,
}

/// Messages handed to their new swarm.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Handoff {
    pub messages: Vec<WireMessage>,
    /// Group owners' signed subaccount changes for the accounts handed off.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<Value>,
}

/// The account a logged subaccount change (a signed request, JSON) is for, if it names one.
pub fn change_account(change: &Value) -> Option<AccountId> {
    AccountId::parse(change.get("params")?.get("pubkey")?.as_str()?).ok()
}

/// Forwards a client's write to `peers` (the other members of this node's swarm), through
/// each peer's [`Forwarder`] queue (batched with the writes forwarded at the same time);
/// returns each member's entry keyed by its Ed25519 hex, as JSON (a failure entry for those
/// that did not answer, counted in `metrics`). The caller reads each as the write's result type.
///
/// With `enough`, returns as soon as that many members succeeded: the other forwards go on in
/// the background and are absent from the map. A client's store is answered once it is
/// committed here and at enough peers for the client's quorum
/// ([`murmur_core::limits::MIN_STORE_ACKS`] members in all); the rest of the swarm gets it
/// moments later, and catch-up repairs a forward that failed.
pub async fn forward(
    node: &SharedNode,
    peers: &[ManifestNode],
    request: &Request,
    enough: Option<usize>,
) -> BTreeMap<String, Value> {
    let body: Arc<str> = request.to_json().to_string().into();
    let mut pending: FuturesUnordered<_> = peers
        .iter()
        .map(|p| {
            let (reply, answer) = oneshot::channel();
            node.forwarder.submit(
                node,
                p,
                Job {
                    body: body.clone(),
                    reply,
                },
            );
            let ed = p.ed25519.clone();
            async move {
                let entry = answer
                    .await
                    .unwrap_or_else(|_| failed(FailedEntry::unreachable()));
                (ed, entry)
            }
        })
        .collect();
    let mut entries = BTreeMap::new();
    let mut succeeded = 0;
    while let Some((ed, entry)) = pending.next().await {
        succeeded += usize::from(entry.get("failed").is_none());
        entries.insert(ed, entry);
        if enough.is_some_and(|n| succeeded >= n) {
            break;
        }
    }
    entries
}

fn failed(entry: FailedEntry) -> Value {
    serde_json::to_value(entry).expect("entries serialise")
}

/// A peer's answer to one forwarded write (its status and body), as the JSON entry of the
/// reply's `swarm` map.
fn entry_of(code: u16, body: Value) -> Value {
    match (code, body) {
        (200, v @ Value::Object(_)) => v,
        (200, _) => failed(FailedEntry::bad_response()),
        (_, v @ Value::Object(_)) if v.get("failed").is_some() => v,
        (code, Value::String(text)) => failed(FailedEntry::refused(
            code,
            text.chars().take(200).collect::<String>(),
        )),
        (code, _) => failed(FailedEntry::refused(code, "refused")),
    }
}

/// A forwarded write waiting in a peer's queue.
struct Job {
    /// The client's request, as JSON text.
    body: Arc<str>,
    reply: oneshot::Sender<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplicateBatch {
    requests: Vec<Value>,
}

/// One queue per swarm peer of the writes to forward to it. Its task sends what has queued up
/// as one `/murmur/v1/replicate_batch` request (one connection, one peer signature, one
/// reply for up to [`FORWARD_BATCH_MAX`] writes), with up to [`FORWARD_BATCHES_IN_FLIGHT`]
/// batches in flight to that peer: under load, writes that arrive while batches are out
/// travel together in the next one. A peer of an older build (404) is sent the writes one
/// by one on `/murmur/v1/replicate`.
#[derive(Debug, Default)]
pub struct Forwarder {
    queues: std::sync::Mutex<HashMap<(String, String), mpsc::UnboundedSender<Job>>>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").finish_non_exhaustive()
    }
}

impl Forwarder {
    fn submit(&self, node: &SharedNode, peer: &ManifestNode, job: Job) {
        let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
        let key = (peer.ed25519.clone(), peer.url.clone());
        let spawn = || {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(drain(Arc::downgrade(node), peer.clone(), rx));
            tx
        };
        let queue = queues.entry(key).or_insert_with(spawn);
        if let Err(mpsc::error::SendError(job)) = queue.send(job) {
            // Its task ended (it never should while the node lives): start another.
            *queue = spawn();
            let _ = queue.send(job);
        }
    }
}

/// A peer's queue: batches of what has queued, sent while fewer than
/// [`FORWARD_BATCHES_IN_FLIGHT`] are out. Ends when the node is gone.
async fn drain(node: Weak<Node>, peer: ManifestNode, mut queue: mpsc::UnboundedReceiver<Job>) {
    let slots = Arc::new(Semaphore::new(FORWARD_BATCHES_IN_FLIGHT));
    let old_peer = Arc::new(AtomicBool::new(false));
    while let Some(first) = queue.recv().await {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let mut size = first.body.len();
        let mut jobs = vec![first];
        while jobs.len() < FORWARD_BATCH_MAX && size < HANDOFF_BATCH_BYTES {
            match queue.try_recv() {
                Ok(job) => {
                    size += job.body.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let Some(node) = node.upgrade() else { return };
        let (peer, old_peer) = (peer.clone(), old_peer.clone());
        tokio::spawn(async move {
            let _permit = permit;
            send_batch(&node, &peer, jobs, &old_peer).await;
        });
    }
}

async fn send_batch(node: &Node, peer: &ManifestNode, jobs: Vec<Job>, old_peer: &AtomicBool) {
    let timeout = Duration::from_millis(node.config.replication.forward_timeout_ms);
    let entries = if old_peer.load(Ordering::Relaxed) {
        None
    } else {
        let mut body = String::from("{\"requests\":[");
        for (i, job) in jobs.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            body.push_str(&job.body);
        }
        body.push_str("]}");
        match node
            .caller()
            .post(peer, REPLICATE_BATCH_PATH, body.into_bytes(), timeout)
            .await
        {
            Ok((200, bytes)) => Some(match serde_json::from_slice::<BatchResponse>(&bytes) {
                Ok(b) if b.results.len() == jobs.len() => b
                    .results
                    .into_iter()
                    .map(|r| entry_of(r.code, r.body))
                    .collect(),
                _ => vec![failed(FailedEntry::bad_response()); jobs.len()],
            }),
            Ok((404, _)) => {
                old_peer.store(true, Ordering::Relaxed);
                None
            }
            Ok((code, bytes)) => {
                let entry = entry_of(code, reply_value(&bytes));
                Some(vec![entry; jobs.len()])
            }
            Err(e) => Some(vec![peer_failure(e); jobs.len()]),
        }
    };
    let entries = match entries {
        Some(entries) => entries,
        None => {
            // One by one, as before batches.
            let mut entries = Vec::with_capacity(jobs.len());
            for job in &jobs {
                let body = job.body.as_bytes().to_vec();
                entries.push(
                    match node
                        .caller()
                        .post(peer, REPLICATE_PATH, body, timeout)
                        .await
                    {
                        Ok((code, bytes)) => entry_of(code, reply_value(&bytes)),
                        Err(e) => peer_failure(e),
                    },
                );
            }
            entries
        }
    };
    for (job, entry) in jobs.into_iter().zip(entries) {
        if entry.get("failed").is_some() {
            node.metrics.forward_failures.inc();
        }
        let _ = job.reply.send(entry);
    }
}

/// A peer's answer body: its JSON, or its text as a JSON string.
fn reply_value(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

fn peer_failure(e: PeerError) -> Value {
    failed(match e {
        PeerError::Timeout => FailedEntry::timeout(),
        PeerError::Unreachable => FailedEntry::unreachable(),
    })
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
    replicate_one(
        storage,
        signer,
        topology,
        now_ms,
        Request::from_json(body).ok(),
    )
}

/// `/murmur/v1/replicate_batch`: several forwarded writes in one request (`{"requests":
/// [...]}`), each handled as [`serve_replicate`] would, answered as a batch (`{"results":
/// [{"code", "body"}, ...]}`, in order).
pub fn serve_replicate_batch(
    storage: &Storage,
    signer: &NodeIdentity,
    topology: &Topology,
    now_ms: u64,
    body: &[u8],
) -> Reply {
    let Ok(ReplicateBatch { requests }) = serde_json::from_slice::<ReplicateBatch>(body) else {
        return Reply::json(400, &FailedEntry::refused(400, "not a batch of writes"));
    };
    if requests.len() > FORWARD_BATCH_MAX {
        return Reply::json(
            413,
            &FailedEntry::refused(413, "too many writes in one batch"),
        );
    }
    let checked: Vec<Result<Write, Reply>> = requests
        .into_iter()
        .map(|r| checked_write(storage, topology, now_ms, Request::from_json_value(r).ok()))
        .collect();
    // The usual batch, stores only (none replacing a namespace): one commit for them all.
    let stores: Option<Vec<&StoredMessage>> = checked
        .iter()
        .map(|c| match c {
            Ok(Write::Store(m)) if !m.namespace.is_public_outbox() => Some(m),
            _ => None,
        })
        .collect();
    let replies: Vec<Reply> = match stores {
        Some(msgs) => apply::apply_stores(storage, signer, &msgs)
            .into_iter()
            .map(applied_reply)
            .collect(),
        None => checked
            .iter()
            .map(|c| match c {
                Ok(write) => applied_reply(apply::apply(storage, signer, write)),
                Err(reply) => reply.clone(),
            })
            .collect(),
    };
    let results = replies
        .into_iter()
        .map(|reply| SubResult {
            code: reply.status,
            body: reply.body_value(),
        })
        .collect();
    Reply::ok(&BatchResponse { results })
}

/// A forwarded request, checked as a write this node takes from a peer.
fn checked_write(
    storage: &Storage,
    topology: &Topology,
    now_ms: u64,
    request: Option<Request>,
) -> Result<Write, Reply> {
    let not_forwardable =
        || Reply::json(400, &FailedEntry::refused(400, "not a forwardable write"));
    let request = request.ok_or_else(not_forwardable)?;
    if !rules::is_swarm_write(&request) {
        return Err(not_forwardable());
    }
    match checks::check(topology, &request, now_ms, Sender::Peer, &storage.revoked())? {
        Checked::Write(write) => Ok(write),
        _ => Err(not_forwardable()),
    }
}

fn applied_reply(applied: Result<apply::Applied, StorageError>) -> Reply {
    match applied {
        Ok(applied) => Reply::ok(&applied),
        Err(e) => {
            let (status, entry) = apply::failure(&e);
            Reply::json(status, &entry)
        }
    }
}

fn replicate_one(
    storage: &Storage,
    signer: &NodeIdentity,
    topology: &Topology,
    now_ms: u64,
    request: Option<Request>,
) -> Reply {
    match checked_write(storage, topology, now_ms, request) {
        Ok(write) => applied_reply(apply::apply(storage, signer, &write)),
        Err(reply) => reply,
    }
}

/// `/murmur/v1/messages`: a page of this node's unexpired messages (at `now_ms`) that belong
/// to `swarm_id` in `topology` — whole, as digests, or the ones asked for by id
/// ([`PageRequest`]).
pub fn serve_messages(
    storage: &Storage,
    topology: &Topology,
    now_ms: u64,
    request: &PageRequest,
) -> Result<PageReply, StorageError> {
    let limit = request.limit.clamp(1, PAGE_SIZE);
    let wanted = Some(SwarmId(request.swarm_id));
    let in_swarm = |account: &AccountId| topology.swarm_of(account) == wanted;
    if !request.ids.is_empty() {
        let ids = &request.ids[..request.ids.len().min(PAGE_SIZE)];
        let messages = storage
            .messages_by_id(ids, now_ms)?
            .iter()
            .filter(|m| in_swarm(&m.account))
            .map(WireMessage::from_stored)
            .collect();
        return Ok(PageReply {
            messages,
            digests: Vec::new(),
            next: request.after,
            done: true,
        });
    }
    if request.digests {
        let page = storage.digests_after(request.after, now_ms, limit)?;
        let next = page.last().map_or(request.after, |d| d.id);
        let done = page.len() < limit;
        let digests = page
            .into_iter()
            .filter(|d| in_swarm(&d.account))
            .map(|d| WireDigest {
                id: d.id,
                account: d.account.to_hex(),
                namespace: d.namespace.0,
                hash: d.hash,
                expiry: d.expiry,
            })
            .collect();
        return Ok(PageReply {
            messages: Vec::new(),
            digests,
            next,
            done,
        });
    }
    let page = storage.page_after(request.after, now_ms, limit)?;
    let next = page.last().map_or(request.after, |m| m.id);
    let done = page.len() < limit;
    let messages = page
        .iter()
        .filter(|m| in_swarm(&m.account))
        .map(WireMessage::from_stored)
        .collect();
    Ok(PageReply {
        messages,
        digests: Vec::new(),
        next,
        done,
    })
}

/// The peer ids, among `digests`, of messages this node should take: unexpired at `now_ms`
/// (once the expiry is clamped as a stored copy's would be), for this swarm, and not held
/// here already with that expiry or a later one. A digest naming an account badly is the
/// peer's error: the page is refused.
fn wanted_ids(
    storage: &Storage,
    topology: &Topology,
    now_ms: u64,
    digests: &[WireDigest],
) -> Result<Vec<i64>, &'static str> {
    let mut candidates = Vec::with_capacity(digests.len());
    for d in digests {
        let account = AccountId::parse(&d.account).map_err(|_| "bad peer page")?;
        let expiry = rules::clamp_expiry(d.expiry, now_ms);
        if topology.owns(&account) && expiry > now_ms {
            candidates.push((
                d.id,
                expiry,
                (account, Namespace(d.namespace), d.hash.as_str()),
            ));
        }
    }
    let keys: Vec<_> = candidates.iter().map(|c| c.2).collect();
    let held = storage.held_expiries(&keys).map_err(|_| "database error")?;
    Ok(candidates
        .iter()
        .zip(held)
        .filter(|((_, expiry, _), held)| held.is_none_or(|h| h < *expiry))
        .map(|((id, _, _), _)| *id)
        .collect())
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
    // One transaction for the page (group commit).
    let mut stored = 0;
    let refs: Vec<&StoredMessage> = decoded.iter().collect();
    for outcome in storage.store_all(&refs) {
        match outcome {
            Ok(crate::storage::StoreOutcome::Stored { .. }) => stored += 1,
            Ok(
                crate::storage::StoreOutcome::Already { .. }
                | crate::storage::StoreOutcome::Deleted,
            ) => {}
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

/// A page request for a peer's logged subaccount changes after `after` (the peer's own
/// arrival order), for the swarm `swarm_id`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ChangesRequest {
    pub swarm_id: u64,
    pub after: i64,
}

/// A page of logged subaccount changes: each the group owner's signed request as it came.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChangesReply {
    pub changes: Vec<Value>,
    pub next: i64,
    pub done: bool,
}

/// `/murmur/v1/subaccounts`: a page of this node's logged subaccount changes for accounts of
/// `request.swarm_id` in `topology`.
pub fn serve_subaccount_changes(
    storage: &Storage,
    topology: &Topology,
    request: &ChangesRequest,
) -> Result<ChangesReply, StorageError> {
    let page = storage.subaccount_changes_after(request.after, CHANGES_PAGE_SIZE)?;
    let next = page.last().map_or(request.after, |c| c.0);
    let done = page.len() < CHANGES_PAGE_SIZE;
    let wanted = Some(SwarmId(request.swarm_id));
    let changes = page
        .into_iter()
        .filter(|(_, account, _)| topology.swarm_of(account) == wanted)
        .filter_map(|(_, _, signed)| serde_json::from_str(&signed).ok())
        .collect();
    Ok(ChangesReply {
        changes,
        next,
        done,
    })
}

/// Takes a page of subaccount changes read from a peer: each must be a group owner's
/// `(un)revoke_subaccount` for this swarm that checks out ([`checks::check_logged_change`]),
/// or none of the page is taken.
pub fn accept_subaccount_changes(
    storage: &Storage,
    topology: &Topology,
    now_ms: u64,
    changes: Vec<Value>,
) -> Result<(), &'static str> {
    let mut writes = Vec::with_capacity(changes.len());
    for change in changes {
        let request = Request::from_json_value(change).map_err(|_| "bad peer page")?;
        let write = checks::check_logged_change(topology, &request, now_ms)
            .map_err(|_| "a subaccount change does not check out")?;
        writes.push(write);
    }
    for write in writes {
        if let Write::Revoke {
            account,
            tokens,
            unrevoke,
            timestamp,
            signed,
        } = write
        {
            storage
                .change_subaccounts(&account, &tokens, !unrevoke, timestamp, Some(&signed))
                .map_err(|_| "database error")?;
        }
    }
    Ok(())
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
        let read = match catch_up_from(round, &p, swarm).await {
            Ok(()) => catch_up_changes_from(round, &p, swarm).await,
            Err(why) => Err(why),
        };
        if let Err(why) = read {
            tracing::debug!(peer = %short(&p.ed25519), why, "catch-up incomplete");
            complete = false;
        }
    }
    complete
}

fn short(ed: &str) -> &str {
    &ed[..ed.len().min(12)]
}

/// Reads `p`'s pages after the cursor kept for it: digests first, then only the messages
/// missing here (at steady state every forward arrived, so a round moves digests and no
/// data). A peer of an older build that knows no digest pages (400) is read whole.
async fn catch_up_from(
    round: Round<'_>,
    p: &ManifestNode,
    swarm: SwarmId,
) -> Result<(), &'static str> {
    let mut whole_pages = false;
    loop {
        let after = round
            .storage
            .peer_cursor(&p.ed25519)
            .map_err(|_| "database error")?;
        let request = PageRequest {
            after,
            limit: if whole_pages {
                PAGE_SIZE
            } else {
                DIGEST_PAGE_SIZE
            },
            swarm_id: swarm.0,
            digests: !whole_pages,
            ids: Vec::new(),
        };
        let page = match read_page(round, p, &request).await {
            Err(400) if !whole_pages => {
                whole_pages = true;
                continue;
            }
            Err(_) => return Err("peer refused"),
            Ok(page) => page,
        };
        let mut messages = page.messages;
        if !page.digests.is_empty() {
            let now_ms = round.caller.clock.now_ms();
            let ids = wanted_ids(round.storage, round.topology, now_ms, &page.digests)?;
            if !ids.is_empty() {
                let request = PageRequest {
                    limit: PAGE_SIZE,
                    swarm_id: swarm.0,
                    ids,
                    ..PageRequest::default()
                };
                messages = read_page(round, p, &request)
                    .await
                    .map_err(|_| "peer refused")?
                    .messages;
            }
        }
        let now_ms = round.caller.clock.now_ms();
        accept(
            round.storage,
            round.topology,
            round.metrics,
            now_ms,
            messages,
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

/// Reads `p`'s logged subaccount changes after the cursor kept for it. A peer of an older
/// build keeps no log (404): there is nothing to read.
async fn catch_up_changes_from(
    round: Round<'_>,
    p: &ManifestNode,
    swarm: SwarmId,
) -> Result<(), &'static str> {
    loop {
        let after = round
            .storage
            .peer_subaccount_cursor(&p.ed25519)
            .map_err(|_| "database error")?;
        let request = ChangesRequest {
            swarm_id: swarm.0,
            after,
        };
        let body = serde_json::to_vec(&request).expect("a page request serialises");
        let (status, bytes) = round
            .caller
            .post(p, SUBACCOUNTS_PATH, body, PEER_TIMEOUT)
            .await
            .map_err(|_| "peer unreachable")?;
        match status {
            200 => {}
            404 => return Ok(()),
            _ => return Err("peer refused"),
        }
        let page: ChangesReply = serde_json::from_slice(&bytes).map_err(|_| "bad peer page")?;
        if page.changes.len() > CHANGES_PAGE_SIZE || (!page.done && page.next <= after) {
            return Err("bad peer page");
        }
        let now_ms = round.caller.clock.now_ms();
        accept_subaccount_changes(round.storage, round.topology, now_ms, page.changes)?;
        round
            .storage
            .set_peer_subaccount_cursor(&p.ed25519, page.next)
            .map_err(|_| "database error")?;
        if page.done {
            return Ok(());
        }
    }
}

/// One `/murmur/v1/messages` request to `p`; `Err` carries the status (0: no answer, or not
/// a page).
async fn read_page(
    round: Round<'_>,
    p: &ManifestNode,
    request: &PageRequest,
) -> Result<PageReply, u16> {
    let body = serde_json::to_vec(request).expect("a page request serialises");
    let (status, bytes) = round
        .caller
        .post(p, MESSAGES_PATH, body, PEER_TIMEOUT)
        .await
        .map_err(|_| 0_u16)?;
    if status != 200 {
        return Err(status);
    }
    serde_json::from_slice(&bytes).map_err(|_| 0)
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
            let handoff = Handoff {
                messages: messages.iter().map(WireMessage::from_stored).collect(),
                changes: Vec::new(),
            };
            let all_acked = hand_to_swarm(round, target, &handoff).await;
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
    all_done && hand_off_changes(round).await
}

/// Sends `handoff` to every member of `target`; whether all acknowledged it.
async fn hand_to_swarm(round: Round<'_>, target: SwarmId, handoff: &Handoff) -> bool {
    let members = round.topology.signed.manifest.members(target);
    let body = serde_json::to_vec(handoff).expect("a handoff serialises");
    let acks = join_all(members.iter().map(|p| {
        round
            .caller
            .post(p, HANDOFF_PATH, body.clone(), PEER_TIMEOUT)
    }))
    .await;
    !members.is_empty() && acks.iter().all(|r| matches!(r, Ok((200, _))))
}

/// Pushes the logged subaccount changes of accounts this node no longer owns to every member
/// of their new swarm (which checks each again), and forgets them once all have acknowledged:
/// a group's revocations move with its messages.
async fn hand_off_changes(round: Round<'_>) -> bool {
    let Round {
        storage, topology, ..
    } = round;
    let Ok(log) = storage.subaccount_changes_after(0, usize::MAX >> 1) else {
        return false;
    };
    let mut by_swarm: BTreeMap<SwarmId, (Vec<i64>, Vec<Value>)> = BTreeMap::new();
    for (id, account, signed) in log {
        if !topology.owns(&account)
            && let Some(target) = topology.swarm_of(&account)
            && let Ok(change) = serde_json::from_str(&signed)
        {
            let entry = by_swarm.entry(target).or_default();
            entry.0.push(id);
            entry.1.push(change);
        }
    }
    let mut all_done = true;
    for (target, (ids, changes)) in by_swarm {
        for (ids, changes) in ids
            .chunks(CHANGES_PAGE_SIZE)
            .zip(changes.chunks(CHANGES_PAGE_SIZE))
        {
            let handoff = Handoff {
                messages: Vec::new(),
                changes: changes.to_vec(),
            };
            let all_acked = hand_to_swarm(round, target, &handoff).await;
            if !(all_acked && storage.forget_subaccount_changes(ids).is_ok()) {
                all_done = false;
            }
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
    // Rounds after the first run at a phase of their own (from the node's key), so the
    // members of a swarm do not all read each other in the same instant.
    let phase = sync_every * u32::from(node.identity.ed25519()[0]) / 256;
    let mut first_round = true;
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
                if std::mem::take(&mut first_round) {
                    sync_tick.reset_after(sync_every + phase);
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
                changes: Vec::new(),
            })
            .unwrap();
            assert!(body.len() <= PEER_MAX_BODY, "{} bytes", body.len());
        }
        assert_eq!(total, PAGE_SIZE, "every message is in a batch");
    }
}
