//! The new-chat form: a Session ID, checked as it is typed; a valid one is handed out.

use leptos::prelude::*;
use murmur_core::client::parse_recipient;

/// `on_start` gets the Session ID (normalised) when the user starts a chat with it.
#[component]
pub fn NewChatForm(on_start: Callback<String>) -> impl IntoView {
    let new_peer = RwSignal::new(String::new());
    let problem = Memo::new(move |_| {
        let text = new_peer.get();
        if text.trim().is_empty() {
            None
        } else {
            parse_recipient(&text).err().map(|e| e.to_string())
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Ok(id) = parse_recipient(&new_peer.get()) {
            new_peer.set(String::new());
            on_start.run(id.to_string());
        }
    };
    view! {
        <form class="new-chat" on:submit=submit>
            <label for="new-peer">"Their Session ID"</label>
            <input id="new-peer" autofocus placeholder="Paste a Session ID (05…)" autocomplete="off"
                spellcheck="false" aria-describedby="new-peer-status"
                prop:value=move || new_peer.get()
                on:input=move |ev| new_peer.set(event_target_value(&ev)) />
            <p id="new-peer-status" class="error" aria-live="polite">{move || problem.get()}</p>
            <button type="submit" class="primary small"
                disabled=move || new_peer.get().trim().is_empty() || problem.get().is_some()>
                "Start chat"
            </button>
        </form>
    }
}
