//! Every storage RPC through the router (no socket), and the bad-input matrix: each bad request
//! gets its documented status, nothing is stored or removed, and the node keeps serving.

// Test helpers outside #[test] functions unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use murmur_core::crypto;
use murmur_core::rpc::{
    DeleteAllParams, ExpireAllParams, ExpireParams, GetExpiriesParams, Namespace, Request,
};
use serde_json::{Value, json};

const DAY_MS: u64 = 24 * 3600 * 1000;

/// Asserts the node still answers and holds exactly `expected` messages.
async fn assert_unchanged(n: &OneNode, expected: (u64, u64)) {
    assert_eq!(n.node.storage.stats(), expected, "the store changed");
    let (status, body) = rpc(&n.router, &Request::Info).await;
    assert_eq!(status, 200, "node stopped serving: {body}");
}

#[tokio::test]
async fn store_retrieve_delete_round_trip() {
    let n = one_node(1 << 30).await;
    let me = n.me();
    let alice = n.member(1);
    let now = n.now();

    let body = n.ok(&store(&alice, 0, b"hello", 14 * DAY_MS, now)).await;
    let hash = hash_of(&alice, 0, b"hello");
    assert_eq!(body["hash"], json!(hash));
    let entry = &body["swarm"][&me];
    assert_eq!(entry["hash"], json!(hash));
    assert_eq!(entry["expiry"], json!(now + 14 * DAY_MS));
    // The node's signature over the hash verifies with its manifest key.
    let sig = crypto::b64_decode(entry["signature"].as_str().unwrap()).unwrap();
    let key = ed25519_dalek::VerifyingKey::from_bytes(&n.node.identity.ed25519()).unwrap();
    key.verify_strict(
        hash.as_bytes(),
        &ed25519_dalek::Signature::from_slice(&sig).unwrap(),
    )
    .expect("node signature verifies");

    // A duplicate is not stored twice.
    let body = n.ok(&store(&alice, 0, b"hello", 14 * DAY_MS, now)).await;
    assert_eq!(body["swarm"][&me]["already"], json!(true));
    assert_eq!(n.node.storage.stats().0, 1);

    // Namespace 2 needs a signature; with one it is stored.
    n.ok(&store(&alice, 2, b"config", 30 * DAY_MS, now)).await;

    let body = n.ok(&retrieve(&alice, 0, "", now)).await;
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["hash"], json!(hash));
    assert_eq!(messages[0]["data"], json!(crypto::b64_encode(b"hello")));
    assert_eq!(messages[0]["expiration"], json!(now + 14 * DAY_MS));

    // Nothing after the last hash.
    let (_, body) = rpc(&n.router, &retrieve(&alice, 0, &hash, now)).await;
    assert_eq!(body["messages"], json!([]));

    let body = n.ok(&delete(&alice, std::slice::from_ref(&hash))).await;
    assert_eq!(body["swarm"][&me]["deleted"], json!([hash]));
    let (_, body) = rpc(&n.router, &retrieve(&alice, 0, "", now)).await;
    assert_eq!(body["messages"], json!([]));
}

#[tokio::test]
async fn expire_get_expiries_and_delete_all() {
    let n = one_node(1 << 30).await;
    let me = n.me();
    let alice = n.member(2);
    let now = n.now();
    rpc(&n.router, &store(&alice, 0, b"a", DAY_MS, now)).await;
    rpc(&n.router, &store(&alice, 0, b"b", DAY_MS, now)).await;
    let a = hash_of(&alice, 0, b"a");
    let b = hash_of(&alice, 0, b"b");

    let sign = |req: Request| req.signed_by(&alice);
    let acct = account(&alice);
    let shorter = now + 3_600_000;
    let body = n
        .ok(&sign(Request::Expire(
            ExpireParams::new(&acct, vec![a.clone()], shorter).shorten_only(),
        )))
        .await;
    assert_eq!(body["swarm"][&me]["updated"], json!([a]));

    let body = n
        .ok(&sign(Request::GetExpiries(GetExpiriesParams::new(
            &acct,
            vec![a.clone(), b.clone()],
            now,
        ))))
        .await;
    assert_eq!(body["expiries"][&a], json!(shorter));
    assert_eq!(body["expiries"][&b], json!(now + DAY_MS));

    let body = n
        .ok(&sign(Request::ExpireAll(ExpireAllParams::new(
            &acct,
            Namespace(0),
            now + 60_000,
        ))))
        .await;
    let mut both = vec![a.clone(), b.clone()];
    both.sort();
    assert_eq!(body["swarm"][&me]["updated"], json!(both));

    let body = n
        .ok(&sign(Request::DeleteAll(DeleteAllParams::new(
            &acct,
            Namespace(0),
            now,
        ))))
        .await;
    assert_eq!(body["swarm"][&me]["deleted"], json!(both));
    assert_eq!(n.node.storage.stats(), (0, 0));
}

#[tokio::test]
async fn a_ten_second_message_is_never_returned_after_its_expiry() {
    let n = one_node(1 << 30).await;
    let alice = n.member(3);
    let now = n.now();
    n.ok(&store(&alice, 0, b"brief", 10_000, now)).await;
    let (_, body) = rpc(&n.router, &retrieve(&alice, 0, "", n.clock.now_ms())).await;
    assert_eq!(body["messages"].as_array().unwrap().len(), 1);

    // Just past its expiry: not returned, even before the sweep removes it.
    n.clock.advance(10_001);
    let body = n.ok(&retrieve(&alice, 0, "", n.clock.now_ms())).await;
    assert_eq!(body["messages"], json!([]));
    assert_eq!(n.node.storage.stats().0, 1, "still on disk until the sweep");
    assert_eq!(n.node.storage.sweep(n.clock.now_ms()).unwrap(), 1);
    assert_eq!(n.node.storage.stats(), (0, 0));
}

#[tokio::test]
async fn wrong_swarm_is_421_with_the_right_swarm() {
    let n = one_node(1 << 30).await;
    let bob = n.outsider(4);
    let now = n.now();
    for request in [
        store(&bob, 0, b"x", DAY_MS, now),
        retrieve(&bob, 0, "", now),
        delete(&bob, &[hash_of(&bob, 0, b"x")]),
    ] {
        let (status, body) = rpc(&n.router, &request).await;
        assert_eq!(status, 421, "{body}");
        let snodes = body["snodes"].as_array().expect("421 carries the swarm");
        assert_eq!(snodes.len(), 1);
        assert_eq!(
            snodes[0]["pubkey_ed25519"],
            json!(n.manifest.nodes[1].ed25519)
        );
        assert_eq!(body["swarm"], json!(format!("{:x}", 1u64 << 63)));
    }
    assert_unchanged(&n, (0, 0)).await;
}

/// The bad-input matrix: (what, request body, expected status).
fn bad_requests(n: &OneNode) -> Vec<(&'static str, String, u16)> {
    let alice = n.member(5);
    let mallory = n.member(6);
    let now = n.now();
    let good = store(&alice, 2, b"payload", DAY_MS, now).to_json();
    let with = |f: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        f(&mut v);
        v.to_string()
    };
    let resign =
        |req: Request, signer: &murmur_core::Identity| req.signed_by(signer).to_json().to_string();
    let big = vec![0u8; 76_801];
    let sub = store(&alice, 0, b"s", DAY_MS, now).to_json();
    vec![
        ("malformed JSON", "{\"method\": \"store\", ".into(), 400),
        ("not an object", "[1,2,3]".into(), 400),
        ("unknown method", json!({"method": "steal", "params": {}}).to_string(), 400),
        ("missing data", with(&|v| { v["params"].as_object_mut().unwrap().remove("data"); }), 400),
        ("missing pubkey", with(&|v| { v["params"].as_object_mut().unwrap().remove("pubkey"); }), 400),
        ("extra param", with(&|v| v["params"]["admin"] = json!(true)), 400),
        ("bad base64", with(&|v| v["params"]["data"] = json!("%%%not base64%%%")), 400),
        ("bad pubkey hex", with(&|v| v["params"]["pubkey"] = json!("05zz")), 400),
        ("ttl and expiry both", with(&|v| v["params"]["expiry"] = json!(now + DAY_MS)), 400),
        ("ttl too short", resign(store(&alice, 2, b"payload", 5_000, now), &alice), 403),
        ("ttl too long (ns 0)", store(&alice, 0, b"p", 15 * DAY_MS, now).to_json().to_string(), 403),
        ("ttl too long (ns 2)", resign(store(&alice, 2, b"p", 31 * DAY_MS, now), &alice), 403),
        ("oversized data", store(&alice, 0, &big, DAY_MS, now).to_json().to_string(), 400),
        ("absent signature", with(&|v| { v["params"].as_object_mut().unwrap().remove("signature"); }), 401),
        ("corrupt signature", with(&|v| v["params"]["signature"] = json!(crypto::b64_encode(&[1; 64]))), 401),
        ("signature by another key", resign(store(&alice, 2, b"payload", DAY_MS, now), &mallory), 401),
        ("signature over other params", with(&|v| v["params"]["namespace"] = json!(3)), 401),
        ("store timestamp in the future", resign(store(&alice, 2, b"p", DAY_MS, now + 120_000), &alice), 406),
        ("store expired long ago", resign(store(&alice, 2, b"p", DAY_MS, now - 2 * DAY_MS), &alice), 406),
        ("retrieve timestamp too old", retrieve(&alice, 0, "", now - 61_000).to_json().to_string(), 406),
        ("retrieve timestamp too new", retrieve(&alice, 0, "", now + 61_000).to_json().to_string(), 406),
        ("retrieve without signature", json!({"method": "retrieve", "params": {"pubkey": account(&alice).to_hex(), "timestamp": now}}).to_string(), 401),
        ("delete without signature", json!({"method": "delete", "params": {"pubkey": account(&alice).to_hex(), "messages": [hash_of(&alice, 0, b"s")]}}).to_string(), 401),
        ("delete with malformed hash", json!({"method": "delete", "params": {"pubkey": account(&alice).to_hex(), "messages": ["short"]}}).to_string(), 400),
        ("batch over 20", json!({"method": "batch", "params": {"requests": vec![sub.clone(); 21]}}).to_string(), 400),
        ("empty batch", json!({"method": "batch", "params": {"requests": []}}).to_string(), 400),
        ("nested batch", json!({"method": "batch", "params": {"requests": [{"method": "batch", "params": {"requests": [sub]}}]}}).to_string(), 400),
    ]
}

#[tokio::test]
async fn bad_input_matrix_stores_nothing_and_keeps_serving() {
    let n = one_node(1 << 30).await;
    // One message already there, so "nothing lost" is checked too.
    let keeper = n.member(9);
    n.ok(&store(&keeper, 0, b"keep me", DAY_MS, n.clock.now_ms()))
        .await;
    let before = n.node.storage.stats();
    for (what, body, expected) in bad_requests(&n) {
        let (status, reply) = post(&n.router, "/storage_rpc/v1", body).await;
        assert_eq!(status, expected, "{what}: got {status} {reply}");
        if let Value::String(text) = &reply {
            assert!(!text.is_empty(), "{what}: an error says why");
        }
        assert_unchanged(&n, before).await;
    }
    // The message stored first is still retrievable.
    let (_, body) = rpc(&n.router, &retrieve(&keeper, 0, "", n.clock.now_ms())).await;
    assert_eq!(body["messages"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn oversized_body_is_413() {
    let n = one_node(1 << 30).await;
    let body = vec![b' '; murmur_core::limits::STORAGE_RPC_MAX_BODY + 1];
    let (status, _) = post(&n.router, "/storage_rpc/v1", body).await;
    assert_eq!(status, 413);
    assert_unchanged(&n, (0, 0)).await;
}

#[tokio::test]
async fn batch_and_sequence_run_each_subrequest_with_its_own_auth() {
    let n = one_node(1 << 30).await;
    let alice = n.member(10);
    let now = n.now();
    let good = store(&alice, 0, b"one", DAY_MS, now).to_json();
    let mut unsigned = store(&alice, 2, b"two", DAY_MS, now).to_json();
    unsigned["params"]
        .as_object_mut()
        .unwrap()
        .remove("signature");
    let after = store(&alice, 0, b"three", DAY_MS, now).to_json();

    let batch = json!({"method": "batch", "params": {"requests": [good, unsigned, after]}});
    let (status, body) = post(&n.router, "/storage_rpc/v1", batch.to_string()).await;
    assert_eq!(status, 200);
    let codes: Vec<u64> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_u64().unwrap())
        .collect();
    assert_eq!(codes, [200, 401, 200]);
    assert_eq!(n.node.storage.stats().0, 2);

    let mut unsigned2 = store(&alice, 2, b"four", DAY_MS, now).to_json();
    unsigned2["params"]
        .as_object_mut()
        .unwrap()
        .remove("signature");
    let never = store(&alice, 0, b"five", DAY_MS, now).to_json();
    let seq = json!({"method": "sequence", "params": {"requests": [unsigned2, never]}});
    let (status, body) = post(&n.router, "/storage_rpc/v1", seq.to_string()).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["results"].as_array().unwrap().len(),
        1,
        "sequence stops at the failure"
    );
    assert_eq!(n.node.storage.stats().0, 2);
}

#[tokio::test]
async fn a_full_node_refuses_with_507_and_keeps_what_it_has() {
    let n = one_node(1_000).await;
    let me = n.me();
    let alice = n.member(11);
    let now = n.now();
    let (status, _) = rpc(&n.router, &store(&alice, 0, &[1; 800], DAY_MS, now)).await;
    assert_eq!(status, 200);
    let (status, body) = rpc(&n.router, &store(&alice, 0, &[2; 800], DAY_MS, now)).await;
    assert_eq!(status, 507, "{body}");
    assert_eq!(body["swarm"][&me]["reason"], json!("storage full"));
    assert_unchanged(&n, (1, 800)).await;
    let (_, body) = rpc(&n.router, &retrieve(&alice, 0, "", now)).await;
    assert_eq!(body["messages"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn info_get_swarm_network_json_rpc_and_metrics() {
    let n = one_node(1 << 30).await;
    let body = n.ok(&Request::Info).await;
    assert_eq!(body["version"].as_array().unwrap().len(), 3);
    assert!(body["t"].as_u64().unwrap() > 1_700_000_000_000);

    let (status, body) = post(
        &n.router,
        "/json_rpc",
        json!({"jsonrpc": "2.0", "id": 1, "method": "get_n_service_nodes",
               "params": {"active_only": true, "fields": {"pubkey_ed25519": true, "swarm_id": true}}})
        .to_string(),
    )
    .await;
    assert_eq!(status, 200);
    let states = body["result"]["service_node_states"].as_array().unwrap();
    assert_eq!(states.len(), 2);
    assert_eq!(
        states[0].as_object().unwrap().len(),
        2,
        "only the requested fields"
    );
    assert_eq!(states[1]["swarm_id"], json!(1u64 << 63));

    let response = tower::ServiceExt::oneshot(
        n.router.clone(),
        axum::http::Request::get("/network")
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let operator = ed25519_dalek::SigningKey::from_bytes(&[7; 32])
        .verifying_key()
        .to_bytes();
    let signed = murmur_core::network::SignedManifest::from_json(&bytes, &operator)
        .expect("the served manifest verifies");
    assert_eq!(signed.manifest, n.manifest);

    // Not on the public listener: the operator opts in with a listen address of its own.
    let get_metrics = |router: axum::Router| {
        tower::ServiceExt::oneshot(
            router,
            axum::http::Request::get("/metrics")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
    };
    assert_eq!(get_metrics(n.router.clone()).await.unwrap().status(), 404);
    let response = get_metrics(murmur_node::http::metrics_router(n.node.clone()))
        .await
        .unwrap();
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(
        text.contains("murmur_requests_total{endpoint=\"storage_rpc\",status=\"200\"} 1"),
        "{text}"
    );
    assert!(text.contains("murmur_stored_messages 0"));
    assert!(text.contains("murmur_manifest_sequence 1"));
}

#[tokio::test]
async fn long_poll_header_is_gone() {
    let n = one_node(1 << 30).await;
    let response = tower::ServiceExt::oneshot(
        n.router.clone(),
        axum::http::Request::post("/storage_rpc/v1")
            .header("x-loki-long-poll", "true")
            .body(axum::body::Body::from(Request::Info.to_json().to_string()))
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 410);
}

#[tokio::test]
async fn peer_endpoints_refuse_unsigned_and_unknown_senders() {
    let n = one_node(1 << 30).await;
    let alice = n.member(12);
    let body = store(&alice, 0, b"forged", DAY_MS, n.clock.now_ms())
        .to_json()
        .to_string();
    let (status, _) = post(&n.router, murmur_node::replication::REPLICATE_PATH, body).await;
    assert_eq!(status, 401);
    assert_unchanged(&n, (0, 0)).await;
}

/// One request to `path` from TCP peer `ip`, with an optional `X-Forwarded-For`.
async fn status_from(
    router: &axum::Router,
    path: &str,
    ip: [u8; 4],
    forwarded_for: Option<&str>,
) -> u16 {
    let mut request = axum::http::Request::post(path);
    if let Some(f) = forwarded_for {
        request = request.header("x-forwarded-for", f);
    }
    let mut request = request
        .body(axum::body::Body::from(Request::Info.to_json().to_string()))
        .unwrap();
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            ip, 1234,
        ))));
    tower::ServiceExt::oneshot(router.clone(), request)
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn rate_limit_answers_429_per_client_ip() {
    let n = one_node_with(|c| {
        c.rate_limit.per_second = 1;
        c.rate_limit.burst = 3;
    })
    .await;
    for _ in 0..3 {
        assert_eq!(
            status_from(&n.router, "/storage_rpc/v1", [10, 0, 0, 1], None).await,
            200
        );
    }
    assert_eq!(
        status_from(&n.router, "/storage_rpc/v1", [10, 0, 0, 1], None).await,
        429
    );
    // Another client is not affected.
    assert_eq!(
        status_from(&n.router, "/storage_rpc/v1", [10, 0, 0, 2], None).await,
        200
    );
    // A forwarded address from someone who is not a trusted proxy changes nothing: the
    // limited client cannot buy a fresh bucket by naming another address.
    let spoofed = Some("192.0.2.55");
    assert_eq!(
        status_from(&n.router, "/storage_rpc/v1", [10, 0, 0, 1], spoofed).await,
        429
    );
}

#[tokio::test]
async fn rate_limit_behind_a_trusted_proxy_charges_the_forwarded_client() {
    // Fails on the code before attack 9: every client behind the proxy shared its bucket.
    let n = one_node_with(|c| {
        c.rate_limit.per_second = 1;
        c.rate_limit.burst = 2;
        c.rate_limit.peer_per_second = 1;
        c.rate_limit.peer_burst = 2;
        c.rate_limit.trusted_proxies = vec![[127, 0, 0, 1].into()];
    })
    .await;
    let proxy = [127, 0, 0, 1];
    let call =
        |client: &'static str| status_from(&n.router, "/storage_rpc/v1", proxy, Some(client));
    assert_eq!(call("198.51.100.1").await, 200);
    assert_eq!(call("198.51.100.1").await, 200);
    assert_eq!(call("198.51.100.1").await, 429);
    // A second user behind the same proxy still gets through.
    assert_eq!(call("198.51.100.2").await, 200);
    // Only the rightmost entry (what the proxy saw) counts, not what the client prepended.
    assert_eq!(call("203.0.113.9, 198.51.100.1").await, 429);

    // The peer routes draw from their own buckets: a client flood on the public routes does
    // not stop replication from the same address (401 here: unsigned, but not limited) ...
    let peer_ip = [10, 0, 0, 7];
    for _ in 0..2 {
        assert_eq!(
            status_from(&n.router, "/storage_rpc/v1", peer_ip, None).await,
            200
        );
    }
    assert_eq!(
        status_from(&n.router, "/storage_rpc/v1", peer_ip, None).await,
        429
    );
    let replicate = murmur_node::replication::REPLICATE_PATH;
    assert_eq!(status_from(&n.router, replicate, peer_ip, None).await, 401);
    assert_eq!(status_from(&n.router, replicate, peer_ip, None).await, 401);
    // ... and the peer routes are limited too, before any signature is checked.
    assert_eq!(status_from(&n.router, replicate, peer_ip, None).await, 429);

    // Onion requests from a manifest node's address (this network's nodes are all on
    // 127.0.0.1) carry many users: they draw from the relay bucket, not the client one the
    // proxy's own requests have spent above (400: the body is no onion, but it was not limited).
    let onion = murmur_core::onion::ONION_REQ_PATH;
    for _ in 0..10 {
        assert_eq!(status_from(&n.router, onion, proxy, None).await, 400);
    }
    // A client's onion requests are a client's.
    for _ in 0..2 {
        assert_eq!(
            status_from(&n.router, onion, [10, 0, 0, 8], None).await,
            400
        );
    }
    assert_eq!(
        status_from(&n.router, onion, [10, 0, 0, 8], None).await,
        429
    );
    assert_unchanged(&n, (0, 0)).await;
}
