//! Showing the recovery phrase: behind the passphrase when history is kept, behind a click
//! otherwise.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{SharedSession, unlock_message};
use crate::components::password_field::PasswordField;
use crate::components::phrase::PhraseGrid;
use murmur_app::platform::page::load_wordlist;

#[component]
pub fn RecoveryPhrase(session: SharedSession) -> impl IntoView {
    let kept = session.with_value(|s| s.is_kept());
    let phrase = RwSignal::new(None::<String>);
    let pass = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let reveal = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let typed = pass.get();
        spawn_local(async move {
            let s = session.get_value();
            let allowed = if s.is_kept() {
                s.check_passphrase(&typed).await
            } else {
                Ok(())
            };
            let shown = match allowed {
                Ok(()) => load_wordlist()
                    .await
                    .and_then(|()| s.recovery_phrase().map_err(|e| e.to_string())),
                Err(e) => Err(unlock_message(&e)),
            };
            match shown {
                Ok(words) => {
                    pass.set(String::new());
                    error.set(None);
                    phrase.set(Some(words));
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <h2>"Recovery phrase"</h2>
        {move || match phrase.get() {
            Some(words) => view! {
                <PhraseGrid phrase=words />
                <button class="secondary" on:click=move |_| phrase.set(None)>"Hide"</button>
            }.into_any(),
            None => view! {
                <form on:submit=reveal>
                    {kept.then(|| view! {
                        <PasswordField id="phrase-passphrase" label="Passphrase" value=pass
                            autocomplete="current-password" />
                    })}
                    <p class="error" role="alert">{move || error.get()}</p>
                    <div class="actions"><button type="submit" class="secondary">"Show recovery phrase"</button></div>
                </form>
            }.into_any(),
        }}
    }
}
