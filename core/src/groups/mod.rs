//! Groups v2 (`../shared/protocol/SESSION-GROUPS.md`): a group is an Ed25519 account (`03…`)
//! with its own swarm. [`auth`] is how members (subaccounts) prove an admin let them in,
//! [`message`] seals and opens messages under the group's shared key.

pub mod auth;
pub mod message;

use ed25519_dalek::{SigningKey, VerifyingKey};

use crate::crypto;

/// A group's identity: its Ed25519 key pair (the admins hold the seed).
pub struct GroupKeys {
    seed: zeroize::Zeroizing<[u8; 32]>,
    signing: SigningKey,
}

impl GroupKeys {
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self {
            seed: zeroize::Zeroizing::new(*seed),
            signing: SigningKey::from_bytes(seed),
        }
    }

    pub fn public(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// `03 || group_pk`, the account the group's swarm holds.
    pub fn group_id(&self) -> [u8; 33] {
        let mut id = [0x03; 33];
        id[1..].copy_from_slice(self.public().as_bytes());
        id
    }

    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    /// `seedhash(K)`: BLAKE2b-32 of the group seed keyed by an ASCII label (libsession's
    /// `ConfigSig::seed_hash`).
    pub(crate) fn seed_hash(&self, label: &[u8]) -> [u8; 32] {
        crypto::blake2b(32, label, &[], &[self.seed.as_ref()])
            .try_into()
            .expect("32 bytes")
    }
}

impl core::fmt::Debug for GroupKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("GroupKeys")
            .field("public", &hex::encode(self.public().as_bytes()))
            .finish_non_exhaustive()
    }
}
