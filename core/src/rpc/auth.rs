//! Signing and checking storage requests (§4.3). A 05 account signs with its Ed25519 key and
//! sends that key as `pubkey_ed25519`; the node checks it converts to the account's X25519 key.
//! A 03 group's key bytes are themselves the Ed25519 key.

use ed25519_dalek::{Signature, Signer, VerifyingKey};

use super::{AccountId, Auth};
use crate::crypto;
use crate::error::{Error, Result};
use crate::keys::{Identity, ed25519_pk_to_x25519};

/// Signs `message` as `identity`, giving the `signature` and `pubkey_ed25519` fields.
pub fn sign(identity: &Identity, message: &[u8]) -> Auth {
    let sig = identity.ed25519_signing_key().sign(message);
    Auth {
        signature: Some(crypto::b64_encode(&sig.to_bytes())),
        pubkey_ed25519: Some(hex::encode(identity.ed25519_pubkey().to_bytes())),
    }
}

/// Checks that `auth` signs `message` for `account`. Every failure is [`Error::BadSignature`]
/// except a missing signature, which is [`Error::Malformed`] ("signature required").
pub fn verify(account: &AccountId, auth: &Auth, message: &[u8]) -> Result<()> {
    let sig_b64 = auth
        .signature
        .as_deref()
        .ok_or(Error::Malformed("signature required"))?;
    let sig_bytes = crypto::b64_decode(sig_b64).map_err(|_| Error::BadSignature)?;
    let signature = Signature::from_slice(&sig_bytes).map_err(|_| Error::BadSignature)?;
    let ed_key: [u8; 32] = match account.prefix() {
        0x05 | 0x00 => {
            let hex_key = auth.pubkey_ed25519.as_deref().ok_or(Error::BadSignature)?;
            let mut key = [0u8; 32];
            hex::decode_to_slice(hex_key, &mut key).map_err(|_| Error::BadSignature)?;
            let x = ed25519_pk_to_x25519(&key).map_err(|_| Error::BadSignature)?;
            if x != account.key() {
                return Err(Error::BadSignature);
            }
            key
        }
        _ => account.key(),
    };
    VerifyingKey::from_bytes(&ed_key)
        .map_err(|_| Error::BadSignature)?
        .verify_strict(message, &signature)
        .map_err(|_| Error::BadSignature)
}
