//! HTTP and time in a browser: `fetch` (its calls in `web.js`) as the client's `Transport`,
//! `Date.now` and `setTimeout` (gloo-timers) as its `Clock`.
//!
//! Every node may be hostile, so a fetch is aborted after [`CLIENT_REQUEST_TIMEOUT_MS`]
//! (body included) and its answer is read as a stream, given up past [`MAX_REPLY_BYTES`]: a
//! guard that stalls or streams gigabytes must not hang or fill the tab.

use murmur_core::client::{Clock, HttpResponse, Transport, TransportError};
use murmur_core::limits::{CLIENT_REQUEST_TIMEOUT_MS, MAX_REPLY_BYTES};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/platform/web.js")]
extern "C" {
    /// `fetch` with the client's rules (`web.js`): resolves to `[status, body]`, rejects with
    /// "connect", "timeout" or "other".
    fn request(
        url: &str,
        body: Option<Vec<u8>>,
        timeout_ms: f64,
        max_bytes: f64,
        controller: &web_sys::AbortController,
    ) -> js_sys::Promise;
}

/// Aborts its fetch when dropped before the answer is read: the caller gave up (a waiting
/// retrieve dropped on lock, or by a long-hidden tab), which closes the connection and lets
/// the relays and the node let go of it too.
struct AbortOnDrop(web_sys::AbortController);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// `fetch`, without credentials or referrer.
#[derive(Debug, Clone, Copy, Default)]
pub struct FetchTransport;

/// Sends a request without credentials or referrer, so nodes learn nothing about the page,
/// that fails rather than follow a redirect (a node never redirects a client).
async fn fetch(url: &str, body: Option<Vec<u8>>) -> Result<HttpResponse, TransportError> {
    let abort = AbortOnDrop(web_sys::AbortController::new().map_err(|_| TransportError::Other)?);
    let pending = request(
        url,
        body,
        CLIENT_REQUEST_TIMEOUT_MS as f64,
        MAX_REPLY_BYTES as f64,
        &abort.0,
    );
    match wasm_bindgen_futures::JsFuture::from(pending).await {
        Ok(answer) => {
            let answer = js_sys::Array::from(&answer);
            Ok(HttpResponse {
                status: answer.get(0).as_f64().unwrap_or(0.0) as u16,
                body: js_sys::Uint8Array::new(&answer.get(1)).to_vec(),
            })
        }
        Err(why) => Err(match why.as_string().as_deref() {
            Some("connect") => TransportError::Connect,
            Some("timeout") => TransportError::Timeout,
            _ => TransportError::Other,
        }),
    }
}

impl Transport for FetchTransport {
    async fn post(&self, url: &str, body: Vec<u8>) -> Result<HttpResponse, TransportError> {
        fetch(url, Some(body)).await
    }

    async fn get(&self, url: &str) -> Result<HttpResponse, TransportError> {
        fetch(url, None).await
    }
}

/// The browser's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct BrowserClock;

impl Clock for BrowserClock {
    fn now_ms(&self) -> u64 {
        // Date.now() is a whole number of milliseconds since the epoch.
        js_sys::Date::now() as u64
    }

    async fn sleep(&self, ms: u64) {
        gloo_timers::future::TimeoutFuture::new(u32::try_from(ms).unwrap_or(u32::MAX)).await;
    }
}
