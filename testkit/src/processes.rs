//! Separate `murmur-node run` processes on 127.0.0.1 sharing one signed manifest: started,
//! killed with SIGKILL, restarted, watched (readiness, crashes, memory). The fault, hostile and
//! churn suites run on these; [`crate::devnet`] is the in-process alternative.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use murmur_core::SessionId;
use murmur_core::client::NetworkConfig;
use murmur_core::network::{Manifest, ManifestNode, SignedManifest, plan_swarms};
use murmur_node::identity::NodeIdentity;

use crate::net::{free_ports, http};

/// The `murmur-node` binary beside this test binary (`target/<profile>/murmur-node`, built by
/// `cargo test --workspace`), or `MURMUR_NODE_BIN`.
pub fn node_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("MURMUR_NODE_BIN") {
        return bin.into();
    }
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let bin = profile_dir.join("murmur-node");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p murmur-node` (or `cargo test --workspace`) first",
        bin.display()
    );
    bin
}

/// One node process: its config, log and (while running) child.
#[derive(Debug)]
pub struct NodeProc {
    pub port: u16,
    pub data_dir: PathBuf,
    pub config: PathBuf,
    pub log: PathBuf,
    child: Option<Child>,
    pub starts: u32,
}

impl NodeProc {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }
}

/// Separate `murmur-node run` processes on 127.0.0.1 sharing one signed manifest.
#[derive(Debug)]
pub struct ProcessNet {
    pub dir: PathBuf,
    bin: PathBuf,
    pub nodes: Vec<NodeProc>,
    pub manifest: SignedManifest,
    pub operator: SigningKey,
}

impl ProcessNet {
    /// Writes keys, a signed manifest (swarms of 3) and a config per node under `dir`; starts
    /// nothing. `extra_toml` is appended to every node's config.
    pub fn create(bin: &Path, dir: &Path, count: usize, sync_ms: u64, extra_toml: &str) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let operator = SigningKey::from_bytes(&[77; 32]);
        let ports = free_ports(count);
        let swarms = plan_swarms(count);
        let mut manifest_nodes = Vec::new();
        let mut nodes = Vec::new();
        for (i, (port, swarm)) in ports.iter().zip(&swarms).enumerate() {
            let data_dir = dir.join(format!("node-{i}"));
            let id = NodeIdentity::load_or_create(&data_dir).unwrap();
            let mut entry = ManifestNode::new(
                id.ed25519_hex(),
                hex::encode(id.x25519()),
                format!("http://127.0.0.1:{port}"),
                swarm.0,
            );
            entry.capabilities = murmur_node::capabilities();
            manifest_nodes.push(entry);
            nodes.push(NodeProc {
                port: *port,
                config: dir.join(format!("node-{i}.toml")),
                log: dir.join(format!("node-{i}.log")),
                data_dir,
                child: None,
                starts: 0,
            });
        }
        let manifest = SignedManifest::sign(
            Manifest::new("murmur-churn".into(), 1, manifest_nodes),
            &operator,
        )
        .unwrap();
        let manifest_file = dir.join("manifest.json");
        std::fs::write(&manifest_file, manifest.to_json()).unwrap();
        // Every client shares 127.0.0.1, so the per-IP limits are set out of reach.
        let rate_limit = toml::to_string(&murmur_node::config::RateLimitConfig::out_of_reach())
            .expect("the rate limits serialise");
        for node in &nodes {
            let config = format!(
                "listen = \"127.0.0.1:{}\"\n\
                 data_dir = \"{}\"\n\
                 [network]\n\
                 operator_key = \"{}\"\n\
                 manifest_file = \"{}\"\n\
                 reload_seconds = 2\n\
                 [rate_limit]\n\
                 {rate_limit}\
                 [replication]\n\
                 sync_interval_ms = {sync_ms}\n\
                 forward_timeout_ms = 2000\n\
                 {extra_toml}",
                node.port,
                node.data_dir.display(),
                hex::encode(operator.verifying_key().to_bytes()),
                manifest_file.display(),
            );
            std::fs::write(&node.config, config).unwrap();
        }
        Self {
            dir: dir.to_path_buf(),
            bin: bin.to_path_buf(),
            nodes,
            manifest,
            operator,
        }
    }

    /// Starts node `i` (its log is appended to across restarts).
    pub fn start(&mut self, i: usize) {
        self.start_with(i, Command::new(&self.bin));
    }

    /// Starts node `i` with `command` (e.g. a wrapper that runs the binary in its own mount
    /// namespace); `run --config <file>` is appended.
    pub fn start_with(&mut self, i: usize, mut command: Command) {
        let node = &mut self.nodes[i];
        assert!(node.child.is_none(), "node {i} is running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&node.log)
            .unwrap();
        let child = command
            .args(["run", "--config"])
            .arg(&node.config)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        node.child = Some(child);
        node.starts += 1;
    }

    /// Restarts node `i` on a fresh hidden port, leaving its published port (the one the
    /// manifest names) free for a stand-in in front of it; returns the hidden port.
    pub fn move_to_hidden_port(&mut self, i: usize) -> u16 {
        self.kill(i);
        let published = self.nodes[i].port;
        let hidden = crate::net::free_port();
        let config = std::fs::read_to_string(&self.nodes[i].config)
            .unwrap()
            .replace(
                &format!("listen = \"127.0.0.1:{published}\""),
                &format!("listen = \"127.0.0.1:{hidden}\""),
            );
        std::fs::write(&self.nodes[i].config, config).unwrap();
        self.start(i);
        hidden
    }

    /// The program that runs a node (for wrappers of [`Self::start_with`]).
    pub fn bin(&self) -> &Path {
        &self.bin
    }

    /// SIGKILL: no shutdown, no flush, no goodbye.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Whether node `i` exited by itself (a crash), with its status.
    pub fn exited(&mut self, i: usize) -> Option<std::process::ExitStatus> {
        self.nodes[i].child.as_mut()?.try_wait().ok().flatten()
    }

    /// Forgets node `i`'s child after it exited by itself, so it can be started again.
    pub fn forget_exited(&mut self, i: usize) {
        self.nodes[i].child = None;
    }

    /// Waits until node `i` answers `GET /network`.
    pub async fn wait_ready(&self, i: usize, timeout: Duration) -> bool {
        let http = http();
        let url = format!("{}/network", self.nodes[i].url());
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(r) = http.get(&url).send().await
                && r.status() == 200
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }

    /// Starts every node that is not running and waits for all of them.
    pub async fn start_all(&mut self) {
        for i in 0..self.nodes.len() {
            if !self.nodes[i].is_running() {
                self.start(i);
            }
        }
        for i in 0..self.nodes.len() {
            assert!(
                self.wait_ready(i, Duration::from_secs(30)).await,
                "node {i} did not come up: {}",
                self.log_text(i)
            );
        }
    }

    /// Resident memory of node `i` in KiB (Linux `/proc`).
    pub fn rss_kib(&self, i: usize) -> Option<u64> {
        let pid = self.nodes[i].pid()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    pub fn log_text(&self, i: usize) -> String {
        std::fs::read_to_string(&self.nodes[i].log).unwrap_or_default()
    }

    /// What clients need to find this network.
    pub fn network(&self) -> NetworkConfig {
        NetworkConfig {
            seeds: self.nodes.iter().take(3).map(NodeProc::url).collect(),
            operator_key: self.operator.verifying_key().to_bytes(),
        }
    }

    /// The indexes of the nodes in the swarm that holds `to`'s messages.
    pub fn swarm_of(&self, to: &SessionId) -> Vec<usize> {
        let m = &self.manifest.manifest;
        let swarm = m.swarm_for_key(&to.x25519_pubkey()).unwrap();
        (0..m.nodes.len())
            .filter(|&i| m.nodes[i].swarm() == swarm)
            .collect()
    }
}

impl Drop for ProcessNet {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            self.kill(i);
        }
    }
}
