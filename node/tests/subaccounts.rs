//! Group accounts (`03…`) and their members' subaccount tokens (SESSION-GROUPS.md §8): a member
//! stores and reads the group's namespaces with the token an admin issued, only as far as its
//! flags allow; a forged or foreign token is refused; the group's owner revokes a token (then
//! every request with it is refused, except reads of the unrevocable −11) and restores it; only
//! the group's own key may revoke. Nothing is stored by a refused request.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use murmur_core::Identity;
use murmur_core::groups::GroupKeys;
use murmur_core::groups::auth::{Subaccount, make_auth, token_for};
use murmur_core::rpc::{
    AccountId, DeleteParams, ExpireParams, Namespace, Request, RetrieveParams, RevokeParams,
    StoreParams,
};
use serde_json::json;

const DAY_MS: u64 = 24 * 3600 * 1000;

/// A group whose swarm is this node's.
fn group_here(n: &OneNode) -> GroupKeys {
    let swarm = n
        .manifest
        .nodes
        .iter()
        .find(|m| m.ed25519 == n.me())
        .unwrap()
        .swarm();
    (0u8..=255)
        .map(|i| GroupKeys::from_seed(&[i; 32]))
        .find(|g| n.manifest.swarm_for_key(g.public().as_bytes()) == Some(swarm))
        .expect("some group seed maps here")
}

fn group_account(g: &GroupKeys) -> AccountId {
    AccountId(g.group_id())
}

fn member_of(g: &GroupKeys, member: &Identity, write: bool, delete: bool) -> Subaccount {
    let auth = make_auth(g, &member.session_id(), write, delete).unwrap();
    Subaccount::open(member, &g.public(), &auth.0).unwrap()
}

fn store_as(sub: &Subaccount, g: &GroupKeys, ns: i16, data: &[u8], now: u64) -> Request {
    let p = StoreParams::new(&group_account(g), Namespace(ns), data, now, 14 * DAY_MS);
    Request::Store(p).signed_by_subaccount(sub)
}

fn retrieve_as(sub: &Subaccount, g: &GroupKeys, ns: i16, now: u64) -> Request {
    let p = RetrieveParams::new(&group_account(g), Namespace(ns), String::new(), now);
    Request::Retrieve(p).signed_by_subaccount(sub)
}

fn revoke(g: &GroupKeys, tokens: &[[u8; 36]], unrevoke: bool, now: u64) -> Request {
    Request::Revoke {
        params: RevokeParams::new(&group_account(g), tokens, now),
        unrevoke,
    }
    .signed_by_group(g)
}

#[tokio::test]
async fn members_use_their_tokens_within_their_flags_and_forgeries_are_refused() {
    let n = one_node(1 << 30).await;
    let g = group_here(&n);
    let now = n.now();
    let alice = member_of(&g, &n.member(1), true, false);
    let reader = member_of(&g, &n.member(2), false, false);

    n.ok(&store_as(&alice, &g, 11, b"hello group", now)).await;
    let body = n.ok(&retrieve_as(&reader, &g, 11, now)).await;
    assert_eq!(body["messages"].as_array().unwrap().len(), 1);
    let stored = n.node.storage.stats();

    // A read-only token cannot write; a write token cannot delete.
    let (status, _) = rpc(&n.router, &store_as(&reader, &g, 11, b"no", now)).await;
    assert_eq!(status, 401);
    let hash = murmur_core::rpc::message_hash(&group_account(&g), Namespace(11), b"hello group");
    let del = Request::Delete(DeleteParams::new(&group_account(&g), vec![hash.clone()]))
        .signed_by_subaccount(&alice);
    assert_eq!(rpc(&n.router, &del).await.0, 401);
    // Without delete, an expire only ever extends, and a shortening one is refused.
    let expiry_of = |n: &OneNode| {
        n.node
            .storage
            .retrieve(&group_account(&g), Namespace(11), "", 0, 10, usize::MAX)
            .unwrap()
            .0[0]
            .expiry
    };
    let before = expiry_of(&n);
    let expire = |expiry, shorten| {
        let mut p = ExpireParams::new(&group_account(&g), vec![hash.clone()], expiry);
        p.shorten = shorten;
        Request::Expire(p).signed_by_subaccount(&alice)
    };
    n.ok(&expire(now + DAY_MS, false)).await;
    assert_eq!(
        expiry_of(&n),
        before,
        "a shorter expiry is not taken without delete"
    );
    n.ok(&expire(now + 20 * DAY_MS, false)).await;
    assert_eq!(expiry_of(&n), now + 20 * DAY_MS, "a longer one is");
    assert_eq!(rpc(&n.router, &expire(now + DAY_MS, true)).await.0, 401);

    // A token signed by another group, or shown for another group, opens nothing.
    let other = GroupKeys::from_seed(&[0xee; 32]);
    let stranger = member_of(&other, &n.member(3), true, true);
    assert_eq!(
        rpc(&n.router, &store_as(&stranger, &g, 11, b"x", now))
            .await
            .0,
        401
    );
    assert_eq!(
        rpc(&n.router, &retrieve_as(&stranger, &g, 11, now)).await.0,
        401
    );
    // A token whose signature was swapped for another's.
    let mut forged = store_as(&alice, &g, 11, b"forged", now);
    if let Request::Store(p) = &mut forged {
        p.auth.subaccount_sig = stranger_sig(&stranger);
    }
    assert_eq!(rpc(&n.router, &forged).await.0, 401);
    // Subaccounts are for group accounts only.
    let person = n.member(4);
    let p = StoreParams::new(&account(&person), Namespace(2), b"x", now, DAY_MS);
    assert_eq!(
        rpc(&n.router, &Request::Store(p).signed_by_subaccount(&alice))
            .await
            .0,
        401
    );
    assert_eq!(
        n.node.storage.stats(),
        stored,
        "nothing stored by a refused request"
    );
}

fn stranger_sig(s: &Subaccount) -> Option<String> {
    Some(murmur_core::crypto::b64_encode(&s.token_signature))
}

#[tokio::test]
async fn a_revoked_token_is_refused_except_for_unrevocable_reads_until_restored() {
    let n = one_node(1 << 30).await;
    let g = group_here(&n);
    let now = n.now();
    let member = n.member(5);
    let sub = member_of(&g, &member, true, false);
    let token = token_for(&g, &member.session_id(), true, false).unwrap();
    assert_eq!(token, sub.token);
    n.ok(&store_as(&sub, &g, 11, b"before", now)).await;
    // The admin stores a kick notice in −11 (the group's own key).
    let p = StoreParams::new(
        &group_account(&g),
        Namespace(-11),
        b"you were removed",
        now,
        DAY_MS,
    );
    n.ok(&Request::Store(p).signed_by_group(&g)).await;

    // Only the group's own key revokes: not a member's token, not an ordinary account.
    let by_member = Request::Revoke {
        params: RevokeParams::new(&group_account(&g), &[token], now),
        unrevoke: false,
    }
    .signed_by_subaccount(&sub);
    // Signed by the member's key, not the group's: unauthorised.
    assert_eq!(rpc(&n.router, &by_member).await.0, 401);
    // With the token shown too: the method takes no subaccount parameters at all.
    let mut raw = by_member.to_json();
    raw["params"]["subaccount"] = json!(murmur_core::crypto::b64_encode(&sub.token));
    raw["params"]["subaccount_sig"] = json!(murmur_core::crypto::b64_encode(&sub.token_signature));
    assert_eq!(
        post(&n.router, "/storage_rpc/v1", raw.to_string()).await.0,
        400
    );
    let not_a_group = Request::Revoke {
        params: RevokeParams::new(&account(&member), &[token], now),
        unrevoke: false,
    }
    .signed_by(&member);
    assert_eq!(rpc(&n.router, &not_a_group).await.0, 400);
    assert!(
        !n.node
            .storage
            .is_revoked(&group_account(&g), &token)
            .unwrap()
    );

    let request = revoke(&g, &[token], false, now);
    let wire = serde_json::to_vec(&request.to_json()).unwrap();
    assert_eq!(
        Request::from_json(&wire).unwrap(),
        request,
        "the request round-trips"
    );
    let body = n.ok(&request).await;
    // The node signs what it did: the group, the time and the tokens.
    let sig =
        murmur_core::crypto::b64_decode(body["swarm"][&n.me()]["signature"].as_str().unwrap())
            .unwrap();
    let signed =
        murmur_core::rpc::response::node_sig::revoke(&group_account(&g).to_hex(), now, &[token]);
    ed25519_dalek::VerifyingKey::from_bytes(&n.node.identity.ed25519())
        .unwrap()
        .verify_strict(
            &signed,
            &ed25519_dalek::Signature::from_slice(&sig).unwrap(),
        )
        .expect("the node's signature verifies");
    assert_eq!(
        rpc(&n.router, &store_as(&sub, &g, 11, b"after", now))
            .await
            .0,
        401
    );
    assert_eq!(rpc(&n.router, &retrieve_as(&sub, &g, 11, now)).await.0, 401);
    let body = n.ok(&retrieve_as(&sub, &g, -11, now)).await;
    assert_eq!(
        body["messages"].as_array().unwrap().len(),
        1,
        "the kick notice is readable"
    );

    // The owner's time orders its changes: an unrevocation signed at the same time as the
    // revocation loses to it, a later one lets the member back in.
    n.ok(&revoke(&g, &[token], true, now)).await;
    assert_eq!(
        rpc(&n.router, &store_as(&sub, &g, 11, b"not yet", now))
            .await
            .0,
        401
    );
    n.ok(&revoke(&g, &[token], true, now + 1)).await;
    n.ok(&store_as(&sub, &g, 11, b"restored", now)).await;

    // A malformed revocation changes nothing.
    assert_eq!(
        rpc(&n.router, &revoke(&g, &[], false, now)).await.0,
        400,
        "no tokens"
    );
    let (status, _) = post(
        &n.router,
        "/storage_rpc/v1",
        json!({"method": "revoke_subaccount", "params": {
            "pubkey": group_account(&g).to_hex(), "revoke": "not a token",
            "timestamp": now, "signature": "AAAA"}})
        .to_string(),
    )
    .await;
    assert_eq!(status, 400, "a token that is not 36 bytes");
    assert!(
        !n.node
            .storage
            .is_revoked(&group_account(&g), &token)
            .unwrap()
    );
}

#[tokio::test]
async fn the_revocation_list_keeps_the_newest_fifty() {
    let n = one_node(1 << 30).await;
    let g = group_here(&n);
    let acct = group_account(&g);
    let tokens: Vec<[u8; 36]> = (0..60u8).map(|i| [i; 36]).collect();
    for (i, t) in tokens.iter().enumerate() {
        n.node.storage.revoke(&acct, &[*t], i as u64).unwrap();
    }
    assert!(!n.node.storage.is_revoked(&acct, &tokens[9]).unwrap());
    assert!(n.node.storage.is_revoked(&acct, &tokens[10]).unwrap());
    assert!(n.node.storage.is_revoked(&acct, &tokens[59]).unwrap());
}
