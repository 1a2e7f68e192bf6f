//! Protocol v2 against an independent implementation: `tests/interop/session_v2.py` (Python,
//! PyNaCl + kyber-py, written from SESSION-V2.md, not from this code) and the `murmur` CLI
//! exchange messages both ways on a 9-node devnet: v2 with forward secrecy each way (each
//! verifies the other's XEd25519-signed −21 record), v2 without forward secrecy each way (the
//! Python peer's choice; the CLI's with `--v2-only` to a peer that publishes nothing), and v1
//! when the peer publishes nothing.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use common::{murmur, new_user, stderr, stdout};
use murmur_testkit::devnet;
use serde_json::Value;

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/interop")
}

/// Runs the Python peer with `state` and `args`; its stdout.
async fn peer(devnet: &Path, state: &Path, args: &[&str]) -> String {
    let python = interop_dir().join(".venv/bin/python");
    assert!(
        python.exists(),
        "the interop peer's Python is missing: run scripts/setup (make test does)"
    );
    let mut cmd = std::process::Command::new(python);
    cmd.arg(interop_dir().join("session_v2.py"))
        .arg("--devnet")
        .arg(devnet)
        .arg("--state")
        .arg(state)
        .args(args);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "session_v2.py {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

async fn cli_json(home: &Path, args: &[&str]) -> Vec<Value> {
    let out = murmur(home, args).await;
    assert!(out.status.success(), "murmur {args:?}: {}", stderr(&out));
    lines(&stdout(&out))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_and_an_independent_python_peer_exchange_v2_both_ways() {
    let (net, dir) = devnet::start(9, 500).await;
    let file = net.dir.join("devnet.json");
    let home = dir.path().join("cli");
    let cli_id = new_user(&home, &file).await;
    let keys = cli_json(&home, &["keys", "show", "--json"]).await;
    assert_eq!(keys[0]["status"], "member");

    // A Python peer that publishes its account key at −21.
    let py = dir.path().join("py.json");
    let py_id = peer(&file, &py, &["new"]).await.trim().to_string();
    peer(&file, &py, &["publish"]).await;

    // CLI → Python: the CLI fetches and checks the peer's record, seals v2 with forward secrecy.
    let sent = cli_json(
        &home,
        &["send", "--to", &py_id, "--json", "hello from rust"],
    )
    .await;
    assert_eq!(sent[0]["protocol"], "v2");
    let got = lines(&peer(&file, &py, &["inbox"]).await);
    assert_eq!(got.len(), 1);
    assert_eq!(
        (&got[0]["from"], &got[0]["text"], &got[0]["protocol"]),
        (
            &Value::from(cli_id.clone()),
            &Value::from("hello from rust"),
            &Value::from("v2")
        )
    );

    // Python → CLI: the peer checks the CLI's record (XEd25519) and seals v2 both ways.
    peer(
        &file,
        &py,
        &["send", "--to", &cli_id, "--text", "hello from python"],
    )
    .await;
    peer(
        &file,
        &py,
        &["send", "--to", &cli_id, "--text", "no pfs", "--nopfs"],
    )
    .await;
    let got = cli_json(&home, &["inbox", "--json"]).await;
    let seen: Vec<(&str, &str, &str)> = got
        .iter()
        .map(|m| {
            (
                m["from"].as_str().unwrap(),
                m["text"].as_str().unwrap(),
                m["protocol"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (py_id.as_str(), "hello from python", "v2"),
            (py_id.as_str(), "no pfs", "v2-nopfs"),
        ]
    );

    // A Python peer that publishes nothing: v1 by default (which it does not read), v2 without
    // forward secrecy once the CLI sends v2 only, which it opens.
    let quiet = dir.path().join("quiet.json");
    let quiet_id = peer(&file, &quiet, &["new"]).await.trim().to_string();
    let sent = cli_json(&home, &["send", "--to", &quiet_id, "--json", "classic"]).await;
    assert_eq!(sent[0]["protocol"], "v1");
    assert!(
        murmur(&home, &["keys", "set", "--v2-only", "on"])
            .await
            .status
            .success()
    );
    let sent = cli_json(&home, &["send", "--to", &quiet_id, "--json", "v2 only"]).await;
    assert_eq!(sent[0]["protocol"], "v2-nopfs");
    let got = lines(&peer(&file, &quiet, &["inbox"]).await);
    assert_eq!(got.len(), 1, "the v1 message is not this peer's to read");
    assert_eq!(
        (&got[0]["text"], &got[0]["protocol"]),
        (&Value::from("v2 only"), &Value::from("v2-nopfs"))
    );
    net.stop().await;
}
