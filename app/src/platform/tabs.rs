//! One active tab per kept profile, with the Web Locks API: the tab that holds the lock polls,
//! writes and notifies; another tab that unlocks the same profile is told so and may take
//! over, and the tab that loses the lock locks itself. The Web Locks calls are in `tabs.js`.

use js_sys::{Function, Promise};
use wasm_bindgen::JsCast as _;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(module = "/src/platform/tabs.js")]
extern "C" {
    #[wasm_bindgen(js_name = claimLock)]
    fn claim_lock(name: &str, take_over: bool, on_lost: &JsValue) -> Promise;
}

/// The lock every tab of this origin's kept profile asks for.
const LOCK: &str = "murmur-profile";

/// This tab holds the profile's lock until this is dropped.
#[derive(Debug)]
pub struct ActiveTab {
    /// Resolves the promise the lock is held by.
    release: Function,
    /// Runs when another tab takes the lock over.
    _lost: Closure<dyn FnMut(JsValue)>,
}

impl Drop for ActiveTab {
    fn drop(&mut self) {
        let _ = self.release.call0(&JsValue::NULL);
    }
}

/// Asks for the profile's lock: only if free, or, with `take_over`, taken from the tab that
/// holds it. `Ok(None)`: another tab holds it. `on_lost` runs if another tab takes it over
/// later. Where the browser has no Web Locks every tab is active.
pub async fn claim(
    take_over: bool,
    on_lost: impl FnOnce() + 'static,
) -> Result<Option<ActiveTab>, String> {
    let lost = Closure::once(move |_: JsValue| on_lost());
    let answer = JsFuture::from(claim_lock(LOCK, take_over, lost.as_ref()))
        .await
        .map_err(|_| "the tab lock could not be asked for".to_string())?;
    Ok(answer.dyn_into::<Function>().ok().map(|release| ActiveTab {
        release,
        _lost: lost,
    }))
}
