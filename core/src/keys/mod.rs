//! Identity: an Ed25519 seed, the keys derived from it, and the Session ID that names it.
//!
//! A Session account is a 32-byte Ed25519 seed. Accounts made from a recovery phrase use a
//! 16-byte seed padded with 16 zero bytes (the phrase only carries 128 bits). The Ed25519 keypair
//! comes from the seed (RFC 8032); the X25519 keypair is its birationally equivalent Montgomery
//! form, and the Session ID is `0x05 || X25519 public key`, written as 66 lowercase hex chars.
//! (SESSION-PROTOCOL.md §1.1.)

pub mod mnemonic;

use core::fmt;
use core::str::FromStr;

use ed25519_dalek::{SigningKey, VerifyingKey};
use rand_core::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::{Error, Result};

/// Prefix byte of a standard Session account ID.
pub const SESSION_ID_PREFIX: u8 = 0x05;
/// Bytes of entropy in a new account's seed (what a 13-word phrase carries).
pub const NEW_SEED_ENTROPY: usize = 16;

/// The 32-byte Ed25519 seed of an account: the one secret everything else derives from.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Seed([u8; 32]);

impl Seed {
    /// A new random account seed: 16 random bytes, zero-padded to 32, so the account can be
    /// written down as a 13-word recovery phrase, as Session does.
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        let mut bytes = [0u8; 32];
        rng.fill_bytes(&mut bytes[..NEW_SEED_ENTROPY]);
        Self(bytes)
    }

    /// A seed from 16 bytes (padded with zeros) or 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut seed = [0u8; 32];
        match bytes.len() {
            16 | 32 => seed[..bytes.len()].copy_from_slice(bytes),
            _ => return Err(Error::Malformed("a seed is 16 or 32 bytes")),
        }
        Ok(Self(seed))
    }

    /// A seed from its recovery phrase (13 words, or 25 for a full 32-byte seed).
    pub fn from_mnemonic(phrase: &str) -> Result<Self> {
        let bytes = zeroize::Zeroizing::new(mnemonic::decode(phrase)?);
        Self::from_bytes(&bytes)
    }

    /// The recovery phrase for this seed: 13 words when the seed's second half is zero (every
    /// account this project creates), otherwise 25. Fails only if the word list is not
    /// installed (see [`mnemonic::install`]).
    pub fn to_mnemonic(&self) -> Result<String> {
        let bytes = if self.0[NEW_SEED_ENTROPY..].iter().all(|b| *b == 0) {
            &self.0[..NEW_SEED_ENTROPY]
        } else {
            &self.0[..]
        };
        Ok(mnemonic::encode(bytes)?.join(" "))
    }

    /// The raw 32 seed bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Seed(<redacted>)")
    }
}

/// A Session ID: the `0x05` prefix and an X25519 public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId([u8; 33]);

impl SessionId {
    /// The Session ID of an X25519 public key.
    pub fn from_x25519(pubkey: [u8; 32]) -> Self {
        let mut id = [0u8; 33];
        id[0] = SESSION_ID_PREFIX;
        id[1..].copy_from_slice(&pubkey);
        Self(id)
    }

    /// The 33 bytes, prefix included.
    pub fn as_bytes(&self) -> &[u8; 33] {
        &self.0
    }

    /// The X25519 public key (the 32 bytes after the prefix).
    pub fn x25519_pubkey(&self) -> [u8; 32] {
        let mut pk = [0u8; 32];
        pk.copy_from_slice(&self.0[1..]);
        pk
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for SessionId {
    // Session IDs are personal data: keep them out of debug output and logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionId(<redacted>)")
    }
}

impl FromStr for SessionId {
    type Err = Error;

    /// Parses 66 hex characters starting `05` (case-insensitive, surrounding space ignored).
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim();
        if s.len() != 66 {
            return Err(Error::Malformed("a Session ID is 66 hex characters"));
        }
        let mut id = [0u8; 33];
        hex::decode_to_slice(s, &mut id)
            .map_err(|_| Error::Malformed("a Session ID is 66 hex characters"))?;
        if id[0] != SESSION_ID_PREFIX {
            return Err(Error::Malformed("a Session ID starts with 05"));
        }
        Ok(Self(id))
    }
}

/// An account's keys: Ed25519 for signing, X25519 for encryption, derived from one [`Seed`].
#[derive(Clone)]
pub struct Identity {
    seed: Seed,
    ed25519: SigningKey,
    x25519_secret: [u8; 32],
    x25519_public: [u8; 32],
}

impl Identity {
    /// Derives every key of the account from its seed (SESSION-PROTOCOL.md §1.1).
    pub fn from_seed(seed: Seed) -> Self {
        let ed25519 = SigningKey::from_bytes(seed.as_bytes());
        // libsodium crypto_sign_ed25519_sk_to_curve25519: SHA-512(seed)[..32], clamped.
        let mut x25519_secret = ed25519.to_scalar_bytes();
        x25519_secret[0] &= 248;
        x25519_secret[31] &= 127;
        x25519_secret[31] |= 64;
        let x25519_public = ed25519.verifying_key().to_montgomery().to_bytes();
        Self {
            seed,
            ed25519,
            x25519_secret,
            x25519_public,
        }
    }

    /// A brand-new random account.
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        Self::from_seed(Seed::generate(rng))
    }

    /// The account's seed (what the recovery phrase encodes).
    pub fn seed(&self) -> &Seed {
        &self.seed
    }

    /// The Ed25519 signing key.
    pub fn ed25519_signing_key(&self) -> &SigningKey {
        &self.ed25519
    }

    /// The Ed25519 public key.
    pub fn ed25519_pubkey(&self) -> VerifyingKey {
        self.ed25519.verifying_key()
    }

    /// The X25519 secret key (clamped scalar bytes).
    pub fn x25519_secret(&self) -> &[u8; 32] {
        &self.x25519_secret
    }

    /// The X25519 public key.
    pub fn x25519_pubkey(&self) -> [u8; 32] {
        self.x25519_public
    }

    /// The account's Session ID.
    pub fn session_id(&self) -> SessionId {
        SessionId::from_x25519(self.x25519_public)
    }
}

impl Drop for Identity {
    fn drop(&mut self) {
        // `seed` and `ed25519` zeroize themselves.
        self.x25519_secret.zeroize();
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Identity(<redacted>)")
    }
}

/// Converts an Ed25519 public key to its X25519 form, refusing invalid and small-order points
/// as libsodium's `crypto_sign_ed25519_pk_to_curve25519` does.
pub fn ed25519_pk_to_x25519(ed25519_pubkey: &[u8; 32]) -> Result<[u8; 32]> {
    let point = curve25519_dalek::edwards::CompressedEdwardsY(*ed25519_pubkey)
        .decompress()
        .ok_or(Error::InvalidKey)?;
    if point.is_small_order() {
        return Err(Error::InvalidKey);
    }
    Ok(point.to_montgomery().to_bytes())
}
