//! SESSION-V2.md §6 vectors for the device group (group ID, SAS, kicked entry, `G` message,
//! link request), then round trips, merge convergence and bad input.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use zeroize::Zeroizing;

use super::link::{self, emoji_indices, emoji_text, group_sas, sas};
use super::message::{self, Draw, Header, Opened, Recipient, Slot, kicked_entry};
use super::table::{DeviceState, DeviceTable};
use super::{DeviceRecord, Entry, Payload, padded_len, unpad};
use crate::keys::{Identity, Seed};
use crate::v2::account::{AccountKey, AccountKeyRing};
use crate::v2::keys::{KemKeys, MLKEM_CIPHERTEXT};

use crate::v2::fixtures::{account_keys, bob, counting, sha256};

const GROUP_ID: [u8; 8] = [0xc0, 0x6d, 0xc1, 0x01, 0xde, 0xad, 0xbe, 0xef];

fn vector_record() -> DeviceRecord {
    DeviceRecord::new(
        1,
        1767225600,
        &KemKeys::device(&counting(0x20)),
        "Rust test device",
        "d",
        1002003,
    )
}

fn vector_payload() -> Payload {
    Payload {
        devices: vec![(counting(0xc0), Entry::Record(vector_record()))],
        keys: vec![AccountKey {
            seed: counting(0),
            created: 1767225600,
            rotated: None,
        }],
    }
}

#[test]
fn group_id_and_its_checks() {
    assert_eq!(message::group_created_s(&GROUP_ID), 29453760 * 60);
    let a: [u8; 32] = counting(0xa0);
    let a_pub = crate::crypto::x25519_public(&a);
    assert_eq!(
        hex::encode(a_pub),
        "605a725d2a4adfeeb1a29e17edd621c1b7593ee8cdbc44ac6c4ab6e2f805d23c"
    );
    assert_eq!(
        group_sas(&GROUP_ID),
        [
            9, 41, 15, 53, 33, 19, 29, 11, 59, 29, 33, 17, 39, 30, 31, 15, 31, 46, 10, 48, 30
        ]
    );
    assert_eq!(emoji_text(&group_sas(&GROUP_ID)[..4]), "🐓 💡 🌷 ✈\u{fe0f}");
    assert_eq!(
        hex::encode(kicked_entry(bob().seed().as_bytes(), &a_pub, &[0x99; 32])),
        "ee8b7ef4486150e0597746e09b70a427"
    );
}

#[test]
fn sas_mapping() {
    assert_eq!(
        emoji_indices(&counting(0)),
        [
            0, 4, 32, 0, 3, 16, 16, 1, 6, 28, 0, 2, 9, 40, 48, 2, 12, 52, 32, 3, 15
        ]
    );
}

#[test]
fn payload_record_and_padding_match_the_vector() {
    let record = vector_record();
    assert_eq!(record.encoded().len(), 1293);
    assert_eq!(hex::encode(record.digest()), "b4e06770d5eff127");
    let payload = vector_payload().encode();
    assert_eq!(payload.len(), 1395);
    assert_eq!(padded_len(payload.len()), 8700);
    assert_eq!(padded_len(2300), 8700);
    assert_eq!(padded_len(8700), 8700);
    assert_eq!(padded_len(8701), 15100);
    assert_eq!(Payload::parse(&payload).unwrap(), vector_payload());
}

fn vector_draw() -> Draw {
    let filler = |b: u8| Slot::Filler(Box::new([b; MLKEM_CIPHERTEXT]), [b; 34]);
    Draw {
        a: Zeroizing::new(counting(0xa0)),
        key_base: Zeroizing::new(counting(0xe0)),
        slots: vec![Slot::To(0, [0x55; 32]), filler(1), filler(2), filler(3)],
        kicked_filler: Vec::new(),
    }
}

#[test]
fn group_message_matches_the_vector_and_opens() {
    let device = KemKeys::device(&counting(0x20));
    let m = device.m_public();
    let m = crate::v2::keys::KemPublic::new(m).unwrap();
    let ak = account_keys();
    let header = Header {
        group_id: &GROUP_ID,
        link_x: ak.x_public(),
        kicked: &[],
    };
    let recipients = [Recipient {
        x: device.x_public(),
        m: &m,
    }];
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let g = message::seal_with(
        &bob(),
        &header,
        &vector_payload(),
        &recipients,
        vector_draw(),
        &mut rng,
    );
    assert_eq!(g.len(), 13393);
    assert_eq!(
        sha256(&g),
        "484b1f04881ca25ecad506da85320498553c582d47cd5a962ad60f5a3fbbb3ef"
    );

    let outer = message::read_outer(&bob(), &g).unwrap();
    assert_eq!(outer.group_id, GROUP_ID);
    assert_eq!(&outer.link_x, ak.x_public());
    let Opened::Member(payload) = outer.open(&bob(), &counting(0xc0), &[&device]).unwrap() else {
        panic!("the recipient opens it");
    };
    assert_eq!(payload, vector_payload());
    // Another device's keys open nothing, and it was not removed.
    let stranger = KemKeys::device(&[9; 32]);
    assert!(matches!(
        outer.open(&bob(), &[9; 32], &[&stranger]).unwrap(),
        Opened::NotMember
    ));
}

#[test]
fn group_message_refuses_tampering_and_other_accounts() {
    let device = KemKeys::device(&counting(0x20));
    let m = crate::v2::keys::KemPublic::new(device.m_public()).unwrap();
    let ak = account_keys();
    let header = Header {
        group_id: &GROUP_ID,
        link_x: ak.x_public(),
        kicked: &[],
    };
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let recipients = [Recipient {
        x: device.x_public(),
        m: &m,
    }];
    let g = message::seal(&bob(), &header, &vector_payload(), &recipients, &mut rng);
    // Every single-byte change in the signed part is refused (the signature covers it).
    for at in [0, 10, 200, 5000, g.len() - 80] {
        let mut bad = g.clone();
        bad[at] ^= 1;
        assert!(message::read_outer(&bob(), &bad).is_err(), "byte {at}");
    }
    // A G message of another account is not ours.
    let alice = Identity::from_seed(Seed::from_bytes(&[7; 32]).unwrap());
    assert!(message::read_outer(&alice, &g).is_err());
    // Truncations never panic.
    for len in [0, 1, 10, 100, 1000, g.len() - 1] {
        assert!(message::read_outer(&bob(), &g[..len]).is_err());
    }
}

#[test]
fn a_removed_device_learns_it_and_reads_nothing() {
    let ak = account_keys();
    let stay = KemKeys::device(&[1; 32]);
    let gone = KemKeys::device(&[2; 32]);
    let stay_m = crate::v2::keys::KemPublic::new(stay.m_public()).unwrap();
    let kicked = [[2u8; 32]];
    let header = Header {
        group_id: &GROUP_ID,
        link_x: ak.x_public(),
        kicked: &kicked,
    };
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let recipients = [Recipient {
        x: stay.x_public(),
        m: &stay_m,
    }];
    let g = message::seal(&bob(), &header, &vector_payload(), &recipients, &mut rng);
    let outer = message::read_outer(&bob(), &g).unwrap();
    assert!(matches!(
        outer.open(&bob(), &[2; 32], &[&gone]).unwrap(),
        Opened::Removed
    ));
    assert!(matches!(
        outer.open(&bob(), &[1; 32], &[&stay]).unwrap(),
        Opened::Member(_)
    ));
    // Five devices take eight slots; one to four take four.
    let keys: Vec<KemKeys> = (0..5).map(|i| KemKeys::device(&[i + 10; 32])).collect();
    let ms: Vec<_> = keys
        .iter()
        .map(|k| crate::v2::keys::KemPublic::new(k.m_public()).unwrap())
        .collect();
    let r: Vec<Recipient<'_>> = keys
        .iter()
        .zip(&ms)
        .map(|(k, m)| Recipient { x: k.x_public(), m })
        .collect();
    let four = message::seal(&bob(), &header, &vector_payload(), &r[..4], &mut rng);
    let one = message::seal(&bob(), &header, &vector_payload(), &r[..1], &mut rng);
    let five = message::seal(&bob(), &header, &vector_payload(), &r, &mut rng);
    assert_eq!(four.len(), one.len());
    assert!(five.len() > four.len());
    for (k, id) in keys.iter().zip(10u8..) {
        let outer = message::read_outer(&bob(), &five).unwrap();
        assert!(matches!(
            outer.open(&bob(), &[id; 32], &[k]).unwrap(),
            Opened::Member(_)
        ));
    }
}

fn link_record() -> DeviceRecord {
    DeviceRecord::new(
        1,
        1767225660,
        &KemKeys::device(&[0x66; 32]),
        "New phone",
        "a",
        1002003,
    )
}

#[test]
fn link_request_matches_the_vector() {
    let plaintext = link::request_plaintext(&bob(), &[0x77; 32], &link_record());
    assert_eq!(plaintext.len(), 1398);
    assert_eq!(
        sha256(&plaintext),
        "1b9250000ba83d7259be3c41b02e6382ec16598d2d1b7c40024c381ccedb3fb3"
    );
    assert_eq!(
        hex::encode(crate::crypto::blake2b(
            16,
            &[],
            b"SessionLinkEmoji",
            &[&plaintext]
        )),
        "8286a8f09623ce360a5fdd410daf57bb"
    );
    let check = sas(&plaintext);
    assert_eq!(emoji_text(&check[..7]), "🐙 🚀 ☎\u{fe0f} 🎩 ⚽ 😀 🍕");

    let ak = account_keys();
    let sealed = link::seal_with(&bob(), ak.x_public(), &plaintext, &[0x88; 32]).unwrap();
    assert_eq!(sealed.len(), 1474);
    assert_eq!(
        sha256(&sealed),
        "5b230635196578358461a49e2c417a0eea72f54b663ec06181209d1d43fda407"
    );
    // A member with the account key reads it; the SAS is the same on both sides.
    let opened = link::open(
        &bob(),
        &[0xc0; 32],
        &[KemKeys::account(&[5; 32]), ak],
        &sealed,
    )
    .unwrap();
    assert_eq!(opened.device, [0x77; 32]);
    assert_eq!(opened.record, link_record());
    assert_eq!(sas(&opened.plaintext), check);
    assert!(!opened.expired(1767225660 + 600));
    assert!(
        opened.expired(1767225660 + 601),
        "ten minutes after it was made"
    );
}

#[test]
fn link_requests_refused() {
    let ak = account_keys();
    let plaintext = link::request_plaintext(&bob(), &[0x77; 32], &link_record());
    let sealed = link::seal_with(&bob(), ak.x_public(), &plaintext, &[0x88; 32]).unwrap();
    // The requesting device ignores its own request.
    assert!(link::open(&bob(), &[0x77; 32], &[account_keys()], &sealed).is_err());
    // A device of another group (other account keys) cannot read it.
    assert!(link::open(&bob(), &[1; 32], &[KemKeys::account(&[5; 32])], &sealed).is_err());
    // Signed by someone else (the seed decides the account key): refused after decryption.
    let mallory = Identity::from_seed(Seed::from_bytes(&[3; 32]).unwrap());
    let forged = link::request_plaintext(&mallory, &[0x77; 32], &link_record());
    let sealed = link::seal_with(&bob(), ak.x_public(), &forged, &[0x88; 32]).unwrap();
    assert_eq!(
        link::open(&bob(), &[1; 32], &[account_keys()], &sealed).unwrap_err(),
        crate::Error::BadSignature
    );
}

fn record(seqno: i64, tag: u8) -> DeviceRecord {
    DeviceRecord::new(seqno, 100, &KemKeys::device(&[tag; 32]), "", "c", 0)
}

#[test]
fn merges_converge_whatever_the_order() {
    let payloads = [
        Payload {
            devices: vec![
                ([1; 32], Entry::Record(record(1, 1))),
                ([2; 32], Entry::Record(record(1, 2))),
            ],
            keys: vec![AccountKey {
                seed: [1; 32],
                created: 10,
                rotated: None,
            }],
        },
        Payload {
            devices: vec![
                ([2; 32], Entry::Record(record(2, 3))),
                ([3; 32], Entry::Tombstone(-50)),
            ],
            keys: vec![AccountKey {
                seed: [2; 32],
                created: 20,
                rotated: None,
            }],
        },
        Payload {
            devices: vec![
                ([3; 32], Entry::Tombstone(40)),
                ([4; 32], Entry::Tombstone(-60)),
            ],
            keys: vec![AccountKey {
                seed: [0; 32],
                created: 20,
                rotated: None,
            }],
        },
    ];
    let orders = [[0, 1, 2], [2, 1, 0], [1, 0, 2], [2, 0, 1]];
    let tables: Vec<DeviceTable> = orders
        .iter()
        .map(|order| {
            let mut t = DeviceTable {
                own: [9; 32],
                ..DeviceTable::default()
            };
            for &i in order {
                t.merge(&payloads[i], 1000);
            }
            t
        })
        .collect();
    for t in &tables[1..] {
        assert_eq!(t, &tables[0]);
    }
    let t = &tables[0];
    // The higher seqno wins; a removal beats a departure even when earlier.
    assert_eq!(t.rows[&[2; 32]].record.as_ref().unwrap().seqno, 2);
    assert_eq!(t.rows[&[3; 32]].state, DeviceState::Kicked);
    assert_eq!(t.rows[&[4; 32]].state, DeviceState::Left);
    // Account keys: newest, then the lowest seed.
    assert_eq!(t.keys.current().unwrap().seed, [0; 32]);
    assert_eq!(t.kicked(), vec![[3; 32]]);
    // And the payload round-trips.
    assert_eq!(
        Payload::parse(&t.payload().encode()).unwrap().encode(),
        t.payload().encode()
    );
}

#[test]
fn a_live_record_for_a_gone_device_is_refused_and_restated() {
    let mut t = DeviceTable::founding([9; 32], record(1, 9), AccountKeyRing::default());
    assert!(!t.remove(&[9; 32], 5), "a device does not remove itself");
    t.merge(
        &Payload {
            devices: vec![([1; 32], Entry::Tombstone(500))],
            keys: vec![],
        },
        600,
    );
    let merged = t.merge(
        &Payload {
            devices: vec![([1; 32], Entry::Record(record(7, 1)))],
            keys: vec![],
        },
        700,
    );
    assert_eq!(merged.restated, vec![[1; 32]]);
    assert_eq!(t.rows[&[1; 32]].state, DeviceState::Kicked);
    assert_eq!(t.rows[&[1; 32]].gone_at, Some(700));
    // Our own row is not displaced by another Registered record of it.
    let merged = t.merge(
        &Payload {
            devices: vec![([9; 32], Entry::Record(record(5, 8)))],
            keys: vec![],
        },
        800,
    );
    assert!(!merged.changed);
    assert_eq!(t.rows[&[9; 32]].record, Some(record(1, 9)));
    // A tombstone for us does: we are out.
    let merged = t.merge(
        &Payload {
            devices: vec![([9; 32], Entry::Tombstone(900))],
            keys: vec![],
        },
        900,
    );
    assert!(merged.own_gone);
}

#[test]
fn malformed_payloads_are_refused() {
    let good = vector_payload().encode();
    assert!(Payload::parse(b"de").is_err());
    assert!(Payload::parse(b"d1:Dde1:Klee").is_ok());
    assert!(Payload::parse(b"d1:Ddee").is_err(), "K is required");
    assert!(
        Payload::parse(b"d1:Dd32:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaai0ee1:Klee").is_err(),
        "tombstone 0"
    );
    let mut padded = good.clone();
    padded.extend_from_slice(&[0; 50]);
    assert_eq!(Payload::parse(unpad(&padded)).unwrap(), vector_payload());
    padded.push(1);
    assert!(
        Payload::parse(unpad(&padded)).is_err(),
        "non-zero after the dict"
    );
    for len in 0..good.len() {
        assert!(Payload::parse(&good[..len]).is_err());
    }
}
