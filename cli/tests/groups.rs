//! Groups on a real 9-node devnet, every client request through a 3-hop onion path: a group's
//! life from creation to removal (invitations as requests, messages both ways, a removed
//! member locked out by revocation and a new key), what members refuse from a member with a
//! write token or a stranger, and a revocation sent to one member of the group's swarm
//! enforced by every member; and the same through `murmur group …` processes.
#![allow(clippy::unwrap_used)]

mod common;

use murmur_core::client::groups::{
    GroupNotifications, GroupStatus, NAMESPACE_INFO, NAMESPACE_MESSAGES,
};
use murmur_core::client::{ClientError, MemoryStore, Store as _};
use murmur_core::config::message::{ConfigMessage, hash};
use murmur_core::config::{Data, seal};
use murmur_core::groups::info::Info;
use murmur_core::groups::message as group_message;
use murmur_core::rpc::{ExpireParams, StoreParams};
use murmur_testkit::devnet::client;

use murmur_core::client::{HttpResponse, Transport};
use murmur_core::groups::GroupKeys;
use murmur_core::groups::auth::{Subaccount, make_auth};
use murmur_core::rpc::{AccountId, Namespace, Request, RetrieveParams, RevokeParams};
use murmur_core::swarm::{SwarmId, swarm_for, swarm_space};
use murmur_testkit::devnet::{self, transport as http};
use murmur_testkit::{identity, now_ms};

const DAY_MS: i64 = 24 * 3600 * 1000;

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

/// Sends `text` to `group` from `who`.
async fn say<T: murmur_core::client::Transport, S: murmur_core::client::Store>(
    who: &murmur_testkit::devnet::TestClient<T, S>,
    group: &AccountId,
    text: &str,
) {
    who.send_to_group(group, &murmur_core::message::Body::text(text), None)
        .await
        .unwrap();
}

/// Library clients on `net`, over HTTP, keeping their state in memory.
type Lib = murmur_testkit::devnet::TestClient<murmur_cli::platform::HttpTransport, MemoryStore>;

/// A (identity `seed`) creates a group named `name` with B and C (the next two seeds), who
/// take the invitation and accept it.
async fn group_of_three(
    net: &murmur_node::devnet::Devnet,
    seed: u64,
    name: &str,
) -> ([Lib; 3], [murmur_core::SessionId; 3], AccountId) {
    let ids = [identity(seed), identity(seed + 1), identity(seed + 2)];
    let sids = ids.clone().map(|id| id.session_id());
    let [a, b, c] = [0, 1, 2].map(|i| {
        client(
            net,
            ids[i].clone(),
            http(),
            MemoryStore::new(),
            0,
            i as u64 + 1,
        )
    });
    let (group, _) = a.create_group(name, "", &sids[1..]).await.unwrap();
    for who in [&b, &c] {
        who.poll().await.unwrap();
        who.accept_group(&group).await.unwrap();
    }
    ([a, b, c], sids, group)
}

/// The swarm members (indices) holding `account`.
fn holders(net: &murmur_node::devnet::Devnet, key: &[u8; 32]) -> Vec<usize> {
    let info = net.info();
    let swarms: Vec<SwarmId> = info.nodes.iter().map(|n| SwarmId(n.swarm_id)).collect();
    let swarm = swarm_for(swarm_space(key), &swarms).unwrap().0;
    (0..info.nodes.len())
        .filter(|&i| info.nodes[i].swarm_id == swarm)
        .collect()
}

/// Stores a direct message from `from` to `to` carrying the control message `update`, in
/// every member of `to`'s swarm.
async fn deliver(
    net: &murmur_node::devnet::Devnet,
    from: &murmur_core::Identity,
    to: &murmur_core::SessionId,
    update: murmur_core::groups::control::GroupUpdateMessage,
    now: u64,
) {
    use prost::Message as _;
    use rand_core::SeedableRng as _;
    let plain =
        murmur_core::message::message_content(&murmur_core::message::Body::default(), now, None)
            .encode_to_vec();
    let content = murmur_core::groups::control::append(plain, update);
    let data = murmur_core::message::encode_direct_bytes(
        from,
        to,
        &content,
        now,
        &mut rand_chacha::ChaCha20Rng::seed_from_u64(7),
    )
    .unwrap();
    let account = AccountId::from(*to);
    let store = Request::Store(StoreParams::new(
        &account,
        Namespace(0),
        &data,
        now,
        3_600_000,
    ));
    for i in holders(net, &account.key()) {
        assert_eq!(post(&net.info().nodes[i].url, &store).await.status, 200);
    }
}

/// What a client's store holds of a group (its JSON record).
async fn stored_record(store: &MemoryStore, group: &AccountId) -> serde_json::Value {
    let all: Vec<serde_json::Value> =
        serde_json::from_slice(&store.get("groups").await.unwrap().unwrap()).unwrap();
    all.into_iter().find(|r| r["id"] == group.to_hex()).unwrap()
}

fn held_keys(record: &serde_json::Value) -> Vec<[u8; 32]> {
    record["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            hex::decode(k["key"].as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_from_creation_to_removal() {
    let (net, _dir) = devnet::start(9, 500).await;
    let (a_id, b_id, c_id) = (identity(81), identity(82), identity(83));
    let (a_sid, b_sid, c_sid) = (a_id.session_id(), b_id.session_id(), c_id.session_id());
    let a = client(&net, a_id, http(), MemoryStore::new(), 0, 1);
    let b = client(&net, b_id.clone(), http(), MemoryStore::new(), 0, 2);
    let c = client(&net, c_id.clone(), http(), MemoryStore::new(), 0, 3);

    let (group, failed) = a
        .create_group("Book club", "Chapter 3", &[b_sid, c_sid])
        .await
        .unwrap();
    assert!(failed.is_empty());
    assert_eq!(group.prefix(), 0x03);

    // The invitation arrives as a request: not a chat message, nothing read from the group.
    for (who, member) in [(&b, "b"), (&c, "c")] {
        assert!(who.poll().await.unwrap().is_empty(), "{member}");
        let g = who.group(&group).await.unwrap();
        assert_eq!(
            (g.status, g.name.as_str()),
            (GroupStatus::Invited, "Book club")
        );
        assert_eq!(g.invited_by, Some(a_sid));
        assert!(who.poll_groups().await.unwrap().is_empty());
        assert!(matches!(
            who.send_to_group(&group, &murmur_core::message::Body::text("early"), None)
                .await,
            Err(ClientError::Group(_))
        ));
    }
    b.accept_group(&group).await.unwrap();
    c.accept_group(&group).await.unwrap();

    say(&a, &group, "hello group").await;
    for who in [&b, &c] {
        let got = who.poll_groups().await.unwrap();
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(
            (got[0].text.as_str(), got[0].from, got[0].group),
            ("hello group", a_sid, Some(group))
        );
        let g = who.group(&group).await.unwrap();
        assert_eq!(g.info.description, "Chapter 3");
        assert!(g.members[&a_sid].admin);
    }
    say(&b, &group, "hi from b").await;
    let got = a.poll_groups().await.unwrap();
    assert_eq!(
        got.iter()
            .map(|m| (m.text.as_str(), m.from))
            .collect::<Vec<_>>(),
        [("hi from b", b_sid)]
    );
    // A took both acceptances: B and C are members, no longer invited.
    let members = a.group(&group).await.unwrap().members;
    assert_eq!(members.len(), 3);
    assert!(members.values().all(|m| m.invite.is_none()), "{members:?}");
    assert_eq!(c.poll_groups().await.unwrap()[0].text, "hi from b");

    // Only admins change the group.
    assert_eq!(
        b.update_group_info(&group, Some("mine now"), None, None)
            .await,
        Err(ClientError::NotAdmin)
    );
    assert_eq!(
        b.remove_from_group(&group, &[c_sid], false).await,
        Err(ClientError::NotAdmin)
    );

    // C is removed: told by the kicked notice, its token refused, and the new key is not its.
    let c_before = stored_record(c.store(), &group).await;
    let c_keys = held_keys(&c_before);
    let c_auth = hex::decode(c_before["auth"].as_str().unwrap()).unwrap();
    a.remove_from_group(&group, &[c_sid], false).await.unwrap();
    assert!(c.poll_groups().await.unwrap().is_empty());
    assert_eq!(c.group(&group).await.unwrap().status, GroupStatus::Removed);
    assert!(matches!(
        c.send_to_group(
            &group,
            &murmur_core::message::Body::text("still here?"),
            None
        )
        .await,
        Err(ClientError::Group(_))
    ));
    say(&a, &group, "after removal").await;
    // B sees the admin's notice of the removal (signed by the group), then the message.
    let got = b.poll_groups().await.unwrap();
    assert_eq!(
        got.iter()
            .map(|m| (m.text.as_str(), m.notice, m.from))
            .collect::<Vec<_>>(),
        [
            (format!("removed {c_sid}").as_str(), true, a_sid),
            ("after removal", false, a_sid)
        ]
    );
    assert!(!a.group(&group).await.unwrap().members.contains_key(&c_sid));

    // B (a member with a write token) stores the first key message again — a key C holds:
    // nodes take it, members keep sealing under the newest generation, so C opens nothing new.
    let b_record = stored_record(b.store(), &group).await;
    let b_sub = Subaccount::open(
        &b_id,
        &murmur_core::groups::control::group_key(&group.0).unwrap(),
        &hex::decode(b_record["auth"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    let holder = holders(&net, &group.0[1..].try_into().unwrap())[0];
    let (key_messages, _) = net
        .node(holder)
        .unwrap()
        .node
        .storage
        .retrieve(&group, Namespace(12), "", now_ms(), 1000, usize::MAX)
        .unwrap();
    let replay = Request::Store(StoreParams::new(
        &group,
        Namespace(12),
        &key_messages[0].data,
        now_ms(),
        3_600_000,
    ))
    .signed_by_subaccount(&b_sub);
    let status = post(&net.info().nodes[holder].url, &replay).await.status;
    assert_eq!(status, 200);
    a.refresh_group(&group).await.unwrap();
    b.refresh_group(&group).await.unwrap();
    say(&a, &group, "after replay").await;
    assert_eq!(b.poll_groups().await.unwrap()[0].text, "after replay");
    let group_pk: [u8; 32] = group.0[1..].try_into().unwrap();
    let sub = Subaccount::open(
        &c_id,
        &murmur_core::groups::control::group_key(&group.0).unwrap(),
        &c_auth,
    )
    .unwrap();
    for i in holders(&net, &group_pk) {
        let read = Request::Retrieve(RetrieveParams::new(
            &group,
            NAMESPACE_MESSAGES,
            String::new(),
            now_ms(),
        ))
        .signed_by_subaccount(&sub);
        assert_eq!(
            post(&net.info().nodes[i].url, &read).await.status,
            401,
            "node {i}"
        );
        // Everything the swarm holds: the message sent after the removal opens with none of
        // the keys C held; the ones before do.
        let node = net.node(i).unwrap();
        let (held, _) = node
            .node
            .storage
            .retrieve(&group, NAMESPACE_MESSAGES, "", now_ms(), 1000, usize::MAX)
            .unwrap();
        let texts: Vec<bool> = held
            .iter()
            .map(|m| group_message::decrypt(&group_pk, &c_keys, &m.data).is_ok())
            .collect();
        assert!(
            texts.iter().any(|&ok| ok) && !*texts.last().unwrap(),
            "node {i}: {texts:?}"
        );
    }
    // Nodes that ignore the revocation take C's messages under the key C still holds: B does
    // not show one sent after C's removal; one C dates from before it counts as old history.
    {
        use prost::Message as _;
        use rand_core::SeedableRng as _;
        let old_key = held_keys(&c_before)[0];
        let group_pk: [u8; 32] = group.0[1..].try_into().unwrap();
        let removed_at = stored_record(b.store(), &group).await["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["timestamp_ms"].as_u64().unwrap())
            .max()
            .unwrap();
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(9);
        for (text, sent_ms) in [("still here", now_ms()), ("backdated", removed_at - 1)] {
            let content = murmur_core::message::message_content(
                &murmur_core::message::Body::text(text),
                sent_ms,
                None,
            )
            .encode_to_vec();
            let envelope = murmur_core::groups::control::envelope(content, sent_ms, &mut rng);
            let data =
                group_message::encrypt(&c_id, &group_pk, &old_key, &envelope, &mut rng).unwrap();
            for i in holders(&net, &group_pk) {
                let stored = murmur_node::storage::StoredMessage {
                    id: 0,
                    account: group,
                    namespace: NAMESPACE_MESSAGES,
                    hash: murmur_core::rpc::message_hash(&group, NAMESPACE_MESSAGES, &data),
                    timestamp: now_ms(),
                    expiry: now_ms() + 3_600_000,
                    data: data.clone(),
                };
                net.node(i)
                    .unwrap()
                    .node
                    .storage
                    .store(&stored, false)
                    .unwrap();
            }
        }
        let got = b.poll_groups().await.unwrap();
        assert_eq!(
            got.iter()
                .map(|m| (m.text.as_str(), m.from))
                .collect::<Vec<_>>(),
            [("backdated", c_sid)]
        );
    }
    net.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_check_what_admins_sign_and_leaving_gets_a_member_removed() {
    let (net, _dir) = devnet::start(9, 500).await;
    let (a_id, b_id, x_id) = (identity(91), identity(92), identity(93));
    let (a_sid, b_sid) = (a_id.session_id(), b_id.session_id());
    let a = client(&net, a_id, http(), MemoryStore::new(), 0, 1);
    let b = client(&net, b_id.clone(), http(), MemoryStore::new(), 0, 2);
    let x = client(&net, x_id.clone(), http(), MemoryStore::new(), 0, 3);

    // A stranger's invitation naming a group it holds no key of is not taken; one with its
    // own group key but another invitee's auth data neither.
    let stranger_group = GroupKeys::from_seed(&[0x55; 32]);
    x.ready().await.unwrap();
    let now = x.network_now_ms();
    let wrong_auth = make_auth(&stranger_group, &a_sid, true, false).unwrap();
    let mut forged = murmur_core::groups::control::invite(
        &stranger_group,
        "free stuff",
        &b_sid,
        &wrong_auth.0,
        now,
    );
    deliver(&net, &x_id, &b_sid, forged.clone(), now).await;
    forged.invite_message.as_mut().unwrap().admin_signature[0] ^= 1;
    deliver(&net, &x_id, &b_sid, forged, now).await;
    assert!(b.poll().await.unwrap().is_empty());
    assert!(b.groups().await.unwrap().is_empty());

    let (group, _) = a.create_group("Garden", "", &[b_sid]).await.unwrap();
    assert!(b.poll().await.unwrap().is_empty());
    b.accept_group(&group).await.unwrap();

    // B holds a write token and the group key: it stores Info and Members configs of its own
    // (a higher seqno, signed by B) and nodes take them; A and B read the group and keep the
    // admin's.
    let record = stored_record(b.store(), &group).await;
    let key = held_keys(&record)[0];
    let auth = hex::decode(record["auth"].as_str().unwrap()).unwrap();
    let group_key = murmur_core::groups::control::group_key(&group.0).unwrap();
    let sub = Subaccount::open(&b_id, &group_key, &auth).unwrap();
    let mut data = Data::new();
    Info {
        name: "Hijacked".into(),
        ..Info::default()
    }
    .write(&mut data)
    .unwrap();
    let empty = ConfigMessage::empty();
    let group_pk: [u8; 32] = group.0[1..].try_into().unwrap();
    let members = holders(&net, &group_pk);
    // Signs `data` as B's config at seqno 50, seals it for `domain` and stores it at `ns`.
    let plant = async |ns, domain, data| {
        let mut fake = empty.increment(hash(&empty.serialize(None)), data);
        fake.seqno = 50;
        let bytes = fake.serialize(Some(b_id.ed25519_signing_key()));
        let sealed = seal::encrypt(&key, domain, &seal::prepare(&bytes));
        let store = Request::Store(StoreParams::new(&group, ns, &sealed, now_ms(), 3_600_000))
            .signed_by_subaccount(&sub);
        assert_eq!(
            post(&net.info().nodes[members[0]].url, &store).await.status,
            200
        );
    };
    plant(NAMESPACE_INFO, seal::DOMAIN_GROUP_INFO, data).await;
    // And a Members config of its own making B an admin and dropping A.
    let mut data = Data::new();
    let mut roster = std::collections::BTreeMap::new();
    roster.insert(
        b_sid,
        murmur_core::groups::info::Member {
            admin: true,
            ..Default::default()
        },
    );
    murmur_core::groups::info::write_members(&mut data, &roster).unwrap();
    plant(
        murmur_core::client::groups::NAMESPACE_MEMBERS,
        seal::DOMAIN_GROUP_MEMBERS,
        data,
    )
    .await;
    for who in [&a, &b] {
        who.refresh_group(&group).await.unwrap();
        let g = who.group(&group).await.unwrap();
        assert_eq!(g.name, "Garden");
        assert!(
            g.members[&a_sid].admin && !g.members[&b_sid].admin,
            "{:?}",
            g.members
        );
        assert!(!b.group(&group).await.unwrap().admin);
    }
    // B posts an admin notice signed by another key ("removed A"): A shows nothing of it.
    {
        use prost::Message as _;
        use rand_core::SeedableRng as _;
        let now = now_ms();
        let fake = murmur_core::groups::control::member_change(
            &GroupKeys::from_seed(&[9; 32]),
            murmur_core::groups::control::MEMBERS_REMOVED,
            &[a_sid],
            false,
            now,
        );
        let plain = murmur_core::message::message_content(
            &murmur_core::message::Body::default(),
            now,
            None,
        )
        .encode_to_vec();
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(8);
        let envelope = murmur_core::groups::control::envelope(
            murmur_core::groups::control::append(plain, fake),
            now,
            &mut rng,
        );
        let data = group_message::encrypt(&b_id, &group_pk, &key, &envelope, &mut rng).unwrap();
        let store = Request::Store(StoreParams::new(
            &group,
            NAMESPACE_MESSAGES,
            &data,
            now,
            3_600_000,
        ))
        .signed_by_subaccount(&sub);
        assert_eq!(
            post(&net.info().nodes[members[0]].url, &store).await.status,
            200
        );
        say(&b, &group, "real").await;
        let got = a.poll_groups().await.unwrap();
        assert_eq!(
            got.iter()
                .map(|m| (m.text.as_str(), m.notice))
                .collect::<Vec<_>>(),
            [("real", false)]
        );
        assert!(a.group(&group).await.unwrap().members.contains_key(&a_sid));
    }
    a.update_group_info(&group, Some("Allotment"), None, Some(3600))
        .await
        .unwrap();
    b.refresh_group(&group).await.unwrap();
    let g = b.group(&group).await.unwrap();
    assert_eq!(
        (g.name.as_str(), g.info.disappear_s),
        ("Allotment", Some(3600))
    );

    // Keys and configs are kept alive by whoever reads them: cut to an hour on every
    // member (as if 29 days had passed, and so in what B knows of them), one read by B
    // extends them all to 30 days again.
    let seed: [u8; 32] = hex::decode(
        stored_record(a.store(), &group).await["seed"]
            .as_str()
            .unwrap(),
    )
    .unwrap()
    .try_into()
    .unwrap();
    let admin = GroupKeys::from_seed(&seed);
    let expiries = |ns: Namespace| {
        members
            .iter()
            .flat_map(|&i| {
                let node = net.node(i).unwrap();
                let (held, _) = node
                    .node
                    .storage
                    .retrieve(&group, ns, "", now_ms(), 1000, usize::MAX)
                    .unwrap();
                held.into_iter()
                    .map(|m| (m.hash, m.expiry))
                    .collect::<Vec<_>>()
            })
            .collect::<Vec<_>>()
    };
    let keys_held = expiries(Namespace(12));
    assert!(!keys_held.is_empty());
    let hashes: Vec<String> = keys_held.iter().map(|(h, _)| h.clone()).collect();
    let shorten = Request::Expire(
        ExpireParams::new(&group, hashes.clone(), now_ms() + 3_600_000).shorten_only(),
    )
    .signed_by_group(&admin);
    for &i in &members {
        assert_eq!(post(&net.info().nodes[i].url, &shorten).await.status, 200);
    }
    assert!(
        expiries(Namespace(12))
            .iter()
            .all(|(_, e)| *e <= now_ms() + 3_600_000)
    );

    // What B knows of them after those days: the same expiries.
    let mut all: Vec<serde_json::Value> =
        serde_json::from_slice(&b.store().get("groups").await.unwrap().unwrap()).unwrap();
    for r in &mut all {
        for kept in r["kept"].as_object_mut().unwrap().values_mut() {
            kept[1] = (now_ms() + 3_600_000).into();
        }
    }
    b.store()
        .put("groups", serde_json::to_vec(&all).unwrap())
        .await
        .unwrap();
    b.refresh_group(&group).await.unwrap();
    let month = now_ms() + 29 * 24 * 3_600_000;
    let mut after = Vec::new();
    for _ in 0..50 {
        after = expiries(Namespace(12));
        if after.iter().all(|(_, e)| *e > month) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(after.iter().all(|(_, e)| *e > month), "{after:?}");

    // New members read from their invitation on, or with history everything still held.
    say(&a, &group, "before them").await;
    let (c_id, d_id) = (identity(94), identity(95));
    let c = client(&net, c_id.clone(), http(), MemoryStore::new(), 0, 4);
    let d = client(&net, d_id.clone(), http(), MemoryStore::new(), 0, 5);
    a.invite_to_group(&group, &[c_id.session_id()], true)
        .await
        .unwrap();
    a.invite_to_group(&group, &[d_id.session_id()], false)
        .await
        .unwrap();
    for who in [&c, &d] {
        assert!(who.poll().await.unwrap().is_empty());
        who.accept_group(&group).await.unwrap();
    }
    // Messages people wrote, and the notices, apart.
    let split = |m: Vec<murmur_core::client::Incoming>| {
        let (notices, texts): (Vec<_>, Vec<_>) = m.into_iter().partition(|m| m.notice);
        (
            texts.into_iter().map(|m| m.text).collect::<Vec<_>>(),
            notices.into_iter().map(|m| m.text).collect::<Vec<_>>(),
        )
    };
    let (c_sid, d_sid) = (c_id.session_id(), d_id.session_id());
    let (texts, notices) = split(c.poll_groups().await.unwrap());
    assert_eq!(texts, ["real", "before them"]);
    // With history, C also reads the notices from before it came.
    assert!(notices.contains(&"renamed the group to \u{2068}Allotment\u{2069}".to_string()));
    assert!(notices.contains(&format!("added {c_sid} (with the group's history)")));
    assert!(notices.contains(&format!("added {d_sid}")));
    let (texts, notices) = split(d.poll_groups().await.unwrap());
    assert!(texts.is_empty());
    assert_eq!(notices, [format!("added {d_sid}")]);
    say(&a, &group, "welcome").await;
    assert_eq!(split(c.poll_groups().await.unwrap()).0, ["welcome"]);
    assert_eq!(split(d.poll_groups().await.unwrap()).0, ["welcome"]);

    // The last admin cannot leave; a member can, and the admin's next read removes it.
    assert!(matches!(
        a.leave_group(&group).await,
        Err(ClientError::Group(_))
    ));
    b.leave_group(&group).await.unwrap();
    assert!(b.groups().await.unwrap().is_empty());
    a.poll_groups().await.unwrap();
    let members = a.group(&group).await.unwrap().members;
    assert!(!members.contains_key(&b_sid) && members.contains_key(&a_sid));
    for i in holders(&net, &group_pk) {
        let node = net.node(i).unwrap();
        assert!(
            node.node.storage.is_revoked(&group, &sub.token).unwrap(),
            "node {i}"
        );
    }
    net.stop().await;
}

fn lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_creates_invites_accepts_and_talks_in_a_group() {
    use common::{murmur, new_user, stderr, stdout};
    let (net, dir) = devnet::start(9, 500).await;
    let file = net.dir.join("devnet.json");
    let (home_a, home_b) = (dir.path().join("a"), dir.path().join("b"));
    let a = new_user(&home_a, &file).await;
    let b = new_user(&home_b, &file).await;

    let out = murmur(
        &home_a,
        &["group", "create", "--name", "Team", "--member", &b],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let group = stdout(&out).trim().to_string();
    assert!(group.starts_with("03") && group.len() == 66, "{group}");

    // B's inbox shows no message; the invitation is listed, to accept.
    let out = murmur(&home_b, &["inbox", "--json"]).await;
    assert!(
        out.status.success() && stdout(&out).is_empty(),
        "{}",
        stderr(&out)
    );
    let listed = lines(&stdout(
        &murmur(&home_b, &["group", "list", "--json"]).await,
    ));
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["group"], group.as_str());
    assert_eq!(listed[0]["status"], "invited");
    assert_eq!(listed[0]["name"], "Team");
    let out = murmur(&home_b, &["group", "accept", "--group", &group]).await;
    assert!(out.status.success(), "{}", stderr(&out));

    let out = murmur(&home_a, &["send", "--group", &group, "hello team"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let got = lines(&stdout(&murmur(&home_b, &["inbox", "--json"]).await));
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["text"], "hello team");
    assert_eq!(got[0]["from"], a.as_str());
    assert_eq!(got[0]["group"], group.as_str());
    // A reads B's acceptance: both are members, B joined.
    murmur(&home_a, &["inbox"]).await;
    let members = lines(&stdout(
        &murmur(&home_a, &["group", "members", "--group", &group, "--json"]).await,
    ));
    let states: Vec<(String, String)> = members
        .iter()
        .map(|m| {
            (
                m["member"].as_str().unwrap().to_string(),
                m["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut want = vec![
        (a.clone(), "admin".to_string()),
        (b.clone(), "joined".to_string()),
    ];
    want.sort();
    assert_eq!(states, want);

    // Bad input: a clear error, exit 2, nothing changed.
    let no_group = "03".repeat(33);
    for (home, args, why) in [
        (
            &home_b,
            vec!["group", "accept", "--group", b.as_str()],
            "invalid group",
        ),
        (
            &home_b,
            vec!["group", "remove", "--group", group.as_str(), a.as_str()],
            "only an admin",
        ),
        (
            &home_b,
            vec!["group", "accept", "--group", group.as_str()],
            "no invitation",
        ),
        (
            &home_a,
            vec!["send", "--group", no_group.as_str(), "hi"],
            "no such group",
        ),
    ] {
        let out = murmur(home, &args).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(why), "{args:?}: {}", stderr(&out));
    }
    let listed = lines(&stdout(
        &murmur(&home_b, &["group", "list", "--json"]).await,
    ));
    assert_eq!(listed[0]["status"], "joined");
    assert_eq!(listed[0]["notifications"], "all");
    assert!(got[0]["notify"].as_bool().unwrap());

    // Mentions only: a message naming B notifies, another does not; unmuted, all do.
    let out = murmur(&home_b, &["group", "mute", "--group", &group, "--mentions"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let listed = lines(&stdout(
        &murmur(&home_b, &["group", "list", "--json"]).await,
    ));
    assert_eq!(listed[0]["notifications"], "mentions");
    let mention = format!("over to you @{b}");
    for text in ["not for B", mention.as_str()] {
        let out = murmur(&home_a, &["send", "--group", &group, text]).await;
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let got = lines(&stdout(&murmur(&home_b, &["inbox", "--json"]).await));
    let flags: Vec<(&str, bool, bool)> = got
        .iter()
        .map(|m| {
            (
                m["text"].as_str().unwrap(),
                m["mentions_me"].as_bool().unwrap(),
                m["notify"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        flags,
        [("not for B", false, false), (mention.as_str(), true, true)]
    );
    // Muted for an hour: nothing notifies, a mention neither.
    let out = murmur(
        &home_b,
        &["group", "mute", "--group", &group, "--for", "3600"],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let listed = lines(&stdout(
        &murmur(&home_b, &["group", "list", "--json"]).await,
    ));
    assert!(listed[0]["muted_until_s"].as_i64().unwrap() > 0);
    murmur(&home_a, &["send", "--group", &group, &mention]).await;
    let got = lines(&stdout(&murmur(&home_b, &["inbox", "--json"]).await));
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(!got[0]["notify"].as_bool().unwrap());
    let out = murmur(&home_b, &["group", "unmute", "--group", &group]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    murmur(&home_a, &["send", "--group", &group, "for everyone"]).await;
    let got = lines(&stdout(&murmur(&home_b, &["inbox", "--json"]).await));
    assert!(got[0]["notify"].as_bool().unwrap(), "{got:?}");
    // An unknown group: a clear error, nothing changed.
    let out = murmur(&home_b, &["group", "mute", "--group", &no_group]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("no such group"), "{}", stderr(&out));
    net.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_device_of_the_account_finds_its_groups() {
    let (net, _dir) = devnet::start(9, 500).await;
    let (a_id, b_id) = (identity(101), identity(102));
    let (a_sid, b_sid) = (a_id.session_id(), b_id.session_id());
    let a1 = client(&net, a_id.clone(), http(), MemoryStore::new(), 0, 1);
    let a2 = client(&net, a_id, http(), MemoryStore::new(), 0, 2);
    let b = client(&net, b_id, http(), MemoryStore::new(), 0, 3);

    // A group A created on one device: the other finds it (as admin) and talks in it.
    let (mine, _) = a1.create_group("Ours", "", &[b_sid]).await.unwrap();
    assert!(a2.poll_groups().await.unwrap().is_empty());
    let g = a2.group(&mine).await.unwrap();
    assert_eq!(
        (g.status, g.admin, g.name.as_str()),
        (GroupStatus::Joined, true, "Ours")
    );
    b.poll().await.unwrap();
    b.accept_group(&mine).await.unwrap();
    say(&a2, &mine, "from the other device").await;
    let got = b.poll_groups().await.unwrap();
    assert_eq!(
        got.iter()
            .map(|m| (m.text.as_str(), m.from))
            .collect::<Vec<_>>(),
        [("from the other device", a_sid)]
    );

    // Muted on one device (in UserGroups): the other follows, and back.
    a1.set_group_notifications(&mine, GroupNotifications::MentionsOnly, 0)
        .await
        .unwrap();
    a2.sync_groups().await.unwrap();
    assert_eq!(
        a2.group(&mine).await.unwrap().notifications,
        GroupNotifications::MentionsOnly
    );
    a2.set_group_notifications(&mine, GroupNotifications::Off, 1_900_000_000)
        .await
        .unwrap();
    a1.sync_groups().await.unwrap();
    let g = a1.group(&mine).await.unwrap();
    assert_eq!(
        (g.notifications, g.muted_until_s),
        (GroupNotifications::Off, 1_900_000_000)
    );
    assert!(!g.notifies(&format!("@{a_sid}"), &a_sid, 1_800_000_000));

    // An invitation taken on one device is a request on the other too; accepted on one, the
    // other joins.
    let (theirs, _) = b.create_group("Theirs", "", &[a_sid]).await.unwrap();
    a1.poll().await.unwrap();
    a1.poll_groups().await.unwrap();
    a2.sync_groups().await.unwrap();
    assert_eq!(
        a2.group(&theirs).await.unwrap().status,
        GroupStatus::Invited
    );
    a1.accept_group(&theirs).await.unwrap();
    a2.sync_groups().await.unwrap();
    assert_eq!(a2.group(&theirs).await.unwrap().status, GroupStatus::Joined);
    say(&b, &theirs, "hi A").await;
    let got = a2.poll_groups().await.unwrap();
    assert!(
        got.iter()
            .any(|m| m.text == "hi A" && m.group == Some(theirs)),
        "{got:?}"
    );

    // Left on one device: gone from the other.
    a1.leave_group(&theirs).await.unwrap();
    a2.sync_groups().await.unwrap();
    assert!(matches!(
        a2.group(&theirs).await,
        Err(ClientError::UnknownGroup)
    ));
    assert!(a2.group(&mine).await.is_ok());
    net.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_group_input_gets_a_clear_error_and_changes_nothing() {
    let (net, _dir) = devnet::start(9, 500).await;
    let (a_id, b_id, x_id) = (identity(111), identity(112), identity(113));
    let (a_sid, b_sid) = (a_id.session_id(), b_id.session_id());
    let a = client(&net, a_id, http(), MemoryStore::new(), 0, 1);
    let b = client(&net, b_id, http(), MemoryStore::new(), 0, 2);

    // Over-long texts, a 101st member: refused before anything exists.
    let long_name = "n".repeat(101);
    let long_description = "d".repeat(2001);
    let crowd: Vec<murmur_core::SessionId> =
        (0..100).map(|i| identity(1000 + i).session_id()).collect();
    for (name, description, members) in [
        (long_name.as_str(), "", &[b_sid][..]),
        ("ok", long_description.as_str(), &[b_sid][..]),
        ("ok", "", &crowd[..]),
    ] {
        assert!(matches!(
            a.create_group(name, description, members).await,
            Err(ClientError::Group(_))
        ));
    }
    assert!(a.groups().await.unwrap().is_empty());
    assert!(a.store().get("groups").await.unwrap().is_none());

    let (group, _) = a.create_group("Club", "", &[b_sid]).await.unwrap();
    assert!(matches!(
        a.update_group_info(&group, Some(&long_name), None, None)
            .await,
        Err(ClientError::Group(_))
    ));
    assert!(matches!(
        a.invite_to_group(&group, &crowd[..99], false).await,
        Err(ClientError::Group(_))
    ));
    let g = a.group(&group).await.unwrap();
    assert_eq!((g.name.as_str(), g.members.len()), ("Club", 2));

    // An invitation from a group key whose group was never created: taken as a request (it is
    // signed), but accepting it fails with a clear error and leaves it a request.
    let ghost = GroupKeys::from_seed(&[0x66; 32]);
    let x = client(&net, x_id.clone(), http(), MemoryStore::new(), 0, 3);
    x.ready().await.unwrap();
    let now = x.network_now_ms();
    let auth = make_auth(&ghost, &a_sid, true, false).unwrap();
    let invite = murmur_core::groups::control::invite(&ghost, "ghost", &a_sid, &auth.0, now);
    deliver(&net, &x_id, &a_sid, invite, now).await;
    assert!(a.poll().await.unwrap().is_empty());
    let ghost_id = AccountId(ghost.group_id());
    assert_eq!(
        a.group(&ghost_id).await.unwrap().status,
        GroupStatus::Invited
    );
    assert!(matches!(
        a.accept_group(&ghost_id).await,
        Err(ClientError::Group(_))
    ));
    assert_eq!(
        a.group(&ghost_id).await.unwrap().status,
        GroupStatus::Invited
    );
    a.decline_group(&ghost_id).await.unwrap();
    assert!(matches!(
        a.group(&ghost_id).await,
        Err(ClientError::UnknownGroup)
    ));
    // Unknown groups, and operations a state does not allow.
    let unknown = AccountId(GroupKeys::from_seed(&[0x77; 32]).group_id());
    assert_eq!(
        b.accept_group(&unknown).await,
        Err(ClientError::UnknownGroup)
    );
    b.poll().await.unwrap();
    b.accept_group(&group).await.unwrap();
    assert!(matches!(
        b.accept_group(&group).await,
        Err(ClientError::Group(_))
    ));
    assert!(matches!(
        b.decline_group(&group).await,
        Err(ClientError::Group(_))
    ));
    net.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promoted_member_runs_the_group_and_deletes_it_for_everyone() {
    let (net, _dir) = devnet::start(9, 500).await;
    let ([a, b, c], [a_sid, b_sid, _], group) = group_of_three(&net, 121, "Relay").await;
    a.poll_groups().await.unwrap();

    a.promote_in_group(&group, &b_sid).await.unwrap();
    assert!(b.poll().await.unwrap().is_empty());
    assert!(b.group(&group).await.unwrap().admin);
    b.update_group_info(&group, Some("Relay 2"), None, None)
        .await
        .unwrap();
    // With another admin, A may leave; B's next read removes A.
    a.leave_group(&group).await.unwrap();
    let got = b.poll_groups().await.unwrap();
    assert!(
        got.iter()
            .any(|m| m.notice && m.from == a_sid && m.text == "left the group"),
        "{got:?}"
    );
    let members = b.group(&group).await.unwrap().members;
    assert!(
        !members.contains_key(&a_sid) && members[&b_sid].admin,
        "{members:?}"
    );
    let got = c.poll_groups().await.unwrap();
    assert!(
        got.iter()
            .any(|m| m.notice && m.text == format!("made {b_sid} an admin")),
        "{got:?}"
    );
    assert_eq!(c.group(&group).await.unwrap().name, "Relay 2");

    // Deleted for everyone: C's next read marks it destroyed, and nothing can be sent.
    b.delete_group(&group).await.unwrap();
    c.poll_groups().await.unwrap();
    assert_eq!(
        c.group(&group).await.unwrap().status,
        GroupStatus::Destroyed
    );
    assert!(matches!(
        c.send_to_group(&group, &murmur_core::message::Body::text("anyone?"), None)
            .await,
        Err(ClientError::Group(_))
    ));
    net.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_member_group() {
    let (net, _dir) = devnet::start(9, 500).await;
    let admin_id = identity(200);
    let admin = client(&net, admin_id.clone(), http(), MemoryStore::new(), 0, 1);
    let ids: Vec<_> = (0..99).map(|i| identity(2000 + i)).collect();
    let members: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            client(
                &net,
                id.clone(),
                http(),
                MemoryStore::new(),
                0,
                10 + i as u64,
            )
        })
        .collect();
    let sids: Vec<_> = ids.iter().map(|i| i.session_id()).collect();
    let (group, failed) = admin.create_group("Everyone", "", &sids).await.unwrap();
    assert!(failed.is_empty());
    for m in &members {
        assert!(m.poll().await.unwrap().is_empty());
        m.accept_group(&group).await.unwrap();
    }
    say(&admin, &group, "to all 99").await;
    for m in &members {
        let got = m.poll_groups().await.unwrap();
        assert!(
            got.iter().any(|g| g.text == "to all 99" && !g.notice),
            "{got:?}"
        );
    }
    say(&members[50], &group, "one of many").await;
    let got = admin.poll_groups().await.unwrap();
    assert!(
        got.iter()
            .any(|g| g.text == "one of many" && g.from == sids[50])
    );
    let g = admin.group(&group).await.unwrap();
    assert_eq!(g.members.len(), 100);
    assert!(g.members.values().all(|m| m.invite.is_none()));

    // Removing one: the new key message holds 98 + the admin = 99 entries, padded to 150
    // (two blocks of 75), well within a node's 76,800-byte limit.
    admin
        .remove_from_group(&group, &[sids[98]], false)
        .await
        .unwrap();
    let holder = holders(&net, &group.0[1..].try_into().unwrap())[0];
    let (key_messages, _) = net
        .node(holder)
        .unwrap()
        .node
        .storage
        .retrieve(&group, Namespace(12), "", now_ms(), 1000, usize::MAX)
        .unwrap();
    let newest = key_messages.last().unwrap();
    assert!(
        newest.data.len() > 150 * 48 && newest.data.len() < 76_800,
        "{}",
        newest.data.len()
    );
    members[98].poll_groups().await.unwrap();
    assert_eq!(
        members[98].group(&group).await.unwrap().status,
        GroupStatus::Removed
    );
    net.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_a_member_with_its_messages_deletes_them_everywhere() {
    let (net, _dir) = devnet::start(9, 500).await;
    let ([a, b, c], [a_sid, b_sid, c_sid], group) = group_of_three(&net, 131, "Clean").await;
    say(&b, &group, "keep me").await;
    for text in ["spam 1", "spam 2"] {
        say(&c, &group, text).await;
    }
    let read: Vec<String> = a
        .poll_groups()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert!(read.contains(&"spam 1".to_string()), "{read:?}");

    let group_pk: [u8; 32] = group.0[1..].try_into().unwrap();
    let (before, _) = net
        .node(holders(&net, &group_pk)[0])
        .unwrap()
        .node
        .storage
        .retrieve(&group, NAMESPACE_MESSAGES, "", now_ms(), 1000, usize::MAX)
        .unwrap();
    a.remove_from_group(&group, &[c_sid], true).await.unwrap();
    // The swarm holds none of C's messages any more (B's stays).
    let keys = held_keys(&stored_record(a.store(), &group).await);
    for i in holders(&net, &group_pk) {
        let (held, _) = net
            .node(i)
            .unwrap()
            .node
            .storage
            .retrieve(&group, NAMESPACE_MESSAGES, "", now_ms(), 1000, usize::MAX)
            .unwrap();
        let senders: Vec<_> = held
            .iter()
            .filter_map(|m| group_message::decrypt(&group_pk, &keys, &m.data).ok())
            .map(|m| m.sender)
            .collect();
        assert!(
            !senders.contains(&c_sid) && senders.contains(&b_sid),
            "node {i}"
        );
    }
    // Nodes that ignored the deletion put C's messages back: B, reading only now, shows
    // none of them (the admin's order names C), only the admin's notices.
    for i in holders(&net, &group_pk) {
        for m in &before {
            net.node(i).unwrap().node.storage.store(m, false).unwrap();
        }
    }
    let got = b.poll_groups().await.unwrap();
    let shown: Vec<(&str, bool)> = got.iter().map(|m| (m.text.as_str(), m.notice)).collect();
    assert!(
        shown.iter().all(|(t, _)| !t.starts_with("spam")),
        "{shown:?}"
    );
    assert!(
        shown.contains(&(format!("deleted the messages of {c_sid}").as_str(), true)),
        "{shown:?}"
    );
    assert!(got.iter().all(|m| m.from == a_sid));
    net.stop().await;
}

/// A group's picture through `murmur group …` processes: set at creation (its metadata
/// stripped), nothing fetched by an invitee before accepting, read by a member byte for byte,
/// replaced and removed by the admin only; a file that is not a picture changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_picture_is_set_by_admins_and_read_by_members() {
    use common::{murmur, new_user, stderr, stdout};
    let (net, dir) = devnet::start(9, 500).await;
    let file = net.dir.join("devnet.json");
    let (home_a, home_b) = (dir.path().join("a"), dir.path().join("b"));
    let _a = new_user(&home_a, &file).await;
    let b = new_user(&home_b, &file).await;
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/fixtures");
    let photo = fixtures.join("gps.jpg");
    let stripped = match murmur_core::media::strip_metadata(&std::fs::read(&photo).unwrap()) {
        Ok(murmur_core::media::Stripped::Image { bytes, .. }) => bytes,
        _ => panic!("the fixture is a picture"),
    };
    let path = |p: &std::path::Path| p.to_str().unwrap().to_string();

    let out = murmur(
        &home_a,
        &[
            "group",
            "create",
            "--name",
            "Pics",
            "--member",
            &b,
            "--picture",
            &path(&photo),
        ],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let group = stdout(&out).trim().to_string();
    // B reads its inbox: the invitation is a request.
    assert!(murmur(&home_b, &["inbox"]).await.status.success());
    let saved = dir.path().join("saved.jpg");
    let get_picture = async || {
        let args = [
            "group",
            "picture",
            "--group",
            &group,
            "--out",
            &path(&saved),
        ];
        murmur(&home_b, &args).await
    };
    let out = get_picture().await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("accept the invitation first"),
        "{}",
        stderr(&out)
    );
    assert!(!saved.exists());

    assert!(
        murmur(&home_b, &["group", "accept", "--group", &group])
            .await
            .status
            .success()
    );
    let listed = lines(&stdout(
        &murmur(&home_b, &["group", "list", "--json"]).await,
    ));
    assert_eq!(listed[0]["picture"], true);
    let out = get_picture().await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(&saved).unwrap(),
        stripped,
        "the picture, without its metadata"
    );

    // A member cannot change it; a file that is not a picture is refused before any upload.
    let not_a_picture = dir.path().join("notes.txt");
    std::fs::write(&not_a_picture, b"just text").unwrap();
    for (home, file, why) in [
        (&home_b, &photo, "only an admin"),
        (&home_a, &not_a_picture, "not a picture"),
    ] {
        let out = murmur(
            home,
            &["group", "set", "--group", &group, "--picture", &path(file)],
        )
        .await;
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains(why), "{}", stderr(&out));
    }
    std::fs::remove_file(&saved).unwrap();
    let out = get_picture().await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read(&saved).unwrap(), stripped, "unchanged");

    // Members keep it alive: the file server lets a file go 14 days after its upload or last
    // extension. 12 days on, B's read finds it within 3 days of that and extends it; 17 days
    // on, past the upload's 14, it is still there — and only B ran a command meanwhile.
    net.clock.advance(12 * DAY_MS);
    assert!(murmur(&home_b, &["inbox"]).await.status.success());
    net.clock.advance(5 * DAY_MS);
    std::fs::remove_file(&saved).unwrap();
    let out = get_picture().await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read(&saved).unwrap(), stripped, "kept alive");

    // The admin removes it: members see none.
    let out = murmur(
        &home_a,
        &["group", "set", "--group", &group, "--remove-picture"],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::remove_file(&saved).unwrap();
    let out = get_picture().await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "the group has no picture");
    assert!(!saved.exists());
    let listed = lines(&stdout(
        &murmur(&home_b, &["group", "list", "--json"]).await,
    ));
    assert_eq!(listed[0]["picture"], false);
    net.stop().await;
}

/// Deleting group messages for everyone through `murmur` processes (Session's
/// `deleteMemberContent`): a member deletes its own message, an admin anyone's; the others'
/// inboxes say which message went; a member cannot delete another's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_messages_are_deleted_for_everyone_by_their_author_or_an_admin() {
    use common::{murmur, new_user, stderr, stdout};
    let (net, dir) = devnet::start(9, 500).await;
    let file = net.dir.join("devnet.json");
    let home = |n: &str| dir.path().join(n);
    let (home_a, home_b, home_c) = (home("a"), home("b"), home("c"));
    let _a = new_user(&home_a, &file).await;
    let b = new_user(&home_b, &file).await;
    let c = new_user(&home_c, &file).await;
    let json_lines = |out: &std::process::Output| {
        assert!(out.status.success(), "{}", stderr(out));
        lines(&stdout(out))
    };
    let out = murmur(
        &home_a,
        &[
            "group", "create", "--name", "Team", "--member", &b, "--member", &c,
        ],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let group = stdout(&out).trim().to_string();
    for h in [&home_b, &home_c] {
        murmur(h, &["inbox"]).await;
        assert!(
            murmur(h, &["group", "accept", "--group", &group])
                .await
                .status
                .success()
        );
    }
    let post = async |h: &std::path::Path, text: &str| {
        let sent = json_lines(&murmur(h, &["send", "--group", &group, "--json", text]).await);
        sent[0]["hash"].as_str().unwrap().to_string()
    };
    let typo = post(&home_b, "meeting at 3pm tomorow").await;
    let rude = post(&home_c, "something rude").await;
    for h in [&home_a, &home_b, &home_c] {
        json_lines(&murmur(h, &["inbox", "--json"]).await);
    }

    // C cannot delete B's message for everyone.
    let out = murmur(&home_c, &["delete", "--hash", &typo, "--everyone"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("only your own"), "{}", stderr(&out));

    // B deletes its own; the admin deletes C's.
    let out = murmur(&home_b, &["delete", "--hash", &typo, "--everyone"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let out = murmur(&home_a, &["delete", "--hash", &rude, "--everyone"]).await;
    assert!(out.status.success(), "{}", stderr(&out));

    let deleted = |got: &[serde_json::Value]| -> Vec<String> {
        let mut all: Vec<String> = got
            .iter()
            .filter_map(|m| m["deleted"].as_array())
            .flatten()
            .map(|h| h.as_str().unwrap().to_string())
            .collect();
        all.sort();
        all
    };
    let got = json_lines(&murmur(&home_c, &["inbox", "--json"]).await);
    let mut both = vec![typo.clone(), rude.clone()];
    both.sort();
    assert_eq!(
        deleted(&got),
        both,
        "C: B's own deletion, and the admin's of C's; {got:?}"
    );
    let got = json_lines(&murmur(&home_b, &["inbox", "--json"]).await);
    assert_eq!(
        deleted(&got),
        vec![rude.clone()],
        "B: the admin's deletion; {got:?}"
    );
    let got = json_lines(&murmur(&home_a, &["inbox", "--json"]).await);
    assert_eq!(
        deleted(&got),
        vec![typo.clone()],
        "A: B's deletion; {got:?}"
    );
    // Gone from the homes: nothing to react to.
    let out = murmur(&home_c, &["react", "--to", &group, "--hash", &typo, "👍"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    net.stop().await;
}
