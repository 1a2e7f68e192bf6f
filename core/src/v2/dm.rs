//! Direct messages of protocol v2 (SESSION-V2.md §3–§4): `00 02 || ki || E || ct || body_ct`.
//!
//! PFS: the sender encapsulates to the recipient's published account keys (X25519 + ML-KEM-768,
//! combined X-Wing style), so a message opens only while the recipient still holds those keys
//! (16 days after they rotate). Non-PFS: the same frame keyed by the recipient's long-term
//! X25519 key alone, for recipients that publish no keys. Both carry a bencoded inner dict signed
//! by the sender's Ed25519 key, padded to `1536 + 256·N` bytes.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use rand_core::CryptoRng;
use sha3::{Digest, Sha3_256};
use zeroize::Zeroizing;

use super::keys::{KemKeys, KemPublic, MLKEM_CIPHERTEXT, shake};
use super::record::PublishedKeys;
use crate::bencode::{self, Item};
use crate::crypto;
use crate::keys::{Identity, SessionId, ed25519_pk_to_x25519};

/// The version bytes: `0x00` (not a protobuf, so not v1) then `0x02`.
pub const VERSION: [u8; 2] = [0x00, 0x02];
/// Smallest v2 message; sizes grow in steps of [`PAD_STEP`].
pub const MIN_MESSAGE: usize = 1536;
pub const PAD_STEP: usize = 256;
/// Version, `ki`, `E` and the ML-KEM ciphertext.
const HEADER: usize = 2 + 2 + 32 + MLKEM_CIPHERTEXT;
/// Header plus the AEAD tag: what a message adds to its padded inner dict.
const OVERHEAD: usize = HEADER + crypto::TAG;

const KISS_PERSONAL: &[u8] = b"Session-Msg-KISS";
const SIGN_PERSONAL: &[u8] = b"SessionV2Message";
/// X-Wing's combiner label, `\.//^\`.
const XWING_LABEL: &[u8] = b"\\.//^\\";
const PFS_DOMAIN: &[u8] = b"SessionV2MessageSS";
const NOPFS_LABEL: &[u8] = b"SessionV2NonPFS";
const NOPFS_DOMAIN: &[u8] = b"SessionV2NonPFSSS";

/// How a message was protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protection {
    /// Opened with account keys: forward secret and post-quantum.
    Pfs,
    /// Opened with the long-term key: neither (the sender had no keys of ours).
    NoPfs,
}

/// An opened v2 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub sender: SessionId,
    /// The serialized `Content` protobuf.
    pub content: Vec<u8>,
    pub protection: Protection,
    /// A Session Pro signature (`~P`), left to the Pro layer to check.
    pub pro_signature: Option<[u8; 64]>,
}

/// Why a message did not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("not a v2 message")]
    NotV2,
    #[error("unknown message version")]
    UnknownVersion,
    #[error("malformed v2 message: {0}")]
    BadFormat(&'static str),
    /// No key we hold opens it (keys retired past retention, or not for us).
    #[error("no key of ours opens this message")]
    NoKey,
}

/// What keys the message to: the recipient's published account keys, or (non-PFS) none.
enum Keying<'a> {
    Pfs {
        x: &'a [u8; 32],
        m: &'a KemPublic,
        m_prefix: [u8; 2],
        coins: [u8; 32],
    },
    NoPfs {
        ki: [u8; 2],
        ct: Box<[u8; MLKEM_CIPHERTEXT]>,
    },
}

/// Encrypts `content` to `to` under its published account keys (SESSION-V2.md §3.1).
pub fn encrypt_pfs(
    sender: &Identity,
    to: &SessionId,
    keys: &PublishedKeys,
    content: &[u8],
    rng: &mut impl CryptoRng,
) -> Vec<u8> {
    let mut e = Zeroizing::new([0u8; 32]);
    let mut coins = [0u8; 32];
    rng.fill_bytes(e.as_mut());
    rng.fill_bytes(&mut coins);
    let keying = Keying::Pfs {
        x: &keys.x,
        m: &keys.m_checked,
        m_prefix: [keys.m[0], keys.m[1]],
        coins,
    };
    seal(sender.ed25519_signing_key(), to, keying, content, None, &e)
}

/// Encrypts `content` to `to` with no account keys (SESSION-V2.md §4): the frame looks the
/// same, `ki` and the ciphertext field are random.
pub fn encrypt_nopfs(
    sender: &Identity,
    to: &SessionId,
    content: &[u8],
    rng: &mut impl CryptoRng,
) -> Vec<u8> {
    let mut e = Zeroizing::new([0u8; 32]);
    rng.fill_bytes(e.as_mut());
    let mut ki = [0u8; 2];
    rng.fill_bytes(&mut ki);
    let mut ct = Box::new([0u8; MLKEM_CIPHERTEXT]);
    rng.fill_bytes(ct.as_mut());
    seal(
        sender.ed25519_signing_key(),
        to,
        Keying::NoPfs { ki, ct },
        content,
        None,
        &e,
    )
}

fn kiss(dh: &[u8; 32], e_pub: &[u8; 32], s: &[u8; 32]) -> [u8; 2] {
    let h = crypto::blake2b(2, dh, KISS_PERSONAL, &[e_pub, s]);
    [h[0], h[1]]
}

fn sha3(parts: &[&[u8]]) -> Zeroizing<[u8; 32]> {
    let mut h = Sha3_256::new();
    for p in parts {
        h.update(p);
    }
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&h.finalize());
    out
}

/// `k || n` from a shared secret under `domain`.
fn key_nonce(domain: &[u8], ss: &[u8; 32]) -> Zeroizing<[u8; 56]> {
    let mut kn = Zeroizing::new([0u8; 56]);
    shake(domain, &[ss], kn.as_mut());
    kn
}

/// The inner dict's signature: Ed25519 over `B2b_64(body; key = recipient's Session ID)`.
fn inner_digest(body: &[u8], to: &SessionId) -> Vec<u8> {
    crypto::blake2b(64, to.as_bytes(), SIGN_PERSONAL, &[body])
}

/// Padded inner length for a dict of `len` bytes.
fn padded_len(len: usize) -> usize {
    (OVERHEAD + len).max(MIN_MESSAGE).div_ceil(PAD_STEP) * PAD_STEP - OVERHEAD
}

fn seal(
    sender: &SigningKey,
    to: &SessionId,
    keying: Keying<'_>,
    content: &[u8],
    pro: Option<&SigningKey>,
    e: &[u8; 32],
) -> Vec<u8> {
    let keyed = key_material(to, keying, e);
    frame(&keyed, inner_dict(sender, to, content, pro))
}

/// What a message is keyed with: its `ki` hint, `E`, the ciphertext field and `k || n`.
struct Keyed {
    ki: [u8; 2],
    e_pub: [u8; 32],
    ct: Box<[u8; MLKEM_CIPHERTEXT]>,
    kn: Zeroizing<[u8; 56]>,
}

fn key_material(to: &SessionId, keying: Keying<'_>, e: &[u8; 32]) -> Keyed {
    let s = to.x25519_pubkey();
    let e_pub = crypto::x25519_public(e);
    // A small-order Session ID or published key gives an all-zero DH: the recipient refuses
    // such a message as "no key", so the zeros here open nothing.
    let dh_s = crypto::x25519(e, &s).unwrap_or_default();
    match keying {
        Keying::Pfs {
            x,
            m,
            m_prefix,
            coins,
        } => {
            let kiss = kiss(&dh_s, &e_pub, &s);
            let (ct, ss_m) = m.encapsulate(&coins);
            let ss_x = crypto::x25519(e, x).unwrap_or_default();
            let ss = sha3(&[ss_m.as_ref(), ss_x.as_ref(), &e_pub, x, XWING_LABEL]);
            Keyed {
                ki: [m_prefix[0] ^ kiss[0], m_prefix[1] ^ kiss[1]],
                e_pub,
                ct,
                kn: key_nonce(PFS_DOMAIN, &ss),
            }
        }
        Keying::NoPfs { ki, ct } => {
            let ss = sha3(&[dh_s.as_ref(), &s, &e_pub, NOPFS_LABEL]);
            Keyed {
                ki,
                e_pub,
                ct,
                kn: key_nonce(NOPFS_DOMAIN, &ss),
            }
        }
    }
}

/// The signed inner dict: `d 1:S <sender Ed25519 key> 1:c <content> 1:~ <sig> [2:~P <sig>] e`.
fn inner_dict(
    sender: &SigningKey,
    to: &SessionId,
    content: &[u8],
    pro: Option<&SigningKey>,
) -> Zeroizing<Vec<u8>> {
    let mut w = bencode::Writer::new();
    w.dict()
        .key(b"S")
        .bytes(sender.verifying_key().as_bytes())
        .key(b"c")
        .bytes(content);
    let sig = sender.sign(&inner_digest(w.as_bytes(), to));
    w.key(b"~").bytes(&sig.to_bytes());
    if let Some(pro) = pro {
        let pro_sig = pro.sign(w.as_bytes());
        w.key(b"~P").bytes(&pro_sig.to_bytes());
    }
    w.end();
    Zeroizing::new(w.finish())
}

/// Pads `inner`, encrypts it under `k || n` and frames it.
fn frame(keyed: &Keyed, mut inner: Zeroizing<Vec<u8>>) -> Vec<u8> {
    let padded = padded_len(inner.len());
    inner.resize(padded, 0);
    let mut key = Zeroizing::new([0u8; 32]);
    key.copy_from_slice(&keyed.kn[..32]);
    let mut nonce = [0u8; 24];
    nonce.copy_from_slice(&keyed.kn[32..]);
    let body = crypto::xchacha_seal_with_nonce(&key, &nonce, &inner);

    let mut out = Vec::with_capacity(HEADER + body.len());
    out.extend_from_slice(&VERSION);
    out.extend_from_slice(&keyed.ki);
    out.extend_from_slice(&keyed.e_pub);
    out.extend_from_slice(keyed.ct.as_ref());
    out.extend_from_slice(&body);
    out
}

/// Opens a v2 message sent to `own` (SESSION-V2.md §3.2): with each held account key whose
/// ML-KEM key matches the hint (`account_keys` in order: current first, then most recently
/// rotated), then without (non-PFS). An AEAD-valid message that fails to parse or verify is
/// refused at once, with no fallback.
pub fn decrypt(
    own: &Identity,
    account_keys: &[&KemKeys],
    data: &[u8],
) -> Result<Opened, OpenError> {
    match data {
        [] => return Err(OpenError::BadFormat("empty")),
        [v, ..] if *v != VERSION[0] => return Err(OpenError::NotV2),
        [_] => return Err(OpenError::BadFormat("too short")),
        [_, v, ..] if *v != VERSION[1] => return Err(OpenError::UnknownVersion),
        _ if data.len() < MIN_MESSAGE => return Err(OpenError::BadFormat("too short")),
        _ => {}
    }
    let ki = [data[2], data[3]];
    let mut e_pub = [0u8; 32];
    e_pub.copy_from_slice(&data[4..36]);
    let mut ct = [0u8; MLKEM_CIPHERTEXT];
    ct.copy_from_slice(&data[36..HEADER]);
    let body = &data[HEADER..];
    let own_sid = own.session_id();
    let s = own.x25519_pubkey();
    // A small-order E: no key agreement is possible, so nothing of ours opens it.
    let dh_s = crypto::x25519(own.x25519_secret(), &e_pub).map_err(|_| OpenError::NoKey)?;
    let kiss = kiss(&dh_s, &e_pub, &s);
    let prefix = [ki[0] ^ kiss[0], ki[1] ^ kiss[1]];

    for keys in account_keys.iter().filter(|k| k.m_public()[..2] == prefix) {
        let ss_m = keys.decapsulate(&ct);
        let Ok(ss_x) = crypto::x25519(keys.x_secret(), &e_pub) else {
            continue;
        };
        let ss = sha3(&[
            ss_m.as_ref(),
            ss_x.as_ref(),
            &e_pub,
            keys.x_public(),
            XWING_LABEL,
        ]);
        if let Some(inner) = open_body(&key_nonce(PFS_DOMAIN, &ss), body) {
            return read_inner(&inner, &own_sid, Protection::Pfs);
        }
    }

    let ss = sha3(&[dh_s.as_ref(), &s, &e_pub, NOPFS_LABEL]);
    match open_body(&key_nonce(NOPFS_DOMAIN, &ss), body) {
        Some(inner) => read_inner(&inner, &own_sid, Protection::NoPfs),
        None => Err(OpenError::NoKey),
    }
}

fn open_body(kn: &[u8; 56], body: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let mut key = Zeroizing::new([0u8; 32]);
    key.copy_from_slice(&kn[..32]);
    let mut nonce = [0u8; 24];
    nonce.copy_from_slice(&kn[32..]);
    crypto::xchacha_open_with_nonce(&key, &nonce, body)
        .ok()
        .map(Zeroizing::new)
}

/// The inner dict: `S`, `c`, `~` (and `~P`), then only zero padding.
fn read_inner(padded: &[u8], own: &SessionId, protection: Protection) -> Result<Opened, OpenError> {
    let (item, used) =
        bencode::parse_prefix(padded).map_err(|_| OpenError::BadFormat("inner dict"))?;
    if padded[used..].iter().any(|&b| b != 0) {
        return Err(OpenError::BadFormat("bytes after the inner dict"));
    }
    let Item::Dict(dict) = item else {
        return Err(OpenError::BadFormat("inner dict"));
    };
    let sender: [u8; 32] = dict
        .bytes(b"S")
        .and_then(|b| b.try_into().ok())
        .ok_or(OpenError::BadFormat("sender key"))?;
    let content = dict.bytes(b"c").ok_or(OpenError::BadFormat("no content"))?;
    let sig: [u8; 64] = dict
        .bytes(b"~")
        .and_then(|b| b.try_into().ok())
        .ok_or(OpenError::BadFormat("signature"))?;
    let signed = dict.signed_prefix(b"~").expect("`~` is present");
    let key = VerifyingKey::from_bytes(&sender).map_err(|_| OpenError::BadFormat("sender key"))?;
    key.verify_strict(&inner_digest(signed, own), &Signature::from_bytes(&sig))
        .map_err(|_| OpenError::BadFormat("signature does not verify"))?;
    let pro_signature = match dict.get(b"~P") {
        None => None,
        Some(Item::Bytes(b)) => Some(
            (*b).try_into()
                .map_err(|_| OpenError::BadFormat("pro signature"))?,
        ),
        Some(_) => return Err(OpenError::BadFormat("pro signature")),
    };
    let x = ed25519_pk_to_x25519(&sender).map_err(|_| OpenError::BadFormat("sender key"))?;
    Ok(Opened {
        sender: SessionId::from_x25519(x),
        content: content.to_vec(),
        protection,
        pro_signature,
    })
}

#[cfg(test)]
pub(crate) mod testing {
    //! Deterministic sealing for the spec's vectors, and messages no honest sender makes.
    use super::*;
    use crate::v2::keys::MLKEM_PUBLIC;

    fn pfs<'a>(m: &'a KemPublic, keys: &'a KemKeys) -> Keying<'a> {
        Keying::Pfs {
            x: keys.x_public(),
            m,
            m_prefix: [keys.m_public()[0], keys.m_public()[1]],
            coins: [0x11; 32],
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub fn seal_pfs(
        sender: &SigningKey,
        to: &SessionId,
        x: &[u8; 32],
        m_bytes: &[u8; MLKEM_PUBLIC],
        e: &[u8; 32],
        coins: [u8; 32],
        content: &[u8],
        pro: Option<&SigningKey>,
    ) -> Vec<u8> {
        let m = KemPublic::new(m_bytes).unwrap();
        let keying = Keying::Pfs {
            x,
            m: &m,
            m_prefix: [m_bytes[0], m_bytes[1]],
            coins,
        };
        seal(sender, to, keying, content, pro, e)
    }

    pub fn seal_nopfs(
        sender: &SigningKey,
        to: &SessionId,
        e: &[u8; 32],
        ki: [u8; 2],
        ct: [u8; MLKEM_CIPHERTEXT],
        content: &[u8],
    ) -> Vec<u8> {
        seal(
            sender,
            to,
            Keying::NoPfs {
                ki,
                ct: Box::new(ct),
            },
            content,
            None,
            e,
        )
    }

    /// Keyed for `to`, but the inner signature keyed for `signed_for`.
    pub fn seal_pfs_signed_for(
        sender: &SigningKey,
        to: &SessionId,
        signed_for: &SessionId,
        keys: &KemKeys,
        content: &[u8],
    ) -> Vec<u8> {
        let m = KemPublic::new(keys.m_public()).unwrap();
        let keyed = key_material(to, pfs(&m, keys), &[0x22; 32]);
        frame(&keyed, inner_dict(sender, signed_for, content, None))
    }

    /// Keyed for `to` around any inner bytes.
    pub fn seal_pfs_raw_inner(to: &SessionId, keys: &KemKeys, inner: Vec<u8>) -> Vec<u8> {
        let m = KemPublic::new(keys.m_public()).unwrap();
        let keyed = key_material(to, pfs(&m, keys), &[0x23; 32]);
        frame(&keyed, Zeroizing::new(inner))
    }

    /// The `ki` that makes `to` recover `m`'s prefix from a message with ephemeral `e`.
    pub fn hint_for(to: &SessionId, e: &[u8; 32], m: &[u8; MLKEM_PUBLIC]) -> [u8; 2] {
        let s = to.x25519_pubkey();
        let dh = crypto::x25519(e, &s).unwrap();
        let kiss = kiss(&dh, &crypto::x25519_public(e), &s);
        [m[0] ^ kiss[0], m[1] ^ kiss[1]]
    }
}
