//! Send-to-receive latency: user A sends N messages with the client engine while user B runs
//! the real `murmur inbox --follow --json` (live: waiting retrieves; `--poll` polls every
//! `--interval-ms` instead); latency is from the start of A's send to the moment B's line is
//! read. Prints p50/p99 (and the store acknowledgement time) — `make bench-latency`.
//!
//! First (unless `--idle-seconds 0`), what an idle follower costs: a library client follows
//! an empty inbox live for `--idle-seconds` and its requests are counted at its transport.
//!
//! `latency --network-file devnet.json --murmur target/node/murmur [--messages 200]
//!  [--interval-ms 1000] [--gap-ms 50] [--poll] [--idle-seconds 60]`
#![allow(clippy::unwrap_used)]

use std::cell::Cell;
use std::collections::HashMap;
use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use murmur_cli::home::read_network_file;
use murmur_cli::platform::{HttpTransport, SystemClock};
use murmur_core::client::{
    Client, ClientConfig, HttpResponse, MemoryStore, Step, Transport, TransportError,
    parse_recipient,
};
use murmur_core::network::NetworkFile;
use murmur_core::{Identity, Seed};
use rand_core::UnwrapErr;

struct Args {
    network_file: PathBuf,
    murmur: PathBuf,
    messages: usize,
    interval_ms: u64,
    gap_ms: u64,
    poll: bool,
    idle_seconds: u64,
}

fn args() -> Args {
    let mut a = Args {
        network_file: PathBuf::new(),
        murmur: PathBuf::from("target/node/murmur"),
        messages: 200,
        interval_ms: 1000,
        gap_ms: 50,
        poll: false,
        idle_seconds: 60,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--poll" {
            a.poll = true;
            continue;
        }
        let value = it.next().unwrap_or_default();
        match flag.as_str() {
            "--network-file" => a.network_file = value.into(),
            "--murmur" => a.murmur = value.into(),
            "--messages" => a.messages = value.parse().unwrap(),
            "--interval-ms" => a.interval_ms = value.parse().unwrap(),
            "--gap-ms" => a.gap_ms = value.parse().unwrap(),
            "--idle-seconds" => a.idle_seconds = value.parse().unwrap(),
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// An HTTP transport that counts the requests it sends.
struct Counting {
    inner: HttpTransport,
    posts: Rc<Cell<u64>>,
}

impl Transport for Counting {
    async fn post(&self, url: &str, body: Vec<u8>) -> Result<HttpResponse, TransportError> {
        self.posts.set(self.posts.get() + 1);
        self.inner.post(url, body).await
    }
    async fn get(&self, url: &str) -> Result<HttpResponse, TransportError> {
        self.posts.set(self.posts.get() + 1);
        self.inner.get(url).await
    }
}

/// Follows an empty inbox live for `seconds` (after its first full poll) and prints the
/// requests per minute it sent.
fn idle_requests(rt: &tokio::runtime::Runtime, network: &NetworkFile, seconds: u64) {
    let posts = Rc::new(Cell::new(0));
    let c = Client::new(
        Identity::from_seed(Seed::generate(&mut UnwrapErr(getrandom::SysRng))),
        ClientConfig::new(network.config().unwrap()),
        Counting {
            inner: HttpTransport::new(None).unwrap(),
            posts: posts.clone(),
        },
        SystemClock::default(),
        MemoryStore::new(),
        UnwrapErr(getrandom::SysRng),
    );
    rt.block_on(async {
        c.poll().await.unwrap();
        posts.set(0);
        let following = async {
            loop {
                if let Ok(Step::Polled(_)) | Err(_) = c.live().await {
                    tokio::time::sleep(Duration::from_millis(1000)).await;
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(seconds), following).await;
    });
    let per_minute = posts.get() as f64 * 60.0 / seconds as f64;
    println!(
        "an idle live follower sent {} requests in {seconds} s: {per_minute:.1} per minute (one swarm followed)",
        posts.get()
    );
    println!(
        "BENCH {}",
        serde_json::json!({ "key": "latency.idle_requests_per_min", "value": per_minute, "unit": "requests" })
    );
}

fn main() {
    let args = args();
    let network = read_network_file(&args.network_file).unwrap();
    let home = tempfile::tempdir().unwrap();
    let b_home = home.path().join("b");

    // B: a real CLI identity and follower.
    let out = Command::new(&args.murmur)
        .arg("--home")
        .arg(&b_home)
        .args(["identity", "new"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let b_id = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .next()
        .unwrap()["Session ID: ".len()..]
        .to_string();
    let mut follower = Command::new(&args.murmur)
        .arg("--home")
        .arg(&b_home)
        .arg("--network-file")
        .arg(&args.network_file)
        .args(["inbox", "--follow", "--json", "--interval-ms"])
        .arg(args.interval_ms.to_string())
        .args(args.poll.then_some("--poll"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines_tx, lines) = mpsc::channel::<(String, Instant)>();
    let stdout = follower.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            let _ = lines_tx.send((v["text"].as_str().unwrap().to_string(), Instant::now()));
        }
    });

    // A: the client engine in this process.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let a = Client::new(
        Identity::from_seed(Seed::generate(&mut UnwrapErr(getrandom::SysRng))),
        ClientConfig::new(network.config().unwrap()),
        HttpTransport::new(None).unwrap(),
        SystemClock::default(),
        MemoryStore::new(),
        UnwrapErr(getrandom::SysRng),
    );
    let to = parse_recipient(&b_id).unwrap();
    rt.block_on(a.ready()).unwrap();
    if args.idle_seconds > 0 {
        idle_requests(&rt, &network, args.idle_seconds);
    }
    // Let the follower finish its own start-up (manifest, first poll) before timing.
    std::thread::sleep(Duration::from_millis(args.interval_ms + 500));

    let mut started: HashMap<String, Instant> = HashMap::new();
    let mut acks = Vec::new();
    for i in 0..args.messages {
        let text = format!("latency probe {i}");
        let t0 = Instant::now();
        started.insert(text.clone(), t0);
        rt.block_on(a.send_text(&to, &text, None)).unwrap();
        acks.push(t0.elapsed().as_secs_f64() * 1000.0);
        std::thread::sleep(Duration::from_millis(args.gap_ms));
    }
    let mut latencies = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while latencies.len() < args.messages && Instant::now() < deadline {
        if let Ok((text, at)) = lines.recv_timeout(Duration::from_millis(200))
            && let Some(t0) = started.remove(&text)
        {
            latencies.push(at.duration_since(t0).as_secs_f64() * 1000.0);
        }
    }
    let _ = follower.kill();
    let _ = follower.wait();

    latencies.sort_by(f64::total_cmp);
    acks.sort_by(f64::total_cmp);
    println!(
        "messages sent {}, received {} (B following with `murmur inbox --follow`, {})",
        args.messages,
        latencies.len(),
        if args.poll {
            format!("poll every {} ms", args.interval_ms)
        } else {
            "live".into()
        }
    );
    println!(
        "send → receive latency: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        latencies.last().copied().unwrap_or(0.0)
    );
    println!(
        "send → swarm acknowledgement (3-hop onion store): p50 {:.0} ms, p99 {:.0} ms",
        percentile(&acks, 50.0),
        percentile(&acks, 99.0)
    );
    for (key, value) in [
        ("latency.p50", percentile(&latencies, 50.0)),
        ("latency.p99", percentile(&latencies, 99.0)),
        ("latency.ack.p50", percentile(&acks, 50.0)),
        ("latency.ack.p99", percentile(&acks, 99.0)),
    ] {
        println!(
            "BENCH {}",
            serde_json::json!({ "key": key, "value": value, "unit": "ms" })
        );
    }
    assert_eq!(latencies.len(), args.messages, "every message arrived");
}
