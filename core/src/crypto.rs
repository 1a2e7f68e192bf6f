//! The primitives the protocol is built from, with libsodium's semantics (SESSION-PROTOCOL.md
//! §0.1): X25519, BLAKE2b with key and personalisation, the sealed box, XChaCha20-Poly1305 and
//! AES-256-GCM with the nonce carried in front of the ciphertext.

#[cfg(feature = "gcm")]
use aes_gcm::Aes256Gcm;
use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{self, Aead, KeyInit, Payload};
use curve25519_dalek::montgomery::MontgomeryPoint;
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Bytes a sealed box adds: the ephemeral public key and the Poly1305 tag.
pub const SEALED_BOX_OVERHEAD: usize = 32 + 16;
/// XChaCha20-Poly1305 nonce length.
pub const XCHACHA_NONCE: usize = 24;
/// AES-GCM IV length.
pub const GCM_IV: usize = 12;
/// Poly1305 / GCM tag length.
pub const TAG: usize = 16;

/// X25519 public key of a secret key (scalar clamped as X25519 requires).
pub fn x25519_public(secret: &[u8; 32]) -> [u8; 32] {
    MontgomeryPoint::mul_base_clamped(*secret).to_bytes()
}

/// X25519 shared secret; refuses an all-zero result (a small-order peer key), as libsodium does.
pub fn x25519(secret: &[u8; 32], public: &[u8; 32]) -> Result<Zeroizing<[u8; 32]>> {
    let shared = Zeroizing::new(MontgomeryPoint(*public).mul_clamped(*secret).to_bytes());
    if shared.iter().all(|b| *b == 0) {
        return Err(Error::InvalidKey);
    }
    Ok(shared)
}

/// A fresh X25519 keypair `(secret, public)`.
pub fn x25519_keypair(rng: &mut impl CryptoRng) -> (Zeroizing<[u8; 32]>, [u8; 32]) {
    let mut secret = Zeroizing::new([0u8; 32]);
    rng.fill_bytes(secret.as_mut());
    let public = x25519_public(&secret);
    (secret, public)
}

/// BLAKE2b with an output of `len` bytes (2, 8, 16, 24, 32, 56 or 64: the lengths the protocols use), an
/// optional key (empty: unkeyed; at most 64 bytes) and a personalisation of at most 16 bytes,
/// as libsodium's `crypto_generichash_blake2b_salt_personal` computes it.
pub fn blake2b(len: usize, key: &[u8], personal: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    use blake2::digest::consts::{U2, U8, U16, U24, U32, U56, U64};
    match len {
        2 => blake2b_n::<U2>(key, personal, parts),
        8 => blake2b_n::<U8>(key, personal, parts),
        16 => blake2b_n::<U16>(key, personal, parts),
        24 => blake2b_n::<U24>(key, personal, parts),
        32 => blake2b_n::<U32>(key, personal, parts),
        56 => blake2b_n::<U56>(key, personal, parts),
        64 => blake2b_n::<U64>(key, personal, parts),
        _ => panic!("BLAKE2b output length {len} is not one the protocol uses"),
    }
}

fn blake2b_n<N>(key: &[u8], personal: &[u8], parts: &[&[u8]]) -> Vec<u8>
where
    N: blake2::digest::array::ArraySize
        + blake2::digest::typenum::IsLessOrEqual<
            blake2::digest::consts::U64,
            Output = blake2::digest::typenum::True,
        >,
{
    use blake2::digest::Mac as _;
    let key = (!key.is_empty()).then_some(key);
    let mut mac = blake2::Blake2bMac::<N>::new_with_salt_and_personal(key, &[], personal)
        .expect("key ≤ 64 and personalisation ≤ 16 bytes, as every caller passes");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// 32-byte unkeyed BLAKE2b of the concatenation of `parts`.
pub fn blake2b_32(parts: &[&[u8]]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&blake2b(32, &[], &[], parts));
    out
}

/// XChaCha20-Poly1305 with a random nonce: `nonce(24) || ciphertext || tag(16)`.
pub fn xchacha_seal(key: &[u8; 32], plaintext: &[u8], rng: &mut impl CryptoRng) -> Vec<u8> {
    xchacha_seal_aad(key, plaintext, &[], rng)
}

/// [`xchacha_seal`] with associated data `aad` (authenticated, not encrypted).
pub fn xchacha_seal_aad(
    key: &[u8; 32],
    plaintext: &[u8],
    aad: &[u8],
    rng: &mut impl CryptoRng,
) -> Vec<u8> {
    let mut nonce = [0u8; XCHACHA_NONCE];
    rng.fill_bytes(&mut nonce);
    let cipher = XChaCha20Poly1305::new(key.into());
    let ct = cipher
        .encrypt(
            &nonce.into(),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .expect("XChaCha20-Poly1305 encryption of an in-memory buffer cannot fail");
    [nonce.as_slice(), &ct].concat()
}

/// Opens `nonce(24) || ciphertext || tag(16)`.
pub fn xchacha_open(key: &[u8; 32], data: &[u8]) -> Result<Vec<u8>> {
    xchacha_open_aad(key, data, &[])
}

/// [`xchacha_open`] for a ciphertext sealed with associated data `aad`.
pub fn xchacha_open_aad(key: &[u8; 32], data: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
    if data.len() < XCHACHA_NONCE + TAG {
        return Err(Error::Malformed("ciphertext too short"));
    }
    let (nonce, ct) = data.split_at(XCHACHA_NONCE);
    let nonce: [u8; XCHACHA_NONCE] = nonce.try_into().map_err(|_| Error::DecryptionFailed)?;
    XChaCha20Poly1305::new(key.into())
        .decrypt(&nonce.into(), Payload { msg: ct, aad })
        .map_err(|_| Error::DecryptionFailed)
}

/// XChaCha20-Poly1305 under a nonce the protocol derives (protocol v2's SHAKE256 `k || n`):
/// `ciphertext || tag(16)`, no nonce on the wire.
pub fn xchacha_seal_with_nonce(
    key: &[u8; 32],
    nonce: &[u8; XCHACHA_NONCE],
    plaintext: &[u8],
) -> Vec<u8> {
    XChaCha20Poly1305::new(key.into())
        .encrypt(nonce.into(), plaintext)
        .expect("XChaCha20-Poly1305 encryption of an in-memory buffer cannot fail")
}

/// Opens [`xchacha_seal_with_nonce`]'s `ciphertext || tag`.
pub fn xchacha_open_with_nonce(
    key: &[u8; 32],
    nonce: &[u8; XCHACHA_NONCE],
    data: &[u8],
) -> Result<Vec<u8>> {
    XChaCha20Poly1305::new(key.into())
        .decrypt(nonce.into(), data)
        .map_err(|_| Error::DecryptionFailed)
}

/// [`xchacha_seal`] where the plaintext lies: `buf` becomes `nonce || ciphertext || tag` (40
/// bytes longer, moved once within its own allocation), so a 10 MB onion layer is not copied.
pub fn xchacha_seal_in_place(key: &[u8; 32], buf: &mut Vec<u8>, rng: &mut impl CryptoRng) {
    let mut nonce = [0u8; XCHACHA_NONCE];
    rng.fill_bytes(&mut nonce);
    seal_in_place(&XChaCha20Poly1305::new(key.into()), &nonce, buf);
}

/// [`xchacha_open`] where the ciphertext lies: returns the plaintext, decrypted over it.
pub fn xchacha_open_in_place<'a>(key: &[u8; 32], data: &'a mut [u8]) -> Result<&'a mut [u8]> {
    open_in_place(&XChaCha20Poly1305::new(key.into()), XCHACHA_NONCE, data)
}

fn seal_in_place<A: aead::AeadInOut>(cipher: &A, nonce: &[u8], buf: &mut Vec<u8>) {
    let nonce_array =
        <&aead::Nonce<A>>::try_from(nonce).expect("the caller passes the cipher's nonce length");
    let tag = cipher
        .encrypt_inout_detached(nonce_array, &[], buf.as_mut_slice().into())
        .expect("AEAD encryption of an in-memory buffer cannot fail");
    buf.reserve(nonce.len() + TAG);
    buf.splice(0..0, nonce.iter().copied());
    buf.extend_from_slice(&tag);
}

fn open_in_place<'a, A: aead::AeadInOut>(
    cipher: &A,
    nonce_len: usize,
    data: &'a mut [u8],
) -> Result<&'a mut [u8]> {
    if data.len() < nonce_len + TAG {
        return Err(Error::Malformed("ciphertext too short"));
    }
    let (nonce, rest) = data.split_at_mut(nonce_len);
    let (body, tag) = rest.split_at_mut(rest.len() - TAG);
    let nonce = <&aead::Nonce<A>>::try_from(&*nonce).map_err(|_| Error::DecryptionFailed)?;
    let tag = <&aead::Tag<A>>::try_from(&*tag).map_err(|_| Error::DecryptionFailed)?;
    cipher
        .decrypt_inout_detached(nonce, &[], (&mut *body).into(), tag)
        .map_err(|_| Error::DecryptionFailed)?;
    Ok(body)
}

#[cfg(feature = "gcm")]
/// [`gcm_seal`] where the plaintext lies (see [`xchacha_seal_in_place`]).
pub fn gcm_seal_in_place(key: &[u8; 32], buf: &mut Vec<u8>, rng: &mut impl CryptoRng) {
    let mut iv = [0u8; GCM_IV];
    rng.fill_bytes(&mut iv);
    seal_in_place(&Aes256Gcm::new(key.into()), &iv, buf);
}

#[cfg(feature = "gcm")]
/// [`gcm_open`] where the ciphertext lies.
pub fn gcm_open_in_place<'a>(key: &[u8; 32], data: &'a mut [u8]) -> Result<&'a mut [u8]> {
    open_in_place(&Aes256Gcm::new(key.into()), GCM_IV, data)
}

#[cfg(feature = "gcm")]
/// AES-256-GCM with a random IV: `iv(12) || ciphertext || tag(16)`, no associated data.
pub fn gcm_seal(key: &[u8; 32], plaintext: &[u8], rng: &mut impl CryptoRng) -> Vec<u8> {
    let mut iv = [0u8; GCM_IV];
    rng.fill_bytes(&mut iv);
    let ct = Aes256Gcm::new(key.into())
        .encrypt(&iv.into(), plaintext)
        .expect("AES-GCM encryption of an in-memory buffer cannot fail");
    [iv.as_slice(), &ct].concat()
}

#[cfg(feature = "gcm")]
/// Opens `iv(12) || ciphertext || tag(16)`.
pub fn gcm_open(key: &[u8; 32], data: &[u8]) -> Result<Vec<u8>> {
    if data.len() < GCM_IV + TAG {
        return Err(Error::Malformed("ciphertext too short"));
    }
    let (iv, ct) = data.split_at(GCM_IV);
    let iv: [u8; GCM_IV] = iv.try_into().map_err(|_| Error::DecryptionFailed)?;
    Aes256Gcm::new(key.into())
        .decrypt(&iv.into(), ct)
        .map_err(|_| Error::DecryptionFailed)
}

/// libsodium `crypto_box_beforenm`: HSalsa20 of the X25519 shared secret.
fn box_key(secret: &[u8; 32], public: &[u8; 32]) -> Result<Zeroizing<[u8; 32]>> {
    let shared = x25519(secret, public)?;
    let key =
        salsa20::hsalsa::<salsa20::cipher::consts::U10>((&*shared).into(), &Default::default());
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&key);
    Ok(out)
}

fn seal_nonce(ephemeral: &[u8; 32], recipient: &[u8; 32]) -> [u8; 24] {
    let mut nonce = [0u8; 24];
    nonce.copy_from_slice(&blake2b(24, &[], &[], &[ephemeral, recipient]));
    nonce
}

/// libsodium `crypto_box_seal`: `E || XSalsa20-Poly1305(m)` with an ephemeral key E and the
/// nonce BLAKE2b-24(E || recipient).
pub fn sealed_box_seal(
    recipient: &[u8; 32],
    plaintext: &[u8],
    rng: &mut impl CryptoRng,
) -> Result<Vec<u8>> {
    let (secret, ephemeral) = x25519_keypair(rng);
    let key = box_key(&secret, recipient)?;
    let nonce = seal_nonce(&ephemeral, recipient);
    let mut out = Vec::with_capacity(SEALED_BOX_OVERHEAD + plaintext.len());
    out.extend_from_slice(&ephemeral);
    out.extend_from_slice(&secretbox::seal(&key, &nonce, plaintext));
    Ok(out)
}

/// libsodium `crypto_box_seal_open`.
pub fn sealed_box_open(secret: &[u8; 32], public: &[u8; 32], data: &[u8]) -> Result<Vec<u8>> {
    if data.len() < SEALED_BOX_OVERHEAD {
        return Err(Error::Malformed("sealed box too short"));
    }
    let (ephemeral, ct) = data.split_at(32);
    let ephemeral: [u8; 32] = ephemeral.try_into().map_err(|_| Error::DecryptionFailed)?;
    let key = box_key(secret, &ephemeral).map_err(|_| Error::DecryptionFailed)?;
    let nonce = seal_nonce(&ephemeral, public);
    secretbox::open(&key, &nonce, ct)
}

/// NaCl's `crypto_secretbox` (XSalsa20-Poly1305), `tag(16) || ciphertext`: the Poly1305 key is
/// the first 32 bytes of the XSalsa20 keystream, the message is encrypted with the rest, and
/// the tag covers the ciphertext. Written here on the same `cipher`/`poly1305` releases the
/// ChaCha AEAD uses, so the bundle carries one copy of each (the `xsalsa20poly1305` crate is
/// deprecated and pins the older line).
mod secretbox {
    use poly1305::Poly1305;
    use poly1305::universal_hash::KeyInit as _;
    use salsa20::XSalsa20;
    use salsa20::cipher::{KeyIvInit as _, StreamCipher as _};
    use subtle::ConstantTimeEq as _;
    use zeroize::Zeroizing;

    use super::TAG;
    use crate::error::{Error, Result};

    fn start(key: &[u8; 32], nonce: &[u8; 24]) -> (XSalsa20, Poly1305) {
        let mut cipher = XSalsa20::new(key.into(), nonce.into());
        let mut mac_key = Zeroizing::new([0u8; 32]);
        cipher.apply_keystream(mac_key.as_mut());
        let mac = Poly1305::new((&*mac_key).into());
        (cipher, mac)
    }

    pub fn seal(key: &[u8; 32], nonce: &[u8; 24], plaintext: &[u8]) -> Vec<u8> {
        let (mut cipher, mac) = start(key, nonce);
        let mut out = vec![0u8; TAG + plaintext.len()];
        out[TAG..].copy_from_slice(plaintext);
        cipher.apply_keystream(&mut out[TAG..]);
        let tag = mac.compute_unpadded(&out[TAG..]);
        out[..TAG].copy_from_slice(&tag);
        out
    }

    pub fn open(key: &[u8; 32], nonce: &[u8; 24], boxed: &[u8]) -> Result<Vec<u8>> {
        let (tag, ct) = boxed
            .split_at_checked(TAG)
            .ok_or(Error::Malformed("secretbox too short"))?;
        let (mut cipher, mac) = start(key, nonce);
        let expected = mac.compute_unpadded(ct);
        if !bool::from(expected.as_slice().ct_eq(tag)) {
            return Err(Error::DecryptionFailed);
        }
        let mut plaintext = ct.to_vec();
        cipher.apply_keystream(&mut plaintext);
        Ok(plaintext)
    }
}

/// Standard base64 (`+/`) with padding, as Session's JSON carries bytes.
pub fn b64_encode(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// Decodes standard base64, with or without padding.
pub fn b64_decode(text: &str) -> Result<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|_| Error::Malformed("invalid base64"))
}

/// Standard base64 without padding (message hashes).
pub fn b64_encode_unpadded(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(data)
}

/// Whether `signature_b64` (base64, 64 bytes) is `key`'s strict Ed25519 signature of `message`.
/// Any malformed part is simply "does not verify".
pub fn verify_ed25519(key: &[u8; 32], message: &[u8], signature_b64: &str) -> bool {
    let Ok(sig) = b64_decode(signature_b64) else {
        return false;
    };
    let (Ok(sig), Ok(key)) = (
        ed25519_dalek::Signature::from_slice(&sig),
        ed25519_dalek::VerifyingKey::from_bytes(key),
    ) else {
        return false;
    };
    key.verify_strict(message, &sig).is_ok()
}
