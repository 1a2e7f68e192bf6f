//! Protocol v2 key material (SESSION-V2.md §1.1): an X25519 key and an ML-KEM-768 key, both
//! expanded from one 32-byte seed by SHAKE256 under a domain string. Account keys (shared by an
//! account's devices, published at namespace −21) and device keys use the same expansion under
//! different domains.

use ml_kem::{Decapsulate, DecapsulationKey, EncapsulationKey, Key, KeyExport, MlKem768};
use shake::{ExtendableOutput, Shake256, Update, XofReader};
use zeroize::Zeroizing;

use crate::crypto;
use crate::error::{Error, Result};

/// ML-KEM-768 sizes (FIPS 203): public key, ciphertext, shared secret.
pub const MLKEM_PUBLIC: usize = 1184;
pub const MLKEM_CIPHERTEXT: usize = 1088;

/// SHAKE256 domain of account keys.
pub const ACCOUNT_KEYS_DOMAIN: &[u8] = b"SessionAccountKeys";
/// SHAKE256 domain of device keys.
pub const DEVICE_KEYS_DOMAIN: &[u8] = b"SessionDeviceKeys";

/// `SHAKE256(domain || parts…)` squeezed into `out` (SESSION-V2.md §0: no separator, no
/// length prefix).
pub fn shake(domain: &[u8], parts: &[&[u8]], out: &mut [u8]) {
    let mut h = Shake256::default();
    h.update(domain);
    for part in parts {
        h.update(part);
    }
    h.finalize_xof().read(out);
}

/// `X` of the account key with `seed`, without making its ML-KEM half (the expansion's first
/// 32 bytes are the same however much is squeezed): what comparing against a published key
/// needs.
pub fn account_x_public(seed: &[u8; 32]) -> [u8; 32] {
    let mut x_secret = Zeroizing::new([0u8; 32]);
    shake(ACCOUNT_KEYS_DOMAIN, &[seed], x_secret.as_mut());
    crypto::x25519_public(&x_secret)
}

/// A v2 key pair: the X25519 half and the ML-KEM-768 half, from one seed.
pub struct KemKeys {
    seed: Zeroizing<[u8; 32]>,
    x_secret: Zeroizing<[u8; 32]>,
    x_public: [u8; 32],
    decaps: DecapsulationKey<MlKem768>,
    m_public: Box<[u8; MLKEM_PUBLIC]>,
}

impl KemKeys {
    /// Account keys from their seed (`SessionAccountKeys`).
    pub fn account(seed: &[u8; 32]) -> Self {
        Self::expand(ACCOUNT_KEYS_DOMAIN, seed)
    }

    /// Device keys from their seed (`SessionDeviceKeys`).
    pub fn device(seed: &[u8; 32]) -> Self {
        Self::expand(DEVICE_KEYS_DOMAIN, seed)
    }

    fn expand(domain: &[u8], seed: &[u8; 32]) -> Self {
        let mut out = Zeroizing::new([0u8; 96]);
        shake(domain, &[seed], out.as_mut());
        let mut x_secret = Zeroizing::new([0u8; 32]);
        x_secret.copy_from_slice(&out[..32]);
        let mut kem_seed = ml_kem::Seed::default();
        kem_seed.copy_from_slice(&out[32..96]);
        let decaps = DecapsulationKey::<MlKem768>::from_seed(kem_seed);
        let mut m_public = Box::new([0u8; MLKEM_PUBLIC]);
        m_public.copy_from_slice(&decaps.encapsulation_key().to_bytes());
        Self {
            seed: Zeroizing::new(*seed),
            x_public: crypto::x25519_public(&x_secret),
            x_secret,
            decaps,
            m_public,
        }
    }

    pub fn seed(&self) -> &[u8; 32] {
        &self.seed
    }

    /// `X`: the X25519 public key.
    pub fn x_public(&self) -> &[u8; 32] {
        &self.x_public
    }

    pub(crate) fn x_secret(&self) -> &[u8; 32] {
        &self.x_secret
    }

    /// `M`: the ML-KEM-768 public (encapsulation) key.
    pub fn m_public(&self) -> &[u8; MLKEM_PUBLIC] {
        &self.m_public
    }

    /// ML-KEM decapsulation (implicit rejection: a ciphertext for another key gives a shared
    /// secret that opens nothing).
    pub(crate) fn decapsulate(&self, ct: &[u8; MLKEM_CIPHERTEXT]) -> Zeroizing<[u8; 32]> {
        let ct = ml_kem::ml_kem_768::Ciphertext::from(*ct);
        let mut ss = Zeroizing::new([0u8; 32]);
        ss.copy_from_slice(&self.decaps.decapsulate(&ct));
        ss
    }
}

impl core::fmt::Debug for KemKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KemKeys")
            .field("x_public", &hex::encode(self.x_public))
            .finish_non_exhaustive()
    }
}

/// A published ML-KEM public key, checked (FIPS 203's modulus check), ready to encapsulate to.
#[derive(Debug)]
pub struct KemPublic(EncapsulationKey<MlKem768>);

impl KemPublic {
    pub fn new(bytes: &[u8; MLKEM_PUBLIC]) -> Result<Self> {
        // `new` runs FIPS 203 §7.2's encapsulation key check (every coefficient below q).
        let key = Key::<EncapsulationKey<MlKem768>>::from(*bytes);
        EncapsulationKey::<MlKem768>::new(&key)
            .map(Self)
            .map_err(|_| Error::InvalidKey)
    }

    /// The key as published.
    pub fn to_bytes(&self) -> Box<[u8; MLKEM_PUBLIC]> {
        let mut out = Box::new([0u8; MLKEM_PUBLIC]);
        out.copy_from_slice(&self.0.to_bytes());
        out
    }

    /// Encapsulates with the 32 random bytes `m`: `(ciphertext, shared secret)`.
    pub(crate) fn encapsulate(
        &self,
        m: &[u8; 32],
    ) -> (Box<[u8; MLKEM_CIPHERTEXT]>, Zeroizing<[u8; 32]>) {
        let (ct, ss) = self.0.encapsulate_deterministic(&(*m).into());
        let mut ct_out = Box::new([0u8; MLKEM_CIPHERTEXT]);
        ct_out.copy_from_slice(&ct);
        let mut ss_out = Zeroizing::new([0u8; 32]);
        ss_out.copy_from_slice(&ss);
        (ct_out, ss_out)
    }
}
