//! The seams between the client engine and a platform (DESIGN.md §2 `client`): HTTP, time and a
//! small key-value store. The browser app implements them on `fetch`/timers/IndexedDB, the CLI
//! on reqwest/tokio/files; randomness comes in as any `rand_core::CryptoRng`.
//!
//! The futures are deliberately not `Send`: browser futures never are, and the engine runs on
//! one thread everywhere.
#![allow(async_fn_in_trait)]

use std::cell::RefCell;
use std::collections::BTreeMap;

/// An HTTP response: status and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Why no HTTP response came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// The connection could not be made (refused, DNS, TLS): the node is down or unreachable.
    Connect,
    /// Connected, but no answer in time.
    Timeout,
    /// Anything else (connection reset mid-request, body read failed).
    Other,
}

/// HTTP, as the engine needs it.
pub trait Transport {
    /// `POST url` with an `application/octet-stream` body.
    async fn post(&self, url: &str, body: Vec<u8>) -> Result<HttpResponse, TransportError>;
    /// `GET url`.
    async fn get(&self, url: &str) -> Result<HttpResponse, TransportError>;
}

/// Local time and sleeping. The engine corrects local time with the network's (see
/// `Client::network_now_ms`), so a wrong local clock is fine.
pub trait Clock {
    /// Milliseconds since the Unix epoch, by the local clock.
    fn now_ms(&self) -> u64;
    /// Waits `ms` milliseconds.
    async fn sleep(&self, ms: u64);
}

/// A store failure (the message is for logs and never holds stored values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

/// Small key-value storage for client state (manifest, guards, last hashes, seen hashes).
/// Keys are short ASCII (`[a-z0-9._-]`); values are opaque bytes.
pub trait Store {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    async fn put(&self, key: &str, value: Vec<u8>) -> Result<(), StoreError>;
}

/// A store that keeps everything in memory: a temporary session, and tests.
#[derive(Debug, Default)]
pub struct MemoryStore {
    values: RefCell<BTreeMap<String, Vec<u8>>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// The keys held (for inspection and tests).
    pub fn keys(&self) -> Vec<String> {
        self.values.borrow().keys().cloned().collect()
    }

    /// Forgets everything (a temporary session's logout).
    pub fn clear(&self) {
        self.values.borrow_mut().clear();
    }
}

impl Store for MemoryStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.values.borrow().get(key).cloned())
    }

    async fn put(&self, key: &str, value: Vec<u8>) -> Result<(), StoreError> {
        self.values.borrow_mut().insert(key.to_string(), value);
        Ok(())
    }
}

impl<T: Store + ?Sized> Store for &T {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        (**self).get(key).await
    }

    async fn put(&self, key: &str, value: Vec<u8>) -> Result<(), StoreError> {
        (**self).put(key, value).await
    }
}

impl<T: Store + ?Sized> Store for std::rc::Rc<T> {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        (**self).get(key).await
    }

    async fn put(&self, key: &str, value: Vec<u8>) -> Result<(), StoreError> {
        (**self).put(key, value).await
    }
}
