//! In-tab notifications (the Notification API) for new messages: only when the user turned
//! them on in settings and the browser granted permission, and only as much as the chosen
//! mode allows. Notifications render text only; the tag makes a new one replace the last.

use crate::settings::NotificationMode;
use wasm_bindgen::JsValue;
use web_sys::{Notification, NotificationOptions, NotificationPermission};

/// Whether this browser has the Notification API at all (some embedded views do not).
fn supported() -> bool {
    web_sys::window().is_some_and(|w| {
        js_sys::Reflect::has(&w, &JsValue::from_str("Notification")).unwrap_or(false)
    })
}

/// Whether notifications may be shown now.
pub fn permitted() -> bool {
    supported() && Notification::permission() == NotificationPermission::Granted
}

/// Asks for permission (call from a user gesture); true if granted.
pub async fn request_permission() -> bool {
    if !supported() {
        return false;
    }
    let Ok(promise) = Notification::request_permission() else {
        return false;
    };
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .ok()
        .and_then(|v| v.as_string())
        .is_some_and(|p| p == "granted")
}

/// Longest preview shown, in characters.
const PREVIEW_CHARS: usize = 120;

/// Shows a notification for a new message from `sender` saying `text`, as `mode` allows.
pub fn new_message(mode: NotificationMode, sender: &str, text: &str) {
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
    if !permitted() {
        return;
    }
    let options = NotificationOptions::new();
    options.set_body(&body);
    options.set_tag("murmur-message");
    let _ = Notification::new_with_options(&title, &options);
}
