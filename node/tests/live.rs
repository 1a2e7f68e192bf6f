//! Waiting retrieves (`wait_retrieve`, live delivery) on a real 3-node swarm over sockets: a
//! wait at one member is woken by a message stored at another (the forward reaches it as a
//! peer copy), a wait with nothing to say answers empty at its bound, a wait with messages
//! answers at once, the per-account bound refuses only that account, bad waits hold nothing,
//! and stopping a node releases every wait it holds.
// Tests wait on real sockets and poll until a wait is registered.
#![allow(clippy::disallowed_methods)]
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::*;
use murmur_core::Identity;
use murmur_core::limits::WAITERS_PER_ACCOUNT;
use murmur_core::rpc::rules::TOO_MANY_WAITS;
use murmur_core::rpc::{Request, RetrieveParams, WaitRetrieveParams};
use murmur_node::devnet::Devnet;
use murmur_node::state::SharedNode;
use murmur_testkit::net::rpc;
use murmur_testkit::requests::public_store;
use serde_json::Value;

const LONG_WAIT_MS: u64 = murmur_core::limits::MAX_RETRIEVE_WAIT_MS;

async fn swarm() -> (Devnet, tempfile::TempDir) {
    // One swarm of three; catch-up rarely, so forwarding is what carries a store across.
    murmur_testkit::devnet::start(3, 60_000).await
}

fn url(net: &Devnet, i: usize) -> String {
    net.manifest.manifest.nodes[i].url.clone()
}

fn node(net: &Devnet, i: usize) -> SharedNode {
    net.node(i).unwrap().node.clone()
}

fn wait_request(id: &Identity, wait_ms: u64) -> Request {
    let retrieve = RetrieveParams::new(
        &account(id),
        murmur_core::rpc::Namespace(0),
        String::new(),
        murmur_testkit::now_ms(),
    );
    let Request::Retrieve(signed) = Request::Retrieve(retrieve).signed_by(id) else {
        unreachable!()
    };
    Request::WaitRetrieve(WaitRetrieveParams {
        requests: vec![signed],
        wait_ms,
    })
}

/// The hashes of the first (only) retrieve in a wait's batch reply.
fn hashes(body: &Value) -> Vec<String> {
    let result = &body["results"][0];
    assert_eq!(result["code"], 200, "{body}");
    result["body"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["hash"].as_str().unwrap().to_string())
        .collect()
}

/// Waits (polling) until `node` holds `n` waits.
async fn until_held(node: &SharedNode, n: usize) {
    for _ in 0..500 {
        if node.storage.waiters().held() == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "the node never held {n} waits (holds {})",
        node.storage.waiters().held()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_at_one_member_is_answered_by_a_store_at_another() {
    let (net, _dir) = swarm().await;
    let id = Identity::generate(&mut rng(1));
    let waiting = tokio::spawn({
        let url = url(&net, 0);
        let request = wait_request(&id, LONG_WAIT_MS);
        async move { rpc(&url, &request).await }
    });
    let x = node(&net, 0);
    until_held(&x, 1).await;
    let (status, body) = rpc(&url(&net, 1), &public_store(&id, b"live")).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = waiting.await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(hashes(&body), vec![hash_of(&id, 0, b"live")]);
    // It was the peer's copy arriving that answered it, not the end of the wait.
    assert_eq!(x.storage.waiters().counts().0, 1, "woken once");
    assert_eq!(x.storage.waiters().held(), 0, "its place is given back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_answers_empty_at_its_bound_and_at_once_when_messages_wait() {
    let (net, _dir) = swarm().await;
    let id = Identity::generate(&mut rng(2));
    let (status, body) = rpc(&url(&net, 0), &wait_request(&id, 200)).await;
    assert_eq!(status, 200, "{body}");
    assert!(hashes(&body).is_empty());
    assert_eq!(body["results"][0]["body"]["more"], false);

    let (status, _) = rpc(&url(&net, 0), &public_store(&id, b"already")).await;
    assert_eq!(status, 200);
    let (status, body) = rpc(&url(&net, 0), &wait_request(&id, LONG_WAIT_MS)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(hashes(&body), vec![hash_of(&id, 0, b"already")]);
    assert_eq!(node(&net, 0).storage.waiters().counts().0, 0, "never held");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_account_past_its_wait_bound_is_refused_and_others_still_wait() {
    let (net, _dir) = swarm().await;
    let x = node(&net, 0);
    let id = Identity::generate(&mut rng(3));
    let other = Identity::generate(&mut rng(4));
    let mut held = Vec::new();
    for _ in 0..WAITERS_PER_ACCOUNT {
        let url = url(&net, 0);
        let request = wait_request(&id, LONG_WAIT_MS);
        held.push(tokio::spawn(async move { rpc(&url, &request).await }));
    }
    until_held(&x, WAITERS_PER_ACCOUNT).await;
    let (status, body) = rpc(&url(&net, 0), &wait_request(&id, LONG_WAIT_MS)).await;
    assert_eq!((status, body.as_str()), (429, Some(TOO_MANY_WAITS)));
    assert_eq!(x.storage.waiters().counts().1, 1, "counted as refused");

    // Another account is unaffected.
    let other_wait = tokio::spawn({
        let url = url(&net, 0);
        let request = wait_request(&other, LONG_WAIT_MS);
        async move { rpc(&url, &request).await }
    });
    until_held(&x, WAITERS_PER_ACCOUNT + 1).await;
    let (status, _) = rpc(&url(&net, 2), &public_store(&other, b"for the other")).await;
    assert_eq!(status, 200);
    let (status, body) = other_wait.await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(hashes(&body), vec![hash_of(&other, 0, b"for the other")]);

    // One message answers every wait of the first account.
    let (status, _) = rpc(&url(&net, 0), &public_store(&id, b"for all four")).await;
    assert_eq!(status, 200);
    for wait in held {
        let (status, body) = wait.await.unwrap();
        assert_eq!(status, 200, "{body}");
        assert_eq!(hashes(&body), vec![hash_of(&id, 0, b"for all four")]);
    }
    until_held(&x, 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_that_fails_a_check_is_refused_and_holds_nothing() {
    let (net, _dir) = swarm().await;
    let x = node(&net, 0);
    let id = Identity::generate(&mut rng(5));
    let impostor = Identity::generate(&mut rng(6));
    // Signed by someone else: 401, as a plain retrieve would be.
    let mut forged = wait_request(&impostor, LONG_WAIT_MS);
    if let Request::WaitRetrieve(w) = &mut forged {
        w.requests[0].pubkey = account(&id).to_hex();
    }
    let (status, _) = rpc(&url(&net, 0), &forged).await;
    assert_eq!(status, 401);
    // A wait inside a batch, and a wait holding a store, are malformed.
    let nested = serde_json::json!({"method": "batch", "params": {"requests": [wait_request(&id, 10).to_json()]}});
    let store_inside = serde_json::json!({"method": "wait_retrieve", "params": {"requests": [public_store(&id, b"x").to_json()], "wait_ms": 10}});
    for body in [nested, store_inside] {
        let reply = murmur_testkit::net::http()
            .post(format!("{}/storage_rpc/v1", url(&net, 0)))
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 400);
    }
    assert_eq!(x.storage.waiters().held(), 0);
    assert_eq!(x.storage.waiters().counts(), (0, 0));
    // The node kept serving.
    let (status, _) = rpc(&url(&net, 0), &wait_request(&id, 10)).await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_a_node_releases_every_wait_it_holds() {
    let (mut net, _dir) = swarm().await;
    let x = node(&net, 2);
    let mut held = Vec::new();
    for seed in 10..13 {
        let url = url(&net, 2);
        let request = wait_request(&Identity::generate(&mut rng(seed)), LONG_WAIT_MS);
        held.push(tokio::spawn(async move { rpc(&url, &request).await }));
    }
    until_held(&x, 3).await;
    net.stop_node(2).await;
    for wait in held {
        let (status, body) = wait.await.unwrap();
        assert_eq!(status, 200, "{body}");
        assert!(hashes(&body).is_empty());
    }
    assert_eq!(x.storage.waiters().held(), 0);
}
