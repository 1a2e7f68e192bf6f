//! The native side of the client's platform seams: HTTP over reqwest (rustls), the system
//! clock with tokio timers, and a store of one file per key in the home's `state/` directory.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use murmur_core::client::{Clock, HttpResponse, Store, StoreError, Transport, TransportError};
use murmur_core::limits::MAX_REPLY_BYTES;

/// Per-request limit: a 3-hop onion request plus a relay's own 30 s timeout.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(35);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// HTTP over a keep-alive reqwest client. Trusts the system roots plus an optional CA file
/// (self-hosted networks with their own CA).
#[derive(Debug, Clone)]
pub struct HttpTransport {
    http: reqwest::Client,
}

impl HttpTransport {
    pub fn new(ca_file: Option<&Path>) -> Result<Self, String> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut roots = rustls::RootCertStore::empty();
        roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        if let Some(path) = ca_file {
            use rustls::pki_types::CertificateDer;
            use rustls::pki_types::pem::PemObject as _;
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("cannot read CA file {}: {e}", path.display()))?;
            for cert in certs {
                let cert = cert.map_err(|e| format!("bad CA file {}: {e}", path.display()))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("bad CA certificate in {}: {e}", path.display()))?;
            }
        }
        let tls = rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            // A node never redirects a client; one that tries is not followed.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|e| format!("cannot set up HTTP: {e}"))?;
        Ok(Self { http })
    }

    async fn finish(
        sent: Result<reqwest::Response, reqwest::Error>,
    ) -> Result<HttpResponse, TransportError> {
        let response = sent.map_err(|e| {
            if e.is_connect() {
                TransportError::Connect
            } else if e.is_timeout() {
                TransportError::Timeout
            } else {
                TransportError::Other
            }
        })?;
        let status = response.status().as_u16();
        let body = read_capped(response).await?;
        Ok(HttpResponse { status, body })
    }
}

/// Reads an answer, giving up past [`MAX_REPLY_BYTES`]: a hostile guard must not be able to
/// stream gigabytes into the client.
async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, TransportError> {
    let failed = |e: reqwest::Error| {
        if e.is_timeout() {
            TransportError::Timeout
        } else {
            TransportError::Other
        }
    };
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(failed)? {
        if body.len() + chunk.len() > MAX_REPLY_BYTES {
            return Err(TransportError::Other);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

impl Transport for HttpTransport {
    async fn post(&self, url: &str, body: Vec<u8>) -> Result<HttpResponse, TransportError> {
        let sent = self
            .http
            .post(url)
            .header("content-type", "application/octet-stream")
            .body(body)
            .send()
            .await;
        Self::finish(sent).await
    }

    async fn get(&self, url: &str) -> Result<HttpResponse, TransportError> {
        Self::finish(self.http.get(url).send().await).await
    }
}

/// The system clock, optionally shifted (tests simulate a wrong local clock with it).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock {
    pub skew_ms: i64,
}

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        real.saturating_add_signed(self.skew_ms)
    }

    async fn sleep(&self, ms: u64) {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
}

/// One file per key under a directory; writes go to a temporary file first and are renamed
/// into place, so a crash never leaves half a value.
#[derive(Debug, Clone)]
pub struct DirStore {
    dir: PathBuf,
}

impl DirStore {
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, String> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        Ok(Self { dir })
    }

    fn path(&self, key: &str) -> Result<PathBuf, StoreError> {
        let safe = !key.is_empty()
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
            && !key.starts_with('.');
        if safe {
            Ok(self.dir.join(key))
        } else {
            Err(StoreError("invalid store key".into()))
        }
    }
}

impl DirStore {
    /// The keys that start with `prefix`.
    pub fn keys_with_prefix(&self, prefix: &str) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|name| name.starts_with(prefix))
            .collect()
    }

    /// Removes `key` (nothing when it is not there).
    pub fn remove(&self, key: &str) -> Result<(), StoreError> {
        match std::fs::remove_file(self.path(key)?) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StoreError(e.to_string())),
        }
    }
}

impl Store for DirStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match std::fs::read(self.path(key)?) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError(format!("read failed: {}", e.kind()))),
        }
    }

    async fn put(&self, key: &str, value: Vec<u8>) -> Result<(), StoreError> {
        let path = self.path(key)?;
        let tmp = self.dir.join(format!(".{key}.tmp"));
        std::fs::write(&tmp, value)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| StoreError(format!("write failed: {}", e.kind())))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn dir_store_round_trips_and_refuses_odd_keys() {
        let dir = tempfile::tempdir().unwrap();
        let store = DirStore::open(dir.path().join("state")).unwrap();
        assert_eq!(store.get("manifest").await.unwrap(), None);
        store.put("manifest", b"one".to_vec()).await.unwrap();
        store.put("manifest", b"two".to_vec()).await.unwrap();
        assert_eq!(store.get("manifest").await.unwrap(), Some(b"two".to_vec()));
        for bad in ["", "../x", "a/b", ".hidden"] {
            assert!(store.put(bad, vec![]).await.is_err(), "{bad}");
        }
        assert!(!dir.path().join("x").exists());
    }

    #[tokio::test]
    async fn dir_store_keeps_the_store_contract() {
        let dir = tempfile::tempdir().unwrap();
        let store = DirStore::open(dir.path().join("state")).unwrap();
        murmur_core::client::conformance::check_store(&store)
            .await
            .unwrap();
    }
}
