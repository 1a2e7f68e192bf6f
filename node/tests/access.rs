//! Access control, RPC by RPC: nobody reads, deletes or expires an account's messages without
//! its key — not with another key's signature, not unsigned, not with the owner's signature
//! over other parameters or moved onto another account, not by replaying an old request. A
//! replayed store does not make a second copy.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use common::*;
use murmur_core::Identity;
use murmur_core::rpc::{
    Auth, DeleteAllParams, DeleteBeforeParams, ExpireAllParams, ExpireParams, GetExpiriesParams,
    Namespace, Request,
};
use serde_json::Value;

const DAY_MS: u64 = 24 * 3600 * 1000;

/// Every message of `id` in namespaces 0 and 2: hash → expiry.
fn holdings(n: &OneNode, id: &Identity) -> BTreeMap<String, u64> {
    let mut all = BTreeMap::new();
    for ns in [0, 2] {
        let (messages, _) = n
            .node
            .storage
            .retrieve(&account(id), Namespace(ns), "", 0, 10_000, usize::MAX)
            .unwrap();
        all.extend(messages.into_iter().map(|m| (m.hash, m.expiry)));
    }
    all
}

/// Every RPC that reads or changes `owner`'s messages, for `owner`'s account, unsigned.
fn requests(owner: &Identity, hashes: &[String], now: u64) -> Vec<(&'static str, Request)> {
    let acct = account(owner);
    let auth = Auth::default;
    // Reading the public inbox (namespace 0) needs no signature, in Session too: what waits
    // there is end-to-end encrypted to the owner. Every other namespace does.
    let mut retrieve_private = retrieve(owner, 2, "", now);
    if let Request::Retrieve(p) = &mut retrieve_private {
        p.auth = auth();
    }
    let mut delete_one = delete(owner, hashes);
    if let Request::Delete(p) = &mut delete_one {
        p.auth = auth();
    }
    vec![
        ("retrieve ns 2", retrieve_private),
        ("delete", delete_one),
        (
            "delete_all",
            Request::DeleteAll(DeleteAllParams::new(&acct, Namespace(0), now)),
        ),
        (
            "delete_before",
            Request::DeleteBefore(DeleteBeforeParams::new(&acct, Namespace(0), now + 1)),
        ),
        (
            "expire (shorten)",
            Request::Expire(ExpireParams::new(&acct, hashes.to_vec(), now + 60_000).shorten_only()),
        ),
        (
            "expire_all",
            Request::ExpireAll(ExpireAllParams::new(&acct, Namespace(0), now + 60_000)),
        ),
        (
            "get_expiries",
            Request::GetExpiries(GetExpiriesParams::new(&acct, hashes.to_vec(), now)),
        ),
    ]
}

/// Changes one parameter the signature covers.
fn alter(mut json: Value) -> Value {
    let p = &mut json["params"];
    for field in ["timestamp", "before", "expiry"] {
        if let Some(v) = p.get(field).and_then(Value::as_u64) {
            p[field] = Value::from(v + 1);
            return json;
        }
    }
    let list = p["messages"].as_array_mut().unwrap();
    list.pop();
    json
}

async fn send(n: &OneNode, json: &Value) -> (u16, Value) {
    post(&n.router, "/storage_rpc/v1", json.to_string()).await
}

#[tokio::test]
async fn only_the_owners_key_reads_deletes_or_expires() {
    let n = one_node(1 << 30).await;
    let alice = n.member(31);
    let mallory = n.member(32);
    let now = n.now();
    for (ns, data) in [(0, &b"one"[..]), (0, b"two"), (2, b"three")] {
        n.ok(&store(&alice, ns, data, DAY_MS, now)).await;
    }
    n.ok(&store(&mallory, 0, b"mallory's", DAY_MS, now)).await;
    let hashes = vec![hash_of(&alice, 0, b"one"), hash_of(&alice, 0, b"two")];
    let alice_has = holdings(&n, &alice);
    let mallory_has = holdings(&n, &mallory);
    assert_eq!(alice_has.len(), 3);

    for (what, request) in requests(&alice, &hashes, now) {
        let signed_by_alice = request.clone().signed_by(&alice).to_json();
        let mut attempts = vec![
            (
                "signed by another key",
                request.clone().signed_by(&mallory).to_json(),
            ),
            (
                "signed, then a parameter changed",
                alter(signed_by_alice.clone()),
            ),
            ("unsigned", request.to_json()),
        ];
        // Alice's signature moved onto Mallory's account.
        let mut moved = signed_by_alice.clone();
        moved["params"]["pubkey"] = Value::from(account(&mallory).to_hex());
        attempts.push(("Alice's signature on Mallory's account", moved));

        for (how, json) in attempts {
            let (status, body) = send(&n, &json).await;
            assert_eq!(status, 401, "{what}, {how}: {body}");
            assert!(
                body.get("messages").is_none() && body.get("expiries").is_none(),
                "{what}, {how}: leaked {body}"
            );
            assert_eq!(
                holdings(&n, &alice),
                alice_has,
                "{what}, {how}: Alice's messages changed"
            );
            assert_eq!(
                holdings(&n, &mallory),
                mallory_has,
                "{what}, {how}: Mallory's changed"
            );
        }
    }
}

#[tokio::test]
async fn replayed_requests_are_refused_or_change_nothing() {
    let n = one_node(1 << 30).await;
    let me = n.me();
    let alice = n.member(41);
    let now = n.now();
    let stored = store(&alice, 2, b"private note", DAY_MS, now);
    n.ok(&stored).await;
    n.ok(&store(&alice, 0, b"inbox", DAY_MS, now)).await;
    let hashes = vec![hash_of(&alice, 0, b"inbox")];
    let signed: Vec<(&str, Value)> = requests(&alice, &hashes, now)
        .into_iter()
        .filter(|(what, _)| ["retrieve ns 2", "delete_all", "get_expiries"].contains(what))
        .map(|(what, r)| (what, r.signed_by(&alice).to_json()))
        .collect();

    // A store sent again (a retry, or a replay by a relay) is the same message: no copy.
    let body = n.ok(&stored).await;
    assert_eq!(body["swarm"][&me]["already"], true, "{body}");
    assert_eq!(holdings(&n, &alice).len(), 2);

    // Requests whose signature covers a timestamp are refused once it is stale: replaying
    // them two minutes later reads nothing and deletes nothing.
    n.clock.advance(2 * 60 * 1000);
    let before = holdings(&n, &alice);
    for (what, json) in signed {
        let (status, body) = send(&n, &json).await;
        assert_eq!(status, 406, "{what} replayed: {body}");
        assert!(body.get("messages").is_none() && body.get("expiries").is_none());
        assert_eq!(
            holdings(&n, &alice),
            before,
            "{what} replayed changed something"
        );
    }
}

/// What the node_http fuzz target's replay rule rests on: a message's hash covers its account,
/// namespace and data only, so a second store of the same data adds nothing; and a store
/// replayed after the owner deleted the message (its signature, where one is needed, covers
/// no more — as in Session) brings nothing back: the node remembers the delete.
#[tokio::test]
async fn a_store_replayed_after_a_delete_brings_nothing_back() {
    let n = one_node(1 << 30).await;
    let alice = n.member(42);
    let now = n.now();
    n.ok(&store(&alice, 0, b"same words", DAY_MS, now)).await;
    n.ok(&store(&alice, 0, b"other words", DAY_MS, now)).await;
    let again = store(&alice, 0, b"same words", 2 * DAY_MS, now + 1);
    let body = n.ok(&again).await;
    assert_eq!(body["swarm"][&n.me()]["already"], true, "{body}");
    assert_eq!(
        holdings(&n, &alice).len(),
        2,
        "the second store added nothing"
    );

    let same = hash_of(&alice, 0, b"same words");
    let other = hash_of(&alice, 0, b"other words");
    n.ok(&delete(&alice, &[same.clone(), other])).await;
    assert!(holdings(&n, &alice).is_empty());

    let body = n.ok(&again).await;
    assert_eq!(body["hash"], same.as_str(), "{body}");
    assert_eq!(body["swarm"][&n.me()]["already"], true, "{body}");
    assert!(
        holdings(&n, &alice).is_empty(),
        "the replay brought a deleted message back"
    );
    // A new message of hers is stored as ever.
    n.ok(&store(&alice, 0, b"new words", DAY_MS, now + 2)).await;
    assert_eq!(holdings(&n, &alice).len(), 1);
}
