//! The `murmur-node` binary from the outside: a node from a TOML config picks up newer
//! manifests without a restart and refuses forged, tampered or older ones; the devnet serves
//! and stops cleanly on SIGTERM; logs carry no Session IDs, payloads or client addresses.
// Real time is what these measure or wait on (deadlines, latency), not protocol logic.
#![allow(clippy::disallowed_methods)]
// Test helpers outside #[test] functions unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use ed25519_dalek::SigningKey;
use murmur_core::network::{Manifest, ManifestNode, SignedManifest};
use murmur_core::rpc::Request;
use murmur_testkit::net::consecutive_free_ports;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_murmur-node");

/// Kills the child if the test fails before stopping it, so no node outlives its test.
struct Reaper(Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn signal(child: &Child, name: &str) {
    let ok = Command::new("kill")
        .args([format!("-{name}"), child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{name}");
}

/// Waits for the child to exit; returns whether it exited successfully.
fn wait_exit(child: &mut Child, timeout: Duration) -> bool {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.success();
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            panic!("process did not stop within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn get_json(url: &str) -> Option<Value> {
    murmur_node::server::install_crypto_provider();
    let response = reqwest::get(url).await.ok()?;
    response.json().await.ok()
}

async fn wait_sequence(url: &str, sequence: u64, timeout: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if let Some(v) = get_json(url).await
            && v["manifest"]["sequence"] == sequence
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

fn sign(manifest: &Manifest, key: &SigningKey) -> String {
    SignedManifest::sign(manifest.clone(), key)
        .unwrap()
        .to_json()
}

fn write(path: &Path, text: &str) {
    // Write then rename, as an operator's tooling should, so a reload never sees half a file.
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(tmp, path).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_from_config_follows_newer_manifests_and_refuses_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let keys = Command::new(BIN)
        .args(["keys", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(keys.status.success());
    let keys: Value = serde_json::from_slice(&keys.stdout).unwrap();
    let port = consecutive_free_ports(1);
    let operator = SigningKey::from_bytes(&[21; 32]);
    let mut manifest = Manifest::new(
        "process-test".into(),
        1,
        vec![ManifestNode::new(
            keys["ed25519"].as_str().unwrap().into(),
            keys["x25519"].as_str().unwrap().into(),
            format!("http://127.0.0.1:{port}"),
            0,
        )],
    );
    let manifest_file = dir.path().join("manifest.json");
    write(&manifest_file, &sign(&manifest, &operator));
    let config = dir.path().join("node.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:{port}\"\n\
             data_dir = \"{}\"\n\
             [network]\n\
             operator_key = \"{}\"\n\
             manifest_file = \"{}\"\n\
             reload_seconds = 1\n",
            data.display(),
            hex::encode(operator.verifying_key().to_bytes()),
            manifest_file.display()
        ),
    )
    .unwrap();
    let log = dir.path().join("node.log");
    let mut child = Reaper(
        Command::new(BIN)
            .args(["run", "--config"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    let network = format!("http://127.0.0.1:{port}/network");
    assert!(
        wait_sequence(&network, 1, Duration::from_secs(20)).await,
        "node did not start"
    );

    // Some client traffic, whose identifiers must not reach the log.
    let alice = murmur_core::Identity::generate(&mut rng(5));
    let client = reqwest::Client::new();
    let payload = b"secret payload text";
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    for request in [
        store(&alice, 0, payload, 60_000, now),
        retrieve(&alice, 0, "", now),
        Request::Info,
    ] {
        let status = client
            .post(format!("http://127.0.0.1:{port}/storage_rpc/v1"))
            .body(request.to_json().to_string())
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 200);
    }

    // A newer manifest is picked up without a restart.
    manifest.sequence = 2;
    manifest.network = "process-test-2".into();
    write(&manifest_file, &sign(&manifest, &operator));
    assert!(
        wait_sequence(&network, 2, Duration::from_secs(10)).await,
        "newer manifest not loaded"
    );

    // Wrong key, tampered, older: each refused, sequence 2 stays.
    let mut newer = manifest.clone();
    newer.sequence = 3;
    let forged = sign(&newer, &SigningKey::from_bytes(&[22; 32]));
    let tampered = sign(&newer, &operator).replace("process-test-2", "process-test-X");
    let mut older = manifest.clone();
    older.sequence = 1;
    let older = sign(&older, &operator);
    for bad in [forged, tampered, older] {
        write(&manifest_file, &bad);
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let served = get_json(&network).await.unwrap();
        assert_eq!(served["manifest"]["sequence"], 2);
        assert_eq!(served["manifest"]["network"], "process-test-2");
    }

    signal(&child.0, "INT");
    assert!(
        wait_exit(&mut child.0, Duration::from_secs(15)),
        "clean exit on SIGINT"
    );
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(
        log.contains("manifest is not signed by this network's operator key"),
        "{log}"
    );
    assert!(log.contains("manifest signature does not verify"), "{log}");
    assert!(
        log.contains("is not newer than the held sequence 2"),
        "{log}"
    );
    let session_id = alice.session_id().to_string();
    assert!(!log.contains(&session_id), "a Session ID reached the log");
    assert!(
        !log.contains(&session_id[2..]),
        "an account key reached the log"
    );
    assert!(!log.contains("secret payload"), "a payload reached the log");
    assert!(
        !log.contains(&murmur_core::crypto::b64_encode(payload)),
        "a payload reached the log"
    );
}

/// `murmur-node devnet` with `nodes` nodes from port `base` (its file server on the next).
fn spawn_devnet(nodes: u16, base: u16, dir: &std::path::Path) -> Reaper {
    Reaper(
        Command::new(BIN)
            .args([
                "devnet",
                "--nodes",
                &nodes.to_string(),
                "--base-port",
                &base.to_string(),
                "--dir",
            ])
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devnet_command_serves_writes_devnet_json_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    // Three nodes, and the devnet's file server on the port after theirs.
    let base = consecutive_free_ports(4);
    let mut child = spawn_devnet(3, base, dir.path());
    for i in 0..3 {
        assert!(
            wait_sequence(
                &format!("http://127.0.0.1:{}/network", base + i),
                1,
                Duration::from_secs(20)
            )
            .await,
            "node {i} did not start"
        );
    }
    let info: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("devnet.json")).unwrap()).unwrap();
    assert_eq!(info["nodes"].as_array().unwrap().len(), 3);
    assert_eq!(info["seeds"][0], format!("http://127.0.0.1:{base}"));
    assert_eq!(info["operator_pubkey"].as_str().unwrap().len(), 64);

    signal(&child.0, "TERM");
    assert!(
        wait_exit(&mut child.0, Duration::from_secs(15)),
        "clean exit on SIGTERM"
    );
    // The ports are free again.
    for i in 0..3 {
        assert!(std::net::TcpListener::bind(("127.0.0.1", base + i)).is_ok());
    }
}

/// The shipped systemd units (deploy/systemd: the node's and the file server's) pass
/// `systemd-analyze verify` — with ExecStart pointed at the built binary, since verify checks
/// it exists — and keep their hardening.
#[test]
fn the_systemd_units_verify() {
    for (name, state) in [
        ("murmur-node.service", "murmur-node"),
        ("murmur-files.service", "murmur-files"),
    ] {
        let unit = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../deploy/systemd")
                .join(name),
        )
        .unwrap();
        for line in [
            "DynamicUser=yes",
            &format!("StateDirectory={state}"),
            "ProtectSystem=strict",
            "NoNewPrivileges=yes",
            "CapabilityBoundingSet=\n",
            "--data-dir ${STATE_DIRECTORY}",
        ] {
            assert!(unit.contains(line), "{name} lost {line:?}");
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            unit.replace(
                "/usr/local/bin/murmur-node",
                env!("CARGO_BIN_EXE_murmur-node"),
            ),
        )
        .unwrap();
        let out = std::process::Command::new("systemd-analyze")
            .arg("verify")
            .arg(&path)
            .output()
            .expect("systemd-analyze (Debian's systemd package) runs this check");
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "systemd-analyze verify {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The example file server config parses as a file server config (so the documented fields
/// are the real ones).
#[test]
fn the_file_server_config_example_parses() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../deploy/files.toml.example"
    ))
    .unwrap();
    let config: murmur_node::files::FileServerConfig = toml::from_str(&text).unwrap();
    assert_eq!(config, {
        let mut c = murmur_node::files::FileServerConfig {
            listen: "0.0.0.0:22200".parse().unwrap(),
            data_dir: "/var/lib/murmur-files".into(),
            tls: Some(murmur_node::config::TlsConfig {
                cert_file: "/etc/murmur/cert.pem".into(),
                key_file: "/etc/murmur/key.pem".into(),
            }),
            ..Default::default()
        };
        c.http = murmur_node::config::HttpConfig::default();
        c
    });
}

/// A SIGTERM that comes while the devnet is still starting (its first node already answers,
/// the others not yet) is a clean stop too: the handler is in place before any work starts,
/// not only once the command waits for it (before, the default action killed the process).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigterm_during_start_is_a_clean_stop() {
    let dir = tempfile::tempdir().unwrap();
    let base = consecutive_free_ports(10);
    let mut child = spawn_devnet(9, base, dir.path());
    let first = format!("http://127.0.0.1:{base}/network");
    let start = Instant::now();
    while get_json(&first).await.is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "node 0 did not start"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    signal(&child.0, "TERM");
    assert!(
        wait_exit(&mut child.0, Duration::from_secs(15)),
        "clean exit on SIGTERM during start"
    );
}
