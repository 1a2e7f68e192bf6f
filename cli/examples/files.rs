//! File transfer throughput — `make bench-files`: a file of each `--sizes` (default 10 MB and
//! 100 MB) encrypted, uploaded in parts through 3-hop onion paths to the network's file
//! server, then downloaded, checked and decrypted by another client, beside the same parts
//! moved directly (plain HTTP POST and GET to the same file server, no onion, no encryption):
//! what the onion and the crypto cost on top of the transfer itself. Prints MB/s (10^6 bytes of
//! the file per second) as `BENCH` lines.
//!
//! `files --network-file devnet.json [--sizes 10000000,100000000]`
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::Instant;

use murmur_cli::home::read_network_file;
use murmur_cli::platform::{HttpTransport, SystemClock};
use murmur_core::attachment::{self, Domain};
use murmur_core::client::files::FileSink;
use murmur_core::client::{Client, ClientConfig, MemoryStore};
use murmur_core::files::PART_BYTES;
use murmur_core::{Identity, Seed};
use rand_core::UnwrapErr;

/// Counts what it is given, keeping nothing (a download's cost without the disk's).
#[derive(Default)]
struct Count(u64);

impl FileSink for Count {
    async fn write(&mut self, data: &[u8]) -> Result<(), String> {
        self.0 += data.len() as u64;
        Ok(())
    }
}

fn bench(key: &str, value: f64, unit: &str) {
    println!(
        "BENCH {}",
        serde_json::json!({ "key": key, "value": value, "unit": unit })
    );
}

fn label(size: u64) -> String {
    format!("{}mb", size / 1_000_000)
}

fn main() {
    let mut network_file = PathBuf::new();
    let mut sizes = vec![10_000_000u64, 100_000_000];
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_default();
        match flag.as_str() {
            "--network-file" => network_file = value.into(),
            "--sizes" => sizes = value.split(',').map(|s| s.parse().unwrap()).collect(),
            other => panic!("unknown flag {other}"),
        }
    }
    let network = read_network_file(&network_file).unwrap().config().unwrap();
    let client = |seed: u8| {
        Client::new(
            Identity::from_seed(Seed::from_bytes(&[seed; 16]).unwrap()),
            ClientConfig::new(network.clone()),
            HttpTransport::new(None).unwrap(),
            SystemClock::default(),
            MemoryStore::new(),
            UnwrapErr(getrandom::SysRng),
        )
    };
    let (alice, bob) = (client(1), client(2));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        alice.ready().await.unwrap();
        bob.ready().await.unwrap();
    });
    let server = alice.file_servers()[0].url.clone();
    let http = reqwest::Client::new();
    for size in sizes {
        // Different bytes each run, so the file server's deduplication does not help.
        let mut data = vec![0u8; size as usize];
        getrandom::fill(&mut data).unwrap();
        let mb = size as f64 / 1e6;

        let t = Instant::now();
        let uploaded = rt
            .block_on(alice.upload_file(data.as_slice(), Domain::Attachment, None, &|_, _| {}))
            .unwrap();
        let up = mb / t.elapsed().as_secs_f64();
        let t = Instant::now();
        let mut sink = Count::default();
        rt.block_on(bob.download_file(&uploaded.url, &uploaded.key, size, &mut sink, &|_, _| {}))
            .unwrap();
        assert_eq!(sink.0, size);
        let down = mb / t.elapsed().as_secs_f64();

        // The anchor: the same amount of encrypted bytes, in the same parts, straight to the
        // file server and back.
        let (_, encrypted) = attachment::encrypt(&[3; 32], Domain::Attachment, &data).unwrap();
        drop(data);
        let t = Instant::now();
        let mut ids = Vec::new();
        for part in encrypted.chunks(PART_BYTES) {
            let answer = rt
                .block_on(async {
                    http.post(format!("{server}/file"))
                        .body(part.to_vec())
                        .send()
                        .await
                        .unwrap()
                        .bytes()
                        .await
                })
                .unwrap();
            let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap();
            ids.push(answer["id"].as_str().unwrap().to_string());
        }
        let direct_up = mb / t.elapsed().as_secs_f64();
        let t = Instant::now();
        let mut got = 0;
        for id in &ids {
            got += rt
                .block_on(async {
                    http.get(format!("{server}/file/{id}"))
                        .send()
                        .await
                        .unwrap()
                        .bytes()
                        .await
                })
                .unwrap()
                .len();
        }
        assert_eq!(got, encrypted.len());
        let direct_down = mb / t.elapsed().as_secs_f64();
        println!(
            "{} MB: through 3 hops up {up:.1} MB/s, down {down:.1} MB/s; direct up {direct_up:.1} MB/s, down {direct_down:.1} MB/s ({} parts)",
            size / 1_000_000,
            ids.len()
        );
        let l = label(size);
        bench(&format!("files.{l}.onion_up"), up, "MB/s");
        bench(&format!("files.{l}.onion_down"), down, "MB/s");
        bench(&format!("files.{l}.direct_up"), direct_up, "MB/s");
        bench(&format!("files.{l}.direct_down"), direct_down, "MB/s");
    }
}
