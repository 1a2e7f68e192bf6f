//! A small load generator for one node's `/storage_rpc/v1` over HTTP keep-alive.
//!
//! `cargo run --release -p murmur-node --example rpc_load -- --url http://127.0.0.1:22100`
//! stores 1 KiB messages (namespace 0, TTL 1 h) for accounts in the node's swarm for
//! `--seconds`, then polls them with signed retrieves (`last_hash` = newest, as a client that is
//! up to date does), and prints requests/s with p50/p99 latency for each phase. Every store is
//! replicated to the node's swarm peers before it is answered, so the store figure includes
//! the swarm round trip.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use murmur_core::Identity;
use murmur_core::network::SignedManifest;
use murmur_core::rpc::{AccountId, Auth, Namespace, Request, RetrieveParams, StoreParams};
use rand_core::SeedableRng as _;

struct Args {
    url: String,
    seconds: u64,
    concurrency: usize,
}

fn args() -> Args {
    let mut a = Args {
        url: "http://127.0.0.1:22100".into(),
        seconds: 10,
        concurrency: 32,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().expect("every flag takes a value");
        match flag.as_str() {
            "--url" => a.url = value,
            "--seconds" => a.seconds = value.parse().expect("--seconds N"),
            "--concurrency" => a.concurrency = value.parse().expect("--concurrency N"),
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as u64
}

fn store(id: &Identity, n: u64) -> Request {
    let mut data = vec![0u8; 1024];
    data[..8].copy_from_slice(&n.to_le_bytes());
    Request::Store(StoreParams {
        pubkey: AccountId::from(id.session_id()).to_hex(),
        namespace: Namespace(0),
        timestamp: now_ms(),
        ttl: Some(3_600_000),
        expiry: None,
        data: murmur_core::crypto::b64_encode(&data),
        sig_timestamp: None,
        auth: Auth::default(),
    })
}

fn retrieve(id: &Identity, last_hash: &str) -> Request {
    let p = RetrieveParams {
        pubkey: AccountId::from(id.session_id()).to_hex(),
        namespace: Namespace(0),
        last_hash: last_hash.into(),
        max_count: None,
        max_size: None,
        timestamp: now_ms(),
        auth: Auth::default(),
    };
    Request::Retrieve(p).signed_by(id)
}

/// Runs `make_request(worker, i)` from `concurrency` workers for `seconds`; returns latencies.
async fn phase(
    client: &reqwest::Client,
    url: &str,
    seconds: u64,
    concurrency: usize,
    make_request: Arc<dyn Fn(usize, u64) -> Request + Send + Sync>,
) -> (Vec<Duration>, u64, Duration) {
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..concurrency {
        let (client, url, stop, make) = (
            client.clone(),
            format!("{url}/storage_rpc/v1"),
            stop.clone(),
            make_request.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0u64;
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let body = make(w, i).to_json().to_string();
                i += 1;
                let t = Instant::now();
                match client.post(&url).body(body).send().await {
                    Ok(r) if r.status() == 200 => {
                        let _ = r.bytes().await;
                        lat.push(t.elapsed());
                    }
                    _ => errors += 1,
                }
            }
            (lat, errors)
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (lat, e) = t.await.expect("worker");
        all.extend(lat);
        errors += e;
    }
    let elapsed = start.elapsed();
    all.sort_unstable();
    (all, errors, elapsed)
}

fn report(name: &str, lat: &[Duration], errors: u64, elapsed: Duration) {
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "{name:<10} {:>8} ok {:>5} errors {:>9.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms",
        lat.len(),
        errors,
        lat.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.99)
    );
}

#[tokio::main]
async fn main() {
    murmur_node::server::install_crypto_provider();
    let a = args();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(a.concurrency)
        .build()
        .expect("client");
    let signed: SignedManifest = client
        .get(format!("{}/network", a.url))
        .send()
        .await
        .expect("node reachable")
        .json()
        .await
        .expect("manifest");
    let target = signed
        .manifest
        .nodes
        .iter()
        .find(|n| n.url.trim_end_matches('/') == a.url.trim_end_matches('/'))
        .expect("--url is a node of its manifest")
        .swarm();
    // One account per worker, each in the target node's swarm.
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
    let mut ids = Vec::new();
    while ids.len() < a.concurrency {
        let id = Identity::generate(&mut rng);
        if signed
            .manifest
            .swarm_for_key(&id.session_id().x25519_pubkey())
            == Some(target)
        {
            ids.push(id);
        }
    }
    let ids = Arc::new(ids);
    println!(
        "rpc_load: {} for {} s per phase, {} connections, 1 KiB messages",
        a.url, a.seconds, a.concurrency
    );
    let store_ids = ids.clone();
    let (lat, errors, elapsed) = phase(
        &client,
        &a.url,
        a.seconds,
        a.concurrency,
        Arc::new(move |w, i| store(&store_ids[w], i)),
    )
    .await;
    report("store", &lat, errors, elapsed);

    // Poll as an up-to-date client: last_hash = the newest message of each account.
    let mut newest = Vec::new();
    for id in ids.iter() {
        let mut last = String::new();
        loop {
            let body: serde_json::Value = client
                .post(format!("{}/storage_rpc/v1", a.url))
                .body(retrieve(id, &last).to_json().to_string())
                .send()
                .await
                .expect("retrieve")
                .json()
                .await
                .expect("json");
            if let Some(h) = body["messages"]
                .as_array()
                .and_then(|m| m.last())
                .and_then(|m| m["hash"].as_str())
            {
                last = h.to_string();
            }
            if body["more"] != serde_json::json!(true) {
                break;
            }
        }
        newest.push(last);
    }
    let newest = Arc::new(newest);
    let (lat, errors, elapsed) = phase(
        &client,
        &a.url,
        a.seconds,
        a.concurrency,
        Arc::new(move |w, _| retrieve(&ids[w], &newest[w])),
    )
    .await;
    report("retrieve", &lat, errors, elapsed);
}
