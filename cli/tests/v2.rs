//! Protocol v2 on a real 9-node devnet over HTTP, every request through a 3-hop onion path:
//! a device founds its account's device group and publishes its keys at −21 on first use;
//! senders then seal forward-secret, post-quantum v2 to it (sync copies too), and v1 to an
//! account that publishes nothing (a temporary session); a second device restored from the
//! same seed finds the group and does not found another, is linked from the first (the same
//! emoji on both), reads v2, and once removed reads nothing sealed after; and nodes that hand
//! out a forged −21 record (keys of someone else) get a v1 message, never one sealed to the
//! forger's keys.
#![allow(clippy::unwrap_used)]

use murmur_cli::platform::DirStore;
use murmur_core::client::v2::{
    DeviceInfo, NAMESPACE_DEVICES, NAMESPACE_OUTBOX, Protocol, V2Status,
};
use murmur_core::client::{ClientConfig, MemoryStore};
use murmur_core::rpc::{AccountId, message_hash};
use murmur_core::v2::devices::table::DeviceState;
use murmur_core::v2::{keys::KemKeys, record};
use murmur_node::devnet::Devnet;
use murmur_node::storage::StoredMessage;
use murmur_testkit::devnet::{self, client_with, config, network, transport as http};
use murmur_testkit::{identity, now_ms};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;

fn publishing(net: &Devnet) -> ClientConfig {
    let mut c = config(network(net));
    c.v2_publish = true;
    c.device_kind = "c".into();
    c.device_description = "test".into();
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_keys_bring_forward_secret_messages_and_silence_brings_v1() {
    let (net, dir) = devnet::start(9, 500).await;
    let (a_id, b_id, c_id) = (identity(61), identity(62), identity(63));
    let (b_sid, c_sid) = (b_id.session_id(), c_id.session_id());
    let a_home = dir.path().join("a");
    let a = client_with(
        publishing(&net),
        a_id.clone(),
        http(),
        DirStore::open(&a_home).unwrap(),
        0,
        1,
    );
    let b = client_with(publishing(&net), b_id, http(), MemoryStore::new(), 0, 2);
    // A temporary session: publishes nothing.
    let c = client_with(
        config(network(&net)),
        c_id,
        http(),
        MemoryStore::new(),
        0,
        3,
    );

    let V2Status::Member {
        devices, published, ..
    } = b.maintain_v2().await.unwrap()
    else {
        panic!("a new account founds its device group");
    };
    assert_eq!((devices, published), (1, true));
    assert_eq!(c.maintain_v2().await.unwrap(), V2Status::Off);

    let sent = a.send_text(&b_sid, "post-quantum", None).await.unwrap();
    assert_eq!(sent.protocol, Protocol::V2Pfs);
    assert!(sent.synced);
    let got = b.poll().await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].text.as_str(), got[0].protocol),
        ("post-quantum", Protocol::V2Pfs)
    );
    assert_eq!(got[0].from, a_id.session_id());

    let sent = a.send_text(&c_sid, "classic", None).await.unwrap();
    assert_eq!(sent.protocol, Protocol::V1);
    let got = c.poll().await.unwrap();
    assert_eq!(
        (got[0].text.as_str(), got[0].protocol),
        ("classic", Protocol::V1)
    );
    // C answers: B's keys are published, so even a temporary session sends v2 to B.
    assert_eq!(
        c.send_text(&b_sid, "from c", None).await.unwrap().protocol,
        Protocol::V2Pfs
    );

    // A's sync copies were sealed to A's own account key: another process of the same device
    // (its keys, none of its seen set) opens them as v2, forward secret.
    let copy_home = dir.path().join("a-copy");
    std::fs::create_dir_all(&copy_home).unwrap();
    for entry in std::fs::read_dir(&a_home).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        if name.starts_with("v2.") {
            std::fs::copy(entry.path(), copy_home.join(&name)).unwrap();
        }
    }
    let a_again = client_with(
        publishing(&net),
        a_id.clone(),
        http(),
        DirStore::open(&copy_home).unwrap(),
        0,
        4,
    );
    let copies = a_again.poll().await.unwrap();
    assert_eq!(copies.len(), 2, "{copies:?}");
    assert!(
        copies
            .iter()
            .all(|m| m.protocol == Protocol::V2Pfs && m.sync_target.is_some())
    );

    // The same account restored on a new device finds the group: it does not found another
    // (it must be linked), and publishes nothing.
    let restored = client_with(publishing(&net), a_id, http(), MemoryStore::new(), 0, 5);
    assert_eq!(restored.maintain_v2().await.unwrap(), V2Status::Unlinked);
    assert_eq!(restored.maintain_v2().await.unwrap(), V2Status::Unlinked);
    net.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_outbox_record_from_lying_nodes_gets_v1_not_the_forgers_keys() {
    let (net, _dir) = devnet::start(9, 500).await;
    let (a_id, b_id) = (identity(64), identity(65));
    let b_sid = b_id.session_id();
    let a = client_with(
        config(network(&net)),
        a_id,
        http(),
        MemoryStore::new(),
        0,
        6,
    );
    let b = client_with(
        config(network(&net)),
        b_id,
        http(),
        MemoryStore::new(),
        0,
        7,
    );

    // Every node holds, as B's −21 record, keys of Mallory's signed by Mallory.
    let mallory = identity(66);
    let forged = record::encode(
        &mallory,
        &KemKeys::account(&[6; 32]),
        &mut ChaCha20Rng::seed_from_u64(8),
    );
    assert!(record::parse(&b_sid, &forged).is_err());
    let account = AccountId::from(b_sid);
    let now = now_ms();
    for i in 0..net.len() {
        let node = net.node(i).unwrap();
        let message = StoredMessage {
            id: 0,
            account,
            namespace: NAMESPACE_OUTBOX,
            hash: message_hash(&account, NAMESPACE_OUTBOX, &forged),
            timestamp: now,
            expiry: now + 3_600_000,
            data: forged.clone(),
        };
        node.node.storage.store(&message, true).unwrap();
    }

    let sent = a.send_text(&b_sid, "not for mallory", None).await.unwrap();
    assert_eq!(sent.protocol, Protocol::V1);
    let got = b.poll().await.unwrap();
    assert_eq!(
        (got[0].text.as_str(), got[0].protocol),
        ("not for mallory", Protocol::V1)
    );
    net.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_linked_device_reads_v2_and_once_removed_reads_nothing_new() {
    let (net, _dir) = devnet::start(9, 500).await;
    let (a_id, b_id) = (identity(67), identity(68));
    let a_sid = a_id.session_id();
    let a1 = client_with(
        publishing(&net),
        a_id.clone(),
        http(),
        MemoryStore::new(),
        0,
        11,
    );
    let a2 = client_with(publishing(&net), a_id, http(), MemoryStore::new(), 0, 12);
    let b = client_with(
        config(network(&net)),
        b_id.clone(),
        http(),
        MemoryStore::new(),
        0,
        13,
    );
    assert!(matches!(
        a1.maintain_v2().await.unwrap(),
        V2Status::Member { .. }
    ));
    let sent = b.send_text(&a_sid, "before linking", None).await.unwrap();
    assert_eq!(sent.protocol, Protocol::V2Pfs);

    // The account restored on a second device: it asks to join, and both screens show the
    // same emoji.
    assert_eq!(a2.maintain_v2().await.unwrap(), V2Status::Unlinked);
    let started = a2.link_device().await.unwrap();
    assert!(
        !a2.link_accepted().await.unwrap(),
        "not before the other device accepts"
    );
    let requests = a1.link_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].emoji, started.emoji);
    assert_eq!(requests[0].emoji.split(' ').count(), 7);
    let a2_device = requests[0].id;
    a1.accept_device(&a2_device).await.unwrap();
    assert!(a2.link_accepted().await.unwrap());
    let V2Status::Member {
        devices, group_id, ..
    } = a2.maintain_v2().await.unwrap()
    else {
        panic!("linked");
    };
    assert_eq!((devices, group_id), (2, started.group_id));
    let registered = |list: &[DeviceInfo]| {
        list.iter()
            .filter(|d| d.state == DeviceState::Registered)
            .count()
    };
    assert_eq!(registered(&a1.devices().await.unwrap()), 2);
    assert!(
        a1.link_requests().await.unwrap().is_empty(),
        "accepted: not offered again"
    );

    // Both devices read, as v2 with forward secrecy, what came before and after the link.
    b.send_text(&a_sid, "to both", None).await.unwrap();
    for device in [&a1, &a2] {
        let got = device.poll().await.unwrap();
        let texts: Vec<&str> = got.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts, ["before linking", "to both"]);
        assert!(got.iter().all(|m| m.protocol == Protocol::V2Pfs));
    }

    // Removed, the second device reads nothing sealed to the account key made with its
    // removal (a sender that fetches keys anew uses it).
    a1.remove_device(&a2_device).await.unwrap();
    let b_fresh = client_with(
        config(network(&net)),
        b_id,
        http(),
        MemoryStore::new(),
        0,
        14,
    );
    let sent = b_fresh
        .send_text(&a_sid, "after removal", None)
        .await
        .unwrap();
    assert_eq!(sent.protocol, Protocol::V2Pfs);
    let got = a1.poll().await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].text.as_str(), got[0].protocol),
        ("after removal", Protocol::V2Pfs)
    );
    assert!(a2.poll().await.unwrap().is_empty());
    let seen_by_a2 = a2.devices().await.unwrap();
    assert!(
        seen_by_a2
            .iter()
            .any(|d| d.this_device && d.state == DeviceState::Kicked)
    );

    // Each push deleted the group messages it superseded: one is left, on every member.
    let account = AccountId::from(a_sid);
    let mut holders = 0;
    for i in 0..net.len() {
        let (held, _) = net
            .node(i)
            .unwrap()
            .node
            .storage
            .retrieve(&account, NAMESPACE_DEVICES, "", 0, 1000, usize::MAX)
            .unwrap();
        let groups = held
            .iter()
            .filter(|m| m.data.starts_with(b"d0:1:G"))
            .count();
        if !held.is_empty() {
            holders += 1;
            assert_eq!(groups, 1, "node {i} holds {groups} group messages");
        }
    }
    assert!(holders >= 2, "the swarm's members hold it");
    net.stop().await;
}
