//! Sessions in headless Chromium: a kept profile opens only with its passphrase, a temporary
//! session writes nothing to browser storage, and logout's wipe leaves the origin empty.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)]

use murmur_app::platform::idb::database_names;
use murmur_app::session::{DB_NAME, Session, wipe_origin};
use murmur_app::settings::{NotificationMode, Settings};
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
