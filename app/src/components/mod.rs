//! Small reusable components: props in, callbacks out, no protocol logic.
pub mod composer;
pub mod confirm;
pub mod conversation_header;
pub mod conversation_list;
pub mod message_list;
pub mod new_chat;
pub mod password_field;
pub mod phrase;
pub mod qr;
pub mod session_id;

/// A Session ID or node key shortened for lists: the first 8 and last 4 characters.
pub fn short_id(id: &str) -> String {
    format!(
        "{}…{}",
        &id[..8.min(id.len())],
        &id[id.len().saturating_sub(4)..]
    )
}

/// `aria-pressed` of a toggle button.
pub fn pressed(on: bool) -> &'static str {
    if on { "true" } else { "false" }
}
