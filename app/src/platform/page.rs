//! The page and its origin: whether the tab is hidden, local dates and times for display, the
//! origin's storage persistence, wiping everything the origin stored (logout), history entries
//! for the app's screens, chat links, the tab title and the theme, and the recovery word list
//! (fetched when needed). The plain browser calls are
//! in `page.js`; IndexedDB's part of the wipe is here (it goes through `idb`).

use std::future::Future;
use std::pin::pin;
use std::task::Poll;

/// Whether the browser has granted persistent storage to this origin.
pub async fn storage_is_persistent() -> bool {
    wasm_bindgen_futures::JsFuture::from(storage_is_persistent_js())
        .await
        .is_ok_and(|v| v.is_truthy())
}

/// `future`'s output, or `None` if it takes longer than `ms`.
async fn within<F: Future>(ms: u32, future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    let mut timer = pin!(gloo_timers::future::TimeoutFuture::new(ms));
    std::future::poll_fn(|cx| {
        if let Poll::Ready(v) = future.as_mut().poll(cx) {
            return Poll::Ready(Some(v));
        }
        if timer.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        Poll::Pending
    })
    .await
}

/// Deletes everything this origin stored: service worker registrations, Cache Storage entries,
/// localStorage and sessionStorage, and the IndexedDB database. Each step is attempted even
/// if an earlier one fails; the first failure is reported.
pub async fn wipe_origin() -> Result<(), String> {
    let mut first_error = wasm_bindgen_futures::JsFuture::from(wipe_web_state())
        .await
        .ok()
        .and_then(|e| e.as_string());
    let mut note = |e: String| {
        first_error.get_or_insert(e);
    };
    // The database last: deleting it makes this tab's own connection, if a task still holds
    // the session, close and reload the page, which would cut the steps above short.
    // Every database of the origin (connections of this tab close when their stores drop).
    match crate::platform::idb::database_names().await {
        Ok(names) => {
            for name in names {
                // Other tabs close their connections when asked (`idb`); one that does not
                // would block the delete for ever, so it is given 10 s.
                let deleted =
                    match within(10_000, crate::platform::idb::delete_database(&name)).await {
                        Some(done) => done.map_err(|e| e.0),
                        None => Err("IndexedDB delete failed: another Murmur tab keeps the \
                                     database open; close it"
                            .into()),
                    };
                if let Err(e) = deleted {
                    note(e);
                }
            }
        }
        Err(e) => note(e.0),
    }
    first_error.map_or(Ok(()), Err)
}

#[wasm_bindgen::prelude::wasm_bindgen(module = "/src/platform/page.js")]
extern "C" {
    #[wasm_bindgen(js_name = fetchText)]
    fn fetch_text(name: &str) -> js_sys::Promise;

    /// Adds a browser history entry for a screen of the app, so the browser's Back (and a
    /// phone's back gesture) returns to the screen before. The entry holds only the screen's
    /// kind, never whom a chat is with, and the address stays as it is: the browser may write
    /// history to disk.
    #[wasm_bindgen(js_name = pushScreen)]
    pub fn push_screen(kind: &str);

    /// Whether the tab is hidden (another tab in front, the window minimised).
    #[wasm_bindgen(js_name = tabHidden)]
    pub fn tab_hidden() -> bool;

    /// The local calendar day of `ms` (ms since the epoch), as the browser writes it.
    #[wasm_bindgen(js_name = localDay)]
    pub fn local_day(ms: f64) -> String;

    /// The local time of `ms` as `HH:MM`.
    #[wasm_bindgen(js_name = localTime)]
    pub fn local_hh_mm(ms: f64) -> String;

    /// Asks the browser not to evict this origin's storage under pressure (a kept history
    /// should not vanish). Best effort: the browser may say no, and the app works either way.
    #[wasm_bindgen(js_name = requestPersistentStorage)]
    pub fn request_persistent_storage();

    #[wasm_bindgen(js_name = storageIsPersistent)]
    fn storage_is_persistent_js() -> js_sys::Promise;

    /// Unregisters the service workers, empties Cache Storage and Web Storage; resolves to the
    /// first failure's text, if any.
    #[wasm_bindgen(js_name = wipeWebState)]
    fn wipe_web_state() -> js_sys::Promise;

    /// Puts a screen in place of the current history entry (leaving a transient screen).
    #[wasm_bindgen(js_name = replaceScreen)]
    pub fn replace_screen(kind: &str);

    /// Goes one entry back in the browser's history (as its Back button does).
    #[wasm_bindgen(js_name = goBack)]
    pub fn go_back();

    /// The page's tab title.
    #[wasm_bindgen(js_name = setTitle)]
    pub fn set_title(title: &str);

    /// The colour theme: "light", "dark", or `None` to follow the system (`data-theme` on
    /// `<html>`, which the stylesheet reads).
    #[wasm_bindgen(js_name = setTheme)]
    pub fn set_theme(theme: Option<&str>);

    /// The link that opens a chat with `id` in this deployment of the app
    /// (`https://HOST/#/chat/ID`).
    #[wasm_bindgen(js_name = chatLink)]
    pub fn chat_link(id: &str) -> String;

    /// A `#/chat/ID` link the page was opened with: the ID, and the fragment is taken out of
    /// the address (so it is not kept in a bookmark or shown again on reload).
    #[wasm_bindgen(js_name = takeChatLink)]
    pub fn take_chat_link() -> Option<String>;

    /// Scrolls the message `id` into view once it is on screen, marked and focused.
    pub fn reveal(id: &str);

    /// The `data-id` of the list row whose button marked with attribute `marker` the click
    /// `event` landed on (one listener on a list serves every row's button), if any.
    #[wasm_bindgen(js_name = clickedRow)]
    pub fn clicked_row(event: &web_sys::Event, marker: &str) -> Option<String>;
}

/// Installs the recovery phrase's word list, fetching it from beside the bundle the first time
/// a screen needs it (create, restore, show phrase): it is not in the wasm, which keeps ~6 KB
/// gzip out of every start. Core refuses a copy that is not the list byte for byte. The error
/// is a sentence for the user.
pub async fn load_wordlist() -> Result<(), String> {
    use murmur_core::keys::mnemonic;
    if mnemonic::is_installed() {
        return Ok(());
    }
    let text = wasm_bindgen_futures::JsFuture::from(fetch_text(mnemonic::WORDLIST_FILE))
        .await
        .map_err(|e| {
            let why = e.as_string().unwrap_or_default();
            format!(
                "The recovery word list did not load ({why}). Check the connection and try again."
            )
        })?;
    mnemonic::install(text.as_string().unwrap_or_default()).map_err(|e| format!("{e}."))
}

/// Calls `f` with the screen kind of the entry the browser moved to (Back or Forward), or
/// `None` for the entry the app started in. Stops when the handle is removed.
pub fn on_screen_change(
    f: impl Fn(Option<String>) + 'static,
) -> leptos::prelude::WindowListenerHandle {
    leptos::prelude::window_event_listener(leptos::ev::popstate, move |e| f(e.state().as_string()))
}
