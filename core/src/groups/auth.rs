//! Subaccount authentication (SESSION-GROUPS.md §8): how a member who does not hold the group's
//! key signs requests to the group's swarm.
//!
//! An admin issues the member 100 bytes of auth data: a blinding factor `k` and the group's
//! signature over the member's *token* (`03 || flags || 00 00 || kT`, where `T` is the member's
//! Ed25519 key). The member signs each request with the blinded key `k·t`, which verifies under
//! `kT`; the node checks the group's signature on the token, the token is not revoked, and the
//! request signature. Blinding keeps the member's Session ID out of what nodes see.

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::montgomery::MontgomeryPoint;
use curve25519_dalek::scalar::{Scalar, clamp_integer};
use ed25519_dalek::{Signature, Signer, VerifyingKey};
use sha2::{Digest, Sha512};
use zeroize::Zeroizing;

use super::GroupKeys;
use crate::crypto;
use crate::error::{Error, Result};
use crate::keys::{Identity, SessionId};

/// The token's first byte: the group account prefix.
pub const TOKEN_PREFIX: u8 = 0x03;
pub const FLAG_READ: u8 = 0x01;
pub const FLAG_WRITE: u8 = 0x02;
pub const FLAG_DELETE: u8 = 0x04;
/// The token is good for any account prefix (never issued by libsession).
pub const FLAG_ANY_PREFIX: u8 = 0x08;
pub const TOKEN_LEN: usize = 36;
pub const AUTH_DATA_LEN: usize = 100;

const MASK_LABEL: &[u8] = b"SessionGroupSubaccountMask";

/// What a member may do with its token.
pub fn flags(write: bool, delete: bool) -> u8 {
    FLAG_READ | if write { FLAG_WRITE } else { 0 } | if delete { FLAG_DELETE } else { 0 }
}

/// The 100 bytes an admin gives a member: `03 || flags || 00 00 || k || sig(token)`.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthData(pub [u8; AUTH_DATA_LEN]);

impl core::fmt::Debug for AuthData {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("AuthData(..)")
    }
}

/// `k` as libsodium's `_noclamp` multiplications use it: the top bit ignored.
fn blinding(k: &[u8]) -> Scalar {
    let mut bytes: [u8; 32] = k.try_into().expect("32 bytes");
    bytes[31] &= 0x7f;
    Scalar::from_bytes_mod_order(bytes)
}

fn token_bytes(flags: u8, kt: &CompressedEdwardsY) -> [u8; TOKEN_LEN] {
    let mut token = [0u8; TOKEN_LEN];
    token[0] = TOKEN_PREFIX;
    token[1] = flags;
    token[4..].copy_from_slice(kt.as_bytes());
    token
}

/// The blinding factor for `member` in the group: the same from every admin.
fn member_blinding(group: &GroupKeys, member: &SessionId) -> Scalar {
    let mask = group.seed_hash(MASK_LABEL);
    let h = crypto::blake2b(
        64,
        &mask,
        &[],
        &[
            member.as_bytes(),
            &[TOKEN_PREFIX],
            group.public().as_bytes(),
        ],
    );
    Scalar::from_bytes_mod_order_wide(&h.try_into().expect("64 bytes"))
}

/// The blinding factor `k` and the token for `member` with `flags` (SESSION-GROUPS.md §8.1).
fn issue(group: &GroupKeys, member: &SessionId, flags: u8) -> Result<(Scalar, [u8; TOKEN_LEN])> {
    let k = member_blinding(group, member);
    let t = MontgomeryPoint(member.x25519_pubkey())
        .to_edwards(0)
        .ok_or(Error::InvalidKey)?;
    Ok((k, token_bytes(flags, &(t * k).compress())))
}

/// An admin's auth data for `member` (SESSION-GROUPS.md §8.1).
pub fn make_auth(
    group: &GroupKeys,
    member: &SessionId,
    write: bool,
    delete: bool,
) -> Result<AuthData> {
    let (k, token) = issue(group, member, flags(write, delete))?;
    let sig = group.signing_key().sign(&token);
    let mut auth = [0u8; AUTH_DATA_LEN];
    auth[..4].copy_from_slice(&token[..4]);
    auth[4..36].copy_from_slice(k.as_bytes());
    auth[36..].copy_from_slice(&sig.to_bytes());
    Ok(AuthData(auth))
}

/// The token an admin revokes to shut `member` out (the issued one, flags included).
pub fn token_for(
    group: &GroupKeys,
    member: &SessionId,
    write: bool,
    delete: bool,
) -> Result<[u8; TOKEN_LEN]> {
    issue(group, member, flags(write, delete)).map(|(_, token)| token)
}

/// A member's view of its auth data: the token it presents and the keys it signs with.
pub struct Subaccount {
    pub token: [u8; TOKEN_LEN],
    /// The group's signature over the token (`subaccount_sig`).
    pub token_signature: [u8; 64],
    kt: CompressedEdwardsY,
    /// The blinded signing scalar `k·t`.
    signing: Zeroizing<[u8; 32]>,
    nonce_key: Zeroizing<[u8; 32]>,
}

impl core::fmt::Debug for Subaccount {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Subaccount").finish_non_exhaustive()
    }
}

impl Subaccount {
    /// Checks auth data issued to `me` for the group `group_pk` (SESSION-GROUPS.md §8.2):
    /// readable, signed by the group over the token `me` rebuilds.
    pub fn open(me: &Identity, group_pk: &VerifyingKey, auth: &[u8]) -> Result<Self> {
        let auth: &[u8; AUTH_DATA_LEN] = auth
            .try_into()
            .map_err(|_| Error::Malformed("group auth data is 100 bytes"))?;
        let flags = auth[1];
        if auth[0] != TOKEN_PREFIX && flags & FLAG_ANY_PREFIX == 0 {
            return Err(Error::Malformed("group auth data is not for a group"));
        }
        if flags & FLAG_READ == 0 {
            return Err(Error::Malformed("group auth data does not allow reading"));
        }
        // T: our Ed25519 key with the sign bit cleared, the key `|Ed(X)|` the admin used.
        let ed = me.ed25519_pubkey();
        let mut t_bytes = *ed.as_bytes();
        let neg = t_bytes[31] & 0x80 != 0;
        t_bytes[31] &= 0x7f;
        let t_point: EdwardsPoint = CompressedEdwardsY(t_bytes)
            .decompress()
            .ok_or(Error::InvalidKey)?;
        let k = blinding(&auth[4..36]);
        let kt = (t_point * k).compress();
        let mut token = token_bytes(flags, &kt);
        token[..4].copy_from_slice(&auth[..4]);
        let token_signature: [u8; 64] = auth[36..].try_into().expect("64 bytes");
        group_pk
            .verify_strict(&token, &Signature::from_bytes(&token_signature))
            .map_err(|_| Error::BadSignature)?;
        // The scalar our Ed25519 key signs with (the clamped X25519 secret), negated when our
        // key's sign bit is set so that it matches T.
        let a = Scalar::from_bytes_mod_order(clamp_integer(*me.x25519_secret()));
        let t = if neg { -a } else { a };
        let nonce_key: [u8; 32] =
            crypto::blake2b(32, b"SubaccountSeed", &[], &[me.seed().as_bytes()])
                .try_into()
                .expect("32 bytes");
        Ok(Self {
            token,
            token_signature,
            kt,
            signing: Zeroizing::new((k * t).to_bytes()),
            nonce_key: Zeroizing::new(nonce_key),
        })
    }

    /// The blinded key requests verify under (`kT`, the token's last 32 bytes).
    pub fn public(&self) -> [u8; 32] {
        self.kt.to_bytes()
    }

    /// Signs a storage request's signed string (SESSION-GROUPS.md §8.3): a standard Ed25519
    /// signature under [`Self::public`], deterministic like Ed25519's own.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        let r_hash = crypto::blake2b(
            64,
            b"SubaccountSig",
            &[],
            &[self.nonce_key.as_ref(), self.kt.as_bytes(), message],
        );
        let r = Scalar::from_bytes_mod_order_wide(&r_hash.try_into().expect("64 bytes"));
        let big_r = (ED25519_BASEPOINT_POINT * r).compress();
        let mut h = Sha512::new();
        h.update(big_r.as_bytes());
        h.update(self.kt.as_bytes());
        h.update(message);
        let c = Scalar::from_bytes_mod_order_wide(&h.finalize().into());
        let s = c * Scalar::from_bytes_mod_order(*self.signing) + r;
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(big_r.as_bytes());
        sig[32..].copy_from_slice(s.as_bytes());
        sig
    }
}

/// What a node checks (SESSION-GROUPS.md §8.4, after the revocation list): the token is for a
/// group account and carries `required`, the group signed it, and the request signature
/// verifies under the token's key.
pub fn verify_request(
    group_pk: &VerifyingKey,
    token: &[u8],
    token_signature: &[u8],
    required: u8,
    message: &[u8],
    signature: &[u8],
) -> Result<()> {
    let token: &[u8; TOKEN_LEN] = token
        .try_into()
        .map_err(|_| Error::Malformed("subaccount token is 36 bytes"))?;
    if token[0] != TOKEN_PREFIX && token[1] & FLAG_ANY_PREFIX == 0 {
        return Err(Error::Malformed("subaccount token is not for a group"));
    }
    if token[1] & required != required {
        return Err(Error::Malformed("subaccount token does not allow this"));
    }
    let token_sig = Signature::from_slice(token_signature).map_err(|_| Error::BadSignature)?;
    group_pk
        .verify_strict(token, &token_sig)
        .map_err(|_| Error::BadSignature)?;
    let key = VerifyingKey::from_bytes(token[4..].try_into().expect("32 bytes"))
        .map_err(|_| Error::InvalidKey)?;
    let sig = Signature::from_slice(signature).map_err(|_| Error::BadSignature)?;
    key.verify_strict(message, &sig)
        .map_err(|_| Error::BadSignature)
}

/// The admin's signature revoking (or, with `unrevoke`, restoring) tokens (§8.5):
/// over `"revoke_subaccount" || dec(timestamp) || token…`.
pub fn revoke_signature(
    group: &GroupKeys,
    unrevoke: bool,
    timestamp_ms: u64,
    tokens: &[[u8; TOKEN_LEN]],
) -> [u8; 64] {
    let mut msg = if unrevoke {
        b"unrevoke_subaccount".to_vec()
    } else {
        b"revoke_subaccount".to_vec()
    };
    msg.extend_from_slice(timestamp_ms.to_string().as_bytes());
    for t in tokens {
        msg.extend_from_slice(t);
    }
    group.signing_key().sign(&msg).to_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::groups::fixtures::{group, member};
    use crate::keys::Seed;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn b64(data: &[u8]) -> String {
        crypto::b64_encode(data)
    }

    #[test]
    fn libsession_swarm_authentication_vector() {
        let g = group();
        assert_eq!(
            hex::encode(g.group_id()),
            "03c50cb3ae956947a8de19135b5be2685ff348afc63fc34a837aca12bc5c1f5625"
        );
        let m = member();
        assert_eq!(
            m.session_id().to_string(),
            "05c5ba413c336f2fe1fb9a2c525f8a86a412a1db128a7841b4e0e217fa9eb7fd5e"
        );
        let auth = make_auth(&g, &m.session_id(), true, false).unwrap();
        assert_eq!(
            hex::encode(auth.0),
            "03030000013cb83a207d36c574aefe7dc51a5d1c3ad69d17f6c8d1c9398bee1180f8770a\
             e9baefbffda37dc88100979128c1927a93492ee965cab5551e28f254313ef060b939cf3d\
             50dc6336bab59155753fea6450844339ec36e2048b1602d97dd97e05"
        );
        let sub = Subaccount::open(&m, &g.public(), &auth.0).unwrap();
        assert_eq!(
            b64(&sub.token),
            "AwMAAIWvMR2nJXCFnK5+hNahNecWqMC39/TVVLjaR3imNug5"
        );
        assert_eq!(
            b64(&sub.token_signature),
            "6brvv/2jfciBAJeRKMGSepNJLullyrVVHijyVDE+8GC5Oc89UNxjNrq1kVV1P+pkUIRDOew24gSLFgLZfdl+BQ=="
        );
        let msg = b"retrieve9991693340111000";
        let sig = sub.sign(msg);
        assert_eq!(
            b64(&sig),
            "c3PJ4g29v5RivKm8Tdg49vGU2/6kVd0yONnpz5U5zePMYptqW3iYQ0TYf2rEzv3qqkPhS5p67M5GAccHoBHGDQ=="
        );
        verify_request(
            &g.public(),
            &sub.token,
            &sub.token_signature,
            FLAG_READ | FLAG_WRITE,
            msg,
            &sig,
        )
        .unwrap();
        assert_eq!(
            token_for(&g, &m.session_id(), true, false).unwrap(),
            sub.token
        );
    }

    #[test]
    fn revoke_vector() {
        let g = group();
        let token = token_for(&g, &member().session_id(), true, false).unwrap();
        assert_eq!(
            b64(&revoke_signature(&g, false, 1_700_000_000_000, &[token])),
            "Nj3CB9W8ds+tYbHBvFk+J1904tiO4pXnslEfxiVrL6vTf63gkztMMXXr7CEL3HI1yTajYWB/OWKBYOH0x14HCw=="
        );
    }

    #[test]
    fn what_a_node_refuses() {
        let g = group();
        let m = member();
        let auth = make_auth(&g, &m.session_id(), false, false).unwrap();
        let sub = Subaccount::open(&m, &g.public(), &auth.0).unwrap();
        let msg = b"store111700000000000";
        let sig = sub.sign(msg);
        // Read-only token asked to write.
        assert!(
            verify_request(
                &g.public(),
                &sub.token,
                &sub.token_signature,
                FLAG_WRITE,
                msg,
                &sig
            )
            .is_err()
        );
        // Another message, another group, a changed token.
        assert!(
            verify_request(
                &g.public(),
                &sub.token,
                &sub.token_signature,
                FLAG_READ,
                b"x",
                &sig
            )
            .is_err()
        );
        let other = GroupKeys::from_seed(&[1; 32]);
        assert!(
            verify_request(
                &other.public(),
                &sub.token,
                &sub.token_signature,
                FLAG_READ,
                msg,
                &sig
            )
            .is_err()
        );
        let mut token = sub.token;
        token[1] |= FLAG_DELETE;
        assert!(
            verify_request(
                &g.public(),
                &token,
                &sub.token_signature,
                FLAG_READ,
                msg,
                &sig
            )
            .is_err()
        );
        assert!(
            verify_request(
                &g.public(),
                &sub.token[..35],
                &sub.token_signature,
                FLAG_READ,
                msg,
                &sig
            )
            .is_err()
        );
        verify_request(
            &g.public(),
            &sub.token,
            &sub.token_signature,
            FLAG_READ,
            msg,
            &sig,
        )
        .unwrap();
    }

    #[test]
    fn a_member_checks_its_auth_data() {
        let g = group();
        let m = member();
        let auth = make_auth(&g, &m.session_id(), true, false).unwrap();
        // The top bit of k is ignored, as libsodium's noclamp multiplication ignores it.
        let mut flipped = auth.0;
        flipped[35] ^= 0x80;
        assert!(Subaccount::open(&m, &g.public(), &flipped).is_ok());
        // Issued to someone else, by another group, or damaged: refused.
        let stranger = Identity::from_seed(Seed::from_bytes(&[4; 32]).unwrap());
        assert!(Subaccount::open(&stranger, &g.public(), &auth.0).is_err());
        let other = GroupKeys::from_seed(&[1; 32]);
        assert!(Subaccount::open(&m, &other.public(), &auth.0).is_err());
        assert!(Subaccount::open(&m, &g.public(), &auth.0[..99]).is_err());
        let mut no_read = auth.0;
        no_read[1] = FLAG_WRITE;
        assert!(Subaccount::open(&m, &g.public(), &no_read).is_err());
        // Members whose Ed25519 key has the sign bit set sign correctly too.
        let mut seen_neg = false;
        for n in 0..32u8 {
            let who = Identity::from_seed(Seed::from_bytes(&[n; 32]).unwrap());
            seen_neg |= who.ed25519_pubkey().as_bytes()[31] & 0x80 != 0;
            let auth = make_auth(&g, &who.session_id(), true, true).unwrap();
            let sub = Subaccount::open(&who, &g.public(), &auth.0).unwrap();
            let sig = sub.sign(b"m");
            verify_request(
                &g.public(),
                &sub.token,
                &sub.token_signature,
                FLAG_DELETE,
                b"m",
                &sig,
            )
            .unwrap();
        }
        assert!(seen_neg);
    }
}
