//! The recovery phrase as a numbered grid of words.

use leptos::prelude::*;

#[component]
pub fn PhraseGrid(phrase: String) -> impl IntoView {
    view! {
        <ol class="phrase" data-testid="recovery-phrase" aria-label="Recovery phrase">
            {phrase.split(' ').map(|w| view! { <li>{w.to_string()}</li> }).collect_view()}
        </ol>
    }
}
