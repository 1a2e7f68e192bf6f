//! The device group (SESSION-V2.md §2): an account's devices share its account keys through
//! namespace 21 of its own swarm. [`Payload`] is what the group says (every device's record or
//! tombstone and every retained account key); [`message`] seals it to each device's keys as a
//! signed `G` message; [`link`] is how a new device asks to join (an `L` message and the emoji
//! check both screens show); [`table`] merges what arrives so every device converges on one
//! view whatever order messages come in.

pub mod link;
pub mod message;
pub mod table;

#[cfg(test)]
mod tests;

use super::account::AccountKey;
use super::keys::{KemKeys, KemPublic, MLKEM_PUBLIC};
use crate::bencode::{self, Dict, Item};
use crate::crypto;
use crate::error::{Error, Result};

/// The namespace of the device group (authenticated: only the account reads and writes it).
pub const NAMESPACE: i32 = 21;
/// How long a `G` message lives in the swarm.
pub const DEVICE_GROUP_TTL_MS: u64 = 30 * 24 * 3600 * 1000;
/// How long a link request lives in the swarm (the new device waits this long at most).
pub const LINK_REQUEST_TTL_MS: u64 = 10 * 60 * 1000;
/// A device's description is cut to this many bytes (on a UTF-8 boundary) when written.
pub const DESCRIPTION_MAX: usize = 64;

/// A device's ID: 32 random bytes, made once per device.
pub type DeviceId = [u8; 32];

/// A device's record in the group (§2.1): its public device keys and what it says of itself.
/// Kept as the bytes it arrived in, so a record another device wrote (with keys this version
/// does not know) is passed on unchanged and its digest stays the same.
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    /// `#`: bumped on every change of info or device keys.
    pub seqno: i64,
    /// `@`: when it last changed (unix seconds).
    pub timestamp: i64,
    /// `X`: the device's X25519 key.
    pub x: [u8; 32],
    /// `M`: the device's ML-KEM-768 key.
    pub m: Box<[u8; MLKEM_PUBLIC]>,
    /// `d`: a description the user gave ("Work laptop").
    pub description: String,
    /// `t`: what kind of device (`c` for a CLI, `d` desktop, `a`/`i` phones, anything else free).
    pub kind: String,
    /// `v`: `1000000·major + 1000·minor + patch`, 0 when unknown.
    pub version: i64,
    raw: Vec<u8>,
}

impl DeviceRecord {
    /// A record for `keys` as this device writes it.
    pub fn new(
        seqno: i64,
        timestamp: i64,
        keys: &KemKeys,
        description: &str,
        kind: &str,
        version: i64,
    ) -> Self {
        let description = cut_utf8(description, DESCRIPTION_MAX).to_string();
        let mut w = bencode::Writer::new();
        w.dict()
            .key(b"#")
            .int(seqno)
            .key(b"@")
            .int(timestamp)
            .key(b"M")
            .bytes(keys.m_public())
            .key(b"X")
            .bytes(keys.x_public())
            .key(b"d")
            .bytes(description.as_bytes());
        if !kind.is_empty() {
            w.key(b"t").bytes(kind.as_bytes());
        }
        if version != 0 {
            w.key(b"v").int(version);
        }
        w.end();
        Self {
            seqno,
            timestamp,
            x: *keys.x_public(),
            m: Box::new(*keys.m_public()),
            description,
            kind: kind.to_string(),
            version,
            raw: w.finish(),
        }
    }

    fn from_dict(dict: &Dict<'_>) -> Result<Self> {
        let bad = Error::Malformed("device record");
        let seqno = dict.int(b"#").filter(|&s| s >= 1).ok_or(bad.clone())?;
        let timestamp = dict.int(b"@").ok_or(bad.clone())?;
        let m: [u8; MLKEM_PUBLIC] = dict
            .bytes(b"M")
            .and_then(|b| b.try_into().ok())
            .ok_or(bad.clone())?;
        // SESSION-V2.md open question 7: a key no one could encapsulate to is refused here,
        // not discovered when a group message is sealed.
        KemPublic::new(&m)?;
        let x = dict
            .bytes(b"X")
            .and_then(|b| b.try_into().ok())
            .ok_or(bad.clone())?;
        let text = |key: &[u8]| {
            dict.bytes(key)
                .map(|b| String::from_utf8_lossy(b).into_owned())
        };
        Ok(Self {
            seqno,
            timestamp,
            x,
            m: Box::new(m),
            description: text(b"d").ok_or(bad)?,
            kind: text(b"t").unwrap_or_default(),
            version: dict.int(b"v").unwrap_or(0),
            raw: dict.raw().to_vec(),
        })
    }

    /// Parses an encoded record.
    pub fn parse(data: &[u8]) -> Result<Self> {
        match bencode::parse(data)? {
            Item::Dict(dict) => Self::from_dict(&dict),
            _ => Err(Error::Malformed("device record")),
        }
    }

    /// The record as encoded.
    pub fn encoded(&self) -> &[u8] {
        &self.raw
    }

    /// `B2b_8` of the encoding: the tie-break between two records of equal seqno.
    pub fn digest(&self) -> [u8; 8] {
        let mut out = [0u8; 8];
        out.copy_from_slice(&crypto::blake2b(8, &[], &[], &[&self.raw]));
        out
    }

    /// The device keys to seal a group message to.
    pub fn kem_public(&self) -> Result<KemPublic> {
        KemPublic::new(&self.m)
    }
}

impl core::fmt::Debug for DeviceRecord {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DeviceRecord")
            .field("seqno", &self.seqno)
            .field("timestamp", &self.timestamp)
            .field("kind", &self.kind)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn cut_utf8(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// What the group says of one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A member, with its record.
    Record(DeviceRecord),
    /// Gone: `t > 0` removed by another device at `t`, `t < 0` left on its own at `−t`.
    Tombstone(i64),
}

/// The plaintext of a `G` message (§2.1): `{"D": {id: record | tombstone}, "K": [keys]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Payload {
    /// By device ID, ascending (the encoding's order).
    pub devices: Vec<(DeviceId, Entry)>,
    /// Every retained account key.
    pub keys: Vec<AccountKey>,
}

impl Payload {
    /// `d 1:D d <id> <record|int> … e 1:K l d 1:c <created> [1:r <rotated>] 1:s <seed> e … e e`,
    /// keys current first, then by rotation time, newest first.
    pub fn encode(&self) -> Vec<u8> {
        let mut devices: Vec<&(DeviceId, Entry)> = self.devices.iter().collect();
        devices.sort_by_key(|(id, _)| *id);
        devices.dedup_by_key(|(id, _)| *id);
        let mut keys: Vec<&AccountKey> = self.keys.iter().collect();
        keys.sort_by_key(|k| core::cmp::Reverse(k.rotated.unwrap_or(u64::MAX)));

        let mut w = bencode::Writer::new();
        w.dict().key(b"D").dict();
        for (id, entry) in devices {
            w.key(id);
            match entry {
                Entry::Record(r) => w.raw(&r.raw),
                Entry::Tombstone(t) => w.int(*t),
            };
        }
        w.end().key(b"K").list();
        for k in keys {
            w.dict().key(b"c").int(k.created as i64);
            if let Some(r) = k.rotated {
                w.key(b"r").int(r as i64);
            }
            w.key(b"s").bytes(&k.seed).end();
        }
        w.end().end();
        w.finish()
    }

    /// Reads a payload: `D` and `K` required, every record and key well formed.
    pub fn parse(data: &[u8]) -> Result<Self> {
        let bad = Error::Malformed("device group payload");
        let Item::Dict(dict) = bencode::parse(data)? else {
            return Err(bad);
        };
        let (Some(Item::Dict(d)), Some(Item::List(k))) = (dict.get(b"D"), dict.get(b"K")) else {
            return Err(bad);
        };
        let mut devices = Vec::new();
        for id in d.keys() {
            let id: DeviceId = id.try_into().map_err(|_| bad.clone())?;
            let entry = match d.get(&id) {
                Some(Item::Dict(r)) => Entry::Record(DeviceRecord::from_dict(r)?),
                Some(Item::Int(t)) if *t != 0 && *t != i64::MIN => Entry::Tombstone(*t),
                _ => return Err(bad),
            };
            devices.push((id, entry));
        }
        let mut keys = Vec::new();
        for item in k {
            let Item::Dict(key) = item else {
                return Err(bad);
            };
            let created = key.int(b"c").and_then(|c| u64::try_from(c).ok());
            let rotated = match key.int(b"r") {
                Some(r) => Some(u64::try_from(r).map_err(|_| bad.clone())?),
                None => None,
            };
            let seed = key.bytes(b"s").and_then(|s| s.try_into().ok());
            let (Some(created), Some(seed)) = (created, seed) else {
                return Err(bad);
            };
            keys.push(AccountKey {
                seed,
                created,
                rotated,
            });
        }
        Ok(Self { devices, keys })
    }
}

/// Padded size of a payload of `len` bytes (§2.2): `2300 + 6400·B`, at least one bucket.
pub fn padded_len(len: usize) -> usize {
    const BASE: usize = 2300;
    const BUCKET: usize = 6400;
    BASE + BUCKET * (len - len.min(BASE)).div_ceil(BUCKET).max(1)
}

/// Strips the zero padding after a payload (open question 5: any number of zeros, and nothing
/// else, may follow the dict; the strict parse refuses anything else).
pub fn unpad(data: &[u8]) -> &[u8] {
    let end = data.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    &data[..end]
}

/// `XC20`: the XChaCha20 keystream XORed over `data` from block 0 (libsodium's
/// `crypto_stream_xchacha20_xor`), unauthenticated: what wraps a slot's key and the group ID.
pub(crate) fn xchacha20_xor(key: &[u8; 32], nonce: &[u8; 24], data: &mut [u8]) {
    use chacha20::XChaCha20;
    use chacha20::cipher::{KeyIvInit as _, StreamCipher as _};
    XChaCha20::new(key.into(), nonce.into()).apply_keystream(data);
}
