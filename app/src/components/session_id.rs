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

/// The Session ID with its QR code: what a user shows someone who wants to message them.
#[component]
pub fn ShareSessionId(session_id: String) -> impl IntoView {
    view! {
        <SessionIdBox session_id=session_id.clone() />
        <crate::components::qr::QrCode data=session_id label="QR code of your Session ID" />
    }
}
