//! Groups on a real 9-node devnet: a revocation of a member's token, sent to one member of the
//! group's swarm, reaches every member, so the revoked token is refused on all of them.
#![allow(clippy::unwrap_used)]

use murmur_core::client::{HttpResponse, Transport};
use murmur_core::groups::GroupKeys;
use murmur_core::groups::auth::{Subaccount, make_auth};
use murmur_core::rpc::{AccountId, Namespace, Request, RetrieveParams, RevokeParams};
use murmur_core::swarm::{SwarmId, swarm_for, swarm_space};
use murmur_testkit::devnet::{self, transport as http};
use murmur_testkit::{identity, now_ms};

async fn post(url: &str, request: &Request) -> HttpResponse {
    let body = serde_json::to_vec(&request.to_json()).unwrap();
    http()
        .post(&format!("{url}/storage_rpc/v1"), body)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_sent_to_one_member_is_enforced_by_every_member_of_the_swarm() {
    let (net, _dir) = devnet::start(9, 500).await;
    let info = net.info();
    let group = GroupKeys::from_seed(&[0x42; 32]);
    let account = AccountId(group.group_id());
    let swarms: Vec<SwarmId> = info.nodes.iter().map(|n| SwarmId(n.swarm_id)).collect();
    let swarm = swarm_for(swarm_space(group.public().as_bytes()), &swarms)
        .unwrap()
        .0;
    let members: Vec<usize> = (0..info.nodes.len())
        .filter(|&i| info.nodes[i].swarm_id == swarm)
        .collect();
    assert!(members.len() >= 2);

    let member = identity(70);
    let auth = make_auth(&group, &member.session_id(), true, false).unwrap();
    let sub = Subaccount::open(&member, &group.public(), &auth.0).unwrap();
    let read = |now| {
        Request::Retrieve(RetrieveParams::new(
            &account,
            Namespace(11),
            String::new(),
            now,
        ))
        .signed_by_subaccount(&sub)
    };
    for &i in &members {
        assert_eq!(post(&info.nodes[i].url, &read(now_ms())).await.status, 200);
    }

    let revoke = Request::Revoke {
        params: RevokeParams::new(&account, &[sub.token], now_ms()),
        unrevoke: false,
    }
    .signed_by_group(&group);
    assert_eq!(post(&info.nodes[members[0]].url, &revoke).await.status, 200);
    for &i in &members {
        let node = net.node(i).unwrap();
        assert!(
            node.node.storage.is_revoked(&account, &sub.token).unwrap(),
            "node {i}"
        );
        assert_eq!(
            post(&info.nodes[i].url, &read(now_ms())).await.status,
            401,
            "node {i}"
        );
    }
    net.stop().await;
}
