//! One active tab per kept profile, with the Web Locks API: the tab that holds the lock polls,
//! writes and notifies; another tab that unlocks the same profile is told so and may take
//! over, and the tab that loses the lock locks itself. (Web Locks is reached by name: web-sys
//! has it only behind its unstable-API flag.)

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::JsCast as _;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// The lock every tab of this origin's kept profile asks for.
const LOCK: &str = "murmur-profile";

/// This tab holds the profile's lock until this is dropped.
#[derive(Debug)]
pub struct ActiveTab {
    /// Resolves the promise the lock is held by.
    release: Option<Function>,
    /// Runs when another tab takes the lock over.
    _lost: Option<Closure<dyn FnMut(JsValue)>>,
}

impl Drop for ActiveTab {
    fn drop(&mut self) {
        if let Some(release) = &self.release {
            let _ = release.call0(&JsValue::NULL);
        }
    }
}

fn failed(what: &str) -> String {
    format!("the tab lock could not be asked for ({what})")
}

/// Asks for the profile's lock: `None` when another tab holds it (unless `take_over`, which
/// takes it from that tab). `on_lost` runs if another tab later takes it from this one. A
/// browser without Web Locks gets a lock that guards nothing.
pub async fn claim(
    take_over: bool,
    on_lost: impl FnOnce() + 'static,
) -> Result<Option<ActiveTab>, String> {
    let window = web_sys::window().ok_or_else(|| failed("no window"))?;
    let locks = Reflect::get(&window.navigator(), &"locks".into()).unwrap_or(JsValue::UNDEFINED);
    if locks.is_undefined() {
        return Ok(Some(ActiveTab {
            release: None,
            _lost: None,
        }));
    }
    let request: Function = Reflect::get(&locks, &"request".into())
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(|| failed("no locks.request"))?;
    let options = Object::new();
    let flag = if take_over { "steal" } else { "ifAvailable" };
    Reflect::set(&options, &flag.into(), &true.into()).map_err(|_| failed("options"))?;

    // `granted` says whether the callback got the lock; `held` keeps it until released.
    let mut grant = None;
    let granted = Promise::new(&mut |resolve, _| grant = Some(resolve));
    let mut release = None;
    let held = Promise::new(&mut |resolve, _| release = Some(resolve));
    let (Some(grant), Some(release)) = (grant, release) else {
        return Err(failed("promises"));
    };
    let callback = Closure::once_into_js(move |lock: JsValue| -> JsValue {
        let got = !lock.is_null();
        let _ = grant.call1(&JsValue::NULL, &got.into());
        if got { held.into() } else { JsValue::UNDEFINED }
    });
    let outcome: Promise = request
        .call3(&locks, &LOCK.into(), &options, &callback)
        .ok()
        .and_then(|p| p.dyn_into().ok())
        .ok_or_else(|| failed("request"))?;
    // Taken over by another tab: the request's promise rejects (AbortError).
    let lost = Closure::once(move |_: JsValue| on_lost());
    let _ = outcome.catch(&lost);
    let got = JsFuture::from(granted)
        .await
        .map_err(|_| failed("answer"))?
        .as_bool()
        .unwrap_or(false);
    Ok(got.then(|| ActiveTab {
        release: Some(release),
        _lost: Some(lost),
    }))
}

/// Reloads the page (another tab erased the profile this one had open).
pub fn reload() {
    if let Some(window) = web_sys::window() {
        let _ = window.location().reload();
    }
}
