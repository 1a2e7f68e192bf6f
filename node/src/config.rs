//! Node configuration: a TOML file, overridden by command-line flags. Every field has a default,
//! so a loopback node needs only a manifest and an operator key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Everything a node needs to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on. Plain HTTP is refused unless this is a loopback address.
    pub listen: SocketAddr,
    /// Where to serve `GET /metrics` (Prometheus), plain HTTP; unset serves it nowhere. Bind it
    /// to loopback or a private interface: it is not served on `listen`.
    pub metrics_listen: Option<SocketAddr>,
    /// Holds the node key (`node_ed25519.key`) and the database (`messages.sqlite`).
    pub data_dir: PathBuf,
    /// Certificate and key for HTTPS; required unless `listen` is loopback.
    pub tls: Option<TlsConfig>,
    pub network: NetworkConfig,
    pub storage: StorageConfig,
    pub rate_limit: RateLimitConfig,
    pub replication: ReplicationConfig,
    pub http: HttpConfig,
}

/// What one connection may cost: how many may be open, how long a client may take.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Most connections open at once; more are closed on arrival.
    pub max_connections: usize,
    /// How long a client may take to send a request's headers, and how long a kept-alive
    /// connection may sit idle, in milliseconds.
    pub header_read_timeout_ms: u64,
    /// How long a client may take to send a whole request body, in milliseconds (408 after).
    pub body_read_timeout_ms: u64,
    /// Most waiting retrieves held at once (each holds a connection); more get 503.
    pub max_waiters: usize,
    /// Most waiting retrieves one account may hold here; more get 429.
    pub waiters_per_account: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            max_connections: murmur_core::limits::MAX_CONNECTIONS,
            header_read_timeout_ms: murmur_core::limits::HEADER_READ_TIMEOUT_MS,
            body_read_timeout_ms: murmur_core::limits::BODY_READ_TIMEOUT_MS,
            max_waiters: murmur_core::limits::WAITERS_PER_NODE,
            waiters_per_account: murmur_core::limits::WAITERS_PER_ACCOUNT,
        }
    }
}

/// PEM files for HTTPS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

/// Where the signed manifest comes from, and who must have signed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkConfig {
    /// The operator's Ed25519 public key, hex. Manifests signed by anything else are refused.
    pub operator_key: String,
    /// A local copy of the signed manifest, re-read when it changes.
    pub manifest_file: Option<PathBuf>,
    /// Nodes to fetch `GET /network` from when there is no file (or to find newer ones).
    pub seed_urls: Vec<String>,
    /// How often to look for a newer manifest, in seconds.
    pub reload_seconds: u64,
    /// Extra CA certificates (PEM) trusted for HTTPS to other nodes, besides the system's.
    pub ca_file: Option<PathBuf>,
}

/// Storage limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// Most message bytes this node holds; stores past it are refused with 507.
    pub max_bytes: u64,
    /// Most message bytes one account may hold here; stores past it are refused with 507
    /// "mailbox full", and every other account keeps storing.
    pub account_max_bytes: u64,
    /// Most messages one account may hold here (all namespaces).
    pub account_max_count: u64,
    /// How often expired messages are deleted, in seconds.
    pub sweep_seconds: u64,
}

/// Token buckets per client address (`ratelimit` explains whom a request is charged to).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    /// Public routes, per client IP (IPv6: per /64). Session: 300/s, burst 600.
    pub per_second: u32,
    pub burst: u32,
    /// Onion requests relayed by a manifest node: one relay carries many users.
    pub relay_per_second: u32,
    pub relay_burst: u32,
    /// The signed peer routes (replication, catch-up, handoff), per peer address.
    pub peer_per_second: u32,
    pub peer_burst: u32,
    /// Most buckets tracked at once (bounds memory); the least recently used go first.
    pub max_clients: usize,
    /// Reverse proxies (such as the app's nginx with `--node-proxy`) whose `X-Forwarded-For`
    /// names the real client. Nobody else's header is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// Swarm replication timing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReplicationConfig {
    /// How often each node pulls what it missed from its swarm peers, in milliseconds.
    pub sync_interval_ms: u64,
    /// How long a forwarded write may take at a peer, in milliseconds.
    pub forward_timeout_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 22021)),
            metrics_listen: None,
            data_dir: PathBuf::from("murmur-node-data"),
            tls: None,
            network: NetworkConfig {
                reload_seconds: 30,
                ..NetworkConfig::default()
            },
            storage: StorageConfig::default(),
            rate_limit: RateLimitConfig::default(),
            replication: ReplicationConfig::default(),
            http: HttpConfig::default(),
        }
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            max_bytes: crate::storage::DEFAULT_MAX_BYTES,
            account_max_bytes: crate::storage::DEFAULT_ACCOUNT_MAX_BYTES,
            account_max_count: crate::storage::DEFAULT_ACCOUNT_MAX_COUNT,
            sweep_seconds: 10,
        }
    }
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            per_second: 300,
            burst: 600,
            relay_per_second: 3_000,
            relay_burst: 6_000,
            peer_per_second: 1_000,
            peer_burst: 2_000,
            max_clients: 100_000,
            trusted_proxies: Vec::new(),
        }
    }
}

impl Default for ReplicationConfig {
    fn default() -> Self {
        Self {
            sync_interval_ms: 10_000,
            forward_timeout_ms: 5_000,
        }
    }
}

impl StorageConfig {
    /// The store's caps.
    pub fn caps(&self) -> crate::storage::Caps {
        crate::storage::Caps {
            max_bytes: self.max_bytes,
            account_max_bytes: self.account_max_bytes,
            account_max_count: self.account_max_count,
        }
    }
}

impl RateLimitConfig {
    /// Limits no single machine reaches: for a devnet, where every client is 127.0.0.1.
    pub fn out_of_reach() -> Self {
        Self {
            per_second: 1_000_000,
            burst: 1_000_000,
            relay_per_second: 1_000_000,
            relay_burst: 1_000_000,
            peer_per_second: 1_000_000,
            peer_burst: 1_000_000,
            max_clients: 1024,
            trusted_proxies: Vec::new(),
        }
    }
}

impl Config {
    /// Reads a TOML config file.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read config {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("invalid config {}: {e}", path.display()))
    }

    /// Refuses configurations that would be unsafe or cannot work.
    pub fn check(&self) -> anyhow::Result<()> {
        if self.tls.is_none() && !self.listen.ip().is_loopback() {
            anyhow::bail!(
                "plain HTTP is only allowed on a loopback address; set [tls] cert_file and key_file to listen on {}",
                self.listen.ip()
            );
        }
        self.operator_key()?;
        if self.network.manifest_file.is_none() && self.network.seed_urls.is_empty() {
            anyhow::bail!("set network.manifest_file or network.seed_urls");
        }
        if self.http.max_connections == 0
            || self.http.header_read_timeout_ms == 0
            || self.http.body_read_timeout_ms == 0
        {
            anyhow::bail!("http.max_connections and the http timeouts must be positive");
        }
        let r = &self.rate_limit;
        if [
            r.per_second,
            r.burst,
            r.relay_per_second,
            r.relay_burst,
            r.peer_per_second,
            r.peer_burst,
        ]
        .contains(&0)
        {
            anyhow::bail!("every rate_limit rate and burst must be positive");
        }
        Ok(())
    }

    /// The operator key as bytes.
    pub fn operator_key(&self) -> anyhow::Result<[u8; 32]> {
        let mut key = [0u8; 32];
        hex::decode_to_slice(&self.network.operator_key, &mut key).map_err(|_| {
            anyhow::anyhow!(
                "network.operator_key must be the operator's Ed25519 public key (64 hex characters)"
            )
        })?;
        Ok(key)
    }
}
