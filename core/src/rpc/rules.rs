//! The rules a node applies to a storage request before it touches its store (§4.3–4.4), as
//! pure functions: the node calls them, and clients and tests can check a request the same way.
//!
//! Each failure is a [`Refusal`]: the HTTP status Session answers with and a short reason that
//! never carries user data. Nodes check in a fixed order — parameters (400), TTL (403), swarm
//! (421, the node's manifest), clock (406), signature (401) — so the same bad request always
//! gets the same answer.

use std::borrow::Cow;

use super::response::Reply;
use super::{
    AccountId, FORWARDED_SIGNATURE_TOLERANCE_MS, MAX_MESSAGE_BYTES, Request, RetrieveParams,
    SIGNATURE_TOLERANCE_MS, STORE_TOLERANCE_MS, StoreParams, TTL_MAXIMUM_PRIVATE_MS,
    TTL_MINIMUM_MS,
};
use crate::crypto;

/// Default `max_count` of a retrieve.
pub const RETRIEVE_DEFAULT_COUNT: usize = 100;
/// Most messages one retrieve may ask for.
pub const RETRIEVE_MAX_COUNT: usize = 1000;
/// Most hashes one delete/expire/get_expiries request may name.
pub const MAX_HASHES_PER_REQUEST: usize = 1000;
/// Length of a message hash: base64 (unpadded) of 32 bytes.
pub const MESSAGE_HASH_LEN: usize = 43;

/// The reason a node gives (status 507) when a store would take the account past the node's
/// per-account quota. Distinct from "storage full" (the node's own cap): the sender is told
/// the recipient's mailbox is full, and every other account keeps storing.
pub const MAILBOX_FULL: &str = "mailbox full";
/// The reason a `wait_retrieve` is refused (429) when its account holds as many waits at the
/// node as it may ([`crate::limits::WAITERS_PER_ACCOUNT`]): the client polls instead.
pub const TOO_MANY_WAITS: &str = "too many waiting retrieves for this account";
/// The reason a `wait_retrieve` is refused (503) when the node holds as many as it may.
pub const NODE_WAITS_FULL: &str = "this node holds as many waiting retrieves as it can";

/// Why a request is refused: Session's status and a short reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub reason: Cow<'static, str>,
}

impl Refusal {
    pub fn new(status: u16, reason: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            reason: reason.into(),
        }
    }

    /// 400: the request is malformed.
    pub fn bad(reason: impl Into<Cow<'static, str>>) -> Self {
        Self::new(400, reason)
    }

    /// 406: a timestamp outside the window the node accepts.
    pub fn clock() -> Self {
        Self::new(
            406,
            "Timestamp error: timestamp too far from current time; check your clock",
        )
    }

    /// 401: a signed method without a valid signature.
    pub fn unauthorized(method: &str, missing: bool) -> Self {
        let what = if missing {
            "request signature required"
        } else {
            "invalid signature"
        };
        Self::new(401, format!("{method}: {what}"))
    }

    /// 500: the node failed (the detail goes to the node's log, not the client).
    pub fn internal() -> Self {
        Self::new(500, "internal error")
    }

    /// The refusal as a plain-text reply.
    pub fn into_reply(self) -> Reply {
        Reply::text(self.status, self.reason)
    }
}

/// Who sent a request, which sets how far its signed time may be from the node's clock: a
/// client, or a swarm member passing a client's write on (a little later, so a little wider).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    Client,
    Peer,
}

impl Sender {
    /// How far a signed timestamp may be from the node's clock.
    pub fn tolerance_ms(self) -> u64 {
        match self {
            Self::Client => SIGNATURE_TOLERANCE_MS,
            Self::Peer => FORWARDED_SIGNATURE_TOLERANCE_MS,
        }
    }
}

/// An account this network stores for: 66 hex characters, prefix 05 (user) or 03 (group).
pub fn parse_account(pubkey: &str) -> Result<AccountId, Refusal> {
    let account = AccountId::parse(pubkey).map_err(|_| Refusal::bad("invalid pubkey"))?;
    match account.prefix() {
        0x05 | 0x03 => Ok(account),
        _ => Err(Refusal::bad("invalid pubkey: unsupported network prefix")),
    }
}

/// Whether `hash` has the shape of a message hash (43 base64 characters).
pub fn is_message_hash(hash: &str) -> bool {
    hash.len() == MESSAGE_HASH_LEN
        && hash
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

/// A list of 1 to [`MAX_HASHES_PER_REQUEST`] well-formed message hashes.
pub fn check_hashes(hashes: &[String]) -> Result<(), Refusal> {
    if hashes.is_empty() || hashes.len() > MAX_HASHES_PER_REQUEST {
        return Err(Refusal::bad(
            "invalid request: messages must list 1 to 1000 hashes",
        ));
    }
    if !hashes.iter().all(|h| is_message_hash(h)) {
        return Err(Refusal::bad("invalid request: malformed message hash"));
    }
    Ok(())
}

/// A signed timestamp within the window around `now_ms`.
pub fn check_window(timestamp: u64, now_ms: u64, sender: Sender) -> Result<(), Refusal> {
    if timestamp.abs_diff(now_ms) > sender.tolerance_ms() {
        return Err(Refusal::clock());
    }
    Ok(())
}

/// A store's data, decoded: base64 of at most [`MAX_MESSAGE_BYTES`] (the length is checked
/// before decoding, so an oversized body costs nothing).
pub fn store_data(p: &StoreParams) -> Result<Vec<u8>, Refusal> {
    let too_large = || Refusal::bad("message too large (76,800 bytes at most)");
    if p.data.len() > MAX_MESSAGE_BYTES.div_ceil(3) * 4 {
        return Err(too_large());
    }
    let data = crypto::b64_decode(&p.data)
        .map_err(|_| Refusal::bad("invalid request: data is not base64"))?;
    if data.len() > MAX_MESSAGE_BYTES {
        return Err(too_large());
    }
    Ok(data)
}

/// A store's expiry: `timestamp + ttl` or the given `expiry` (exactly one), with a lifetime
/// from [`TTL_MINIMUM_MS`] to the namespace's maximum (403 otherwise).
pub fn store_expiry(p: &StoreParams) -> Result<u64, Refusal> {
    let expiry = match (p.ttl, p.expiry) {
        (Some(ttl), None) => p.timestamp.checked_add(ttl),
        (None, Some(expiry)) => Some(expiry),
        _ => {
            return Err(Refusal::bad(
                "invalid request: give exactly one of ttl and expiry",
            ));
        }
    };
    expiry
        .filter(|&e| {
            e >= p.timestamp
                && (TTL_MINIMUM_MS..=p.namespace.max_ttl_ms()).contains(&(e - p.timestamp))
        })
        .ok_or_else(|| Refusal::new(403, "Provided expiry/TTL is not valid."))
}

/// A store's times against the node's clock: not written in the future (beyond
/// [`STORE_TOLERANCE_MS`]) and not already expired.
pub fn check_store_time(timestamp: u64, expiry: u64, now_ms: u64) -> Result<(), Refusal> {
    if timestamp > now_ms.saturating_add(STORE_TOLERANCE_MS)
        || expiry.saturating_add(STORE_TOLERANCE_MS) < now_ms
    {
        return Err(Refusal::new(406, "Timestamp error: check your clock"));
    }
    Ok(())
}

/// An `expire`/`expire_all` expiry that is not in the past (allowing the sender's tolerance).
pub fn check_new_expiry(
    method: &str,
    expiry: u64,
    now_ms: u64,
    sender: Sender,
) -> Result<(), Refusal> {
    if expiry.saturating_add(sender.tolerance_ms()) < now_ms {
        return Err(Refusal::new(
            401,
            format!("{method}: expiry is in the past"),
        ));
    }
    Ok(())
}

/// An expiry a node applies: never more than the longest TTL from now.
pub fn clamp_expiry(expiry: u64, now_ms: u64) -> u64 {
    expiry.min(now_ms.saturating_add(TTL_MAXIMUM_PRIVATE_MS))
}

/// A retrieve's page limits: (messages, bytes), Session's rules for `max_count`/`max_size`.
pub fn retrieve_limits(p: &RetrieveParams) -> (usize, usize) {
    let count = p
        .max_count
        .map_or(RETRIEVE_DEFAULT_COUNT, |c| c as usize)
        .clamp(1, RETRIEVE_MAX_COUNT);
    let max = super::RETRIEVE_MAX_SIZE;
    let size = match p.max_size {
        None | Some(0) => max / 5,
        Some(n) if n < 0 => max / n.unsigned_abs(),
        Some(n) => (n as u64).min(max),
    };
    (count, size as usize)
}

/// Whether a request is a write that swarm members pass on to each other.
pub fn is_swarm_write(request: &Request) -> bool {
    matches!(
        request,
        Request::Store(_)
            | Request::Delete(_)
            | Request::DeleteAll(_)
            | Request::DeleteBefore(_)
            | Request::Expire(_)
            | Request::ExpireAll(_)
            | Request::Revoke { .. }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::Namespace;

    #[test]
    fn max_size_follows_session() {
        let mut p = RetrieveParams::new(&AccountId([5; 33]), Namespace(0), String::new(), 0);
        assert_eq!(retrieve_limits(&p), (100, 1_560_000));
        p.max_size = Some(-2);
        assert_eq!(retrieve_limits(&p).1, 3_900_000);
        p.max_size = Some(10);
        p.max_count = Some(5000);
        assert_eq!(retrieve_limits(&p), (1000, 10));
    }

    #[test]
    fn store_expiry_is_one_of_ttl_and_expiry_within_the_window() {
        let account = AccountId([5; 33]);
        let mut p = StoreParams::new(&account, Namespace(0), b"x", 1_000_000, 60_000);
        assert_eq!(store_expiry(&p), Ok(1_060_000));
        p.ttl = Some(1);
        assert_eq!(store_expiry(&p).unwrap_err().status, 403);
        p.ttl = Some(u64::MAX);
        assert_eq!(store_expiry(&p).unwrap_err().status, 403, "no overflow");
        p.expiry = Some(2_000_000);
        assert_eq!(store_expiry(&p).unwrap_err().status, 400, "both given");
        p.ttl = None;
        assert_eq!(store_expiry(&p), Ok(2_000_000));
    }

    #[test]
    fn windows_and_hashes() {
        assert!(check_window(0, 60_000, Sender::Client).is_ok());
        assert_eq!(
            check_window(0, 60_001, Sender::Client).unwrap_err().status,
            406
        );
        assert!(check_window(0, 60_001, Sender::Peer).is_ok());
        assert!(
            check_store_time(0, u64::MAX, u64::MAX).is_ok(),
            "no overflow"
        );
        assert!(check_new_expiry("expire", u64::MAX, 5, Sender::Client).is_ok());
        let good = "a".repeat(43);
        assert!(check_hashes(std::slice::from_ref(&good)).is_ok());
        assert!(check_hashes(&[]).is_err());
        assert!(check_hashes(&["a".repeat(42)]).is_err());
        assert!(check_hashes(&[format!("{}=", "a".repeat(42))]).is_err());
        assert_eq!(parse_account(&"00".repeat(33)).unwrap_err().status, 400);
        assert!(parse_account(&format!("03{}", "00".repeat(32))).is_ok());
    }
}
