//! Storage RPC (SESSION-PROTOCOL.md §4): namespaces, limits, message hashes, the exact strings
//! that requests sign, and typed requests and responses for every method.
//!
//! Requests arrive as JSON `{"method": …, "params": {…}}`, directly at `/storage_rpc/v1` or as the
//! final layer of an onion request. [`Request::from_json`] turns one into a typed request; the
//! node checks auth with [`auth::verify`] over the string from [`Request::signed_message`].

pub mod auth;
mod params;
pub mod response;
pub mod rules;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::crypto;
use crate::error::{Error, Result};
pub use params::*;

/// Shortest TTL a store accepts.
pub const TTL_MINIMUM_MS: u64 = 10_000;
/// Longest TTL in a public-inbox namespace (DMs): 14 days, Murmur's default.
pub const TTL_MAXIMUM_MS: u64 = 14 * 24 * 3600 * 1000;
/// Longest TTL in other namespaces: 30 days.
pub const TTL_MAXIMUM_PRIVATE_MS: u64 = 30 * 24 * 3600 * 1000;
/// Largest stored message, in bytes (before base64).
pub const MAX_MESSAGE_BYTES: usize = 76_800;
/// How far a signed request's timestamp may be from the node's clock.
pub const SIGNATURE_TOLERANCE_MS: u64 = 60_000;
/// The same, for requests forwarded by a swarm peer.
pub const FORWARDED_SIGNATURE_TOLERANCE_MS: u64 = 70_000;
/// How far in the future a store's timestamp may be.
pub const STORE_TOLERANCE_MS: u64 = 10_000;
/// Most subrequests in one batch or sequence.
pub const BATCH_REQUEST_MAX: usize = 20;
/// `max_size` of −n means this divided by n.
pub const RETRIEVE_MAX_SIZE: u64 = 7_800_000;

/// A storage namespace (int16).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Namespace(pub i16);

impl Namespace {
    /// The DM inbox.
    pub const DEFAULT: Self = Self(0);

    /// Anyone may store without auth (`ns % 10 == 0`).
    pub fn is_public_inbox(self) -> bool {
        self.0 % 10 == 0
    }

    /// Holds one message, readable by anyone (`ns < 0 && −ns % 20 == 1`).
    pub fn is_public_outbox(self) -> bool {
        self.0 < 0 && (-i32::from(self.0)) % 20 == 1
    }

    /// Revoked subaccounts may still retrieve here (`ns < 0 && −ns % 100 == 11`: −11, …).
    pub fn is_unrevocable(self) -> bool {
        self.0 < 0 && (-i32::from(self.0)) % 100 == 11
    }

    /// Whether `retrieve` needs a signature here.
    pub fn retrieve_needs_auth(self) -> bool {
        !(self.0 == -10 || self.is_public_outbox())
    }

    /// Whether `store` needs a signature here.
    pub fn store_needs_auth(self) -> bool {
        !self.is_public_inbox()
    }

    /// Longest TTL allowed here.
    pub fn max_ttl_ms(self) -> u64 {
        if self.is_public_inbox() {
            TTL_MAXIMUM_MS
        } else {
            TTL_MAXIMUM_PRIVATE_MS
        }
    }

    /// The namespace as it appears in signed strings and hashes: empty for 0, else decimal.
    pub fn sig_part(self) -> String {
        if self.0 == 0 {
            String::new()
        } else {
            self.0.to_string()
        }
    }
}

/// An account on the network: a prefix byte (05 user, 03 group, …) and 32 key bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(pub [u8; 33]);

impl AccountId {
    /// Parses 66 hex characters.
    pub fn parse(text: &str) -> Result<Self> {
        let mut id = [0u8; 33];
        if text.len() != 66 {
            return Err(Error::Malformed("pubkey must be 66 hex characters"));
        }
        hex::decode_to_slice(text, &mut id).map_err(|_| Error::Malformed("pubkey must be hex"))?;
        Ok(Self(id))
    }

    /// The prefix (network id) byte.
    pub fn prefix(&self) -> u8 {
        self.0[0]
    }

    /// The 32 key bytes after the prefix.
    pub fn key(&self) -> [u8; 32] {
        let mut k = [0u8; 32];
        k.copy_from_slice(&self.0[1..]);
        k
    }

    /// 66 lowercase hex characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl core::fmt::Debug for AccountId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("AccountId(<redacted>)")
    }
}

impl From<crate::SessionId> for AccountId {
    fn from(id: crate::SessionId) -> Self {
        Self(*id.as_bytes())
    }
}

/// A message hash: base64 (no padding) of BLAKE2b-32(prefix || key || NS || data) (§4.4).
pub fn message_hash(account: &AccountId, namespace: Namespace, data: &[u8]) -> String {
    let ns = namespace.sig_part();
    crypto::b64_encode_unpadded(&crypto::blake2b_32(&[&account.0, ns.as_bytes(), data]))
}

/// A storage RPC request, typed.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Store(StoreParams),
    Retrieve(RetrieveParams),
    Delete(DeleteParams),
    DeleteAll(DeleteAllParams),
    DeleteBefore(DeleteBeforeParams),
    Expire(ExpireParams),
    ExpireAll(ExpireAllParams),
    GetExpiries(GetExpiriesParams),
    GetSwarm(GetSwarmParams),
    Info,
    Batch(Vec<Request>),
    Sequence(Vec<Request>),
    /// Murmur's extension: retrieves held until a message arrives (live delivery).
    WaitRetrieve(WaitRetrieveParams),
    /// The group owner shuts member tokens out (`unrevoke: true`: lets them back in).
    Revoke {
        params: RevokeParams,
        unrevoke: bool,
    },
}

#[derive(Deserialize)]
struct Envelope {
    method: String,
    #[serde(default)]
    params: Value,
}

/// Parameter names each method accepts (Session's aliases included). Anything else is refused,
/// so a typo or a field this node does not understand is an error rather than silently ignored.
fn allowed_params(method: &str) -> &'static [&'static str] {
    const SUB: [&str; 2] = ["subaccount", "subaccount_sig"];
    match method {
        "store" => &[
            "pubkey",
            "pubKey",
            "namespace",
            "timestamp",
            "ttl",
            "expiry",
            "data",
            "sig_timestamp",
            "signature",
            "pubkey_ed25519",
            SUB[0],
            SUB[1],
        ],
        "retrieve" => &[
            "pubkey",
            "pubKey",
            "namespace",
            "last_hash",
            "lastHash",
            "max_count",
            "max_size",
            "timestamp",
            "signature",
            "pubkey_ed25519",
            SUB[0],
            SUB[1],
        ],
        "delete" => &[
            "pubkey",
            "pubKey",
            "messages",
            "required",
            "signature",
            "pubkey_ed25519",
            SUB[0],
            SUB[1],
        ],
        "delete_all" => &[
            "pubkey",
            "pubKey",
            "namespace",
            "timestamp",
            "signature",
            "pubkey_ed25519",
            SUB[0],
            SUB[1],
        ],
        "delete_before" => &[
            "pubkey",
            "pubKey",
            "namespace",
            "before",
            "signature",
            "pubkey_ed25519",
            SUB[0],
            SUB[1],
        ],
        "expire" => &[
            "pubkey",
            "pubKey",
            "messages",
            "expiry",
            "shorten",
            "extend",
            "signature",
            "pubkey_ed25519",
            SUB[0],
            SUB[1],
        ],
        "expire_all" => &[
            "pubkey",
            "pubKey",
            "namespace",
            "expiry",
            "signature",
            "pubkey_ed25519",
            SUB[0],
            SUB[1],
        ],
        "get_expiries" => &[
            "pubkey",
            "pubKey",
            "messages",
            "timestamp",
            "signature",
            "pubkey_ed25519",
            SUB[0],
            SUB[1],
        ],
        "revoke_subaccount" => &["pubkey", "pubKey", "revoke", "timestamp", "signature"],
        "unrevoke_subaccount" => &["pubkey", "pubKey", "unrevoke", "timestamp", "signature"],
        "get_swarm" | "get_snodes_for_pubkey" => &["pubkey", "pubKey"],
        "batch" | "sequence" => &["requests"],
        "wait_retrieve" => &["requests", "wait_ms"],
        // `info` takes none; an unknown method is refused as such by the caller.
        _ => &[],
    }
}

fn check_param_names(method: &str, params: &Value) -> Result<()> {
    match params {
        Value::Null => Ok(()),
        Value::Object(map) => {
            let allowed = allowed_params(method);
            let unknown_method = allowed.is_empty() && method != "info";
            if unknown_method || map.keys().all(|k| allowed.contains(&k.as_str())) {
                Ok(())
            } else {
                Err(Error::Malformed("unknown parameter"))
            }
        }
        _ => Err(Error::Malformed("params must be an object")),
    }
}

fn params<T: serde::de::DeserializeOwned>(value: Value) -> Result<T> {
    serde_json::from_value(value).map_err(|_| Error::Malformed("invalid request parameters"))
}

impl Request {
    /// The method name on the wire.
    pub fn method(&self) -> &'static str {
        match self {
            Self::Store(_) => "store",
            Self::Retrieve(_) => "retrieve",
            Self::Delete(_) => "delete",
            Self::DeleteAll(_) => "delete_all",
            Self::DeleteBefore(_) => "delete_before",
            Self::Expire(_) => "expire",
            Self::ExpireAll(_) => "expire_all",
            Self::GetExpiries(_) => "get_expiries",
            Self::GetSwarm(_) => "get_swarm",
            Self::Info => "info",
            Self::Batch(_) => "batch",
            Self::Sequence(_) => "sequence",
            Self::WaitRetrieve(_) => "wait_retrieve",
            Self::Revoke {
                unrevoke: false, ..
            } => "revoke_subaccount",
            Self::Revoke { unrevoke: true, .. } => "unrevoke_subaccount",
        }
    }

    /// Parses `{"method": …, "params": {…}}`.
    pub fn from_json(data: &[u8]) -> Result<Self> {
        let value: Value =
            serde_json::from_slice(data).map_err(|_| Error::Malformed("request is not JSON"))?;
        Self::from_value(value, true)
    }

    /// [`Request::from_json`] of JSON already parsed (a request inside a peer's batch).
    pub fn from_json_value(value: Value) -> Result<Self> {
        Self::from_value(value, true)
    }

    fn from_value(value: Value, allow_batch: bool) -> Result<Self> {
        let Envelope { method, params: p } = serde_json::from_value(value)
            .map_err(|_| Error::Malformed("request needs a method"))?;
        check_param_names(&method, &p)?;
        Ok(match method.as_str() {
            "store" => Self::Store(params(p)?),
            "retrieve" => Self::Retrieve(params(p)?),
            "delete" => Self::Delete(params(p)?),
            "delete_all" => Self::DeleteAll(params(p)?),
            "delete_before" => Self::DeleteBefore(params(p)?),
            "expire" => Self::Expire(params(p)?),
            "expire_all" => Self::ExpireAll(params(p)?),
            "get_expiries" => Self::GetExpiries(params(p)?),
            "get_swarm" | "get_snodes_for_pubkey" => Self::GetSwarm(params(p)?),
            "revoke_subaccount" | "unrevoke_subaccount" => Self::Revoke {
                params: params(p)?,
                unrevoke: method == "unrevoke_subaccount",
            },
            "info" => Self::Info,
            "batch" | "sequence" if allow_batch => {
                let BatchParams { requests } = params(p)?;
                if requests.is_empty() || requests.len() > BATCH_REQUEST_MAX {
                    return Err(Error::LimitExceeded("a batch holds 1 to 20 requests"));
                }
                let subs = requests
                    .into_iter()
                    .map(|r| Self::from_value(r, false))
                    .collect::<Result<Vec<_>>>()?;
                if method == "batch" {
                    Self::Batch(subs)
                } else {
                    Self::Sequence(subs)
                }
            }
            "batch" | "sequence" => return Err(Error::Malformed("batches cannot nest")),
            "wait_retrieve" if allow_batch => {
                let WaitEnvelope { requests, wait_ms } = params(p)?;
                if requests.is_empty() || requests.len() > BATCH_REQUEST_MAX {
                    return Err(Error::LimitExceeded("a wait holds 1 to 20 retrieves"));
                }
                let requests = requests
                    .into_iter()
                    .map(|r| match Self::from_value(r, false)? {
                        Self::Retrieve(p) => Ok(p),
                        _ => Err(Error::Malformed("a wait holds only retrieves")),
                    })
                    .collect::<Result<Vec<_>>>()?;
                Self::WaitRetrieve(WaitRetrieveParams { requests, wait_ms })
            }
            "wait_retrieve" => return Err(Error::Malformed("a wait cannot be in a batch")),
            _ => return Err(Error::Malformed("unknown method")),
        })
    }

    /// The request as `{"method", "params"}` JSON.
    pub fn to_json(&self) -> Value {
        let p = match self {
            Self::Store(p) => serde_json::to_value(p),
            Self::Retrieve(p) => serde_json::to_value(p),
            Self::Delete(p) => serde_json::to_value(p),
            Self::DeleteAll(p) => serde_json::to_value(p),
            Self::DeleteBefore(p) => serde_json::to_value(p),
            Self::Expire(p) => serde_json::to_value(p),
            Self::ExpireAll(p) => serde_json::to_value(p),
            Self::GetExpiries(p) => serde_json::to_value(p),
            Self::GetSwarm(p) => serde_json::to_value(p),
            Self::Info => Ok(json!({})),
            Self::Batch(r) | Self::Sequence(r) => {
                Ok(json!({ "requests": r.iter().map(Request::to_json).collect::<Vec<_>>() }))
            }
            Self::WaitRetrieve(w) => Ok(json!({
                "requests": w
                    .requests
                    .iter()
                    .map(|p| Self::Retrieve(p.clone()).to_json())
                    .collect::<Vec<_>>(),
                "wait_ms": w.wait_ms,
            })),
            Self::Revoke { params, unrevoke } => {
                let name = if *unrevoke { "unrevoke" } else { "revoke" };
                Ok(json!({
                    "pubkey": params.pubkey,
                    name: params.tokens,
                    "timestamp": params.timestamp,
                    "signature": params.auth.signature,
                }))
            }
        }
        .expect("request parameters always serialise");
        json!({ "method": self.method(), "params": p })
    }

    /// The auth fields of a method that carries them (`None` for get_swarm, info, batches).
    pub fn auth_mut(&mut self) -> Option<&mut Auth> {
        match self {
            Self::Store(p) => Some(&mut p.auth),
            Self::Retrieve(p) => Some(&mut p.auth),
            Self::Delete(p) => Some(&mut p.auth),
            Self::DeleteAll(p) => Some(&mut p.auth),
            Self::DeleteBefore(p) => Some(&mut p.auth),
            Self::Expire(p) => Some(&mut p.auth),
            Self::ExpireAll(p) => Some(&mut p.auth),
            Self::GetExpiries(p) => Some(&mut p.auth),
            Self::Revoke { params, .. } => Some(&mut params.auth),
            Self::GetSwarm(_)
            | Self::Info
            | Self::Batch(_)
            | Self::Sequence(_)
            | Self::WaitRetrieve(_) => None,
        }
    }

    /// Signs the request as `identity` (sets `signature` and `pubkey_ed25519` over
    /// [`Request::signed_message`]); unsigned methods are returned unchanged.
    pub fn signed_by(mut self, identity: &crate::Identity) -> Self {
        if let Some(message) = self.signed_message() {
            let auth = auth::sign(identity, &message);
            if let Some(slot) = self.auth_mut() {
                *slot = auth;
            }
        }
        self
    }

    /// Signs the request as a group member holding `sub` (SESSION-GROUPS.md §8.3): the token,
    /// the group's signature on it, and the request signed by the token's key.
    pub fn signed_by_subaccount(mut self, sub: &crate::groups::auth::Subaccount) -> Self {
        if let Some(message) = self.signed_message()
            && let Some(slot) = self.auth_mut()
        {
            *slot = Auth {
                signature: Some(crypto::b64_encode(&sub.sign(&message))),
                pubkey_ed25519: None,
                subaccount: Some(crypto::b64_encode(&sub.token)),
                subaccount_sig: Some(crypto::b64_encode(&sub.token_signature)),
            };
        }
        self
    }

    /// Signs the request with the group's own key (an admin; a `03` account needs no
    /// `pubkey_ed25519`).
    pub fn signed_by_group(mut self, group: &crate::groups::GroupKeys) -> Self {
        if let Some(message) = self.signed_message()
            && let Some(slot) = self.auth_mut()
        {
            use ed25519_dalek::Signer as _;
            let sig = group.signing_key().sign(&message);
            *slot = Auth {
                signature: Some(crypto::b64_encode(&sig.to_bytes())),
                ..Auth::default()
            };
        }
        self
    }

    /// The exact bytes this request's signature covers (§4.4); `None` for unsigned methods.
    pub fn signed_message(&self) -> Option<Vec<u8>> {
        let text = match self {
            Self::Store(p) => format!("store{}{}", p.namespace.sig_part(), p.sig_timestamp()),
            Self::Retrieve(p) => format!("retrieve{}{}", p.namespace.sig_part(), p.timestamp),
            Self::Delete(p) => format!("delete{}", p.messages.concat()),
            Self::DeleteAll(p) => format!("delete_all{}{}", p.namespace.sig_part(), p.timestamp),
            Self::DeleteBefore(p) => {
                format!("delete_before{}{}", p.namespace.sig_part(), p.before)
            }
            Self::Expire(p) => {
                let mode = if p.shorten {
                    "shorten"
                } else if p.extend {
                    "extend"
                } else {
                    ""
                };
                format!("expire{mode}{}{}", p.expiry, p.messages.concat())
            }
            Self::ExpireAll(p) => format!("expire_all{}{}", p.namespace.sig_part(), p.expiry),
            Self::GetExpiries(p) => format!("get_expiries{}{}", p.timestamp, p.messages.concat()),
            // Signed over the tokens' bytes, not their text.
            Self::Revoke { params, .. } => {
                let mut m = self.method().as_bytes().to_vec();
                m.extend_from_slice(params.timestamp.to_string().as_bytes());
                for t in &params.tokens {
                    // A token that does not decode is refused before any signature check.
                    match auth::decode_token(t) {
                        Ok(bytes) => m.extend_from_slice(&bytes),
                        Err(_) => m.extend_from_slice(t.as_bytes()),
                    }
                }
                return Some(m);
            }
            // A wait's retrieves are each signed as a plain retrieve.
            Self::GetSwarm(_)
            | Self::Info
            | Self::Batch(_)
            | Self::Sequence(_)
            | Self::WaitRetrieve(_) => return None,
        };
        Some(text.into_bytes())
    }
}
