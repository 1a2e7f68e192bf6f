//! The `G` message (SESSION-V2.md §2.3): the group's payload sealed once under a random key,
//! that key wrapped for every member device (X25519 + ML-KEM-768 per slot, slots in random
//! order and padded to a multiple of four so the count of devices shows only roughly), signed by
//! the account's Ed25519 key. It also carries the group's identifier (readable by any holder of
//! the account seed), the current account key's X25519 half that link requests are sealed to,
//! and (§2.5) a list that lets a removed device learn it was removed and nothing else.

use ed25519_dalek::{Signature, Signer as _};
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::{DeviceId, Payload, padded_len, unpad, xchacha20_xor};
use crate::bencode::{self, Item};
use crate::crypto;
use crate::error::{Error, Result};
use crate::keys::Identity;
use crate::order::shuffle;
use crate::v2::keys::{KemKeys, KemPublic, MLKEM_CIPHERTEXT};

/// A slot of the `K` field: `dk(2) || wrapped key(32)`.
const SLOT_KEY: usize = 34;
/// The group's identifier: `u32_le(unix minutes at creation) || 4 random bytes`.
pub type GroupId = [u8; 8];

const DNONCE_PERSONAL: &[u8] = b"SessionDevDNonce";
const KNONCE_PERSONAL: &[u8] = b"SessionDevKNonce";
const KEYKEY_PERSONAL: &[u8] = b"SessionDevKeyKey";
/// Open question 1: the newer design's `Idx` (the older code's `Ind` does not interoperate).
const KEYIDX_PERSONAL: &[u8] = b"SessionDevKeyIdx";
const ID_KEY_PERSONAL: &[u8] = b"SessionDvGrpID_K";
const ID_NONCE_PERSONAL: &[u8] = b"SessionDvGrpID_N";
const KICKED_PERSONAL: &[u8] = b"SessionDevKicked";

/// A member device to seal to: its X25519 and (checked) ML-KEM keys.
#[derive(Debug)]
pub struct Recipient<'a> {
    pub x: &'a [u8; 32],
    pub m: &'a KemPublic,
}

/// A group ID made now: the minute of creation, then 4 random bytes.
pub fn new_group_id(now_s: u64, rng: &mut impl CryptoRng) -> GroupId {
    let mut id = [0u8; 8];
    id[..4].copy_from_slice(&((now_s / 60) as u32).to_le_bytes());
    rng.fill_bytes(&mut id[4..]);
    id
}

/// When a group was made (unix seconds), from its ID.
pub fn group_created_s(id: &GroupId) -> u64 {
    u64::from(u32::from_le_bytes([id[0], id[1], id[2], id[3]])) * 60
}

/// `@`: the group ID under a key from the account seed and a nonce from `A`.
fn wrap_group_id(root_seed: &[u8; 32], a_pub: &[u8; 32], id: &GroupId) -> [u8; 8] {
    let key: [u8; 32] = crypto::blake2b(32, &[], ID_KEY_PERSONAL, &[root_seed])
        .try_into()
        .expect("32 bytes asked for");
    let nonce: [u8; 24] = crypto::blake2b(24, &[], ID_NONCE_PERSONAL, &[a_pub])
        .try_into()
        .expect("24 bytes asked for");
    let mut out = *id;
    xchacha20_xor(&key, &nonce, &mut out);
    out
}

/// A removed device's entry in `k`: only a holder of the account seed can tell whose it is.
pub fn kicked_entry(root_seed: &[u8; 32], a_pub: &[u8; 32], device: &DeviceId) -> [u8; 16] {
    crypto::blake2b(16, a_pub, KICKED_PERSONAL, &[root_seed, device])
        .try_into()
        .expect("16 bytes asked for")
}

fn kem_nonce(a_pub: &[u8; 32], c_field: &[u8]) -> [u8; 24] {
    crypto::blake2b(24, a_pub, DNONCE_PERSONAL, &[c_field])
        .try_into()
        .expect("24 bytes asked for")
}

/// `k_i`: the key that wraps `key_base` for one recipient.
fn key_key(
    dh: &[u8; 32],
    a_pub: &[u8; 32],
    b: &[u8; 32],
    ss: &[u8; 32],
    m: &[u8],
) -> Zeroizing<[u8; 32]> {
    Zeroizing::new(
        crypto::blake2b(32, &[], KEYKEY_PERSONAL, &[dh, a_pub, b, ss, m])
            .try_into()
            .expect("32 bytes asked for"),
    )
}

fn key_nonce(a_pub: &[u8; 32], ct: &[u8], d: &[u8]) -> [u8; 24] {
    crypto::blake2b(24, a_pub, KNONCE_PERSONAL, &[ct, d])
        .try_into()
        .expect("24 bytes asked for")
}

fn dk(a_pub: &[u8; 32], b: &[u8; 32], m: &[u8], ct: &[u8], wrapped: &[u8; 32]) -> [u8; 2] {
    let h = crypto::blake2b(2, &[], KEYIDX_PERSONAL, &[a_pub, b, m, ct, wrapped]);
    [h[0], h[1]]
}

/// What one slot holds: a recipient (its index, the encapsulation coins) or random filler.
pub(crate) enum Slot {
    To(usize, [u8; 32]),
    Filler(Box<[u8; MLKEM_CIPHERTEXT]>, [u8; SLOT_KEY]),
}

/// The random choices of one `G` message (drawn by [`seal`]; fixed in the spec's vector).
pub(crate) struct Draw {
    pub a: Zeroizing<[u8; 32]>,
    pub key_base: Zeroizing<[u8; 32]>,
    pub slots: Vec<Slot>,
    /// Random 16-byte entries padding `k` to a multiple of four.
    pub kicked_filler: Vec<[u8; 16]>,
}

/// What a group message needs besides its payload.
#[derive(Debug)]
pub struct Header<'a> {
    pub group_id: &'a GroupId,
    /// The current account key's X25519 half (`X`), which link requests are sealed to.
    pub link_x: &'a [u8; 32],
    /// Devices removed (not departed): each gets a `k` entry.
    pub kicked: &'a [DeviceId],
}

/// Seals `payload` for `recipients` (every Registered device, this one included).
pub fn seal(
    account: &Identity,
    header: &Header<'_>,
    payload: &Payload,
    recipients: &[Recipient<'_>],
    rng: &mut impl CryptoRng,
) -> Vec<u8> {
    let mut a = Zeroizing::new([0u8; 32]);
    rng.fill_bytes(a.as_mut());
    let mut key_base = Zeroizing::new([0u8; 32]);
    rng.fill_bytes(key_base.as_mut());
    let p = recipients.len().div_ceil(4).max(1) * 4;
    let mut slots: Vec<Slot> = (0..p)
        .map(|i| {
            if i < recipients.len() {
                let mut coins = [0u8; 32];
                rng.fill_bytes(&mut coins);
                Slot::To(i, coins)
            } else {
                let mut ct = Box::new([0u8; MLKEM_CIPHERTEXT]);
                rng.fill_bytes(ct.as_mut());
                let mut key = [0u8; SLOT_KEY];
                rng.fill_bytes(&mut key);
                Slot::Filler(ct, key)
            }
        })
        .collect();
    shuffle(&mut slots, rng);
    let fill = header.kicked.len().div_ceil(4) * 4 - header.kicked.len();
    let kicked_filler = (0..fill)
        .map(|_| {
            let mut e = [0u8; 16];
            rng.fill_bytes(&mut e);
            e
        })
        .collect();
    let draw = Draw {
        a,
        key_base,
        slots,
        kicked_filler,
    };
    seal_with(account, header, payload, recipients, draw, rng)
}

pub(crate) fn seal_with(
    account: &Identity,
    header: &Header<'_>,
    payload: &Payload,
    recipients: &[Recipient<'_>],
    draw: Draw,
    rng: &mut impl CryptoRng,
) -> Vec<u8> {
    let a_pub = crypto::x25519_public(&draw.a);
    let mut c_field = Vec::with_capacity(draw.slots.len() * MLKEM_CIPHERTEXT);
    let mut secrets = Vec::with_capacity(draw.slots.len());
    for slot in &draw.slots {
        match slot {
            Slot::To(i, coins) => {
                let (ct, ss) = recipients[*i].m.encapsulate(coins);
                c_field.extend_from_slice(ct.as_ref());
                secrets.push(Some((*i, ss)));
            }
            Slot::Filler(ct, _) => {
                c_field.extend_from_slice(ct.as_ref());
                secrets.push(None);
            }
        }
    }

    let mut plain = Zeroizing::new(payload.encode());
    let padded = padded_len(plain.len());
    plain.resize(padded, 0);
    let d = crypto::xchacha_seal_with_nonce(&draw.key_base, &kem_nonce(&a_pub, &c_field), &plain);

    let mut k_field = Vec::with_capacity(draw.slots.len() * SLOT_KEY);
    for (n, (slot, secret)) in draw.slots.iter().zip(&secrets).enumerate() {
        let ct = &c_field[n * MLKEM_CIPHERTEXT..(n + 1) * MLKEM_CIPHERTEXT];
        match (slot, secret) {
            (Slot::To(..), Some((i, ss))) => {
                let r = &recipients[*i];
                let Ok(dh) = crypto::x25519(&draw.a, r.x) else {
                    // A device key of small order opens nothing: its slot is noise.
                    let mut noise = [0u8; SLOT_KEY];
                    rng.fill_bytes(&mut noise);
                    k_field.extend_from_slice(&noise);
                    continue;
                };
                let m = r.m.to_bytes();
                let mut key = *draw.key_base;
                xchacha20_xor(
                    &key_key(&dh, &a_pub, r.x, ss, &m[..]),
                    &key_nonce(&a_pub, ct, &d),
                    &mut key,
                );
                k_field.extend_from_slice(&dk(&a_pub, r.x, &m[..], ct, &key));
                k_field.extend_from_slice(&key);
            }
            (Slot::Filler(_, key), _) => k_field.extend_from_slice(key),
            (Slot::To(..), None) => unreachable!("every recipient slot has its secret"),
        }
    }

    let root = account.seed().as_bytes();
    let mut kicked: Vec<[u8; 16]> = header
        .kicked
        .iter()
        .map(|id| kicked_entry(root, &a_pub, id))
        .chain(draw.kicked_filler.iter().copied())
        .collect();
    shuffle(&mut kicked, rng);

    let mut w = bencode::Writer::new();
    w.dict()
        .key(b"")
        .bytes(b"G")
        .key(b"@")
        .bytes(&wrap_group_id(root, &a_pub, header.group_id))
        .key(b"A")
        .bytes(&a_pub)
        .key(b"C")
        .bytes(&c_field)
        .key(b"K")
        .bytes(&k_field)
        .key(b"X")
        .bytes(header.link_x)
        .key(b"d")
        .bytes(&d);
    if !kicked.is_empty() {
        w.key(b"k").bytes(&kicked.concat());
    }
    let sig = account.ed25519_signing_key().sign(w.as_bytes());
    w.key(b"~").bytes(&sig.to_bytes()).end();
    w.finish()
}

/// A `G` message's outer fields, signature checked.
#[derive(Debug)]
pub struct Outer {
    pub group_id: GroupId,
    pub link_x: [u8; 32],
    a_pub: [u8; 32],
    c_field: Vec<u8>,
    k_field: Vec<u8>,
    d: Vec<u8>,
    kicked: Vec<u8>,
}

/// What a device learns from a `G` message.
#[derive(Debug)]
pub enum Opened {
    /// It is a member: the payload.
    Member(Payload),
    /// It was removed: its `k` entry is there.
    Removed,
    /// Neither: a group it is not in (or not yet in).
    NotMember,
}

/// Reads a `G` message's outer fields and checks its signature by the account (`account`'s
/// Ed25519 key): a node cannot forge or alter one.
pub fn read_outer(account: &Identity, data: &[u8]) -> Result<Outer> {
    let bad = |what| Error::Malformed(what);
    let Item::Dict(dict) = bencode::parse(data)? else {
        return Err(bad("G message: not a dict"));
    };
    if dict.bytes(b"") != Some(b"G") {
        return Err(bad("G message: not a group message"));
    }
    let field = |key: &[u8]| dict.bytes(key).ok_or(bad("G message: a field is missing"));
    let sig: [u8; 64] = field(b"~")?
        .try_into()
        .map_err(|_| bad("G message: bad signature field"))?;
    let signed = dict.signed_prefix(b"~").expect("`~` is present");
    account
        .ed25519_pubkey()
        .verify_strict(signed, &Signature::from_bytes(&sig))
        .map_err(|_| Error::BadSignature)?;
    let c_field = field(b"C")?;
    let k_field = field(b"K")?;
    let d = field(b"d")?;
    let kicked = dict.bytes(b"k").unwrap_or_default();
    let slots = c_field.len() / MLKEM_CIPHERTEXT;
    if c_field.len() % MLKEM_CIPHERTEXT != 0
        || k_field.len() % SLOT_KEY != 0
        || k_field.len() / SLOT_KEY != slots
        || d.len() <= crypto::TAG
        || kicked.len() % 16 != 0
    {
        return Err(bad("G message: field sizes do not agree"));
    }
    let a_pub: [u8; 32] = field(b"A")?.try_into().map_err(|_| bad("G message: A"))?;
    let wrapped: [u8; 8] = field(b"@")?.try_into().map_err(|_| bad("G message: @"))?;
    Ok(Outer {
        // XC20 is its own inverse.
        group_id: wrap_group_id(account.seed().as_bytes(), &a_pub, &wrapped),
        link_x: field(b"X")?.try_into().map_err(|_| bad("G message: X"))?,
        a_pub,
        c_field: c_field.to_vec(),
        k_field: k_field.to_vec(),
        d: d.to_vec(),
        kicked: kicked.to_vec(),
    })
}

impl Outer {
    /// Opens the payload with any of this device's keys (current and recent), or tells whether
    /// this device (`own`) was removed.
    pub fn open(
        &self,
        account: &Identity,
        own: &DeviceId,
        device_keys: &[&KemKeys],
    ) -> Result<Opened> {
        let nonce = kem_nonce(&self.a_pub, &self.c_field);
        for (ct, slot) in self
            .c_field
            .chunks_exact(MLKEM_CIPHERTEXT)
            .zip(self.k_field.chunks_exact(SLOT_KEY))
        {
            let wrapped: [u8; 32] = slot[2..].try_into().expect("34-byte slot");
            for keys in device_keys {
                let m = keys.m_public();
                if dk(&self.a_pub, keys.x_public(), m, ct, &wrapped) != slot[..2] {
                    continue;
                }
                // Open question 6: an all-zero DH is a wrong key, not a key.
                let Ok(dh) = crypto::x25519(keys.x_secret(), &self.a_pub) else {
                    continue;
                };
                let ss = keys.decapsulate(ct.try_into().expect("1088-byte slot"));
                let mut key = Zeroizing::new(wrapped);
                let kek = key_key(&dh, &self.a_pub, keys.x_public(), &ss, m);
                xchacha20_xor(&kek, &key_nonce(&self.a_pub, ct, &self.d), key.as_mut());
                let Ok(plain) = crypto::xchacha_open_with_nonce(&key, &nonce, &self.d) else {
                    continue;
                };
                let plain = Zeroizing::new(plain);
                return Payload::parse(unpad(&plain)).map(Opened::Member);
            }
        }
        let mine = kicked_entry(account.seed().as_bytes(), &self.a_pub, own);
        Ok(if self.kicked.chunks_exact(16).any(|e| e == mine) {
            Opened::Removed
        } else {
            Opened::NotMember
        })
    }
}
