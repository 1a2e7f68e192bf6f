//! The node's HTTP client for every call it makes (relaying, peers, seeds), and how it reads
//! their answers. Every other node may be hostile, so: no redirects (a node answering `307
//! Location: http://169.254.169.254/…` must not make this one fetch it for the attacker), and
//! no answer read past [`MAX_REPLY_BYTES`] (one streaming gigabytes must not fill memory).

use std::time::Duration;

use anyhow::Context as _;
use bytes::{Bytes, BytesMut};
use murmur_core::limits::MAX_REPLY_BYTES;

use crate::config::Config;

/// Why an answer was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadError {
    /// It did not arrive in time.
    Timeout,
    /// It broke off, or was longer than [`MAX_REPLY_BYTES`].
    Broken,
}

/// The HTTP client: keep-alive pool, system roots plus the configured CA file, no redirects.
pub fn client(config: &Config) -> anyhow::Result<reqwest::Client> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    if let Some(ca) = &config.network.ca_file {
        use rustls::pki_types::pem::PemObject as _;
        for cert in rustls::pki_types::CertificateDer::pem_file_iter(ca)
            .with_context(|| format!("cannot read CA file {}", ca.display()))?
        {
            roots.add(cert.context("bad certificate in CA file")?)?;
        }
    }
    let tls = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(5))
        // Closed by us before the other node's idle timer closes it under a request.
        .pool_idle_timeout(Duration::from_millis(murmur_core::limits::OUTBOUND_IDLE_MS))
        .pool_max_idle_per_host(64)
        .build()?)
}

/// Reads `response`'s body, giving up past [`MAX_REPLY_BYTES`] without reading further.
pub async fn read_capped(mut response: reqwest::Response) -> Result<Bytes, ReadError> {
    if response
        .content_length()
        .is_some_and(|n| n > MAX_REPLY_BYTES as u64)
    {
        return Err(ReadError::Broken);
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| {
        if e.is_timeout() {
            ReadError::Timeout
        } else {
            ReadError::Broken
        }
    })? {
        if body.len() + chunk.len() > MAX_REPLY_BYTES {
            return Err(ReadError::Broken);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
