//! The contract every [`Store`] keeps, as one async check that each backend's tests run: the
//! in-memory store, the encrypted [`crate::vault::VaultStore`], the CLI's files and the
//! browser's IndexedDB. Returns the first broken rule.

use super::platform::Store;

/// Checks `store`, which must start empty of the keys used here (`conformance.*`).
pub async fn check_store<S: Store>(store: &S) -> Result<(), String> {
    let get = |key: &'static str| async move {
        store
            .get(key)
            .await
            .map_err(|e| format!("get {key} failed: {}", e.0))
    };
    let put = |key: &'static str, value: Vec<u8>| async move {
        store
            .put(key, value)
            .await
            .map_err(|e| format!("put {key} failed: {}", e.0))
    };
    if get("conformance.missing").await?.is_some() {
        return Err("a key never written reads back as present".into());
    }
    put("conformance.a", b"alpha".to_vec()).await?;
    put("conformance.b", Vec::new()).await?;
    let binary: Vec<u8> = (0..=255u8).cycle().take(200_000).collect();
    put("conformance.big", binary.clone()).await?;
    if get("conformance.a").await?.as_deref() != Some(b"alpha".as_slice()) {
        return Err("a value does not read back".into());
    }
    if get("conformance.b").await? != Some(Vec::new()) {
        return Err("an empty value is not kept as present and empty".into());
    }
    if get("conformance.big").await? != Some(binary) {
        return Err("a 200 kB binary value does not read back byte for byte".into());
    }
    put("conformance.a", b"replaced".to_vec()).await?;
    if get("conformance.a").await?.as_deref() != Some(b"replaced".as_slice()) {
        return Err("an overwritten value reads back the old one".into());
    }
    if get("conformance.b").await? != Some(Vec::new()) {
        return Err("writing one key changed another".into());
    }
    Ok(())
}
