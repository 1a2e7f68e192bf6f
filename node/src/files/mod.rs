//! The file server, a role of `murmur-node` (`murmur-node files`): where attachments and
//! profile pictures wait, encrypted, for their recipients (SESSION-ATTACHMENTS-CONFIG.md A.3,
//! A.4; `docs/protocol.md` "Attachments").
//!
//! Clients reach it only through onion requests: the last node of a path relays the request
//! (`POST /oxen/v4/lsrpc`, the hop's plaintext) to a file server the manifest names, and the
//! file server opens the innermost layer with its own X25519 key, answers the v4 request in it
//! (`POST /file`, `GET /file/<id>`, `…/info`, `…/extend`) and encrypts the answer for the
//! client alone. So it never learns a client's address, and the relaying node never sees a
//! file or an ID. The same endpoints are served directly too (as Session's server does), under
//! the same quotas.
//!
//! Files are kept on disk with their metadata in SQLite ([`store`]) until their TTL (14 days
//! unless configured), counted against a quota per uploader — the address an upload came
//! from, which for onion uploads is the relaying node, since uploads are anonymous — and a
//! total.

pub mod http;
pub mod store;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use murmur_core::onion::NodeKey;
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::config::{HttpConfig, TlsConfig};
use store::{FileStore, Quotas};

/// The file server's key file in its data directory (the X25519 secret, hex).
pub const KEY_FILE: &str = "files_x25519.key";

/// A file server's configuration (TOML, like a node's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileServerConfig {
    /// Address to listen on. Plain HTTP is refused unless this is a loopback address.
    pub listen: SocketAddr,
    /// Holds the key, the database and the files.
    pub data_dir: PathBuf,
    pub tls: Option<TlsConfig>,
    /// How long a file is kept, in seconds, unless its upload asks for less (`X-FS-TTL`).
    pub ttl_seconds: u64,
    /// Largest upload, in bytes (one part of a file: Session's largest).
    pub max_upload_bytes: u64,
    /// Bytes all uploads from one address may occupy at once.
    pub uploader_quota_bytes: u64,
    /// Bytes the server holds at most.
    pub total_quota_bytes: u64,
    /// How often expired files are removed, in seconds.
    pub sweep_seconds: u64,
    pub http: HttpConfig,
}

/// Session's default file TTL is three weeks; Murmur keeps files as long as messages.
pub const DEFAULT_FILE_TTL_SECONDS: u64 = 14 * 24 * 3600;

impl Default for FileServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 22200)),
            data_dir: PathBuf::from("murmur-files"),
            tls: None,
            ttl_seconds: DEFAULT_FILE_TTL_SECONDS,
            max_upload_bytes: murmur_core::files::PART_BYTES as u64,
            uploader_quota_bytes: 20 * 1024 * 1024 * 1024,
            total_quota_bytes: 200 * 1024 * 1024 * 1024,
            sweep_seconds: 600,
            http: HttpConfig::default(),
        }
    }
}

impl FileServerConfig {
    /// Refuses what cannot be served: plain HTTP beyond loopback, a zero TTL or bound.
    pub fn check(&self) -> anyhow::Result<()> {
        if self.tls.is_none() && !self.listen.ip().is_loopback() {
            anyhow::bail!(
                "plain HTTP is only allowed on a loopback address; configure [tls] to listen on {}",
                self.listen
            );
        }
        if self.ttl_seconds == 0 || self.max_upload_bytes == 0 {
            anyhow::bail!("ttl_seconds and max_upload_bytes must be above zero");
        }
        Ok(())
    }
}

/// A file server's state.
#[derive(Debug)]
pub struct FileServer {
    pub config: FileServerConfig,
    pub store: FileStore,
    pub key: NodeKey,
    pub clock: Arc<Clock>,
}

/// Loads the X25519 key from `dir`, creating it (random, readable by the owner only) on first
/// start.
pub fn load_or_create_key(dir: &std::path::Path) -> anyhow::Result<NodeKey> {
    std::fs::create_dir_all(dir)?;
    let secret = crate::identity::load_or_create_seed(&dir.join(KEY_FILE))?;
    Ok(NodeKey::from_secret(*secret.as_bytes()))
}

impl FileServer {
    /// Opens the store and the key in the configured directory.
    pub fn open(config: FileServerConfig, clock: Arc<Clock>) -> anyhow::Result<Self> {
        config.check()?;
        let key = load_or_create_key(&config.data_dir)?;
        let store = FileStore::open(
            &config.data_dir,
            Quotas {
                total_bytes: config.total_quota_bytes,
                uploader_bytes: config.uploader_quota_bytes,
            },
        )
        .context("cannot open the file store")?;
        Ok(Self {
            config,
            store,
            key,
            clock,
        })
    }

    /// The public key clients encrypt to, as the manifest lists it.
    pub fn x25519_hex(&self) -> String {
        hex::encode(self.key.public())
    }
}

/// A file server serving on a socket (see [`start`]).
#[derive(Debug)]
pub struct RunningFileServer {
    pub server: Arc<FileServer>,
    pub addr: SocketAddr,
    handle: axum_server::Handle,
    shutdown: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl RunningFileServer {
    /// Stops serving (requests in flight get a few seconds) and the expiry sweep.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        self.handle
            .graceful_shutdown(Some(std::time::Duration::from_secs(5)));
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Opens the file server of `config` and serves it on `listener` (or its `listen` address),
/// sweeping expired files every `sweep_seconds`.
pub async fn start(
    config: FileServerConfig,
    listener: Option<std::net::TcpListener>,
    clock: Arc<Clock>,
) -> anyhow::Result<RunningFileServer> {
    crate::server::install_crypto_provider();
    let listen = config.listen;
    let server = Arc::new(FileServer::open(config, clock)?);
    let listener = match listener {
        Some(l) => l,
        None => std::net::TcpListener::bind(listen)
            .with_context(|| format!("cannot listen on {listen}"))?,
    };
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let handle = axum_server::Handle::new();
    let serving = crate::server::serve_http(
        http::router(server.clone()),
        listener,
        server.config.tls.as_ref(),
        &server.config.http,
        handle.clone(),
    )
    .await?;
    let (shutdown, mut stopped) = tokio::sync::watch::channel(false);
    let sweeper = {
        let server = server.clone();
        tokio::spawn(async move {
            let every = std::time::Duration::from_secs(server.config.sweep_seconds.max(1));
            let mut tick = tokio::time::interval(every);
            loop {
                tokio::select! {
                    _ = stopped.changed() => return,
                    _ = tick.tick() => {}
                }
                let store = server.clone();
                let now = server.clock.now_ms();
                match tokio::task::spawn_blocking(move || store.store.sweep(now)).await {
                    Ok(Ok(0)) => {}
                    Ok(Ok(n)) => tracing::debug!(removed = n, "expired files swept"),
                    Ok(Err(e)) => tracing::error!(error = %e, "file sweep failed"),
                    Err(_) => tracing::error!("file sweep task failed"),
                }
            }
        })
    };
    tracing::info!(tls = server.config.tls.is_some(), "file server serving");
    Ok(RunningFileServer {
        server,
        addr,
        handle,
        shutdown,
        tasks: vec![serving, sweeper],
    })
}
