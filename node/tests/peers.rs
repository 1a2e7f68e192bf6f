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
