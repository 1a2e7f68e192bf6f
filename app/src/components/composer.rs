//! The composer: a text area that sends on Enter (Shift+Enter for a new line) or the button.
//! A text past the limit is never sent (the network would refuse it) and stays here to be
//! shortened.

use leptos::prelude::*;
use murmur_core::client::MAX_TEXT_BYTES;

/// `on_send` gets each non-blank text the user sends; the composer empties itself. `draft`
/// is what is being typed, held by the caller so each conversation keeps its own.
#[component]
pub fn Composer(on_send: Callback<String>, draft: RwSignal<String>) -> impl IntoView {
    let too_long = Memo::new(move |_| draft.with(|d| d.len() > MAX_TEXT_BYTES));
    let send = move || {
        let text = draft.get();
        if text.trim().is_empty() || too_long.get() {
            return;
        }
        draft.set(String::new());
        on_send.run(text);
    };
    view! {
        <form class="composer" on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); send(); }>
            <label for="composer" class="visually-hidden">"Message"</label>
            <textarea id="composer" rows="2" placeholder="Message"
                prop:value=move || draft.get()
                on:input=move |ev| draft.set(event_target_value(&ev))
                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    if ev.key() == "Enter" && !ev.shift_key() {
                        ev.prevent_default();
                        send();
                    }
                }></textarea>
            <button type="submit" class="primary" prop:disabled=move || too_long.get()>"Send"</button>
            {move || too_long.get().then(|| view! {
                <p class="error" role="alert">{format!("This message is too long to send: at most {} KB of text.", MAX_TEXT_BYTES / 1000)}</p>
            })}
        </form>
    }
}
