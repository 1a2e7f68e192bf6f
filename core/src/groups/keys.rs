//! Key messages (SESSION-GROUPS.md §6, namespace 12): how admins hand the group's shared key to
//! its members. A full message (`rekey`) carries a new key encrypted once for the admins and once
//! per member, padded with junk entries to a multiple of 75 so the count of members does not
//! show; a supplement gives existing keys to members added "with history". Both are bencoded
//! dicts signed by the group key.

use chacha20::ChaCha20;
use chacha20::cipher::{KeyIvInit, StreamCipher};
use ed25519_dalek::{Signature, Signer, VerifyingKey};
use zeroize::Zeroizing;

use super::GroupKeys;
use crate::bencode::{self, Item};
use crate::crypto::{self, XCHACHA_NONCE};
use crate::error::{Error, Result};
use crate::keys::{Identity, SessionId};

/// Key entries come in blocks of this many (real ones first, then junk).
pub const MESSAGE_KEY_MULTIPLE: usize = 75;
/// An encrypted 32-byte key: ciphertext and tag.
const ENTRY: usize = 48;

const KEY_SEED: &[u8] = b"SessionGroupKeySeed";
const KEY_GEN: &[u8] = b"SessionGroupKeyGen";
const ADMIN_KEY: &[u8] = b"SessionGroupKeyAdminKey";
const MEMBER_KEY: &[u8] = b"SessionGroupKeyMemberKey";
const JUNK: &[u8] = b"SessionGroupJunkMembers";

/// One of the group's shared keys.
#[derive(Clone, PartialEq, Eq)]
pub struct GroupKey {
    pub generation: u64,
    pub key: [u8; 32],
    /// The swarm's timestamp of the message that brought it (ms).
    pub timestamp_ms: u64,
}

impl core::fmt::Debug for GroupKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("GroupKey")
            .field("generation", &self.generation)
            .field("timestamp_ms", &self.timestamp_ms)
            .finish_non_exhaustive()
    }
}

/// A full key message and the key it carries.
#[derive(Debug)]
pub struct Rekey {
    pub message: Vec<u8>,
    pub key: GroupKey,
}

fn xchacha(key: &[u8; 32], nonce: &[u8; XCHACHA_NONCE], plaintext: &[u8]) -> Vec<u8> {
    crypto::xchacha_seal_with_nonce(key, nonce, plaintext)
}

/// `mkey` for a member, as the admin computes it: `H_32(X25519(group_xsk, M) || group_xpk ||
/// M)`. `None` for a key no agreement is possible with (skipped, as libsession skips it).
fn member_key_for(group: &GroupKeys, member: &SessionId) -> Option<Zeroizing<[u8; 32]>> {
    let (xsk, xpk) = group.x25519();
    let m = member.x25519_pubkey();
    let shared = crypto::x25519(xsk, &m).ok()?;
    let h = crypto::blake2b(32, MEMBER_KEY, &[], &[shared.as_ref(), &xpk, &m]);
    Some(Zeroizing::new(h.try_into().expect("32 bytes")))
}

/// The same `mkey`, as the member computes it.
fn own_member_key(me: &Identity, group_pk: &VerifyingKey) -> Result<Zeroizing<[u8; 32]>> {
    let group_xpk = group_pk.to_montgomery().to_bytes();
    let shared = crypto::x25519(me.x25519_secret(), &group_xpk)?;
    let h = crypto::blake2b(
        32,
        MEMBER_KEY,
        &[],
        &[shared.as_ref(), &group_xpk, &me.x25519_pubkey()],
    );
    Ok(Zeroizing::new(h.try_into().expect("32 bytes")))
}

fn signed(group: &GroupKeys, mut w: bencode::Writer) -> Vec<u8> {
    let sig = group.signing_key().sign(w.as_bytes());
    w.key(b"~").bytes(&sig.to_bytes()).end();
    w.finish()
}

/// A new key for `members` (every member, admins included) at `generation` (SESSION-GROUPS.md
/// §6.1). Deterministic: two admins making the same rekey write the same message.
pub fn rekey(
    group: &GroupKeys,
    members: &[SessionId],
    generation: u64,
    timestamp_ms: u64,
) -> Rekey {
    let mut sorted: Vec<&SessionId> = members.iter().collect();
    sorted.sort_by_key(|s| *s.as_bytes());
    sorted.dedup();
    let h2 = group.seed_hash(KEY_SEED);
    let ids: Vec<String> = sorted.iter().map(|s| s.to_string()).collect();
    let gen_text = generation.to_string();
    let mut parts: Vec<&[u8]> = ids.iter().map(|s| s.as_bytes()).collect();
    parts.push(gen_text.as_bytes());
    parts.push(&h2);
    let h1 = Zeroizing::new(crypto::blake2b(56, KEY_GEN, &[], &parts));
    let mut enc_key = [0u8; 32];
    enc_key.copy_from_slice(&h1[..32]);
    let nonce: [u8; XCHACHA_NONCE] = h1[32..56].try_into().expect("24 bytes");

    let admin_key = Zeroizing::new(group.seed_hash(ADMIN_KEY));
    let mut entries: Vec<Vec<u8>> = sorted
        .iter()
        .filter_map(|m| member_key_for(group, m))
        .map(|mkey| xchacha(&mkey, &nonce, &enc_key))
        .collect();
    let junk = (MESSAGE_KEY_MULTIPLE - entries.len() % MESSAGE_KEY_MULTIPLE) % MESSAGE_KEY_MULTIPLE;
    if junk > 0 {
        // libsodium's 64-byte secret key: seed || public key.
        let group_sk64 =
            Zeroizing::new([group.seed().as_slice(), group.public().as_bytes()].concat());
        let junk_seed: [u8; 32] = crypto::blake2b(32, JUNK, &[], &[&h1, &group_sk64[..]])
            .try_into()
            .expect("32 bytes");
        // libsodium's randombytes_buf_deterministic: the ChaCha20-IETF keystream.
        let mut bytes = vec![0u8; junk * ENTRY];
        ChaCha20::new(&junk_seed.into(), b"LibsodiumDRG".into()).apply_keystream(&mut bytes);
        entries.extend(bytes.chunks(ENTRY).map(<[u8]>::to_vec));
    }

    let mut w = bencode::Writer::new();
    w.dict()
        .key(b"#")
        .bytes(&nonce)
        .key(b"G")
        .int(i64::try_from(generation).unwrap_or(i64::MAX))
        .key(b"K")
        .bytes(&xchacha(&admin_key, &nonce, &enc_key))
        .key(b"k")
        .list();
    for e in &entries {
        w.bytes(e);
    }
    w.end();
    Rekey {
        message: signed(group, w),
        key: GroupKey {
            generation,
            key: enc_key,
            timestamp_ms,
        },
    }
}

/// Gives `keys` to the members `sids` (SESSION-GROUPS.md §6.2), e.g. new members added with the
/// group's history.
pub fn supplement(group: &GroupKeys, sids: &[SessionId], keys: &[GroupKey]) -> Result<Vec<u8>> {
    let mut kept: Vec<&GroupKey> = keys.iter().collect();
    kept.sort_by(|a, b| {
        (a.generation, a.timestamp_ms, a.key).cmp(&(b.generation, b.timestamp_ms, b.key))
    });
    let mut w = bencode::Writer::new();
    w.list();
    for k in &kept {
        w.dict()
            .key(b"g")
            .int(i64::try_from(k.generation).unwrap_or(i64::MAX))
            .key(b"k")
            .bytes(&k.key)
            .key(b"t")
            .int(i64::try_from(k.timestamp_ms).unwrap_or(i64::MAX))
            .end();
    }
    w.end();
    let supp = Zeroizing::new(w.finish());
    let h2 = group.seed_hash(KEY_SEED);
    let ids: Vec<String> = sids.iter().map(|s| s.to_string()).collect();
    let mut parts: Vec<&[u8]> = ids.iter().map(|s| s.as_bytes()).collect();
    parts.push(&supp);
    parts.push(&h2);
    let nonce: [u8; XCHACHA_NONCE] = crypto::blake2b(24, KEY_GEN, &[], &parts)
        .try_into()
        .expect("24 bytes");
    let cts: Vec<Vec<u8>> = sids
        .iter()
        .filter_map(|s| member_key_for(group, s))
        .map(|mkey| xchacha(&mkey, &nonce, &supp))
        .collect();
    if cts.is_empty() {
        return Err(Error::InvalidKey);
    }
    let generation = kept.iter().map(|k| k.generation).max().unwrap_or(0);
    let mut w = bencode::Writer::new();
    w.dict().key(b"#").bytes(&nonce).key(b"+").list();
    for ct in &cts {
        w.bytes(ct);
    }
    w.end()
        .key(b"G")
        .int(i64::try_from(generation).unwrap_or(i64::MAX));
    Ok(signed(group, w))
}

/// What a key message held for us.
#[derive(Debug, PartialEq, Eq)]
pub struct Loaded {
    pub generation: u64,
    /// The keys we could open (none when the message was for others).
    pub keys: Vec<GroupKey>,
}

/// Who is reading a key message: an admin (who opens `K`) or a member (who looks for its entry).
#[derive(Debug)]
pub enum Reader<'a> {
    Admin(&'a GroupKeys),
    Member(&'a Identity),
}

/// Reads a key message from the group's swarm (SESSION-GROUPS.md §6.3), stored at
/// `timestamp_ms`. Everything is checked before anything is used, so every client refuses the
/// same messages.
pub fn load(
    group_pk: &VerifyingKey,
    reader: Reader<'_>,
    data: &[u8],
    timestamp_ms: u64,
) -> Result<Loaded> {
    let Item::Dict(dict) = bencode::parse(data)? else {
        return Err(Error::Malformed("key message: not a dict"));
    };
    if dict.keys().last() != Some(&b"~"[..]) {
        return Err(Error::Malformed("key message: signature is not last"));
    }
    let sig: [u8; 64] = dict
        .bytes(b"~")
        .and_then(|s| s.try_into().ok())
        .ok_or(Error::Malformed("key message: signature"))?;
    group_pk
        .verify_strict(
            dict.signed_prefix(b"~").expect("present"),
            &Signature::from_bytes(&sig),
        )
        .map_err(|_| Error::BadSignature)?;
    let nonce: [u8; XCHACHA_NONCE] = dict
        .bytes(b"#")
        .and_then(|n| n.try_into().ok())
        .ok_or(Error::Malformed("key message: nonce"))?;
    let generation = dict
        .int(b"G")
        .and_then(|g| u64::try_from(g).ok())
        .ok_or(Error::Malformed("key message: generation"))?;
    let list = |key: &[u8]| -> Option<Vec<&[u8]>> {
        match dict.get(key)? {
            Item::List(items) => items
                .iter()
                .map(|i| match i {
                    Item::Bytes(b) => Some(*b),
                    _ => None,
                })
                .collect(),
            _ => None,
        }
    };
    let open = |key: &[u8; 32], ct: &[u8]| crypto::xchacha_open_with_nonce(key, &nonce, ct).ok();

    if let Some(cts) = list(b"+") {
        if cts.iter().any(|c| c.len() < 52 + 16) {
            return Err(Error::Malformed("key message: short supplement entry"));
        }
        let Reader::Member(me) = reader else {
            return Ok(Loaded {
                generation,
                keys: Vec::new(),
            });
        };
        let mkey = own_member_key(me, group_pk)?;
        let Some(plain) = cts.iter().find_map(|c| open(&mkey, c)) else {
            return Ok(Loaded {
                generation,
                keys: Vec::new(),
            });
        };
        let plain = Zeroizing::new(plain);
        let Item::List(items) = bencode::parse(&plain)? else {
            return Err(Error::Malformed("key message: supplement is not a list"));
        };
        let keys = items
            .iter()
            .map(|i| {
                let Item::Dict(d) = i else { return None };
                Some(GroupKey {
                    generation: u64::try_from(d.int(b"g")?).ok()?,
                    key: d.bytes(b"k")?.try_into().ok()?,
                    timestamp_ms: u64::try_from(d.int(b"t")?).ok()?,
                })
            })
            .collect::<Option<Vec<_>>>()
            .ok_or(Error::Malformed("key message: supplement entry"))?;
        return Ok(Loaded { generation, keys });
    }

    let admin_ct = dict
        .bytes(b"K")
        .filter(|k| k.len() == ENTRY)
        .ok_or(Error::Malformed("key message: admin key"))?;
    let entries = list(b"k")
        .filter(|e| e.iter().all(|c| c.len() == ENTRY) && e.len() % MESSAGE_KEY_MULTIPLE == 0)
        .ok_or(Error::Malformed("key message: member keys"))?;
    let key = match reader {
        Reader::Admin(group) => Some(
            open(&group.seed_hash(ADMIN_KEY), admin_ct)
                .ok_or(Error::Malformed("key message: admin key does not open"))?,
        ),
        Reader::Member(me) => {
            let mkey = own_member_key(me, group_pk)?;
            entries.iter().find_map(|c| open(&mkey, c))
        }
    };
    let keys = key
        .and_then(|k| <[u8; 32]>::try_from(k.as_slice()).ok())
        .map(|key| GroupKey {
            generation,
            key,
            timestamp_ms,
        })
        .into_iter()
        .collect();
    Ok(Loaded { generation, keys })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::groups::fixtures::{admin, group, member};
    use crate::keys::Seed;
    use sha2::{Digest, Sha256};

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn rekey_vector() {
        let g = group();
        assert_eq!(
            hex::encode(g.seed_hash(KEY_SEED)),
            "87f879e6e89abce3389b1531aef850d1147d3f9f81e712547ba26306be8a0ef1"
        );
        assert_eq!(
            hex::encode(g.seed_hash(ADMIN_KEY)),
            "3aa44e2e355a0910f046a2f7053a1dab2597cd75cb6ef6235e98aba27ec0f19a"
        );
        let r = rekey(&g, &[admin().session_id(), member().session_id()], 0, 5);
        assert_eq!(
            hex::encode(r.key.key),
            "91b5bade1933bc1b442e49fd14328e422dcd706f67325362cb53f6e8bee40fa7"
        );
        assert_eq!(r.message.len(), 3992);
        assert_eq!(
            hex::encode(Sha256::digest(&r.message)),
            "932213abb1b32ab1d8ee0d71d06c840775a9b2892214f06f8f70bde0beefdc77"
        );
        let Item::Dict(d) = bencode::parse(&r.message).unwrap() else {
            panic!()
        };
        assert_eq!(
            hex::encode(d.bytes(b"#").unwrap()),
            "42ee63ef3568568d0079685e0a8619aac51f37606646f5e1"
        );
        assert_eq!(
            hex::encode(d.bytes(b"K").unwrap()),
            "4747229578670dc3d1cb42dbafaef4482cff77c56b6774de24386edc439b37fd\
             6708f59b513d2cfcd166eee49ec7d02c"
        );
        let Some(Item::List(k)) = d.get(b"k") else {
            panic!()
        };
        let hexes: Vec<String> = k
            .iter()
            .take(3)
            .map(|i| match i {
                Item::Bytes(b) => hex::encode(b),
                _ => panic!(),
            })
            .collect();
        assert_eq!(
            hexes,
            [
                "1abe29893a9d4fe5cd07db76305b20b84114e9ae1d6715425b1ea59e1a2b596c92c01a448cb4cf163e5f7e5f2cee7b55",
                "260e9eeb1e489813b6c9db7d90fa62b716690ea77ba34e75fee0eaaff15436bb515dc10856df47f4c2de83c390636499",
                "6f218ef1f7efd1c763e9fe1ba546c2457c5a60e1e266c620b189780993bd0cf08b338944a56c5fb1fdbaef87691f5c36",
            ]
        );
        assert_eq!(
            hex::encode(d.bytes(b"~").unwrap()),
            "9e9a85ae3399dd460188c3848fa3d2c9518bfbf60d6934c4af3778a180000fda\
             004965e38ff1eeb4df056660279e292b88adae3c779e92750909dc5fb09f2d03"
        );

        // Each member finds its key; the admin opens K; an outsider finds nothing.
        for reader in [
            Reader::Member(&member()),
            Reader::Member(&admin()),
            Reader::Admin(&g),
        ] {
            let loaded = load(&g.public(), reader, &r.message, 77).unwrap();
            assert_eq!(loaded.generation, 0);
            assert_eq!(loaded.keys.len(), 1);
            assert_eq!(loaded.keys[0].key, r.key.key);
            assert_eq!(loaded.keys[0].timestamp_ms, 77);
        }
        let outsider = Identity::from_seed(Seed::from_bytes(&[0x44; 32]).unwrap());
        assert!(
            load(&g.public(), Reader::Member(&outsider), &r.message, 77)
                .unwrap()
                .keys
                .is_empty()
        );
    }

    #[test]
    fn supplement_vector() {
        let g = group();
        let key = GroupKey {
            generation: 0,
            key: hex::decode("91b5bade1933bc1b442e49fd14328e422dcd706f67325362cb53f6e8bee40fa7")
                .unwrap()
                .try_into()
                .unwrap(),
            timestamp_ms: 1_700_000_000_000,
        };
        let msg = supplement(&g, &[member().session_id()], std::slice::from_ref(&key)).unwrap();
        assert_eq!(msg.len(), 198);
        assert_eq!(
            hex::encode(Sha256::digest(&msg)),
            "ee3073bd24f82b3e398270e23390c85d59420ebe4e7f7908219bec03a1f67bf5"
        );
        let loaded = load(&g.public(), Reader::Member(&member()), &msg, 1).unwrap();
        assert_eq!(loaded.keys, [key]);
        assert!(
            load(&g.public(), Reader::Member(&admin()), &msg, 1)
                .unwrap()
                .keys
                .is_empty()
        );
    }

    #[test]
    fn bad_key_messages_are_refused() {
        let g = group();
        let r = rekey(&g, &[member().session_id()], 3, 5);
        // Signed by another group, or changed anywhere.
        let other = GroupKeys::from_seed(&[9; 32]);
        assert_eq!(
            load(&other.public(), Reader::Member(&member()), &r.message, 1).unwrap_err(),
            Error::BadSignature
        );
        for n in [5usize, 40, 100, 2000, 3700] {
            let mut bad = r.message.clone();
            bad[n] ^= 1;
            assert!(
                load(&g.public(), Reader::Member(&member()), &bad, 1).is_err(),
                "byte {n}"
            );
        }
        // Validly signed but not the shape libsession writes: 74 entries.
        let mut w = bencode::Writer::new();
        w.dict()
            .key(b"#")
            .bytes(&[0; 24])
            .key(b"G")
            .int(1)
            .key(b"K")
            .bytes(&[0; 48])
            .key(b"k")
            .list();
        for _ in 0..74 {
            w.bytes(&[0; 48]);
        }
        w.end();
        let short = signed(&g, w);
        assert_eq!(
            load(&g.public(), Reader::Member(&member()), &short, 1).unwrap_err(),
            Error::Malformed("key message: member keys")
        );
    }
}
