//! Byzantine nodes: a node in the signed manifest, holding its real keys, run by an attacker
//! (`murmur_testkit::liar`). Each test puts one such node among honest `murmur-node` processes
//! and checks that its lie captures, hides or reaches nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use murmur_core::Identity;
use murmur_core::client::{MemoryStore, Store, Transport};
use murmur_core::onion::{Destination, EncType, RelayError, build_onion_request};
use murmur_core::rpc::{AccountId, Namespace, Request};
use murmur_node::clock::Clock;
use murmur_node::identity::NodeIdentity;
use murmur_testkit::churn::{client, fast_config};
use murmur_testkit::devnet::{self, TestClient};
use murmur_testkit::identity;
use murmur_testkit::liar::{LiarHandle, Lie, corrupt};
use murmur_testkit::processes::{ProcessNet, node_bin};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;
use tokio::io::AsyncWriteExt as _;

async fn network(dir: &std::path::Path, nodes: usize) -> ProcessNet {
    ProcessNet::create(&node_bin(), dir, nodes, 500, "")
}

/// Polls `who` until `want` texts arrived (or 30 polls), in arrival order.
async fn receive<T: Transport, S: Store>(who: &TestClient<T, S>, want: usize) -> Vec<String> {
    let mut got = Vec::new();
    for _ in 0..30 {
        if let Ok(messages) = who.poll().await {
            got.extend(messages.into_iter().map(|m| m.text));
        }
        if got.len() >= want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    got
}

/// A fresh client of `id`'s that asks node `first` of `net` before the other members: it
/// holds a `last_hash` for that node (one the node does not know, so it serves from the start),
/// as after polling it before; a client prefers such a member.
async fn polling_first(
    net: &ProcessNet,
    id: &Identity,
    first: usize,
    seed: u64,
) -> TestClient<murmur_cli::platform::HttpTransport, MemoryStore> {
    let store = MemoryStore::new();
    let ed = &net.manifest.manifest.nodes[first].ed25519;
    store
        .put(&format!("last_hash.{ed}.0"), b"unknown".to_vec())
        .await
        .unwrap();
    devnet::client_with(
        fast_config(net.network()),
        id.clone(),
        devnet::transport(),
        store,
        0,
        seed,
    )
}

/// Attack 1: a member of B's swarm answers every request for an account with 421 and a
/// "swarm" of itself alone. Were that list taken, every send to B would go to the liar (and
/// fail or be dropped) and B's polls would read only the liar.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_naming_itself_the_swarm_by_421_captures_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut net = network(dir.path(), 9).await;
    let (a_id, b_id) = (identity(71), identity(72));
    let b_swarm = net.swarm_of(&b_id.session_id());
    let liar = corrupt(&mut net, b_swarm[0], Lie::ClaimSwarm).await;
    net.start_all().await;
    let a = client(net.network(), a_id, 1);
    let b = client(net.network(), b_id, 2);
    let mut sent = Vec::new();
    // Enough sends that the liar is asked, whatever order A tries the members in.
    for i in 0..30 {
        if liar.lies_told() >= 2 && i >= 3 {
            break;
        }
        let text = format!("message {i}");
        let ok = a
            .send_text(&b.identity().session_id(), &text, None)
            .await
            .unwrap_or_else(|e| panic!("{text}: captured by the 421: {e}"));
        assert!(ok.accepted_by >= 1);
        sent.push(text);
    }
    assert!(liar.lies_told() >= 1, "the liar was never asked");
    let got = receive(&b, sent.len()).await;
    assert_eq!(got, sent, "B reads every message despite the liar");
}

/// Attack 2: a manifest node answers the relay that calls it with `307 Location:` an address
/// inside the relay's network. The relay must not fetch it (server-side request forgery) nor
/// pass a redirect back; the client's own transport must not follow one either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_node_or_client_follows_a_redirect() {
    // The "internal service" the attacker wants read: it counts whoever reaches it.
    let secret = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let secret_port = secret.local_addr().unwrap().port();
    let reached = Arc::new(AtomicUsize::new(0));
    let counter = reached.clone();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = secret.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let _ = conn
                .write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\nconnection: close\r\n\r\nsecret",
                )
                .await;
        }
    });
    let location = format!("http://127.0.0.1:{secret_port}/latest/meta-data");

    let dir = tempfile::tempdir().unwrap();
    let mut net = network(dir.path(), 4).await;
    let liar = corrupt(&mut net, 1, Lie::Redirect(location.clone())).await;
    net.start_all().await;
    let nodes = net.manifest.manifest.nodes.clone();

    // An honest relay (node 0) asked to pass a request on to the liar (node 1).
    let built = build_onion_request(
        &[nodes[0].hop().unwrap()],
        &Destination::Node(nodes[1].hop().unwrap()),
        Request::Info.to_json().to_string().as_bytes(),
        EncType::XChaCha20,
        &mut ChaCha20Rng::seed_from_u64(9),
    )
    .unwrap();
    let reply = murmur_testkit::net::http()
        .post(nodes[0].endpoint("/onion_req/v2"))
        .body(built.body)
        .send()
        .await
        .unwrap();
    let status = reply.status().as_u16();
    let text = reply.text().await.unwrap();
    assert_eq!(liar.lies_told(), 1, "the relay called the liar");
    assert_eq!(
        reached.load(Ordering::SeqCst),
        0,
        "the relay followed the redirect"
    );
    assert_eq!(
        RelayError::parse(status, &text),
        Some(RelayError::InvalidResponse),
        "{status} {text}"
    );

    // The CLI's transport, talking to the liar as its guard, does not follow either.
    let answer = devnet::transport()
        .post(&nodes[1].endpoint("/onion_req/v2"), b"x".to_vec())
        .await
        .unwrap();
    assert_eq!(answer.status, 307);
    assert_eq!(
        reached.load(Ordering::SeqCst),
        0,
        "the client followed the redirect"
    );

    // The relay kept serving.
    let (status, _) = murmur_testkit::net::rpc(&nodes[0].url, &Request::Info).await;
    assert_eq!(status, 200);
}

/// The index in `net` of the node with Ed25519 key `ed`.
fn index_of(net: &ProcessNet, ed: &str) -> usize {
    net.manifest
        .manifest
        .nodes
        .iter()
        .position(|n| n.ed25519 == ed)
        .unwrap()
}

/// An identity whose swarm none of `avoid` (node indexes) is in.
fn recipient_outside(net: &ProcessNet, avoid: &[usize]) -> Option<Identity> {
    (100..400).map(identity).find(|id| {
        net.swarm_of(&id.session_id())
            .iter()
            .all(|i| !avoid.contains(i))
    })
}

/// Attack 8: the middle relay of a client's path answers that the client's own guard is
/// unreachable (unauthenticated text any hop can write). Were it believed, a relay could push
/// clients off their guards, towards one it colludes with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lying_relay_cannot_move_the_clients_guard() {
    let dir = tempfile::tempdir().unwrap();
    let mut net = network(dir.path(), 9).await;
    let mut liars: Vec<LiarHandle> = Vec::new();
    for i in 0..9 {
        liars.push(corrupt(&mut net, i, Lie::Honest).await);
    }
    net.start_all().await;
    // A client whose first path leaves one swarm out, and a recipient in that swarm, so the
    // send takes that path.
    let (a, path, to) = {
        let mut found = None;
        for seed in 0..50 {
            let a = client(net.network(), identity(80), seed);
            let path = a.current_path().await.unwrap();
            let hops: Vec<usize> = path
                .hops
                .iter()
                .map(|h| index_of(&net, &h.ed25519))
                .collect();
            if let Some(to) = recipient_outside(&net, &hops) {
                found = Some((a, path, to));
                break;
            }
        }
        found.expect("a path that leaves a swarm out")
    };
    let guards = a.guards();
    let guard = path.hops[0].ed25519.clone();
    let middle = index_of(&net, &path.hops[1].ed25519);
    liars[middle].set(Lie::Blame(guard.clone()));

    let sent = a.send_text(&to.session_id(), "through a liar", None).await;
    assert!(sent.is_ok(), "routed around the liar: {sent:?}");
    assert!(liars[middle].lies_told() >= 1, "the liar was on the path");
    assert_eq!(a.guards(), guards, "the lie moved the guard");
}

/// Attack 0, acknowledge-and-drop: a member of B's swarm signs for every store with its real
/// key and keeps nothing. While the honest members are up they sign too; once they are down
/// the liar is all A can reach, and its signature alone must not make a message "stored".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_member_signing_alone_does_not_make_a_message_stored() {
    let dir = tempfile::tempdir().unwrap();
    let mut net = network(dir.path(), 9).await;
    let (a_id, b_id) = (identity(73), identity(74));
    let b_session = b_id.session_id();
    let b_swarm = net.swarm_of(&b_session);
    let liar = corrupt(&mut net, b_swarm[0], Lie::AckAndDrop).await;
    net.start_all().await;
    let a = client(net.network(), a_id, 3);
    let kept = a.send_text(&b_session, "kept", None).await.unwrap();
    assert!(kept.accepted_by >= murmur_core::limits::MIN_STORE_ACKS);

    net.kill(b_swarm[1]);
    net.kill(b_swarm[2]);
    let dropped = a.send_text(&b_session, "dropped by the liar", None).await;
    assert!(liar.lies_told() >= 1, "the liar was asked");
    let error = dropped.expect_err("the liar's signature alone was taken as stored");
    assert!(
        error.to_string().contains("1 of the 2"),
        "the error says too few signed: {error}"
    );
}

/// Attack 0, hiding: a member of B's swarm answers every retrieve with nothing. Each poll
/// reads two members, so a client of B's that asks the liar first still finds A's message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_member_answering_nothing_hides_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut net = network(dir.path(), 9).await;
    let (a_id, b_id) = (identity(75), identity(76));
    let b_session = b_id.session_id();
    let b_swarm = net.swarm_of(&b_session);
    let liar = corrupt(&mut net, b_swarm[0], Lie::HideMessages).await;
    net.start_all().await;
    net.kill(b_swarm[2]);
    let a = client(net.network(), a_id, 5);
    a.send_text(&b_session, "not hidden", None).await.unwrap();
    for seed in 0..2 {
        let b = polling_first(&net, &b_id, b_swarm[0], 10 + seed).await;
        let got: Vec<String> = b
            .poll()
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.text)
            .collect();
        assert_eq!(got, ["not hidden"], "client {seed} of B");
    }
    assert!(liar.lies_told() >= 1, "the liar was asked");
}

/// A network of 9 with one liar in B's swarm, A's message `text` (disappearing after
/// `timer` seconds, if set) stored, and fresh clients of B's that ask the liar first, each
/// polling once: what each saw.
async fn fresh_polls_past(
    lie: Lie,
    text: &str,
    timer: Option<u32>,
    clients: u64,
) -> (Vec<Vec<murmur_core::client::Incoming>>, LiarHandle) {
    let dir = tempfile::tempdir().unwrap();
    let mut net = network(dir.path(), 9).await;
    let (a_id, b_id) = (identity(77), identity(78));
    let b_session = b_id.session_id();
    let b_swarm = net.swarm_of(&b_session);
    let liar = corrupt(&mut net, b_swarm[0], lie).await;
    net.start_all().await;
    let a = client(net.network(), a_id, 7);
    a.send_text(&b_session, text, timer).await.unwrap();
    let mut seen = Vec::new();
    for seed in 0..clients {
        let b = polling_first(&net, &b_id, b_swarm[0], 30 + seed).await;
        seen.push(b.poll().await.unwrap());
    }
    (seen, liar)
}

/// Attack 5, a hash that is not the data's: the liar serves the real hash with junk. Were its
/// hash taken, the message would be marked seen and the honest member's copy skipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junk_under_a_real_hash_does_not_hide_the_message() {
    let (seen, liar) = fresh_polls_past(Lie::CorruptData, "still shown", None, 2).await;
    for (i, got) in seen.iter().enumerate() {
        let texts: Vec<&str> = got.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(texts, ["still shown"], "client {i} of B");
    }
    assert!(liar.lies_told() >= 1, "the liar was asked");
}

/// Attack 5, a far expiration: the liar says a disappearing message lives until `u64::MAX`.
/// Its deadline is its signed time plus its timer, whoever serves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_far_expiration_does_not_keep_a_disappearing_message() {
    let (seen, liar) = fresh_polls_past(Lie::FarExpiry, "gone in a minute", Some(60), 2).await;
    for (i, got) in seen.iter().enumerate() {
        assert_eq!(got.len(), 1, "client {i} of B");
        assert_eq!(
            got[0].expires_ms,
            got[0].sent_ms + 60_000,
            "client {i} of B"
        );
    }
    assert!(liar.lies_told() >= 1, "the liar was asked");
}

/// Attack 5, replay: the liar serves every message again on every poll, with an expiration in
/// the past (so a seen-set entry kept until then would already be gone). A client of B's
/// asking the liar first sees A's message once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_message_with_a_past_expiration_is_shown_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut net = network(dir.path(), 9).await;
    let (a_id, b_id) = (identity(79), identity(81));
    let b_session = b_id.session_id();
    let b_swarm = net.swarm_of(&b_session);
    let liar = corrupt(&mut net, b_swarm[0], Lie::ReplayExpired).await;
    net.start_all().await;
    let a = client(net.network(), a_id, 9);
    a.send_text(&b_session, "once", None).await.unwrap();
    for seed in 0..2 {
        let b = polling_first(&net, &b_id, b_swarm[0], 50 + seed).await;
        let mut texts = Vec::new();
        for _ in 0..3 {
            texts.extend(b.poll().await.unwrap().into_iter().map(|m| m.text));
        }
        assert_eq!(texts, ["once"], "client {seed} of B");
    }
    assert!(liar.lies_told() >= 1, "the liar was asked");
}

/// Attack 5, last part: a member serves B pages of junk under hashes that match the junk
/// (so only opening it shows it is junk), 120,000 messages expiring far in the future. Were
/// junk remembered as seen, the set (at most 100,000 entries, soonest-expiring out first)
/// would drop the real message's entry, and a replay would show it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_junk_messages_crowd_out_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut net = network(dir.path(), 9).await;
    let (a_id, b_id) = (identity(94), identity(95));
    let b_session = b_id.session_id();
    let b_swarm = net.swarm_of(&b_session);
    let liar = corrupt(&mut net, b_swarm[0], Lie::Honest).await;
    net.start_all().await;
    let a = client(net.network(), a_id, 24);
    a.send_text(&b_session, "real", None).await.unwrap();
    let b = polling_first(&net, &b_id, b_swarm[0], 25).await;
    assert_eq!(receive(&b, 1).await, ["real"]);
    liar.set(Lie::FloodJunk);
    while liar.lies_told() < 120 {
        assert!(b.poll().await.unwrap().is_empty(), "junk was shown");
    }
    // The liar now serves everything it holds again, from the start.
    liar.set(Lie::ReplayExpired);
    let told = liar.lies_told();
    let mut again = Vec::new();
    for _ in 0..3 {
        again.extend(b.poll().await.unwrap().into_iter().map(|m| m.text));
    }
    assert!(liar.lies_told() > told, "the liar was asked");
    assert!(again.is_empty(), "shown again after the flood: {again:?}");
    a.send_text(&b_session, "after", None).await.unwrap();
    assert_eq!(receive(&b, 1).await, ["after"]);
}

/// Attack 6: one node's network time is a month off. Were its word the clock, a client would
/// sign every request a month off and the app would expire every disappearing message. The
/// clock is the median of several nodes; a device whose own clock is 10 minutes off still
/// follows the network, as the README promises.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_node_lying_about_the_time_does_not_set_the_clock() {
    const MONTH_MS: i64 = 30 * 24 * 3600 * 1000;
    let dir = tempfile::tempdir().unwrap();
    let mut net = network(dir.path(), 9).await;
    // The manifest's first node, which a client asked first before.
    let liar = corrupt(&mut net, 0, Lie::SkewClock(MONTH_MS)).await;
    net.start_all().await;
    let b_id = identity(82);
    let b = client(net.network(), b_id.clone(), 11);
    let mut sent = Vec::new();
    for (i, (lie, device_skew_ms)) in [(MONTH_MS, 0), (-MONTH_MS, 0), (MONTH_MS, -600_000)]
        .into_iter()
        .enumerate()
    {
        liar.set(Lie::SkewClock(lie));
        let told = liar.lies_told();
        let a = devnet::client_with(
            fast_config(net.network()),
            identity(83),
            devnet::transport(),
            MemoryStore::new(),
            device_skew_ms,
            60 + i as u64,
        );
        a.ready().await.unwrap();
        // Ask more nodes until the liar's time is among the samples.
        for _ in 0..30 {
            if liar.lies_told() > told {
                break;
            }
            a.sync_time().await.unwrap();
        }
        assert!(liar.lies_told() > told, "the liar was asked");
        let offset = a.clock_offset_ms().unwrap();
        assert!(
            (offset + device_skew_ms).abs() < 60_000,
            "case {i}: the offset {offset} ms follows the liar, not the network"
        );
        assert!(a.agreed_now_ms().is_some(), "case {i}: enough nodes agree");
        let text = format!("case {i}");
        a.send_text(&b_id.session_id(), &text, None)
            .await
            .unwrap_or_else(|e| panic!("case {i}: {e}"));
        sent.push(text);
    }
    let got = receive(&b, sent.len()).await;
    assert_eq!(got, sent, "nothing lost");
}

/// Attack 10, a refusal: one member refuses every request with 400. A refusal of the request
/// itself is final only when every member refuses it, so a client asking the liar first still
/// polls, and A's sends to B still go through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_member_refusing_everything_stops_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut net = network(dir.path(), 9).await;
    let (a_id, b_id) = (identity(84), identity(85));
    let b_session = b_id.session_id();
    let b_swarm = net.swarm_of(&b_session);
    let liar = corrupt(&mut net, b_swarm[0], Lie::Refuse).await;
    net.start_all().await;
    let a = client(net.network(), a_id, 13);
    let mut sent = Vec::new();
    for i in 0..4 {
        let text = format!("refused by one, {i}");
        a.send_text(&b_session, &text, None)
            .await
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        sent.push(text);
    }
    let b = polling_first(&net, &b_id, b_swarm[0], 14).await;
    let got: Vec<String> = b
        .poll()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert_eq!(got, sent);
    assert!(liar.lies_told() >= 1, "the liar was asked");
}

/// Attack 7: peer routes are signed by a manifest node, but that is not enough. A node outside
/// B's swarm (holding its real key) asks a member for the swarm's messages, and hands it a
/// made-up "handoff" for B; a member hands over a copy of a real message with an expiry of
/// `u64::MAX`. The first two are refused; the last is kept no longer than the longest TTL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peer_routes_serve_members_and_take_only_what_the_rules_allow() {
    use murmur_node::peer::Caller;
    use murmur_node::replication::{HANDOFF_PATH, Handoff, MESSAGES_PATH, PageReply, WireMessage};

    let dir = tempfile::tempdir().unwrap();
    let mut net = network(dir.path(), 9).await;
    net.start_all().await;
    let (a_id, b_id) = (identity(86), identity(87));
    let b_session = b_id.session_id();
    let b_swarm = net.swarm_of(&b_session);
    let outsider = (0..9).find(|i| !b_swarm.contains(i)).unwrap();
    let a = client(net.network(), a_id, 15);
    let sent = a
        .send_text(&b_session, "for B's swarm only", None)
        .await
        .unwrap();

    let keys = |i: usize| NodeIdentity::load_or_create(&net.nodes[i].data_dir).unwrap();
    let nodes = net.manifest.manifest.nodes.clone();
    let swarm_id = nodes[b_swarm[0]].swarm_id;
    let (clock, http) = (Clock::default(), murmur_testkit::net::http());
    let outsider_keys = keys(outsider);
    let as_outsider = Caller {
        signer: &outsider_keys,
        clock: &clock,
        http: &http,
    };
    let page = serde_json::json!({"after": 0, "limit": 500, "swarm_id": swarm_id});
    let (status, body) = as_outsider
        .post(
            &nodes[b_swarm[0]],
            MESSAGES_PATH,
            page.to_string().into_bytes(),
            Duration::from_secs(5),
        )
        .await
        .unwrap();
    assert_eq!(
        status,
        403,
        "an outsider read the swarm: {}",
        String::from_utf8_lossy(&body)
    );

    // Nor the group owners' logged revocations for it.
    let (status, _) = as_outsider
        .post(
            &nodes[b_swarm[0]],
            murmur_node::replication::SUBACCOUNTS_PATH,
            page.to_string().into_bytes(),
            Duration::from_secs(5),
        )
        .await
        .unwrap();
    assert_eq!(status, 403, "an outsider read the swarm's revocations");

    // A member may page through them; take B's message from it.
    let member_keys = keys(b_swarm[1]);
    let as_member = Caller {
        signer: &member_keys,
        clock: &clock,
        http: &http,
    };
    let (status, body) = as_member
        .post(
            &nodes[b_swarm[0]],
            MESSAGES_PATH,
            page.to_string().into_bytes(),
            Duration::from_secs(5),
        )
        .await
        .unwrap();
    assert_eq!(status, 200);
    let page: PageReply = serde_json::from_slice(&body).unwrap();
    assert!(
        page.messages.iter().any(|m| m.hash == sent.hash),
        "the member pages B's message"
    );

    // A message for B that a holder of B's account could hand on (its hash is right), kept
    // for a year.
    let account = AccountId::from(b_session);
    let data = b"handed on with a year to live".to_vec();
    let now = murmur_testkit::now_ms();
    let message = WireMessage {
        account: account.to_hex(),
        namespace: 0,
        hash: murmur_core::rpc::message_hash(&account, Namespace(0), &data),
        timestamp: now,
        expiry: now + 365 * murmur_testkit::DAY_MS,
        data: murmur_core::crypto::b64_encode(&data),
    };
    let planted = message.hash.clone();
    let handoff = serde_json::to_vec(&Handoff {
        messages: vec![message],
        changes: Vec::new(),
    })
    .unwrap();
    let (status, _) = as_outsider
        .post(
            &nodes[b_swarm[2]],
            HANDOFF_PATH,
            handoff.clone(),
            Duration::from_secs(5),
        )
        .await
        .unwrap();
    assert_eq!(status, 403, "an outsider's handoff was taken");
    let (status, _) = as_member
        .post(
            &nodes[b_swarm[2]],
            HANDOFF_PATH,
            handoff,
            Duration::from_secs(5),
        )
        .await
        .unwrap();
    assert_eq!(status, 200);
    let held = murmur_testkit::requests::held(&nodes[b_swarm[2]].url, &b_id).await;
    let (_, expiry) = held
        .iter()
        .find(|(hash, _)| *hash == planted)
        .expect("the member's handoff is held");
    let longest = murmur_testkit::now_ms() + murmur_core::rpc::TTL_MAXIMUM_PRIVATE_MS;
    assert!(
        *expiry <= longest,
        "an expiry past the longest TTL was kept"
    );
}

/// Attack 4: namespace-0 stores need no signature, so anyone can fill an account's mailbox.
/// Each node holds at most a quota per account (here 4 messages): the flooded account's
/// sender is told "their mailbox is full", and every other account keeps receiving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_flooded_account_fills_only_its_own_mailbox() {
    let dir = tempfile::tempdir().unwrap();
    let mut net = ProcessNet::create(
        &node_bin(),
        dir.path(),
        4,
        500,
        "[storage]\naccount_max_count = 4\n",
    );
    net.start_all().await;
    let (a_id, b_id, c_id) = (identity(91), identity(92), identity(93));
    let a = client(net.network(), a_id, 21);
    let flood: Vec<String> = (0..4).map(|i| format!("flood {i}")).collect();
    for text in &flood {
        a.send_text(&b_id.session_id(), text, None).await.unwrap();
    }
    let full = a
        .send_text(&b_id.session_id(), "one too many", None)
        .await
        .expect_err("the mailbox is full");
    assert!(
        matches!(full, murmur_core::client::ClientError::MailboxFull),
        "{full:?}"
    );
    assert_eq!(full.to_string(), "their mailbox is full; try later");
    // Another account still receives; the flooded one lost nothing it had.
    a.send_text(&c_id.session_id(), "still delivered", None)
        .await
        .unwrap();
    let c = client(net.network(), c_id, 22);
    assert_eq!(receive(&c, 1).await, ["still delivered"]);
    let b = client(net.network(), b_id, 23);
    assert_eq!(receive(&b, 4).await, flood);
}
