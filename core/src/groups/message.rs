//! Group messages (SESSION-GROUPS.md §7, namespace 11): `nonce(24) || XChaCha20-Poly1305(dict)`
//! under the group's current shared key, where the dict is
//! `d 0: i1e 1:a <sender Ed25519 key> 1:d <data> 1:s <sig> e`, signed over `data || group_pk`,
//! zero-padded so the whole message is a multiple of 256 bytes.
//!
//! Murmur always sends `d` (uncompressed). Session may send `z` (zstd); reading it is not built
//! yet and is refused with [`GroupMessageError::Compressed`].

use ed25519_dalek::{Signature, Signer, VerifyingKey};
use rand_core::CryptoRng;

use crate::bencode::{self, Item};
use crate::crypto::{self, TAG, XCHACHA_NONCE};
use crate::keys::{Identity, SessionId, ed25519_pk_to_x25519};

/// Largest plaintext a group message carries.
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
    #[error("compressed group messages are not supported yet")]
    Compressed,
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
    let sig = signer.sign(&[data, group_pk].concat());
    let mut w = bencode::Writer::new();
    w.dict()
        .key(b"")
        .int(1)
        .key(b"a")
        .bytes(signer.verifying_key().as_bytes())
        .key(b"d")
        .bytes(data)
        .key(b"s")
        .bytes(&sig.to_bytes())
        .end();
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
    let data = match (dict.bytes(b"d"), dict.bytes(b"z")) {
        (Some(d), None) if !d.is_empty() => d,
        (None, Some(z)) if !z.is_empty() => return Err(GroupMessageError::Compressed),
        _ => return Err(GroupMessageError::BadFormat("one of d or z")),
    };
    let key = VerifyingKey::from_bytes(&sender)
        .map_err(|_| GroupMessageError::BadFormat("sender key"))?;
    key.verify_strict(&[data, group_pk].concat(), &Signature::from_bytes(&sig))
        .map_err(|_| GroupMessageError::BadFormat("signature does not verify"))?;
    let x =
        ed25519_pk_to_x25519(&sender).map_err(|_| GroupMessageError::BadFormat("sender key"))?;
    Ok(GroupMessage {
        sender: SessionId::from_x25519(x),
        data: data.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Seed;
    use sha2::{Digest, Sha256};

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    const KEY: &str = "91b5bade1933bc1b442e49fd14328e422dcd706f67325362cb53f6e8bee40fa7";

    fn admin() -> Identity {
        Identity::from_seed(
            Seed::from_bytes(
                &hex::decode("0123456789abcdef0123456789abcdeffedcba9876543210fedcba9876543210")
                    .unwrap(),
            )
            .unwrap(),
        )
    }

    fn group_pk() -> [u8; 32] {
        hex::decode("c50cb3ae956947a8de19135b5be2685ff348afc63fc34a837aca12bc5c1f5625")
            .unwrap()
            .try_into()
            .unwrap()
    }

    fn key() -> [u8; 32] {
        hex::decode(KEY).unwrap().try_into().unwrap()
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
        assert_eq!(msg.len(), 2048, "libsession's uncompressed size");
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
        let a = [0u8; 32];
        let mut z = b"d0:i1e1:a32:".to_vec();
        z.extend_from_slice(&a);
        z.extend_from_slice(b"1:s64:");
        z.extend_from_slice(&[0; 64]);
        z.extend_from_slice(b"1:z1:xe");
        assert_eq!(
            decrypt(&pk, &[k], &seal(&z)),
            Err(GroupMessageError::Compressed)
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
