//! Clickable links in messages: `links.js` watches the page and wraps the http(s) URLs of each
//! message shown in anchors (new tab, no opener, no referrer, nothing fetched for previews).

#[wasm_bindgen::prelude::wasm_bindgen(module = "/src/platform/links.js")]
extern "C" {
    /// Makes the links of every message shown from now on clickable.
    #[wasm_bindgen(js_name = linkMessages)]
    pub fn link_messages();
}
