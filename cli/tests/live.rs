//! Live delivery (`Client::live`, waiting retrieves) on a real 9-node devnet over HTTP, every
//! request through a 3-hop onion path: a message sent while the wait is held answers it, a
//! wait whose path dies mid-wait comes back with what was stored meanwhile (once), and a
//! swarm whose nodes hold no waits is polled instead.
// The tests poll the nodes until a wait is held.
#![allow(clippy::disallowed_methods)]
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use murmur_core::client::{MemoryStore, Step};
use murmur_node::devnet::Devnet;
use murmur_testkit::devnet::{self, client, node_index, transport as http};
use murmur_testkit::identity;

/// Waits (polling) until some node of `net` holds a wait.
async fn until_a_wait_is_held(net: &Devnet) {
    for _ in 0..1000 {
        let held: usize = (0..net.len())
            .filter_map(|i| net.node(i))
            .map(|n| n.node.storage.waiters().held())
            .sum();
        if held > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no node ever held a wait");
}

fn texts(step: &Step) -> Vec<String> {
    match step {
        Step::Waited(m) | Step::Polled(m) => m.iter().map(|m| m.text.clone()).collect(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_sent_during_a_wait_answers_it_and_shows_once() {
    let (net, _dir) = devnet::start(9, 500).await;
    let (a_id, b_id) = (identity(21), identity(22));
    let b_session = b_id.session_id();
    let a = client(&net, a_id, http(), MemoryStore::new(), 0, 31);
    let b = client(&net, b_id, http(), MemoryStore::new(), 0, 32);
    assert!(b.poll().await.unwrap().is_empty());

    let (step, sent) = tokio::join!(b.live(), async {
        until_a_wait_is_held(&net).await;
        a.send_text(&b_session, "live", None).await.unwrap()
    });
    let step = step.unwrap();
    assert!(matches!(step, Step::Waited(_)), "{step:?}");
    assert_eq!(texts(&step), ["live"]);
    assert!(sent.accepted_by >= 2);
    assert!(b.poll().await.unwrap().is_empty(), "handed out once");
    net.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_whose_path_dies_comes_back_with_what_was_stored_meanwhile_once() {
    let (mut net, _dir) = devnet::start(9, 500).await;
    let (a_id, b_id) = (identity(23), identity(24));
    let b_session = b_id.session_id();
    let a = client(&net, a_id, http(), MemoryStore::new(), 0, 33);
    let b = client(&net, b_id, http(), MemoryStore::new(), 0, 34);
    assert!(b.poll().await.unwrap().is_empty());
    let relay = b.current_path().await.unwrap().hops[1].ed25519.clone();

    let (step, ()) = tokio::join!(b.live(), async {
        until_a_wait_is_held(&net).await;
        // The wait's path breaks under it, and a message is stored while it is broken.
        net.stop_node(node_index(&net, &relay)).await;
        a.send_text(&b_session, "meanwhile", None).await.unwrap();
    });
    let step = step.unwrap();
    assert_eq!(texts(&step), ["meanwhile"]);
    let now = b.current_path().await.unwrap();
    assert!(now.hops.iter().all(|h| h.ed25519 != relay), "a new path");
    assert!(b.poll().await.unwrap().is_empty(), "handed out once");
    net.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_swarm_holding_no_waits_is_polled_instead() {
    let (net, _dir) = devnet::start(9, 500).await;
    let (a_id, b_id) = (identity(25), identity(26));
    let b_session = b_id.session_id();
    let a = client(&net, a_id, http(), MemoryStore::new(), 0, 35);
    let b = client(&net, b_id, http(), MemoryStore::new(), 0, 36);
    // Every node turns waits away (as one at its bound does: 503).
    for i in 0..net.len() {
        net.node(i).unwrap().node.storage.waiters().set_limits(4, 0);
    }
    a.send_text(&b_session, "polled", None).await.unwrap();
    let step = b.live().await.unwrap();
    assert!(matches!(step, Step::Polled(_)), "{step:?}");
    assert_eq!(texts(&step), ["polled"]);
    // Those members are not asked to wait again for a while: the next step polls at once.
    let step = b.live().await.unwrap();
    assert_eq!(step, Step::Polled(Vec::new()));
    let refused: u64 = (0..net.len())
        .map(|i| net.node(i).unwrap().node.storage.waiters().counts().1)
        .sum();
    assert_eq!(refused, 3, "each member of the swarm was asked once");
    net.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_senders_own_wait_does_not_hand_back_its_sync_copy() {
    let (net, _dir) = devnet::start(9, 500).await;
    let (a_id, b_id) = (identity(27), identity(28));
    let b_session = b_id.session_id();
    let a = client(&net, a_id, http(), MemoryStore::new(), 0, 37);
    assert!(a.poll().await.unwrap().is_empty());
    // A's wait is held in its own swarm when its sync copy lands there: it answers at once,
    // with nothing new for this device.
    let (step, _) = tokio::join!(a.live(), async {
        until_a_wait_is_held(&net).await;
        a.send_text(&b_session, "mine", None).await.unwrap()
    });
    assert_eq!(step.unwrap(), Step::Waited(Vec::new()));
    assert!(a.poll().await.unwrap().is_empty(), "nor later");
    net.stop().await;
}
