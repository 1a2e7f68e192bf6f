//! The signed node-to-node routes against a node the operator just removed (Byzantine nodes,
//! attack 7): the manifest before lists it, so its signature still verifies, but it reads no
//! swarm once the newest manifest leaves it out.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use murmur_core::network::{Manifest, SignedManifest};
use murmur_node::clock::Clock;
use murmur_node::identity::NodeIdentity;
use murmur_node::peer::Caller;
use murmur_node::replication::MESSAGES_PATH;

#[tokio::test]
async fn a_node_the_operator_removed_reads_no_swarm() {
    let removed = NodeIdentity::from_seed(murmur_core::Seed::from_bytes(&[3; 32]).unwrap());
    let served = common::serve(vec![common::phantom_node(0, 3)], |_| {}).await;
    let node = &served.node;
    let (clock, http) = (Clock::default(), murmur_testkit::net::http());
    let as_removed = Caller {
        signer: &removed,
        clock: &clock,
        http: &http,
    };
    let target = served.manifest.nodes[0].clone();
    let page = || {
        serde_json::json!({"after": 0, "limit": 10, "swarm_id": target.swarm_id})
            .to_string()
            .into_bytes()
    };
    let ask = || as_removed.post(&target, MESSAGES_PATH, page(), Duration::from_secs(5));
    // A member of swarm 0: it may page through it.
    assert_eq!(ask().await.unwrap().0, 200);
    // The operator removes it; the node takes the new manifest.
    let without = Manifest::new("test".into(), 2, vec![target.clone()]);
    let signed = SignedManifest::sign(without, &served.operator).unwrap();
    assert!(node.node.network.offer(signed).unwrap());
    let (status, body) = ask().await.unwrap();
    assert_eq!(status, 403, "{}", String::from_utf8_lossy(&body));
}

/// A peer's batch of forwarded writes (`/murmur/v1/replicate_batch`) is checked write by
/// write, as single forwards are: a good store is taken, a store for another swarm gets 421
/// and a forged signed one 401, each in its own result; an oversized or malformed batch is
/// refused whole and stores nothing; the node goes on serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_forwarded_writes_is_checked_write_by_write() {
    use murmur_core::Identity;
    use murmur_node::replication::{FORWARD_BATCH_MAX, REPLICATE_BATCH_PATH};

    let (net, _dir) = murmur_testkit::devnet::start(6, 60_000).await;
    let nodes = net.manifest.manifest.nodes.clone();
    let target = 0;
    let sender = (1..nodes.len())
        .find(|&i| nodes[i].swarm_id == nodes[target].swarm_id)
        .unwrap();
    let peer_keys = NodeIdentity::load_or_create(&net.dir.join(format!("node-{sender}"))).unwrap();
    let (clock, http) = (Clock::default(), murmur_testkit::net::http());
    let as_peer = Caller {
        signer: &peer_keys,
        clock: &clock,
        http: &http,
    };
    let now = murmur_testkit::now_ms();
    let day = murmur_testkit::DAY_MS;
    let ours = common::account_for(&net.manifest.manifest, &nodes[target].ed25519, true, 1);
    let elsewhere = common::account_for(&net.manifest.manifest, &nodes[target].ed25519, false, 2);
    let impostor = Identity::generate(&mut common::rng(3));
    let mut forged = common::store(&impostor, 5, b"signed by someone else", day, now);
    if let murmur_core::rpc::Request::Store(p) = &mut forged {
        p.pubkey = common::account(&ours).to_hex();
    }
    let batch = |requests: Vec<serde_json::Value>| {
        serde_json::json!({ "requests": requests })
            .to_string()
            .into_bytes()
    };
    let held = || net.node(target).unwrap().node.storage.stats().0;
    let post = |body| {
        as_peer.post(
            &nodes[target],
            REPLICATE_BATCH_PATH,
            body,
            Duration::from_secs(5),
        )
    };

    let (status, body) = post(batch(vec![
        common::store(&ours, 0, b"taken", day, now).to_json(),
        common::store(&elsewhere, 0, b"another swarm's", day, now).to_json(),
        forged.to_json(),
    ]))
    .await
    .unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let reply: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let codes: Vec<u64> = reply["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_u64().unwrap())
        .collect();
    assert_eq!(codes, [200, 421, 401]);
    assert_eq!(
        reply["results"][0]["body"]["hash"],
        common::hash_of(&ours, 0, b"taken")
    );
    assert_eq!(held(), 1, "only the good store");

    let too_many = (0..=FORWARD_BATCH_MAX)
        .map(|i| common::store(&ours, 0, format!("m{i}").as_bytes(), day, now).to_json())
        .collect();
    assert_eq!(post(batch(too_many)).await.unwrap().0, 413);
    assert_eq!(post(b"{\"requests\": 5}".to_vec()).await.unwrap().0, 400);
    assert_eq!(post(b"not json".to_vec()).await.unwrap().0, 400);
    assert_eq!(held(), 1, "a refused batch stores nothing");

    // Still serving, one write at a time too.
    let (status, _) = post(batch(vec![
        common::store(&ours, 0, b"later", day, now).to_json(),
    ]))
    .await
    .unwrap();
    assert_eq!(status, 200);
    assert_eq!(held(), 2);
    net.stop().await;
}
