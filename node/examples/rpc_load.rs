//! A small load generator for one node over HTTP keep-alive (`make bench-node`, `make bench`).
//!
//! `rpc_load --url http://127.0.0.1:22300 [--seconds 10] [--concurrency 32]
//!  [--phases store,retrieve,onion-store,onion-retrieve] [--static-url URL] [--prefix P]
//!  [--seed N] [--rate R]`
//!
//! - `store`: 1 KiB messages (namespace 0, TTL 1 h) for accounts in the node's swarm, posted to
//!   `/storage_rpc/v1`. Every store is replicated to the node's swarm peers before it is
//!   answered, so the figure includes the swarm round trip.
//! - `retrieve`: signed retrieves with `last_hash` = the newest message, as a client that is up
//!   to date polls.
//! - `onion-store`, `onion-retrieve`: the same requests built as 3-hop onion requests
//!   (xchacha20 layers) through three nodes of other swarms, posted to the guard's
//!   `/onion_req/v2`; a reply counts only if it decrypts to status 200. Building each onion is
//!   part of the measured time, as it is for a client.
//! - `--static-url`: plain GETs of a URL (nginx answering a static 200: the HTTP ceiling).
//!
//! `--prefix` names the figures `P<phase>` (the attacked run of `make bench-node`), and
//! `--seed` picks other accounts, so a second run stores new messages, not duplicates.
//! `--rate` paces the workers to R requests per second in all (each request due at its slot
//! in a fixed schedule) instead of sending as fast as answers come.
//!
//! Prints a line per phase and, for `make bench`, `BENCH {"key","value","unit"}` lines.
// Real time is what these measure or wait on (deadlines, latency), not protocol logic.
#![allow(clippy::disallowed_methods)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use murmur_core::Identity;
use murmur_core::network::SignedManifest;
use murmur_core::onion::{Destination, EncType, Hop, build_onion_request, decrypt_node_reply};
use murmur_core::rpc::{AccountId, Namespace, Request, RetrieveParams, StoreParams};
use rand_core::{SeedableRng as _, UnwrapErr};

struct Args {
    url: String,
    seconds: u64,
    concurrency: usize,
    phases: Vec<String>,
    static_url: Option<String>,
    prefix: String,
    seed: u64,
    rate: Option<f64>,
}

fn args() -> Args {
    let mut a = Args {
        url: "http://127.0.0.1:22100".into(),
        seconds: 10,
        concurrency: 32,
        phases: vec!["store".into(), "retrieve".into()],
        static_url: None,
        prefix: String::new(),
        seed: 7,
        rate: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().expect("every flag takes a value");
        match flag.as_str() {
            "--url" => a.url = value,
            "--seconds" => a.seconds = value.parse().expect("--seconds N"),
            "--concurrency" => a.concurrency = value.parse().expect("--concurrency N"),
            "--rate" => a.rate = Some(value.parse().expect("--rate REQUESTS_PER_SECOND")),
            "--phases" => a.phases = value.split(',').map(str::to_string).collect(),
            "--static-url" => a.static_url = Some(value),
            "--prefix" => a.prefix = value,
            "--seed" => a.seed = value.parse().expect("--seed N"),
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
    data[8..16].copy_from_slice(&now_ms().to_le_bytes());
    Request::Store(StoreParams::new(
        &AccountId::from(id.session_id()),
        Namespace(0),
        &data,
        now_ms(),
        3_600_000,
    ))
}

fn retrieve(id: &Identity, last_hash: &str) -> Request {
    let p = RetrieveParams::new(
        &AccountId::from(id.session_id()),
        Namespace(0),
        last_hash.into(),
        now_ms(),
    );
    Request::Retrieve(p).signed_by(id)
}

/// How one request travels: straight to the node, or as an onion through `path`.
#[derive(Clone)]
enum Route {
    Direct {
        url: String,
    },
    Onion {
        guard_url: String,
        path: Vec<Hop>,
        destination: Hop,
    },
    Static {
        url: String,
    },
}

/// Sends one request; true when it succeeded (HTTP 200, and for an onion a reply that decrypts
/// to status 200).
async fn send(client: &reqwest::Client, route: &Route, request: Option<Request>) -> bool {
    match route {
        Route::Static { url } => match client.get(url).send().await {
            Ok(r) if r.status() == 200 => r.bytes().await.is_ok(),
            _ => false,
        },
        Route::Direct { url } => {
            let body = request.expect("an RPC").to_json().to_string();
            match client.post(url).body(body).send().await {
                Ok(r) if r.status() == 200 => r.bytes().await.is_ok(),
                _ => false,
            }
        }
        Route::Onion {
            guard_url,
            path,
            destination,
        } => {
            let payload = request.expect("an RPC").to_json().to_string();
            let mut rng = UnwrapErr(getrandom::SysRng);
            let Ok(built) = build_onion_request(
                path,
                &Destination::Node(*destination),
                payload.as_bytes(),
                EncType::XChaCha20,
                &mut rng,
            ) else {
                return false;
            };
            match client.post(guard_url).body(built.body).send().await {
                Ok(r) if r.status() == 200 => match r.bytes().await {
                    Ok(body) => {
                        decrypt_node_reply(&built.reply_key, &body).is_ok_and(|r| r.status == 200)
                    }
                    Err(_) => false,
                },
                _ => false,
            }
        }
    }
}

type MakeRequest = Arc<dyn Fn(usize, u64) -> Option<Request> + Send + Sync>;

/// Runs `make_request(worker, i)` from `concurrency` workers for `seconds`; returns latencies.
async fn phase(
    client: &reqwest::Client,
    route: &Route,
    seconds: u64,
    concurrency: usize,
    rate: Option<f64>,
    make_request: MakeRequest,
) -> (Vec<Duration>, u64, Duration) {
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..concurrency {
        let (client, route, stop, make) = (
            client.clone(),
            route.clone(),
            stop.clone(),
            make_request.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0u64;
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                // At a fixed rate: request i of worker w is due at its slot in the schedule.
                if let Some(rate) = rate {
                    let slot = (i as f64 * concurrency as f64 + w as f64) / rate;
                    tokio::time::sleep_until((start + Duration::from_secs_f64(slot)).into()).await;
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                }
                let request = make(w, i);
                i += 1;
                let t = Instant::now();
                if send(&client, &route, request).await {
                    lat.push(t.elapsed());
                } else {
                    errors += 1;
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

fn bench_line(key: &str, value: f64, unit: &str) {
    println!(
        "BENCH {}",
        serde_json::json!({ "key": key, "value": value, "unit": unit })
    );
}

fn report(name: &str, lat: &[Duration], errors: u64, elapsed: Duration) {
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let rps = lat.len() as f64 / elapsed.as_secs_f64();
    println!(
        "{name:<15} {:>8} ok {:>5} errors {rps:>9.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms",
        lat.len(),
        errors,
        pct(0.50),
        pct(0.99)
    );
    bench_line(&format!("{name}.rps"), rps, "req/s");
    bench_line(&format!("{name}.p50"), pct(0.50), "ms");
    bench_line(&format!("{name}.p99"), pct(0.99), "ms");
    bench_line(&format!("{name}.errors"), errors as f64, "");
}

/// The newest hash of each account (what an up-to-date client passes as `last_hash`).
async fn newest_hashes(client: &reqwest::Client, url: &str, ids: &[Identity]) -> Vec<String> {
    let mut newest = Vec::new();
    for id in ids {
        let mut last = String::new();
        loop {
            let body: serde_json::Value = client
                .post(format!("{url}/storage_rpc/v1"))
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
    newest
}

#[tokio::main]
async fn main() {
    murmur_node::server::install_crypto_provider();
    let a = args();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(a.concurrency)
        .build()
        .expect("client");
    if let Some(url) = &a.static_url {
        println!(
            "rpc_load: GET {url} for {} s, {} connections",
            a.seconds, a.concurrency
        );
        let route = Route::Static { url: url.clone() };
        let (lat, errors, elapsed) = phase(
            &client,
            &route,
            a.seconds,
            a.concurrency,
            a.rate,
            Arc::new(|_, _| None),
        )
        .await;
        report("static", &lat, errors, elapsed);
        return;
    }
    let signed: SignedManifest = client
        .get(format!("{}/network", a.url))
        .send()
        .await
        .expect("node reachable")
        .json()
        .await
        .expect("manifest");
    let nodes = &signed.manifest.nodes;
    let target_node = nodes
        .iter()
        .find(|n| n.url.trim_end_matches('/') == a.url.trim_end_matches('/'))
        .expect("--url is a node of its manifest");
    let target = target_node.swarm();
    // One account per worker, each in the target node's swarm.
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(a.seed);
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
    let direct = Route::Direct {
        url: format!("{}/storage_rpc/v1", a.url),
    };
    // The onion path: three nodes outside the target's swarm where there are enough, as a
    // client's path avoids the swarm it talks to; the target is the destination.
    let mut path: Vec<_> = nodes.iter().filter(|n| n.swarm() != target).collect();
    if path.len() < 3 {
        path = nodes.iter().filter(|n| n.url != target_node.url).collect();
    }
    path.truncate(3);
    // (A one-node network has no path; only the direct phases run there.)
    let onion = path.first().map(|guard| Route::Onion {
        guard_url: guard.endpoint(murmur_core::onion::ONION_REQ_PATH),
        path: path
            .iter()
            .map(|n| n.hop().expect("manifest keys"))
            .collect(),
        destination: target_node.hop().expect("manifest keys"),
    });
    let onion = || {
        onion
            .as_ref()
            .expect("the onion phases need at least two nodes")
    };
    for name in &a.phases {
        let (route, make): (&Route, MakeRequest) = match name.as_str() {
            "store" | "onion-store" => {
                let ids = ids.clone();
                let route = if name == "store" { &direct } else { onion() };
                (route, Arc::new(move |w, i| Some(store(&ids[w], i))))
            }
            "retrieve" | "onion-retrieve" => {
                let newest = Arc::new(newest_hashes(&client, &a.url, &ids).await);
                let ids = ids.clone();
                let route = if name == "retrieve" { &direct } else { onion() };
                (
                    route,
                    Arc::new(move |w, _| Some(retrieve(&ids[w], &newest[w]))),
                )
            }
            other => panic!("unknown phase {other}"),
        };
        let (lat, errors, elapsed) =
            phase(&client, route, a.seconds, a.concurrency, a.rate, make).await;
        report(&format!("{}{name}", a.prefix), &lat, errors, elapsed);
    }
}
