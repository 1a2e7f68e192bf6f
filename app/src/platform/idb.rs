//! The client's key-value [`Store`] over IndexedDB: one database per profile, one object store
//! of byte values under string keys. Every write is its own committed transaction.
//!
//! What is written here is already sealed when the app keeps history (the store sits under a
//! `murmur_core::vault::VaultStore`), so keys are keyed hashes and values ciphertext.
//!
//! The IndexedDB calls are a few lines of JS (`idb.js`); a failure comes back as the browser's
//! exception name and message (e.g. a full disk's `QuotaExceededError`).

use js_sys::{Array, Promise, Uint8Array};
use murmur_core::client::{Store, StoreError};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(module = "/src/platform/idb.js")]
extern "C" {
    #[wasm_bindgen(js_name = openDb)]
    fn open_db(name: &str) -> Promise;
    #[wasm_bindgen(js_name = closeDb)]
    fn close_db(db: &JsValue);
    #[wasm_bindgen(js_name = getRecord)]
    fn get_record(db: &JsValue, key: &str) -> Promise;
    #[wasm_bindgen(js_name = allKeys)]
    fn all_keys(db: &JsValue) -> Promise;
    #[wasm_bindgen(js_name = putRecords)]
    fn put_records(db: &JsValue, keys: &Array, values: &Array) -> Promise;
    #[wasm_bindgen(js_name = deleteDb)]
    fn delete_db(name: &str) -> Promise;
    #[wasm_bindgen(js_name = databaseNames)]
    fn database_names_js() -> Promise;
}

/// Awaits one of `idb.js`'s promises; its rejection (a string) becomes the error text.
async fn settle(what: &str, promise: Promise) -> Result<JsValue, StoreError> {
    JsFuture::from(promise).await.map_err(|e| {
        let why = e.as_string().unwrap_or_default();
        StoreError(format!("IndexedDB {what} failed: {why}"))
    })
}

/// An open IndexedDB database used as a [`Store`].
#[derive(Debug)]
pub struct IdbStore {
    /// The connection. When another tab deletes the database (logout there), `idb.js` closes
    /// it, so the delete is not blocked, and reloads the page, which has no profile any more.
    db: JsValue,
}

impl IdbStore {
    /// Opens (creating on first use) the database `name`.
    pub async fn open(name: &str) -> Result<Self, StoreError> {
        let db = settle("open", open_db(name)).await?;
        Ok(Self { db })
    }

    /// Closes the connection and deletes the database `name` with everything in it.
    pub async fn delete(self, name: &str) -> Result<(), StoreError> {
        drop(self);
        delete_database(name).await
    }
}

/// Deletes the database `name`; waits while another connection blocks it.
pub async fn delete_database(name: &str) -> Result<(), StoreError> {
    settle("delete", delete_db(name)).await.map(drop)
}

/// Names of this origin's IndexedDB databases (without opening, so without creating, any).
pub async fn database_names() -> Result<Vec<String>, StoreError> {
    let list = settle("list", database_names_js()).await?;
    Ok(Array::from(&list)
        .iter()
        .filter_map(|name| name.as_string())
        .collect())
}

impl Drop for IdbStore {
    // An open connection blocks deleting the database (logout) until it is garbage-collected:
    // close it as soon as the store goes away.
    fn drop(&mut self) {
        close_db(&self.db);
    }
}

impl Store for IdbStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let value = settle("read", get_record(&self.db, key)).await?;
        if value.is_undefined() {
            return Ok(None);
        }
        value
            .dyn_into::<Uint8Array>()
            .map(|bytes| Some(bytes.to_vec()))
            .map_err(|_| StoreError("IndexedDB read failed: a record is not bytes".into()))
    }

    async fn put(&self, key: &str, value: Vec<u8>) -> Result<(), StoreError> {
        use murmur_core::vault::Backing as _;
        self.put_all(vec![(key.to_string(), value)]).await
    }
}

impl murmur_core::vault::Backing for IdbStore {
    async fn keys(&self) -> Result<Vec<String>, StoreError> {
        let keys = settle("list", all_keys(&self.db)).await?;
        Array::from(&keys)
            .iter()
            .map(|key| key.as_string())
            .collect::<Option<_>>()
            .ok_or_else(|| StoreError("IndexedDB list failed: a key is not text".into()))
    }

    /// One readwrite transaction: IndexedDB commits every put of it or none.
    async fn put_all(&self, records: Vec<(String, Vec<u8>)>) -> Result<(), StoreError> {
        let (keys, values) = (Array::new(), Array::new());
        for (key, value) in records {
            keys.push(&JsValue::from_str(&key));
            values.push(&Uint8Array::from(value.as_slice()));
        }
        settle("write", put_records(&self.db, &keys, &values))
            .await
            .map(drop)
    }
}
