//! The fault suite, on separate `murmur-node` processes: nodes killed with SIGKILL under steady
//! traffic, a node whose disk fills up, and a node restarted from a copy of its database taken
//! mid-write. Each ends by checking that every acknowledged message is still retrievable, once.
//!
//! `FAULT_SECONDS` (default 120) sets the length of the churn run; `make soak` runs the same
//! churn for minutes (examples/soak.rs).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::time::Duration;

use murmur_core::crypto;
use murmur_core::rpc::{AccountId, Namespace, Request};
use murmur_testkit::churn::{ChurnSpec, run_churn};
use murmur_testkit::identity;
use murmur_testkit::net::rpc;
use murmur_testkit::processes::{ProcessNet, node_bin};
use murmur_testkit::requests::{held_hashes, public_store as store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_churn_loses_no_acknowledged_message() {
    let seconds: u64 = std::env::var("FAULT_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(120);
    let dir = tempfile::tempdir().unwrap();
    let spec = ChurnSpec {
        nodes: 9,
        clients: 4,
        duration: Duration::from_secs(seconds),
        kill_every: Duration::from_secs(4),
        down_for: Duration::from_millis(1500),
        spare: 1,
        send_gap: Duration::from_millis(100),
        report_every: Duration::from_secs(20),
        sync_ms: 1000,
        seed: 9,
        live: false,
    };
    let mut net = ProcessNet::create(&node_bin(), dir.path(), spec.nodes, spec.sync_ms, "");
    let report = run_churn(&mut net, &spec).await;
    println!("{}", report.render(spec.spare));
    assert!(report.crashes.is_empty(), "{:?}", report.crashes);
    assert!(
        u64::from(report.kills) + 2 >= seconds / 4,
        "only {} kills in {seconds} s",
        report.kills
    );
    assert!(report.acked >= 50, "too little traffic: {}", report.acked);
    assert!(report.lost.is_empty(), "lost: {:?}", report.lost);
    assert!(
        report.duplicated.is_empty(),
        "duplicated: {:?}",
        report.duplicated
    );
    for i in 0..spec.nodes {
        let log = net.log_text(i);
        assert!(!log.contains("panicked"), "node {i} panicked: {log}");
    }
}

/// Runs the node in its own mount namespace with its data directory on a tmpfs of `kib` KiB
/// (its key copied in first), so the disk really fills up — and nothing else does.
fn on_small_disk(net: &ProcessNet, i: usize, kib: u64) -> Command {
    let data = &net.nodes[i].data_dir;
    let key_copy = net.dir.join(format!("node-{i}.key"));
    std::fs::copy(data.join("node_ed25519.key"), &key_copy).unwrap();
    let mut command = Command::new("unshare");
    command
        .args(["--mount", "--map-root-user", "--propagation", "private", "sh", "-c"])
        .arg(format!(
            "mount -t tmpfs -o size={kib}k murmur-full \"$1\" && cp \"$2\" \"$1\"/node_ed25519.key && shift 2 && exec \"$@\""
        ))
        .arg("sh")
        .arg(data)
        .arg(&key_copy)
        .arg(net.bin());
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_is_an_explicit_507_and_loses_nothing_stored() {
    let dir = tempfile::tempdir().unwrap();
    let mut net = ProcessNet::create(&node_bin(), dir.path(), 1, 1000, "");
    let command = on_small_disk(&net, 0, 1024);
    net.start_with(0, command);
    assert!(
        net.wait_ready(0, Duration::from_secs(20)).await,
        "node did not start: {}",
        net.log_text(0)
    );
    let url = net.nodes[0].url();
    let alice = identity(1);

    // 40 KiB messages until the disk refuses one.
    let mut acked = Vec::new();
    let mut refusal = None;
    for i in 0..200u32 {
        let data: Vec<u8> = (0..40 * 1024).map(|b| (b as u32 ^ i) as u8).collect();
        let (status, body) = rpc(&url, &store(&alice, &data)).await;
        if status == 200 {
            acked.push(crypto::b64_encode(&data));
        } else {
            refusal = Some((status, body));
            break;
        }
    }
    let (status, body) = refusal.expect("a 1 MiB disk filled up");
    assert_eq!(status, 507, "an explicit 'full' answer: {body}");
    assert!(!acked.is_empty(), "some messages fitted first");
    let me = &net.manifest.manifest.nodes[0].ed25519;
    assert_eq!(body["swarm"][me]["reason"], "disk full", "{body}");

    // Still serving; the next store is refused the same way; everything acknowledged is there.
    for _ in 0..3 {
        let (status, _) = rpc(&url, &store(&alice, &[9; 40 * 1024])).await;
        assert_eq!(status, 507);
    }
    let held = held_hashes(&url, &alice).await;
    assert_eq!(
        held.len(),
        acked.len(),
        "every acknowledged message is kept"
    );
    assert!(net.exited(0).is_none(), "the node is still running");
    assert!(!net.log_text(0).contains("panicked"));
    let (status, _) = rpc(&url, &Request::Info).await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_restarted_from_a_mid_write_copy_of_its_database_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let mut net = ProcessNet::create(&node_bin(), dir.path(), 3, 500, "");
    net.start_all().await;
    let url = net.nodes[0].url();
    let alice = identity(2);

    // A writer storing through node 0 (which forwards to the other two) while the copy is
    // taken, as a naive backup would: `cp` of the live database and WAL files.
    let writer = {
        let url = url.clone();
        let alice = alice.clone();
        tokio::spawn(async move {
            let mut acked = Vec::new();
            for i in 0..400u32 {
                let data = format!("message {i} {}", "x".repeat(2000)).into_bytes();
                let (status, body) = rpc(&url, &store(&alice, &data)).await;
                assert_eq!(status, 200, "{body}");
                acked.push(murmur_core::rpc::message_hash(
                    &AccountId::from(alice.session_id()),
                    Namespace(0),
                    &data,
                ));
            }
            acked
        })
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let data = net.nodes[0].data_dir.clone();
    let copy = dir.path().join("copy");
    std::fs::create_dir_all(&copy).unwrap();
    for name in ["messages.sqlite", "messages.sqlite-wal"] {
        if data.join(name).exists() {
            std::fs::copy(data.join(name), copy.join(name)).unwrap();
        }
    }
    let acked = writer.await.unwrap();
    assert_eq!(acked.len(), 400);

    // Node 0 dies; its database is replaced by the copy; it comes back.
    net.kill(0);
    for name in [
        "messages.sqlite",
        "messages.sqlite-wal",
        "messages.sqlite-shm",
    ] {
        let _ = std::fs::remove_file(data.join(name));
        if copy.join(name).exists() {
            std::fs::copy(copy.join(name), data.join(name)).unwrap();
        }
    }
    net.start(0);
    assert!(
        net.wait_ready(0, Duration::from_secs(20)).await,
        "node 0 did not start from the copy: {}",
        net.log_text(0)
    );

    // The swarm refills what the copy missed: node 0 itself holds every acknowledged
    // message again, once.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let held = loop {
        let held = held_hashes(&url, &alice).await;
        if held.len() >= acked.len() || std::time::Instant::now() > deadline {
            break held;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let mut sorted = held.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), held.len(), "no message twice");
    let mut expected = acked.clone();
    expected.sort();
    assert_eq!(sorted, expected, "node 0 holds every acknowledged message");
    assert!(!net.log_text(0).contains("panicked"));
}
