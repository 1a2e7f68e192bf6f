//! The browser side of the platform seams. Everything that differs between wasm32 and a native
//! build of the app lives here, never in pages or logic.
//!
//! - `idb`: the client [`Store`](murmur_core::client::Store) over IndexedDB (wrapped in a
//!   `murmur_core::vault::VaultStore` when history is kept).
//! - `web`: HTTP through `fetch` and the clock through `Date.now`/`setTimeout`.
//! - `notify`: the Notification API.
//! - `links`: clickable links in messages.
//! - `page`: the tab (visibility), local dates and times, the origin's storage (persistence,
//!   and wiping it all at logout).
//! - `tabs`: one active tab per kept profile (Web Locks).
//! - `pwa`: the service worker of an installed kept profile, and its updates.

#[cfg(target_arch = "wasm32")]
pub mod idb;
#[cfg(target_arch = "wasm32")]
pub mod links;
#[cfg(target_arch = "wasm32")]
pub mod notify;
#[cfg(target_arch = "wasm32")]
pub mod page;
#[cfg(target_arch = "wasm32")]
pub mod pwa;
#[cfg(target_arch = "wasm32")]
pub mod tabs;
#[cfg(target_arch = "wasm32")]
pub mod web;

use rand_core::UnwrapErr;

/// The platform's cryptographically secure RNG (`crypto.getRandomValues` in a browser).
pub fn rng() -> UnwrapErr<getrandom::SysRng> {
    UnwrapErr(getrandom::SysRng)
}

/// Copies text to the clipboard; false when the browser refuses (no permission, no window).
pub fn copy_to_clipboard(text: &str) -> bool {
    match web_sys::window() {
        Some(window) => {
            // The returned promise resolves later; the button only says a copy was asked for.
            let _promise = window.navigator().clipboard().write_text(text);
            true
        }
        None => false,
    }
}
