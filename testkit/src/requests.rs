//! Storage-RPC requests that tests send straight to a node (clients build theirs in core).

use murmur_core::Identity;
use murmur_core::rpc::{AccountId, Namespace, Request, RetrieveParams, StoreParams};

use crate::net::rpc;
use crate::{DAY_MS, now_ms};

/// An unsigned store of `data` to `to`'s public inbox (namespace 0), now, kept a day: anyone
/// may send it (and a hostile swarm member can write its own database anyway).
pub fn public_store(to: &Identity, data: &[u8]) -> Request {
    Request::Store(StoreParams::new(
        &AccountId::from(to.session_id()),
        Namespace(0),
        data,
        now_ms(),
        DAY_MS,
    ))
}

/// Every message hash the node at `url` holds in `id`'s public inbox (a signed retrieve,
/// paging by `last_hash`).
pub async fn held_hashes(url: &str, id: &Identity) -> Vec<String> {
    held(url, id)
        .await
        .into_iter()
        .map(|(hash, _)| hash)
        .collect()
}

/// Every message the node at `url` holds in `id`'s public inbox, as (hash, expiration).
pub async fn held(url: &str, id: &Identity) -> Vec<(String, u64)> {
    let mut held = Vec::new();
    let mut last = String::new();
    loop {
        let request = Request::Retrieve(RetrieveParams::new(
            &AccountId::from(id.session_id()),
            Namespace(0),
            last.clone(),
            now_ms(),
        ))
        .signed_by(id);
        let (status, body) = rpc(url, &request).await;
        assert_eq!(status, 200, "retrieve: {body}");
        let page = body["messages"].as_array().unwrap();
        held.extend(page.iter().map(|m| {
            let hash = m["hash"].as_str().unwrap().to_string();
            (hash, m["expiration"].as_u64().unwrap())
        }));
        if !body["more"].as_bool().unwrap_or(false) || page.is_empty() {
            return held;
        }
        last = held.last().unwrap().0.clone();
    }
}

/// Every node of `id`'s swarm on `net`, by URL.
pub fn swarm_urls(net: &murmur_node::devnet::Devnet, id: &Identity) -> Vec<String> {
    use murmur_core::swarm::{SwarmId, swarm_for, swarm_space};
    let info = net.info();
    let swarms: Vec<SwarmId> = info.nodes.iter().map(|n| SwarmId(n.swarm_id)).collect();
    let key = id.session_id().x25519_pubkey();
    let swarm = swarm_for(swarm_space(&key), &swarms).expect("a swarm").0;
    info.nodes
        .iter()
        .filter(|n| n.swarm_id == swarm)
        .map(|n| n.url.clone())
        .collect()
}

/// Whether every member of `id`'s swarm holds `hash` in `id`'s public inbox.
pub async fn swarm_holds(net: &murmur_node::devnet::Devnet, id: &Identity, hash: &str) -> bool {
    for url in swarm_urls(net, id) {
        if !held_hashes(&url, id).await.iter().any(|h| h == hash) {
            return false;
        }
    }
    true
}

/// Waits (up to 10 s) until no member of `id`'s swarm holds `hash`; panics if one still does.
pub async fn swarm_lets_go(net: &murmur_node::devnet::Devnet, id: &Identity, hash: &str) {
    for _ in 0..100 {
        let mut any = false;
        for url in swarm_urls(net, id) {
            any |= held_hashes(&url, id).await.iter().any(|h| h == hash);
        }
        if !any {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{hash} is still in the swarm");
}
