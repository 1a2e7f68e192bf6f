//! The client's key-value [`Store`] over IndexedDB: one database per profile, one object store
//! of byte values under string keys. Every write is its own committed transaction.
//!
//! What is written here is already sealed when the app keeps history (the store sits under a
//! `murmur_core::vault::VaultStore`), so keys are keyed hashes and values ciphertext.

use indexed_db_futures::database::Database;
use indexed_db_futures::error::OpenDbError;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use indexed_db_futures::typed_array::Uint8Array;
use murmur_core::client::{Store, StoreError};

/// The object store holding the records.
const RECORDS: &str = "records";

fn error(what: &str, e: impl Into<OpenDbError>) -> StoreError {
    StoreError(format!("IndexedDB {what} failed: {}", describe(e)))
}

/// The browser's own exception (its name and message say what, e.g. a full disk's
/// `QuotaExceededError`). Not the crate's `Display`: that links float formatting (~9 KB of
/// wasm) for value conversions this store never makes.
pub fn describe(e: impl Into<OpenDbError>) -> String {
    match e.into() {
        OpenDbError::Base(indexed_db_futures::error::Error::DomException(e)) => {
            let e = web_sys::DomException::from(e);
            format!("{}: {}", e.name(), e.message())
        }
        _ => "the browser raised an unexpected error".into(),
    }
}

/// An open IndexedDB database used as a [`Store`].
#[derive(Debug)]
pub struct IdbStore {
    db: Database,
    /// Closes this connection when another tab deletes the database (logout there), so the
    /// delete is not blocked, and reloads the page, which no longer has a profile.
    _on_versionchange: wasm_bindgen::closure::Closure<dyn FnMut()>,
}

impl IdbStore {
    /// Opens (creating on first use) the database `name`.
    pub async fn open(name: &str) -> Result<Self, StoreError> {
        let db = Database::open(name)
            .with_version(1u8)
            .with_on_upgrade_needed(|event, db| {
                if event.old_version() < 1.0 {
                    db.create_object_store(RECORDS).build()?;
                }
                Ok(())
            })
            .await
            .map_err(|e| error("open", e))?;
        use indexed_db_futures::internals::SystemRepr as _;
        use wasm_bindgen::JsCast as _;
        let connection = db.as_sys().clone();
        let on_versionchange = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
            connection.close();
            crate::platform::tabs::reload();
        });
        db.as_sys()
            .set_onversionchange(Some(on_versionchange.as_ref().unchecked_ref()));
        Ok(Self {
            db,
            _on_versionchange: on_versionchange,
        })
    }

    /// Closes the connection and deletes the database `name` with everything in it.
    pub async fn delete(self, name: &str) -> Result<(), StoreError> {
        drop(self);
        Database::delete_by_name(name)
            .map_err(|e| error("delete", e))?
            .await
            .map_err(|e| error("delete", e))
    }
}

/// Names of this origin's IndexedDB databases (without opening, so without creating, any).
pub async fn database_names() -> Result<Vec<String>, StoreError> {
    let factory = web_sys::window()
        .ok_or_else(|| StoreError("no window".into()))?
        .indexed_db()
        .map_err(|_| StoreError("IndexedDB is not available".into()))?
        .ok_or_else(|| StoreError("IndexedDB is not available".into()))?;
    // `indexedDB.databases()` is not in web-sys's stable API; call it by name.
    use wasm_bindgen::JsCast as _;
    let cannot = || StoreError("IndexedDB cannot list databases".into());
    let databases: js_sys::Function = js_sys::Reflect::get(&factory, &"databases".into())
        .map_err(|_| cannot())?
        .dyn_into()
        .map_err(|_| cannot())?;
    let promise: js_sys::Promise = databases
        .call0(&factory)
        .map_err(|_| cannot())?
        .dyn_into()
        .map_err(|_| cannot())?;
    let list = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(|_| cannot())?;
    Ok(js_sys::Array::from(&list)
        .iter()
        .filter_map(|info| js_sys::Reflect::get(&info, &"name".into()).ok())
        .filter_map(|name| name.as_string())
        .collect())
}

impl Drop for IdbStore {
    // An open connection blocks deleting the database (logout) until it is garbage-collected:
    // close it as soon as the store goes away.
    fn drop(&mut self) {
        use indexed_db_futures::internals::SystemRepr as _;
        self.db.as_sys().close();
    }
}

impl Store for IdbStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let tx = self
            .db
            .transaction(RECORDS)
            .build()
            .map_err(|e| error("read", e))?;
        let records = tx.object_store(RECORDS).map_err(|e| error("read", e))?;
        let value: Option<Uint8Array> = records
            .get(key)
            .primitive()
            .map_err(|e| error("read", e))?
            .await
            .map_err(|e| error("read", e))?;
        Ok(value.map(Into::into))
    }

    async fn put(&self, key: &str, value: Vec<u8>) -> Result<(), StoreError> {
        use murmur_core::vault::Backing as _;
        self.put_all(vec![(key.to_string(), value)]).await
    }
}

impl murmur_core::vault::Backing for IdbStore {
    async fn keys(&self) -> Result<Vec<String>, StoreError> {
        let tx = self
            .db
            .transaction(RECORDS)
            .build()
            .map_err(|e| error("list", e))?;
        let records = tx.object_store(RECORDS).map_err(|e| error("list", e))?;
        let keys: Vec<String> = records
            .get_all_keys()
            .primitive()
            .map_err(|e| error("list", e))?
            .await
            .map_err(|e| error("list", e))?
            .collect::<Result<_, _>>()
            .map_err(|e| error("list", e))?;
        Ok(keys)
    }

    /// One readwrite transaction: IndexedDB commits every put of it or none (transactions
    /// here roll back unless committed).
    async fn put_all(&self, records: Vec<(String, Vec<u8>)>) -> Result<(), StoreError> {
        let tx = self
            .db
            .transaction(RECORDS)
            .with_mode(TransactionMode::Readwrite)
            .build()
            .map_err(|e| error("write", e))?;
        let store = tx.object_store(RECORDS).map_err(|e| error("write", e))?;
        for (key, value) in records {
            store
                .put(Uint8Array::from(value))
                .with_key(key)
                .primitive()
                .map_err(|e| error("write", e))?
                .await
                .map_err(|e| error("write", e))?;
        }
        tx.commit().await.map_err(|e| error("write", e))
    }
}
