//! In-tab notifications (the Notification API) for new messages: only when the user turned
//! them on in settings and the browser granted permission, and only as much as the chosen
//! mode allows. Notifications render text only; the tag makes a new one replace the last.

use crate::settings::NotificationMode;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/platform/notify.js")]
extern "C" {
    /// Whether notifications may be shown now (the API exists and the user granted it).
    pub fn permitted() -> bool;

    #[wasm_bindgen(js_name = requestPermission)]
    fn request_permission_js() -> js_sys::Promise;

    /// Shows `title` and `body`; a click on it opens the conversation with `peer`
    /// ([`OPEN_CHAT`]).
    fn show(title: &str, body: &str, peer: &str);
}

/// The window event a notification's click sends, its `detail` the Session ID to open.
pub const OPEN_CHAT: &str = "murmur-open-chat";

/// Calls `f` with the Session ID of each notification the user clicks, while the handle lives.
pub fn on_open_chat(f: impl Fn(String) + 'static) -> leptos::prelude::WindowListenerHandle {
    leptos::prelude::window_event_listener_untyped(OPEN_CHAT, move |e| {
        if let Some(peer) = js_sys::Reflect::get(&e, &JsValue::from_str("detail"))
            .ok()
            .and_then(|d| d.as_string())
        {
            f(peer);
        }
    })
}

/// Asks for permission (call from a user gesture); true if granted.
pub async fn request_permission() -> bool {
    wasm_bindgen_futures::JsFuture::from(request_permission_js())
        .await
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// Longest preview shown, in characters.
const PREVIEW_CHARS: usize = 120;

/// Shows a notification for a new message from `peer` (shown as `sender`) saying `text`, as
/// `mode` allows; a click on it opens that conversation.
pub fn new_message(mode: NotificationMode, peer: &str, sender: &str, text: &str) {
    let (title, body) = match mode {
        NotificationMode::Off => return,
        NotificationMode::Private => ("Murmur".to_string(), "New message".to_string()),
        NotificationMode::Preview => {
            let mut body: String = text.chars().take(PREVIEW_CHARS).collect();
            if text.chars().count() > PREVIEW_CHARS {
                body.push('…');
            }
            (sender.to_string(), body)
        }
    };
    if permitted() {
        show(&title, &body, peer);
    }
}
