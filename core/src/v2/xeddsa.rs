//! XEd25519 signatures (libsession's `xed25519`, SESSION-V2.md §0): Ed25519 signatures made with
//! an X25519 secret, verified under the "positive" Ed25519 key derived from the X25519 public key.
//! The −21 record is signed this way, by the account's long-term X25519 key (the Session ID).

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::montgomery::MontgomeryPoint;
use curve25519_dalek::scalar::{Scalar, clamp_integer};
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha512};
use zeroize::Zeroizing;

use crate::crypto;

const NONCE_PERSONAL: &[u8] = b"xed25519signatur";

/// Signs `message` with the X25519 secret `x`; `z` is 64 fresh random bytes.
pub fn sign(x: &[u8; 32], message: &[u8], z: &[u8; 64]) -> [u8; 64] {
    let clamped = Zeroizing::new(clamp_integer(*x));
    let mut a = Scalar::from_bytes_mod_order(*clamped);
    let mut big_a = (ED25519_BASEPOINT_POINT * a).compress();
    // The nonce hashes the scalar's bytes as libsession holds them: the clamped integer
    // itself, or (the positive alternative, when A's sign bit is 1) its negation mod L.
    let a_bytes = if big_a.as_bytes()[31] & 0x80 != 0 {
        a = -a;
        big_a = (ED25519_BASEPOINT_POINT * a).compress();
        Zeroizing::new(a.to_bytes())
    } else {
        clamped
    };
    let mut wide = [0u8; 64];
    wide.copy_from_slice(&crypto::blake2b(
        64,
        &[],
        NONCE_PERSONAL,
        &[a_bytes.as_ref(), message, z],
    ));
    let r = Scalar::from_bytes_mod_order_wide(&wide);
    let big_r = (ED25519_BASEPOINT_POINT * r).compress();
    let mut h = Sha512::new();
    h.update(big_r.as_bytes());
    h.update(big_a.as_bytes());
    h.update(message);
    let k = Scalar::from_bytes_mod_order_wide(&h.finalize().into());
    let s = r + k * a;
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(big_r.as_bytes());
    sig[32..].copy_from_slice(s.as_bytes());
    sig
}

/// The Ed25519 key an X25519 public key `u` signs as: `y = (u−1)/(u+1)`, sign bit 0.
pub fn positive_ed25519(x_public: &[u8; 32]) -> Option<VerifyingKey> {
    let point = MontgomeryPoint(*x_public).to_edwards(0)?;
    VerifyingKey::from_bytes(point.compress().as_bytes()).ok()
}

/// Verifies an XEd25519 signature (strictly, as libsodium verifies Ed25519).
pub fn verify(x_public: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
    positive_ed25519(x_public).is_some_and(|key| {
        key.verify_strict(message, &Signature::from_bytes(signature))
            .is_ok()
    })
}
