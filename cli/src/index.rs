//! The messages this home has sent or received, by hash: who wrote each and its signed time
//! (never its text), until the swarm lets it go. Session names a message by its author and
//! signed time, the CLI by its hash: this is how `send --reply-to HASH` and `react --hash HASH`
//! name the message they are about, and how an incoming reply or reaction is shown against the
//! hash the user saw.

use std::collections::BTreeMap;

use murmur_core::SessionId;
use murmur_core::client::Store;
use murmur_core::message::extras::MessageRef;
use serde::{Deserialize, Serialize};

use crate::platform::DirStore;

/// Where the index lives in the home's store.
const KEY: &str = "messages.index";
/// Most messages remembered; the earliest to expire go first.
const MAX: usize = 20_000;

/// One message: author (Session ID), signed time, when the swarm drops it (ms).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry(String, u64, u64);

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

/// Remembers `messages` (hash, author, signed time, expiry); forgets what expired by `now_ms`.
pub async fn record(
    store: &DirStore,
    messages: &[(String, SessionId, u64, u64)],
    now_ms: u64,
) -> Result<(), String> {
    if messages.is_empty() {
        return Ok(());
    }
    let mut index = load(store).await;
    for (hash, author, sent_ms, expires_ms) in messages {
        index.messages.insert(
            hash.clone(),
            Entry(author.to_string(), *sent_ms, *expires_ms),
        );
    }
    index.messages.retain(|_, e| e.2 > now_ms);
    if index.messages.len() > MAX {
        let mut by_expiry: Vec<(u64, String)> = index
            .messages
            .iter()
            .map(|(h, e)| (e.2, h.clone()))
            .collect();
        by_expiry.sort();
        for (_, h) in &by_expiry[..by_expiry.len() - MAX] {
            index.messages.remove(h);
        }
    }
    let bytes = serde_json::to_vec(&index).map_err(|e| e.to_string())?;
    store.put(KEY, bytes).await.map_err(|e| e.0)
}

/// The message `hash` names, if this home has seen it.
pub async fn lookup(store: &DirStore, hash: &str) -> Option<MessageRef> {
    let index = load(store).await;
    let e = index.messages.get(hash)?;
    Some(MessageRef {
        sent_ms: e.1,
        author: e.0.parse().ok()?,
    })
}

/// The hash of the message `r` names, if this home has seen it.
pub async fn hash_of(store: &DirStore, r: &MessageRef) -> Option<String> {
    let author = r.author.to_string();
    load(store)
        .await
        .messages
        .into_iter()
        .find(|(_, e)| e.1 == r.sent_ms && e.0 == author)
        .map(|(h, _)| h)
}
