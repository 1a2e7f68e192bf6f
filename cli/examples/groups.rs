//! Groups and protocol v2 on a network (`make bench-groups`), with library clients through
//! 3-hop onion paths:
//!
//! - a group of `--members` (default 100: an admin and 99): for each of `--messages` messages
//!   the admin sends, the send time and the time until every member has read it (the members
//!   polling at once, each as soon as its last poll ended), beside the same for a 1:1 message
//!   to one recipient polling the same way;
//! - removing one member (kicked notice, revocation, rekey, Members): the time, the bytes the
//!   admin's requests carried, and the size of the new key message beside a node's limit;
//! - protocol v2: the first message to a contact who publishes keys (the −21 fetch, then a
//!   forward-secret send) beside the next ones to them.
//!
//! `groups --network-file devnet.json [--members 100] [--messages 20]`
#![allow(clippy::unwrap_used)]

use std::cell::Cell;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Instant;

use futures_util::future::join_all;
use murmur_cli::home::read_network_file;
use murmur_cli::platform::{HttpTransport, SystemClock};
use murmur_core::client::{
    Client, ClientConfig, HttpResponse, MemoryStore, Transport, TransportError,
};
use murmur_core::message::Body;
use murmur_core::network::NetworkFile;
use murmur_core::{Identity, Seed};
use rand_core::UnwrapErr;

/// An HTTP transport that counts the bytes it posts.
struct Counting {
    inner: HttpTransport,
    bytes: Rc<Cell<u64>>,
}

impl Transport for Counting {
    async fn post(&self, url: &str, body: Vec<u8>) -> Result<HttpResponse, TransportError> {
        self.bytes.set(self.bytes.get() + body.len() as u64);
        self.inner.post(url, body).await
    }
    async fn get(&self, url: &str) -> Result<HttpResponse, TransportError> {
        self.inner.get(url).await
    }
}

type BenchClient = Client<Counting, SystemClock, MemoryStore, UnwrapErr<getrandom::SysRng>>;

fn client(network: &NetworkFile, v2: bool) -> (BenchClient, Rc<Cell<u64>>) {
    let bytes = Rc::new(Cell::new(0));
    let mut config = ClientConfig::new(network.config().unwrap());
    config.v2_publish = v2;
    config.device_kind = "c".into();
    let c = Client::new(
        Identity::from_seed(Seed::generate(&mut UnwrapErr(getrandom::SysRng))),
        config,
        Counting {
            inner: HttpTransport::new(None).unwrap(),
            bytes: bytes.clone(),
        },
        SystemClock::default(),
        MemoryStore::new(),
        UnwrapErr(getrandom::SysRng),
    );
    (c, bytes)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn bench(key: &str, value: f64, unit: &str) {
    println!(
        "BENCH {}",
        serde_json::json!({ "key": key, "value": value, "unit": unit })
    );
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// Polls `readers` (all at once, each again as soon as its poll ended) until each has read
/// `text`; returns the time from `t0` until the last had it.
async fn until_all_read<F, Fut>(readers: usize, poll: F, text: &str, t0: Instant) -> f64
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Vec<String>>,
{
    let done: Vec<Cell<Option<f64>>> = (0..readers).map(|_| Cell::new(None)).collect();
    join_all((0..readers).map(|i| {
        let done = &done;
        let poll = &poll;
        async move {
            for _ in 0..1000 {
                if poll(i).await.iter().any(|t| t == text) {
                    done[i].set(Some(ms(t0)));
                    return;
                }
            }
            panic!("reader {i} never read {text}");
        }
    }))
    .await;
    done.iter().map(|d| d.get().unwrap()).fold(0.0, f64::max)
}

fn main() {
    let mut network_file = PathBuf::new();
    let (mut size, mut messages) = (100usize, 20usize);
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_default();
        match flag.as_str() {
            "--network-file" => network_file = value.into(),
            "--members" => size = value.parse().unwrap(),
            "--messages" => messages = value.parse().unwrap(),
            other => panic!("unknown flag {other}"),
        }
    }
    let network = read_network_file(&network_file).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // A group of `size`.
        let (admin, admin_bytes) = client(&network, false);
        let members: Vec<BenchClient> = (1..size).map(|_| client(&network, false).0).collect();
        let ids: Vec<_> = members.iter().map(|m| m.identity().session_id()).collect();
        let t0 = Instant::now();
        let (group, failed) = admin.create_group("bench", "", &ids).await.unwrap();
        assert!(failed.is_empty());
        println!("created a group of {size} and invited {} in {:.0} ms", size - 1, ms(t0));
        join_all(members.iter().map(|m| async {
            m.poll().await.unwrap();
            m.accept_group(&group).await.unwrap();
        }))
        .await;
        admin.poll_groups().await.unwrap();

        // 1:1 anchor: one recipient polling the same way.
        let (alice, _) = client(&network, false);
        let (bob, _) = client(&network, false);
        let bob_id = bob.identity().session_id();
        bob.poll().await.unwrap();
        let (mut one_send, mut one_all, mut group_send, mut group_all) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for i in 0..messages {
            let text = format!("direct {i}");
            let t0 = Instant::now();
            alice.send_text(&bob_id, &text, None).await.unwrap();
            one_send.push(ms(t0));
            let poll = |_| async { bob.poll().await.unwrap().into_iter().map(|m| m.text).collect() };
            one_all.push(until_all_read(1, poll, &text, t0).await);

            let text = format!("group {i}");
            let t0 = Instant::now();
            admin
                .send_to_group(&group, &Body::text(&text), None)
                .await
                .unwrap();
            group_send.push(ms(t0));
            let poll = |m: usize| {
                let member = &members[m];
                async move {
                    member
                        .poll_groups()
                        .await
                        .unwrap()
                        .into_iter()
                        .map(|m| m.text)
                        .collect()
                }
            };
            group_all.push(until_all_read(members.len(), poll, &text, t0).await);
        }
        for v in [&mut one_send, &mut one_all, &mut group_send, &mut group_all] {
            v.sort_by(f64::total_cmp);
        }
        println!(
            "{messages} messages: to a group of {size}: sent p50 {:.0} ms, all {} read it p50 {:.0} ms p99 {:.0} ms; 1:1: sent p50 {:.0} ms, read p50 {:.0} ms p99 {:.0} ms",
            percentile(&group_send, 50.0),
            size - 1,
            percentile(&group_all, 50.0),
            percentile(&group_all, 99.0),
            percentile(&one_send, 50.0),
            percentile(&one_all, 50.0),
            percentile(&one_all, 99.0),
        );
        bench("groups.send.p50", percentile(&group_send, 50.0), "ms");
        bench("groups.all_read.p50", percentile(&group_all, 50.0), "ms");
        bench("groups.all_read.p99", percentile(&group_all, 99.0), "ms");
        bench("groups.direct_send.p50", percentile(&one_send, 50.0), "ms");
        bench("groups.direct_read.p50", percentile(&one_all, 50.0), "ms");
        bench("groups.direct_read.p99", percentile(&one_all, 99.0), "ms");

        // Removing one member.
        let before = admin_bytes.get();
        let t0 = Instant::now();
        admin
            .remove_from_group(&group, &[ids[ids.len() - 1]], false)
        .await
            .unwrap();
        let remove_ms = ms(t0);
        let written = admin_bytes.get() - before;
        let key_message = murmur_core::groups::keys::rekey(
            &murmur_core::groups::GroupKeys::from_seed(&[1; 32]),
            &ids[..ids.len() - 1],
            1,
            0,
        )
        .message
        .len();
        println!(
            "removing one of {size}: {remove_ms:.0} ms, {written} bytes posted (onion requests); a key message for {} members: {key_message} bytes (a node stores at most 76,800)",
            size - 1
        );
        bench("groups.remove.ms", remove_ms, "ms");
        bench("groups.remove.bytes", written as f64, "bytes");
        bench("groups.key_message.bytes", key_message as f64, "bytes");

        // Protocol v2: the first message to someone who publishes keys, then the next ones.
        let (carol, _) = client(&network, true);
        let (dave, _) = client(&network, true);
        dave.maintain_v2().await.unwrap();
        carol.maintain_v2().await.unwrap();
        let dave_id = dave.identity().session_id();
        let t0 = Instant::now();
        let first = carol.send_text(&dave_id, "first", None).await.unwrap();
        let first_ms = ms(t0);
        assert_eq!(first.protocol.as_str(), "v2");
        let mut next = Vec::new();
        for i in 0..messages {
            let t0 = Instant::now();
            carol
                .send_text(&dave_id, &format!("next {i}"), None)
                .await
                .unwrap();
            next.push(ms(t0));
        }
        next.sort_by(f64::total_cmp);
        println!(
            "v2: first message to a new contact (−21 fetch + send) {first_ms:.0} ms; next ones p50 {:.0} ms",
            percentile(&next, 50.0)
        );
        bench("v2.first_send.ms", first_ms, "ms");
        bench("v2.next_send.p50", percentile(&next, 50.0), "ms");
    });
}
