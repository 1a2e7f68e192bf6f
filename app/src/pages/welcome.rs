//! The first screen: create a new account or restore one.

use leptos::prelude::*;

#[component]
pub fn WelcomePage(
    on_create: Callback<()>,
    on_restore: Callback<()>,
    /// Why the last choice could not go on (the word list did not load).
    error: ReadSignal<Option<String>>,
) -> impl IntoView {
    view! {
        <section class="card welcome" aria-labelledby="welcome-title">
            <img class="logo" src="favicon.svg" alt="" width="64" height="64" />
            <h1 id="welcome-title">"Murmur"</h1>
            <p class="lede">
                "Private messages with no phone number and no e-mail. Your account is a key made on "
                "this device; your messages travel through three relays so nobody sees both ends."
            </p>
            <div class="actions">
                <button class="primary" on:click=move |_| on_create.run(())>"Create account"</button>
                <button class="secondary" on:click=move |_| on_restore.run(())>
                    "Restore from recovery phrase"
                </button>
            </div>
            <p class="error" role="alert">{move || error.get()}</p>
        </section>
    }
}
