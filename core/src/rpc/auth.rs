//! Signing and checking storage requests (§4.3). A 05 account signs with its Ed25519 key and
//! sends that key as `pubkey_ed25519`; the node checks it converts to the account's X25519 key.
//! A 03 group's key bytes are themselves the Ed25519 key.

use ed25519_dalek::{Signature, Signer, VerifyingKey};

use super::{AccountId, Auth};
use crate::crypto;
use crate::error::{Error, Result};
use crate::groups::auth::{TOKEN_LEN, TOKEN_PREFIX};
use crate::keys::{Identity, ed25519_pk_to_x25519};

/// Signs `message` as `identity`, giving the `signature` and `pubkey_ed25519` fields.
pub fn sign(identity: &Identity, message: &[u8]) -> Auth {
    let sig = identity.ed25519_signing_key().sign(message);
    Auth {
        signature: Some(crypto::b64_encode(&sig.to_bytes())),
        pubkey_ed25519: Some(hex::encode(identity.ed25519_pubkey().to_bytes())),
        ..Auth::default()
    }
}

/// Bytes sent as base64 or hex (Session accepts both for tokens and their signatures).
fn decode_either<const N: usize>(text: &str) -> Result<[u8; N]> {
    let bytes = if text.len() == 2 * N {
        hex::decode(text).map_err(|_| Error::Malformed("bad hex"))?
    } else {
        crypto::b64_decode(text)?
    };
    bytes
        .try_into()
        .map_err(|_| Error::Malformed("wrong length"))
}

/// A subaccount token from its text (36 bytes, base64 or hex).
pub fn decode_token(text: &str) -> Result<[u8; TOKEN_LEN]> {
    decode_either::<TOKEN_LEN>(text)
}

/// The subaccount token a request presents, if any.
pub fn presented_token(auth: &Auth) -> Result<Option<[u8; TOKEN_LEN]>> {
    auth.subaccount.as_deref().map(decode_token).transpose()
}

/// Checks that `auth` signs `message` for `account`: by the account's own key, or, with a
/// subaccount token (a group member), by the token's key, the token signed by the group and
/// carrying the `required` flags ([`crate::groups::auth::FLAG_READ`] …). Every failure is
/// [`Error::BadSignature`] except a missing signature or a token that does not allow the
/// request, which are [`Error::Malformed`].
pub fn verify_with(account: &AccountId, auth: &Auth, message: &[u8], required: u8) -> Result<()> {
    let Some(token) = presented_token(auth)? else {
        return verify(account, auth, message);
    };
    let sig_b64 = auth
        .signature
        .as_deref()
        .ok_or(Error::Malformed("signature required"))?;
    let token_sig = decode_either::<64>(
        auth.subaccount_sig
            .as_deref()
            .ok_or(Error::Malformed("subaccount_sig required"))?,
    )?;
    let signature = crypto::b64_decode(sig_b64).map_err(|_| Error::BadSignature)?;
    let group = VerifyingKey::from_bytes(&account.key()).map_err(|_| Error::BadSignature)?;
    if account.prefix() != TOKEN_PREFIX {
        return Err(Error::Malformed("subaccounts are for group accounts"));
    }
    crate::groups::auth::verify_request(&group, &token, &token_sig, required, message, &signature)
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
