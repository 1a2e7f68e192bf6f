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
use crate::platform::page::request_persistent_storage;
pub use crate::platform::page::{storage_is_persistent, wipe_origin};
use crate::platform::web::{BrowserClock, FetchTransport};
use crate::settings::Settings;

/// The IndexedDB database of a kept profile.
pub const DB_NAME: &str = "murmur";
/// The sealed record holding the identity seed.
const SEED_RECORD: &str = "identity.seed";
/// The sealed record pinning the network operator's key: `config.json` comes from the web
/// host on every load, and a host that swapped it would move the user to its own network.
const OPERATOR_RECORD: &str = "network.operator_key";

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
    /// The operator key `config.json` names now, when it is not the one this kept profile
    /// pinned (the pinned one stays in use until the user accepts the new one).
    pub operator_changed: Option<[u8; 32]>,
    /// Read once when the session opens; written through on change.
    settings: std::cell::RefCell<Settings>,
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
            operator_changed: None,
            settings: Default::default(),
        }
    }

    async fn load_settings(self) -> Result<Self, VaultError> {
        let bytes = self.storage.get(SETTINGS_RECORD).await?;
        *self.settings.borrow_mut() = Settings::from_bytes(bytes.as_deref());
        Ok(self)
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
        vault
            .put(OPERATOR_RECORD, network.operator_key.to_vec())
            .await?;
        request_persistent_storage();
        Ok(Self::start(identity, network, Storage::Kept(vault)))
    }

    /// Opens the kept profile with `passphrase` (one Argon2id run). The profile keeps the
    /// operator key it pinned; if `network` names another, the session says so
    /// ([`Self::operator_changed`]) and goes on with the pinned one.
    pub async fn unlock(passphrase: &str, mut network: NetworkConfig) -> Result<Self, VaultError> {
        let vault = VaultStore::unlock(IdbStore::open(DB_NAME).await?, passphrase, rng()).await?;
        let seed = vault
            .get(SEED_RECORD)
            .await?
            .and_then(|bytes| Seed::from_bytes(&bytes).ok())
            .ok_or(VaultError::Missing)?;
        let pinned = vault
            .get(OPERATOR_RECORD)
            .await?
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok());
        let mut changed = None;
        match pinned {
            // A profile from before pinning: the key in use now is the one it trusts.
            None => {
                vault
                    .put(OPERATOR_RECORD, network.operator_key.to_vec())
                    .await?;
            }
            Some(pinned) if pinned != network.operator_key => {
                changed = Some(network.operator_key);
                network.operator_key = pinned;
            }
            Some(_) => {}
        }
        request_persistent_storage();
        let mut session = Self::start(Identity::from_seed(seed), network, Storage::Kept(vault));
        session.operator_changed = changed;
        session.load_settings().await
    }

    /// Pins the operator key `config.json` names now (after the user accepted the change);
    /// it is used from the next unlock.
    pub async fn trust_new_operator(&self) -> Result<(), StoreError> {
        match self.operator_changed {
            Some(key) => self.storage.put(OPERATOR_RECORD, key.to_vec()).await,
            None => Ok(()),
        }
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

    /// Changes the passphrase of a kept profile and re-keys its records.
    pub async fn change_passphrase(&self, old: &str, new: &str) -> Result<(), VaultError> {
        match &*self.storage {
            Storage::Kept(vault) => vault.change_passphrase(old, new).await,
            Storage::Temporary(_) => Err(VaultError::Missing),
        }
    }

    /// The recovery phrase of this identity (shown only after the user asked and confirmed).
    /// Fails only if the word list is not installed (`platform::page::load_wordlist`).
    pub fn recovery_phrase(&self) -> Result<String, murmur_core::Error> {
        self.messenger.client.identity().seed().to_mnemonic()
    }

    /// The user's preferences.
    pub fn settings(&self) -> Settings {
        self.settings.borrow().clone()
    }

    /// Saves new preferences (sealed in a kept profile).
    pub async fn save_settings(&self, settings: Settings) -> Result<(), StoreError> {
        self.storage
            .put(SETTINGS_RECORD, settings.to_bytes())
            .await?;
        *self.settings.borrow_mut() = settings;
        Ok(())
    }
}

/// The sealed record holding the preferences.
const SETTINGS_RECORD: &str = "settings";
