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
    /// Holds the node key (`node_ed25519.key`) and the database (`messages.sqlite`).
    pub data_dir: PathBuf,
    /// Certificate and key for HTTPS; required unless `listen` is loopback.
    pub tls: Option<TlsConfig>,
    pub network: NetworkConfig,
    pub storage: StorageConfig,
    pub rate_limit: RateLimitConfig,
    pub replication: ReplicationConfig,
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
    /// How often expired messages are deleted, in seconds.
    pub sweep_seconds: u64,
}

/// Per-client-IP token bucket on the public endpoints (Session: 300/s, burst 600).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    pub per_second: u32,
    pub burst: u32,
    /// Most client IPs tracked at once (bounds memory).
    pub max_clients: usize,
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
            data_dir: PathBuf::from("murmur-node-data"),
            tls: None,
            network: NetworkConfig {
                reload_seconds: 30,
                ..NetworkConfig::default()
            },
            storage: StorageConfig::default(),
            rate_limit: RateLimitConfig::default(),
            replication: ReplicationConfig::default(),
        }
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            max_bytes: crate::storage::DEFAULT_MAX_BYTES,
            sweep_seconds: 10,
        }
    }
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            per_second: 300,
            burst: 600,
            max_clients: 100_000,
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
        if self.rate_limit.per_second == 0 || self.rate_limit.burst == 0 {
            anyhow::bail!("rate_limit.per_second and burst must be positive");
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
