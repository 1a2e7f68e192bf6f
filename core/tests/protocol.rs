//! Known-answer vectors and properties for swarms, onion requests, storage RPC and v1 messages
//! (SESSION-PROTOCOL.md §2–5, §9). Runs natively and in Chromium (wasm-bindgen-test).
//!
//! Vectors marked "libsodium" were produced independently with PyNaCl (libsodium 1.0.18) for
//! this repository, since the protocol summary withholds the official ones for these functions.

#![allow(clippy::unwrap_used)] // tests may unwrap; the wasm test attribute hides them from allow-unwrap-in-tests

use murmur_core::crypto;
use murmur_core::message::{self, Content};
use murmur_core::onion::{
    self, CombinedPayload, Destination, EncType, Hop, NodeKey, Peeled, ReplyKey, ServerTarget, v4,
};
use murmur_core::rpc::{self, AccountId, Namespace, Request, auth};
use murmur_core::swarm::{SwarmId, swarm_for, swarm_space};
use murmur_core::{Error, Identity, Seed, SessionId};
use prost::Message as _;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

fn h32(s: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).unwrap();
    out
}

/// A node peeling with the keypair of `secret`.
fn peel(secret: &[u8; 32], body: &[u8]) -> Result<Peeled, Error> {
    onion::peel_layer(&NodeKey::from_secret(*secret), body)
}

fn rng() -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(42)
}

fn identity(byte: u8) -> Identity {
    Identity::from_seed(Seed::from_bytes(&[byte; 32]).unwrap())
}

// ---- §2.1 swarms ----

#[test]
fn swarm_space_vectors() {
    let cases = [
        (
            "053506f4a71324b7dd114eddbf4e311f39dde243e1f2cb97c40db1961f70ebaae8",
            17589930838143112648u64,
        ),
        (
            "05cf27da303a50ac8c4b2d43d27259505c9bcd73fc21cf2a57902c3d050730b604",
            10370619079776428163,
        ),
        (
            "03d3511706b8b34f6e8411bf07bd22ba6b2435ca56846fbccf6eb1e166a6cd15cc",
            2144983569669512198,
        ),
        (
            "05fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe",
            1,
        ),
        (
            "050000000000000000000000000000000000000000000000000123456789abcdef",
            0x0123456789abcdef,
        ),
    ];
    for (id, space) in cases {
        let account = AccountId::parse(id).unwrap();
        assert_eq!(swarm_space(&account.key()), space, "{id}");
    }
}

#[test]
fn nearest_swarm_with_ties_and_wraparound() {
    let s = |v: &[u64]| v.iter().map(|&x| SwarmId(x)).collect::<Vec<_>>();
    assert_eq!(swarm_for(5, &[]), None);
    assert_eq!(swarm_for(5, &s(&[100])), Some(SwarmId(100)));
    assert_eq!(swarm_for(40, &s(&[0, 100])), Some(SwarmId(0)));
    assert_eq!(swarm_for(60, &s(&[100, 0])), Some(SwarmId(100)));
    // Exactly between two swarms: the left (lower) one wins.
    assert_eq!(swarm_for(50, &s(&[0, 100])), Some(SwarmId(0)));
    // Beyond the highest id, distances wrap around the ring.
    assert_eq!(
        swarm_for(u64::MAX - 10, &s(&[100, u64::MAX / 2])),
        Some(SwarmId(100))
    );
    assert_eq!(
        swarm_for(u64::MAX / 2 + 5, &s(&[100, u64::MAX / 2])),
        Some(SwarmId(u64::MAX / 2))
    );
    // A tie across the wrap goes to the left, i.e. the highest id.
    assert_eq!(
        swarm_for(0, &s(&[10, u64::MAX - 9])),
        Some(SwarmId(u64::MAX - 9))
    );
    // An exact hit is that swarm.
    assert_eq!(swarm_for(100, &s(&[0, 100, 200])), Some(SwarmId(100)));
}

// ---- §3.3 hop encryption (libsession-util test_onionreq.cpp) ----

const CLIENT_PK: &str = "bbdfc83022d0aff084a6f0c529a93d1c4d728bf7e41199afed0e01ae70d20540";
const CLIENT_SK: &str = "ccc335912da8939e2b44816728a5a4773063efa82bf7ae2d42a0abfa2caa452d";
const NODE_PK: &str = "caea52c5b0c316d85ffb53ea536826618b13dee40685f166f632653114526a78";
const NODE_SK: &str = "8fcd8ad3a15c76f76f1c56dff0c529999f8c59b4acda79e05666e54d5727dca1";

#[test]
fn hop_encryption_vectors() {
    assert_eq!(crypto::x25519_public(&h32(CLIENT_SK)), h32(CLIENT_PK));
    assert_eq!(crypto::x25519_public(&h32(NODE_SK)), h32(NODE_PK));
    let gcm = hex::decode(
        "1eb6ae1cd72f60999486365749bd5dc15cc0b6a2a44d7d063daa5e93722f0c025fd00306403b61",
    )
    .unwrap();
    let xchacha = hex::decode("9e1a3abe60eff3ea5c23556cc7e225b6f94355315f7281f66ecf4dbb06e7899a52b863e03cde3b287d1638d765db75de02b032").unwrap();
    for (enc, ct) in [(EncType::AesGcm, &gcm), (EncType::XChaCha20, &xchacha)] {
        let node =
            ReplyKey::for_node(&NodeKey::from_secret(h32(NODE_SK)), &h32(CLIENT_PK), enc).unwrap();
        let client = ReplyKey::for_client(&h32(CLIENT_SK), &h32(NODE_PK), enc).unwrap();
        assert_eq!(
            node.decrypt(ct).unwrap(),
            b"Hello world",
            "{enc:?} node side"
        );
        assert_eq!(
            client.decrypt(ct).unwrap(),
            b"Hello world",
            "{enc:?} client side"
        );
        let mut tampered = ct.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(node.decrypt(&tampered), Err(Error::DecryptionFailed));
        assert_eq!(node.decrypt(&ct[..20]), Err(Error::DecryptionFailed));
    }
    // Overheads: GCM 12 + 16, XChaCha 24 + 16.
    assert_eq!(gcm.len(), 11 + 28);
    assert_eq!(xchacha.len(), 11 + 40);
}

#[test]
fn push_notification_vector() {
    // §9.2 (libsession test_session_encrypt.cpp): nonce = first 24 bytes, XChaCha20-Poly1305,
    // plaintext zero-padded.
    let key = h32("0123456789abcdef0123456789abcdeffedcba9876543210fedcba9876543210");
    let payload = hex::decode("00112233445566778899aabbccddeeff00ffeeddccbbaa991bcba42892762dbeecbfb1a375fab4aca5f0991e99eb0344ceeafa").unwrap();
    let plain = crypto::xchacha_open(&key, &payload).unwrap();
    let end = plain.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    assert_eq!(&plain[..end], b"TestMessage");
}

#[test]
fn enc_type_names_and_aliases() {
    use serde_json::json;
    assert_eq!(EncType::from_json(None).unwrap(), EncType::AesGcm);
    assert_eq!(
        EncType::from_json(Some(&json!("gcm"))).unwrap(),
        EncType::AesGcm
    );
    assert_eq!(
        EncType::from_json(Some(&json!("xchacha20-poly1305"))).unwrap(),
        EncType::XChaCha20
    );
    assert_eq!(
        EncType::from_json(Some(&json!("rot13"))),
        Err(Error::UnknownEncType)
    );
    assert_eq!(
        EncType::from_json(Some(&json!(1))),
        Err(Error::UnknownEncType)
    );
}

// ---- §3.2, §3.4–3.6 onion requests ----

fn path_of(n: usize) -> (Vec<Hop>, Vec<[u8; 32]>) {
    let mut hops = Vec::new();
    let mut secrets = Vec::new();
    for i in 0..n {
        let sk = crypto::blake2b_32(&[b"hop secret", &[i as u8]]);
        let ed = crypto::blake2b_32(&[b"hop ed", &[i as u8]]);
        hops.push(Hop {
            ed25519: ed,
            x25519: crypto::x25519_public(&sk),
        });
        secrets.push(sk);
    }
    (hops, secrets)
}

fn peel_through(
    hops: &[Hop],
    secrets: &[[u8; 32]],
    body: Vec<u8>,
    dest_sk: &[u8; 32],
    dest_ed: [u8; 32],
) -> (Vec<u8>, ReplyKey) {
    let mut body = body;
    for (i, sk) in secrets.iter().enumerate() {
        match peel(sk, &body).unwrap() {
            Peeled::RelayToNode {
                destination_ed25519,
                body: next,
            } => {
                let expected = hops.get(i + 1).map_or(dest_ed, |h| h.ed25519);
                assert_eq!(
                    destination_ed25519, expected,
                    "hop {i} routes to the next hop"
                );
                body = next;
            }
            other => panic!("hop {i} should relay, got {other:?}"),
        }
    }
    match peel(dest_sk, &body).unwrap() {
        Peeled::Final { request, reply_key } => (request, reply_key),
        other => panic!("destination should be final, got {other:?}"),
    }
}

#[test]
fn peel_of_build_over_1_to_15_hops_both_enc_types() {
    let mut rng = rng();
    let dest_sk = crypto::blake2b_32(&[b"destination"]);
    let dest = Hop {
        ed25519: [7u8; 32],
        x25519: crypto::x25519_public(&dest_sk),
    };
    for hops_n in 1..=15 {
        for enc in [EncType::AesGcm, EncType::XChaCha20] {
            let (hops, secrets) = path_of(hops_n);
            let payload = format!(r#"{{"method":"info","params":{{"n":{hops_n}}}}}"#);
            let built = onion::build_onion_request(
                &hops,
                &Destination::Node(dest),
                payload.as_bytes(),
                enc,
                &mut rng,
            )
            .unwrap();
            let (request, node_key) =
                peel_through(&hops, &secrets, built.body, &dest_sk, dest.ed25519);
            assert_eq!(request, payload.as_bytes());
            // The reply travels back encrypted with the innermost key.
            let reply = onion::encrypt_node_reply(&node_key, 200, r#"{"ok":true}"#, &mut rng);
            let reply = onion::decrypt_node_reply(&built.reply_key, reply.as_bytes()).unwrap();
            assert_eq!(
                (reply.status, reply.body_value()),
                (200, serde_json::json!({"ok": true}))
            );
        }
    }
    assert!(matches!(
        onion::build_onion_request(
            &path_of(16).0,
            &Destination::Node(dest),
            b"{}",
            EncType::AesGcm,
            &mut rng
        ),
        Err(Error::LimitExceeded(_))
    ));
}

#[test]
fn relay_counts_hops_and_refuses_past_15() {
    let mut rng = rng();
    let (hops, secrets) = path_of(1);
    let dest_sk = [9u8; 32];
    let dest = Hop {
        ed25519: [8u8; 32],
        x25519: crypto::x25519_public(&dest_sk),
    };
    let built = onion::build_onion_request(
        &hops,
        &Destination::Node(dest),
        b"{}",
        EncType::XChaCha20,
        &mut rng,
    )
    .unwrap();
    // A client may start with a fake hop_no; at 15 the relay must refuse to forward.
    let mut outer = CombinedPayload::decode(&built.body).unwrap();
    outer.json.insert("hop_no".into(), serde_json::json!(15));
    assert!(matches!(
        peel(&secrets[0], &outer.encode()),
        Err(Error::LimitExceeded(_))
    ));
    outer.json.insert("hop_no".into(), serde_json::json!(3));
    match peel(&secrets[0], &outer.encode()).unwrap() {
        Peeled::RelayToNode { body, .. } => {
            assert_eq!(CombinedPayload::decode(&body).unwrap().json["hop_no"], 4);
        }
        other => panic!("expected relay, got {other:?}"),
    }
}

#[test]
fn server_destination_carries_a_v4_request() {
    let mut rng = rng();
    let (hops, secrets) = path_of(3);
    let server_sk = [5u8; 32];
    let target = ServerTarget {
        host: "files.example".into(),
        port: 443,
        protocol: "https".into(),
        target: "/oxen/v4/lsrpc".into(),
        x25519: crypto::x25519_public(&server_sk),
    };
    let request = v4::V4Request {
        meta: v4::V4Meta {
            method: "GET".into(),
            endpoint: "/room/x".into(),
            headers: Default::default(),
        },
        body: None,
    };
    let built = onion::build_onion_request(
        &hops,
        &Destination::Server(target.clone()),
        &request.encode(),
        EncType::XChaCha20,
        &mut rng,
    )
    .unwrap();
    let mut body = built.body;
    for sk in &secrets[..2] {
        match peel(sk, &body).unwrap() {
            Peeled::RelayToNode { body: next, .. } => body = next,
            other => panic!("expected relay, got {other:?}"),
        }
    }
    let Peeled::RelayToServer {
        host,
        port,
        protocol,
        target: path,
        body: server_body,
    } = peel(&secrets[2], &body).unwrap()
    else {
        panic!("last hop should relay to the server");
    };
    assert_eq!(
        (host.as_str(), port, protocol.as_str(), path.as_str()),
        ("files.example", 443, "https", "/oxen/v4/lsrpc")
    );
    // The server gets the whole hop plaintext and decrypts the blob with its own key.
    let payload = CombinedPayload::decode(&server_body).unwrap();
    let eph = h32(payload.json["ephemeral_key"].as_str().unwrap());
    let key =
        ReplyKey::for_node(&NodeKey::from_secret(server_sk), &eph, EncType::XChaCha20).unwrap();
    let got = v4::V4Request::decode(&key.decrypt(&payload.blob).unwrap()).unwrap();
    assert_eq!(got, request);
    // Its v4 reply is raw ciphertext the client decrypts with the reply key.
    let response = v4::V4Response {
        code: 200,
        headers: Default::default(),
        body: b"room".to_vec(),
    };
    let ct = key.encrypt(&response.encode(), &mut rng);
    assert_eq!(
        v4::V4Response::decode(&built.reply_key.decrypt(&ct).unwrap()).unwrap(),
        response
    );
}

#[test]
fn relays_refuse_non_onion_server_urls() {
    let mut rng = rng();
    let (hops, secrets) = path_of(1);
    for bad in ["/admin", "/oxen/v4/lsrpc?x=1", "/loki/v3/other"] {
        let target = ServerTarget {
            host: "h".into(),
            port: 80,
            protocol: "http".into(),
            target: bad.into(),
            x25519: [9u8; 32],
        };
        let built = onion::build_onion_request(
            &hops,
            &Destination::Server(target),
            b"le",
            EncType::AesGcm,
            &mut rng,
        )
        .unwrap();
        assert_eq!(
            peel(&secrets[0], &built.body).unwrap_err(),
            Error::Malformed("invalid url"),
            "{bad}"
        );
    }
}

#[test]
fn onion_bad_input_gives_the_right_error() {
    let sk = [3u8; 32];
    assert!(matches!(
        CombinedPayload::decode(b""),
        Err(Error::Malformed(_))
    ));
    assert!(matches!(
        CombinedPayload::decode(&[1, 0, 0]),
        Err(Error::Malformed(_))
    ));
    assert!(matches!(
        CombinedPayload::decode(&[9, 0, 0, 0, 1, 2]),
        Err(Error::Malformed(_))
    ));
    assert!(matches!(
        CombinedPayload::decode(&[0, 0, 0, 0, b'[', b']']),
        Err(Error::Malformed(_))
    ));
    assert!(matches!(
        CombinedPayload::decode(&[0, 0, 0, 0, b'{']),
        Err(Error::Malformed(_))
    ));
    let oversized = vec![0u8; onion::MAX_ONION_BODY + 1];
    assert!(matches!(
        CombinedPayload::decode(&oversized),
        Err(Error::LimitExceeded(_))
    ));
    let frame = |json: &str, blob: &[u8]| {
        CombinedPayload {
            blob: blob.to_vec(),
            json: serde_json::from_str(json).unwrap(),
        }
        .encode()
    };
    let eph = hex::encode(crypto::x25519_public(&[4u8; 32]));
    assert!(matches!(
        peel(&sk, &frame("{}", b"x")),
        Err(Error::Malformed(_))
    ));
    assert!(matches!(
        peel(&sk, &frame(r#"{"ephemeral_key":"zz"}"#, b"x")),
        Err(Error::Malformed(_))
    ));
    assert_eq!(
        peel(
            &sk,
            &frame(
                &format!(r#"{{"ephemeral_key":"{eph}","enc_type":"nope"}}"#),
                b"x"
            )
        )
        .unwrap_err(),
        Error::UnknownEncType
    );
    assert_eq!(
        peel(
            &sk,
            &frame(&format!(r#"{{"ephemeral_key":"{eph}"}}"#), &[0u8; 60])
        )
        .unwrap_err(),
        Error::DecryptionFailed
    );
    assert_eq!(
        peel(
            &sk,
            &frame(
                &format!(r#"{{"ephemeral_key":"{eph}","enc_type":"xchacha20"}}"#),
                &[0u8; 10]
            )
        )
        .unwrap_err(),
        Error::DecryptionFailed
    );
    // A small-order ephemeral key is refused rather than giving a predictable shared secret.
    let zero = "00".repeat(32);
    assert_eq!(
        peel(
            &sk,
            &frame(&format!(r#"{{"ephemeral_key":"{zero}"}}"#), &[0u8; 60])
        )
        .unwrap_err(),
        Error::InvalidKey
    );
}

#[test]
fn node_reply_parsing() {
    let mut rng = rng();
    let key = ReplyKey::for_client(
        &[1u8; 32],
        &crypto::x25519_public(&[2u8; 32]),
        EncType::AesGcm,
    )
    .unwrap();
    let reply = onion::encrypt_node_reply(&key, 421, r#"{"snodes":[]}"#, &mut rng);
    // Legacy wrapper form is accepted too.
    let wrapped = format!(r#"{{"result":"{reply}"}}"#);
    for form in [reply.as_str(), wrapped.as_str()] {
        let reply = onion::decrypt_node_reply(&key, form.as_bytes()).unwrap();
        assert_eq!(
            (reply.status, reply.body_value()),
            (421, serde_json::json!({"snodes": []}))
        );
    }
    assert!(matches!(
        onion::decrypt_node_reply(&key, b"502 Next node not found"),
        Err(Error::Malformed(_))
    ));
    assert!(matches!(
        onion::decrypt_node_reply(&key, &[0xff, 0xfe]),
        Err(Error::Malformed(_))
    ));
}

// ---- §3.7 v4 ----

#[test]
fn v4_request_vector_and_round_trips() {
    let text =
        br#"l79:{"method":"GET","endpoint":"/room/some-room","headers":{"Some-Header":"12345"}}e"#;
    let req = v4::V4Request::decode(text).unwrap();
    assert_eq!(req.meta.method, "GET");
    assert_eq!(req.meta.endpoint, "/room/some-room");
    assert_eq!(req.meta.headers["Some-Header"], "12345");
    assert_eq!(req.body, None);
    assert_eq!(v4::V4Request::decode(&req.encode()).unwrap(), req);
    let with_body = v4::V4Request {
        body: Some(b"{\"a\":1}".to_vec()),
        ..req
    };
    assert_eq!(
        v4::V4Request::decode(&with_body.encode()).unwrap(),
        with_body
    );
    let resp = v4::V4Response::decode(br#"l25:{"code":200,"headers":{}}5:helloe"#).unwrap();
    assert_eq!(
        (resp.code, resp.body.as_slice()),
        (200, b"hello".as_slice())
    );
    assert_eq!(v4::V4Response::decode(&resp.encode()).unwrap(), resp);
    for bad in [
        &b""[..],
        b"le",
        b"l3:abce",
        b"l99:{}e",
        b"l2:{}",
        b"li1ee",
        b"l02:{}e",
        b"l2:{}2:{}2:{}e",
        br#"l35:{"method":"GET","endpoint":"room"}e"#,
    ] {
        assert!(
            matches!(v4::V4Request::decode(bad), Err(Error::Malformed(_))),
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
    assert!(matches!(
        v4::V4Response::decode(b"l2:{}e"),
        Err(Error::Malformed(_))
    ));
}

// ---- §4 storage RPC ----

#[test]
fn namespace_rules() {
    assert!(
        Namespace(0).is_public_inbox()
            && Namespace(-10).is_public_inbox()
            && !Namespace(11).is_public_inbox()
    );
    assert!(
        Namespace(-1).is_public_outbox()
            && Namespace(-21).is_public_outbox()
            && !Namespace(-11).is_public_outbox()
    );
    assert!(
        !Namespace(-10).retrieve_needs_auth()
            && !Namespace(-21).retrieve_needs_auth()
            && Namespace(0).retrieve_needs_auth()
    );
    assert_eq!(Namespace(0).max_ttl_ms(), rpc::TTL_MAXIMUM_MS);
    assert_eq!(Namespace(2).max_ttl_ms(), rpc::TTL_MAXIMUM_PRIVATE_MS);
    assert_eq!(
        (Namespace(0).sig_part(), Namespace(-11).sig_part()),
        (String::new(), "-11".to_string())
    );
}

#[test]
fn keyed_and_personalised_blake2b_matches_an_independent_implementation() {
    // Python's hashlib.blake2b (key=, person=): the vault's slot names and key derivation use
    // these forms, so a change of BLAKE2b implementation must give the very same bytes.
    let key: Vec<u8> = (0..32).collect();
    assert_eq!(
        hex::encode(crypto::blake2b(32, &key, b"", &[b"history.index"])),
        "6b5e87f16d3bfe313129a2231dde0b099511a5763f89e1e8433a232ae55b5753"
    );
    assert_eq!(
        hex::encode(crypto::blake2b(
            32,
            &key,
            b"murmur-vault",
            &[b"data-", b"key"]
        )),
        "bcd75de97b9dc206bade634e8cdc51ee66c78940bc29daa53c11c0f3b32e80f2"
    );
    assert_eq!(
        hex::encode(crypto::blake2b(24, &[], &[], &[b"abc"])),
        "56a17e38cc371a46b12c32f18e0c61de2a84e9c2555b114e"
    );
    let key64: Vec<u8> = (0..64).collect();
    assert_eq!(
        hex::encode(crypto::blake2b(64, &key64, b"0123456789abcdef", &[b"abc"])),
        "6205492da685924007fe0f2fb9500d1bdeaa84996c9f91600d9521f38527de2b\
         deb9e78edf88beb3b9d8893568240829913d49c0ada979b7def94a4b2349bafc"
    );
}

#[test]
fn message_hash_matches_libsodium_blake2b() {
    // libsodium (PyNaCl) vectors, account of seed 0x01×32.
    let account = AccountId::from(identity(1).session_id());
    assert_eq!(
        account.to_hex(),
        "051b1b58dd50ea14b60da17b790cd02754d970c9bab864ebb3c0f3016fe51d3f57"
    );
    assert_eq!(
        rpc::message_hash(&account, Namespace(0), b"hello world"),
        "r25yMYVTAGGF83XusTY1SrMSjj3Em32mJwyzJ+PxojA"
    );
    assert_eq!(
        rpc::message_hash(&account, Namespace(-10), &[0, 1]),
        "SQhAO3dn894DvmbDiOGTJV+bQsmgHjr+HMynBajMMP0"
    );
    assert_eq!(
        rpc::message_hash(&account, Namespace(11), b"abc"),
        "s2lMxiKrMhLpU+JQtf56As3vqszVpBc6fhyrl9JBbak"
    );
}

#[test]
fn signature_strings_are_exact() {
    let req = |json: &str| Request::from_json(json.as_bytes()).unwrap();
    let pk = "05".to_string() + &"ab".repeat(32);
    let cases = [
        (
            format!(
                r#"{{"method":"store","params":{{"pubkey":"{pk}","timestamp":"1700000000000","ttl":86400000,"data":"AA=="}}}}"#
            ),
            "store1700000000000",
        ),
        (
            format!(
                r#"{{"method":"store","params":{{"pubkey":"{pk}","namespace":-11,"timestamp":1,"sig_timestamp":2,"ttl":10000,"data":""}}}}"#
            ),
            "store-112",
        ),
        (
            format!(
                r#"{{"method":"retrieve","params":{{"pubKey":"{pk}","namespace":2,"timestamp":17,"lastHash":"h"}}}}"#
            ),
            "retrieve217",
        ),
        (
            format!(r#"{{"method":"delete","params":{{"pubkey":"{pk}","messages":["a","b"]}}}}"#),
            "deleteab",
        ),
        (
            format!(r#"{{"method":"delete_all","params":{{"pubkey":"{pk}","timestamp":5}}}}"#),
            "delete_all5",
        ),
        (
            format!(
                r#"{{"method":"delete_before","params":{{"pubkey":"{pk}","namespace":3,"before":9}}}}"#
            ),
            "delete_before39",
        ),
        (
            format!(
                r#"{{"method":"expire","params":{{"pubkey":"{pk}","messages":["x","y"],"expiry":77,"shorten":true}}}}"#
            ),
            "expireshorten77xy",
        ),
        (
            format!(
                r#"{{"method":"expire","params":{{"pubkey":"{pk}","messages":["x"],"expiry":77}}}}"#
            ),
            "expire77x",
        ),
        (
            format!(r#"{{"method":"expire_all","params":{{"pubkey":"{pk}","expiry":8}}}}"#),
            "expire_all8",
        ),
        (
            format!(
                r#"{{"method":"get_expiries","params":{{"pubkey":"{pk}","messages":["m"],"timestamp":4}}}}"#
            ),
            "get_expiries4m",
        ),
    ];
    for (json, expected) in cases {
        assert_eq!(
            String::from_utf8(req(&json).signed_message().unwrap()).unwrap(),
            expected,
            "{json}"
        );
    }
    assert_eq!(
        req(&format!(
            r#"{{"method":"get_swarm","params":{{"pubkey":"{pk}"}}}}"#
        ))
        .signed_message(),
        None
    );
    assert_eq!(req(r#"{"method":"info"}"#), Request::Info);
}

#[test]
fn every_request_round_trips_through_json() {
    let pk = "05".to_string() + &"cd".repeat(32);
    let methods = [
        format!(
            r#"{{"method":"store","params":{{"pubkey":"{pk}","timestamp":1,"ttl":10000,"data":"AA==","signature":"c2ln","pubkey_ed25519":"ee"}}}}"#
        ),
        format!(
            r#"{{"method":"retrieve","params":{{"pubkey":"{pk}","namespace":-10,"last_hash":"h","max_count":5,"max_size":-5,"timestamp":1}}}}"#
        ),
        format!(
            r#"{{"method":"delete","params":{{"pubkey":"{pk}","messages":["a"],"required":true}}}}"#
        ),
        format!(
            r#"{{"method":"delete_all","params":{{"pubkey":"{pk}","namespace":2,"timestamp":5}}}}"#
        ),
        format!(r#"{{"method":"delete_before","params":{{"pubkey":"{pk}","before":9}}}}"#),
        format!(
            r#"{{"method":"expire","params":{{"pubkey":"{pk}","messages":["x"],"expiry":77,"extend":true}}}}"#
        ),
        format!(r#"{{"method":"expire_all","params":{{"pubkey":"{pk}","expiry":8}}}}"#),
        format!(
            r#"{{"method":"get_expiries","params":{{"pubkey":"{pk}","messages":["m"],"timestamp":4}}}}"#
        ),
        format!(r#"{{"method":"get_swarm","params":{{"pubkey":"{pk}"}}}}"#),
        r#"{"method":"info","params":{}}"#.to_string(),
    ];
    for json in &methods {
        let parsed = Request::from_json(json.as_bytes()).unwrap();
        let again = Request::from_json(parsed.to_json().to_string().as_bytes()).unwrap();
        assert_eq!(parsed, again, "{json}");
    }
    let batch = format!(
        r#"{{"method":"batch","params":{{"requests":[{}]}}}}"#,
        methods.join(",")
    );
    let parsed = Request::from_json(batch.as_bytes()).unwrap();
    assert!(matches!(&parsed, Request::Batch(r) if r.len() == methods.len()));
    assert_eq!(
        Request::from_json(parsed.to_json().to_string().as_bytes()).unwrap(),
        parsed
    );
}

#[test]
fn bad_rpc_json_gives_the_right_error() {
    let pk = "05".to_string() + &"cd".repeat(32);
    let info = r#"{"method":"info"}"#;
    for bad in [
        "".to_string(),
        "{".to_string(),
        "[]".to_string(),
        r#"{"params":{}}"#.to_string(),
        r#"{"method":"nope","params":{}}"#.to_string(),
        r#"{"method":"store","params":{}}"#.to_string(),
        format!(
            r#"{{"method":"store","params":{{"pubkey":"{pk}","timestamp":"soon","ttl":1,"data":""}}}}"#
        ),
        format!(
            r#"{{"method":"store","params":{{"pubkey":"{pk}","timestamp":-1,"ttl":1,"data":""}}}}"#
        ),
        format!(r#"{{"method":"retrieve","params":{{"pubkey":"{pk}","namespace":40000}}}}"#),
        format!(
            r#"{{"method":"batch","params":{{"requests":[{{"method":"batch","params":{{"requests":[{info}]}}}}]}}}}"#
        ),
    ] {
        assert!(
            matches!(Request::from_json(bad.as_bytes()), Err(Error::Malformed(_))),
            "{bad}"
        );
    }
    let too_many = format!(
        r#"{{"method":"batch","params":{{"requests":[{}]}}}}"#,
        [info; 21].join(",")
    );
    assert!(matches!(
        Request::from_json(too_many.as_bytes()),
        Err(Error::LimitExceeded(_))
    ));
    let none = r#"{"method":"sequence","params":{"requests":[]}}"#;
    assert!(matches!(
        Request::from_json(none.as_bytes()),
        Err(Error::LimitExceeded(_))
    ));
}

#[test]
fn request_auth_signs_and_verifies() {
    let me = identity(3);
    let account = AccountId::from(me.session_id());
    let msg = b"retrieve1700000000000";
    let signed = auth::sign(&me, msg);
    auth::verify(&account, &signed, msg).unwrap();
    assert_eq!(
        auth::verify(&account, &signed, b"retrieve1700000000001"),
        Err(Error::BadSignature)
    );
    // Someone else's valid key and signature do not authorise this account.
    let other = auth::sign(&identity(4), msg);
    assert_eq!(
        auth::verify(&account, &other, msg),
        Err(Error::BadSignature)
    );
    // Our key with their signature, or no ed25519 key at all, fail too.
    let mixed = rpc::Auth {
        signature: other.signature.clone(),
        ..signed.clone()
    };
    assert_eq!(
        auth::verify(&account, &mixed, msg),
        Err(Error::BadSignature)
    );
    let no_key = rpc::Auth {
        pubkey_ed25519: None,
        ..signed.clone()
    };
    assert_eq!(
        auth::verify(&account, &no_key, msg),
        Err(Error::BadSignature)
    );
    assert!(matches!(
        auth::verify(&account, &rpc::Auth::default(), msg),
        Err(Error::Malformed(_))
    ));
    let garbage = rpc::Auth {
        signature: Some("!!".into()),
        ..signed
    };
    assert_eq!(
        auth::verify(&account, &garbage, msg),
        Err(Error::BadSignature)
    );
}

// ---- §5.1 v1 messages ----

#[test]
fn padding_both_generations() {
    for len in [0usize, 1, 158, 159, 160, 161, 500] {
        let content = vec![7u8; len];
        let padded = message::pad(&content);
        assert_eq!(padded.len() % 160, 0, "len {len}");
        assert!(padded.len() > len);
        assert_eq!(message::unpad(&padded), content.as_slice());
        // The older Signal-style form (one less than a multiple of 160) unpads the same way.
        let old_len = (len + 2).div_ceil(160) * 160 - 1;
        let mut old = content.clone();
        old.push(0x80);
        old.resize(old_len, 0);
        assert_eq!(message::unpad(&old), content.as_slice());
    }
    // Unpadded content (last non-zero byte not 0x80) is taken as is.
    assert_eq!(message::unpad(&[1, 2, 3]), &[1, 2, 3]);
}

#[test]
fn sealed_box_opens_libsodium_output() {
    let me = identity(1);
    let ct = hex::decode("af7f80c307d5cc3d609ff77137b634b78c00dca7a1423654de6e73397109c75509b3f01133d155f2d51512f5f22b07f6358d2e4c34edaf6cb3a2f023d509d9bc44f29c").unwrap();
    assert_eq!(
        crypto::sealed_box_open(me.x25519_secret(), &me.x25519_pubkey(), &ct).unwrap(),
        b"Sealed by libsodium"
    );
    let mut rng = rng();
    let ours = crypto::sealed_box_seal(&me.x25519_pubkey(), b"round trip", &mut rng).unwrap();
    assert_eq!(ours.len(), 10 + crypto::SEALED_BOX_OVERHEAD);
    assert_eq!(
        crypto::sealed_box_open(me.x25519_secret(), &me.x25519_pubkey(), &ours).unwrap(),
        b"round trip"
    );
}

#[test]
fn v1_message_from_libsodium_opens_and_verifies() {
    let me = identity(1);
    let ct = hex::decode("9d5b36bea6c47759c6891d19384bc8642eb90a04196f1c0eeb3f7708884e6167d398de988b6e280f7a6733847bc4175366b13534719ebb41a17aa62f6bd5f324f8e9e15287fe04f839ad895f53e8c083bdc74dd35b042d005e574a893f2f2fde8bf3266d060ac95d1973483e278e7f7a760820093326bbe43d89c1cba616b8f24b06181b31cc03afd7c2e3b742e27048b60639120eb1aa30cae27e01f7ace6fd807e39f770f87cac3c4877b5088974963276cb3c0fbd4a744265b8b0ce867e44d50df772c367d9db332a53b3be2e9fa64f160fdf4d89bf9014eb492aae08eaa76fe441418f6daaba83b537c73cfddc07985a1531b1b1e33984b167b56d4dc1e0830a33a28a140cfdc753968157f88e103dbff1c78b25a53776d3cbba159b95985370c5d236a4110256d323cd546902b8").unwrap();
    let opened = message::decrypt_incoming(&me, &ct).unwrap();
    assert_eq!(
        opened.sender.to_string(),
        "0560346e7c911a5f6ba154129174cafe75b294ac3bbd5549632f48cec6266f8410"
    );
    assert_eq!(opened.sender, identity(2).session_id());
    assert_eq!(opened.plaintext.len(), 160);
    let content = Content::decode(message::unpad(&opened.plaintext)).unwrap();
    assert_eq!(content.data_message.unwrap().body.as_deref(), Some("hello"));
    // Addressed to someone else: cannot be opened.
    assert_eq!(
        message::decrypt_incoming(&identity(3), &ct).unwrap_err(),
        Error::DecryptionFailed
    );
}

#[test]
fn v1_message_round_trip_with_envelope() {
    let (alice, bob) = (identity(10), identity(11));
    let mut rng = rng();
    let content = message::text_content("hi Bob <b>not bold</b>", 1_700_000_000_123, Some(300));
    let stored = message::encode_direct_message(
        &alice,
        &bob.session_id(),
        &content,
        1_700_000_000_123,
        &mut rng,
    )
    .unwrap();
    let received = message::decode_direct_message(&bob, &stored).unwrap();
    assert_eq!(received.sender, alice.session_id());
    assert_eq!(received.sent_ms, 1_700_000_000_123);
    assert_eq!(received.content, content);
    assert_eq!(received.content.expiration_timer, Some(300));
    // Envelope fields as Session writes them.
    let env = message::unwrap(&stored).unwrap();
    assert_eq!((env.r#type, env.source_device), (6, Some(1)));
}

#[test]
fn v1_signature_fails_on_any_flipped_bit() {
    // Re-seal a tampered inner plaintext: the box opens but the signature must not verify.
    let (alice, bob) = (identity(10), identity(11));
    let mut rng = rng();
    let padded = message::pad(b"sign me");
    let ct = message::encrypt_for_recipient(&alice, &bob.session_id(), &padded, &mut rng).unwrap();
    let inner = crypto::sealed_box_open(bob.x25519_secret(), &bob.x25519_pubkey(), &ct).unwrap();
    for bit in 0..inner.len() * 8 {
        let mut tampered = inner.clone();
        tampered[bit / 8] ^= 1 << (bit % 8);
        let resealed = crypto::sealed_box_seal(&bob.x25519_pubkey(), &tampered, &mut rng).unwrap();
        let result = message::decrypt_incoming(&bob, &resealed);
        assert!(
            matches!(result, Err(Error::BadSignature | Error::InvalidKey)),
            "bit {bit}: {result:?}"
        );
    }
    // Flipping a bit of the sealed box itself fails authentication.
    let mut flipped = ct.clone();
    flipped[40] ^= 1;
    assert_eq!(
        message::decrypt_incoming(&bob, &flipped).unwrap_err(),
        Error::DecryptionFailed
    );
}

#[test]
fn v1_message_cannot_be_readdressed() {
    // The signature covers the recipient: Bob re-sealing Alice's message to Carol is detected.
    let (alice, bob, carol) = (identity(10), identity(11), identity(12));
    let mut rng = rng();
    let ct = message::encrypt_for_recipient(
        &alice,
        &bob.session_id(),
        &message::pad(b"for bob"),
        &mut rng,
    )
    .unwrap();
    let inner = crypto::sealed_box_open(bob.x25519_secret(), &bob.x25519_pubkey(), &ct).unwrap();
    let forwarded = crypto::sealed_box_seal(&carol.x25519_pubkey(), &inner, &mut rng).unwrap();
    assert_eq!(
        message::decrypt_incoming(&carol, &forwarded).unwrap_err(),
        Error::BadSignature
    );
}

#[test]
fn v1_bad_input() {
    let bob = identity(11);
    assert!(matches!(
        message::decrypt_incoming(&bob, &[0u8; 100]),
        Err(Error::Malformed(_))
    ));
    assert!(matches!(
        message::unwrap(b"\xff\xff\xff"),
        Err(Error::Malformed(_))
    ));
    assert!(matches!(
        message::decode_direct_message(&bob, &message::wrap(vec![1, 2, 3], 5)),
        Err(Error::Malformed(_))
    ));
    let empty_ws = message::WebSocketMessage {
        r#type: Some(1),
        request: None,
    }
    .encode_to_vec();
    assert!(matches!(
        message::unwrap(&empty_ws),
        Err(Error::Malformed(_))
    ));
}

#[test]
fn session_id_and_account_id_agree() {
    let id: SessionId = identity(1).session_id();
    assert_eq!(AccountId::from(id).to_hex(), id.to_string());
    assert!(matches!(AccountId::parse("05zz"), Err(Error::Malformed(_))));
}

#[cfg(not(target_arch = "wasm32"))]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn enc_type() -> impl Strategy<Value = EncType> {
        prop_oneof![Just(EncType::AesGcm), Just(EncType::XChaCha20)]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn peel_build_is_identity(hops_n in 1usize..=15, enc in enc_type(), payload in proptest::collection::vec(any::<u8>(), 0..2048), seed in any::<u64>()) {
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            let dest_sk = crypto::blake2b_32(&[b"dest", &seed.to_le_bytes()]);
            let dest = Hop { ed25519: [1u8; 32], x25519: crypto::x25519_public(&dest_sk) };
            let (hops, secrets) = path_of(hops_n);
            let built = onion::build_onion_request(&hops, &Destination::Node(dest), &payload, enc, &mut rng).unwrap();
            let (request, _) = peel_through(&hops, &secrets, built.body, &dest_sk, dest.ed25519);
            prop_assert_eq!(request, payload);
        }

        #[test]
        fn seal_open_round_trip(text in "\\PC{0,400}", a in 1u8..=255, b in 1u8..=255, seed in any::<u64>()) {
            let (alice, bob) = (identity(a), identity(b));
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            let content = message::text_content(&text, seed, None);
            let stored = message::encode_direct_message(&alice, &bob.session_id(), &content, seed, &mut rng).unwrap();
            let got = message::decode_direct_message(&bob, &stored).unwrap();
            prop_assert_eq!(got.sender, alice.session_id());
            prop_assert_eq!(got.content, content);
        }

        #[test]
        fn parsers_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = CombinedPayload::decode(&data);
            let _ = peel(&[7u8; 32], &data);
            let _ = v4::V4Request::decode(&data);
            let _ = v4::V4Response::decode(&data);
            let _ = Request::from_json(&data);
            let _ = message::unwrap(&data);
            let _ = message::decrypt_incoming(&identity(1), &data);
        }

        #[test]
        fn v4_round_trip(method in "[A-Z]{3,6}", endpoint in "/[a-z/?=&]{0,40}", body in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..300))) {
            let req = v4::V4Request { meta: v4::V4Meta { method, endpoint, headers: Default::default() }, body };
            prop_assert_eq!(v4::V4Request::decode(&req.encode()).unwrap(), req);
        }
    }
}

#[test]
fn wait_retrieve_round_trips_and_holds_only_retrieves() {
    let id = Identity::generate(&mut ChaCha20Rng::seed_from_u64(77));
    let account = AccountId::from(id.session_id());
    let retrieve =
        rpc::RetrieveParams::new(&account, Namespace(0), "h".repeat(43), 1_700_000_000_000);
    let Request::Retrieve(signed) = Request::Retrieve(retrieve).signed_by(&id) else {
        unreachable!()
    };
    let wait = Request::WaitRetrieve(rpc::WaitRetrieveParams {
        requests: vec![signed.clone(), signed],
        wait_ms: 25_000,
    });
    let json = wait.to_json();
    assert_eq!(json["method"], "wait_retrieve");
    assert_eq!(json["params"]["requests"][0]["method"], "retrieve");
    let back = Request::from_json(json.to_string().as_bytes()).unwrap();
    assert_eq!(back, wait);
    // The retrieves inside are signed as plain retrieves; the wait itself signs nothing.
    assert!(back.signed_message().is_none());
    let pk = account.to_hex();
    let info = r#"{"method":"info"}"#;
    for bad in [
        format!(r#"{{"method":"wait_retrieve","params":{{"requests":[{info}],"wait_ms":1}}}}"#),
        r#"{"method":"wait_retrieve","params":{"requests":[],"wait_ms":1}}"#.to_string(),
        format!(
            r#"{{"method":"wait_retrieve","params":{{"requests":[{{"method":"retrieve","params":{{"pubkey":"{pk}"}}}}]}}}}"#
        ),
        r#"{"method":"wait_retrieve","params":{"requests":[],"wait_ms":1,"extra":2}}"#.to_string(),
        format!(
            r#"{{"method":"batch","params":{{"requests":[{}]}}}}"#,
            wait.to_json()
        ),
    ] {
        assert!(Request::from_json(bad.as_bytes()).is_err(), "{bad}");
    }
}
