//! Executing storage RPCs (SESSION-PROTOCOL.md §4) against this node's store.
//!
//! Checks come in a fixed order, so the same bad request always gets the same answer and is
//! refused before anything is written: parameters (400), TTL (403), swarm (421), clock (406),
//! signature (401). Writes accepted from a client are applied here and forwarded to every other
//! swarm member; each member signs its own result, and the client sees them all under `swarm`.

use std::borrow::Cow;

use murmur_core::crypto;
use murmur_core::rpc::response::node_sig;
use murmur_core::rpc::{self, AccountId, Auth, Request, RetrieveParams, StoreParams, auth};
use serde_json::{Value, json};

use crate::replication;
use crate::state::Node;
use crate::storage::{ExpireMode, StorageError, StoreOutcome, StoredMessage};

/// The hardfork pair Session clients expect in `hf`.
pub const HARDFORK: [u32; 2] = [19, 3];
/// Default `max_count` of a retrieve, and the most one may ask for.
pub const RETRIEVE_DEFAULT_COUNT: usize = 100;
pub const RETRIEVE_MAX_COUNT: usize = 1000;
/// Most hashes one delete/expire/get_expiries request may name.
pub const MAX_HASHES_PER_REQUEST: usize = 1000;

/// Who sent the request: a client, or a swarm peer forwarding a client's write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Client,
    Peer,
}

/// An RPC answer: an HTTP status and a JSON or plain-text body.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcReply {
    pub status: u16,
    pub body: Value,
}

impl RpcReply {
    fn ok(body: Value) -> Self {
        Self { status: 200, body }
    }

    /// The body as it goes on the wire: JSON, or the bare text of an error.
    pub fn body_text(&self) -> String {
        match &self.body {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

/// A refusal: status plus a short reason for the client (never user data).
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    pub status: u16,
    pub message: Cow<'static, str>,
    /// A JSON body instead of the message (a 421 carries the right swarm).
    pub body: Option<Value>,
}

impl RpcError {
    fn new(status: u16, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            message: message.into(),
            body: None,
        }
    }

    fn bad(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(400, message)
    }

    fn into_reply(self) -> RpcReply {
        RpcReply {
            status: self.status,
            body: self
                .body
                .unwrap_or(Value::String(self.message.into_owned())),
        }
    }
}

type Result<T> = std::result::Result<T, RpcError>;

fn core_error(e: murmur_core::Error) -> RpcError {
    RpcError::bad(format!("invalid request: {e}"))
}

/// Parses and runs one request body (`{"method", "params"}`), batches included.
pub async fn handle(node: &Node, body: &[u8], origin: Origin) -> RpcReply {
    let request = match Request::from_json(body) {
        Ok(r) => r,
        Err(e) => return core_error(e).into_reply(),
    };
    match request {
        Request::Batch(subs) => batch(node, subs, false, origin).await,
        Request::Sequence(subs) => batch(node, subs, true, origin).await,
        single => execute(node, single, origin).await,
    }
}

async fn batch(node: &Node, subs: Vec<Request>, stop_on_error: bool, origin: Origin) -> RpcReply {
    let mut results = Vec::with_capacity(subs.len());
    for sub in subs {
        let reply = execute(node, sub, origin).await;
        let failed = !(200..300).contains(&reply.status);
        results.push(json!({ "code": reply.status, "body": reply.body }));
        if failed && stop_on_error {
            break;
        }
    }
    RpcReply::ok(json!({ "results": results }))
}

/// Runs one (non-batch) request.
pub async fn execute(node: &Node, request: Request, origin: Origin) -> RpcReply {
    match execute_inner(node, request, origin).await {
        Ok(reply) => reply,
        Err(e) => e.into_reply(),
    }
}

fn parse_account(pubkey: &str) -> Result<AccountId> {
    let account = AccountId::parse(pubkey).map_err(|_| RpcError::bad("invalid pubkey"))?;
    match account.prefix() {
        0x05 | 0x03 => Ok(account),
        _ => Err(RpcError::bad("invalid pubkey: unsupported network prefix")),
    }
}

fn check_hashes(hashes: &[String]) -> Result<()> {
    if hashes.is_empty() || hashes.len() > MAX_HASHES_PER_REQUEST {
        return Err(RpcError::bad(
            "invalid request: messages must list 1 to 1000 hashes",
        ));
    }
    let well_formed = |h: &String| {
        h.len() == 43
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
    };
    if !hashes.iter().all(well_formed) {
        return Err(RpcError::bad("invalid request: malformed message hash"));
    }
    Ok(())
}

fn tolerance(origin: Origin) -> u64 {
    match origin {
        Origin::Client => rpc::SIGNATURE_TOLERANCE_MS,
        Origin::Peer => rpc::FORWARDED_SIGNATURE_TOLERANCE_MS,
    }
}

fn check_window(timestamp: u64, now_ms: u64, origin: Origin) -> Result<()> {
    if timestamp.abs_diff(now_ms) > tolerance(origin) {
        return Err(RpcError::new(
            406,
            "Timestamp error: timestamp too far from current time; check your clock",
        ));
    }
    Ok(())
}

fn check_swarm(node: &Node, account: &AccountId, now_ms: u64) -> Result<()> {
    let topology = node.network.current();
    if topology.owns(account) {
        return Ok(());
    }
    let swarm = topology.swarm_response(account, now_ms);
    Err(RpcError {
        status: 421,
        message: "wrong swarm".into(),
        body: Some(serde_json::to_value(swarm).expect("a swarm response serialises")),
    })
}

fn authenticate(account: &AccountId, auth: &Auth, request: &Request) -> Result<()> {
    let message = request
        .signed_message()
        .expect("only signed methods are authenticated");
    auth::verify(account, auth, &message).map_err(|e| match e {
        murmur_core::Error::Malformed(_) => RpcError::new(
            401,
            format!("{}: request signature required", request.method()),
        ),
        _ => RpcError::new(401, format!("{}: invalid signature", request.method())),
    })
}

fn node_signature(node: &Node, message: &[u8]) -> String {
    crypto::b64_encode(&node.identity.sign(message))
}

fn failed_entry(status: u16, reason: &str) -> Value {
    json!({ "failed": true, "code": status, "reason": reason })
}

/// Validates a store and builds the message to keep.
fn prepare_store(
    node: &Node,
    p: &StoreParams,
    request: &Request,
    now_ms: u64,
    origin: Origin,
) -> Result<StoredMessage> {
    let account = parse_account(&p.pubkey)?;
    // 76,800 bytes is 102,400 base64 characters; refuse longer text before decoding it.
    if p.data.len() > rpc::MAX_MESSAGE_BYTES.div_ceil(3) * 4 {
        return Err(RpcError::bad("message too large (76,800 bytes at most)"));
    }
    let data = crypto::b64_decode(&p.data)
        .map_err(|_| RpcError::bad("invalid request: data is not base64"))?;
    if data.len() > rpc::MAX_MESSAGE_BYTES {
        return Err(RpcError::bad("message too large (76,800 bytes at most)"));
    }
    let expiry = match (p.ttl, p.expiry) {
        (Some(ttl), None) => p.timestamp.checked_add(ttl),
        (None, Some(expiry)) => Some(expiry),
        _ => {
            return Err(RpcError::bad(
                "invalid request: give exactly one of ttl and expiry",
            ));
        }
    };
    let ttl_ok = expiry.is_some_and(|e| {
        e >= p.timestamp
            && (rpc::TTL_MINIMUM_MS..=p.namespace.max_ttl_ms()).contains(&(e - p.timestamp))
    });
    let Some(expiry) = expiry.filter(|_| ttl_ok) else {
        return Err(RpcError::new(403, "Provided expiry/TTL is not valid."));
    };
    check_swarm(node, &account, now_ms)?;
    if p.timestamp > now_ms + rpc::STORE_TOLERANCE_MS
        || expiry.saturating_add(rpc::STORE_TOLERANCE_MS) < now_ms
    {
        return Err(RpcError::new(406, "Timestamp error: check your clock"));
    }
    if p.namespace.store_needs_auth() {
        check_window(p.sig_timestamp(), now_ms, origin)?;
        authenticate(&account, &p.auth, request)?;
    }
    Ok(StoredMessage {
        id: 0,
        hash: rpc::message_hash(&account, p.namespace, &data),
        account,
        namespace: p.namespace,
        timestamp: p.timestamp,
        expiry,
        data,
    })
}

/// Runs a write (other than store) on this node, giving its own signed per-node result.
fn write_entry(
    node: &Node,
    request: &Request,
    account: &AccountId,
    now_ms: u64,
) -> std::result::Result<Value, StorageError> {
    let account_hex = account.to_hex();
    Ok(match request {
        Request::Delete(p) => {
            let deleted = node.storage.delete(account, &p.messages)?;
            let sig = node_signature(node, &node_sig::delete(&account_hex, &p.messages, &deleted));
            json!({ "deleted": deleted, "signature": sig })
        }
        Request::DeleteAll(p) => {
            let deleted = node.storage.delete_all(account, p.namespace)?;
            let sig = node_signature(
                node,
                &node_sig::delete_all(&account_hex, p.timestamp, &deleted),
            );
            json!({ "deleted": deleted, "signature": sig })
        }
        Request::DeleteBefore(p) => {
            let deleted = node.storage.delete_before(account, p.namespace, p.before)?;
            let sig = node_signature(
                node,
                &node_sig::delete_before(&account_hex, p.before, &deleted),
            );
            json!({ "deleted": deleted, "signature": sig })
        }
        Request::Expire(p) => {
            let expiry = clamp_expiry(p.expiry, now_ms);
            let mode = if p.shorten {
                ExpireMode::Shorten
            } else if p.extend {
                ExpireMode::Extend
            } else {
                ExpireMode::Set
            };
            let (updated, unchanged) =
                node.storage
                    .expire(account, &p.messages, expiry, mode, now_ms)?;
            let sig = node_signature(
                node,
                &node_sig::expire(&account_hex, expiry, &p.messages, &updated, &unchanged),
            );
            let mut entry = json!({ "updated": updated, "expiry": expiry, "signature": sig });
            if mode != ExpireMode::Set {
                entry["unchanged"] = json!(unchanged);
            }
            entry
        }
        Request::ExpireAll(p) => {
            let expiry = clamp_expiry(p.expiry, now_ms);
            let updated = node.storage.expire_all(account, p.namespace, expiry)?;
            let sig = node_signature(node, &node_sig::expire_all(&account_hex, expiry, &updated));
            json!({ "updated": updated, "signature": sig })
        }
        _ => unreachable!("write_entry is only called for write methods"),
    })
}

/// This node's entry in a write's `swarm` map: its signed result, or a failure entry.
fn node_entry(result: std::result::Result<Value, StorageError>) -> (u16, Value) {
    match result {
        Ok(entry) => (200, entry),
        Err(StorageError::Full) => (507, failed_entry(507, "storage full")),
        Err(StorageError::DiskFull) => {
            tracing::error!("disk full: refusing writes until space is freed");
            (507, failed_entry(507, "disk full"))
        }
        Err(StorageError::Db(e)) => {
            tracing::error!(error = %e, "database error");
            (500, failed_entry(500, "internal error"))
        }
    }
}

fn clamp_expiry(expiry: u64, now_ms: u64) -> u64 {
    expiry.min(now_ms + rpc::TTL_MAXIMUM_PRIVATE_MS)
}

fn store_entry(node: &Node, msg: &StoredMessage) -> std::result::Result<Value, StorageError> {
    let (expiry, already) = match node.storage.store(msg, msg.namespace.is_public_outbox())? {
        StoreOutcome::Stored { expiry } => (expiry, false),
        StoreOutcome::Already { expiry } => (expiry, true),
    };
    let mut entry = json!({
        "hash": msg.hash,
        "signature": node_signature(node, msg.hash.as_bytes()),
        "expiry": expiry,
    });
    if already {
        entry["already"] = json!(true);
    }
    Ok(entry)
}

/// A write done here: a peer gets this node's entry alone; a client gets every member's,
/// after the write is forwarded to the rest of the swarm.
async fn finish_write(
    node: &Node,
    request: &Request,
    origin: Origin,
    local: (u16, Value),
    now_ms: u64,
    mut extra: serde_json::Map<String, Value>,
) -> RpcReply {
    if origin == Origin::Peer {
        return RpcReply {
            status: local.0,
            body: local.1,
        };
    }
    let mut swarm = replication::forward(node, &request.to_json()).await;
    let local_status = local.0;
    swarm.insert(node.identity.ed25519_hex(), local.1);
    let all_failed = swarm
        .values()
        .all(|v| v.get("failed").and_then(Value::as_bool) == Some(true));
    let status = match (all_failed, local_status) {
        (true, 507) => 507,
        (true, _) => 500,
        (false, _) => 200,
    };
    if let Request::Delete(p) = request {
        let nothing = swarm.values().all(|v| {
            v.get("deleted")
                .and_then(Value::as_array)
                .is_none_or(Vec::is_empty)
        });
        if p.required && nothing && !all_failed {
            return RpcError::new(404, "delete: no such message").into_reply();
        }
    }
    extra.insert("swarm".into(), json!(swarm));
    extra.insert("t".into(), json!(now_ms));
    extra.insert("hf".into(), json!(HARDFORK));
    RpcReply {
        status,
        body: Value::Object(extra),
    }
}

/// The tail every write but `store` shares: check the signature, apply here, forward.
async fn authenticated_write(
    node: &Node,
    request: &Request,
    origin: Origin,
    account: &AccountId,
    auth: &Auth,
    now_ms: u64,
) -> Result<RpcReply> {
    authenticate(account, auth, request)?;
    let local = node_entry(write_entry(node, request, account, now_ms));
    Ok(finish_write(node, request, origin, local, now_ms, Default::default()).await)
}

fn retrieve_limits(p: &RetrieveParams) -> (usize, usize) {
    let count = p
        .max_count
        .map_or(RETRIEVE_DEFAULT_COUNT, |c| c as usize)
        .clamp(1, RETRIEVE_MAX_COUNT);
    let max = rpc::RETRIEVE_MAX_SIZE;
    let size = match p.max_size {
        None | Some(0) => max / 5,
        Some(n) if n < 0 => max / n.unsigned_abs(),
        Some(n) => (n as u64).min(max),
    };
    (count, size as usize)
}

async fn execute_inner(node: &Node, request: Request, origin: Origin) -> Result<RpcReply> {
    let now_ms = node.clock.now_ms();
    match &request {
        Request::Store(p) => {
            let msg = prepare_store(node, p, &request, now_ms, origin)?;
            let local = node_entry(store_entry(node, &msg));
            let mut extra = serde_json::Map::new();
            extra.insert("hash".into(), json!(msg.hash));
            Ok(finish_write(node, &request, origin, local, now_ms, extra).await)
        }
        Request::Retrieve(p) => {
            let account = parse_account(&p.pubkey)?;
            check_swarm(node, &account, now_ms)?;
            if p.namespace.retrieve_needs_auth() {
                if p.auth.signature.is_none() {
                    return Err(RpcError::new(401, "retrieve: request signature required"));
                }
                check_window(p.timestamp, now_ms, origin)?;
                authenticate(&account, &p.auth, &request)?;
            }
            let (max_count, max_size) = retrieve_limits(p);
            let (messages, more) = node
                .storage
                .retrieve(
                    &account,
                    p.namespace,
                    &p.last_hash,
                    now_ms,
                    max_count,
                    max_size,
                )
                .map_err(internal)?;
            let messages: Vec<Value> = messages
                .into_iter()
                .map(|m| {
                    json!({
                        "hash": m.hash,
                        "timestamp": m.timestamp,
                        "expiration": m.expiry,
                        "data": crypto::b64_encode(&m.data),
                    })
                })
                .collect();
            Ok(RpcReply::ok(json!({
                "messages": messages, "more": more, "t": now_ms, "hf": HARDFORK,
            })))
        }
        Request::Delete(p) => {
            let account = parse_account(&p.pubkey)?;
            check_hashes(&p.messages)?;
            check_swarm(node, &account, now_ms)?;
            authenticated_write(node, &request, origin, &account, &p.auth, now_ms).await
        }
        Request::DeleteAll(p) => {
            let account = parse_account(&p.pubkey)?;
            check_swarm(node, &account, now_ms)?;
            check_window(p.timestamp, now_ms, origin)?;
            authenticated_write(node, &request, origin, &account, &p.auth, now_ms).await
        }
        Request::DeleteBefore(p) => {
            let account = parse_account(&p.pubkey)?;
            check_swarm(node, &account, now_ms)?;
            authenticated_write(node, &request, origin, &account, &p.auth, now_ms).await
        }
        Request::Expire(p) => {
            let account = parse_account(&p.pubkey)?;
            check_hashes(&p.messages)?;
            if p.shorten && p.extend {
                return Err(RpcError::bad(
                    "invalid request: shorten and extend are exclusive",
                ));
            }
            check_swarm(node, &account, now_ms)?;
            if p.expiry + tolerance(origin) < now_ms {
                return Err(RpcError::new(401, "expire: expiry is in the past"));
            }
            authenticated_write(node, &request, origin, &account, &p.auth, now_ms).await
        }
        Request::ExpireAll(p) => {
            let account = parse_account(&p.pubkey)?;
            check_swarm(node, &account, now_ms)?;
            if p.expiry + tolerance(origin) < now_ms {
                return Err(RpcError::new(401, "expire_all: expiry is in the past"));
            }
            authenticated_write(node, &request, origin, &account, &p.auth, now_ms).await
        }
        Request::GetExpiries(p) => {
            let account = parse_account(&p.pubkey)?;
            check_hashes(&p.messages)?;
            check_swarm(node, &account, now_ms)?;
            check_window(p.timestamp, now_ms, origin)?;
            authenticate(&account, &p.auth, &request)?;
            let expiries = node
                .storage
                .get_expiries(&account, &p.messages, now_ms)
                .map_err(internal)?;
            Ok(RpcReply::ok(
                json!({ "expiries": expiries, "t": now_ms, "hf": HARDFORK }),
            ))
        }
        Request::GetSwarm(p) => {
            let account = parse_account(&p.pubkey)?;
            let swarm = node.network.current().swarm_response(&account, now_ms);
            Ok(RpcReply::ok(
                serde_json::to_value(swarm).expect("a swarm response serialises"),
            ))
        }
        Request::Info => Ok(RpcReply::ok(json!({
            "version": version(),
            "timestamp": now_ms,
            "t": now_ms,
            "hf": HARDFORK,
        }))),
        Request::Batch(_) | Request::Sequence(_) => {
            Err(RpcError::bad("invalid request: batches cannot nest"))
        }
    }
}

fn internal(e: StorageError) -> RpcError {
    tracing::error!(error = %e, "database error");
    RpcError::new(500, "internal error")
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

/// Whether a request is a write that swarm members forward to each other (the peer endpoint
/// accepts nothing else).
pub fn is_forwarded_write(request: &Request) -> bool {
    matches!(
        request,
        Request::Store(_)
            | Request::Delete(_)
            | Request::DeleteAll(_)
            | Request::DeleteBefore(_)
            | Request::Expire(_)
            | Request::ExpireAll(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_size_follows_session() {
        let mut p: RetrieveParams = serde_json::from_value(json!({"pubkey": "05"})).unwrap();
        assert_eq!(retrieve_limits(&p), (100, 1_560_000));
        p.max_size = Some(-2);
        assert_eq!(retrieve_limits(&p).1, 3_900_000);
        p.max_size = Some(10);
        p.max_count = Some(5000);
        assert_eq!(retrieve_limits(&p), (1000, 10));
    }

    #[test]
    fn version_is_three_numbers() {
        assert_eq!(version().len(), 3);
    }
}
