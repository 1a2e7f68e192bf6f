//! A whole network on one machine: an operator key, N node identities, a signed manifest with
//! swarms planned by `murmur_core::network::plan_swarms`, and N nodes on 127.0.0.1 in this
//! process. `make run` starts one; the integration tests start, stop and restart its nodes.
//!
//! Everything lives in one directory, so a devnet restarted on the same directory keeps its
//! keys, manifest and messages:
//! `operator.key`, `manifest.json`, `devnet.json` (for clients), `node-<i>/` and `files/` (the
//! network's file server, on the port after the nodes', listed in the manifest).

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use ed25519_dalek::SigningKey;
use murmur_core::network::{
    FileServer, Manifest, ManifestNode, NetworkFile, SignedManifest, plan_swarms,
};
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::config::{Config, NetworkConfig, RateLimitConfig, ReplicationConfig, StorageConfig};
use crate::files::{FileServerConfig, RunningFileServer};
use crate::identity::{NodeIdentity, load_or_create_seed};
use crate::server::{self, RunningNode};

/// What clients need to use a devnet (`DIR/devnet.json`): the network file, and the nodes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DevnetInfo {
    #[serde(flatten)]
    pub network: NetworkFile,
    pub nodes: Vec<ManifestNode>,
}

/// How to build a devnet.
#[derive(Debug, Clone)]
pub struct DevnetSpec {
    pub nodes: usize,
    pub dir: PathBuf,
    /// First port; node i listens on `base_port + i`. 0 picks free ports.
    pub base_port: u16,
    /// Catch-up interval (short, so tests and demos converge quickly).
    pub sync_interval_ms: u64,
    /// Messages one account may hold per node, when not the default (tests of a full mailbox).
    pub account_max_count: Option<u64>,
}

/// A running devnet.
#[derive(Debug)]
pub struct Devnet {
    pub dir: PathBuf,
    pub operator: SigningKey,
    pub manifest: SignedManifest,
    pub clock: Arc<Clock>,
    configs: Vec<Config>,
    nodes: Vec<Option<RunningNode>>,
    /// The network's file server.
    files: Option<RunningFileServer>,
}

fn devnet_info(signed: &SignedManifest) -> DevnetInfo {
    DevnetInfo {
        network: NetworkFile::for_manifest(signed),
        nodes: signed.manifest.nodes.clone(),
    }
}

impl Devnet {
    /// Creates (or reopens) the devnet in `spec.dir` and starts every node.
    pub async fn start(spec: DevnetSpec) -> anyhow::Result<Self> {
        anyhow::ensure!(spec.nodes >= 1, "a devnet needs at least one node");
        std::fs::create_dir_all(&spec.dir)?;
        let operator =
            SigningKey::from_bytes(load_or_create_seed(&spec.dir.join("operator.key"))?.as_bytes());
        let mut listeners = Vec::new();
        let mut identities = Vec::new();
        for i in 0..spec.nodes {
            let port = if spec.base_port == 0 {
                0
            } else {
                spec.base_port
                    .checked_add(u16::try_from(i)?)
                    .context("port out of range")?
            };
            let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))
                .with_context(|| format!("cannot listen on 127.0.0.1:{port}"))?;
            listeners.push(listener);
            identities.push(NodeIdentity::load_or_create(
                &spec.dir.join(format!("node-{i}")),
            )?);
        }
        // The network's file server, on the port after the nodes'.
        let files_port = if spec.base_port == 0 {
            0
        } else {
            spec.base_port
                .checked_add(u16::try_from(spec.nodes)?)
                .context("port out of range")?
        };
        let files_listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], files_port)))
            .with_context(|| format!("cannot listen on 127.0.0.1:{files_port}"))?;
        let files_dir = spec.dir.join("files");
        let file_server = FileServer {
            url: format!("http://{}", files_listener.local_addr()?),
            x25519: hex::encode(crate::files::load_or_create_key(&files_dir)?.public()),
        };
        let swarms = plan_swarms(spec.nodes);
        let mut nodes = Vec::new();
        for ((listener, identity), swarm) in listeners.iter().zip(&identities).zip(&swarms) {
            let mut node = ManifestNode::new(
                identity.ed25519_hex(),
                hex::encode(identity.x25519()),
                format!("http://{}", listener.local_addr()?),
                swarm.0,
            );
            node.capabilities = crate::capabilities();
            nodes.push(node);
        }
        let manifest_path = spec.dir.join("manifest.json");
        let previous = std::fs::read(&manifest_path)
            .ok()
            .and_then(|b| SignedManifest::from_json(&b, &operator.verifying_key().to_bytes()).ok());
        let file_servers = vec![file_server];
        let manifest = match previous {
            Some(p) if p.manifest.nodes == nodes && p.manifest.file_servers == file_servers => p,
            p => {
                let mut manifest = Manifest::new(
                    "murmur-devnet".into(),
                    p.map_or(1, |p| p.manifest.sequence + 1),
                    nodes,
                );
                manifest.file_servers = file_servers;
                SignedManifest::sign(manifest, &operator)?
            }
        };
        std::fs::write(&manifest_path, manifest.to_json())?;
        let info = devnet_info(&manifest);
        std::fs::write(
            spec.dir.join("devnet.json"),
            serde_json::to_string_pretty(&info)?,
        )?;

        let clock = Arc::new(Clock::default());
        let mut configs = Vec::new();
        let mut running = Vec::new();
        for (i, listener) in listeners.into_iter().enumerate() {
            let config = Config {
                listen: listener.local_addr()?,
                metrics_listen: None,
                data_dir: spec.dir.join(format!("node-{i}")),
                tls: None,
                network: NetworkConfig {
                    operator_key: info.network.operator_pubkey.clone(),
                    manifest_file: Some(manifest_path.clone()),
                    seed_urls: Vec::new(),
                    reload_seconds: 2,
                    ca_file: None,
                },
                storage: StorageConfig {
                    account_max_count: spec
                        .account_max_count
                        .unwrap_or(crate::storage::DEFAULT_ACCOUNT_MAX_COUNT),
                    ..StorageConfig::default()
                },
                // Every devnet client shares 127.0.0.1, so the per-IP limit is set far above
                // what one machine can send.
                rate_limit: RateLimitConfig::out_of_reach(),
                replication: ReplicationConfig {
                    sync_interval_ms: spec.sync_interval_ms,
                    forward_timeout_ms: 5_000,
                },
                http: crate::config::HttpConfig::default(),
            };
            let node = server::start(
                config.clone(),
                Some(listener),
                Some(manifest.clone()),
                clock.clone(),
            )
            .await?;
            configs.push(config);
            running.push(Some(node));
        }
        let files = crate::files::start(
            FileServerConfig {
                listen: files_listener.local_addr()?,
                data_dir: files_dir,
                ..FileServerConfig::default()
            },
            Some(files_listener),
            clock.clone(),
        )
        .await?;
        Ok(Self {
            dir: spec.dir,
            operator,
            manifest,
            clock,
            configs,
            nodes: running,
            files: Some(files),
        })
    }

    /// What clients need (also written to `devnet.json`).
    pub fn info(&self) -> DevnetInfo {
        devnet_info(&self.manifest)
    }

    /// Node `i`, if running.
    pub fn node(&self, i: usize) -> Option<&RunningNode> {
        self.nodes.get(i).and_then(Option::as_ref)
    }

    /// Number of nodes (running or stopped).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the devnet has no nodes.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Stops node `i` (its database stays on disk).
    pub async fn stop_node(&mut self, i: usize) {
        if let Some(node) = self.nodes.get_mut(i).and_then(Option::take) {
            node.stop().await;
        }
    }

    /// Starts node `i` again on the same port and database.
    pub async fn restart_node(&mut self, i: usize) -> anyhow::Result<()> {
        self.stop_node(i).await;
        let config = self.configs[i].clone();
        let node = server::start(config, None, None, self.clock.clone()).await?;
        self.nodes[i] = Some(node);
        Ok(())
    }

    /// Signs `manifest` as the next sequence and writes it where every node reloads it from.
    pub fn publish(&mut self, mut manifest: Manifest) -> anyhow::Result<()> {
        manifest.sequence = self.manifest.manifest.sequence + 1;
        let signed = SignedManifest::sign(manifest, &self.operator)?;
        std::fs::write(self.dir.join("manifest.json"), signed.to_json())?;
        self.manifest = signed;
        Ok(())
    }

    /// The network's file server, if running.
    pub fn file_server(&self) -> Option<&RunningFileServer> {
        self.files.as_ref()
    }

    /// Stops the file server (its files stay on disk).
    pub async fn stop_file_server(&mut self) {
        if let Some(files) = self.files.take() {
            files.stop().await;
        }
    }

    /// Stops every node and the file server.
    pub async fn stop(mut self) {
        for i in 0..self.nodes.len() {
            self.stop_node(i).await;
        }
        self.stop_file_server().await;
    }
}
