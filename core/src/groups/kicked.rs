//! The "kicked" notice (SESSION-GROUPS.md §10.5, namespace −11): an admin tells removed members
//! they were removed, readable only by them. libsession's `encrypt_for_multiple_simple` with the
//! group's X25519 keys: `d 1:# <nonce> 1:e l <ct_i>… e e`, one ciphertext per removed member of
//! `M_i ‖ dec(generation)`. A removed member (whose token is revoked, but may still read −11)
//! finds its own entry and learns from which key generation on it is out.

use zeroize::Zeroizing;

use super::GroupKeys;
use crate::bencode::{self, Item};
use crate::crypto::{self, XCHACHA_NONCE};
use crate::error::{Error, Result};
use crate::keys::{Identity, SessionId};

const DOMAIN: &[u8] = b"SessionGroupKickedMessage";

fn key(shared: &[u8], group_xpk: &[u8; 32], member_xpk: &[u8; 32]) -> Zeroizing<[u8; 32]> {
    Zeroizing::new(
        crypto::blake2b(32, DOMAIN, &[], &[shared, group_xpk, member_xpk])
            .try_into()
            .expect("32 bytes"),
    )
}

/// The notice for `removed`, out from `generation` on, under `nonce`.
pub fn encrypt(
    group: &GroupKeys,
    removed: &[SessionId],
    generation: u64,
    nonce: &[u8; XCHACHA_NONCE],
) -> Vec<u8> {
    let (xsk, xpk) = group.x25519();
    let generation = generation.to_string();
    let mut w = bencode::Writer::new();
    w.dict().key(b"#").bytes(nonce).key(b"e").list();
    for member in removed {
        let m = member.x25519_pubkey();
        let Ok(shared) = crypto::x25519(xsk, &m) else {
            continue;
        };
        let plain = [m.as_slice(), generation.as_bytes()].concat();
        w.bytes(&crypto::xchacha_seal_with_nonce(
            &key(shared.as_ref(), &xpk, &m),
            nonce,
            &plain,
        ));
    }
    w.end().end();
    w.finish()
}

/// The generation from which `me` is out of the group `group_pk`, if the notice names us.
pub fn decrypt(me: &Identity, group_pk: &[u8; 32], data: &[u8]) -> Result<Option<u64>> {
    let group_xpk = crate::keys::ed25519_pk_to_x25519(group_pk)?;
    let Item::Dict(dict) = bencode::parse(data)? else {
        return Err(Error::Malformed("kicked notice: not a dict"));
    };
    let nonce: [u8; XCHACHA_NONCE] = dict
        .bytes(b"#")
        .and_then(|n| n.try_into().ok())
        .ok_or(Error::Malformed("kicked notice: nonce"))?;
    let Some(Item::List(entries)) = dict.get(b"e") else {
        return Err(Error::Malformed("kicked notice: entries"));
    };
    let own_xpk = me.x25519_pubkey();
    let shared = crypto::x25519(me.x25519_secret(), &group_xpk)?;
    let k = key(shared.as_ref(), &group_xpk, &own_xpk);
    for entry in entries {
        let Item::Bytes(ct) = entry else { continue };
        let Ok(plain) = crypto::xchacha_open_with_nonce(&k, &nonce, ct) else {
            continue;
        };
        // Ours only if it names our key, then a generation in decimal.
        if plain.len() <= 32 || plain[..32] != own_xpk {
            continue;
        }
        let generation = core::str::from_utf8(&plain[32..])
            .ok()
            .and_then(|g| g.parse().ok())
            .ok_or(Error::Malformed("kicked notice: generation"))?;
        return Ok(Some(generation));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::groups::fixtures;

    fn nonce() -> [u8; 24] {
        core::array::from_fn(|i| 0x64 + i as u8)
    }

    #[test]
    fn computed_vector() {
        // SESSION-GROUPS.md §10.5: the member of §6.5, generation 5, nonce 0x64…0x7b.
        let group = fixtures::group();
        let member = fixtures::member();
        let data = encrypt(&group, &[member.session_id()], 5, &nonce());
        assert_eq!(
            hex::encode(&data),
            "64313a2332343a6465666768696a6b6c6d6e6f707172737475767778797a7b313a656c34393a20f8df6c07bc6ab172853837f51decc483f1d19c266753c7905853d1e1f3645316e79869bdb8855fe3001c5582940c765c6565"
        );
        let pk = *group.public().as_bytes();
        assert_eq!(decrypt(&member, &pk, &data).unwrap(), Some(5));
        // The admin is not named in it; another group's notice names no one here.
        assert_eq!(decrypt(&fixtures::admin(), &pk, &data).unwrap(), None);
        let other = GroupKeys::from_seed(&[7; 32]);
        assert_eq!(
            decrypt(&member, other.public().as_bytes(), &data).unwrap(),
            None
        );
        assert!(decrypt(&member, &pk, b"d1:#3:abce").is_err());
        assert!(decrypt(&member, &pk, b"junk").is_err());
    }
}
