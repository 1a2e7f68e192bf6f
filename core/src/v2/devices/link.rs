//! Linking a device (SESSION-V2.md §2.4). The new device (holding the account seed, restored
//! from the recovery phrase) writes an `L` message to namespace 21: its ID and device record,
//! signed by the account key, sealed to the group's current `link_x` so only holders of the
//! account keys read it. An existing device shows the request with an emoji string both
//! screens compute from the request itself ([`sas`]); the user accepts only when they match,
//! which defeats an impostor who also holds the seed.

use argon2::{Algorithm, Argon2, Params, Version};
use ed25519_dalek::{Signature, Signer as _};
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::{DeviceId, DeviceRecord};
use crate::bencode::{self, Item};
use crate::crypto;
use crate::error::{Error, Result};
use crate::keys::Identity;
use crate::v2::keys::KemKeys;

const KISS_PERSONAL: &[u8] = b"SessionDvGrpKISS";
const LINK_PERSONAL: &[u8] = b"SessionDvGrpLink";
const EMOJI_PERSONAL: &[u8] = b"SessionLinkEmoji";
const GROUP_SAS_PERSONAL: &[u8] = b"SessionDvGrp_SAS";

/// A link request, signature checked.
#[derive(Debug, Clone)]
pub struct LinkRequest {
    pub device: DeviceId,
    pub record: DeviceRecord,
    /// The signed plaintext: what the emoji check is computed from.
    pub plaintext: Vec<u8>,
}

impl LinkRequest {
    /// A request lives [`super::LINK_REQUEST_TTL_MS`] from the time it carries: past that it is
    /// not offered (a node keeps it no longer either).
    pub fn expired(&self, now_s: i64) -> bool {
        self.record
            .timestamp
            .saturating_add((super::LINK_REQUEST_TTL_MS / 1000) as i64)
            < now_s
    }
}

/// The signed plaintext of a request for `device` with `record`:
/// `d 1:I 32:<id> 1:i <record> 1:~ 64:<sig> e`.
pub fn request_plaintext(account: &Identity, device: &DeviceId, record: &DeviceRecord) -> Vec<u8> {
    let mut w = bencode::Writer::new();
    w.dict()
        .key(b"I")
        .bytes(device)
        .key(b"i")
        .raw(record.encoded());
    let sig = account.ed25519_signing_key().sign(w.as_bytes());
    w.key(b"~").bytes(&sig.to_bytes()).end();
    w.finish()
}

fn kiss(dh: &[u8; 32], e_pub: &[u8; 32], s: &[u8; 32]) -> [u8; 2] {
    let h = crypto::blake2b(2, dh, KISS_PERSONAL, &[e_pub, s]);
    [h[0], h[1]]
}

fn link_key(dh: &[u8; 32], e_pub: &[u8; 32], x: &[u8; 32]) -> (Zeroizing<[u8; 32]>, [u8; 24]) {
    let kn = Zeroizing::new(crypto::blake2b(56, &[], LINK_PERSONAL, &[dh, e_pub, x]));
    let mut key = Zeroizing::new([0u8; 32]);
    key.copy_from_slice(&kn[..32]);
    let mut nonce = [0u8; 24];
    nonce.copy_from_slice(&kn[32..]);
    (key, nonce)
}

/// Seals `plaintext` to the group's `link_x`: `d 0: 1:L 1:E 32:<E> 1:L <sealed> 1:i 2:<i> e`.
pub fn seal(
    account: &Identity,
    link_x: &[u8; 32],
    plaintext: &[u8],
    rng: &mut impl CryptoRng,
) -> Result<Vec<u8>> {
    let mut e = Zeroizing::new([0u8; 32]);
    rng.fill_bytes(e.as_mut());
    seal_with(account, link_x, plaintext, &e)
}

pub(crate) fn seal_with(
    account: &Identity,
    link_x: &[u8; 32],
    plaintext: &[u8],
    e: &[u8; 32],
) -> Result<Vec<u8>> {
    let s = account.x25519_pubkey();
    let e_pub = crypto::x25519_public(e);
    let kiss = kiss(&*crypto::x25519(e, &s)?, &e_pub, &s);
    let (key, nonce) = link_key(&*crypto::x25519(e, link_x)?, &e_pub, link_x);
    let sealed = crypto::xchacha_seal_with_nonce(&key, &nonce, plaintext);
    let mut w = bencode::Writer::new();
    w.dict()
        .key(b"")
        .bytes(b"L")
        .key(b"E")
        .bytes(&e_pub)
        .key(b"L")
        .bytes(&sealed)
        .key(b"i")
        .bytes(&[link_x[0] ^ kiss[0], link_x[1] ^ kiss[1]])
        .end();
    Ok(w.finish())
}

/// Opens a link request with the account keys held (`account_keys`: current and retained),
/// checks its signature by the account, and refuses this device's own (`own`).
pub fn open(
    account: &Identity,
    own: &DeviceId,
    account_keys: &[KemKeys],
    data: &[u8],
) -> Result<LinkRequest> {
    let bad = Error::Malformed("link request");
    let Item::Dict(dict) = bencode::parse(data)? else {
        return Err(bad);
    };
    if dict.bytes(b"") != Some(b"L") {
        return Err(bad);
    }
    let e_pub: [u8; 32] = dict
        .bytes(b"E")
        .and_then(|b| b.try_into().ok())
        .ok_or(bad.clone())?;
    let hint: [u8; 2] = dict
        .bytes(b"i")
        .and_then(|b| b.try_into().ok())
        .ok_or(bad.clone())?;
    let sealed = dict.bytes(b"L").ok_or(bad.clone())?;
    let s = account.x25519_pubkey();
    let kiss = kiss(
        &*crypto::x25519(account.x25519_secret(), &e_pub)?,
        &e_pub,
        &s,
    );
    let prefix = [hint[0] ^ kiss[0], hint[1] ^ kiss[1]];
    let plaintext = account_keys
        .iter()
        .filter(|k| k.x_public()[..2] == prefix)
        .find_map(|k| {
            let dh = crypto::x25519(k.x_secret(), &e_pub).ok()?;
            let (key, nonce) = link_key(&dh, &e_pub, k.x_public());
            crypto::xchacha_open_with_nonce(&key, &nonce, sealed).ok()
        })
        .ok_or(Error::DecryptionFailed)?;
    let request = read_plaintext(account, &plaintext)?;
    if request.device == *own {
        return Err(Error::Malformed("link request: our own"));
    }
    Ok(request)
}

/// Checks a request's plaintext: `I`, a well-formed record `i`, and the account's signature.
pub fn read_plaintext(account: &Identity, plaintext: &[u8]) -> Result<LinkRequest> {
    let bad = Error::Malformed("link request");
    let Item::Dict(dict) = bencode::parse(plaintext)? else {
        return Err(bad);
    };
    let device: DeviceId = dict
        .bytes(b"I")
        .and_then(|b| b.try_into().ok())
        .ok_or(bad.clone())?;
    let Some(Item::Dict(record)) = dict.get(b"i") else {
        return Err(bad);
    };
    let sig: [u8; 64] = dict
        .bytes(b"~")
        .and_then(|b| b.try_into().ok())
        .ok_or(bad)?;
    let signed = dict.signed_prefix(b"~").expect("`~` is present");
    account
        .ed25519_pubkey()
        .verify_strict(signed, &Signature::from_bytes(&sig))
        .map_err(|_| Error::BadSignature)?;
    Ok(LinkRequest {
        device,
        record: DeviceRecord::from_dict(record)?,
        plaintext: plaintext.to_vec(),
    })
}

/// The emoji check of a link request: 21 indices into [`EMOJI`], from Argon2id (t = 2,
/// 16 MiB) over the signed plaintext. Screens show the first 7.
pub fn sas(plaintext: &[u8]) -> [u8; 21] {
    let salt = crypto::blake2b(16, &[], EMOJI_PERSONAL, &[plaintext]);
    let params = Params::new(16 * 1024, 2, 1, Some(16)).expect("fixed, valid parameters");
    let mut seed = [0u8; 16];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(plaintext, &salt, &mut seed)
        .expect("fixed, valid parameters and a 16-byte salt");
    emoji_indices(&seed)
}

/// The group's own check, shown (first 4) when more than one group is visible.
pub fn group_sas(group_id: &[u8; 8]) -> [u8; 21] {
    let seed: [u8; 16] = crypto::blake2b(16, &[], GROUP_SAS_PERSONAL, &[group_id])
        .try_into()
        .expect("16 bytes asked for");
    emoji_indices(&seed)
}

/// Index `k` is bits `6k..6k+6` of the seed read as a little-endian 128-bit number.
pub fn emoji_indices(seed: &[u8; 16]) -> [u8; 21] {
    let n = u128::from_le_bytes(*seed);
    core::array::from_fn(|k| ((n >> (6 * k)) & 63) as u8)
}

/// The emoji as text, joined by spaces.
pub fn emoji_text(indices: &[u8]) -> String {
    indices
        .iter()
        .map(|&i| EMOJI[usize::from(i) & 63])
        .collect::<Vec<_>>()
        .join(" ")
}

/// The 64 emoji (Matrix's SAS list, in index order).
pub const EMOJI: [&str; 64] = [
    "🐶",
    "🐱",
    "🦁",
    "🐎",
    "🦄",
    "🐷",
    "🐘",
    "🐰",
    "🐼",
    "🐓",
    "🐧",
    "🐢",
    "🐟",
    "🐙",
    "🦋",
    "🌷",
    "🌳",
    "🌵",
    "🍄",
    "🌏",
    "🌙",
    "☁\u{fe0f}",
    "🔥",
    "🍌",
    "🍎",
    "🍓",
    "🌽",
    "🍕",
    "🎂",
    "❤\u{fe0f}",
    "😀",
    "🤖",
    "🎩",
    "👓",
    "🔧",
    "🎅",
    "👍",
    "☂\u{fe0f}",
    "⌛",
    "⏰",
    "🎁",
    "💡",
    "📕",
    "✏\u{fe0f}",
    "📎",
    "✂\u{fe0f}",
    "🔒",
    "🔑",
    "🔨",
    "☎\u{fe0f}",
    "🏁",
    "🚂",
    "🚲",
    "✈\u{fe0f}",
    "🚀",
    "🏆",
    "⚽",
    "🎸",
    "🎺",
    "🔔",
    "⚓",
    "🎧",
    "📁",
    "📌",
];
