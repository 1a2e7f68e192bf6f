//! The network manifest (DESIGN.md §3): which nodes make up a network, their keys, URLs and
//! swarms, signed by the network operator's Ed25519 key.
//!
//! Session learns membership from its blockchain; a Murmur network is whatever its operator
//! signs. Nodes and clients pin the operator key and accept a manifest only when that key signed
//! it and its `sequence` is higher than the one they hold, so an old or forged node list can
//! never be replayed onto them.
//!
//! The signature covers `"murmur-manifest-v1" || JSON(manifest)`, where the JSON is the typed
//! [`Manifest`] serialised with its fields in declaration order. Verifiers re-serialise the
//! parsed struct, so whitespace or key order in transit does not matter, and unknown fields are
//! refused rather than silently left unsigned.

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::error::{Error, ManifestError, Result};
use crate::onion::Hop;
use crate::swarm::{SwarmId, swarm_for, swarm_space};

/// Domain separation for manifest signatures.
const MANIFEST_DOMAIN: &[u8] = b"murmur-manifest-v1";

/// The manifest format this build writes and understands. Version 1 (no `version` field) is the
/// original: nodes with keys, URL and swarm. Version 2 adds optional fields — an expiry, node
/// capabilities, file servers — that older clients cannot check, so they refuse it (their parser
/// refuses unknown fields). A manifest of a version above this one is refused with
/// [`ManifestError::UnsupportedVersion`] instead of being half understood.
pub const MANIFEST_VERSION: u32 = 2;
/// A node capability: it answers waiting retrieves (live delivery).
pub const CAPABILITY_WAITING_RETRIEVE: &str = "waiting_retrieve";

/// Session's smallest healthy swarm (`MIN_SWARM_SIZE`); used once a network is big enough.
pub const MIN_SWARM_SIZE: usize = 5;
/// Session's size for a new swarm (`NEW_SWARM_SIZE`).
pub const IDEAL_SWARM_SIZE: usize = 7;
/// Swarm size for small networks (a devnet, a pilot): three copies of every message.
pub const SMALL_SWARM_SIZE: usize = 3;
/// From this many nodes on, swarms follow Session's sizes (≥ 5, ideally 7).
pub const LARGE_NETWORK_NODES: usize = 25;

/// One node as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestNode {
    /// Ed25519 public key, 64 hex chars: the node's name in onion routing and its signing key.
    pub ed25519: String,
    /// X25519 public key, 64 hex chars: what onion layers for this node are encrypted to.
    pub x25519: String,
    /// Base URL, `https://host:port` (plain `http` only for loopback networks).
    pub url: String,
    /// The swarm this node belongs to.
    pub swarm_id: u64,
    /// Version 2: what the node offers beyond Session's storage RPC (e.g.
    /// [`CAPABILITY_WAITING_RETRIEVE`]). Names this build does not know are kept and ignored.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<String>,
}

impl ManifestNode {
    /// A node of version 1's shape: keys, URL and swarm, no capabilities.
    pub fn new(ed25519: String, x25519: String, url: String, swarm_id: u64) -> Self {
        Self {
            ed25519,
            x25519,
            url,
            swarm_id,
            capabilities: Vec::new(),
        }
    }

    /// Whether the manifest says this node offers `capability`.
    pub fn has_capability(&self, capability: &str) -> bool {
        self.capabilities.iter().any(|c| c == capability)
    }

    /// The node's Ed25519 key bytes.
    pub fn ed25519_bytes(&self) -> Result<[u8; 32]> {
        hex32(&self.ed25519)
    }

    /// The node as an onion hop.
    pub fn hop(&self) -> Result<Hop> {
        Ok(Hop {
            ed25519: hex32(&self.ed25519)?,
            x25519: hex32(&self.x25519)?,
        })
    }

    /// The node's swarm.
    pub fn swarm(&self) -> SwarmId {
        SwarmId(self.swarm_id)
    }

    /// `url` joined with an absolute `path` such as `/onion_req/v2`.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.url.trim_end_matches('/'))
    }
}

/// A file server the operator runs (version 2): where it is and the key onion requests to it
/// are encrypted to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileServer {
    /// Base URL, `https://host:port`.
    pub url: String,
    /// X25519 public key, 64 hex chars.
    pub x25519: String,
}

fn is_v1(version: &u32) -> bool {
    *version == 1
}

fn v1() -> u32 {
    1
}

/// The membership of a network at one `sequence`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The format ([`MANIFEST_VERSION`]); absent means 1, and is left out when 1 so a version-1
    /// manifest signs and verifies exactly as it always did.
    #[serde(default = "v1", skip_serializing_if = "is_v1")]
    pub version: u32,
    /// A name for the network (shown to operators; not a security boundary).
    pub network: String,
    /// Strictly increasing with every change the operator signs.
    pub sequence: u64,
    pub nodes: Vec<ManifestNode>,
    /// Version 2: when the operator means to have signed a fresh manifest (ms since the
    /// epoch). Past it the manifest is stale: clients warn, and keep using it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_ms: Option<u64>,
    /// Version 2: when this manifest stops being valid (ms since the epoch): past it clients
    /// refuse it, so a network whose operator stopped signing is not used forever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_ms: Option<u64>,
    /// Version 2: the operator's file servers, the only ones clients upload to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub file_servers: Vec<FileServer>,
}

fn hex32(text: &str) -> Result<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out)
        .map_err(|_| Error::Manifest(ManifestError::Invalid("keys must be 64 hex characters")))?;
    Ok(out)
}

/// Where a manifest stands in its lifetime ([`Manifest::freshness`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    Fresh,
    /// Past the operator's refresh time: still used, with a warning.
    Stale {
        since_ms: u64,
    },
    /// Past its expiry: refused.
    Expired {
        at_ms: u64,
    },
}

impl Freshness {
    /// What to tell the user about a stale manifest.
    pub fn warning(self) -> Option<String> {
        match self {
            Self::Stale { since_ms } => Some(format!(
                "this network's manifest was due to be re-signed on {} (UTC) and has not been; \
                 it still works, but tell the operator",
                utc_date(since_ms)
            )),
            _ => None,
        }
    }
}

/// `YYYY-MM-DD` of a time in ms since the epoch (UTC), for messages about manifest dates.
pub fn utc_date(ms: u64) -> String {
    // Howard Hinnant's civil_from_days.
    let days = (ms / 86_400_000) as i64 + 719_468;
    let era = days.div_euclid(146_097);
    let doe = days.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

impl Manifest {
    /// A manifest of the current version with no optional fields.
    pub fn new(network: String, sequence: u64, nodes: Vec<ManifestNode>) -> Self {
        Self {
            version: MANIFEST_VERSION,
            network,
            sequence,
            nodes,
            refresh_ms: None,
            expires_ms: None,
            file_servers: Vec::new(),
        }
    }

    /// Whether the manifest may still be used at `now_ms`.
    pub fn freshness(&self, now_ms: u64) -> Freshness {
        match (self.refresh_ms, self.expires_ms) {
            (_, Some(at)) if now_ms >= at => Freshness::Expired { at_ms: at },
            (Some(at), _) if now_ms >= at => Freshness::Stale { since_ms: at },
            _ => Freshness::Fresh,
        }
    }

    /// Checks the manifest is usable: at least one node, well-formed unique keys, http(s) URLs.
    pub fn validate(&self) -> Result<()> {
        let invalid = |why| Err(Error::Manifest(ManifestError::Invalid(why)));
        if self.version == 0 {
            return invalid("manifest versions start at 1");
        }
        if self.version > MANIFEST_VERSION {
            return Err(Error::Manifest(ManifestError::UnsupportedVersion {
                offered: self.version,
                supported: MANIFEST_VERSION,
            }));
        }
        if let (Some(refresh), Some(expiry)) = (self.refresh_ms, self.expires_ms)
            && refresh > expiry
        {
            return invalid("a manifest's refresh time comes before its expiry");
        }
        let v2_fields = self.expires_ms.is_some()
            || self.refresh_ms.is_some()
            || !self.file_servers.is_empty()
            || self.nodes.iter().any(|n| !n.capabilities.is_empty());
        if self.version < 2 && v2_fields {
            return invalid("expiry, capabilities and file servers need manifest version 2");
        }
        for server in &self.file_servers {
            if hex32(&server.x25519)? == [0u8; 32]
                || !server.url.starts_with("https://") && !server.url.starts_with("http://")
            {
                return invalid("file servers are an http(s) URL and an X25519 key");
            }
        }
        if self.nodes.is_empty() {
            return invalid("a manifest lists at least one node");
        }
        let mut seen = std::collections::BTreeSet::new();
        for node in &self.nodes {
            let ed = hex32(&node.ed25519)?;
            let x = hex32(&node.x25519)?;
            if VerifyingKey::from_bytes(&ed).is_err() {
                return invalid("a node's Ed25519 key is not a valid point");
            }
            if x == [0u8; 32] {
                return invalid("a node's X25519 key is not usable");
            }
            if node.ed25519 != node.ed25519.to_ascii_lowercase()
                || node.x25519 != node.x25519.to_ascii_lowercase()
            {
                return invalid("keys must be lowercase hex");
            }
            if !seen.insert(ed) {
                return invalid("a node is listed twice");
            }
            let url_ok = (node.url.starts_with("https://") || node.url.starts_with("http://"))
                && !node.url.contains(['?', '#', ' ']);
            if !url_ok {
                return invalid("node URLs are http(s)://host:port");
            }
            if node.swarm_id == crate::swarm::INVALID_SWARM_ID.0 {
                return invalid("a node has the invalid swarm id");
            }
        }
        Ok(())
    }

    /// The bytes the operator signs.
    fn signed_bytes(&self) -> Vec<u8> {
        let mut out = MANIFEST_DOMAIN.to_vec();
        out.extend(serde_json::to_vec(self).expect("a manifest always serialises"));
        out
    }

    /// Every node's URL, in manifest order (a client's seed list).
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.url.clone()).collect()
    }

    /// Every distinct swarm id, ascending.
    pub fn swarm_ids(&self) -> Vec<SwarmId> {
        let mut ids: Vec<u64> = self.nodes.iter().map(|n| n.swarm_id).collect();
        crate::order::dedup_sorted(&mut ids);
        ids.into_iter().map(SwarmId).collect()
    }

    /// The swarm responsible for the account whose 32 key bytes (after the prefix) are `key`.
    pub fn swarm_for_key(&self, key: &[u8; 32]) -> Option<SwarmId> {
        swarm_for(swarm_space(key), &self.swarm_ids())
    }

    /// The swarm responsible for swarm-space position `space`.
    pub fn swarm_for_space(&self, space: u64) -> Option<SwarmId> {
        swarm_for(space, &self.swarm_ids())
    }

    /// The members of `swarm`, in manifest order.
    pub fn members(&self, swarm: SwarmId) -> Vec<&ManifestNode> {
        self.nodes.iter().filter(|n| n.swarm() == swarm).collect()
    }

    /// The node whose Ed25519 key is `ed25519` (raw bytes).
    pub fn node(&self, ed25519: &[u8; 32]) -> Option<&ManifestNode> {
        let wanted = hex::encode(ed25519);
        self.nodes.iter().find(|n| n.ed25519 == wanted)
    }
}

/// A manifest with its operator's signature, as served at `GET /network`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedManifest {
    pub manifest: Manifest,
    /// The operator's Ed25519 key, hex.
    pub operator: String,
    /// Ed25519 signature, hex.
    pub signature: String,
}

impl SignedManifest {
    /// Signs `manifest` with the operator key (after checking it is valid).
    pub fn sign(manifest: Manifest, operator: &SigningKey) -> Result<Self> {
        manifest.validate()?;
        let signature = operator.sign(&manifest.signed_bytes());
        Ok(Self {
            operator: hex::encode(operator.verifying_key().to_bytes()),
            signature: hex::encode(signature.to_bytes()),
            manifest,
        })
    }

    /// Parses a signed manifest from JSON and checks it against the pinned operator key.
    pub fn from_json(data: &[u8], operator: &[u8; 32]) -> Result<Self> {
        let signed = Self::parse_json(data)?;
        signed.verify(operator)?;
        Ok(signed)
    }

    /// Parses a signed manifest from JSON, not yet verified.
    fn parse_json(data: &[u8]) -> Result<Self> {
        serde_json::from_slice(data).map_err(|_| {
            // A newer format than this build knows fails to parse (unknown fields): say so
            // rather than "not a manifest".
            #[derive(Deserialize)]
            struct Versioned {
                manifest: VersionOnly,
            }
            #[derive(Deserialize)]
            struct VersionOnly {
                #[serde(default = "v1")]
                version: u32,
            }
            match serde_json::from_slice::<Versioned>(data) {
                Ok(v) if v.manifest.version > MANIFEST_VERSION => {
                    Error::Manifest(ManifestError::UnsupportedVersion {
                        offered: v.manifest.version,
                        supported: MANIFEST_VERSION,
                    })
                }
                _ => Error::Manifest(ManifestError::Invalid("not a signed manifest")),
            }
        })
    }

    /// Checks that `operator` signed this manifest and that the manifest is valid.
    pub fn verify(&self, operator: &[u8; 32]) -> Result<()> {
        if self.operator != hex::encode(operator) {
            return Err(Error::Manifest(ManifestError::WrongOperator));
        }
        let key = VerifyingKey::from_bytes(operator)
            .map_err(|_| Error::Manifest(ManifestError::WrongOperator))?;
        let mut sig = [0u8; 64];
        hex::decode_to_slice(&self.signature, &mut sig)
            .map_err(|_| Error::Manifest(ManifestError::BadSignature))?;
        key.verify_strict(&self.manifest.signed_bytes(), &Signature::from_bytes(&sig))
            .map_err(|_| Error::Manifest(ManifestError::BadSignature))?;
        self.manifest.validate()
    }

    /// Accepts `self` as a replacement for `current` only if it is strictly newer.
    pub fn check_newer_than(&self, current: Option<&SignedManifest>) -> Result<()> {
        match current {
            Some(cur) if self.manifest.sequence <= cur.manifest.sequence => {
                Err(Error::Manifest(ManifestError::NotNewer {
                    held: cur.manifest.sequence,
                    offered: self.manifest.sequence,
                }))
            }
            _ => Ok(()),
        }
    }

    /// The manifest as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a signed manifest always serialises")
    }
}

/// Where a node (a seed) serves the signed manifest.
pub fn manifest_url(node_url: &str) -> String {
    format!("{}/network", node_url.trim_end_matches('/'))
}

/// How an offered manifest stands against the one held: the one rule by which clients (when
/// they refresh from the seeds) and nodes (when they reload from a file or the seeds) take a
/// manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Offer {
    /// Signed by the operator, valid and newer: take it.
    Newer(SignedManifest),
    /// The manifest held, again.
    Same,
    /// Not taken: not the operator's, a bad signature, invalid, or not newer (a seed that is
    /// behind, or a rollback attempt).
    Refused(ManifestError),
}

fn manifest_error(e: Error) -> ManifestError {
    match e {
        Error::Manifest(e) => e,
        _ => ManifestError::Invalid("not a signed manifest"),
    }
}

impl Offer {
    /// Judges `offered` against `held` (which was verified when it was taken).
    pub fn judge(
        offered: SignedManifest,
        held: Option<&SignedManifest>,
        operator: &[u8; 32],
    ) -> Self {
        // The one held comes again on most refreshes: equal, so not verified again.
        if held == Some(&offered) {
            return Self::Same;
        }
        match offered
            .verify(operator)
            .and_then(|()| offered.check_newer_than(held))
        {
            Ok(()) => Self::Newer(offered),
            Err(e) => Self::Refused(manifest_error(e)),
        }
    }

    /// Judges a manifest's JSON as fetched.
    pub fn judge_json(body: &[u8], held: Option<&SignedManifest>, operator: &[u8; 32]) -> Self {
        match SignedManifest::parse_json(body) {
            Ok(offered) => Self::judge(offered, held, operator),
            Err(e) => Self::Refused(manifest_error(e)),
        }
    }
}

/// Where a network is and who vouches for it, as a client uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkConfig {
    /// Base URLs of nodes to fetch the manifest from (`GET /network`), without a trailing `/`.
    pub seeds: Vec<String>,
    /// The operator's Ed25519 key: only manifests it signed are accepted.
    pub operator_key: [u8; 32],
}

/// The network file clients are given: `{"seeds": [...], "operator_pubkey": "hex"}`. It is the
/// web app's `config.json`, the CLI's `network.json` and `--network-file`, what `murmur-node
/// network app-config` prints, and the first two fields of a devnet's `devnet.json` (other
/// fields are ignored on reading, so a `devnet.json` serves as is).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkFile {
    #[serde(default)]
    pub seeds: Vec<String>,
    #[serde(default)]
    pub operator_pubkey: String,
}

/// Why a network file cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NetworkFileError {
    #[error("not a network file (expected {{\"seeds\": [...], \"operator_pubkey\": \"hex\"}})")]
    Malformed,
    #[error("the network has no seed URLs")]
    NoSeeds,
    #[error("the operator key is not 64 hex characters")]
    BadOperatorKey,
}

impl NetworkFile {
    /// The file for a signed manifest: every node a seed.
    pub fn for_manifest(signed: &SignedManifest) -> Self {
        Self {
            seeds: signed.manifest.urls(),
            operator_pubkey: signed.operator.clone(),
        }
    }

    /// Parses a network file and checks it can be used.
    pub fn parse(bytes: &[u8]) -> core::result::Result<Self, NetworkFileError> {
        let file: Self = serde_json::from_slice(bytes).map_err(|_| NetworkFileError::Malformed)?;
        file.config()?;
        Ok(file)
    }

    /// The client's view: seeds trimmed (blank ones dropped, no trailing `/`) and the pinned
    /// operator key.
    pub fn config(&self) -> core::result::Result<NetworkConfig, NetworkFileError> {
        let seeds: Vec<String> = self
            .seeds
            .iter()
            .map(|s| s.trim().trim_end_matches('/').to_string())
            .filter(|s| !s.is_empty())
            .collect();
        if seeds.is_empty() {
            return Err(NetworkFileError::NoSeeds);
        }
        let mut operator_key = [0u8; 32];
        hex::decode_to_slice(self.operator_pubkey.trim(), &mut operator_key)
            .map_err(|_| NetworkFileError::BadOperatorKey)?;
        Ok(NetworkConfig {
            seeds,
            operator_key,
        })
    }
}

/// The id a new swarm gets: the midpoint of the largest gap between existing ids, wrapping
/// around the 64-bit ring (Session's rule); the first swarm is 0.
pub fn next_swarm_id(existing: &[SwarmId]) -> SwarmId {
    let mut ids: Vec<u64> = existing.iter().map(|s| s.0).collect();
    crate::order::dedup_sorted(&mut ids);
    let Some(&first) = ids.first() else {
        return SwarmId(0);
    };
    // The wrapping gap from the highest id back round to the lowest.
    let last = *ids.last().expect("ids is not empty");
    let mut best = (first.wrapping_sub(last), last);
    if ids.len() == 1 {
        best = (u64::MAX, first);
    }
    for pair in ids.windows(2) {
        let gap = pair[1] - pair[0];
        if gap > best.0 {
            best = (gap, pair[0]);
        }
    }
    SwarmId(best.1.wrapping_add(best.0 / 2 + best.0 % 2))
}

/// How big swarms should be in a network of `nodes` nodes.
pub fn target_swarm_size(nodes: usize) -> usize {
    if nodes >= LARGE_NETWORK_NODES {
        IDEAL_SWARM_SIZE
    } else {
        SMALL_SWARM_SIZE
    }
}

/// Swarm ids for a fresh network of `nodes` nodes, one per node: `nodes / size` swarms (at least
/// one), ids placed by [`next_swarm_id`], nodes dealt round-robin so sizes differ by at most one.
pub fn plan_swarms(nodes: usize) -> Vec<SwarmId> {
    let count = (nodes / target_swarm_size(nodes)).max(1);
    let mut ids = Vec::with_capacity(count);
    for _ in 0..count {
        let id = next_swarm_id(&ids);
        ids.push(id);
    }
    (0..nodes).map(|i| ids[i % count]).collect()
}

/// The swarm a node joining `manifest` should enter: the smallest swarm, or a new swarm when
/// every swarm already has two more members than the target size (so a split leaves two
/// healthy swarms).
pub fn swarm_for_new_node(manifest: &Manifest) -> SwarmId {
    let ids = manifest.swarm_ids();
    let size = target_swarm_size(manifest.nodes.len() + 1);
    let smallest = ids.iter().map(|&id| (manifest.members(id).len(), id)).min();
    match smallest {
        Some((len, id)) if len < size + 2 => id,
        _ => next_swarm_id(&ids),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn swarm_ids_split_the_largest_gap() {
        assert_eq!(next_swarm_id(&[]), SwarmId(0));
        assert_eq!(next_swarm_id(&[SwarmId(0)]), SwarmId(1 << 63));
        let third = next_swarm_id(&[SwarmId(0), SwarmId(1 << 63)]);
        assert_eq!(third, SwarmId(3 << 62));
    }

    fn signed(sequence: u64, operator: &SigningKey) -> SignedManifest {
        let nodes = (0..4u8)
            .map(|i| {
                let key = SigningKey::from_bytes(&[i + 1; 32]).verifying_key();
                ManifestNode::new(
                    hex::encode(key.to_bytes()),
                    hex::encode(key.to_montgomery().to_bytes()),
                    format!("https://127.0.0.1:{}", 4000 + u16::from(i)),
                    0,
                )
            })
            .collect();
        SignedManifest::sign(Manifest::new("t".into(), sequence, nodes), operator).unwrap()
    }

    #[test]
    #[allow(clippy::unwrap_used)]
    fn an_offered_manifest_is_taken_only_if_the_operators_and_newer() {
        let operator = SigningKey::from_bytes(&[7; 32]);
        let key = operator.verifying_key().to_bytes();
        let (v1, v2) = (signed(1, &operator), signed(2, &operator));
        assert_eq!(
            Offer::judge(v1.clone(), None, &key),
            Offer::Newer(v1.clone())
        );
        assert_eq!(
            Offer::judge(v2.clone(), Some(&v1), &key),
            Offer::Newer(v2.clone())
        );
        assert_eq!(Offer::judge(v2.clone(), Some(&v2), &key), Offer::Same);
        assert_eq!(
            Offer::judge(v1.clone(), Some(&v2), &key),
            Offer::Refused(ManifestError::NotNewer {
                held: 2,
                offered: 1
            }),
            "a rollback"
        );
        let stranger = signed(3, &SigningKey::from_bytes(&[8; 32]));
        assert_eq!(
            Offer::judge(stranger, Some(&v1), &key),
            Offer::Refused(ManifestError::WrongOperator)
        );
        let mut forged = signed(3, &operator);
        forged.manifest.sequence = 4;
        assert_eq!(
            Offer::judge(forged, Some(&v1), &key),
            Offer::Refused(ManifestError::BadSignature)
        );
        let json = v2.to_json();
        assert_eq!(
            Offer::judge_json(json.as_bytes(), Some(&v2), &key),
            Offer::Same
        );
        assert_eq!(
            Offer::judge_json(json.as_bytes(), Some(&v1), &key),
            Offer::Newer(v2)
        );
        assert!(matches!(
            Offer::judge_json(b"{}", None, &key),
            Offer::Refused(_)
        ));
        assert_eq!(manifest_url("https://n:1/"), "https://n:1/network");
    }

    /// How many nodes the plan puts in each swarm, by swarm id.
    fn swarm_sizes(plan: &[SwarmId]) -> BTreeMap<SwarmId, usize> {
        let mut sizes = BTreeMap::new();
        for id in plan {
            *sizes.entry(*id).or_default() += 1;
        }
        sizes
    }

    #[test]
    fn twelve_nodes_make_four_swarms_of_three() {
        let sizes = swarm_sizes(&plan_swarms(12));
        assert_eq!(sizes.len(), 4);
        assert!(sizes.values().all(|&n| n == 3), "{sizes:?}");
    }

    #[test]
    fn large_networks_use_session_sizes() {
        let sizes = swarm_sizes(&plan_swarms(100));
        assert_eq!(sizes.len(), 14);
        assert!(sizes.values().all(|&n| n >= MIN_SWARM_SIZE), "{sizes:?}");
    }
}
