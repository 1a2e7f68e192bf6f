//! The node's own keys: one Ed25519 seed, kept in `node_ed25519.key` in the data directory,
//! from which the X25519 onion key is derived the way Session derives an account's.

use std::io::Write as _;
use std::path::Path;

use murmur_core::onion::NodeKey;
use murmur_core::{Identity, Seed};

/// File name of the node key inside the data directory.
pub const KEY_FILE: &str = "node_ed25519.key";

/// The node's signing key (Ed25519) and onion key (X25519).
#[derive(Debug)]
pub struct NodeIdentity {
    identity: Identity,
    onion_key: NodeKey,
}

impl NodeIdentity {
    /// Keys from a seed.
    pub fn from_seed(seed: Seed) -> Self {
        let identity = Identity::from_seed(seed);
        let onion_key = NodeKey::from_secret(*identity.x25519_secret());
        Self {
            identity,
            onion_key,
        }
    }

    /// Loads the key from `dir`, creating it (mode 0600) on first start.
    pub fn load_or_create(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
        Ok(Self::from_seed(load_or_create_seed(&dir.join(KEY_FILE))?))
    }

    /// Signs `message` with the node's Ed25519 key.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        use ed25519_dalek::Signer as _;
        self.identity.ed25519_signing_key().sign(message).to_bytes()
    }

    /// The Ed25519 public key.
    pub fn ed25519(&self) -> [u8; 32] {
        self.identity.ed25519_pubkey().to_bytes()
    }

    /// The Ed25519 public key, hex (the node's name in manifests and onion routing).
    pub fn ed25519_hex(&self) -> String {
        hex::encode(self.ed25519())
    }

    /// The X25519 public key.
    pub fn x25519(&self) -> [u8; 32] {
        self.onion_key.public()
    }

    /// The key that peels onion layers addressed to this node.
    pub fn onion_key(&self) -> &NodeKey {
        &self.onion_key
    }
}

/// Reads a 32-byte seed kept as hex in `path`, or makes a random one and writes it there
/// readable by the owner only (node keys, the devnet's operator key).
pub fn load_or_create_seed(path: &Path) -> anyhow::Result<Seed> {
    if path.exists() {
        let text = std::fs::read_to_string(path)?;
        let bytes = hex::decode(text.trim())
            .map_err(|_| anyhow::anyhow!("{} is not hex", path.display()))?;
        return Seed::from_bytes(&bytes)
            .map_err(|_| anyhow::anyhow!("{} must hold a 32-byte seed", path.display()));
    }
    let seed = Seed::generate(&mut crate::clock::os_rng());
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    writeln!(options.open(path)?, "{}", hex::encode(seed.as_bytes()))?;
    Ok(seed)
}
