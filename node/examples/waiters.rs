//! How many waiting retrieves one node holds, and at what memory (`make bench-node`).
//!
//! `waiters --url http://127.0.0.1:22390 --pid PID [--waits 10000] [--h2]`
//!
//! Opens `--waits` waiting retrieves (`wait_retrieve`, 25 s) at a node whose swarm holds every
//! account (a one-node devnet), each for its own account: each on its own HTTP/1.1 connection
//! (as relays without HTTP/2 hold them), or with `--h2` as HTTP/2 streams, 1,000 to a
//! connection (as relays that speak HTTP/2 to the node hold them). Once all are sent it reads the node process's RSS (`--pid`,
//! `/proc/PID/status`), then stores one message for one account and checks that its wait
//! answers with it at once while the others are still held: the node was holding them, not
//! just accepting connections. A wait that answers before then is counted as refused.
// Real time is what this measures.
#![allow(clippy::disallowed_methods)]
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use murmur_core::Identity;
use murmur_core::limits::MAX_RETRIEVE_WAIT_MS;
use murmur_core::rpc::{
    AccountId, Namespace, Request, RetrieveParams, StoreParams, WaitRetrieveParams,
};

fn now_ms() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn wait_request(id: &Identity) -> Request {
    let account = AccountId::from(id.session_id());
    let retrieve = RetrieveParams::new(&account, Namespace(0), String::new(), now_ms());
    let Request::Retrieve(signed) = Request::Retrieve(retrieve).signed_by(id) else {
        unreachable!()
    };
    Request::WaitRetrieve(WaitRetrieveParams {
        requests: vec![signed],
        wait_ms: MAX_RETRIEVE_WAIT_MS,
    })
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let (mut url, mut pid, mut waits, mut h2) = (String::new(), 0u32, 10_000usize, false);
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--h2" {
            h2 = true;
            continue;
        }
        let value = it.next().expect("every flag takes a value");
        match flag.as_str() {
            "--url" => url = value,
            "--pid" => pid = value.parse().unwrap(),
            "--waits" => waits = value.parse().unwrap(),
            other => panic!("unknown flag {other}"),
        }
    }
    murmur_node::server::install_crypto_provider();
    let endpoint = format!("{url}/storage_rpc/v1");
    let before = rss_kib(pid);
    // One account per wait: far below the per-account bound, so only the node's own counts.
    let mut rng = murmur_node::clock::os_rng();
    let ids: Vec<Identity> = (0..waits).map(|_| Identity::generate(&mut rng)).collect();
    // HTTP/1.1: a connection per request. HTTP/2: one connection per client, so a client per
    // 1,000 streams (the node's stream cap is 1,024).
    let client = || {
        let b = reqwest::Client::builder().timeout(Duration::from_secs(40));
        if h2 {
            b.http2_prior_knowledge()
        } else {
            b.pool_max_idle_per_host(0)
        }
        .build()
        .unwrap()
    };
    let clients: Vec<reqwest::Client> = (0..if h2 { waits.div_ceil(1000) } else { 1 })
        .map(|_| client())
        .collect();
    let http = client();
    let early = Arc::new(AtomicUsize::new(0));
    let armed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::with_capacity(waits);
    for (i, id) in ids.iter().enumerate() {
        let body = wait_request(id).to_json().to_string();
        let (http, endpoint, early, armed) = (
            clients[i % clients.len()].clone(),
            endpoint.clone(),
            early.clone(),
            armed.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let reply = http.post(&endpoint).body(body).send().await;
            let ok = matches!(&reply, Ok(r) if r.status() == 200);
            let text = match reply {
                Ok(r) => r.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if !armed.load(Ordering::Relaxed) {
                early.fetch_add(1, Ordering::Relaxed);
            }
            (ok, text)
        }));
    }
    // Let the last connections and requests land.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let held_rss = rss_kib(pid);
    let refused = early.load(Ordering::Relaxed);
    armed.store(true, Ordering::Relaxed);
    // One message: its wait answers with it.
    let store = Request::Store(StoreParams::new(
        &AccountId::from(ids[0].session_id()),
        Namespace(0),
        b"wake",
        now_ms(),
        3_600_000,
    ));
    let stored = http
        .post(&endpoint)
        .body(store.to_json().to_string())
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(stored, 200, "the store was taken");
    let (ok, text) = tasks.remove(0).await.unwrap();
    assert!(
        ok && text.contains("\"hash\""),
        "the woken wait answered with the message: {text}"
    );
    let held = waits - refused;
    println!(
        "{held} of {waits} waiting retrieves held at once ({refused} answered early) over {}; node RSS {} MiB before, {} MiB holding them ({:.1} KiB per wait)",
        if h2 {
            format!("{} HTTP/2 connections", clients.len())
        } else {
            "a connection each".into()
        },
        before / 1024,
        held_rss / 1024,
        held_rss.saturating_sub(before) as f64 / held.max(1) as f64
    );
    let prefix = if h2 { "waiters.h2" } else { "waiters.h1" };
    for (key, value, unit) in [
        ("held", held as f64, "waits"),
        ("rss_mib", (held_rss / 1024) as f64, "MiB"),
        ("idle_rss_mib", (before / 1024) as f64, "MiB"),
    ] {
        let key = format!("{prefix}.{key}");
        println!(
            "BENCH {}",
            serde_json::json!({ "key": key, "value": value, "unit": unit })
        );
    }
    // The rest end at their bound or when this process exits.
    std::process::exit(0);
}
