//! After create/restore: keep history on this device (behind a passphrase) or use a temporary
//! session that writes nothing to the browser.

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use murmur_app::session::Session;
use murmur_core::Identity;
use murmur_core::client::NetworkConfig;

use murmur_app::onboarding::passphrase_problem;

use crate::components::password_field::PasswordField;
use crate::components::session_id::SessionIdBox;

#[component]
pub fn StoragePage(
    identity: Identity,
    network: NetworkConfig,
    on_session: Callback<Rc<Session>>,
) -> impl IntoView {
    let session_id = identity.session_id().to_string();
    let identity = StoredValue::new(identity);
    let network = StoredValue::new(network);
    let passphrase = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let clear_error = Callback::new(move |()| error.set(None));

    let keep = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Some(problem) = passphrase_problem(&passphrase.get(), &confirm.get()) {
            error.set(Some(problem.into()));
            return;
        }
        busy.set(true);
        let (id, net, pass) = (identity.get_value(), network.get_value(), passphrase.get());
        spawn_local(async move {
            match Session::create_kept(id, &pass, net).await {
                Ok(session) => on_session.run(Rc::new(session)),
                Err(e) => {
                    error.set(Some(format!("Could not set up storage: {e}")));
                    busy.set(false);
                }
            }
        });
    };
    let temporary = move |_| {
        let session = Session::temporary(identity.get_value(), network.get_value());
        on_session.run(Rc::new(session));
    };

    view! {
        <section class="card" aria-labelledby="storage-title">
            <h1 id="storage-title">"Where should your messages live?"</h1>
            <p>"Your account is ready. Your Session ID:"</p>
            <SessionIdBox session_id=session_id />
            <form on:submit=keep>
                <h2>"Keep history on this device"</h2>
                <p>"Messages are stored encrypted in this browser, behind a passphrase you choose."</p>
                <PasswordField id="new-passphrase" label="Passphrase" value=passphrase
                    autocomplete="new-password" on_input=clear_error />
                <PasswordField id="confirm-passphrase" label="Passphrase again" value=confirm
                    autocomplete="new-password" on_input=clear_error />
                <p class="error" role="alert">{move || error.get()}</p>
                <div class="actions">
                    <button type="submit" class="primary" disabled=move || busy.get()>
                        {move || if busy.get() { "Encrypting…" } else { "Keep history on this device" }}
                    </button>
                </div>
            </form>
            <h2>"Temporary session"</h2>
            <p>"Nothing is written to this browser. Logging out, or closing the tab, erases everything."</p>
            <div class="actions">
                <button class="secondary" on:click=temporary disabled=move || busy.get()>
                    "Temporary session"
                </button>
            </div>
        </section>
    }
}
