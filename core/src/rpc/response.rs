//! Replies of the storage RPC methods (SESSION-PROTOCOL.md §4.4), as the node writes them and the
//! client reads them: one type per reply, serialised by the node and parsed by the client.
//!
//! A reply crosses the wire as a status and a body ([`Reply`]): JSON of the method's reply type
//! when the request was carried out (and, for a 421, the [`GetSwarmResponse`] naming the right
//! swarm), plain text naming the reason otherwise. Writes answer with every swarm member's own
//! signed result under `swarm` ([`WriteResponse`]); a member that failed has a
//! [`FailedEntry`] there instead, and one whose entry cannot be read is kept apart
//! ([`NodeEntry::Unreadable`]) so one bad member never spoils the others' results.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// The hardfork pair Session clients expect in `hf` (`[19, 3]`: Session's 19.3 network).
pub const HARDFORK: [u32; 2] = [19, 3];

fn hardfork() -> Vec<u32> {
    HARDFORK.to_vec()
}

/// A member's failure under `swarm`: `{"failed": true, …}` and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FailedEntry {
    /// Always true; marks the entry as a failure.
    pub failed: bool,
    /// The member's HTTP status, when it answered with one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
    /// A short reason (never user data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The member did not answer in time.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub timeout: bool,
    /// The member could not be reached.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub query_failure: bool,
    /// The member answered something that is not a result.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bad_peer_response: bool,
}

impl FailedEntry {
    /// A refusal with a status and a reason.
    pub fn refused(code: u16, reason: impl Into<String>) -> Self {
        Self {
            failed: true,
            code: Some(code),
            reason: Some(reason.into()),
            ..Self::default()
        }
    }

    /// No answer in time.
    pub fn timeout() -> Self {
        Self {
            failed: true,
            timeout: true,
            ..Self::default()
        }
    }

    /// Not reachable.
    pub fn unreachable() -> Self {
        Self {
            failed: true,
            query_failure: true,
            ..Self::default()
        }
    }

    /// An answer that is not a result.
    pub fn bad_response() -> Self {
        Self {
            failed: true,
            bad_peer_response: true,
            ..Self::default()
        }
    }
}

/// One member's entry under a write's `swarm`: its signed result, a failure, or something
/// that is neither (kept, so the other members' entries still count).
#[derive(Debug, Clone, PartialEq)]
pub enum NodeEntry<T> {
    Ok(T),
    Failed(FailedEntry),
    Unreadable(Value),
}

impl<T> NodeEntry<T> {
    /// The result, if the member carried the write out.
    pub fn ok(&self) -> Option<&T> {
        match self {
            Self::Ok(t) => Some(t),
            _ => None,
        }
    }

    /// Whether the member did not carry the write out.
    pub fn is_failed(&self) -> bool {
        !matches!(self, Self::Ok(_))
    }
}

impl<T: Serialize> Serialize for NodeEntry<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Ok(t) => t.serialize(s),
            Self::Failed(f) => f.serialize(s),
            Self::Unreadable(v) => v.serialize(s),
        }
    }
}

impl<T: DeserializeOwned> NodeEntry<T> {
    /// Reads an entry from its JSON; never fails (see [`NodeEntry::Unreadable`]).
    pub fn from_value(value: Value) -> Self {
        if value.get("failed") == Some(&Value::Bool(true)) {
            return match serde_json::from_value(value.clone()) {
                Ok(f) => Self::Failed(f),
                Err(_) => Self::Unreadable(value),
            };
        }
        match serde_json::from_value(value.clone()) {
            Ok(t) => Self::Ok(t),
            Err(_) => Self::Unreadable(value),
        }
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for NodeEntry<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self::from_value(Value::deserialize(d)?))
    }
}

/// One member's result for a `store`: the hash it stored, signed with its Ed25519 key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreNodeResult {
    pub hash: String,
    /// The node's Ed25519 signature over the hash (base64).
    pub signature: String,
    pub expiry: u64,
    /// The message was held already (a replay or a retry).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub already: bool,
}

/// One member's result for `delete`, `delete_all` and `delete_before`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteNodeResult {
    pub deleted: Vec<String>,
    /// Over the strings of [`node_sig`]`::delete*`.
    pub signature: String,
}

/// One member's result for `revoke_subaccount` / `unrevoke_subaccount`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokeNodeResult {
    /// Over [`node_sig`]`::revoke`.
    pub signature: String,
}

/// One member's result for `expire`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpireNodeResult {
    pub updated: Vec<String>,
    pub expiry: u64,
    pub signature: String,
    /// For `shorten`/`extend`: the messages left as they were, with their expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unchanged: Option<BTreeMap<String, u64>>,
}

/// One member's result for `expire_all`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpireAllNodeResult {
    pub updated: Vec<String>,
    pub signature: String,
}

/// A write's reply: every member's entry keyed by its Ed25519 hex, the network time `t`, and for
/// a store the message hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WriteResponse<T> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    #[serde(bound(deserialize = "T: DeserializeOwned"))]
    pub swarm: BTreeMap<String, NodeEntry<T>>,
    pub t: u64,
    #[serde(default = "hardfork")]
    pub hf: Vec<u32>,
}

/// `store`'s reply.
pub type StoreResponse = WriteResponse<StoreNodeResult>;

/// A retrieved message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetrievedMessage {
    pub hash: String,
    pub timestamp: u64,
    pub expiration: u64,
    /// Base64 message bytes.
    pub data: String,
}

/// `retrieve`'s reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetrieveResponse {
    pub messages: Vec<RetrievedMessage>,
    #[serde(default)]
    pub more: bool,
    pub t: u64,
    #[serde(default = "hardfork")]
    pub hf: Vec<u32>,
}

/// `get_expiries`'s reply: the expiry of each listed message still held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetExpiriesResponse {
    pub expiries: BTreeMap<String, u64>,
    pub t: u64,
    #[serde(default = "hardfork")]
    pub hf: Vec<u32>,
}

/// A node as `get_swarm` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwarmNode {
    pub pubkey_ed25519: String,
    pub pubkey_x25519: String,
    pub ip: String,
    pub port_https: u16,
    /// Murmur: the node's base URL, since browsers reach nodes by name over HTTPS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// `get_swarm`'s reply (also the body of a 421).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetSwarmResponse {
    pub snodes: Vec<SwarmNode>,
    /// Swarm id in hex.
    pub swarm: String,
    pub t: u64,
    #[serde(default = "hardfork")]
    pub hf: Vec<u32>,
}

/// `info`'s reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InfoResponse {
    pub version: Vec<u32>,
    pub timestamp: u64,
    pub t: u64,
    #[serde(default = "hardfork")]
    pub hf: Vec<u32>,
}

/// The network time every successful reply carries (`t`), read without knowing the method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct NetworkTime {
    pub t: u64,
}

/// One subrequest's result in a `batch`/`sequence` reply: its status and its reply, JSON or
/// the text of a refusal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubResult {
    pub code: u16,
    pub body: Value,
}

impl SubResult {
    /// The subrequest's reply as `T`, if it succeeded and has that shape.
    pub fn parse<T: DeserializeOwned>(&self) -> Option<T> {
        if (200..300).contains(&self.code) {
            serde_json::from_value(self.body.clone()).ok()
        } else {
            None
        }
    }
}

/// `batch` / `sequence` reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchResponse {
    pub results: Vec<SubResult>,
}

/// A reply's body: JSON of a reply type, or the plain-text reason of a refusal.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplyBody {
    Json(Value),
    Text(Cow<'static, str>),
}

/// A storage RPC reply as it crosses the wire: a status and a body.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: ReplyBody,
}

impl Reply {
    /// `status` with `body` serialised as JSON.
    pub fn json<T: Serialize>(status: u16, body: &T) -> Self {
        Self {
            status,
            body: ReplyBody::Json(serde_json::to_value(body).expect("reply types serialise")),
        }
    }

    /// 200 with `body`.
    pub fn ok<T: Serialize>(body: &T) -> Self {
        Self::json(200, body)
    }

    /// A refusal: `status` and a short reason (never user data).
    pub fn text(status: u16, reason: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            body: ReplyBody::Text(reason.into()),
        }
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as it goes on the wire: JSON, or the bare text of a refusal.
    pub fn body_text(&self) -> String {
        match &self.body {
            ReplyBody::Text(s) => s.to_string(),
            ReplyBody::Json(v) => v.to_string(),
        }
    }

    /// The body as a JSON value (a refusal's text as a string), as a batch nests it.
    pub fn body_value(&self) -> Value {
        match &self.body {
            ReplyBody::Text(s) => Value::String(s.to_string()),
            ReplyBody::Json(v) => v.clone(),
        }
    }

    /// Reads a reply off the wire: JSON when the body parses as JSON, text otherwise.
    pub fn from_wire(status: u16, body: &str) -> Self {
        match serde_json::from_slice::<Value>(body.as_bytes()) {
            Ok(v @ (Value::Object(_) | Value::Array(_))) => Self {
                status,
                body: ReplyBody::Json(v),
            },
            _ => Self::text(status, body.to_string()),
        }
    }

    /// The body as `T`, if it is JSON of that shape.
    pub fn parse<T: DeserializeOwned>(&self) -> Option<T> {
        match &self.body {
            ReplyBody::Json(v) => serde_json::from_value(v.clone()).ok(),
            ReplyBody::Text(_) => None,
        }
    }

    /// The one subrequest's reply in a `batch` or `wait_retrieve` reply of one request (read
    /// off the JSON, not through [`BatchResponse`]: the browser build stays smaller).
    pub fn only_result(&self) -> Option<Reply> {
        let ReplyBody::Json(v) = &self.body else {
            return None;
        };
        let [result] = v.get("results")?.as_array()?.as_slice() else {
            return None;
        };
        Some(Reply {
            status: u16::try_from(result.get("code")?.as_u64()?).ok()?,
            body: ReplyBody::Json(result.get("body")?.clone()),
        })
    }

    /// A short reason for a refusal, without echoing anything long.
    pub fn reason(&self) -> String {
        self.body_text().chars().take(200).collect()
    }
}

/// The strings a node signs to vouch for its own results (§4.4), so a client can check each
/// swarm member's answer: `PUBKEY_HEX || …`.
pub mod node_sig {
    /// `store`: the message hash.
    pub fn store(hash: &str) -> Vec<u8> {
        hash.as_bytes().to_vec()
    }
    /// `delete`: account hex, requested hashes, deleted hashes.
    pub fn delete(account_hex: &str, requested: &[String], deleted: &[String]) -> Vec<u8> {
        format!("{account_hex}{}{}", requested.concat(), deleted.concat()).into_bytes()
    }
    /// `delete_all`: account hex, timestamp, deleted hashes.
    pub fn delete_all(account_hex: &str, timestamp: u64, deleted: &[String]) -> Vec<u8> {
        format!("{account_hex}{timestamp}{}", deleted.concat()).into_bytes()
    }
    /// `delete_before`: account hex, before, deleted hashes.
    pub fn delete_before(account_hex: &str, before: u64, deleted: &[String]) -> Vec<u8> {
        format!("{account_hex}{before}{}", deleted.concat()).into_bytes()
    }
    /// `revoke_subaccount` / `unrevoke_subaccount`: account hex, timestamp, the tokens' bytes.
    pub fn revoke(account_hex: &str, timestamp: u64, tokens: &[[u8; 36]]) -> Vec<u8> {
        let mut m = format!("{account_hex}{timestamp}").into_bytes();
        for t in tokens {
            m.extend_from_slice(t);
        }
        m
    }
    /// `expire_all`: account hex, expiry, updated hashes.
    pub fn expire_all(account_hex: &str, expiry: u64, updated: &[String]) -> Vec<u8> {
        format!("{account_hex}{expiry}{}", updated.concat()).into_bytes()
    }
    /// `expire`: account hex, expiry, requested, updated, then `hash||expiry` of unchanged.
    pub fn expire(
        account_hex: &str,
        expiry: u64,
        requested: &[String],
        updated: &[String],
        unchanged: &std::collections::BTreeMap<String, u64>,
    ) -> Vec<u8> {
        let unchanged: String = unchanged.iter().map(|(h, e)| format!("{h}{e}")).collect();
        format!(
            "{account_hex}{expiry}{}{}{unchanged}",
            requested.concat(),
            updated.concat()
        )
        .into_bytes()
    }
}

impl StoreResponse {
    /// The members whose acknowledgement verifies (lowercase Ed25519 hex): a member of
    /// `swarm` signed `hash`, the hash the client computed itself.
    pub fn verified_signers(&self, hash: &str, swarm: &[[u8; 32]]) -> BTreeSet<String> {
        self.swarm
            .iter()
            .filter(|(ed, entry)| {
                let Some(result) = entry.ok() else {
                    return false;
                };
                let Some(key) = swarm
                    .iter()
                    .find(|k| hex::encode(k).eq_ignore_ascii_case(ed))
                else {
                    return false;
                };
                result.hash == hash
                    && crate::crypto::verify_ed25519(key, &node_sig::store(hash), &result.signature)
            })
            .map(|(ed, _)| ed.to_ascii_lowercase())
            .collect()
    }

    /// How many acknowledgements verify (see [`Self::verified_signers`]).
    pub fn verified_acks(&self, hash: &str, swarm: &[[u8; 32]]) -> usize {
        self.verified_signers(hash, swarm).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entries_keep_failures_and_unreadable_members_apart() {
        let ok = json!({"hash": "h", "signature": "s", "expiry": 5});
        let failed = json!({"failed": true, "code": 507, "reason": "storage full"});
        let odd = json!({"hash": 3});
        let map = json!({ "a": ok, "b": failed, "c": odd });
        let entries: BTreeMap<String, NodeEntry<StoreNodeResult>> =
            serde_json::from_value(map.clone()).unwrap();
        assert!(matches!(entries["a"], NodeEntry::Ok(_)));
        assert_eq!(
            entries["b"],
            NodeEntry::Failed(FailedEntry::refused(507, "storage full"))
        );
        assert!(matches!(entries["c"], NodeEntry::Unreadable(_)));
        assert_eq!(serde_json::to_value(&entries).unwrap(), map);
    }

    #[test]
    fn replies_read_back_from_the_wire() {
        let r = Reply::text(406, "Timestamp error");
        assert_eq!(Reply::from_wire(r.status, &r.body_text()), r);
        let info = InfoResponse {
            version: vec![0, 1, 0],
            timestamp: 7,
            t: 7,
            hf: HARDFORK.to_vec(),
        };
        let r = Reply::ok(&info);
        let back = Reply::from_wire(200, &r.body_text());
        assert_eq!(back.parse::<InfoResponse>(), Some(info));
        assert_eq!(back.parse::<NetworkTime>(), Some(NetworkTime { t: 7 }));
    }
}
