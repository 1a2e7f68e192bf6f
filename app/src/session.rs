//! A signed-in session in the browser: the identity, where its history lives, and the
//! messenger (client engine + history) on the browser platform.
//!
//! - **Kept history**: IndexedDB database `murmur`, every record sealed by the vault
//!   (`murmur_core::vault`); the identity seed is one of those sealed records. Opening it
//!   again needs the passphrase.
//! - **Temporary session**: everything in memory; nothing is written to any browser storage.
//!
//! Logout deletes the database, Cache Storage, service workers and local/session storage.

use std::rc::Rc;

use murmur_core::client::{Client, ClientConfig, MemoryStore, NetworkConfig, Store, StoreError};
use murmur_core::history::History;
use murmur_core::messenger::Messenger;
use murmur_core::vault::{VaultError, VaultStore};
use murmur_core::{Identity, Seed};
use rand_core::UnwrapErr;

use crate::platform::idb::IdbStore;
use crate::platform::web::{BrowserClock, FetchTransport};

/// The IndexedDB database of a kept profile.
pub const DB_NAME: &str = "murmur";
/// The sealed record holding the identity seed.
const SEED_RECORD: &str = "identity.seed";

type Rng = UnwrapErr<getrandom::SysRng>;

fn rng() -> Rng {
    UnwrapErr(getrandom::SysRng)
}

/// Where a session's state lives.
#[derive(Debug)]
pub enum Storage {
    Kept(VaultStore<IdbStore, Rng>),
    Temporary(MemoryStore),
}

impl Store for Storage {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self {
            Self::Kept(s) => s.get(key).await,
            Self::Temporary(s) => s.get(key).await,
        }
    }

    async fn put(&self, key: &str, value: Vec<u8>) -> Result<(), StoreError> {
        match self {
            Self::Kept(s) => s.put(key, value).await,
            Self::Temporary(s) => s.put(key, value).await,
        }
    }
}

/// The messenger the app drives.
pub type WebMessenger = Messenger<FetchTransport, BrowserClock, Rc<Storage>, Rng, Rc<Storage>>;

/// A signed-in session.
#[derive(Debug)]
pub struct Session {
    pub messenger: WebMessenger,
    pub storage: Rc<Storage>,
}

impl Session {
    fn start(identity: Identity, network: NetworkConfig, storage: Storage) -> Self {
        let storage = Rc::new(storage);
        let client = Client::new(
            identity,
            ClientConfig::new(network),
            FetchTransport,
            BrowserClock,
            storage.clone(),
            rng(),
        );
        Self {
            messenger: Messenger::new(client, History::new(storage.clone())),
            storage,
        }
    }

    /// Whether this browser holds a kept profile (an unlock screen is due).
    pub async fn kept_profile_exists() -> Result<bool, VaultError> {
        // Listing first: opening would create an empty database as a side effect.
        if !crate::platform::idb::database_names()
            .await?
            .iter()
            .any(|n| n == DB_NAME)
        {
            return Ok(false);
        }
        let db = IdbStore::open(DB_NAME).await?;
        VaultStore::<_, Rng>::exists(&db).await
    }

    /// A new kept profile for `identity`, sealed under `passphrase`.
    pub async fn create_kept(
        identity: Identity,
        passphrase: &str,
        network: NetworkConfig,
    ) -> Result<Self, VaultError> {
        let vault = VaultStore::create(IdbStore::open(DB_NAME).await?, passphrase, rng()).await?;
        vault
            .put(SEED_RECORD, identity.seed().as_bytes().to_vec())
            .await?;
        Ok(Self::start(identity, network, Storage::Kept(vault)))
    }

    /// Opens the kept profile with `passphrase` (one Argon2id run).
    pub async fn unlock(passphrase: &str, network: NetworkConfig) -> Result<Self, VaultError> {
        let vault = VaultStore::unlock(IdbStore::open(DB_NAME).await?, passphrase, rng()).await?;
        let seed = vault
            .get(SEED_RECORD)
            .await?
            .and_then(|bytes| Seed::from_bytes(&bytes).ok())
            .ok_or(VaultError::Missing)?;
        Ok(Self::start(
            Identity::from_seed(seed),
            network,
            Storage::Kept(vault),
        ))
    }

    /// A temporary session: nothing leaves memory.
    pub fn temporary(identity: Identity, network: NetworkConfig) -> Self {
        Self::start(identity, network, Storage::Temporary(MemoryStore::new()))
    }

    /// Whether history is kept on this device.
    pub fn is_kept(&self) -> bool {
        matches!(*self.storage, Storage::Kept(_))
    }

    /// Checks the passphrase of a kept profile (a temporary session has none).
    pub async fn check_passphrase(&self, passphrase: &str) -> Result<(), VaultError> {
        match &*self.storage {
            Storage::Kept(vault) => vault.check_passphrase(passphrase).await,
            Storage::Temporary(_) => Err(VaultError::Missing),
        }
    }

    /// Changes the passphrase of a kept profile (records are not re-encrypted).
    pub async fn change_passphrase(&self, old: &str, new: &str) -> Result<(), VaultError> {
        match &*self.storage {
            Storage::Kept(vault) => vault.change_passphrase(old, new).await,
            Storage::Temporary(_) => Err(VaultError::Missing),
        }
    }

    /// The recovery phrase of this identity (shown only after the user asked and confirmed).
    pub fn recovery_phrase(&self) -> String {
        self.messenger.client.identity().seed().to_mnemonic()
    }

    /// Minutes of inactivity after which a kept profile locks (`None`: never). Default 15.
    pub async fn autolock_minutes(&self) -> Option<u32> {
        match self.storage.get(AUTOLOCK_RECORD).await {
            Ok(Some(bytes)) => String::from_utf8_lossy(&bytes)
                .parse()
                .ok()
                .filter(|m| *m > 0),
            _ => Some(DEFAULT_AUTOLOCK_MINUTES),
        }
    }

    /// Sets the auto-lock delay (`None` or 0: never).
    pub async fn set_autolock_minutes(&self, minutes: Option<u32>) -> Result<(), StoreError> {
        let value = minutes.unwrap_or(0).to_string().into_bytes();
        self.storage.put(AUTOLOCK_RECORD, value).await
    }
}

/// The sealed record holding the auto-lock delay.
const AUTOLOCK_RECORD: &str = "settings.autolock_minutes";
/// Auto-lock delay until the user picks another.
pub const DEFAULT_AUTOLOCK_MINUTES: u32 = 15;

/// Deletes everything this origin stored: the IndexedDB database, Cache Storage entries,
/// service worker registrations, localStorage and sessionStorage. Each step is attempted even
/// if an earlier one fails; the first failure is reported.
pub async fn wipe_origin() -> Result<(), String> {
    use wasm_bindgen::JsCast as _;
    use wasm_bindgen_futures::JsFuture;

    let mut first_error: Option<String> = None;
    let mut note = |what: &str, e: &dyn std::fmt::Debug| {
        if first_error.is_none() {
            first_error = Some(format!("{what}: {e:?}"));
        }
    };
    // Every database of the origin (connections of this tab close when their stores drop).
    match crate::platform::idb::database_names().await {
        Ok(names) => {
            for name in names {
                let deleted = match indexed_db_futures::database::Database::delete_by_name(&name) {
                    Ok(request) => request.await.map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                if let Err(e) = deleted {
                    note("IndexedDB", &e);
                }
            }
        }
        Err(e) => note("IndexedDB", &e),
    }
    let Some(window) = web_sys::window() else {
        return Err("no window".into());
    };
    if let Ok(caches) = window.caches()
        && let Ok(keys) = JsFuture::from(caches.keys()).await
    {
        for key in js_sys::Array::from(&keys).iter() {
            if let Some(name) = key.as_string()
                && let Err(e) = JsFuture::from(caches.delete(&name)).await
            {
                note("Cache Storage", &e);
            }
        }
    }
    let container = window.navigator().service_worker();
    if let Ok(regs) = JsFuture::from(container.get_registrations()).await {
        for reg in js_sys::Array::from(&regs).iter() {
            if let Ok(reg) = reg.dyn_into::<web_sys::ServiceWorkerRegistration>()
                && let Ok(promise) = reg.unregister()
                && let Err(e) = JsFuture::from(promise).await
            {
                note("service worker", &e);
            }
        }
    }
    for storage in [window.local_storage(), window.session_storage()]
        .into_iter()
        .flatten()
        .flatten()
    {
        if let Err(e) = storage.clear() {
            note("Web Storage", &e);
        }
    }
    first_error.map_or(Ok(()), Err)
}
