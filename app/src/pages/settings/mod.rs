//! Settings, a screen of the messenger: who you are, the onion path, notifications, the theme,
//! blocked contacts, auto-lock, passphrase, recovery phrase, and logging out. One section per file; this panel lays them
//! out and owns the preferences they share.

mod appearance;
mod blocked;
mod lock;
mod notifications;
mod onion_path;
mod passphrase;
mod recovery;

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use murmur_app::session::Session;
use murmur_app::settings::Settings;
use murmur_core::history::Conversation;
use murmur_core::vault::{UnlockError, VaultError};

use crate::components::confirm::ConfirmAction;
use crate::components::session_id::ShareSessionId;

/// The session as the sections hold it.
pub type SharedSession = StoredValue<Rc<Session>, LocalStorage>;

fn unlock_message(e: &VaultError) -> String {
    match e {
        VaultError::Unlock(UnlockError::WrongPassphrase) => "Wrong passphrase.".into(),
        other => format!("Failed: {other}"),
    }
}

#[component]
pub fn SettingsPanel(
    session: SharedSession,
    on_logout: Callback<()>,
    conversations: RwSignal<Vec<Conversation>>,
    on_unblock: Callback<String>,
) -> impl IntoView {
    let own_id = session.with_value(|s| s.messenger.client.identity().session_id().to_string());
    let kept = session.with_value(|s| s.is_kept());
    // The preferences as shown; each change is saved at once (sealed in a kept profile).
    let settings = RwSignal::new(session.with_value(|s| s.settings()));
    let save = Callback::new(move |next: Settings| {
        settings.set(next.clone());
        spawn_local(async move {
            let _ = session.get_value().save_settings(next).await;
        });
    });

    view! {
        <div class="panel">
            <h2>"Your Session ID"</h2>
            <ShareSessionId session_id=own_id />
            <onion_path::OnionPath session />
            <notifications::Notifications settings save />
            <appearance::Appearance settings save />
            <blocked::Blocked conversations on_unblock />
            {kept.then(|| view! {
                <lock::Lock settings save />
                <passphrase::ChangePassphrase session />
            })}
            <recovery::RecoveryPhrase session />
            <h2>"Log out"</h2>
            <ConfirmAction ask="Log out" ask_class="danger"
                warning="Logging out erases this account and its history from this browser."
                cancel="Cancel" confirm="Log out and erase" on_confirm=on_logout />
        </div>
    }
}
