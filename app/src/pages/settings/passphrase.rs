//! Changing a kept profile's passphrase: the vault re-keys (every record re-sealed under a new
//! key in one transaction), so an old copy of the key record with the old passphrase opens
//! nothing written afterwards.

use leptos::prelude::*;
use leptos::task::spawn_local;
use murmur_app::onboarding::passphrase_problem;

use super::{SharedSession, unlock_message};
use crate::components::password_field::PasswordField;

#[component]
pub fn ChangePassphrase(session: SharedSession) -> impl IntoView {
    let (old, new, again) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    let status = RwSignal::new(None::<String>);
    let change = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Some(problem) = passphrase_problem(&new.get(), &again.get()) {
            status.set(Some(problem.into()));
            return;
        }
        status.set(Some("Changing…".into()));
        let (o, n) = (old.get(), new.get());
        spawn_local(async move {
            match session.get_value().change_passphrase(&o, &n).await {
                Ok(()) => {
                    for field in [old, new, again] {
                        field.set(String::new());
                    }
                    status.set(Some("Passphrase changed.".into()));
                }
                Err(e) => status.set(Some(unlock_message(&e))),
            }
        });
    };
    view! {
        <h2>"Change passphrase"</h2>
        <form on:submit=change>
            <PasswordField id="old-passphrase" label="Current passphrase" value=old
                autocomplete="current-password" />
            <PasswordField id="changed-passphrase" label="New passphrase" value=new
                autocomplete="new-password" />
            <PasswordField id="changed-again" label="New passphrase again" value=again
                autocomplete="new-password" />
            <p class="status" role="status">{move || status.get()}</p>
            <div class="actions"><button type="submit" class="secondary">"Change passphrase"</button></div>
        </form>
    }
}
