//! The messages this home has sent or received, by hash: who wrote each and its signed time
//! (never its text), until the swarm lets it go. Session names a message by its author and
//! signed time, the CLI by its hash: this is how `send --reply-to HASH` and `react --hash HASH`
//! name the message they are about, and how an incoming reply or reaction is shown against the
//! hash the user saw, and what `delete --hash HASH` deletes (and, for everyone, where the
//! unsend request goes).

use std::collections::BTreeMap;

use murmur_core::client::Store;
use murmur_core::message::extras::MessageRef;
use serde::{Deserialize, Serialize};

use crate::platform::DirStore;

/// Where the index lives in the home's store.
const KEY: &str = "messages.index";
/// Most messages remembered; the earliest to expire go first.
const MAX: usize = 20_000;

/// One message this home has seen.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// The author (Session ID).
    #[serde(rename = "a")]
    pub author: String,
    /// The author's signed time (ms).
    #[serde(rename = "t")]
    pub sent_ms: u64,
    /// When the swarm drops it (ms).
    #[serde(rename = "x")]
    pub expires_ms: u64,
    /// The conversation: the other person's Session ID, or the group's ID (`03…`).
    #[serde(rename = "c")]
    pub conversation: String,
    /// Our own message's sync copy in our swarm.
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub sync_hash: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Index {
    messages: BTreeMap<String, Entry>,
}

async fn load(store: &DirStore) -> Index {
    match store.get(KEY).await {
        Ok(Some(bytes)) => serde_json::from_slice(&bytes).unwrap_or_default(),
        _ => Index::default(),
    }
}

/// Remembers `messages` (by hash); forgets what expired by `now_ms`.
pub async fn record(
    store: &DirStore,
    messages: Vec<(String, Entry)>,
    now_ms: u64,
) -> Result<(), String> {
    if messages.is_empty() {
        return Ok(());
    }
    let mut index = load(store).await;
    index.messages.extend(messages);
    index.messages.retain(|_, e| e.expires_ms > now_ms);
    if index.messages.len() > MAX {
        let mut by_expiry: Vec<(u64, String)> = index
            .messages
            .iter()
            .map(|(h, e)| (e.expires_ms, h.clone()))
            .collect();
        by_expiry.sort();
        for (_, h) in &by_expiry[..by_expiry.len() - MAX] {
            index.messages.remove(h);
        }
    }
    save(store, &index).await
}

async fn save(store: &DirStore, index: &Index) -> Result<(), String> {
    let bytes = serde_json::to_vec(index).map_err(|e| e.to_string())?;
    store.put(KEY, bytes).await.map_err(|e| e.0)
}

/// Forgets the message `hash`; returns what was remembered of it.
pub async fn forget(store: &DirStore, hash: &str) -> Result<Option<Entry>, String> {
    let mut index = load(store).await;
    let gone = index.messages.remove(hash);
    if gone.is_some() {
        save(store, &index).await?;
    }
    Ok(gone)
}

/// What this home remembers of the message `hash`.
pub async fn entry(store: &DirStore, hash: &str) -> Option<Entry> {
    load(store).await.messages.remove(hash)
}

/// The message `hash` names, if this home has seen it.
pub async fn lookup(store: &DirStore, hash: &str) -> Option<MessageRef> {
    let e = entry(store, hash).await?;
    Some(MessageRef {
        sent_ms: e.sent_ms,
        author: e.author.parse().ok()?,
    })
}

/// The hash of the message `r` names, if this home has seen it.
pub async fn hash_of(store: &DirStore, r: &MessageRef) -> Option<String> {
    let author = r.author.to_string();
    load(store)
        .await
        .messages
        .into_iter()
        .find(|(_, e)| e.sent_ms == r.sent_ms && e.author == author)
        .map(|(h, _)| h)
}

/// The hashes of our messages to `peer` sent at `sent_ms` (what a read receipt names).
pub async fn ours_to(store: &DirStore, own: &str, peer: &str, sent_ms: &[u64]) -> Vec<String> {
    load(store)
        .await
        .messages
        .into_iter()
        .filter(|(_, e)| e.conversation == peer && e.author == own && sent_ms.contains(&e.sent_ms))
        .map(|(h, _)| h)
        .collect()
}

/// The hashes of the messages of the conversation `conversation` written by the other side.
pub async fn hashes_in(store: &DirStore, conversation: &str) -> Vec<String> {
    load(store)
        .await
        .messages
        .into_iter()
        .filter(|(_, e)| e.conversation == conversation && e.author == conversation)
        .map(|(h, _)| h)
        .collect()
}
