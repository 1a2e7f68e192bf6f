//! The storage-RPC contract, end to end: every reply type the node writes (through its real
//! router and SQLite) reads back as the `murmur_core::rpc::response` type the client parses,
//! and re-serialises to the same JSON, so no field is lost or invented on either side.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use murmur_core::rpc::response::{
    BatchResponse, DeleteNodeResult, ExpireAllNodeResult, ExpireNodeResult, GetExpiriesResponse,
    GetSwarmResponse, InfoResponse, NodeEntry, Reply, RetrieveResponse, StoreResponse,
    WriteResponse,
};
use murmur_core::rpc::{
    DeleteAllParams, ExpireAllParams, ExpireParams, GetExpiriesParams, GetSwarmParams, Namespace,
    Request,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

const DAY_MS: u64 = 24 * 3600 * 1000;

/// Parses `body` as `T` and checks it writes back to the same JSON.
fn round_trip<T: DeserializeOwned + Serialize>(what: &str, body: &Value) -> T {
    let typed: T = serde_json::from_value(body.clone())
        .unwrap_or_else(|e| panic!("{what}: the client cannot read {body}: {e}"));
    assert_eq!(
        &serde_json::to_value(&typed).unwrap(),
        body,
        "{what}: a field was lost or added"
    );
    typed
}

#[tokio::test]
async fn every_reply_the_node_writes_reads_back_as_its_core_type() {
    let n = one_node(1 << 30).await;
    let me = n.me();
    let alice = n.member(1);
    let elsewhere = n.outsider(2);
    let now = n.now();
    let acct = account(&alice);

    let body = n.ok(&store(&alice, 0, b"hello", 14 * DAY_MS, now)).await;
    let stored: StoreResponse = round_trip("store", &body);
    let hash = hash_of(&alice, 0, b"hello");
    assert_eq!(stored.hash.as_deref(), Some(hash.as_str()));
    let key = n.node.identity.ed25519();
    assert_eq!(
        stored.verified_acks(&hash, &[key]),
        1,
        "the node's own ack verifies"
    );
    assert_eq!(stored.verified_acks("another", &[key]), 0);

    let (_, body) = rpc(&n.router, &retrieve(&alice, 0, "", now)).await;
    let page: RetrieveResponse = round_trip("retrieve", &body);
    assert_eq!(page.messages[0].hash, hash);

    let signed = |r: Request| r.signed_by(&alice);
    let (_, body) = rpc(
        &n.router,
        &signed(Request::GetExpiries(GetExpiriesParams::new(
            &acct,
            vec![hash.clone()],
            now,
        ))),
    )
    .await;
    let expiries: GetExpiriesResponse = round_trip("get_expiries", &body);
    assert_eq!(expiries.expiries[&hash], now + 14 * DAY_MS);

    for shorten in [false, true] {
        let body = n
            .ok(&signed(Request::Expire(ExpireParams {
                shorten,
                ..ExpireParams::new(&acct, vec![hash.clone()], now + DAY_MS)
            })))
            .await;
        let reply: WriteResponse<ExpireNodeResult> = round_trip("expire", &body);
        assert!(reply.swarm[&me].ok().is_some());
    }
    let (_, body) = rpc(
        &n.router,
        &signed(Request::ExpireAll(ExpireAllParams::new(
            &acct,
            Namespace(0),
            now + DAY_MS / 2,
        ))),
    )
    .await;
    let _: WriteResponse<ExpireAllNodeResult> = round_trip("expire_all", &body);

    let (_, body) = rpc(&n.router, &delete(&alice, std::slice::from_ref(&hash))).await;
    let deleted: WriteResponse<DeleteNodeResult> = round_trip("delete", &body);
    assert_eq!(
        deleted.swarm[&me].ok().unwrap().deleted,
        std::slice::from_ref(&hash)
    );
    let (_, body) = rpc(
        &n.router,
        &signed(Request::DeleteAll(DeleteAllParams::new(
            &acct,
            Namespace(0),
            now,
        ))),
    )
    .await;
    let _: WriteResponse<DeleteNodeResult> = round_trip("delete_all", &body);

    let get_swarm = Request::GetSwarm(GetSwarmParams::new(&acct));
    let (_, body) = rpc(&n.router, &get_swarm).await;
    let swarm: GetSwarmResponse = round_trip("get_swarm", &body);
    assert_eq!(swarm.snodes[0].pubkey_ed25519, me);
    let (_, body) = rpc(&n.router, &Request::Info).await;
    let info: InfoResponse = round_trip("info", &body);
    assert_eq!(info.t, info.timestamp);

    // A 421 carries the swarm that holds the account.
    let (status, body) = rpc(&n.router, &store(&elsewhere, 0, b"x", DAY_MS, now)).await;
    assert_eq!(status, 421);
    let moved: GetSwarmResponse = round_trip("421", &body);
    assert_ne!(moved.snodes[0].pubkey_ed25519, me);

    // A batch nests each reply, refusals as their text.
    let batch = Request::Batch(vec![Request::Info, store(&elsewhere, 0, b"y", DAY_MS, now)]);
    let body = n.ok(&batch).await;
    let results: BatchResponse = round_trip("batch", &body);
    assert!(results.results[0].parse::<InfoResponse>().is_some());
    assert_eq!(results.results[1].code, 421);
    assert!(
        results.results[1].parse::<GetSwarmResponse>().is_none(),
        "not a success"
    );

    // A refusal is plain text, and reads back as one.
    let (status, body) = rpc(&n.router, &store(&alice, 0, b"z", 1, now)).await;
    assert_eq!(status, 403);
    let Value::String(text) = body else {
        panic!("a refusal is text")
    };
    let reply = Reply::from_wire(status, &text);
    assert_eq!(reply, Reply::text(403, "Provided expiry/TTL is not valid."));
    assert!(reply.parse::<StoreResponse>().is_none());
}

#[test]
fn a_member_entry_of_the_wrong_shape_spoils_only_itself() {
    let body = serde_json::json!({
        "hash": "h",
        "swarm": {
            "aa": {"hash": "h", "signature": "s", "expiry": 1},
            "bb": {"failed": true, "timeout": true},
            "cc": "garbage",
        },
        "t": 5,
        "hf": [19, 3],
    });
    let reply: StoreResponse = round_trip("store", &body);
    assert!(matches!(reply.swarm["aa"], NodeEntry::Ok(_)));
    assert!(matches!(reply.swarm["bb"], NodeEntry::Failed(_)));
    assert!(matches!(reply.swarm["cc"], NodeEntry::Unreadable(_)));
}
