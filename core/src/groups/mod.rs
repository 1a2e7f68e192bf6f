//! Groups v2 (`../shared/protocol/SESSION-GROUPS.md`): a group is an Ed25519 account (`03…`)
//! with its own swarm. [`auth`] is how members (subaccounts) prove an admin let them in,
//! [`keys`] makes and reads the key messages that hand out the group's shared key, [`message`]
//! seals and opens messages under it, [`control`] are the notices (invite, member changes…)
//! that travel with them, [`kicked`] tells removed members they are out.

pub mod auth;
pub mod control;
pub mod info;
pub mod keys;
pub mod kicked;
pub mod message;

use ed25519_dalek::{SigningKey, VerifyingKey};

use crate::crypto;
use crate::keys::{Identity, Seed};

/// A group's identity: its Ed25519 key pair (the admins hold the seed). Its X25519 keys, used
/// only to hand out the group's shared keys, come from the seed as an account's do.
pub struct GroupKeys {
    identity: Identity,
}

impl GroupKeys {
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self {
            identity: Identity::from_seed(Seed::from_bytes(seed).expect("32 bytes")),
        }
    }

    pub fn public(&self) -> VerifyingKey {
        self.identity.ed25519_pubkey()
    }

    /// `03 || group_pk`, the account the group's swarm holds.
    pub fn group_id(&self) -> [u8; 33] {
        let mut id = [0x03; 33];
        id[1..].copy_from_slice(self.public().as_bytes());
        id
    }

    pub(crate) fn signing_key(&self) -> &SigningKey {
        self.identity.ed25519_signing_key()
    }

    pub(crate) fn seed(&self) -> &[u8; 32] {
        self.identity.seed().as_bytes()
    }

    /// `group_xsk`, `group_xpk`.
    pub(crate) fn x25519(&self) -> (&[u8; 32], [u8; 32]) {
        (self.identity.x25519_secret(), self.identity.x25519_pubkey())
    }

    /// `seedhash(K)`: BLAKE2b-32 of the group seed keyed by an ASCII label (libsession's
    /// `ConfigSig::seed_hash`).
    pub(crate) fn seed_hash(&self, label: &[u8]) -> [u8; 32] {
        crypto::blake2b(32, label, &[], &[self.identity.seed().as_bytes()])
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

/// The group, admin and member of SESSION-GROUPS.md §6.5 (libsession's tests).
#[cfg(test)]
pub(crate) mod fixtures {
    use super::GroupKeys;
    use crate::keys::{Identity, Seed};

    fn id(seed: &str) -> Identity {
        Identity::from_seed(Seed::from_bytes(&hex::decode(seed).unwrap()).unwrap())
    }

    pub fn group() -> GroupKeys {
        GroupKeys::from_seed(
            &hex::decode("0123456789abcdeffedcba98765432100123456789abcdeffedcba9876543210")
                .unwrap()
                .try_into()
                .unwrap(),
        )
    }

    pub fn admin() -> Identity {
        id("0123456789abcdef0123456789abcdeffedcba9876543210fedcba9876543210")
    }

    pub fn member() -> Identity {
        id("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")
    }
}
