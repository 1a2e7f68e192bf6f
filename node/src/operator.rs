//! Operator tooling (`murmur-node network …`, `murmur-node node init`): the operator keeps the
//! network in one directory, on a machine of their own (not a node):
//! - `operator.key`: the operator's Ed25519 seed, hex, mode 0600 — back it up; whoever holds it
//!   can re-route the whole network;
//! - `draft.json`: the next manifest, unsigned; `add-node` / `remove-node` edit it;
//! - `manifest.json`: the last signed manifest, what nodes and clients are given (`sign`).
//!
//! Swarm ids follow Session's rules (`murmur_core::network::swarm_for_new_node`): a new node
//! joins the smallest swarm until every swarm is two over the target size, then starts a new
//! swarm at the middle of the largest gap.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail, ensure};
use ed25519_dalek::SigningKey;
use murmur_core::network::{
    FileServer, Manifest, ManifestNode, NetworkFile, SignedManifest, swarm_for_new_node,
};
use murmur_core::swarm::SwarmId;
use serde::{Deserialize, Serialize};

use crate::identity::{NodeIdentity, load_or_create_seed};

const OPERATOR_KEY: &str = "operator.key";
const DRAFT: &str = "draft.json";
const MANIFEST: &str = "manifest.json";

/// A node's public identity and address: what `node init` writes and `network add-node` reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeCard {
    pub ed25519: String,
    pub x25519: String,
    pub url: String,
    /// What the node's build offers (`crate::CAPABILITIES`); a card from a build before
    /// capabilities has none, and clients then poll that node.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<String>,
}

impl NodeCard {
    /// The card of the node whose key is in `data_dir` (created there on first use).
    pub fn for_node(data_dir: &Path, url: &str) -> anyhow::Result<Self> {
        let id = NodeIdentity::load_or_create(data_dir)?;
        Ok(Self {
            ed25519: id.ed25519_hex(),
            x25519: hex::encode(id.x25519()),
            url: url.trim_end_matches('/').to_string(),
            capabilities: crate::capabilities(),
        })
    }
}

/// A network directory.
#[derive(Debug)]
pub struct NetworkDir {
    dir: PathBuf,
    operator: SigningKey,
}

fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

impl NetworkDir {
    /// Creates a network named `name` in `dir` with a new operator key. Refuses a directory
    /// that already has one, so a key is never replaced by accident.
    pub fn init(dir: &Path, name: &str) -> anyhow::Result<Self> {
        ensure!(
            !dir.join(OPERATOR_KEY).exists(),
            "{} already holds a network (operator.key exists)",
            dir.display()
        );
        ensure!(!name.trim().is_empty(), "the network needs a name");
        std::fs::create_dir_all(dir)?;
        let seed = load_or_create_seed(&dir.join(OPERATOR_KEY))?;
        let network = Self {
            dir: dir.to_path_buf(),
            operator: SigningKey::from_bytes(seed.as_bytes()),
        };
        network.save_draft(&Manifest::new(name.to_string(), 0, Vec::new()))?;
        Ok(network)
    }

    /// Opens the network in `dir`.
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        let key = dir.join(OPERATOR_KEY);
        ensure!(
            key.exists(),
            "{} is not a network directory (no operator.key): run `murmur-node network init`",
            dir.display()
        );
        let seed = load_or_create_seed(&key)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            operator: SigningKey::from_bytes(seed.as_bytes()),
        })
    }

    /// The operator's public key, hex (what nodes and clients pin).
    pub fn operator_pubkey(&self) -> String {
        hex::encode(self.operator.verifying_key().to_bytes())
    }

    /// The manifest being edited.
    pub fn draft(&self) -> anyhow::Result<Manifest> {
        let path = self.dir.join(DRAFT);
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_slice(&bytes).with_context(|| format!("{} is damaged", path.display()))
    }

    fn save_draft(&self, draft: &Manifest) -> anyhow::Result<()> {
        write_atomically(&self.dir.join(DRAFT), &serde_json::to_string_pretty(draft)?)
    }

    /// The last signed manifest, checked against this operator's key.
    pub fn signed(&self) -> anyhow::Result<Option<SignedManifest>> {
        let path = self.dir.join(MANIFEST);
        if !path.exists() {
            return Ok(None);
        }
        let bytes = std::fs::read(&path)?;
        let key = self.operator.verifying_key().to_bytes();
        SignedManifest::from_json(&bytes, &key)
            .map(Some)
            .map_err(|e| anyhow::anyhow!("{} does not verify: {e}", path.display()))
    }

    /// Adds a node to the draft; returns the swarm it joins.
    pub fn add_node(&self, card: &NodeCard) -> anyhow::Result<SwarmId> {
        let mut draft = self.draft()?;
        if draft.nodes.iter().any(|n| n.ed25519 == card.ed25519) {
            bail!("node {} is already in the network", short(&card.ed25519));
        }
        if draft.nodes.iter().any(|n| n.url == card.url) {
            bail!("another node already has the URL {}", card.url);
        }
        let swarm = swarm_for_new_node(&draft);
        let mut node = ManifestNode::new(
            card.ed25519.clone(),
            card.x25519.clone(),
            card.url.clone(),
            swarm.0,
        );
        node.capabilities = card.capabilities.clone();
        draft.nodes.push(node);
        // The whole draft must stay a valid manifest (keys, URL, no duplicates).
        draft
            .validate()
            .map_err(|e| anyhow::anyhow!("cannot add this node: {e}"))?;
        self.save_draft(&draft)?;
        Ok(swarm)
    }

    /// Removes the node with Ed25519 key `ed25519` (hex) from the draft.
    pub fn remove_node(&self, ed25519: &str) -> anyhow::Result<()> {
        let mut draft = self.draft()?;
        let before = draft.nodes.len();
        draft.nodes.retain(|n| n.ed25519 != ed25519);
        ensure!(
            draft.nodes.len() < before,
            "no node {} in the network",
            short(ed25519)
        );
        self.save_draft(&draft)
    }

    /// Lists a file server (its URL and X25519 key, from `murmur-node files-key`) in the draft:
    /// clients upload only to listed file servers, and nodes relay only to them.
    pub fn add_file_server(&self, url: &str, x25519: &str) -> anyhow::Result<()> {
        let mut draft = self.draft()?;
        let url = url.trim_end_matches('/').to_string();
        ensure!(
            url.starts_with("https://") || url.starts_with("http://"),
            "a file server URL is http(s)://host[:port]"
        );
        let mut key = [0u8; 32];
        hex::decode_to_slice(x25519, &mut key)
            .map_err(|_| anyhow::anyhow!("the X25519 key must be 64 hex characters"))?;
        if draft.file_servers.iter().any(|f| f.url == url) {
            bail!("the file server {url} is already listed");
        }
        draft.file_servers.push(FileServer {
            url,
            x25519: x25519.to_ascii_lowercase(),
        });
        self.save_draft(&draft)
    }

    /// Removes the file server at `url` from the draft.
    pub fn remove_file_server(&self, url: &str) -> anyhow::Result<()> {
        let mut draft = self.draft()?;
        let before = draft.file_servers.len();
        draft
            .file_servers
            .retain(|f| f.url != url.trim_end_matches('/'));
        ensure!(
            draft.file_servers.len() < before,
            "no file server {url} is listed"
        );
        self.save_draft(&draft)
    }

    /// Signs the draft as the next sequence, valid for the default lifetime from now, and
    /// writes `manifest.json`.
    pub fn sign(&self) -> anyhow::Result<SignedManifest> {
        self.sign_with(Lifetime::default(), crate::clock::Clock::default().now_ms())
    }

    /// [`Self::sign`] with a chosen lifetime, dated `now_ms`.
    pub fn sign_with(&self, lifetime: Lifetime, now_ms: u64) -> anyhow::Result<SignedManifest> {
        if lifetime.refresh_days == 0 || lifetime.refresh_days > lifetime.expire_days {
            anyhow::bail!("the refresh time must come after signing and before the expiry");
        }
        let mut draft = self.draft()?;
        let held = self.signed()?.map_or(0, |s| s.manifest.sequence);
        draft.sequence = held.max(draft.sequence) + 1;
        draft.refresh_ms = Some(now_ms + lifetime.refresh_days * DAY_MS);
        draft.expires_ms = Some(now_ms + lifetime.expire_days * DAY_MS);
        draft
            .validate()
            .map_err(|e| anyhow::anyhow!("the draft cannot be signed: {e}"))?;
        let signed = SignedManifest::sign(draft.clone(), &self.operator)
            .map_err(|e| anyhow::anyhow!("cannot sign: {e}"))?;
        write_atomically(&self.dir.join(MANIFEST), &signed.to_json())?;
        self.save_draft(&draft)?;
        Ok(signed)
    }

    /// The web app's `config.json` for the signed manifest: every node a seed.
    pub fn app_config(&self) -> anyhow::Result<NetworkFile> {
        let signed = self
            .signed()?
            .context("nothing signed yet: run `murmur-node network sign`")?;
        Ok(NetworkFile::for_manifest(&signed))
    }
}

const DAY_MS: u64 = 24 * 3600 * 1000;

/// How long a signed manifest lasts: past `refresh_days` clients warn that it is stale, past
/// `expire_days` they refuse it. The operator signs again (`network sign`) before the first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime {
    pub refresh_days: u64,
    pub expire_days: u64,
}

impl Default for Lifetime {
    fn default() -> Self {
        Self {
            refresh_days: 30,
            expire_days: 90,
        }
    }
}

fn short(hex: &str) -> &str {
    &hex[..hex.len().min(12)]
}

/// A human summary of `manifest`: sequence and nodes grouped by swarm.
pub fn describe(manifest: &Manifest) -> String {
    let mut out = format!(
        "network {:?}, sequence {}, {} node(s) in {} swarm(s)\n",
        manifest.network,
        manifest.sequence,
        manifest.nodes.len(),
        manifest.swarm_ids().len()
    );
    for swarm in manifest.swarm_ids() {
        out.push_str(&format!("swarm {:016x}\n", swarm.0));
        for node in manifest.members(swarm) {
            out.push_str(&format!("  {}  {}\n", short(&node.ed25519), node.url));
        }
    }
    for files in &manifest.file_servers {
        out.push_str(&format!(
            "file server {}  {}\n",
            files.url,
            short(&files.x25519)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(i: u16) -> NodeCard {
        let dir = tempfile::tempdir().unwrap();
        NodeCard::for_node(dir.path(), &format!("https://node{i}.example.org:22021")).unwrap()
    }

    #[test]
    fn nodes_join_swarms_and_each_signature_bumps_the_sequence() {
        let dir = tempfile::tempdir().unwrap();
        let net = NetworkDir::init(dir.path(), "example").unwrap();
        assert!(
            NetworkDir::init(dir.path(), "again").is_err(),
            "never replaces a key"
        );
        assert!(net.sign().is_err(), "an empty network cannot be signed");
        let cards: Vec<NodeCard> = (0..6).map(card).collect();
        for c in &cards {
            net.add_node(c).unwrap();
        }
        let first = net.sign().unwrap();
        assert_eq!(first.manifest.sequence, 1);
        assert_eq!(
            first.manifest.swarm_ids().len(),
            2,
            "6 nodes: 2 swarms of 3"
        );
        assert!(net.add_node(&cards[0]).is_err(), "no duplicates");
        let mut same_url = card(9);
        same_url.url.clone_from(&cards[1].url);
        assert!(net.add_node(&same_url).is_err());
        net.remove_node(&cards[2].ed25519).unwrap();
        assert!(net.remove_node(&cards[2].ed25519).is_err());
        let second = net.sign().unwrap();
        assert_eq!(
            (second.manifest.sequence, second.manifest.nodes.len()),
            (2, 5)
        );
        second.check_newer_than(Some(&first)).unwrap();
        // Each signature dates the manifest: stale after 30 days, refused after 90.
        use murmur_core::network::Freshness;
        let m = &second.manifest;
        let signed_at = m.refresh_ms.unwrap() - 30 * DAY_MS;
        assert_eq!(m.expires_ms, Some(signed_at + 90 * DAY_MS));
        assert_eq!(m.freshness(signed_at + DAY_MS), Freshness::Fresh);
        assert!(matches!(
            m.freshness(signed_at + 31 * DAY_MS),
            Freshness::Stale { .. }
        ));
        assert!(matches!(
            m.freshness(signed_at + 90 * DAY_MS),
            Freshness::Expired { .. }
        ));
        let custom = Lifetime {
            refresh_days: 1,
            expire_days: 2,
        };
        let third = net.sign_with(custom, 1_000).unwrap();
        assert_eq!(third.manifest.expires_ms, Some(1_000 + 2 * DAY_MS));
        assert!(
            net.sign_with(
                Lifetime {
                    refresh_days: 3,
                    expire_days: 2
                },
                0
            )
            .is_err(),
            "refresh after expiry"
        );
        // Reopened from disk: same key, same manifest, verified.
        let again = NetworkDir::open(dir.path()).unwrap();
        assert_eq!(again.signed().unwrap().unwrap(), third);
        assert_eq!(again.app_config().unwrap().seeds.len(), 5);
    }

    #[test]
    fn a_bad_card_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let net = NetworkDir::init(dir.path(), "example").unwrap();
        let mut bad = card(1);
        bad.x25519 = "00".repeat(32);
        assert!(net.add_node(&bad).is_err());
        let mut bad_url = card(2);
        bad_url.url = "ftp://node".into();
        assert!(net.add_node(&bad_url).is_err());
        assert!(net.draft().unwrap().nodes.is_empty());
    }

    #[test]
    fn a_tampered_manifest_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let net = NetworkDir::init(dir.path(), "example").unwrap();
        net.add_node(&card(1)).unwrap();
        net.sign().unwrap();
        let path = dir.path().join(MANIFEST);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("node1.example.org", "evil.example.org")).unwrap();
        assert!(net.signed().is_err());
        assert!(
            net.sign().is_err(),
            "nothing is signed over a manifest that does not verify"
        );
    }
}
