//! Parameters of each storage RPC method, with Session's aliases (`pubKey`, `lastHash`) and
//! integers that may arrive as strings.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::{AccountId, Namespace};

/// Accepts an integer or a string holding one (Session clients send both).
pub(crate) fn u64_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    match Value::deserialize(d)? {
        Value::Number(n) => n
            .as_u64()
            .ok_or_else(|| serde::de::Error::custom("expected u64")),
        Value::String(s) => s.parse().map_err(serde::de::Error::custom),
        _ => Err(serde::de::Error::custom("expected an integer")),
    }
}

fn opt_u64_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    u64_lenient(d).map(Some)
}

/// Auth fields shared by signed requests.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Auth {
    /// Base64 Ed25519 signature over the method's signed string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// Hex Ed25519 key of a 05 account (must convert to the account's X25519 key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pubkey_ed25519: Option<String>,
    /// A group member's subaccount token (36 bytes, base64 or hex; SESSION-GROUPS.md §8):
    /// the request is then signed by the token's key, not the account's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subaccount: Option<String>,
    /// The group's signature on the token (64 bytes, base64 or hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subaccount_sig: Option<String>,
}

/// `revoke_subaccount` (`unrevoke_subaccount`: the same with `unrevoke`): the group owner
/// revokes (restores) member tokens. Written by `Request::to_json` (the field is named after
/// the method).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RevokeParams {
    #[serde(alias = "pubKey")]
    pub pubkey: String,
    /// The tokens (36 bytes each, base64 or hex), under `revoke` or `unrevoke`; one or a list.
    #[serde(alias = "revoke", alias = "unrevoke", deserialize_with = "one_or_many")]
    pub tokens: Vec<String>,
    #[serde(deserialize_with = "u64_lenient")]
    pub timestamp: u64,
    #[serde(flatten)]
    pub auth: Auth,
}

impl RevokeParams {
    /// Revokes (or, in an `unrevoke_subaccount` request, restores) `tokens` of `group` at
    /// `timestamp_ms`; unsigned until [`super::Request::signed_by_group`].
    pub fn new(group: &AccountId, tokens: &[[u8; 36]], timestamp_ms: u64) -> Self {
        Self {
            pubkey: group.to_hex(),
            tokens: tokens
                .iter()
                .map(|t| crate::crypto::b64_encode(t))
                .collect(),
            timestamp: timestamp_ms,
            auth: Auth::default(),
        }
    }
}

/// A string or a list of strings.
fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(vec![s]),
        Value::Array(items) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                _ => Err(serde::de::Error::custom("expected a token")),
            })
            .collect(),
        _ => Err(serde::de::Error::custom(
            "expected a token or a list of tokens",
        )),
    }
}

/// `store`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreParams {
    #[serde(alias = "pubKey")]
    pub pubkey: String,
    #[serde(default)]
    pub namespace: Namespace,
    #[serde(deserialize_with = "u64_lenient")]
    pub timestamp: u64,
    #[serde(
        default,
        deserialize_with = "opt_u64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub ttl: Option<u64>,
    #[serde(
        default,
        deserialize_with = "opt_u64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub expiry: Option<u64>,
    /// Base64 message bytes.
    pub data: String,
    #[serde(
        default,
        deserialize_with = "opt_u64_lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub sig_timestamp: Option<u64>,
    #[serde(flatten)]
    pub auth: Auth,
}

impl StoreParams {
    /// A store of `data` for `account` in `namespace`, written at `timestamp_ms` and kept for
    /// `ttl_ms`; unsigned (sign with [`super::Request::signed_by`] where the namespace needs it).
    pub fn new(
        account: &AccountId,
        namespace: Namespace,
        data: &[u8],
        timestamp_ms: u64,
        ttl_ms: u64,
    ) -> Self {
        Self {
            pubkey: account.to_hex(),
            namespace,
            timestamp: timestamp_ms,
            ttl: Some(ttl_ms),
            expiry: None,
            data: crate::crypto::b64_encode(data),
            sig_timestamp: None,
            auth: Auth::default(),
        }
    }

    /// The timestamp the signature covers (defaults to `timestamp`).
    pub fn sig_timestamp(&self) -> u64 {
        self.sig_timestamp.unwrap_or(self.timestamp)
    }
}

/// `retrieve`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetrieveParams {
    #[serde(alias = "pubKey")]
    pub pubkey: String,
    #[serde(default)]
    pub namespace: Namespace,
    #[serde(default, alias = "lastHash", skip_serializing_if = "String::is_empty")]
    pub last_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_size: Option<i64>,
    #[serde(default, deserialize_with = "u64_lenient")]
    pub timestamp: u64,
    #[serde(flatten)]
    pub auth: Auth,
}

impl RetrieveParams {
    /// A retrieve of `account`'s messages in `namespace` after `last_hash` (empty: from the
    /// start), at `timestamp_ms`; unsigned until [`super::Request::signed_by`].
    pub fn new(
        account: &AccountId,
        namespace: Namespace,
        last_hash: String,
        timestamp_ms: u64,
    ) -> Self {
        Self {
            pubkey: account.to_hex(),
            namespace,
            last_hash,
            max_count: None,
            max_size: None,
            timestamp: timestamp_ms,
            auth: Auth::default(),
        }
    }
}

/// `delete`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteParams {
    #[serde(alias = "pubKey")]
    pub pubkey: String,
    pub messages: Vec<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(flatten)]
    pub auth: Auth,
}

/// `delete_all` (namespace 0 by default; `"all"` is not supported by Murmur yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteAllParams {
    #[serde(alias = "pubKey")]
    pub pubkey: String,
    #[serde(default)]
    pub namespace: Namespace,
    #[serde(deserialize_with = "u64_lenient")]
    pub timestamp: u64,
    #[serde(flatten)]
    pub auth: Auth,
}

/// `delete_before`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteBeforeParams {
    #[serde(alias = "pubKey")]
    pub pubkey: String,
    #[serde(default)]
    pub namespace: Namespace,
    #[serde(deserialize_with = "u64_lenient")]
    pub before: u64,
    #[serde(flatten)]
    pub auth: Auth,
}

/// `expire` (one expiry for all listed messages).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpireParams {
    #[serde(alias = "pubKey")]
    pub pubkey: String,
    pub messages: Vec<String>,
    #[serde(deserialize_with = "u64_lenient")]
    pub expiry: u64,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shorten: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub extend: bool,
    #[serde(flatten)]
    pub auth: Auth,
}

/// `expire_all`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpireAllParams {
    #[serde(alias = "pubKey")]
    pub pubkey: String,
    #[serde(default)]
    pub namespace: Namespace,
    #[serde(deserialize_with = "u64_lenient")]
    pub expiry: u64,
    #[serde(flatten)]
    pub auth: Auth,
}

/// `get_expiries`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetExpiriesParams {
    #[serde(alias = "pubKey")]
    pub pubkey: String,
    pub messages: Vec<String>,
    #[serde(deserialize_with = "u64_lenient")]
    pub timestamp: u64,
    #[serde(flatten)]
    pub auth: Auth,
}

/// `get_swarm`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetSwarmParams {
    #[serde(alias = "pubKey")]
    pub pubkey: String,
}

impl DeleteParams {
    /// A delete of `account`'s messages `hashes`; unsigned until [`super::Request::signed_by`].
    pub fn new(account: &AccountId, hashes: Vec<String>) -> Self {
        Self {
            pubkey: account.to_hex(),
            messages: hashes,
            required: false,
            auth: Auth::default(),
        }
    }
}

impl DeleteAllParams {
    /// A delete of everything `account` holds in `namespace`, signed at `timestamp_ms`.
    pub fn new(account: &AccountId, namespace: Namespace, timestamp_ms: u64) -> Self {
        Self {
            pubkey: account.to_hex(),
            namespace,
            timestamp: timestamp_ms,
            auth: Auth::default(),
        }
    }
}

impl DeleteBeforeParams {
    /// A delete of `account`'s messages in `namespace` stored before `before_ms`.
    pub fn new(account: &AccountId, namespace: Namespace, before_ms: u64) -> Self {
        Self {
            pubkey: account.to_hex(),
            namespace,
            before: before_ms,
            auth: Auth::default(),
        }
    }
}

impl ExpireParams {
    /// Sets `account`'s messages `hashes` to expire at `expiry_ms` (either way: neither
    /// `shorten` nor `extend` is set).
    pub fn new(account: &AccountId, hashes: Vec<String>, expiry_ms: u64) -> Self {
        Self {
            pubkey: account.to_hex(),
            messages: hashes,
            expiry: expiry_ms,
            shorten: false,
            extend: false,
            auth: Auth::default(),
        }
    }

    /// Only shortens: a message that would expire sooner keeps its expiry.
    pub fn shorten_only(mut self) -> Self {
        self.shorten = true;
        self
    }

    /// Only extends: a message that would expire later keeps its expiry.
    pub fn extend_only(mut self) -> Self {
        self.extend = true;
        self
    }
}

impl ExpireAllParams {
    /// Sets every message `account` holds in `namespace` to expire at `expiry_ms`.
    pub fn new(account: &AccountId, namespace: Namespace, expiry_ms: u64) -> Self {
        Self {
            pubkey: account.to_hex(),
            namespace,
            expiry: expiry_ms,
            auth: Auth::default(),
        }
    }
}

impl GetExpiriesParams {
    /// Asks when `account`'s messages `hashes` expire, signed at `timestamp_ms`.
    pub fn new(account: &AccountId, hashes: Vec<String>, timestamp_ms: u64) -> Self {
        Self {
            pubkey: account.to_hex(),
            messages: hashes,
            timestamp: timestamp_ms,
            auth: Auth::default(),
        }
    }
}

impl GetSwarmParams {
    /// Asks which swarm holds `account`.
    pub fn new(account: &AccountId) -> Self {
        Self {
            pubkey: account.to_hex(),
        }
    }
}

/// `batch` / `sequence`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct BatchParams {
    pub requests: Vec<Value>,
}

/// `wait_retrieve` (Murmur's extension, `docs/protocol.md`) as it arrives: retrieves, each
/// signed as a plain `retrieve`, and how long the node may hold the request.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WaitEnvelope {
    pub requests: Vec<Value>,
    #[serde(deserialize_with = "u64_lenient")]
    pub wait_ms: u64,
}

/// `wait_retrieve`: the retrieves of one swarm a client follows (every namespace, every
/// account of that swarm), answered as a `batch` of them would be, but held by the node until
/// a message arrives for any of them or `wait_ms` (at most
/// [`crate::limits::MAX_RETRIEVE_WAIT_MS`]) passes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitRetrieveParams {
    pub requests: Vec<RetrieveParams>,
    pub wait_ms: u64,
}
