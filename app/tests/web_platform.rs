//! The browser platform in headless Chromium: the IndexedDB store keeps the store contract on
//! its own and under the vault, what reaches IndexedDB is sealed, and deleting the database
//! leaves nothing behind.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)]

use murmur_app::platform::idb::IdbStore;
use murmur_core::client::Store;
use murmur_core::client::conformance::check_store;
use murmur_core::vault::{DataKey, VaultStore};
use rand_core::UnwrapErr;
use wasm_bindgen_test::wasm_bindgen_test;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

fn rng() -> UnwrapErr<getrandom::SysRng> {
    UnwrapErr(getrandom::SysRng)
}

async fn delete_database(name: &str) {
    IdbStore::open(name)
        .await
        .unwrap()
        .delete(name)
        .await
        .unwrap();
}

#[wasm_bindgen_test]
async fn indexeddb_keeps_the_store_contract_and_deletes_cleanly() {
    let name = "murmur-test-contract";
    let store = IdbStore::open(name).await.unwrap();
    check_store(&store).await.unwrap();
    // Survives closing and reopening (what a reload does).
    store.put("kept", b"across opens".to_vec()).await.unwrap();
    drop(store);
    let store = IdbStore::open(name).await.unwrap();
    assert_eq!(
        store.get("kept").await.unwrap().as_deref(),
        Some(b"across opens".as_slice())
    );
    store.delete(name).await.unwrap();
    let fresh = IdbStore::open(name).await.unwrap();
    assert_eq!(
        fresh.get("kept").await.unwrap(),
        None,
        "deleted with the database"
    );
    fresh.delete(name).await.unwrap();
}

#[wasm_bindgen_test]
async fn under_the_vault_indexeddb_holds_only_sealed_records() {
    let name = "murmur-test-vault";
    let vault = VaultStore::new(
        IdbStore::open(name).await.unwrap(),
        DataKey::generate(&mut rng()),
        rng(),
    );
    check_store(&vault).await.unwrap();
    let contact = "05".to_string() + &"ab".repeat(32);
    let record = format!("conversation.{contact}");
    vault
        .put(&record, b"meet at the old bridge".to_vec())
        .await
        .unwrap();
    assert_eq!(
        vault.get(&record).await.unwrap().as_deref(),
        Some(b"meet at the old bridge".as_slice())
    );
    // Underneath: the slot is a keyed hash and the value ciphertext.
    let slot = vault.slot(&record);
    assert!(!slot.contains(&contact));
    let raw = vault.inner().get(&slot).await.unwrap().unwrap();
    assert!(!raw.windows(6).any(|w| w == b"bridge"));
    assert_eq!(vault.inner().get(&record).await.unwrap(), None);
}

/// A `blob:` URL holding `len` bytes of `fill`, fetchable like any answer.
fn blob_url(len: usize, fill: u8) -> String {
    let bytes = js_sys::Uint8Array::from(vec![fill; len].as_slice());
    let parts = js_sys::Array::of1(&bytes);
    let blob = web_sys::Blob::new_with_u8_array_sequence(&parts).unwrap();
    web_sys::Url::create_object_url_with_blob(&blob).unwrap()
}

#[wasm_bindgen_test]
async fn fetch_reads_an_answer_whole_and_refuses_one_past_the_reply_cap() {
    use murmur_app::platform::web::FetchTransport;
    use murmur_core::client::{Transport, TransportError};
    use murmur_core::limits::MAX_REPLY_BYTES;
    // Streamed in chunks and put back together.
    let url = blob_url(3 * 1024 * 1024 + 7, 0x42);
    let answer = FetchTransport.get(&url).await.unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body.len(), 3 * 1024 * 1024 + 7);
    assert!(answer.body.iter().all(|&b| b == 0x42));
    // One byte past the cap is refused, not read into the tab.
    let url = blob_url(MAX_REPLY_BYTES + 1, 0);
    assert_eq!(
        FetchTransport.get(&url).await.unwrap_err(),
        TransportError::Other
    );
}

/// Point 11 over IndexedDB: a passphrase change re-seals every record in one transaction (the
/// profile opens under the new passphrase with everything in it), and a record put back from
/// an older copy is refused.
#[wasm_bindgen_test]
async fn indexeddb_vault_rekeys_and_refuses_a_record_from_an_older_copy() {
    let name = "murmur-test-rekey";
    let vault = VaultStore::create(IdbStore::open(name).await.unwrap(), "first pass", rng())
        .await
        .unwrap();
    vault.put("history.page", b"one".to_vec()).await.unwrap();
    let slot = vault.slot("history.page");
    let older = vault.inner().get(&slot).await.unwrap().unwrap();
    vault.put("history.page", b"two".to_vec()).await.unwrap();
    vault
        .change_passphrase("first pass", "second pass")
        .await
        .unwrap();
    drop(vault);
    let vault = VaultStore::unlock(IdbStore::open(name).await.unwrap(), "second pass", rng())
        .await
        .unwrap();
    assert_eq!(
        vault.get("history.page").await.unwrap().as_deref(),
        Some(b"two".as_slice())
    );
    vault.inner().put(&slot, older).await.unwrap();
    assert!(
        vault.get("history.page").await.is_err(),
        "an older copy was read"
    );
    drop(vault);
    delete_database(name).await;
}

/// A profile as the previous version wrote it (through the `indexed_db_futures` crate, as
/// its `IdbStore` did: database version 1, object store `records`, `Uint8Array` values under
/// string keys) opens with its passphrase, every record intact.
#[wasm_bindgen_test]
async fn a_profile_written_by_the_previous_version_opens() {
    use indexed_db_futures::prelude::*;
    use indexed_db_futures::transaction::TransactionMode;
    use murmur_core::client::MemoryStore;
    use murmur_core::vault::Backing as _;

    let name = "murmur-test-previous";
    // The records a kept profile holds, sealed as ever (the vault's format is its own).
    let sealed = VaultStore::create(MemoryStore::default(), "old pass", rng())
        .await
        .unwrap();
    sealed
        .put("history.page", b"from before".to_vec())
        .await
        .unwrap();
    let records = sealed.inner();
    let keys = murmur_core::vault::Backing::keys(records).await.unwrap();
    // Written as the previous IdbStore::open and put_all did.
    let db = indexed_db_futures::database::Database::open(name)
        .with_version(1u8)
        .with_on_upgrade_needed(|event, db| {
            if event.old_version() < 1.0 {
                db.create_object_store("records").build()?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let tx = db
        .transaction("records")
        .with_mode(TransactionMode::Readwrite)
        .build()
        .unwrap();
    let store = tx.object_store("records").unwrap();
    for key in &keys {
        let value = records.get(key).await.unwrap().unwrap();
        store
            .put(indexed_db_futures::typed_array::Uint8Array::from(value))
            .with_key(key.clone())
            .primitive()
            .unwrap()
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    db.close();

    let vault = VaultStore::unlock(IdbStore::open(name).await.unwrap(), "old pass", rng())
        .await
        .unwrap();
    assert_eq!(
        vault.get("history.page").await.unwrap().as_deref(),
        Some(b"from before".as_slice())
    );
    let mut listed = vault.inner().keys().await.unwrap();
    listed.sort();
    let mut expected = keys.clone();
    expected.sort();
    assert_eq!(listed, expected);
    drop(vault);
    delete_database(name).await;
}
