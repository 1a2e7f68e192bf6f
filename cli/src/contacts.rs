//! Who this home talks to (message requests, as Session has them): a first message from
//! someone this account never wrote to, nor accepted, is a **request** — shown as one, its
//! files not fetched, until the user accepts it (`murmur requests --accept`), declines it, or
//! blocks the sender (whose messages are then deleted unread).
//!
//! Kept in the home's store under `contacts` (JSON). A home from before requests has no such
//! record: everyone it knew a name for (`contact.<id>`, written by every earlier inbox) is taken
//! as accepted, so existing conversations do not turn into requests.

use std::collections::{BTreeMap, BTreeSet};

use murmur_core::client::Store;
use serde::{Deserialize, Serialize};

use crate::platform::DirStore;

const KEY: &str = "contacts";

/// A pending request: when it came and how many messages it holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    pub first_ms: u64,
    pub count: u64,
}

/// Accepted, blocked and requesting Session IDs (as text).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Contacts {
    pub accepted: BTreeSet<String>,
    pub blocked: BTreeSet<String>,
    pub requests: BTreeMap<String, Pending>,
}

impl Contacts {
    /// The home's record, or for a home from before requests, everyone it knew a name for.
    pub async fn load(store: &DirStore) -> Result<Self, String> {
        match store.get(KEY).await.map_err(|e| e.0)? {
            Some(bytes) => {
                serde_json::from_slice(&bytes).map_err(|_| "the saved contacts are damaged".into())
            }
            None => Ok(Self {
                accepted: store
                    .keys_with_prefix("contact.")
                    .into_iter()
                    .map(|k| k["contact.".len()..].to_owned())
                    .collect(),
                ..Self::default()
            }),
        }
    }

    pub async fn save(&self, store: &DirStore) -> Result<(), String> {
        let bytes = serde_json::to_vec(self).map_err(|e| e.to_string())?;
        store.put(KEY, bytes).await.map_err(|e| e.0)
    }

    /// Accepts `id` (we wrote to them, or accepted their request).
    pub fn accept(&mut self, id: &str) {
        self.requests.remove(id);
        self.blocked.remove(id);
        self.accepted.insert(id.to_owned());
    }

    pub fn is_accepted(&self, id: &str) -> bool {
        self.accepted.contains(id)
    }

    pub fn is_blocked(&self, id: &str) -> bool {
        self.blocked.contains(id)
    }

    /// Notes a message from `id`, who is not accepted, as part of their request.
    pub fn note_request(&mut self, id: &str, sent_ms: u64) {
        let p = self.requests.entry(id.to_owned()).or_insert(Pending {
            first_ms: sent_ms,
            count: 0,
        });
        p.first_ms = p.first_ms.min(sent_ms);
        p.count += 1;
    }

    /// Drops `id`'s request; with `block`, their later messages are deleted unread.
    pub fn decline(&mut self, id: &str, block: bool) {
        self.requests.remove(id);
        self.accepted.remove(id);
        if block {
            self.blocked.insert(id.to_owned());
        }
    }
}
