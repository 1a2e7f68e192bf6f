//! This node's view of the network: the newest signed manifest it has accepted, which swarm it
//! is in, and who its swarm peers are. A newer manifest (from the file or a seed node) replaces
//! the view without a restart; subscribers (replication) are told through a watch channel.

use std::sync::{Arc, RwLock};

use murmur_core::network::{ManifestNode, Offer, SignedManifest};
use murmur_core::rpc::AccountId;
use murmur_core::rpc::response::{GetSwarmResponse, SwarmNode};
use murmur_core::swarm::{SwarmId, swarm_for, swarm_space};
use tokio::sync::watch;

/// One accepted manifest, with this node's place in it.
#[derive(Debug)]
pub struct Topology {
    pub signed: SignedManifest,
    /// This node's swarm, or `None` when the manifest does not list it.
    pub my_swarm: Option<SwarmId>,
    /// The manifest's swarm ids, sorted once here rather than on every request.
    swarm_ids: Vec<SwarmId>,
    my_ed25519: String,
}

impl Topology {
    fn new(signed: SignedManifest, my_ed25519: &str) -> Self {
        let my_swarm = signed
            .manifest
            .nodes
            .iter()
            .find(|n| n.ed25519 == my_ed25519)
            .map(ManifestNode::swarm);
        Self {
            swarm_ids: signed.manifest.swarm_ids(),
            signed,
            my_swarm,
            my_ed25519: my_ed25519.to_string(),
        }
    }

    /// The swarm responsible for `account`.
    pub fn swarm_of(&self, account: &AccountId) -> Option<SwarmId> {
        swarm_for(swarm_space(&account.key()), &self.swarm_ids)
    }

    /// Whether this node's swarm holds `account`'s messages.
    pub fn owns(&self, account: &AccountId) -> bool {
        self.my_swarm.is_some() && self.swarm_of(account) == self.my_swarm
    }

    /// Whether the node `ed25519` is a member of the swarm that holds `account`.
    pub fn member_for(&self, ed25519: &str, account: &AccountId) -> bool {
        let owner = self.swarm_of(account);
        owner.is_some() && self.node(ed25519).map(ManifestNode::swarm) == owner
    }

    /// Whether the node `ed25519` is a member of swarm `swarm_id`.
    pub fn in_swarm(&self, ed25519: &str, swarm_id: u64) -> bool {
        self.node(ed25519).is_some_and(|n| n.swarm_id == swarm_id)
    }

    /// The other members of this node's swarm.
    pub fn peers(&self) -> Vec<ManifestNode> {
        match self.my_swarm {
            Some(swarm) => self
                .signed
                .manifest
                .members(swarm)
                .into_iter()
                .filter(|n| n.ed25519 != self.my_ed25519)
                .cloned()
                .collect(),
            None => Vec::new(),
        }
    }

    /// The node named `ed25519` (hex), if the manifest lists it.
    pub fn node(&self, ed25519: &str) -> Option<&ManifestNode> {
        self.signed
            .manifest
            .nodes
            .iter()
            .find(|n| n.ed25519 == ed25519)
    }

    /// The `get_swarm` answer for `account` (also the body of a 421).
    pub fn swarm_response(&self, account: &AccountId, now_ms: u64) -> GetSwarmResponse {
        let swarm = self.swarm_of(account);
        let snodes = swarm
            .map(|s| self.signed.manifest.members(s))
            .unwrap_or_default()
            .into_iter()
            .map(swarm_node)
            .collect();
        GetSwarmResponse {
            snodes,
            swarm: format!("{:x}", swarm.map_or(u64::MAX, |s| s.0)),
            t: now_ms,
            hf: murmur_core::rpc::response::HARDFORK.to_vec(),
        }
    }
}

/// Host and port of a node URL (`scheme://host:port/...`), defaulting the port by scheme.
pub fn host_port(url: &str) -> (String, u16) {
    let (scheme, rest) = url.split_once("://").unwrap_or(("https", url));
    let authority = rest.split('/').next().unwrap_or(rest);
    let default = if scheme == "http" { 80 } else { 443 };
    match authority.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && !port.contains(']') => {
            (host.to_string(), port.parse().unwrap_or(default))
        }
        _ => (authority.to_string(), default),
    }
}

/// A manifest node in Session's `get_swarm` shape, plus its URL.
pub fn swarm_node(node: &ManifestNode) -> SwarmNode {
    let (ip, port_https) = host_port(&node.url);
    SwarmNode {
        pubkey_ed25519: node.ed25519.clone(),
        pubkey_x25519: node.x25519.clone(),
        ip,
        port_https,
        url: Some(node.url.clone()),
    }
}

/// The current topology, swapped atomically when a newer manifest arrives.
#[derive(Debug)]
pub struct Network {
    current: RwLock<Arc<Topology>>,
    /// The manifest before the current one: nodes it listed but the current one drops are
    /// still trusted as peers, so a leaving node can hand its messages over.
    previous: RwLock<Option<Arc<Topology>>>,
    operator: [u8; 32],
    my_ed25519: String,
    changed: watch::Sender<u64>,
}

impl Network {
    /// Starts from `signed`, which must verify under `operator`.
    pub fn new(
        signed: SignedManifest,
        operator: [u8; 32],
        my_ed25519: String,
    ) -> Result<Self, murmur_core::Error> {
        signed.verify(&operator)?;
        let sequence = signed.manifest.sequence;
        Ok(Self {
            current: RwLock::new(Arc::new(Topology::new(signed, &my_ed25519))),
            previous: RwLock::new(None),
            operator,
            my_ed25519,
            changed: watch::channel(sequence).0,
        })
    }

    /// The topology in force now.
    pub fn current(&self) -> Arc<Topology> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The operator key manifests must be signed by.
    pub fn operator(&self) -> &[u8; 32] {
        &self.operator
    }

    /// Offers a manifest: accepted only if the operator signed it and it is newer than the one
    /// held. Returns whether it replaced the current one.
    pub fn offer(&self, signed: SignedManifest) -> Result<bool, murmur_core::Error> {
        // The manifest in force comes again on every reload tick: `Same`, not re-verified.
        let signed = match Offer::judge(signed, Some(&self.current().signed), &self.operator) {
            Offer::Newer(signed) => signed,
            Offer::Same => return Ok(false),
            Offer::Refused(e) => return Err(murmur_core::Error::Manifest(e)),
        };
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        // Judged against a snapshot: still newer than what is in force now?
        signed.check_newer_than(Some(&current.signed))?;
        let sequence = signed.manifest.sequence;
        let old = std::mem::replace(
            &mut *current,
            Arc::new(Topology::new(signed, &self.my_ed25519)),
        );
        drop(current);
        *self.previous.write().unwrap_or_else(|e| e.into_inner()) = Some(old);
        self.changed.send_replace(sequence);
        tracing::info!(sequence, "accepted a newer network manifest");
        Ok(true)
    }

    /// A node peers may hear from: listed by the current manifest or the one before it.
    pub fn peer_node(&self, ed25519: &str) -> Option<ManifestNode> {
        if let Some(n) = self.current().node(ed25519) {
            return Some(n.clone());
        }
        let previous = self.previous.read().unwrap_or_else(|e| e.into_inner());
        previous.as_ref().and_then(|t| t.node(ed25519).cloned())
    }

    /// Whether `ed25519` held `account`'s messages under the current manifest or the one
    /// before it: the only nodes whose handoff of them is taken.
    pub fn held_by(&self, ed25519: &str, account: &AccountId) -> bool {
        if self.current().member_for(ed25519, account) {
            return true;
        }
        let previous = self.previous.read().unwrap_or_else(|e| e.into_inner());
        previous
            .as_ref()
            .is_some_and(|t| t.member_for(ed25519, account))
    }

    /// A receiver told of every accepted manifest (its sequence).
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }
}
