//! SESSION-V2.md §6: the spec's vectors (official inputs and [computed] outputs), then the
//! properties and bad inputs it lists. Run natively and, in `make test-wasm`, in Chromium.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

use ed25519_dalek::SigningKey;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::dm::{self, OpenError, Protection, testing};
use super::keys::{KemKeys, KemPublic, shake};
use super::{record, xeddsa};
use crate::keys::Identity;

use super::fixtures::{account_keys, alice, arr, bob, counting, h, sha256};

#[test]
fn official_identities() {
    assert_eq!(
        hex::encode(alice().x25519_pubkey()),
        "d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72"
    );
    assert_eq!(
        hex::encode(bob().x25519_pubkey()),
        "aa654f00fc39fc69fd0db829410ca38177d7732a8d2f0934ab3872ac56d5aa74"
    );
    assert_eq!(
        hex::encode(bob().x25519_secret()),
        "608744d00cd35a82177fe30a1befc3ec3282a9484df0deb13cc5842c0145d455"
    );
}

#[test]
fn seed_expansion_vectors() {
    let mut out = [0u8; 96];
    shake(b"SessionAccountKeys", &[&counting::<32>(0)], &mut out);
    assert_eq!(
        hex::encode(out),
        "07becf8a97e9ff522b3c23880fef32ad2789937db566c2e3a97d9cf3d68c9427\
         875a40549802610cf2554d88cdff30b7ccc1fecf3780bdf937be03c7ec20acbe\
         541eecbae478099b7361978a8decaa0eeab7ac158e1593dc9071a17fcf5a8886"
    );
    let ak = account_keys();
    assert_eq!(
        hex::encode(ak.x_public()),
        "1d9a352768744fe42467c85a811700599733c2fc327988fde05061e50c956a6a"
    );
    assert!(hex::encode(ak.m_public()).starts_with("da032578c43563e6c4f5d71ac1da4970"));
    assert_eq!(
        sha256(ak.m_public()),
        "87e915ae7f2e4e101621dc82b278b296e2eef82c81d12d72e0edf42bf8189160"
    );
    let dk = KemKeys::device(&counting(0x20));
    assert_eq!(
        hex::encode(dk.x_public()),
        "8ed331e29289db52063a93e66d5fae44dfa748b77838178c557754ec11505e3a"
    );
    assert_eq!(
        sha256(dk.m_public()),
        "45ae4fce97cbe3ac062e0b8b568ec80c8342b0b745ffc340190cc34c714dc383"
    );
}

#[test]
fn libsession_pfs_test_key() {
    let seed = h(
        "deadbeefcafebabe0123456789abcdef0123456789abcdef0123456789abcdef\
                  fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210",
    );
    let mut s = ml_kem::Seed::default();
    s.copy_from_slice(&seed);
    let dk = ml_kem::DecapsulationKey::<ml_kem::MlKem768>::from_seed(s);
    let pk = ml_kem::KeyExport::to_bytes(dk.encapsulation_key());
    assert!(hex::encode(pk.as_slice()).starts_with("95a01c413ab036a307111c930b59c47c"));
    assert_eq!(
        sha256(&pk),
        "9334bc384cdf0aed34d9eae93866cf173f3878592ff045f156c09bc1370f957c"
    );
    assert_eq!(
        hex::encode(crate::crypto::x25519_public(&arr(
            "aabbccddeeff0011223344556677889900112233445566778899aabbccddeeff"
        ))),
        "c08db77c6581eef513bd52b403896fdcfbf11992d6835c65c25224a58a87295b"
    );
}

fn pfs_vector_message(pro: Option<&SigningKey>) -> Vec<u8> {
    let ak = account_keys();
    testing::seal_pfs(
        alice().ed25519_signing_key(),
        &bob().session_id(),
        ak.x_public(),
        ak.m_public(),
        &counting(0x40),
        counting(0x60),
        b"hello world",
        pro,
    )
}

#[test]
fn dm_pfs_vector() {
    let msg = pfs_vector_message(None);
    assert_eq!(msg.len(), 1536);
    assert_eq!(&msg[..2], &[0, 2]);
    assert_eq!(hex::encode(&msg[2..4]), "b8a5");
    assert_eq!(
        hex::encode(&msg[4..36]),
        "79a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89af85a51a"
    );
    assert_eq!(
        sha256(&msg[36..1124]),
        "5c94ac5633dc0766239502e7e6c52327002fbbd55d751151a538367e47da8b23"
    );
    assert_eq!(
        hex::encode(&msg[1124..1156]),
        "c4f49421021ae7610c3f6884e75e8687bd16a5b9dfc7e3ece22598ee7d293528"
    );
    assert_eq!(
        sha256(&msg),
        "981cd438185adfe5881dad686fc2868cce8241682ac30d8a87b9c13d42df43bf"
    );

    let ak = account_keys();
    let opened = dm::decrypt(&bob(), &[&ak], &msg).unwrap();
    assert_eq!(opened.content, b"hello world");
    assert_eq!(opened.sender, alice().session_id());
    assert_eq!(opened.protection, Protection::Pfs);
    assert_eq!(opened.pro_signature, None);
}

#[test]
fn dm_pfs_vector_with_pro_signature() {
    let pro = SigningKey::from_bytes(&[0x33; 32]);
    assert_eq!(
        hex::encode(pro.verifying_key().as_bytes()),
        "17cb79fb2b4120f2b1ec65e4198d6e08b28e813feb01e4a400839b85e18080ce"
    );
    let msg = pfs_vector_message(Some(&pro));
    assert_eq!(
        sha256(&msg),
        "d3d07157458b88c0a637d369b00cfb2ca7cfed6871f1eb4a936a7a41332b2993"
    );
    let opened = dm::decrypt(&bob(), &[&account_keys()], &msg).unwrap();
    assert_eq!(
        hex::encode(opened.pro_signature.unwrap()),
        "1126cbb2f80eaba0918ee9665d6f83b69df86f4002db1f9a072ef3e94aed3f5c\
         cabc4b33ee05795670f9ea81bc80621a33528683015574905b046f1cc07c8407"
    );
}

#[test]
fn dm_nopfs_vector() {
    let msg = testing::seal_nopfs(
        alice().ed25519_signing_key(),
        &bob().session_id(),
        &counting(0x80),
        [0, 0],
        [0; 1088],
        b"hello world",
    );
    assert_eq!(
        hex::encode(&msg[4..36]),
        "493e82fc74464a59268817623d2053c5eb8e2cc4a988b4fee179ec6b010d531d"
    );
    assert_eq!(
        sha256(&msg),
        "d893f5958be1f4aed3696b381321e58224b1534c8d18ef8f46b0d2a97997ccfc"
    );
    // Bob holds account keys, but none matches the recovered prefix (22b7): the long-term key
    // opens it, marked as not forward secret.
    let opened = dm::decrypt(&bob(), &[&account_keys()], &msg).unwrap();
    assert_eq!(opened.protection, Protection::NoPfs);
    assert_eq!(opened.content, b"hello world");
    assert_eq!(opened.sender, alice().session_id());
}

#[test]
fn record_vector() {
    let rec = record::encode_with(bob().x25519_secret(), &account_keys(), &[0; 64]);
    assert_eq!(rec.len(), 1302);
    assert_eq!(
        hex::encode(&rec[rec.len() - 65..rec.len() - 1]),
        "6e7639d35ef6e8d1772a766a3c0f8a0a9c7c9199007fcd355e5c227b0887475e\
         1a245e3959d7e5ecd5aa86f8fb088c4c50687a0911dc5677b54136f079161900"
    );
    assert_eq!(
        sha256(&rec),
        "c8ee6a8710c84cbb2ad3f613bcdcb035be445a672f2c2bb30a26ff5e51c9b9b6"
    );
    assert_eq!(
        hex::encode(
            xeddsa::positive_ed25519(&bob().x25519_pubkey())
                .unwrap()
                .as_bytes()
        ),
        "5ea34e72bb044654a6a23675690ef5ffaaf1656b02f93fb76655f9cbdbe89876"
    );
    let keys = record::parse(&bob().session_id(), &rec).unwrap();
    assert_eq!(&keys.x, account_keys().x_public());
    assert_eq!(keys.m.as_slice(), account_keys().m_public().as_slice());
}

#[test]
fn xeddsa_signs_for_keys_of_either_sign() {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let mut seen = [false; 2];
    for _ in 0..16 {
        let id = Identity::generate(&mut rng);
        let ed = crate::crypto::x25519_public(id.x25519_secret());
        let sig = xeddsa::sign(id.x25519_secret(), b"m", &[9; 64]);
        assert!(xeddsa::verify(&ed, b"m", &sig));
        assert!(!xeddsa::verify(&ed, b"n", &sig));
        let sign_bit = {
            use curve25519_dalek::scalar::{Scalar, clamp_integer};
            let a = Scalar::from_bytes_mod_order(clamp_integer(*id.x25519_secret()));
            (curve25519_dalek::constants::ED25519_BASEPOINT_POINT * a)
                .compress()
                .as_bytes()[31]
                >> 7
        };
        seen[sign_bit as usize] = true;
    }
    assert_eq!(
        seen,
        [true, true],
        "both the negated and the plain case ran"
    );
}

#[test]
fn random_round_trips_and_sizes() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let (a, b) = (alice(), bob());
    let ak = account_keys();
    let published = record::PublishedKeys::new(*ak.x_public(), ak.m_public()).unwrap();
    for (len, size) in [
        (0, 1536),
        (279, 1536),
        (280, 1792),
        (535, 1792),
        (536, 2048),
    ] {
        let content = vec![7u8; len];
        let msg = dm::encrypt_pfs(&a, &b.session_id(), &published, &content, &mut rng);
        assert_eq!(msg.len(), size, "content of {len} bytes");
        let opened = dm::decrypt(&b, &[&ak], &msg).unwrap();
        assert_eq!(
            (opened.content, opened.protection),
            (content.clone(), Protection::Pfs)
        );
        let msg = dm::encrypt_nopfs(&a, &b.session_id(), &content, &mut rng);
        assert_eq!(msg.len(), size);
        assert_eq!(
            dm::decrypt(&b, &[], &msg).unwrap().protection,
            Protection::NoPfs
        );
    }
}

#[test]
fn the_right_key_is_found_among_retained_ones() {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let (a, b) = (alice(), bob());
    let old = KemKeys::account(&[1; 32]);
    let current = KemKeys::account(&[2; 32]);
    let published = record::PublishedKeys::new(*old.x_public(), old.m_public()).unwrap();
    let msg = dm::encrypt_pfs(&a, &b.session_id(), &published, b"hi", &mut rng);
    let opened = dm::decrypt(&b, &[&current, &old], &msg).unwrap();
    assert_eq!(opened.protection, Protection::Pfs);
    // Once the old key is gone (past retention) the message opens no more: forward secrecy.
    // The non-PFS path is tried and fails too.
    assert_eq!(dm::decrypt(&b, &[&current], &msg), Err(OpenError::NoKey));
    // Someone else's keys open nothing either.
    let carol = Identity::generate(&mut rng);
    assert_eq!(dm::decrypt(&carol, &[&old], &msg), Err(OpenError::NoKey));
}

#[test]
fn bad_frames_are_refused_without_panics() {
    let b = bob();
    let ak = account_keys();
    let good = pfs_vector_message(None);
    assert_eq!(
        dm::decrypt(&b, &[&ak], &[]),
        Err(OpenError::BadFormat("empty"))
    );
    assert_eq!(
        dm::decrypt(&b, &[&ak], &[0x0a, 0x02]),
        Err(OpenError::NotV2)
    );
    let mut v1 = good.clone();
    v1[1] = 1;
    assert_eq!(dm::decrypt(&b, &[&ak], &v1), Err(OpenError::UnknownVersion));
    v1[1] = 3;
    assert_eq!(dm::decrypt(&b, &[&ak], &v1), Err(OpenError::UnknownVersion));
    assert!(matches!(
        dm::decrypt(&b, &[&ak], &good[..10]),
        Err(OpenError::BadFormat(_))
    ));
    assert!(matches!(
        dm::decrypt(&b, &[&ak], &good[..1535]),
        Err(OpenError::BadFormat(_))
    ));
    let mut flipped = good.clone();
    *flipped.last_mut().unwrap() ^= 1;
    assert_eq!(dm::decrypt(&b, &[&ak], &flipped), Err(OpenError::NoKey));
    let mut low_order = good.clone();
    low_order[4..36].fill(0);
    assert_eq!(dm::decrypt(&b, &[&ak], &low_order), Err(OpenError::NoKey));
    for n in [0usize, 1, 2, 3, 4, 36, 1123, 1124, 1200] {
        let mut bad = good.clone();
        bad[n] ^= 0x40;
        assert!(dm::decrypt(&b, &[&ak], &bad).is_err(), "byte {n} flipped");
    }
}

#[test]
fn an_aead_valid_message_with_a_bad_inner_dict_is_refused_at_once() {
    let b = bob();
    let ak = account_keys();
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    // Sealed for Carol's Session ID but sent to Bob: it opens (Bob's keys), and the signature,
    // keyed by the recipient's ID, does not verify — final, no non-PFS retry.
    let carol = Identity::generate(&mut rng);
    let msg = testing::seal_pfs_signed_for(
        alice().ed25519_signing_key(),
        &b.session_id(),
        &carol.session_id(),
        &ak,
        b"hi",
    );
    assert_eq!(
        dm::decrypt(&b, &[&ak], &msg),
        Err(OpenError::BadFormat("signature does not verify"))
    );
    let msg = testing::seal_pfs_raw_inner(&b.session_id(), &ak, b"d1:c0:e\x01".to_vec());
    assert_eq!(
        dm::decrypt(&b, &[&ak], &msg),
        Err(OpenError::BadFormat("bytes after the inner dict"))
    );
    let msg = testing::seal_pfs_raw_inner(&b.session_id(), &ak, b"d1:c0:e".to_vec());
    assert_eq!(
        dm::decrypt(&b, &[&ak], &msg),
        Err(OpenError::BadFormat("sender key"))
    );
}

#[test]
fn a_nopfs_message_whose_hint_matches_a_key_still_opens() {
    let b = bob();
    let ak = account_keys();
    let e = [0x55u8; 32];
    let ki = testing::hint_for(&b.session_id(), &e, ak.m_public());
    let msg = testing::seal_nopfs(
        alice().ed25519_signing_key(),
        &b.session_id(),
        &e,
        ki,
        [0; 1088],
        b"collision",
    );
    let opened = dm::decrypt(&b, &[&ak], &msg).unwrap();
    assert_eq!(
        (opened.content.as_slice(), opened.protection),
        (&b"collision"[..], Protection::NoPfs)
    );
}

#[test]
fn bad_records_are_refused() {
    let b = bob();
    let ak = account_keys();
    let good = record::encode_with(b.x25519_secret(), &ak, &[0; 64]);
    // Signed by someone else, or read as someone else's.
    let alice_rec = record::encode_with(alice().x25519_secret(), &ak, &[0; 64]);
    assert!(record::parse(&b.session_id(), &alice_rec).is_err());
    assert!(record::parse(&alice().session_id(), &good).is_err());
    // Any byte changed.
    for n in [3usize, 100, 1200, 1250, 1300] {
        let mut bad = good.clone();
        bad[n] ^= 1;
        assert!(record::parse(&b.session_id(), &bad).is_err(), "byte {n}");
    }
    // A validly signed record whose ML-KEM key fails the modulus check: every 12-bit
    // coefficient set to 4095 (≥ q = 3329).
    let mut m = [0u8; 1184];
    m[..1152].fill(0xff);
    let mut w = crate::bencode::Writer::new();
    w.dict().key(b"M").bytes(&m).key(b"X").bytes(ak.x_public());
    let sig = xeddsa::sign(b.x25519_secret(), w.as_bytes(), &[0; 64]);
    w.key(b"~").bytes(&sig).end();
    let rec = w.finish();
    assert!(KemPublic::new(&m).is_err());
    assert_eq!(
        record::parse(&b.session_id(), &rec).unwrap_err(),
        crate::Error::InvalidKey
    );
    // The last valid record wins.
    let newer = record::encode_with(b.x25519_secret(), &KemKeys::account(&[5; 32]), &[0; 64]);
    let picked = record::newest_valid(&b.session_id(), &[&good, &newer, &rec]).unwrap();
    assert_eq!(&picked.x, KemKeys::account(&[5; 32]).x_public());
}

#[test]
fn past_retention_the_current_state_opens_no_old_message() {
    use super::account::{ACCOUNT_KEY_RETENTION_S, AccountKeyRing};
    let (alice, bob) = (alice(), bob());
    let mut rng = ChaCha20Rng::seed_from_u64(21);
    let mut ring = AccountKeyRing::default();
    ring.create([1; 32], 1_000);
    let first = KemKeys::account(&[1; 32]);
    let published =
        record::parse(&bob.session_id(), &record::encode(&bob, &first, &mut rng)).unwrap();
    // A conversation recorded off the wire: to Bob, and Bob's own sync copy.
    let to_bob = dm::encrypt_pfs(&alice, &bob.session_id(), &published, b"recorded", &mut rng);
    let sync_copy = dm::encrypt_pfs(&bob, &bob.session_id(), &published, b"mine", &mut rng);
    let held = ring.decryption_keys();
    let held: Vec<&KemKeys> = held.iter().collect();
    assert!(dm::decrypt(&bob, &held, &to_bob).is_ok());
    assert!(dm::decrypt(&bob, &held, &sync_copy).is_ok());

    // Rotated, then past retention: everything Bob's device holds now (the long-term seed and
    // the current keys) opens neither.
    ring.create([2; 32], 2_000);
    assert_eq!(ring.prune(2_000 + ACCOUNT_KEY_RETENTION_S), 1);
    let now_held = ring.decryption_keys();
    let now_held: Vec<&KemKeys> = now_held.iter().collect();
    assert_eq!(now_held.len(), 1);
    assert_eq!(dm::decrypt(&bob, &now_held, &to_bob), Err(OpenError::NoKey));
    assert_eq!(
        dm::decrypt(&bob, &now_held, &sync_copy),
        Err(OpenError::NoKey)
    );
}
