//! Nodes over real sockets: onion requests through three relays to a fourth node, garbage at
//! every hop, replication (forward, catch-up after a restart, durability across restarts),
//! handoff when a swarm leaves the manifest, and HTTPS.
// Real time is what these measure or wait on (deadlines, latency), not protocol logic.
#![allow(clippy::disallowed_methods)]
// Test helpers outside #[test] functions unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use murmur_core::limits::MIN_STORE_ACKS;
use murmur_core::onion::{self, Destination, EncType, Hop};
use murmur_core::rpc::Request;
use murmur_core::{Identity, crypto};
use murmur_node::devnet::Devnet;
use murmur_testkit::net::{http, rpc_with as rpc_at};
use serde_json::{Value, json};

const DAY_MS: u64 = 24 * 3600 * 1000;

/// A devnet syncing every 300 ms, and its directory.
async fn devnet(nodes: usize) -> (tempfile::TempDir, Devnet) {
    let (net, dir) = murmur_testkit::devnet::start(nodes, 300).await;
    (dir, net)
}

fn url(net: &Devnet, i: usize) -> String {
    net.manifest.manifest.nodes[i].url.clone()
}

fn hop(net: &Devnet, i: usize) -> Hop {
    net.manifest.manifest.nodes[i].hop().unwrap()
}

/// Indexes of the nodes in node `i`'s swarm (including `i`).
fn swarm_of(net: &Devnet, i: usize) -> Vec<usize> {
    let nodes = &net.manifest.manifest.nodes;
    (0..nodes.len())
        .filter(|&j| nodes[j].swarm_id == nodes[i].swarm_id)
        .collect()
}

/// Sends `request` as an onion request via `path` to `dest`; returns the HTTP status and,
/// when 200, the decrypted (status, body).
async fn onion_call(
    client: &reqwest::Client,
    net: &Devnet,
    path: &[Hop],
    dest: Hop,
    request: &Request,
    enc: EncType,
) -> (u16, Option<(u16, Value)>, String) {
    let built = onion::build_onion_request(
        path,
        &Destination::Node(dest),
        request.to_json().to_string().as_bytes(),
        enc,
        &mut rng(99),
    )
    .unwrap();
    let guard = net
        .manifest
        .manifest
        .node(&path[0].ed25519)
        .map(|n| n.url.clone())
        .unwrap();
    let response = client
        .post(format!("{guard}/onion_req/v2"))
        .body(built.body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    if status != 200 {
        return (status, None, String::from_utf8_lossy(&bytes).into_owned());
    }
    let reply = onion::decrypt_node_reply(&built.reply_key, &bytes).expect("reply decrypts");
    (
        status,
        Some((reply.status, reply.body_value())),
        String::new(),
    )
}

async fn wait_for(what: &str, timeout: Duration, mut check: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn counts(net: &Devnet) -> Vec<u64> {
    (0..net.len())
        .map(|i| net.node(i).map_or(0, |n| n.node.storage.stats().0))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onion_store_and_retrieve_through_three_hops() {
    let (_dir, net) = devnet(4).await;
    let client = http();
    let alice = Identity::generate(&mut rng(1));
    let now = net.clock.now_ms();
    let path = [hop(&net, 0), hop(&net, 1), hop(&net, 2)];

    let (status, reply, _) = onion_call(
        &client,
        &net,
        &path,
        hop(&net, 3),
        &store(&alice, 0, b"through the onion", DAY_MS, now),
        EncType::XChaCha20,
    )
    .await;
    assert_eq!(status, 200);
    let (code, body) = reply.unwrap();
    assert_eq!(code, 200, "{body}");
    // Answered once the quorum holds it; the other members get it moments later.
    let swarm = body["swarm"].as_object().unwrap();
    assert!(swarm.len() >= MIN_STORE_ACKS, "a quorum answered: {body}");
    assert!(swarm.values().all(|e| e.get("failed").is_none()), "{body}");
    wait_for(
        "every member to hold it",
        Duration::from_secs(10),
        async || counts(&net) == [1, 1, 1, 1],
    )
    .await;

    // Retrieve through another path and the other cipher.
    let path = [hop(&net, 3), hop(&net, 2), hop(&net, 1)];
    let (status, reply, _) = onion_call(
        &client,
        &net,
        &path,
        hop(&net, 0),
        &retrieve(&alice, 0, "", net.clock.now_ms()),
        EncType::AesGcm,
    )
    .await;
    assert_eq!(status, 200);
    let (code, body) = reply.unwrap();
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        body["messages"][0]["data"],
        json!(crypto::b64_encode(b"through the onion"))
    );
    net.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_at_every_hop_is_refused_and_nothing_is_stored() {
    let (_dir, net) = devnet(4).await;
    let client = http();
    let alice = Identity::generate(&mut rng(2));
    let request = store(&alice, 0, b"never stored", DAY_MS, net.clock.now_ms());
    let wrong_key = |h: Hop| Hop {
        ed25519: h.ed25519,
        x25519: crypto::x25519_public(&[9; 32]),
    };

    // Not an onion request at all, and a corrupted outer layer.
    for body in [b"garbage".to_vec(), {
        let mut built = onion::build_onion_request(
            &[hop(&net, 0)],
            &Destination::Node(hop(&net, 1)),
            request.to_json().to_string().as_bytes(),
            EncType::XChaCha20,
            &mut rng(3),
        )
        .unwrap()
        .body;
        built[20] ^= 1;
        built
    }] {
        let response = client
            .post(format!("{}/onion_req/v2", url(&net, 0)))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 400);
    }

    // A layer the second hop, the third hop, or the destination cannot decrypt: that node
    // answers 400 and the relays pass it back unchanged.
    let cases: [(Vec<Hop>, Hop); 3] = [
        (
            vec![hop(&net, 0), wrong_key(hop(&net, 1)), hop(&net, 2)],
            hop(&net, 3),
        ),
        (
            vec![hop(&net, 0), hop(&net, 1), wrong_key(hop(&net, 2))],
            hop(&net, 3),
        ),
        (
            vec![hop(&net, 0), hop(&net, 1), hop(&net, 2)],
            wrong_key(hop(&net, 3)),
        ),
    ];
    for (path, dest) in cases {
        let (status, _, text) =
            onion_call(&client, &net, &path, dest, &request, EncType::AesGcm).await;
        assert_eq!(status, 400);
        assert_eq!(text, "Invalid ciphertext");
    }

    // A next hop that is not in the manifest.
    let stranger = Hop {
        ed25519: [0xab; 32],
        x25519: crypto::x25519_public(&[8; 32]),
    };
    let (status, _, text) = onion_call(
        &client,
        &net,
        &[hop(&net, 0), stranger, hop(&net, 2)],
        hop(&net, 3),
        &request,
        EncType::XChaCha20,
    )
    .await;
    assert_eq!(status, 502);
    assert!(text.starts_with("Next node not found"), "{text}");

    assert_eq!(counts(&net), [0, 0, 0, 0]);
    // Every node still serves.
    for i in 0..4 {
        let (status, _) = rpc_at(&client, &url(&net, i), &Request::Info).await;
        assert_eq!(status, 200);
    }
    net.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replication_survives_a_member_going_down_and_restarts() {
    let (_dir, mut net) = devnet(6).await;
    let client = http();
    let members = swarm_of(&net, 0);
    assert_eq!(members.len(), 3);
    let (a, b, c) = (members[0], members[1], members[2]);
    let a_ed = net.manifest.manifest.nodes[a].ed25519.clone();
    let alice = account_for(&net.manifest.manifest, &a_ed, true, 4);

    // Store at one member; every member holds it.
    let (status, body) = rpc_at(
        &client,
        &url(&net, a),
        &store(&alice, 0, b"m0", DAY_MS, net.clock.now_ms()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["swarm"].as_object().unwrap().len() >= MIN_STORE_ACKS);
    for &m in &members {
        let m_url = url(&net, m);
        wait_for(
            "the member to hold it",
            Duration::from_secs(10),
            async || {
                let (_, body) = rpc_at(
                    &client,
                    &m_url,
                    &retrieve(&alice, 0, "", net.clock.now_ms()),
                )
                .await;
                body["messages"].as_array().is_some_and(|m| m.len() == 1)
            },
        )
        .await;
    }

    // One member down: stores still succeed (its entry says it failed).
    net.stop_node(c).await;
    for i in 1..=5 {
        let data = format!("m{i}");
        let (status, body) = rpc_at(
            &client,
            &url(&net, a),
            &store(&alice, 0, data.as_bytes(), DAY_MS, net.clock.now_ms()),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        // Answered by the two live members; the dead one's entry, if it came first, failed.
        let c_ed = &net.manifest.manifest.nodes[c].ed25519;
        let swarm = body["swarm"].as_object().unwrap();
        assert!(
            swarm.get(c_ed).is_none_or(|e| e["failed"] == json!(true)),
            "{body}"
        );
        assert_eq!(
            swarm.values().filter(|e| e.get("failed").is_none()).count(),
            2,
            "{body}"
        );
    }

    // It comes back and catches up from its peers.
    net.restart_node(c).await.unwrap();
    let c_url = url(&net, c);
    wait_for(
        "the restarted member to catch up",
        Duration::from_secs(20),
        async || {
            let (_, body) = rpc_at(
                &client,
                &c_url,
                &retrieve(&alice, 0, "", net.clock.now_ms()),
            )
            .await;
            body["messages"].as_array().is_some_and(|m| m.len() == 6)
        },
    )
    .await;

    // A restart on the same database keeps everything.
    net.stop_node(b).await;
    net.restart_node(b).await.unwrap();
    let (_, body) = rpc_at(
        &client,
        &url(&net, b),
        &retrieve(&alice, 0, "", net.clock.now_ms()),
    )
    .await;
    let hashes: Vec<&str> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["hash"].as_str().unwrap())
        .collect();
    assert_eq!(hashes.len(), 6);
    let expected: Vec<String> = (0..=5)
        .map(|i| hash_of(&alice, 0, format!("m{i}").as_bytes()))
        .collect();
    for h in &expected {
        assert!(hashes.contains(&h.as_str()), "message lost on restart");
    }
    net.stop().await;
}

/// A group owner's revocation reaches a member of the group's swarm that was down when it was
/// made: back up, that member reads it from its peers' logs at catch-up and refuses the token
/// too (SESSION-GROUPS.md §8.5: revoked on every member of the swarm).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_down_during_a_revocation_refuses_the_token_once_back() {
    use murmur_core::groups::GroupKeys;
    use murmur_core::groups::auth::{Subaccount, make_auth};
    use murmur_core::rpc::{AccountId, Namespace, RevokeParams, StoreParams};
    let (_dir, mut net) = devnet(6).await;
    let client = http();
    let members = swarm_of(&net, 0);
    let (a, c) = (members[0], members[2]);
    let swarm = net.manifest.manifest.nodes[0].swarm();
    let g = (0u8..=255)
        .map(|i| GroupKeys::from_seed(&[i; 32]))
        .find(|g| net.manifest.manifest.swarm_for_key(g.public().as_bytes()) == Some(swarm))
        .expect("some group seed maps to swarm 0");
    let group = AccountId(g.group_id());
    let member = Identity::generate(&mut rng(5));
    let auth = make_auth(&g, &member.session_id(), true, false).unwrap();
    let sub = Subaccount::open(&member, &g.public(), &auth.0).unwrap();
    let store_as = |data: &[u8], now| {
        Request::Store(StoreParams::new(&group, Namespace(11), data, now, DAY_MS))
            .signed_by_subaccount(&sub)
    };
    let (status, body) = rpc_at(
        &client,
        &url(&net, c),
        &store_as(b"before", net.clock.now_ms()),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    net.stop_node(c).await;
    let revoke = Request::Revoke {
        params: RevokeParams::new(&group, &[sub.token], net.clock.now_ms()),
        unrevoke: false,
    }
    .signed_by_group(&g);
    let (status, body) = rpc_at(&client, &url(&net, a), &revoke).await;
    assert_eq!(status, 200, "{body}");

    net.restart_node(c).await.unwrap();
    wait_for(
        "the restarted member to take the revocation",
        Duration::from_secs(20),
        async || {
            net.node(c)
                .is_some_and(|n| n.node.storage.is_revoked(&group, &sub.token).unwrap())
        },
    )
    .await;
    let (status, body) = rpc_at(
        &client,
        &url(&net, c),
        &store_as(b"after", net.clock.now_ms()),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    net.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_swarm_hands_its_messages_to_the_new_owners() {
    let (_dir, mut net) = devnet(9).await;
    let client = http();
    let leaving = swarm_of(&net, 8);
    let leaving_ed = net.manifest.manifest.nodes[8].ed25519.clone();
    let mut stored: Vec<(Identity, String)> = Vec::new();
    for seed in 0..4 {
        let user = account_for(&net.manifest.manifest, &leaving_ed, true, 100 + seed);
        let data = format!("handoff {seed}");
        let (status, body) = rpc_at(
            &client,
            &url(&net, 8),
            &store(&user, 0, data.as_bytes(), DAY_MS, net.clock.now_ms()),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        stored.push((user, data));
    }
    // A group in that swarm whose owner revoked a member: the revocation moves too.
    let g = (0u8..=255)
        .map(|i| murmur_core::groups::GroupKeys::from_seed(&[i; 32]))
        .find(|g| {
            net.manifest.manifest.swarm_for_key(g.public().as_bytes())
                == Some(net.manifest.manifest.nodes[8].swarm())
        })
        .expect("some group seed maps to the leaving swarm");
    let group = murmur_core::rpc::AccountId(g.group_id());
    let token = murmur_core::groups::auth::token_for(
        &g,
        &Identity::generate(&mut rng(6)).session_id(),
        true,
        false,
    )
    .unwrap();
    let revoke = Request::Revoke {
        params: murmur_core::rpc::RevokeParams::new(&group, &[token], net.clock.now_ms()),
        unrevoke: false,
    }
    .signed_by_group(&g);
    let (status, body) = rpc_at(&client, &url(&net, 8), &revoke).await;
    assert_eq!(status, 200, "{body}");

    let before: Vec<String> = net
        .manifest
        .manifest
        .nodes
        .iter()
        .map(|n| n.ed25519.clone())
        .collect();

    // The operator removes the whole swarm.
    let mut manifest = net.manifest.manifest.clone();
    let gone: Vec<String> = leaving
        .iter()
        .map(|&i| manifest.nodes[i].ed25519.clone())
        .collect();
    manifest.nodes.retain(|n| !gone.contains(&n.ed25519));
    net.publish(manifest.clone()).unwrap();

    // Every message reaches every member of its new swarm, and the old swarm lets go.
    for (user, data) in &stored {
        let owners: Vec<String> = manifest
            .members(manifest.swarm_for_key(&account(user).key()).unwrap())
            .iter()
            .map(|n| n.url.clone())
            .collect();
        assert_eq!(owners.len(), 3);
        for owner in owners {
            wait_for("handoff", Duration::from_secs(30), async || {
                let (status, body) =
                    rpc_at(&client, &owner, &retrieve(user, 0, "", net.clock.now_ms())).await;
                status == 200
                    && body["messages"].as_array().is_some_and(|m| {
                        m.iter()
                            .any(|m| m["data"] == json!(crypto::b64_encode(data.as_bytes())))
                    })
            })
            .await;
        }
    }
    let new_owners = manifest
        .members(manifest.swarm_for_key(&group.key()).unwrap())
        .iter()
        .map(|n| before.iter().position(|e| *e == n.ed25519).unwrap())
        .collect::<Vec<_>>();
    wait_for(
        "the revocation to reach the group's new swarm",
        Duration::from_secs(30),
        async || {
            new_owners.iter().all(|&i| {
                net.node(i)
                    .is_some_and(|n| n.node.storage.is_revoked(&group, &token).unwrap())
            })
        },
    )
    .await;
    wait_for(
        "the removed swarm to drop its copies",
        Duration::from_secs(30),
        async || {
            leaving.iter().all(|&i| {
                let storage = &net.node(i).unwrap().node.storage;
                storage.stats().0 == 0
                    && storage.subaccount_changes_after(0, 10).unwrap().is_empty()
            })
        },
    )
    .await;
    net.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_a_certificate_from_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert_file = dir.path().join("cert.pem");
    let key_file = dir.path().join("key.pem");
    std::fs::write(&cert_file, cert.cert.pem()).unwrap();
    std::fs::write(&key_file, cert.signing_key.serialize_pem()).unwrap();

    let operator = ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
    let node_dir = dir.path().join("node");
    let me = murmur_node::identity::NodeIdentity::load_or_create(&node_dir).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let manifest = murmur_core::network::SignedManifest::sign(
        murmur_core::network::Manifest::new(
            "tls".into(),
            1,
            vec![murmur_core::network::ManifestNode::new(
                me.ed25519_hex(),
                hex::encode(me.x25519()),
                format!("https://localhost:{port}"),
                0,
            )],
        ),
        &operator,
    )
    .unwrap();
    let mut config = murmur_node::config::Config {
        listen: "0.0.0.0:0".parse().unwrap(),
        data_dir: node_dir,
        ..Default::default()
    };
    config.network.operator_key = hex::encode(operator.verifying_key().to_bytes());
    config.network.manifest_file = Some(dir.path().join("m.json"));
    // Plain HTTP on a public address is refused.
    let err = config.check().unwrap_err().to_string();
    assert!(err.contains("loopback"), "{err}");

    config.tls = Some(murmur_node::config::TlsConfig {
        cert_file: cert_file.clone(),
        key_file,
    });
    let node = murmur_node::server::start(
        config,
        Some(listener),
        Some(manifest),
        std::sync::Arc::new(murmur_node::clock::Clock::default()),
    )
    .await
    .expect("TLS node starts");
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    let response = client
        .get(format!("https://localhost:{port}/network"))
        .header("origin", "https://chat.example.org")
        .send()
        .await
        .expect("HTTPS answers");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "*",
        "browsers may call public endpoints"
    );
    node.stop().await;
}

#[test]
fn a_relay_re_encodes_routing_json_numbers_exactly() {
    // Found by the combined_payload fuzz target (fuzz/regressions/combined_payload): a relay
    // decodes its layer's routing JSON and re-encodes it for the next hop, and serde_json's
    // default float parser is not correctly rounded, so a number changed by an ULP. The node is
    // built with serde_json's `float_roundtrip` (node/Cargo.toml); clients, which never
    // re-encode someone else's JSON, are not (it is ~12 KB of the wasm bundle).
    let input = include_bytes!("../../fuzz/regressions/combined_payload/float-roundtrip");
    let payload = onion::CombinedPayload::decode(input).unwrap();
    assert_eq!(
        onion::CombinedPayload::decode(&payload.encode()).unwrap(),
        payload
    );
}
