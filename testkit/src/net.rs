//! Plain HTTP to nodes, and free loopback ports.

use murmur_core::rpc::Request;
use serde_json::Value;

/// A plain reqwest client (rustls needs its crypto provider chosen first).
pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// POSTs a storage RPC to `base` (a node URL); status and JSON body (the text as a JSON
/// string when it is not JSON).
pub async fn rpc(base: &str, request: &Request) -> (u16, Value) {
    rpc_with(&http(), base, request).await
}

/// [`rpc`] on a client the caller keeps (keep-alive across calls).
pub async fn rpc_with(client: &reqwest::Client, base: &str, request: &Request) -> (u16, Value) {
    let reply = client
        .post(format!("{base}/storage_rpc/v1"))
        .body(request.to_json().to_string())
        .send()
        .await
        .expect("the node answers");
    let status = reply.status().as_u16();
    let text = reply.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    free_ports(1)[0]
}

/// `count` distinct ports that were free a moment ago (all bound to port 0 at once, then
/// released).
pub fn free_ports(count: usize) -> Vec<u16> {
    let listeners: Vec<_> = (0..count)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect()
}

/// The first of `count` consecutive loopback ports that were all free a moment ago (for
/// `murmur-node devnet --base-port`).
pub fn consecutive_free_ports(count: u16) -> u16 {
    'search: for _ in 0..200 {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = probe.local_addr().unwrap().port();
        drop(probe);
        if base.checked_add(count).is_none() {
            continue;
        }
        for p in base..base + count {
            if std::net::TcpListener::bind(("127.0.0.1", p)).is_err() {
                continue 'search;
            }
        }
        return base;
    }
    panic!("no run of {count} free ports");
}
