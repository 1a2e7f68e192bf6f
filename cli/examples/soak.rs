//! `make soak MINUTES=N`: the fault suite's churn for N minutes on a 9-node network of separate
//! `murmur-node` processes — 4 clients sending and polling through 3-hop onion paths while a
//! random node is killed with SIGKILL every 4 s and restarted 1.5 s later (node 0 is spared,
//! so its memory growth can be read). Prints a line per minute (acknowledged, errors, p50/p99
//! latency, memory) and the totals; writes them to `target/soak/report.txt`; exits non-zero
//! if an acknowledged message was lost or handed out twice, or a node crashed.
//!
//! cargo run --profile node -p murmur-cli --example soak -- --minutes 20 \
//!     --node-bin target/node/murmur-node
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use murmur_testkit::churn::{ChurnSpec, run_churn};
use murmur_testkit::processes::ProcessNet;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let minutes: f64 = arg("--minutes").map_or(20.0, |m| m.parse().expect("--minutes N"));
    let bin = PathBuf::from(arg("--node-bin").expect("--node-bin PATH"));
    let out = PathBuf::from(arg("--out").unwrap_or_else(|| "target/soak".into()));
    let spec = ChurnSpec {
        nodes: 9,
        clients: 4,
        duration: Duration::from_secs_f64(minutes * 60.0),
        kill_every: Duration::from_secs(4),
        down_for: Duration::from_millis(1500),
        spare: 1,
        send_gap: Duration::from_millis(100),
        report_every: Duration::from_secs(if minutes < 3.0 { 20 } else { 60 }),
        sync_ms: 1000,
        seed: 2026,
        live: true,
    };
    let dir = tempfile::tempdir().unwrap();
    let mut net = ProcessNet::create(&bin, dir.path(), spec.nodes, spec.sync_ms, "");
    println!(
        "soak: {minutes} min, {} nodes (separate processes), {} clients, kill -9 every {:?}, down {:?}",
        spec.nodes, spec.clients, spec.kill_every, spec.down_for
    );
    let report = run_churn(&mut net, &spec).await;
    let text = report.render(spec.spare);
    let mut footer = String::new();
    for i in 0..spec.nodes {
        if net.log_text(i).contains("panicked") {
            footer.push_str(&format!("node {i} panicked (see its log)\n"));
        }
    }
    print!("{}", &text[text.find("\nacked ").map_or(0, |i| i + 1)..]);
    print!("{footer}");
    std::fs::create_dir_all(&out).unwrap();
    let path = out.join("report.txt");
    std::fs::write(
        &path,
        format!(
            "make soak MINUTES={minutes}: 9 nodes, 4 clients, kill -9 every 4 s\n{text}{footer}"
        ),
    )
    .unwrap();
    println!("report: {}", path.display());
    let failed = !report.lost.is_empty()
        || !report.duplicated.is_empty()
        || !report.crashes.is_empty()
        || !footer.is_empty();
    if failed {
        eprintln!(
            "soak FAILED: lost {:?}, duplicated {:?}, crashes {:?}",
            report.lost, report.duplicated, report.crashes
        );
        std::process::exit(1);
    }
}
