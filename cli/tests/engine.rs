//! The client engine (`murmur_core::client`) on a real 9-node devnet over HTTP: fault
//! tolerance with a long-running client, clock skew, and what a relay in the middle of a path
//! can see.
#![allow(clippy::unwrap_used)]

use std::cell::RefCell;
use std::rc::Rc;

use murmur_cli::platform::HttpTransport;
use murmur_core::client::{HttpResponse, MemoryStore, Transport, TransportError};
use murmur_core::onion::{Peeled, peel_layer};
use murmur_node::devnet::Devnet;
use murmur_testkit::devnet::{self, client, node_index, transport as http};
use murmur_testkit::identity;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_path_node_is_routed_around_without_restarting_the_client() {
    let (mut net, _dir) = devnet::start(9, 500).await;
    let (a_id, b_id) = (identity(1), identity(2));
    let b_session = b_id.session_id();
    let a = client(&net, a_id, http(), MemoryStore::new(), 0, 11);
    let b = client(&net, b_id, http(), MemoryStore::new(), 0, 12);

    a.send_text(&b_session, "one", None).await.unwrap();
    let first = a.current_path().await.unwrap();
    // Kill the middle relay, then the guard of whatever path replaces it.
    let relay = first.hops[1].ed25519.clone();
    net.stop_node(node_index(&net, &relay)).await;
    let sent = a.send_text(&b_session, "two", None).await.unwrap();
    assert!(sent.accepted_by >= 1);
    let second = a.current_path().await.unwrap();
    assert!(
        second.hops.iter().all(|h| h.ed25519 != relay),
        "the dead relay is left out"
    );

    let guard = second.hops[0].ed25519.clone();
    net.stop_node(node_index(&net, &guard)).await;
    a.send_text(&b_session, "three", None).await.unwrap();
    let third = a.current_path().await.unwrap();
    assert!(
        third
            .hops
            .iter()
            .all(|h| h.ed25519 != guard && h.ed25519 != relay)
    );
    assert!(!a.guards().contains(&guard), "a dead guard is replaced");

    let got = b.poll().await.unwrap();
    let texts: Vec<&str> = got.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["one", "two", "three"]);
    assert!(got.iter().all(|m| m.from == a.identity().session_id()));
    net.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_swarm_member_loses_nothing_acknowledged() {
    let (mut net, _dir) = devnet::start(9, 500).await;
    let (a_id, b_id) = (identity(3), identity(4));
    let b_session = b_id.session_id();
    let b_store = MemoryStore::new();
    let a = client(&net, a_id, http(), MemoryStore::new(), 0, 13);
    let b = client(&net, b_id, http(), &b_store, 0, 14);

    for i in 0..5 {
        a.send_text(&b_session, &format!("before {i}"), None)
            .await
            .unwrap();
    }
    assert_eq!(b.poll().await.unwrap().len(), 5);
    for i in 0..5 {
        let sent = a
            .send_text(&b_session, &format!("after {i}"), None)
            .await
            .unwrap();
        assert!(sent.accepted_by >= 2, "a quorum acknowledged");
    }
    // Kill a member B polls from (one holding its last_hash: B reads two and merges).
    let polled: Vec<String> = b_store
        .keys()
        .into_iter()
        .filter_map(|k| k.strip_prefix("last_hash.").map(|r| r[..64].to_string()))
        .collect();
    assert_eq!(polled.len(), 2, "B polled two members");
    net.stop_node(node_index(&net, &polled[0])).await;

    let got = b.poll().await.unwrap();
    let texts: Vec<String> = got.into_iter().map(|m| m.text).collect();
    assert_eq!(
        texts,
        (0..5).map(|i| format!("after {i}")).collect::<Vec<_>>(),
        "all acknowledged messages, none twice"
    );
    assert!(b.poll().await.unwrap().is_empty());
    net.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ten_minute_clock_skew_still_sends_and_receives() {
    let (net, _dir) = devnet::start(9, 500).await;
    let (a_id, b_id) = (identity(5), identity(6));
    let (a_session, b_session) = (a_id.session_id(), b_id.session_id());
    const TEN_MINUTES: i64 = 10 * 60 * 1000;
    let a = client(&net, a_id, http(), MemoryStore::new(), TEN_MINUTES, 15);
    let b = client(&net, b_id, http(), MemoryStore::new(), -TEN_MINUTES, 16);

    a.send_text(&b_session, "from the future", None)
        .await
        .unwrap();
    b.send_text(&a_session, "from the past", None)
        .await
        .unwrap();
    // The sender's own device does not get its sync copy back; another device of the same
    // identity does, marked with the real recipient.
    let at_b = b.poll().await.unwrap();
    let at_a = a.poll().await.unwrap();
    let b_other = client(&net, identity(6), http(), MemoryStore::new(), 0, 25);
    let b_sync: Vec<_> = b_other
        .poll()
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.sync_target.is_some())
        .collect();
    assert_eq!(b_sync.len(), 1);
    assert_eq!(b_sync[0].sync_target, Some(a_session));
    assert_eq!(b_sync[0].text, "from the past");
    assert_eq!(at_b.len(), 1);
    assert_eq!(at_b[0].text, "from the future");
    assert_eq!(at_a.len(), 1);
    assert_eq!(at_a[0].text, "from the past");
    // The clients learnt the network's time: their offsets undo the skew (within 5 s).
    assert!((a.clock_offset_ms().unwrap() + TEN_MINUTES).abs() < 5_000);
    assert!((b.clock_offset_ms().unwrap() - TEN_MINUTES).abs() < 5_000);
    // And the message carries network time, not the skewed local time.
    let real_now =
        murmur_core::client::Clock::now_ms(&murmur_cli::platform::SystemClock::default());
    assert!(at_b[0].sent_ms.abs_diff(real_now) < 60_000);
    net.stop().await;
}

/// A POST as sent: URL and body.
type Post = (String, Vec<u8>);

/// Records every request the client sends, and forwards it.
#[derive(Clone)]
struct Recording {
    inner: HttpTransport,
    posts: Rc<RefCell<Vec<Post>>>,
    gets: Rc<RefCell<Vec<String>>>,
}

impl Transport for Recording {
    async fn post(&self, url: &str, body: Vec<u8>) -> Result<HttpResponse, TransportError> {
        self.posts
            .borrow_mut()
            .push((url.to_string(), body.clone()));
        self.inner.post(url, body).await
    }

    async fn get(&self, url: &str) -> Result<HttpResponse, TransportError> {
        self.gets.borrow_mut().push(url.to_string());
        self.inner.get(url).await
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Peels `body` with node `ed25519`'s key, as that node does, expecting a relay layer: the
/// next node and the body sent to it.
fn relay_as(net: &Devnet, ed25519: &str, body: &[u8]) -> ([u8; 32], Vec<u8>) {
    let key = net
        .node(node_index(net, ed25519))
        .unwrap()
        .node
        .identity
        .onion_key();
    match peel_layer(key, body).unwrap() {
        Peeled::RelayToNode {
            destination_ed25519,
            body,
        } => (destination_ed25519, body),
        _ => panic!("expected a relay layer"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_in_the_middle_of_a_path_sees_no_session_id() {
    let (net, _dir) = devnet::start(9, 500).await;
    let (a_id, b_id) = (identity(7), identity(8));
    let (a_session, b_session) = (a_id.session_id(), b_id.session_id());
    let secrets: Vec<Vec<u8>> = [&a_session, &b_session]
        .iter()
        .flat_map(|s| {
            let hex = s.to_string();
            vec![
                hex.as_bytes().to_vec(),
                hex.as_bytes()[2..].to_vec(),
                s.as_bytes().to_vec(),
                s.x25519_pubkey().to_vec(),
            ]
        })
        .chain([
            hex::encode(a_id.ed25519_pubkey().to_bytes()).into_bytes(),
            a_id.ed25519_pubkey().to_bytes().to_vec(),
        ])
        .collect();
    let recording = Recording {
        inner: http(),
        posts: Rc::default(),
        gets: Rc::default(),
    };
    let a = client(&net, a_id, recording.clone(), MemoryStore::new(), 0, 17);
    let b = client(&net, b_id, http(), MemoryStore::new(), 0, 18);
    a.send_text(&b_session, "metadata test", None)
        .await
        .unwrap();
    b.send_text(&a_session, "reply", None).await.unwrap();
    let at_a = a.poll().await.unwrap();
    assert_eq!(at_a.iter().filter(|m| m.sync_target.is_none()).count(), 1);

    let posts = recording.posts.borrow().clone();
    assert!(posts.len() >= 4, "info, store, sync copy, retrieve");
    let info = net.info();
    let mut finals_with_an_id = 0;
    for (url, body) in posts.iter() {
        // Everything goes through onion paths; nothing reaches storage_rpc directly.
        assert!(url.ends_with("/onion_req/v2"), "{url}");
        let guard = info
            .nodes
            .iter()
            .position(|n| url.starts_with(&n.url))
            .unwrap();
        let (middle_ed, to_middle) = relay_as(&net, &info.nodes[guard].ed25519, body);
        // The middle relay's decrypted layer: where to send next and an opaque blob.
        let (last_ed, to_last) = relay_as(&net, &hex::encode(middle_ed), &to_middle);
        for secret in &secrets {
            assert!(
                !contains(&to_middle, secret),
                "the middle's input holds a Session ID"
            );
            assert!(
                !contains(&to_last, secret),
                "the middle's decrypted layer holds a Session ID"
            );
            assert!(!contains(&last_ed, secret));
        }
        // The check can see an ID when there is one: the destination's layer names the account.
        let (dest_ed, to_dest) = relay_as(&net, &hex::encode(last_ed), &to_last);
        let dest = node_index(&net, &hex::encode(dest_ed));
        let dest_key = net.node(dest).unwrap().node.identity.onion_key();
        if let Peeled::Final { request, .. } = peel_layer(dest_key, &to_dest).unwrap()
            && secrets.iter().any(|s| contains(&request, s))
        {
            finals_with_an_id += 1;
        }
    }
    assert!(
        finals_with_an_id >= 3,
        "store, sync and retrieve name an account"
    );
    net.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disappearing_message_carries_its_timer_and_the_matching_ttl() {
    let (net, _dir) = devnet::start(9, 500).await;
    let (a_id, b_id) = (identity(9), identity(10));
    let b_session = b_id.session_id();
    let a = client(&net, a_id, http(), MemoryStore::new(), 0, 19);
    let b = client(&net, b_id, http(), MemoryStore::new(), 0, 20);
    let sent = a
        .send_text(&b_session, "gone in 60 s", Some(60))
        .await
        .unwrap();
    assert_eq!(sent.expiry_ms - sent.sent_ms, 60_000);
    let kept = a.send_text(&b_session, "kept", None).await.unwrap();
    assert_eq!(kept.expiry_ms - kept.sent_ms, 14 * 24 * 3600 * 1000);
    let got = b.poll().await.unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].disappear_after_s, Some(60));
    assert_eq!(
        got[0].expires_ms - got[0].sent_ms,
        60_000,
        "the swarm's TTL"
    );
    assert_eq!(got[1].disappear_after_s, None);
    assert_eq!(got[1].expires_ms - got[1].sent_ms, 14 * 24 * 3600 * 1000);
    net.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moved_swarm_is_followed_through_421() {
    let (mut net, _dir) = devnet::start(9, 500).await;
    let (a_id, b_id) = (identity(21), identity(22));
    let b_session = b_id.session_id();
    let a = client(&net, a_id, http(), MemoryStore::new(), 0, 23);
    let b = client(&net, b_id, http(), MemoryStore::new(), 0, 24);
    a.send_text(&b_session, "before the move", None)
        .await
        .unwrap();
    b.ready().await.unwrap();
    assert_eq!(a.manifest().unwrap().manifest.sequence, 1);

    // The operator reshuffles the swarms: every node moves to the next swarm id, so no member
    // of B's swarm stays in it.
    let old = net.manifest.manifest.clone();
    let ids = old.swarm_ids();
    let mut moved = old.clone();
    for node in &mut moved.nodes {
        let at = ids.iter().position(|s| s.0 == node.swarm_id).unwrap();
        node.swarm_id = ids[(at + 1) % ids.len()].0;
    }
    let b_swarm = old.swarm_for_key(&b_session.x25519_pubkey()).unwrap();
    let before: Vec<_> = old
        .members(b_swarm)
        .into_iter()
        .map(|n| n.ed25519.clone())
        .collect();
    let after: Vec<_> = moved
        .members(b_swarm)
        .into_iter()
        .map(|n| n.ed25519.clone())
        .collect();
    assert!(before.iter().all(|n| !after.contains(n)));
    net.publish(moved).unwrap();
    // Nodes reload the manifest every 2 s.
    let http = http();
    for _ in 0..100 {
        let mut all = true;
        for n in &net.info().network.seeds {
            let r = http.get(&format!("{n}/network")).await.unwrap();
            let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            all &= v["manifest"]["sequence"] == 2;
        }
        if all {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    // A still holds manifest 1, so it asks B's old swarm and gets 421; it then fetches the
    // operator's newer manifest (a node's own list is not taken) and delivers to the swarm
    // that manifest assigns.
    let sent = a
        .send_text(&b_session, "after the move", None)
        .await
        .unwrap();
    assert!(sent.accepted_by >= 1);
    assert_eq!(
        a.manifest().unwrap().manifest.sequence,
        2,
        "the 421 made A refresh the manifest"
    );

    // B (also on manifest 1) polls its new swarm; the old message arrives by handoff.
    let mut texts = Vec::new();
    for _ in 0..60 {
        texts.extend(b.poll().await.unwrap().into_iter().map(|m| m.text));
        if texts.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    texts.sort();
    assert_eq!(texts, ["after the move", "before the move"]);
    net.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_messenger_files_states_sync_copies_blocks_and_retries() {
    use murmur_core::history::{Delivery, History};
    use murmur_core::messenger::Messenger;

    let (mut net, _dir) = devnet::start(9, 500).await;
    let (a_session, b_session) = (identity(31).session_id(), identity(32).session_id());
    let messenger = |seed: u64, rng: u64| {
        Messenger::new(
            client(&net, identity(seed), http(), MemoryStore::new(), 0, rng),
            History::new(MemoryStore::new()),
        )
    };
    let a = messenger(31, 41);
    let a_laptop = messenger(31, 42);
    let b = messenger(32, 43);

    for text in ["one", "two"] {
        a.send(&b_session, text).await.unwrap();
    }
    let sent = a.history.page(&b_session.to_string(), 0).await.unwrap();
    assert!(
        sent.iter()
            .all(|m| m.delivery == Delivery::Sent && !m.id.starts_with("local-"))
    );
    // A's own device gets nothing back; B gets both, unread; A's laptop gets both as outgoing.
    assert!(a.poll().await.unwrap().is_empty());
    assert_eq!(
        b.away_longer_than_ttl().await.unwrap(),
        None,
        "never polled"
    );
    assert_eq!(b.poll().await.unwrap(), [a_session.to_string()]);
    let at_b = b.history.conversations().await.unwrap();
    assert_eq!((at_b[0].unread, at_b[0].messages), (2, 2));
    assert_eq!(a_laptop.poll().await.unwrap(), [b_session.to_string()]);
    let laptop = a_laptop
        .history
        .page(&b_session.to_string(), 0)
        .await
        .unwrap();
    assert_eq!(
        laptop
            .iter()
            .map(|m| (m.outgoing, m.text.as_str()))
            .collect::<Vec<_>>(),
        [(true, "one"), (true, "two")]
    );
    assert!(b.poll().await.unwrap().is_empty(), "nothing twice");

    // A successful poll is recorded in network time; a record older than the TTL is reported.
    let now = b.client.network_now_ms();
    let caught_up = b.history.caught_up_ms().await.unwrap().unwrap();
    assert!(now.abs_diff(caught_up) < 60_000);
    assert_eq!(b.away_longer_than_ttl().await.unwrap(), None);
    let fifteen_days = 15 * 24 * 3600 * 1000;
    b.history
        .set_caught_up_ms(now - fifteen_days)
        .await
        .unwrap();
    let away = b.away_longer_than_ttl().await.unwrap().unwrap();
    assert!(away >= fifteen_days && away < fifteen_days + 60_000);

    // B blocks A: A's next message is dropped on arrival.
    b.history
        .set_blocked(&a_session.to_string(), true)
        .await
        .unwrap();
    a.send(&b_session, "blocked").await.unwrap();
    assert!(b.poll().await.unwrap().is_empty());
    assert_eq!(b.history.conversations().await.unwrap()[0].messages, 2);

    // The whole network down: the message is kept as Failed; once back, retry sends it.
    for i in 0..net.len() {
        net.stop_node(i).await;
    }
    assert!(a.send(&b_session, "later").await.is_err());
    let page = a.history.page(&b_session.to_string(), 0).await.unwrap();
    let failed = page.last().unwrap().clone();
    assert_eq!(
        (failed.text.as_str(), failed.delivery),
        ("later", Delivery::Failed)
    );
    for i in 0..net.len() {
        net.restart_node(i).await.unwrap();
    }
    let hash = a.retry(&b_session, &failed.id, "later").await.unwrap();
    let page = a.history.page(&b_session.to_string(), 0).await.unwrap();
    let last = page.last().unwrap();
    assert_eq!(
        (last.id.as_str(), last.delivery),
        (hash.as_str(), Delivery::Sent)
    );
    net.stop().await;
}

/// "Delete for everyone" through the messenger the web app runs: A's message leaves A's
/// history, B's (on B's next poll) and A's other device's, and both swarms (B's copy, A's sync
/// copy); the list shows the message before it. An unsend request naming a message its sender
/// did not write changes nothing; deleting a message that is not ours, or not there, is a
/// clear error that changes nothing; so is trying with the network down. "Delete for me"
/// takes one side's copy only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_messenger_deletes_for_everyone_on_both_sides_and_in_the_swarms() {
    use murmur_core::history::{History, HistoryError};
    use murmur_core::message::Body;
    use murmur_core::message::extras::{Extras, MessageRef};
    use murmur_core::messenger::{Messenger, MessengerError};
    use murmur_testkit::requests::{swarm_holds, swarm_lets_go};

    let (mut net, _dir) = devnet::start(9, 500).await;
    let (a_id, b_id) = (identity(51), identity(52));
    let (a_session, b_session) = (a_id.session_id(), b_id.session_id());
    let (a_hex, b_hex) = (a_session.to_string(), b_session.to_string());
    let messenger = |seed: u64, rng: u64| {
        Messenger::new(
            client(&net, identity(seed), http(), MemoryStore::new(), 0, rng),
            History::new(MemoryStore::new()),
        )
    };
    let (a, a_laptop, b) = (messenger(51, 61), messenger(51, 62), messenger(52, 63));

    a.send(&b_session, "see you at noon").await.unwrap();
    let oops = a.send(&b_session, "oops, wrong chat").await.unwrap();
    let sent = a.history.page(&b_hex, 0).await.unwrap();
    let sync_hash = sent[1]
        .sync_hash
        .clone()
        .expect("the sync copy's hash is kept");
    b.poll().await.unwrap();
    a_laptop.poll().await.unwrap();
    assert_eq!(b.history.conversations().await.unwrap()[0].messages, 2);
    assert!(swarm_holds(&net, &b_id, &oops).await);
    assert!(swarm_holds(&net, &a_id, &sync_hash).await);

    // B, lying, asks everyone to delete A's message: readers drop it, nothing changes.
    let forged = Extras {
        unsend: Some(MessageRef {
            sent_ms: sent[0].sent_ms,
            author: a_session,
        }),
        ..Default::default()
    };
    b.client
        .send_with_extras(&a_session, &Body::text(""), &forged, None)
        .await
        .unwrap();
    a.poll().await.unwrap();
    assert_eq!(a.history.page(&b_hex, 0).await.unwrap().len(), 2);
    // Only our own sent messages can be deleted for everyone.
    let theirs = b.history.page(&a_hex, 0).await.unwrap()[0].id.clone();
    for (who, peer, id) in [
        (&b, &a_session, theirs.as_str()),
        (&a, &b_session, "no-such-id"),
    ] {
        assert!(matches!(
            who.delete_for_everyone(peer, id).await,
            Err(MessengerError::History(HistoryError::NoMessage))
        ));
    }
    assert_eq!(b.history.page(&a_hex, 0).await.unwrap().len(), 2);

    a.delete_for_everyone(&b_session, &oops).await.unwrap();
    let texts = |page: Vec<murmur_core::history::MessageRecord>| {
        page.into_iter().map(|m| m.text).collect::<Vec<_>>()
    };
    assert_eq!(
        texts(a.history.page(&b_hex, 0).await.unwrap()),
        ["see you at noon"]
    );
    swarm_lets_go(&net, &a_id, &sync_hash).await;
    // B's next poll takes it out of B's history and B's swarm; so does A's other device.
    assert_eq!(b.poll().await.unwrap(), std::slice::from_ref(&a_hex));
    assert_eq!(
        texts(b.history.page(&a_hex, 0).await.unwrap()),
        ["see you at noon"]
    );
    let at_b = &b.history.conversations().await.unwrap()[0];
    assert_eq!(
        (at_b.messages, at_b.last_text.as_str()),
        (1, "see you at noon")
    );
    assert!(at_b.unread <= 1);
    swarm_lets_go(&net, &b_id, &oops).await;
    a_laptop.poll().await.unwrap();
    assert_eq!(
        texts(a_laptop.history.page(&b_hex, 0).await.unwrap()),
        ["see you at noon"]
    );

    // Sent and taken back while B was away: B's next poll brings both, and files neither.
    let blink = a.send(&b_session, "gone in a blink").await.unwrap();
    a.delete_for_everyone(&b_session, &blink).await.unwrap();
    b.poll().await.unwrap();
    assert_eq!(
        texts(b.history.page(&a_hex, 0).await.unwrap()),
        ["see you at noon"]
    );
    swarm_lets_go(&net, &b_id, &blink).await;

    // For me: B's copy goes from B's history and swarm; A keeps its own.
    let noon = b.history.page(&a_hex, 0).await.unwrap()[0].id.clone();
    b.delete_for_me(&a_hex, &noon).await.unwrap();
    assert!(b.history.page(&a_hex, 0).await.unwrap().is_empty());
    swarm_lets_go(&net, &b_id, &noon).await;
    assert_eq!(
        texts(a.history.page(&b_hex, 0).await.unwrap()),
        ["see you at noon"]
    );
    assert!(matches!(
        b.delete_for_me(&a_hex, &noon).await,
        Err(MessengerError::History(HistoryError::NoMessage))
    ));

    // With the network down the request cannot go: an error, and the message stays.
    let kept = a.send(&b_session, "still here").await.unwrap();
    for i in 0..net.len() {
        net.stop_node(i).await;
    }
    assert!(matches!(
        a.delete_for_everyone(&b_session, &kept).await,
        Err(MessengerError::Client(_))
    ));
    assert_eq!(
        texts(a.history.page(&b_hex, 0).await.unwrap()),
        ["see you at noon", "still here"]
    );
    // A message that failed to send is in no swarm: it is deleted for me without the network.
    assert!(a.send(&b_session, "never sent").await.is_err());
    let failed = a.history.page(&b_hex, 0).await.unwrap()[2].id.clone();
    a.delete_for_me(&b_hex, &failed).await.unwrap();
    assert_eq!(
        texts(a.history.page(&b_hex, 0).await.unwrap()),
        ["see you at noon", "still here"]
    );
    net.stop().await;
}
