//! Sessions in headless Chromium: a kept profile opens only with its passphrase, a temporary
//! session writes nothing to browser storage, and logout's wipe leaves the origin empty.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)]

use murmur_app::platform::idb::database_names;
use murmur_app::session::{DB_NAME, Session, wipe_origin};
use murmur_app::settings::{NotificationMode, Settings, Theme};
use murmur_core::client::NetworkConfig;
use murmur_core::vault::{UnlockError, VaultError};
use murmur_core::{Identity, Seed};
use wasm_bindgen_test::wasm_bindgen_test;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

fn network() -> NetworkConfig {
    NetworkConfig {
        seeds: vec!["http://127.0.0.1:9".into()],
        operator_key: [7; 32],
    }
}

#[wasm_bindgen_test]
async fn profiles_open_with_their_passphrase_and_logout_leaves_nothing() {
    wipe_origin().await.unwrap();
    let identity = Identity::from_seed(Seed::from_bytes(&[5u8; 32]).unwrap());
    let id = identity.session_id();

    // A temporary session touches no storage at all.
    let temporary = Session::temporary(identity.clone(), network());
    assert!(!temporary.is_kept());
    assert!(database_names().await.unwrap().is_empty());
    assert!(!Session::kept_profile_exists().await.unwrap());
    assert!(
        database_names().await.unwrap().is_empty(),
        "checking created nothing"
    );
    drop(temporary);

    // A kept profile: opens with the passphrase only.
    let kept = Session::create_kept(identity, "correct horse", network())
        .await
        .unwrap();
    assert!(kept.is_kept());
    assert_eq!(kept.settings(), Settings::default());
    let chosen = Settings {
        autolock_minutes: Some(5),
        notifications: NotificationMode::Private,
        theme: Theme::Dark,
    };
    kept.save_settings(chosen.clone()).await.unwrap();
    drop(kept);
    assert!(Session::kept_profile_exists().await.unwrap());
    assert_eq!(
        Session::unlock("wrong horse", network()).await.unwrap_err(),
        VaultError::Unlock(UnlockError::WrongPassphrase)
    );
    let reopened = Session::unlock("correct horse", network()).await.unwrap();
    assert_eq!(reopened.messenger.client.identity().session_id(), id);
    assert_eq!(reopened.settings(), chosen, "preferences are kept, sealed");
    drop(reopened);

    // Logout's wipe: no database, no Web Storage keys.
    let window = web_sys::window().unwrap();
    window
        .local_storage()
        .unwrap()
        .unwrap()
        .set_item("k", "v")
        .unwrap();
    wipe_origin().await.unwrap();
    assert!(
        !database_names()
            .await
            .unwrap()
            .contains(&DB_NAME.to_string())
    );
    assert!(database_names().await.unwrap().is_empty());
    assert_eq!(
        window.local_storage().unwrap().unwrap().length().unwrap(),
        0
    );
    assert!(!Session::kept_profile_exists().await.unwrap());
}

/// Byzantine nodes, attack 10: `config.json` comes from the web host on every load; a kept
/// profile pins the operator key, keeps it when the file names another, and says so.
#[wasm_bindgen_test]
async fn a_kept_profile_keeps_its_operator_key_when_config_json_changes() {
    wipe_origin().await.unwrap();
    let identity = Identity::from_seed(Seed::from_bytes(&[6u8; 32]).unwrap());
    let swapped = NetworkConfig {
        operator_key: [8; 32],
        ..network()
    };
    drop(
        Session::create_kept(identity, "pinned pass", network())
            .await
            .unwrap(),
    );
    let s = Session::unlock("pinned pass", swapped.clone())
        .await
        .unwrap();
    assert_eq!(s.operator_changed, Some([8; 32]));
    assert_eq!(
        s.messenger.client.operator_key(),
        [7; 32],
        "the pinned key stays"
    );
    // The user accepts the change: from the next unlock, the new key.
    s.trust_new_operator().await.unwrap();
    drop(s);
    let s = Session::unlock("pinned pass", swapped).await.unwrap();
    assert_eq!(s.operator_changed, None);
    assert_eq!(s.messenger.client.operator_key(), [8; 32]);
    drop(s);
    wipe_origin().await.unwrap();

    // A profile written before pinning (no record) pins the key of its first unlock.
    use murmur_app::platform::idb::IdbStore;
    use murmur_core::client::Store as _;
    use murmur_core::vault::VaultStore;
    let rng = || rand_core::UnwrapErr(getrandom::SysRng);
    let vault = VaultStore::create(IdbStore::open(DB_NAME).await.unwrap(), "old pass", rng())
        .await
        .unwrap();
    vault
        .put("identity.seed", [6u8; 32].to_vec())
        .await
        .unwrap();
    drop(vault);
    let s = Session::unlock("old pass", network()).await.unwrap();
    assert_eq!(s.operator_changed, None);
    drop(s);
    let s = Session::unlock(
        "old pass",
        NetworkConfig {
            operator_key: [9; 32],
            ..network()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        s.operator_changed,
        Some([9; 32]),
        "pinned at the first unlock"
    );
    drop(s);
    wipe_origin().await.unwrap();
}
