//! HTTP and time in a browser: `fetch` as the client's `Transport`, `Date.now` and
//! `setTimeout` (gloo-timers) as its `Clock`.
//!
//! Every node may be hostile, so a fetch is aborted after [`CLIENT_REQUEST_TIMEOUT_MS`]
//! (body included) and its answer is read as a stream, given up past [`MAX_REPLY_BYTES`]: a
//! guard that stalls or streams gigabytes must not hang or fill the tab.

use murmur_core::client::{Clock, HttpResponse, Transport, TransportError};
use murmur_core::limits::{CLIENT_REQUEST_TIMEOUT_MS, MAX_REPLY_BYTES};
use wasm_bindgen::JsCast as _;
use wasm_bindgen_futures::JsFuture;

/// `fetch`, without credentials or referrer.
#[derive(Debug, Clone, Copy, Default)]
pub struct FetchTransport;

/// Sends a request without credentials or referrer, so nodes learn nothing about the page,
/// that fails rather than follow a redirect (a node never redirects a client).
async fn fetch(
    url: &str,
    body: Option<&[u8]>,
    deadline: &Deadline,
) -> Result<web_sys::Response, TransportError> {
    let init = web_sys::RequestInit::new();
    init.set_credentials(web_sys::RequestCredentials::Omit);
    init.set_referrer_policy(web_sys::ReferrerPolicy::NoReferrer);
    init.set_redirect(web_sys::RequestRedirect::Error);
    init.set_signal(Some(&deadline.signal()));
    if let Some(body) = body {
        init.set_method("POST");
        let headers = web_sys::Headers::new().map_err(|_| TransportError::Other)?;
        headers
            .set("content-type", "application/octet-stream")
            .map_err(|_| TransportError::Other)?;
        init.set_headers(&headers);
        init.set_body(&js_sys::Uint8Array::from(body));
    }
    let window = web_sys::window().ok_or(TransportError::Other)?;
    // fetch reports refused connections, DNS, TLS and CORS failures alike as a TypeError.
    let response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .map_err(|_| deadline.failure(TransportError::Connect))?;
    response.dyn_into().map_err(|_| TransportError::Other)
}

/// Aborts its fetch when the time is up, or when it is dropped first (the caller gave up: a
/// waiting retrieve dropped on lock or a long-hidden tab closes its connection, which lets the
/// relays and the node let go of it too).
struct Deadline {
    controller: web_sys::AbortController,
    _timer: gloo_timers::callback::Timeout,
}

impl Deadline {
    fn new() -> Result<Self, TransportError> {
        let controller = web_sys::AbortController::new().map_err(|_| TransportError::Other)?;
        let abort = controller.clone();
        let ms = u32::try_from(CLIENT_REQUEST_TIMEOUT_MS).unwrap_or(u32::MAX);
        let timer = gloo_timers::callback::Timeout::new(ms, move || abort.abort());
        Ok(Self {
            controller,
            _timer: timer,
        })
    }

    fn signal(&self) -> web_sys::AbortSignal {
        self.controller.signal()
    }

    /// A failure, as a timeout when the deadline caused it.
    fn failure(&self, otherwise: TransportError) -> TransportError {
        if self.signal().aborted() {
            TransportError::Timeout
        } else {
            otherwise
        }
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        // A no-op once the answer has been read.
        self.controller.abort();
    }
}

/// Reads the answer chunk by chunk, giving up (and cancelling the stream) past
/// [`MAX_REPLY_BYTES`].
async fn read(
    response: web_sys::Response,
    deadline: &Deadline,
) -> Result<HttpResponse, TransportError> {
    let status = response.status();
    let declared = response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_REPLY_BYTES as u64) {
        return Err(TransportError::Other);
    }
    let mut body = Vec::new();
    let Some(stream) = response.body() else {
        return Ok(HttpResponse { status, body });
    };
    let reader: web_sys::ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|_| deadline.failure(TransportError::Other))?;
        let done = js_sys::Reflect::get(&chunk, &"done".into())
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true);
        if done {
            return Ok(HttpResponse { status, body });
        }
        let Ok(value) = js_sys::Reflect::get(&chunk, &"value".into()) else {
            return Err(TransportError::Other);
        };
        let bytes: js_sys::Uint8Array = value.unchecked_into();
        let start = body.len();
        let len = bytes.length() as usize;
        if start + len > MAX_REPLY_BYTES {
            let _ = reader.cancel();
            return Err(TransportError::Other);
        }
        body.resize(start + len, 0);
        bytes.copy_to(&mut body[start..]);
    }
}

impl Transport for FetchTransport {
    async fn post(&self, url: &str, body: Vec<u8>) -> Result<HttpResponse, TransportError> {
        let deadline = Deadline::new()?;
        let response = fetch(url, Some(&body), &deadline).await?;
        read(response, &deadline).await
    }

    async fn get(&self, url: &str) -> Result<HttpResponse, TransportError> {
        let deadline = Deadline::new()?;
        let response = fetch(url, None, &deadline).await?;
        read(response, &deadline).await
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
