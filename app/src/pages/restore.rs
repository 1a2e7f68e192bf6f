//! Restore an account from its 13-word recovery phrase, checked as the user types.

use leptos::prelude::*;
use murmur_core::{Identity, Seed};

use crate::components::session_id::SessionIdBox;
use murmur_app::onboarding::{PhraseCheck, check_phrase};

#[component]
pub fn RestorePage(on_done: Callback<Identity>, on_back: Callback<()>) -> impl IntoView {
    let phrase = RwSignal::new(String::new());
    let check = Memo::new(move |_| check_phrase(&phrase.get()));

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Ok(seed) = Seed::from_mnemonic(&phrase.get_untracked()) {
            on_done.run(Identity::from_seed(seed));
        }
    };

    view! {
        <section class="card" aria-labelledby="restore-title">
            <h1 id="restore-title">"Restore your account"</h1>
            <form on:submit=submit>
                <label for="phrase">"Recovery phrase (13 words)"</label>
                <textarea id="phrase" rows="4" autocomplete="off" autocapitalize="none"
                    spellcheck="false" aria-describedby="phrase-status"
                    prop:value=move || phrase.get()
                    on:input=move |ev| phrase.set(event_target_value(&ev))></textarea>
                <p id="phrase-status" class="status" aria-live="polite">
                    {move || match check.get() {
                        PhraseCheck::Empty => "Type or paste your 13 words, separated by spaces.".to_string(),
                        PhraseCheck::Incomplete { words } => format!("{words} of 13 words"),
                        PhraseCheck::UnknownWord(pos) => format!("Word {pos} is not a recovery word."),
                        PhraseCheck::Invalid(reason) => reason,
                        PhraseCheck::Valid { .. } => "Phrase is valid.".to_string(),
                    }}
                </p>
                {move || match check.get() {
                    PhraseCheck::Valid { session_id } => view! {
                        <p>"This phrase restores the account:"</p>
                        <SessionIdBox session_id />
                    }.into_any(),
                    _ => ().into_any(),
                }}
                <div class="actions">
                    <button type="button" class="secondary" on:click=move |_| on_back.run(())>"Back"</button>
                    <button type="submit" class="primary"
                        disabled=move || !matches!(check.get(), PhraseCheck::Valid { .. })>
                        "Restore"
                    </button>
                </div>
            </form>
        </section>
    }
}
