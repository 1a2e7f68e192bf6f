//! One config message (SESSION-ATTACHMENTS-CONFIG.md §B.2, §B.5, §B.7):
//! `d 1:# <seqno> 1:& <data> 1:< <lagged diffs> 1:= <own diff> [1:~ <signature>] e`, unknown
//! top-level keys kept where they were. Its hash (BLAKE2b-32 of the bytes) names it in other
//! messages' lagged diffs and orders conflicting ones.

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

use super::diff::{self, Diff};
use super::{Data, read_data, write_data};
use crate::bencode::{self, Item, Writer};
use crate::crypto;
use crate::error::{Error, Result};

/// How many seqnos back lagged diffs reach (`DEFAULT_DIFF_LAGS`).
pub const LAG: i64 = 5;

/// A message's hash.
pub type Hash = [u8; 32];

/// An earlier update's diff, carried so others can replay it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lagged {
    pub seqno: i64,
    pub hash: Hash,
    pub diff: Diff,
}

/// A config message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigMessage {
    pub seqno: i64,
    pub data: Data,
    /// Ascending by (seqno, hash).
    pub lagged: Vec<Lagged>,
    /// This update's own changes.
    pub diff: Diff,
    /// Top-level keys this version does not know, with their encoded values.
    unknown: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Default for ConfigMessage {
    fn default() -> Self {
        Self::empty()
    }
}

/// BLAKE2b-32 of a message's bytes.
pub fn hash(bytes: &[u8]) -> Hash {
    crypto::blake2b_32(&[bytes])
}

impl ConfigMessage {
    /// The empty object: seqno 0, no data.
    pub fn empty() -> Self {
        Self {
            seqno: 0,
            data: Data::new(),
            lagged: Vec::new(),
            diff: Diff::new(),
            unknown: Vec::new(),
        }
    }

    /// The next message after `self` (whose hash is `hash`), holding `data` (§B.5): seqno + 1,
    /// this message's diff joins the lagged ones, the new diff is from `self`'s data.
    pub fn increment(&self, hash: Hash, data: Data) -> Self {
        let seqno = self.seqno + 1;
        let mut lagged: Vec<Lagged> = self
            .lagged
            .iter()
            .filter(|l| l.seqno > seqno - LAG)
            .cloned()
            .collect();
        lagged.push(Lagged {
            seqno: self.seqno,
            hash,
            diff: self.diff.clone(),
        });
        lagged.sort_by_key(|l| (l.seqno, l.hash));
        let mut data = data;
        super::prune(&mut data);
        Self {
            seqno,
            diff: diff::compute(&self.data, &data),
            data,
            lagged,
            unknown: self.unknown.clone(),
        }
    }

    /// The encoding, signed by `signer` for a signed type (the signature covers everything
    /// before it and is the last key). Lagged diffs older than [`LAG`] seqnos are left out.
    pub fn serialize(&self, signer: Option<&SigningKey>) -> Vec<u8> {
        let mut w = Writer::new();
        w.dict();
        let mut known: Vec<(&[u8], u8)> = vec![(b"#", 0), (b"&", 1), (b"<", 2), (b"=", 3)];
        known.extend(self.unknown.iter().map(|(k, _)| (k.as_slice(), 4)));
        known.sort();
        for (key, what) in known {
            w.key(key);
            match what {
                0 => {
                    w.int(self.seqno);
                }
                1 => write_data(&mut w, &self.data),
                2 => {
                    w.list();
                    for l in self
                        .lagged
                        .iter()
                        .filter(|l| l.seqno > self.seqno - LAG && l.seqno < self.seqno)
                    {
                        w.list().int(l.seqno).bytes(&l.hash);
                        diff::write(&mut w, &l.diff);
                        w.end();
                    }
                    w.end();
                }
                3 => diff::write(&mut w, &self.diff),
                _ => {
                    let raw = &self
                        .unknown
                        .iter()
                        .find(|(k, _)| k == key)
                        .expect("listed from unknown")
                        .1;
                    w.raw(raw);
                }
            }
        }
        if let Some(signer) = signer {
            let sig = signer.sign(w.as_bytes());
            w.key(b"~").bytes(&sig.to_bytes());
        }
        w.end();
        w.finish()
    }

    /// Parses a message; with `verifier` (a signed type) its signature is required and checked.
    pub fn parse(bytes: &[u8], verifier: Option<&VerifyingKey>) -> Result<Self> {
        let bad = |why| Error::Malformed(why);
        let Item::Dict(dict) = bencode::parse(bytes)? else {
            return Err(bad("config: not a dict"));
        };
        if dict.keys().next() != Some(b"#") {
            return Err(bad("config: `#` must come first"));
        }
        let seqno = dict.int(b"#").ok_or(bad("config: bad seqno"))?;
        let data = read_data(dict.get(b"&").ok_or(bad("config: no data"))?, true)?;
        let Some(Item::List(lags)) = dict.get(b"<") else {
            return Err(bad("config: no lagged diffs"));
        };
        let mut lagged: Vec<Lagged> = Vec::with_capacity(lags.len());
        for lag in lags {
            let Item::List(parts) = lag else {
                return Err(bad("config: bad lagged diff"));
            };
            let [Item::Int(s), Item::Bytes(h), d] = parts.as_slice() else {
                return Err(bad("config: bad lagged diff"));
            };
            let entry = Lagged {
                seqno: *s,
                hash: (*h)
                    .try_into()
                    .map_err(|_| bad("config: bad lagged hash"))?,
                diff: diff::read(d)?,
            };
            if entry.seqno >= seqno
                || lagged
                    .last()
                    .is_some_and(|l| (l.seqno, l.hash) >= (entry.seqno, entry.hash))
            {
                return Err(bad("config: lagged diffs out of order"));
            }
            lagged.push(entry);
        }
        let own = diff::read(dict.get(b"=").ok_or(bad("config: no diff"))?)?;
        let signature = dict.bytes(b"~");
        if signature.is_some() && dict.keys().last() != Some(b"~") {
            return Err(bad("config: keys after the signature"));
        }
        if let Some(key) = verifier {
            let sig: [u8; 64] = signature
                .and_then(|s| s.try_into().ok())
                .ok_or(bad("config: signature required"))?;
            let signed = dict.signed_prefix(b"~").expect("`~` is present");
            key.verify_strict(signed, &Signature::from_bytes(&sig))
                .map_err(|_| Error::BadSignature)?;
        }
        let unknown = dict
            .keys()
            .filter(|k| !matches!(*k, b"#" | b"&" | b"<" | b"=" | b"~"))
            .map(|k| {
                (
                    k.to_vec(),
                    dict.raw_value(k).expect("a listed key").to_vec(),
                )
            })
            .collect();
        Ok(Self {
            seqno,
            data,
            lagged,
            diff: own,
            unknown,
        })
    }
}
