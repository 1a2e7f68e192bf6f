//! HTTP and time in a browser: `fetch` (gloo-net) as the client's `Transport`, `Date.now` and
//! `setTimeout` (gloo-timers) as its `Clock`.

use gloo_net::http::Request;
use murmur_core::client::{Clock, HttpResponse, Transport, TransportError};

/// `fetch`, without credentials or referrer.
#[derive(Debug, Clone, Copy, Default)]
pub struct FetchTransport;

fn failed(e: gloo_net::Error) -> TransportError {
    // fetch reports refused connections, DNS, TLS and CORS failures alike as a TypeError.
    match e {
        gloo_net::Error::JsError(_) => TransportError::Connect,
        _ => TransportError::Other,
    }
}

/// A request without credentials or referrer, so nodes learn nothing about the page, that
/// fails rather than follow a redirect (a node never redirects a client).
fn private(builder: gloo_net::http::RequestBuilder) -> gloo_net::http::RequestBuilder {
    builder
        .credentials(web_sys::RequestCredentials::Omit)
        .referrer_policy(web_sys::ReferrerPolicy::NoReferrer)
        .redirect(web_sys::RequestRedirect::Error)
}

async fn read(response: gloo_net::http::Response) -> Result<HttpResponse, TransportError> {
    let status = response.status();
    let body = response.binary().await.map_err(|_| TransportError::Other)?;
    Ok(HttpResponse { status, body })
}

impl Transport for FetchTransport {
    async fn post(&self, url: &str, body: Vec<u8>) -> Result<HttpResponse, TransportError> {
        let array = js_sys::Uint8Array::from(body.as_slice());
        let request = private(Request::post(url))
            .header("content-type", "application/octet-stream")
            .body(array)
            .map_err(failed)?;
        read(request.send().await.map_err(failed)?).await
    }

    async fn get(&self, url: &str) -> Result<HttpResponse, TransportError> {
        read(private(Request::get(url)).send().await.map_err(failed)?).await
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
