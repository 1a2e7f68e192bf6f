//! The user's privacy settings (`murmur settings`): read receipts and typing indicators, in
//! Session's formats, both **off** by default. Off, none are sent and those that arrive are
//! ignored. Kept in the home's store under `settings` (JSON).

use murmur_core::client::Store;
use serde::{Deserialize, Serialize};

use crate::platform::DirStore;

const KEY: &str = "settings";

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Settings {
    #[serde(default)]
    pub read_receipts: bool,
    #[serde(default)]
    pub typing_indicators: bool,
}

impl Settings {
    pub async fn load(store: &DirStore) -> Result<Self, String> {
        match store.get(KEY).await.map_err(|e| e.0)? {
            Some(bytes) => {
                serde_json::from_slice(&bytes).map_err(|_| "the saved settings are damaged".into())
            }
            None => Ok(Self::default()),
        }
    }

    pub async fn save(&self, store: &DirStore) -> Result<(), String> {
        let bytes = serde_json::to_vec(self).map_err(|e| e.to_string())?;
        store.put(KEY, bytes).await.map_err(|e| e.0)
    }
}
