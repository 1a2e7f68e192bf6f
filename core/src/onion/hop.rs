//! Per-hop encryption (SESSION-PROTOCOL.md §3.3). The client makes a fresh X25519 keypair per
//! layer; the hop learns its public half from the JSON of the enclosing layer. Both sides derive
//! one symmetric key, used for the request and for the reply.

#[cfg(feature = "aes-gcm-layers")]
use hmac::{Hmac, KeyInit as _, Mac};
use rand_core::CryptoRng;
use serde_json::Value;
#[cfg(feature = "aes-gcm-layers")]
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::crypto;
use crate::error::{Error, Result};

/// How a layer is encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncType {
    /// AES-256-GCM, key = HMAC-SHA256("LOKI", X25519). Session's default when unnamed. Only
    /// with the `aes-gcm-layers` feature: nodes accept it from Session clients; Murmur's
    /// clients build XChaCha20 layers only.
    #[cfg(feature = "aes-gcm-layers")]
    AesGcm,
    /// XChaCha20-Poly1305, key = BLAKE2b-32(X25519 || client pk || node pk).
    XChaCha20,
}

impl EncType {
    /// The name written in routing JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            #[cfg(feature = "aes-gcm-layers")]
            Self::AesGcm => "aes-gcm",
            Self::XChaCha20 => "xchacha20",
        }
    }

    /// Parses `enc_type` from routing JSON: absent means AES-GCM; aliases as the node accepts.
    /// (Without `aes-gcm-layers`, AES-GCM is an unknown type.)
    pub fn from_json(value: Option<&Value>) -> Result<Self> {
        match value {
            #[cfg(feature = "aes-gcm-layers")]
            None => Ok(Self::AesGcm),
            Some(Value::String(s)) => match s.as_str() {
                #[cfg(feature = "aes-gcm-layers")]
                "aes-gcm" | "gcm" => Ok(Self::AesGcm),
                "xchacha20" | "xchacha20-poly1305" => Ok(Self::XChaCha20),
                _ => Err(Error::UnknownEncType),
            },
            _ => Err(Error::UnknownEncType),
        }
    }
}

/// The symmetric key of one layer, which also encrypts the reply.
#[derive(Clone)]
pub struct ReplyKey {
    key: Zeroizing<[u8; 32]>,
    enc_type: EncType,
}

impl core::fmt::Debug for ReplyKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "ReplyKey({}, <redacted>)", self.enc_type.as_str())
    }
}

fn derive(
    shared: &[u8; 32],
    client_pk: &[u8; 32],
    node_pk: &[u8; 32],
    enc_type: EncType,
) -> Zeroizing<[u8; 32]> {
    let mut key = Zeroizing::new([0u8; 32]);
    match enc_type {
        #[cfg(feature = "aes-gcm-layers")]
        EncType::AesGcm => {
            let mut mac =
                <Hmac<Sha256>>::new_from_slice(b"LOKI").expect("HMAC takes a key of any length");
            mac.update(shared);
            key.copy_from_slice(&mac.finalize().into_bytes());
        }
        EncType::XChaCha20 => {
            key.copy_from_slice(&crypto::blake2b_32(&[shared, client_pk, node_pk]))
        }
    }
    key
}

/// A node's X25519 keypair for peeling layers. The public half is derived once, here, rather
/// than on every request (the xchacha20 key hashes it in).
pub struct NodeKey {
    secret: Zeroizing<[u8; 32]>,
    public: [u8; 32],
}

impl NodeKey {
    /// The keypair of an X25519 secret key.
    pub fn from_secret(secret: [u8; 32]) -> Self {
        let public = crypto::x25519_public(&secret);
        Self {
            secret: Zeroizing::new(secret),
            public,
        }
    }

    /// The public key clients encrypt layers to.
    pub fn public(&self) -> [u8; 32] {
        self.public
    }
}

impl core::fmt::Debug for NodeKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("NodeKey(<redacted>)")
    }
}

impl ReplyKey {
    /// The node's side: its keypair and the client's ephemeral public key.
    pub fn for_node(node: &NodeKey, client_pk: &[u8; 32], enc_type: EncType) -> Result<Self> {
        let shared = crypto::x25519(&node.secret, client_pk)?;
        Ok(Self {
            key: derive(&shared, client_pk, &node.public, enc_type),
            enc_type,
        })
    }

    /// The client's side: its ephemeral X25519 secret and the node's public key.
    pub fn for_client(
        client_secret: &[u8; 32],
        node_pk: &[u8; 32],
        enc_type: EncType,
    ) -> Result<Self> {
        Self::client_side(
            client_secret,
            &crypto::x25519_public(client_secret),
            node_pk,
            enc_type,
        )
    }

    /// The client's side when the ephemeral public key is already known (no recomputation).
    fn client_side(
        client_secret: &[u8; 32],
        client_pk: &[u8; 32],
        node_pk: &[u8; 32],
        enc_type: EncType,
    ) -> Result<Self> {
        let shared = crypto::x25519(client_secret, node_pk)?;
        Ok(Self {
            key: derive(&shared, client_pk, node_pk, enc_type),
            enc_type,
        })
    }

    /// The encryption type of this layer.
    pub fn enc_type(&self) -> EncType {
        self.enc_type
    }

    /// Encrypts with a random nonce/IV in front.
    pub fn encrypt(&self, plaintext: &[u8], rng: &mut impl CryptoRng) -> Vec<u8> {
        match self.enc_type {
            #[cfg(feature = "aes-gcm-layers")]
            EncType::AesGcm => crypto::gcm_seal(&self.key, plaintext, rng),
            EncType::XChaCha20 => crypto::xchacha_seal(&self.key, plaintext, rng),
        }
    }

    /// [`Self::encrypt`] where the plaintext lies (`buf` grows by the nonce and the tag).
    pub fn encrypt_in_place(&self, buf: &mut Vec<u8>, rng: &mut impl CryptoRng) {
        match self.enc_type {
            #[cfg(feature = "aes-gcm-layers")]
            EncType::AesGcm => crypto::gcm_seal_in_place(&self.key, buf, rng),
            EncType::XChaCha20 => crypto::xchacha_seal_in_place(&self.key, buf, rng),
        }
    }

    /// [`Self::decrypt`] where the ciphertext lies: returns the plaintext, in its place.
    pub fn decrypt_in_place<'a>(&self, data: &'a mut [u8]) -> Result<&'a mut [u8]> {
        match self.enc_type {
            #[cfg(feature = "aes-gcm-layers")]
            EncType::AesGcm => crypto::gcm_open_in_place(&self.key, data),
            EncType::XChaCha20 => crypto::xchacha_open_in_place(&self.key, data),
        }
        .map_err(|_| Error::DecryptionFailed)
    }

    /// Decrypts `nonce/IV || ciphertext || tag`.
    pub fn decrypt(&self, data: &[u8]) -> Result<Vec<u8>> {
        match self.enc_type {
            #[cfg(feature = "aes-gcm-layers")]
            EncType::AesGcm => crypto::gcm_open(&self.key, data),
            EncType::XChaCha20 => crypto::xchacha_open(&self.key, data),
        }
        .map_err(|_| Error::DecryptionFailed)
    }
}

/// [`encrypt_for_hop`] where the plaintext lies: `buf` becomes the ciphertext. Returns the key
/// and the ephemeral public key.
pub fn encrypt_for_hop_in_place(
    hop_x25519: &[u8; 32],
    buf: &mut Vec<u8>,
    enc_type: EncType,
    rng: &mut impl CryptoRng,
) -> Result<(ReplyKey, [u8; 32])> {
    let (secret, public) = crypto::x25519_keypair(rng);
    let key = ReplyKey::client_side(&secret, &public, hop_x25519, enc_type)?;
    key.encrypt_in_place(buf, rng);
    Ok((key, public))
}

/// Encrypts one layer to a hop with a fresh ephemeral keypair. Returns the key (for reading a
/// reply), the ephemeral public key (for the enclosing layer's JSON), and the ciphertext.
pub fn encrypt_for_hop(
    hop_x25519: &[u8; 32],
    plaintext: &[u8],
    enc_type: EncType,
    rng: &mut impl CryptoRng,
) -> Result<(ReplyKey, [u8; 32], Vec<u8>)> {
    let (secret, public) = crypto::x25519_keypair(rng);
    let key = ReplyKey::client_side(&secret, &public, hop_x25519, enc_type)?;
    let ct = key.encrypt(plaintext, rng);
    Ok((key, public, ct))
}
