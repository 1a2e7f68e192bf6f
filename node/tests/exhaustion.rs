//! What a client can make a node hold (Byzantine nodes, attack 3), over a real socket: a
//! silent or idle connection is closed after the header timeout, a slow body gets 408, a body
//! larger than its route takes is refused before it is read (a peer route's before the
//! sender's headers are even known), and connections past the cap are closed on arrival —
//! and through all of it the node keeps serving.
// Real time is what these wait on (server timers of a few hundred ms), not protocol logic.
#![allow(clippy::disallowed_methods)]
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use murmur_node::clock::Clock;
use murmur_node::config::Config;
use murmur_node::server::RunningNode;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// One node serving on a loopback port with `adjust`ed config; its Ed25519 hex.
async fn serving(adjust: impl FnOnce(&mut Config)) -> (RunningNode, tempfile::TempDir, String) {
    let served = common::serve(Vec::new(), adjust).await;
    let me = served.node.node.identity.ed25519_hex();
    (served.node, served.dir, me)
}

const INFO: &str = r#"{"method":"info","params":{}}"#;

fn info_request() -> String {
    format!(
        "POST /storage_rpc/v1 HTTP/1.1\r\nHost: n\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{INFO}",
        INFO.len()
    )
}

/// Reads until the server closes the connection (or 5 s pass); returns what it sent.
async fn read_to_close(stream: &mut TcpStream) -> Option<String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let read = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .ok()
        .map(|()| String::from_utf8_lossy(&got).into_owned())
}

/// The status line of the first answer on `stream` (5 s at most).
async fn status_line(stream: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    let read = async {
        while !got.windows(2).any(|w| w == b"\r\n") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .expect("an answer within 5 s");
    String::from_utf8_lossy(&got)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The node still answers a plain request.
async fn still_serves(addr: SocketAddr) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(info_request().as_bytes()).await.unwrap();
    assert_eq!(status_line(&mut s).await, "HTTP/1.1 200 OK");
}

#[tokio::test]
async fn silent_and_idle_connections_are_closed_after_the_header_timeout() {
    let (node, _dir, _) = serving(|c| c.http.header_read_timeout_ms = 300).await;
    // Slowloris: half a request head, then nothing.
    let mut slow = TcpStream::connect(node.addr).await.unwrap();
    slow.write_all(b"POST /storage_rpc/v1 HTTP/1.1\r\nHost: n\r\n")
        .await
        .unwrap();
    assert!(
        read_to_close(&mut slow).await.is_some(),
        "still open 5 s after a 300 ms header timeout"
    );
    // A kept-alive connection that goes quiet after one answer is closed too.
    let mut idle = TcpStream::connect(node.addr).await.unwrap();
    idle.write_all(info_request().as_bytes()).await.unwrap();
    let answered = read_to_close(&mut idle).await.expect("closed when idle");
    assert!(answered.starts_with("HTTP/1.1 200 OK"), "{answered}");
    still_serves(node.addr).await;
    node.stop().await;
}

#[tokio::test]
async fn a_body_sent_too_slowly_gets_408() {
    let (node, _dir, _) = serving(|c| c.http.body_read_timeout_ms = 300).await;
    let mut s = TcpStream::connect(node.addr).await.unwrap();
    s.write_all(
        b"POST /storage_rpc/v1 HTTP/1.1\r\nHost: n\r\nContent-Length: 1000\r\n\r\n{\"method\"",
    )
    .await
    .unwrap();
    assert_eq!(status_line(&mut s).await, "HTTP/1.1 408 Request Timeout");
    assert_eq!(node.node.storage.stats(), (0, 0));
    still_serves(node.addr).await;
    node.stop().await;
}

#[tokio::test]
async fn bodies_larger_than_their_route_takes_are_refused_unread() {
    let (node, _dir, me) = serving(|_| {}).await;
    // Each declares far more than its route takes and sends none of it: the answer comes at
    // once, so the node read nothing (it would wait for the body otherwise).
    for (path, headers, want) in [
        ("/onion_req/v2", String::new(), "413"),
        ("/storage_rpc/v1", String::new(), "413"),
        ("/json_rpc", String::new(), "413"),
        // A stranger's peer request: refused on its headers alone.
        ("/murmur/v1/replicate", String::new(), "401"),
        // A manifest node's: bounded to what a peer sends (4 MiB), however valid it claims to be.
        (
            "/murmur/v1/handoff",
            format!(
                "x-murmur-node: {me}\r\nx-murmur-time: {}\r\nx-murmur-signature: {}\r\n",
                Clock::default().now_ms(),
                murmur_core::crypto::b64_encode(&[0; 64])
            ),
            "413",
        ),
    ] {
        let mut s = TcpStream::connect(node.addr).await.unwrap();
        let head =
            format!("POST {path} HTTP/1.1\r\nHost: n\r\nContent-Length: 52428800\r\n{headers}\r\n");
        s.write_all(head.as_bytes()).await.unwrap();
        let line = status_line(&mut s).await;
        assert!(
            line.starts_with(&format!("HTTP/1.1 {want}")),
            "{path}: {line}"
        );
    }
    // A catch-up page request is small (a cursor, or the ids of one page); one past its bound
    // is refused too.
    let mut s = TcpStream::connect(node.addr).await.unwrap();
    let head = format!(
        "POST /murmur/v1/messages HTTP/1.1\r\nHost: n\r\nContent-Length: {}\r\nx-murmur-node: {me}\r\nx-murmur-time: {}\r\nx-murmur-signature: {}\r\n\r\n",
        murmur_core::limits::PEER_PAGE_REQUEST_MAX_BODY + 1,
        Clock::default().now_ms(),
        murmur_core::crypto::b64_encode(&[0; 64])
    );
    s.write_all(head.as_bytes()).await.unwrap();
    assert!(status_line(&mut s).await.starts_with("HTTP/1.1 413"));
    assert_eq!(node.node.storage.stats(), (0, 0));
    still_serves(node.addr).await;
    node.stop().await;
}

#[tokio::test]
async fn connections_past_the_cap_are_closed_on_arrival() {
    let (node, _dir, _) = serving(|c| c.http.max_connections = 4).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut s = TcpStream::connect(node.addr).await.unwrap();
        // Sent and answered, so the server has surely taken this connection.
        s.write_all(info_request().as_bytes()).await.unwrap();
        assert_eq!(status_line(&mut s).await, "HTTP/1.1 200 OK");
        held.push(s);
    }
    let mut fifth = TcpStream::connect(node.addr).await.unwrap();
    let _ = fifth.write_all(info_request().as_bytes()).await;
    let said = read_to_close(&mut fifth).await.expect("closed at once");
    assert!(said.is_empty(), "the fifth connection was served: {said}");
    // A slot that frees is taken again.
    held.pop();
    let mut served = false;
    for _ in 0..50 {
        let mut s = TcpStream::connect(node.addr).await.unwrap();
        let _ = s.write_all(info_request().as_bytes()).await;
        if read_to_close_or_answer(&mut s).await {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(served, "a freed slot was never reused");
    node.stop().await;
}

/// True when the server answered on `stream` (rather than closing it).
async fn read_to_close_or_answer(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 64];
    matches!(
        tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await,
        Ok(Ok(n)) if n > 0
    )
}

/// Attack 10: `/metrics` is not on the public listener (anyone could read the node's load and
/// make it render at their rate); an operator who sets `metrics_listen` gets it there.
#[tokio::test]
async fn metrics_are_served_only_on_their_own_listener() {
    let (node, _dir, _) =
        serving(|c| c.metrics_listen = Some("127.0.0.1:0".parse().unwrap())).await;
    let get = |addr: SocketAddr| async move {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: n\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        read_to_close(&mut s).await.unwrap()
    };
    assert!(get(node.addr).await.starts_with("HTTP/1.1 404"));
    let metrics = get(node.metrics_addr.expect("metrics listener")).await;
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    assert!(metrics.contains("murmur_stored_messages 0"), "{metrics}");
    node.stop().await;
    // Unset, there is no metrics listener at all.
    let (node, _dir, _) = serving(|_| {}).await;
    assert!(node.metrics_addr.is_none());
    node.stop().await;
}
