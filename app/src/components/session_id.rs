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

/// The Session ID with its QR code: what a user shows someone who wants to message them. The
/// code holds this app's link to a chat with them (`https://HOST/#/chat/05…`): scanned with a
/// phone's camera it opens that chat, and the ID is in it for any Session app.
#[component]
pub fn ShareSessionId(session_id: String) -> impl IntoView {
    let link = murmur_app::platform::page::chat_link(&session_id);
    view! {
        <SessionIdBox session_id />
        <crate::components::qr::QrCode data=link label="QR code of a link to chat with you" />
    }
}
