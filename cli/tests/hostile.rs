//! Hostile peers, on separate `murmur-node` processes: every node sits behind a proxy on its
//! published port that can answer garbage, truncate or corrupt replies, or stall. Clients route
//! around them, lose nothing and never take a corrupted reply as a "stored"; and messages
//! forged or replayed into a recipient's swarm are never shown.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use ed25519_dalek::Signer as _;
use murmur_core::message::{pad, text_content, wrap};
use murmur_core::rpc::{AccountId, Namespace, Request, RetrieveParams};
use murmur_core::{Identity, crypto};
use murmur_testkit::churn::client;
use murmur_testkit::processes::{ProcessNet, node_bin};
use murmur_testkit::requests::public_store;
use murmur_testkit::{identity, now_ms};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// How a proxy treats what passes through it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Mode {
    Honest = 0,
    /// 200 with random bytes; nothing forwarded.
    Garbage = 1,
    /// Forwarded; half the reply sent, then the connection closed.
    Truncate = 2,
    /// Forwarded; one byte in the middle of the reply flipped.
    Flip = 3,
    /// Never answers.
    Stall = 4,
}

struct Proxy {
    mode: Arc<AtomicU8>,
}

impl Proxy {
    fn set(&self, mode: Mode) {
        self.mode.store(mode as u8, Ordering::Relaxed);
    }
}

/// One HTTP/1.1 request as read off the wire.
struct HttpRequest {
    method: String,
    path: String,
    /// Headers to pass on (peer requests are signed in them).
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Reads one HTTP/1.1 request (bodies by content-length, which every client here sends).
async fn read_request(conn: &mut TcpStream) -> Option<HttpRequest> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = conn.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut words = head.split_whitespace();
    let (method, path) = (words.next()?.to_string(), words.next()?.to_string());
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    let headers = head
        .lines()
        .skip(1)
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            let k = k.trim().to_ascii_lowercase();
            (!["host", "content-length", "connection"].contains(&k.as_str()))
                .then(|| (k, v.trim().to_string()))
        })
        .collect();
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let n = conn.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(HttpRequest {
        method,
        path,
        headers,
        body,
    })
}

async fn handle(mut conn: TcpStream, upstream: u16, mode: Arc<AtomicU8>, http: reqwest::Client) {
    let Some(request) = read_request(&mut conn).await else {
        return;
    };
    let mode = mode.load(Ordering::Relaxed);
    if mode == Mode::Stall as u8 {
        tokio::time::sleep(Duration::from_secs(120)).await;
        return;
    }
    let (status, mut reply) = if mode == Mode::Garbage as u8 {
        (200, (0..64u8).map(|i| i.wrapping_mul(37) ^ 0x5a).collect())
    } else {
        let url = format!("http://127.0.0.1:{upstream}{}", request.path);
        let mut forward = if request.method == "GET" {
            http.get(url)
        } else {
            http.post(url).body(request.body)
        };
        for (k, v) in request.headers {
            forward = forward.header(k, v);
        }
        match forward.send().await {
            Ok(r) => (
                r.status().as_u16(),
                r.bytes().await.unwrap_or_default().to_vec(),
            ),
            Err(_) => return,
        }
    };
    let full = reply.len();
    if mode == Mode::Flip as u8 && !reply.is_empty() {
        let mid = reply.len() / 2;
        reply[mid] ^= 0x01;
    }
    if mode == Mode::Truncate as u8 {
        reply.truncate(full / 2);
    }
    let head = format!(
        "HTTP/1.1 {status} X\r\ncontent-length: {full}\r\ncontent-type: application/octet-stream\r\nconnection: close\r\n\r\n"
    );
    let _ = conn.write_all(head.as_bytes()).await;
    let _ = conn.write_all(&reply).await;
    let _ = conn.shutdown().await;
}

/// Puts a proxy on node `i`'s published port and moves the node itself to a hidden one.
async fn put_behind_proxy(net: &mut ProcessNet, i: usize) -> (Proxy, u16) {
    let published = net.nodes[i].port;
    let hidden = net.move_to_hidden_port(i);
    let listener = TcpListener::bind(("127.0.0.1", published)).await.unwrap();
    let mode = Arc::new(AtomicU8::new(Mode::Honest as u8));
    let proxy_mode = mode.clone();
    let http = murmur_testkit::net::http();
    tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            tokio::spawn(handle(conn, hidden, proxy_mode.clone(), http.clone()));
        }
    });
    (Proxy { mode }, hidden)
}

async fn rpc(port: u16, request: &Request) -> (u16, Value) {
    murmur_testkit::net::rpc(&format!("http://127.0.0.1:{port}"), request).await
}

/// Stores `data` straight into `to`'s inbox at a node (an unsigned public-inbox store: anyone
/// can, and a hostile swarm member can write its own database anyway).
/// Stores `data` straight into `to`'s inbox at a node (an unsigned public-inbox store: anyone
/// can, and a hostile swarm member can write its own database anyway).
async fn plant(port: u16, to: &Identity, data: &[u8]) {
    let (status, body) = rpc(port, &public_store(to, data)).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_relays_and_swarm_members_are_routed_around_and_forge_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut net = ProcessNet::create(&node_bin(), dir.path(), 9, 1000, "");
    net.start_all().await;
    let mut proxies = Vec::new();
    let mut hidden = Vec::new();
    for i in 0..9 {
        let (proxy, port) = put_behind_proxy(&mut net, i).await;
        proxies.push(proxy);
        hidden.push(port);
    }
    for i in 0..9 {
        assert!(net.wait_ready(i, Duration::from_secs(20)).await);
    }
    let (a_id, b_id) = (identity(61), identity(62));
    let (a_session, b_session) = (a_id.session_id(), b_id.session_id());
    let b_swarm = net.swarm_of(&b_session);

    // One hostile node at a time, each misbehaving its own way: as a member of B's swarm
    // (the destination of A's stores and B's polls) or outside it (a guard or relay).
    let outside: Vec<usize> = (0..9).filter(|i| !b_swarm.contains(i)).collect();
    let plan = [
        (b_swarm[0], Mode::Garbage),
        (outside[0], Mode::Garbage),
        (outside[1], Mode::Truncate),
        (b_swarm[1], Mode::Truncate),
        (outside[2], Mode::Flip),
        (b_swarm[2], Mode::Flip),
        (outside[3], Mode::Stall),
    ];
    let network = net.network();
    let a = client(network.clone(), a_id.clone(), 1);
    let b = client(network.clone(), b_id.clone(), 2);
    let mut sent = Vec::new();
    for (node, mode) in plan {
        proxies[node].set(mode);
        for i in 0..3 {
            let text = format!("past a {mode:?} node {node}, {i}");
            let result = a.send_text(&b_session, &text, None).await;
            let ok = result.unwrap_or_else(|e| panic!("{text}: not routed around: {e}"));
            assert!(ok.accepted_by >= 1);
            sent.push(text);
        }
        proxies[node].set(Mode::Honest);
    }
    let mut got = Vec::new();
    for _ in 0..20 {
        if let Ok(messages) = b.poll().await {
            got.extend(messages.into_iter().map(|m| (m.from, m.text)));
        }
        if got.len() >= sent.len() {
            break;
        }
    }
    assert_eq!(
        got,
        sent.iter()
            .map(|t| (a_session, t.clone()))
            .collect::<Vec<_>>(),
        "every message once, in order, from A"
    );

    // B's whole swarm corrupts what it returns: A's send fails; nothing is taken as stored.
    for &i in &b_swarm {
        proxies[i].set(Mode::Flip);
    }
    let result = a
        .send_text(&b_session, "unacknowledged: reply corrupted", None)
        .await;
    assert!(
        result.is_err(),
        "a corrupted reply was taken as stored: {result:?}"
    );
    for &i in &b_swarm {
        proxies[i].set(Mode::Truncate);
    }
    let result = a
        .send_text(&b_session, "unacknowledged: reply cut off", None)
        .await;
    assert!(
        result.is_err(),
        "a truncated reply was taken as stored: {result:?}"
    );
    for &i in &b_swarm {
        proxies[i].set(Mode::Honest);
    }

    // Forgeries planted in B's inbox at every member: garbage; a message sealed to B that
    // names A as its sender but is signed by Mallory; and a real message of A's, fetched
    // from B's swarm and stored again with an unknown protobuf field appended (same signed
    // content, new hash) — what a hostile swarm member could do.
    let mallory = identity(63);
    let mut forged_inner = pad(&prost::Message::encode_to_vec(&text_content(
        "I am A, honestly",
        now_ms(),
        None,
    )));
    let a_ed = a_id.ed25519_pubkey().to_bytes();
    let signed = [&forged_inner[..], &a_ed, &b_session.x25519_pubkey()].concat();
    let signature = mallory.ed25519_signing_key().sign(&signed).to_bytes();
    forged_inner.extend_from_slice(&a_ed);
    forged_inner.extend_from_slice(&signature);
    let forged = wrap(
        crypto::sealed_box_seal(
            &b_session.x25519_pubkey(),
            &forged_inner,
            &mut ChaCha20Rng::seed_from_u64(5),
        )
        .unwrap(),
        now_ms(),
    );
    let (status, body) = rpc(
        hidden[b_swarm[0]],
        &Request::Retrieve(RetrieveParams::new(
            &AccountId::from(b_session),
            Namespace(0),
            String::new(),
            now_ms(),
        ))
        .signed_by(&b_id),
    )
    .await;
    assert_eq!(status, 200);
    let real = crypto::b64_decode(body["messages"][0]["data"].as_str().unwrap()).unwrap();
    let mut replayed = real.clone();
    replayed.extend_from_slice(&[0x78, 0x01]); // field 15, varint 1: ignored by decoders
    for &i in &b_swarm {
        plant(hidden[i], &b_id, b"\x00garbage, not a message").await;
        plant(hidden[i], &b_id, &forged).await;
        plant(hidden[i], &b_id, &replayed).await;
    }
    let last = "after the forgeries";
    a.send_text(&b_session, last, None).await.unwrap();
    let mut after = Vec::new();
    for _ in 0..20 {
        after.extend(b.poll().await.unwrap().into_iter().map(|m| m.text));
        if after.iter().any(|t| t == last) {
            break;
        }
    }
    // The two unacknowledged sends may have been stored (only their replies were spoiled):
    // genuine messages of A's, so they may show, once each.
    let genuine = |texts: Vec<String>| -> Vec<String> {
        texts
            .into_iter()
            .filter(|t| !t.starts_with("unacknowledged: "))
            .collect()
    };
    assert_eq!(
        genuine(after.clone()),
        vec![last.to_string()],
        "only the genuine new message is shown"
    );
    let mut unique = after.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), after.len(), "nothing twice: {after:?}");

    // A client with no history (a new device) sees the genuine messages once each, too.
    let fresh = client(network, b_id.clone(), 3);
    let mut everything = Vec::new();
    for _ in 0..5 {
        everything.extend(fresh.poll().await.unwrap().into_iter().map(|m| m.text));
    }
    let mut expected = sent.clone();
    expected.push(last.to_string());
    assert_eq!(genuine(everything), expected);

    for i in 0..9 {
        assert!(net.exited(i).is_none(), "node {i} died");
        assert!(!net.log_text(i).contains("panicked"), "node {i} panicked");
    }
}
