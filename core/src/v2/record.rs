//! The −21 record (SESSION-V2.md §1.3): an account's current public account keys, published in
//! its own swarm at namespace −21 where anyone may read them, signed by the account's long-term
//! X25519 key so no node can substitute its own. Exactly
//! `d 1:M 1184:<ML-KEM key> 1:X 32:<X25519 key> 1:~ 64:<XEd25519 signature> e` (1302 bytes).

use rand_core::CryptoRng;

use super::keys::{KemKeys, KemPublic, MLKEM_PUBLIC};
use super::xeddsa;
use crate::bencode::{self, Item};
use crate::error::{Error, Result};
use crate::keys::{Identity, SessionId};

/// The namespace the record lives in (public: anyone may retrieve it, only the owner store).
pub const NAMESPACE: i32 = -21;

/// Published keys, checked: what a sender encrypts to.
#[derive(Debug)]
pub struct PublishedKeys {
    pub x: [u8; 32],
    pub m: Box<[u8; MLKEM_PUBLIC]>,
    pub m_checked: KemPublic,
}

impl PublishedKeys {
    /// Keys as published, the ML-KEM key checked.
    pub fn new(x: [u8; 32], m: &[u8; MLKEM_PUBLIC]) -> Result<Self> {
        Ok(Self {
            x,
            m: Box::new(*m),
            m_checked: KemPublic::new(m)?,
        })
    }
}

/// The record publishing `keys` for `owner`.
pub fn encode(owner: &Identity, keys: &KemKeys, rng: &mut impl CryptoRng) -> Vec<u8> {
    let mut z = [0u8; 64];
    rng.fill_bytes(&mut z);
    encode_with(owner.x25519_secret(), keys, &z)
}

pub(crate) fn encode_with(x_secret: &[u8; 32], keys: &KemKeys, z: &[u8; 64]) -> Vec<u8> {
    let mut w = bencode::Writer::new();
    w.dict()
        .key(b"M")
        .bytes(keys.m_public())
        .key(b"X")
        .bytes(keys.x_public());
    let sig = xeddsa::sign(x_secret, w.as_bytes(), z);
    w.key(b"~").bytes(&sig).end();
    w.finish()
}

/// Reads `owner`'s record: `M` (a valid ML-KEM-768 key), `X` and a signature by `owner`.
/// Unknown keys are ignored (they are inside the signed part).
pub fn parse(owner: &SessionId, data: &[u8]) -> Result<PublishedKeys> {
    let Item::Dict(dict) = bencode::parse(data)? else {
        return Err(Error::Malformed("−21 record: not a dict"));
    };
    let m: [u8; MLKEM_PUBLIC] = dict
        .bytes(b"M")
        .and_then(|b| b.try_into().ok())
        .ok_or(Error::Malformed("−21 record: M is not an ML-KEM-768 key"))?;
    let x: [u8; 32] = dict
        .bytes(b"X")
        .and_then(|b| b.try_into().ok())
        .ok_or(Error::Malformed("−21 record: X is not an X25519 key"))?;
    let sig: [u8; 64] = dict
        .bytes(b"~")
        .and_then(|b| b.try_into().ok())
        .ok_or(Error::Malformed("−21 record: no signature"))?;
    let signed = dict.signed_prefix(b"~").expect("`~` is present");
    if !xeddsa::verify(&owner.x25519_pubkey(), signed, &sig) {
        return Err(Error::BadSignature);
    }
    PublishedKeys::new(x, &m)
}

/// Of several records retrieved (a node may hold more than one), the last valid one wins.
pub fn newest_valid(owner: &SessionId, records: &[&[u8]]) -> Option<PublishedKeys> {
    records.iter().rev().find_map(|r| parse(owner, r).ok())
}
