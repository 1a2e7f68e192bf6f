//! The node's storage layer without HTTP, for `make bench`.
//!
//! - `store_scale ceiling [--seconds 5]`: `Storage::store` (the node's own store path: one
//!   duplicate check and one INSERT in a transaction, WAL, `synchronous=NORMAL`, the real schema)
//!   called in a loop from one thread with 1 KiB messages in a scratch database — the most
//!   stores per second SQLite gives this node, however fast the HTTP side is.
//! - `store_scale fill --db FILE --to N`: tops a node's database up to N messages (1 KiB, for
//!   1,000 accounts, 14-day expiry) with bulk transactions — set-up for the scale figures, which
//!   then measure a running node on that database.
//!
//! Prints `BENCH {"key","value","unit"}` lines.
// Real time is what these measure or wait on (deadlines, latency), not protocol logic.
#![allow(clippy::disallowed_methods)]

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use murmur_core::Identity;
use murmur_core::rpc::{AccountId, Namespace};
use murmur_node::storage::{Caps, DEFAULT_MAX_BYTES, Storage, StoredMessage};
use rand_core::SeedableRng as _;

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as u64
}

fn bench_line(key: &str, value: f64, unit: &str) {
    println!(
        "BENCH {}",
        serde_json::json!({ "key": key, "value": value, "unit": unit })
    );
}

fn accounts(n: usize) -> Vec<AccountId> {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(11);
    (0..n)
        .map(|_| AccountId::from(Identity::generate(&mut rng).session_id()))
        .collect()
}

/// A 1 KiB message body unique to `n`, and its hash in the protocol's form.
fn message(account: &AccountId, n: u64, now: u64) -> StoredMessage {
    let mut data = vec![0x5a; 1024];
    data[..8].copy_from_slice(&n.to_le_bytes());
    let hash = murmur_core::crypto::b64_encode_unpadded(&murmur_core::crypto::blake2b_32(&[
        &data, &account.0,
    ]));
    StoredMessage {
        id: 0,
        account: *account,
        namespace: Namespace(0),
        hash,
        timestamp: now,
        expiry: now + 14 * 24 * 3_600_000,
        data,
    }
}

fn ceiling(seconds: u64) {
    let dir = tempfile::tempdir().expect("scratch dir");
    let storage = Storage::open(
        &dir.path().join("messages.sqlite"),
        Caps::total(DEFAULT_MAX_BYTES),
    )
    .expect("open storage");
    let accounts = accounts(1000);
    let now = now_ms();
    let start = Instant::now();
    let mut lat = Vec::new();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs(seconds) {
        let msg = message(&accounts[n as usize % accounts.len()], n, now);
        let t = Instant::now();
        storage.store(&msg, false).expect("store");
        lat.push(t.elapsed());
        n += 1;
    }
    let rps = n as f64 / start.elapsed().as_secs_f64();
    lat.sort_unstable();
    let p = |q: f64| lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)].as_secs_f64() * 1e3;
    println!(
        "Storage::store ceiling: {n} stores in {seconds} s, {rps:.0}/s, p50 {:.3} ms, p99 {:.3} ms",
        p(0.5),
        p(0.99)
    );
    bench_line("sqlite.store.rps", rps, "stores/s");
    bench_line("sqlite.store.p50", p(0.5), "ms");
    bench_line("sqlite.store.p99", p(0.99), "ms");
}

fn fill(db: PathBuf, to: u64) {
    // Storage::open creates or migrates the schema; the bulk insert then uses its own
    // connection with the same pragmas.
    let storage = Storage::open(&db, Caps::total(DEFAULT_MAX_BYTES)).expect("open storage");
    let (have, _) = storage.stats();
    drop(storage);
    let mut conn = rusqlite::Connection::open(&db).expect("open");
    conn.pragma_update(None, "journal_mode", "WAL")
        .expect("wal");
    conn.pragma_update(None, "synchronous", "NORMAL")
        .expect("sync");
    let accounts = accounts(1000);
    let now = now_ms();
    let start = Instant::now();
    let mut n = have;
    while n < to {
        let tx = conn.transaction().expect("tx");
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO messages (account, namespace, hash, timestamp, expiry, data, swarm_space)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .expect("prepare");
            for _ in 0..20_000.min(to - n) {
                let account = &accounts[n as usize % accounts.len()];
                let m = message(account, n, now);
                let space = murmur_core::swarm::swarm_space(&account.key());
                insert
                    .execute(rusqlite::params![
                        &account.0[..],
                        m.namespace.0,
                        m.hash,
                        m.timestamp as i64,
                        m.expiry as i64,
                        m.data,
                        space as i64
                    ])
                    .expect("insert");
                n += 1;
            }
        }
        tx.commit().expect("commit");
    }
    conn.pragma_update(None, "wal_checkpoint", "TRUNCATE")
        .expect("checkpoint");
    println!(
        "filled {} to {to} messages ({} added in {:.1} s)",
        db.display(),
        to.saturating_sub(have),
        start.elapsed().as_secs_f64()
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    let (mut seconds, mut db, mut to) = (5u64, None, 0u64);
    while let Some(flag) = args.next() {
        let value = args.next().expect("every flag takes a value");
        match flag.as_str() {
            "--seconds" => seconds = value.parse().expect("--seconds N"),
            "--db" => db = Some(PathBuf::from(value)),
            "--to" => to = value.parse().expect("--to N"),
            other => panic!("unknown flag {other}"),
        }
    }
    match command.as_str() {
        "ceiling" => ceiling(seconds),
        "fill" => fill(db.expect("--db FILE"), to),
        other => panic!("unknown command {other:?}: ceiling | fill"),
    }
}
