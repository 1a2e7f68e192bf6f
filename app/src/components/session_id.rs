//! A Session ID shown in full, selectable, with a copy button.

use leptos::prelude::*;

#[component]
pub fn SessionIdBox(session_id: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let text = session_id.clone();
    let copy = move |_| copied.set(crate::platform::copy_to_clipboard(&text));
    view! {
        <div class="session-id">
            <code data-testid="session-id">{session_id}</code>
            <button class="secondary small" on:click=copy aria-label="Copy Session ID">
                {move || if copied.get() { "Copied" } else { "Copy" }}
            </button>
        </div>
    }
}
