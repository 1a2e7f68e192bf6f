//! The SESSION-V2.md §6 inputs the v2 tests share: the official identities, the [computed]
//! account key, hex helpers.
#![allow(clippy::unwrap_used)]

use sha2::{Digest, Sha256};

use super::keys::KemKeys;
use crate::keys::{Identity, Seed};

pub fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

pub fn arr<const N: usize>(s: &str) -> [u8; N] {
    h(s).try_into().unwrap()
}

pub fn counting<const N: usize>(from: u8) -> [u8; N] {
    core::array::from_fn(|i| from + i as u8)
}

pub fn sha256(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

pub fn alice() -> Identity {
    Identity::from_seed(
        Seed::from_bytes(&h(
            "0123456789abcdef0123456789abcdef00000000000000000000000000000000",
        ))
        .unwrap(),
    )
}

pub fn bob() -> Identity {
    Identity::from_seed(
        Seed::from_bytes(&h(
            "00112233445566778899aabbccddeeff00000000000000000000000000000000",
        ))
        .unwrap(),
    )
}

pub fn account_keys() -> KemKeys {
    KemKeys::account(&counting(0))
}
