//! Unlock the history kept on this device.

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use murmur_app::session::Session;
use murmur_core::client::NetworkConfig;
use murmur_core::vault::{UnlockError, VaultError};

use crate::components::confirm::ConfirmAction;
use crate::components::password_field::PasswordField;

#[component]
pub fn UnlockPage(
    network: NetworkConfig,
    on_session: Callback<Rc<Session>>,
    on_forget: Callback<()>,
) -> impl IntoView {
    let network = StoredValue::new(network);
    let passphrase = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);

    let unlock = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        error.set(None);
        let (pass, net) = (passphrase.get(), network.get_value());
        spawn_local(async move {
            match Session::unlock(&pass, net).await {
                Ok(session) => on_session.run(Rc::new(session)),
                Err(e) => {
                    error.set(Some(match e {
                        VaultError::Unlock(UnlockError::WrongPassphrase) => {
                            "Wrong passphrase.".to_string()
                        }
                        other => format!("Could not open your history: {other}"),
                    }));
                    busy.set(false);
                }
            }
        });
    };

    view! {
        <section class="card" aria-labelledby="unlock-title">
            <h1 id="unlock-title">"Unlock Murmur"</h1>
            <form on:submit=unlock>
                <PasswordField id="passphrase" label="Passphrase" value=passphrase
                    autocomplete="current-password" autofocus=true />
                <p class="error" role="alert">{move || error.get()}</p>
                <div class="actions">
                    <button type="submit" class="primary" disabled=move || busy.get()>
                        {move || if busy.get() { "Unlocking…" } else { "Unlock" }}
                    </button>
                </div>
            </form>
            <ConfirmAction ask="Use another account" ask_class="link"
                warning="This erases the account and its history from this browser. Without the recovery phrase it cannot be restored."
                cancel="Keep it" confirm="Erase from this browser" on_confirm=on_forget />
        </section>
    }
}
