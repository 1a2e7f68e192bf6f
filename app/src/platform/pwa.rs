//! The installable app: the service worker (`public/sw.js`) that lets a kept profile start
//! offline, and the update it announces. The worker's page-side calls are a small JS module
//! (`pwa.js`): a promise chain of registration events that is much smaller there than in wasm.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/platform/pwa.js")]
extern "C" {
    #[wasm_bindgen(js_name = registerWorker)]
    fn register_worker_js(on_update: &js_sys::Function);

    /// Switches to the waiting version and reloads the page.
    #[wasm_bindgen(js_name = applyUpdate)]
    pub fn apply_update();
}

/// Registers the service worker; `on_update` runs when a newly deployed version waits.
pub fn register_worker(on_update: impl Fn() + 'static) {
    let on_update = Closure::<dyn Fn()>::new(on_update);
    register_worker_js(on_update.as_ref().unchecked_ref());
    // The worker may announce an update at any time while the page lives.
    on_update.forget();
}
