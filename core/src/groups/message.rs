//! Group messages (SESSION-GROUPS.md §7, namespace 11): `nonce(24) || XChaCha20-Poly1305(dict)`
//! under the group's current shared key, where the dict is
//! `d 0: i1e 1:a <sender Ed25519 key> 1:d <data> 1:s <sig> e`, signed over `data || group_pk`,
//! zero-padded so the whole message is a multiple of 256 bytes.
//!
//! As libsession does, the data is zstd-compressed (`z`, after `s`) when that is strictly
//! shorter, else sent as it is (`d`, before `s`); the signature covers the bytes stored.

use ed25519_dalek::{Signature, Signer, VerifyingKey};
use rand_core::CryptoRng;

use crate::bencode::{self, Item};
use crate::crypto::{self, TAG, XCHACHA_NONCE};
use crate::keys::{Identity, SessionId, ed25519_pk_to_x25519};

/// Largest plaintext a group message carries (compressed or not).
pub const MAX_PLAINTEXT: usize = 1_000_000;
const PAD_STEP: usize = 256;

/// An opened group message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMessage {
    pub sender: SessionId,
    pub data: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GroupMessageError {
    #[error("group message too large")]
    TooLarge,
    #[error("no group key opens this message")]
    NoKey,
    #[error("malformed group message: {0}")]
    BadFormat(&'static str),
}

/// Seals `data` from `sender` for the group `group_pk` under its key.
pub fn encrypt(
    sender: &Identity,
    group_pk: &[u8; 32],
    key: &[u8; 32],
    data: &[u8],
    rng: &mut impl CryptoRng,
) -> Result<Vec<u8>, GroupMessageError> {
    let mut nonce = [0u8; XCHACHA_NONCE];
    rng.fill_bytes(&mut nonce);
    encrypt_with_nonce(sender, group_pk, key, data, &nonce)
}

pub(crate) fn encrypt_with_nonce(
    sender: &Identity,
    group_pk: &[u8; 32],
    key: &[u8; 32],
    data: &[u8],
    nonce: &[u8; XCHACHA_NONCE],
) -> Result<Vec<u8>, GroupMessageError> {
    if data.len() > MAX_PLAINTEXT {
        return Err(GroupMessageError::TooLarge);
    }
    let signer = sender.ed25519_signing_key();
    let compressed = crate::zstd::compress_if_shorter(data);
    let stored = compressed.as_deref().unwrap_or(data);
    let sig = signer.sign(&[stored, group_pk].concat());
    let mut w = bencode::Writer::new();
    w.dict()
        .key(b"")
        .int(1)
        .key(b"a")
        .bytes(signer.verifying_key().as_bytes());
    if stored.len() < data.len() {
        w.key(b"s").bytes(&sig.to_bytes()).key(b"z").bytes(stored);
    } else {
        w.key(b"d").bytes(stored).key(b"s").bytes(&sig.to_bytes());
    }
    w.end();
    let mut dict = w.finish();
    let overhead = XCHACHA_NONCE + TAG;
    dict.resize(
        (overhead + dict.len()).div_ceil(PAD_STEP) * PAD_STEP - overhead,
        0,
    );
    let mut out = nonce.to_vec();
    out.extend_from_slice(&crypto::xchacha_seal_with_nonce(key, nonce, &dict));
    Ok(out)
}

/// Opens a group message with the first of `keys` that works (the caller orders them: pending
/// key first, then newest).
pub fn decrypt(
    group_pk: &[u8; 32],
    keys: &[[u8; 32]],
    message: &[u8],
) -> Result<GroupMessage, GroupMessageError> {
    if message.len() < XCHACHA_NONCE + TAG {
        return Err(GroupMessageError::BadFormat("too short"));
    }
    let nonce: &[u8; XCHACHA_NONCE] = message[..XCHACHA_NONCE].try_into().expect("24 bytes");
    let padded = keys
        .iter()
        .find_map(|k| crypto::xchacha_open_with_nonce(k, nonce, &message[XCHACHA_NONCE..]).ok())
        .ok_or(GroupMessageError::NoKey)?;
    let end = padded.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let Ok(Item::Dict(dict)) = bencode::parse(&padded[..end]) else {
        return Err(GroupMessageError::BadFormat("not a dict"));
    };
    if dict.int(b"") != Some(1) {
        return Err(GroupMessageError::BadFormat("unknown version"));
    }
    let sender: [u8; 32] = dict
        .bytes(b"a")
        .and_then(|a| a.try_into().ok())
        .ok_or(GroupMessageError::BadFormat("sender key"))?;
    let sig: [u8; 64] = dict
        .bytes(b"s")
        .and_then(|s| s.try_into().ok())
        .ok_or(GroupMessageError::BadFormat("signature"))?;
    let (stored, compressed) = match (dict.bytes(b"d"), dict.bytes(b"z")) {
        (Some(d), None) if !d.is_empty() => (d, false),
        (None, Some(z)) if !z.is_empty() => (z, true),
        _ => return Err(GroupMessageError::BadFormat("one of d or z")),
    };
    let key = VerifyingKey::from_bytes(&sender)
        .map_err(|_| GroupMessageError::BadFormat("sender key"))?;
    key.verify_strict(&[stored, group_pk].concat(), &Signature::from_bytes(&sig))
        .map_err(|_| GroupMessageError::BadFormat("signature does not verify"))?;
    let data = if compressed {
        decompress(stored)?
    } else {
        stored.to_vec()
    };
    let x =
        ed25519_pk_to_x25519(&sender).map_err(|_| GroupMessageError::BadFormat("sender key"))?;
    Ok(GroupMessage {
        sender: SessionId::from_x25519(x),
        data,
    })
}

/// zstd-decompresses at most [`MAX_PLAINTEXT`] bytes: a bomb stops at the cap.
fn decompress(z: &[u8]) -> Result<Vec<u8>, GroupMessageError> {
    crate::zstd::decompress(z, MAX_PLAINTEXT).map_err(|e| match e {
        crate::zstd::Unzstd::TooLarge => GroupMessageError::TooLarge,
        crate::zstd::Unzstd::Bad => GroupMessageError::BadFormat("compressed data"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::groups::fixtures::admin;
    use sha2::{Digest, Sha256};

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const KEY: &str = "91b5bade1933bc1b442e49fd14328e422dcd706f67325362cb53f6e8bee40fa7";

    fn group_pk() -> [u8; 32] {
        *crate::groups::fixtures::group().public().as_bytes()
    }

    fn key() -> [u8; 32] {
        hex::decode(KEY).unwrap().try_into().unwrap()
    }

    /// A `z` dict signed by the admin for the §6.5 group, as libsession writes it.
    fn compressed_dict(z: &[u8]) -> Vec<u8> {
        let signer = admin();
        let sig = signer
            .ed25519_signing_key()
            .sign(&[z, &group_pk()].concat());
        let mut w = bencode::Writer::new();
        w.dict()
            .key(b"")
            .int(1)
            .key(b"a")
            .bytes(signer.ed25519_pubkey().as_bytes());
        w.key(b"s").bytes(&sig.to_bytes()).key(b"z").bytes(z).end();
        w.finish()
    }

    #[test]
    fn computed_vector() {
        let nonce: [u8; 24] = core::array::from_fn(|i| i as u8);
        let msg =
            encrypt_with_nonce(&admin(), &group_pk(), &key(), b"hello group", &nonce).unwrap();
        assert_eq!(msg.len(), 256);
        assert_eq!(
            hex::encode(&msg[24..40]),
            "ba44bd9246e101c6d26e221386afca5f"
        );
        assert_eq!(hex::encode(&msg[240..]), "269ab068f9bb654a229bb515d49b8965");
        assert_eq!(
            hex::encode(Sha256::digest(&msg)),
            "f3e2521f144532e5fe8bcf396aa0fad244ad47fea2ddf6239dab7788310c9bca"
        );
        let opened = decrypt(&group_pk(), &[[9; 32], key()], &msg).unwrap();
        assert_eq!(opened.data, b"hello group");
        assert_eq!(
            opened.sender.to_string(),
            "05f1e8b64bbf761edf8f7b47e3a1f369985644cce0a62adb8e21604474bdd49627"
        );
    }

    #[test]
    fn libsession_size_check() {
        let mut text = b"hello to all my friends sitting in the tomato sauce".to_vec();
        for _ in 0..5 {
            text = [text.clone(), text].concat();
        }
        assert_eq!(text.len(), 1632);
        let msg = encrypt_with_nonce(&admin(), &group_pk(), &key(), &text, &[0; 24]).unwrap();
        // libsession (libzstd level 1) gets this into 256 bytes; ruzstd's fastest level, a
        // simpler matcher, into 512. Either side opens the other's.
        assert_eq!(msg.len(), 512);
        let opened = decrypt(&group_pk(), &[key()], &msg).unwrap();
        assert_eq!(opened.data, text);
        // Data that does not compress goes as it is: libsession's uncompressed size.
        let mut noise = vec![0u8; 1632];
        let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::from_seed([5; 32]);
        rand_core::Rng::fill_bytes(&mut rng, &mut noise);
        let msg = encrypt_with_nonce(&admin(), &group_pk(), &key(), &noise, &[0; 24]).unwrap();
        assert_eq!(msg.len(), 2048);
        assert_eq!(decrypt(&group_pk(), &[key()], &msg).unwrap().data, noise);
    }

    #[test]
    fn a_libzstd_frame_opens() {
        // libsession's size-check text compressed by libzstd 1.5.4 at level 1 (`zstd -1
        // --no-check`), as a Session client compresses it.
        let frame = hex::decode(
            "28b52ffd606005e50100340368656c6c6f20746f20616c6c206d7920667269656e647320\
             73697474696e6720696e2074686520746f6d61746f2073617563650100a3a2fd1514",
        )
        .unwrap();
        let mut text = b"hello to all my friends sitting in the tomato sauce".to_vec();
        for _ in 0..5 {
            text = [text.clone(), text].concat();
        }
        assert_eq!(decompress(&frame).unwrap(), text);
        // Framed as libsession frames it: the 256-byte message of its size check.
        let mut dict = compressed_dict(&frame);
        dict.resize((40 + dict.len()).div_ceil(256) * 256 - 40, 0);
        let mut msg = vec![0u8; 24];
        msg.extend_from_slice(&crypto::xchacha_seal_with_nonce(&key(), &[0; 24], &dict));
        assert_eq!(msg.len(), 256);
        assert_eq!(decrypt(&group_pk(), &[key()], &msg).unwrap().data, text);
    }

    #[test]
    fn bad_messages_are_refused() {
        let (pk, k) = (group_pk(), key());
        let msg = encrypt_with_nonce(&admin(), &pk, &k, b"hi", &[1; 24]).unwrap();
        assert_eq!(
            decrypt(&pk, &[[2; 32]], &msg),
            Err(GroupMessageError::NoKey)
        );
        assert_eq!(
            decrypt(&pk, &[k], &msg[..39]),
            Err(GroupMessageError::BadFormat("too short"))
        );
        let mut flipped = msg.clone();
        flipped[100] ^= 1;
        assert_eq!(decrypt(&pk, &[k], &flipped), Err(GroupMessageError::NoKey));
        // Re-signed for another group: the signature covers the group key.
        let other = encrypt_with_nonce(&admin(), &[7; 32], &k, b"hi", &[1; 24]).unwrap();
        assert_eq!(
            decrypt(&pk, &[k], &other),
            Err(GroupMessageError::BadFormat("signature does not verify"))
        );
        // Dicts no sender writes, sealed under the right key.
        let seal = |dict: &[u8]| {
            let mut out = vec![3u8; 24];
            out.extend_from_slice(&crypto::xchacha_seal_with_nonce(&k, &[3; 24], dict));
            out
        };
        // A signed zstd bomb (a megabyte and a bit of zeros) stops at the cap.
        let bomb = ruzstd::encoding::compress_to_vec(
            &vec![0u8; MAX_PLAINTEXT + 1][..],
            ruzstd::encoding::CompressionLevel::Fastest,
        );
        let signed_z = |z: &[u8]| seal(&compressed_dict(z));
        assert_eq!(
            decrypt(&pk, &[k], &signed_z(&bomb)),
            Err(GroupMessageError::TooLarge)
        );
        assert_eq!(
            decrypt(&pk, &[k], &signed_z(b"not zstd")),
            Err(GroupMessageError::BadFormat("compressed data"))
        );
        assert_eq!(
            decrypt(&pk, &[k], &seal(b"d0:i2ee")),
            Err(GroupMessageError::BadFormat("unknown version"))
        );
        assert_eq!(
            decrypt(&pk, &[k], &seal(b"l0:e")),
            Err(GroupMessageError::BadFormat("not a dict"))
        );
        assert_eq!(
            encrypt(
                &admin(),
                &pk,
                &k,
                &vec![0; MAX_PLAINTEXT + 1],
                &mut <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::from_seed([0; 32])
            ),
            Err(GroupMessageError::TooLarge)
        );
    }
}
