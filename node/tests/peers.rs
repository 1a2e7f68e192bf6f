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

/// A scripted swarm peer for catch-up: it answers `/murmur/v1/messages` as `answer` says
/// and records every page request it was sent.
struct ScriptedPeer {
    node: murmur_core::network::ManifestNode,
    asked: std::sync::Arc<std::sync::Mutex<Vec<murmur_node::replication::PageRequest>>>,
}

async fn scripted_peer(
    seed: u8,
    answer: impl Fn(&murmur_node::replication::PageRequest) -> (u16, String) + Send + Sync + 'static,
) -> ScriptedPeer {
    use axum::routing::post;
    use murmur_node::replication::PageRequest;
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<PageRequest>::new()));
    let answer = std::sync::Arc::new(answer);
    let seen = asked.clone();
    let app = axum::Router::new().route(
        MESSAGES_PATH,
        post(move |body: axum::body::Bytes| {
            let (seen, answer) = (seen.clone(), answer.clone());
            async move {
                let request: PageRequest = serde_json::from_slice(&body).unwrap();
                let (status, reply) = answer(&request);
                seen.lock().unwrap().push(request);
                (axum::http::StatusCode::from_u16(status).unwrap(), reply)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let mut node = common::phantom_node(0, seed);
    node.url = format!("http://{addr}");
    ScriptedPeer { node, asked }
}

/// A message for `id`'s account as a peer sends it, and as this node stores it.
fn wire(
    id: &murmur_core::Identity,
    data: &[u8],
    expiry: u64,
) -> (
    murmur_node::replication::WireMessage,
    murmur_node::storage::StoredMessage,
) {
    let account = common::account(id);
    let hash = common::hash_of(id, 0, data);
    let now = murmur_testkit::now_ms();
    (
        murmur_node::replication::WireMessage {
            account: account.to_hex(),
            namespace: 0,
            hash: hash.clone(),
            timestamp: now,
            expiry,
            data: murmur_core::crypto::b64_encode(data),
        },
        murmur_node::storage::StoredMessage {
            id: 0,
            account,
            namespace: murmur_core::rpc::Namespace(0),
            hash,
            timestamp: now,
            expiry,
            data: data.to_vec(),
        },
    )
}

/// Waits for the node's own first round (at start) to have asked `peer` once, which the peer
/// refuses until the test is `ready` (so that round ends there), and forgets that request:
/// the test's rounds are then the only ones.
async fn first_background_round(peer: &ScriptedPeer) {
    for _ in 0..1000 {
        if !peer.asked.lock().unwrap().is_empty() {
            peer.asked.lock().unwrap().clear();
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the node never read its peer");
}

/// One catch-up round of `node` now (the background rounds are an hour apart in these tests).
async fn catch_up_now(node: &murmur_node::state::SharedNode) -> bool {
    let topology = node.network.current();
    murmur_node::replication::catch_up(murmur_node::replication::Round {
        caller: node.caller(),
        storage: &node.storage,
        topology: &topology,
        metrics: &node.metrics,
    })
    .await
}

/// Catch-up reads a peer's digests first and asks for whole messages only for those missing
/// here (or held with an earlier expiry): a round where every forward arrived moves no data.
#[tokio::test]
async fn catch_up_reads_digests_and_fetches_only_what_is_missing() {
    use murmur_node::replication::{PageReply, WireDigest};
    let expiry = murmur_testkit::now_ms() + murmur_testkit::DAY_MS;
    let alice = common::rng(11);
    let alice = murmur_core::Identity::generate(&mut { alice });
    let (held_wire, held) = wire(&alice, b"already here", expiry);
    let (missing_wire, _) = wire(&alice, b"missed a forward", expiry);
    let (longer_wire, longer) = wire(&alice, b"extended since", expiry);
    let mut longer_wire = longer_wire;
    longer_wire.expiry = expiry + 1_000;
    let digests: Vec<WireDigest> = [(7, &held_wire), (8, &missing_wire), (9, &longer_wire)]
        .into_iter()
        .map(|(id, m)| WireDigest {
            id,
            account: m.account.clone(),
            namespace: 0,
            hash: m.hash.clone(),
            expiry: m.expiry,
        })
        .collect();
    let ready = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let by_id = [(8, missing_wire.clone()), (9, longer_wire.clone())];
    let gate = ready.clone();
    let peer = scripted_peer(21, move |request| {
        if !gate.load(std::sync::atomic::Ordering::Relaxed) {
            return (503, "not yet".into());
        }
        let reply = if request.digests {
            PageReply {
                messages: Vec::new(),
                digests: digests.clone(),
                next: 9,
                done: true,
            }
        } else {
            let messages = by_id
                .iter()
                .filter(|(id, _)| request.ids.contains(id))
                .map(|(_, m)| m.clone())
                .collect();
            PageReply {
                messages,
                digests: Vec::new(),
                next: request.after,
                done: true,
            }
        };
        (200, serde_json::to_string(&reply).unwrap())
    })
    .await;
    let served = common::serve(vec![peer.node.clone()], |c| {
        c.replication.sync_interval_ms = 3_600_000;
    })
    .await;
    let node = &served.node.node;
    node.storage.store(&held, false).unwrap();
    node.storage.store(&longer, false).unwrap();
    first_background_round(&peer).await;
    ready.store(true, std::sync::atomic::Ordering::Relaxed);

    assert!(
        catch_up_now(node).await,
        "the round reads the peer to its end"
    );
    let asked = peer.asked.lock().unwrap().drain(..).collect::<Vec<_>>();
    assert_eq!(
        asked.len(),
        2,
        "a digest page, then one request for messages"
    );
    assert!(asked[0].digests && asked[0].ids.is_empty());
    assert_eq!(
        asked[1].ids,
        [8, 9],
        "the missing one and the one extended since"
    );
    assert_eq!(node.storage.stats().0, 3);
    let alice_account = common::account(&alice);
    let expiries = node
        .storage
        .get_expiries(
            &alice_account,
            &[missing_wire.hash.clone(), longer_wire.hash.clone()],
            murmur_testkit::now_ms(),
        )
        .unwrap();
    assert_eq!(expiries[&missing_wire.hash], expiry);
    assert_eq!(expiries[&longer_wire.hash], expiry + 1_000);
    assert_eq!(node.storage.peer_cursor(&peer.node.ed25519).unwrap(), 9);

    // The next round: nothing new, so one digest page and no data.
    assert!(catch_up_now(node).await);
    let asked = peer.asked.lock().unwrap().drain(..).collect::<Vec<_>>();
    assert_eq!(asked.len(), 1);
    assert!(asked[0].digests);
    assert_eq!(asked[0].after, 9, "from the cursor");
    served.node.stop().await;
}

/// A peer of an older build knows no digest pages (it answers 400): catch-up reads its
/// pages whole instead, as before.
#[tokio::test]
async fn a_peer_without_digest_pages_is_read_whole() {
    use murmur_node::replication::PageReply;
    let expiry = murmur_testkit::now_ms() + murmur_testkit::DAY_MS;
    let bob = murmur_core::Identity::generate(&mut common::rng(12));
    let (message, _) = wire(&bob, b"from an older peer", expiry);
    let ready = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let gate = ready.clone();
    let peer = scripted_peer(22, move |request| {
        if !gate.load(std::sync::atomic::Ordering::Relaxed) {
            return (503, "not yet".into());
        }
        if request.digests || !request.ids.is_empty() {
            // What a node of the previous build says to a request with fields it lacks.
            return (400, "invalid page request".into());
        }
        let reply = PageReply {
            messages: vec![message.clone()],
            digests: Vec::new(),
            next: 1,
            done: true,
        };
        (200, serde_json::to_string(&reply).unwrap())
    })
    .await;
    let served = common::serve(vec![peer.node.clone()], |c| {
        c.replication.sync_interval_ms = 3_600_000;
    })
    .await;
    let node = &served.node.node;
    first_background_round(&peer).await;
    ready.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(catch_up_now(node).await);
    let asked = peer.asked.lock().unwrap().drain(..).collect::<Vec<_>>();
    assert!(asked[0].digests, "digests first");
    assert!(
        !asked[1].digests && asked[1].ids.is_empty(),
        "then the page whole"
    );
    assert_eq!(node.storage.stats().0, 1);
    served.node.stop().await;
}

/// A scripted swarm peer whose message pages are empty and whose log of subaccount changes
/// (`/murmur/v1/subaccounts`) is whatever page the test sets; it refuses (503) until `ready`.
struct ChangesPeer {
    node: murmur_core::network::ManifestNode,
    page: std::sync::Arc<std::sync::Mutex<murmur_node::replication::ChangesReply>>,
    asked: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    ready: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

async fn changes_peer(seed: u8) -> ChangesPeer {
    use axum::routing::post;
    use murmur_node::replication::{ChangesReply, PageReply, SUBACCOUNTS_PATH};
    use std::sync::atomic::Ordering::Relaxed;
    let page = std::sync::Arc::new(std::sync::Mutex::new(ChangesReply {
        changes: Vec::new(),
        next: 0,
        done: true,
    }));
    let asked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let ready = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (serving, seen, gate) = (page.clone(), asked.clone(), ready.clone());
    let gate2 = ready.clone();
    let app = axum::Router::new()
        .route(
            MESSAGES_PATH,
            post(move || {
                let (seen, gate) = (seen.clone(), gate.clone());
                async move {
                    seen.fetch_add(1, Relaxed);
                    if !gate.load(Relaxed) {
                        return (axum::http::StatusCode::SERVICE_UNAVAILABLE, String::new());
                    }
                    let empty = PageReply {
                        messages: Vec::new(),
                        digests: Vec::new(),
                        next: 0,
                        done: true,
                    };
                    (
                        axum::http::StatusCode::OK,
                        serde_json::to_string(&empty).unwrap(),
                    )
                }
            }),
        )
        .route(
            SUBACCOUNTS_PATH,
            post(move || {
                let (serving, gate) = (serving.clone(), gate2.clone());
                async move {
                    if !gate.load(Relaxed) {
                        return (axum::http::StatusCode::SERVICE_UNAVAILABLE, String::new());
                    }
                    let page = serving.lock().unwrap().clone();
                    (
                        axum::http::StatusCode::OK,
                        serde_json::to_string(&page).unwrap(),
                    )
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let mut node = common::phantom_node(0, seed);
    node.url = format!("http://{addr}");
    ChangesPeer {
        node,
        page,
        asked,
        ready,
    }
}

/// Revocations reach a member that missed their forward: at catch-up it reads the group
/// owner's signed requests from a peer's log, checks each against the group's key, and orders
/// them by the owner's time. A lying peer cannot forge a change, slip a store in, date one in
/// the future, or undo a revocation by replaying an older unrevocation: such a page is refused
/// whole, changes nothing, and the node reads on once the peer behaves.
#[tokio::test]
async fn revocations_missed_while_away_are_read_from_a_peer_and_checked() {
    use murmur_core::groups::GroupKeys;
    use murmur_core::groups::auth::token_for;
    use murmur_core::rpc::{AccountId, Request, RevokeParams};
    use murmur_node::replication::ChangesReply;
    use std::sync::atomic::Ordering::Relaxed;
    const HOUR_MS: u64 = 3_600_000;

    let peer = changes_peer(23).await;
    let served = common::serve(vec![peer.node.clone()], |c| {
        c.replication.sync_interval_ms = 3_600_000;
    })
    .await;
    let node = &served.node.node;
    while peer.asked.load(Relaxed) == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    peer.ready.store(true, Relaxed);

    let g = GroupKeys::from_seed(&[0x42; 32]);
    let group = AccountId(g.group_id());
    let ids: Vec<murmur_core::Identity> = (0..3)
        .map(|i| murmur_core::Identity::generate(&mut common::rng(40 + i)))
        .collect();
    let tokens: Vec<[u8; 36]> = ids
        .iter()
        .map(|id| token_for(&g, &id.session_id(), true, false).unwrap())
        .collect();
    let change = |keys: &GroupKeys, token: [u8; 36], unrevoke: bool, at: u64| {
        Request::Revoke {
            params: RevokeParams::new(&group, &[token], at),
            unrevoke,
        }
        .signed_by_group(keys)
        .to_json()
    };
    let now = murmur_testkit::now_ms();
    let revoked = |t: &[u8; 36]| node.storage.is_revoked(&group, t).unwrap();
    let set_page = |changes: Vec<serde_json::Value>, next: i64| {
        *peer.page.lock().unwrap() = ChangesReply {
            changes,
            next,
            done: true,
        };
    };
    let cursor = || {
        node.storage
            .peer_subaccount_cursor(&peer.node.ed25519)
            .unwrap()
    };

    // Made an hour ago, far outside a request's signature window: still taken.
    set_page(vec![change(&g, tokens[0], false, now - HOUR_MS)], 1);
    assert!(catch_up_now(node).await);
    assert!(revoked(&tokens[0]), "the missed revocation is taken");
    assert_eq!(cursor(), 1);

    // Lies, each refused whole with nothing changed and the cursor where it was.
    let impostor = GroupKeys::from_seed(&[0x43; 32]);
    let store = common::store(&ids[2], 0, b"not a change", 60_000, now).to_json();
    let lies = [
        // a good revocation of token 1 beside an unrevocation the group never signed
        vec![
            change(&g, tokens[1], false, now - HOUR_MS),
            change(&impostor, tokens[0], true, now),
        ],
        // a store slipped in among changes
        vec![change(&g, tokens[1], false, now), store],
        // dated ahead of the node's clock (it would outrank every later change)
        vec![change(&g, tokens[1], false, now + 2 * HOUR_MS)],
        // malformed
        vec![serde_json::json!({"method": "revoke_subaccount", "params": {}})],
    ];
    for lie in lies {
        set_page(lie, 2);
        assert!(!catch_up_now(node).await, "the page is refused");
        assert!(
            revoked(&tokens[0]) && !revoked(&tokens[1]),
            "nothing changed"
        );
        assert_eq!(cursor(), 1, "nothing was read");
    }

    // An older unrevocation signed by the owner is no lie, but it is older than the
    // revocation: it changes nothing. A newer one lets the member back in.
    set_page(vec![change(&g, tokens[0], true, now - 2 * HOUR_MS)], 2);
    assert!(catch_up_now(node).await);
    assert!(
        revoked(&tokens[0]),
        "an older unrevocation does not undo a revocation"
    );
    set_page(
        vec![
            change(&g, tokens[0], true, now - HOUR_MS / 2),
            change(&g, tokens[2], false, now),
        ],
        4,
    );
    assert!(catch_up_now(node).await);
    assert!(!revoked(&tokens[0]) && revoked(&tokens[2]));
    assert_eq!(cursor(), 4);

    // What it took it serves on to its own swarm peers, as signed by the owner.
    let topology = node.network.current();
    let request = murmur_node::replication::ChangesRequest {
        swarm_id: 0,
        after: 0,
    };
    let served_log =
        murmur_node::replication::serve_subaccount_changes(&node.storage, &topology, &request)
            .unwrap();
    assert_eq!(served_log.changes.len(), 4);
    assert!(served_log.done);
    for c in &served_log.changes {
        let request = Request::from_json_value(c.clone()).unwrap();
        assert!(matches!(request, Request::Revoke { .. }));
    }
    served.node.stop().await;
}

/// A delete that overtakes the store it names (the owner deletes at one member while the
/// forward of the store is still on its way there) holds on every member: each store that
/// arrives afterwards — a client's, a forward — is answered as a duplicate and not kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_that_overtakes_its_store_holds_on_every_member() {
    let (net, _dir) = murmur_testkit::devnet::start(6, 60_000).await;
    let nodes = net.manifest.manifest.nodes.clone();
    let members: Vec<_> = nodes
        .iter()
        .filter(|n| n.swarm_id == nodes[0].swarm_id)
        .map(|n| n.url.clone())
        .collect();
    assert!(members.len() >= 2, "a swarm of several members");
    let owner = common::account_for(&net.manifest.manifest, &nodes[0].ed25519, true, 7);
    let now = murmur_testkit::now_ms();
    let data = b"deleted before it arrived";
    let hash = common::hash_of(&owner, 0, data);

    let (status, body) = murmur_testkit::net::rpc(
        &members[1],
        &common::delete(&owner, std::slice::from_ref(&hash)),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // Each member takes the store as a client's (and forwards it to the others) only after
    // the delete reached it.
    for url in &members {
        let store = common::store(&owner, 0, data, murmur_testkit::DAY_MS, now);
        let (status, body) = murmur_testkit::net::rpc(url, &store).await;
        assert_eq!(status, 200, "{body}");
        let entries = body["swarm"].as_object().unwrap();
        assert!(
            entries.values().all(|e| e["already"] == true),
            "every member answers it as a duplicate: {body}"
        );
    }
    for url in &members {
        assert!(
            murmur_testkit::requests::held_hashes(url, &owner)
                .await
                .is_empty(),
            "{url} holds a deleted message"
        );
    }
    // Another message of the account is kept as ever.
    let kept = common::store(&owner, 0, b"kept", murmur_testkit::DAY_MS, now);
    assert_eq!(murmur_testkit::net::rpc(&members[0], &kept).await.0, 200);
    assert_eq!(
        murmur_testkit::requests::held_hashes(&members[0], &owner).await,
        [common::hash_of(&owner, 0, b"kept")]
    );
    net.stop().await;
}
