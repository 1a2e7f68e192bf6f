//! The operator's flow with the real binaries, as `docs`/README describe it: `murmur-node
//! network init`, `node init` + `network add-node` for 6 nodes, `network sign`, six `murmur-node
//! run` processes, two `murmur` users chatting; then 3 nodes join and one leaves while messages
//! are being sent — every acknowledged message reaches the recipient after the removed node is
//! gone, and the clients follow the new manifest. Nodes refuse an older or tampered manifest.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use murmur_testkit::net::free_port;
use murmur_testkit::processes::node_bin;

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn text(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

struct Node {
    url: String,
    ed25519: String,
    config: PathBuf,
    process: Option<Child>,
}

impl Node {
    /// `murmur-node run` (a node needs a signed manifest to start).
    fn start(&mut self) {
        self.process = Some(
            Command::new(node_bin())
                .args(["run", "--config", self.config.to_str().unwrap()])
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null())
                .spawn()
                .unwrap(),
        );
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(p) = self.process.as_mut() {
            let _ = p.kill();
            let _ = p.wait();
        }
    }
}

/// `node init` + `network add-node` for one new node (not started).
fn new_node(root: &Path, net: &Path, operator: &str, name: &str) -> Node {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let config = root.join(format!("{name}.toml"));
    let card = run(Command::new(node_bin()).args([
        "node",
        "init",
        "--data-dir",
        root.join(name).to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--url",
        &url,
        "--operator-key",
        operator,
        "--manifest",
        net.join("manifest.json").to_str().unwrap(),
        "--reload-seconds",
        "1",
    ]));
    let card_file = root.join(format!("{name}.card.json"));
    std::fs::write(&card_file, text(&card)).unwrap();
    let ed25519 = serde_json::from_str::<serde_json::Value>(&text(&card)).unwrap()["ed25519"]
        .as_str()
        .unwrap()
        .to_string();
    run(Command::new(node_bin()).args([
        "network",
        "add-node",
        "--dir",
        net.to_str().unwrap(),
        card_file.to_str().unwrap(),
    ]));
    Node {
        url,
        ed25519,
        config,
        process: None,
    }
}

fn sign(net: &Path) {
    run(Command::new(node_bin()).args(["network", "sign", "--dir", net.to_str().unwrap()]));
}

/// The manifest sequence node `url` serves (`None` while it is not up).
fn served_sequence(url: &str) -> Option<u64> {
    use std::io::{Read as _, Write as _};
    let addr = url.strip_prefix("http://")?;
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET /network HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    if !head.starts_with("HTTP/1.0 200") && !head.starts_with("HTTP/1.1 200") {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    v["manifest"]["sequence"].as_u64()
}

fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn murmur(home: &Path, args: &[&str]) -> Output {
    run(Command::new(env!("CARGO_BIN_EXE_murmur"))
        .arg("--home")
        .arg(home)
        .args(args))
}

fn new_user(home: &Path, seed: &str, operator: &str) -> String {
    let out = murmur(home, &["identity", "new"]);
    let id = text(&out)
        .lines()
        .next()
        .unwrap()
        .replace("Session ID: ", "");
    murmur(
        home,
        &["--seed", seed, "--operator-key", operator, "path", "--json"],
    );
    id.trim().to_string()
}

fn inbox(home: &Path) -> Vec<String> {
    text(&murmur(home, &["inbox", "--json"]))
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["text"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn an_operator_grows_and_shrinks_a_network_without_losing_acknowledged_messages() {
    let root = tempfile::tempdir().unwrap();
    let net = root.path().join("network");
    let init = run(Command::new(node_bin()).args([
        "network",
        "init",
        "--dir",
        net.to_str().unwrap(),
        "--name",
        "example",
    ]));
    let operator = text(&init)
        .lines()
        .next()
        .unwrap()
        .replace("operator key: ", "");
    let mut nodes: Vec<Node> = (0..6)
        .map(|i| new_node(root.path(), &net, &operator, &format!("node{i}")))
        .collect();
    sign(&net);
    let first_manifest = std::fs::read_to_string(net.join("manifest.json")).unwrap();
    for n in &mut nodes {
        n.start();
    }
    for n in &nodes {
        wait_for("the first nodes", || served_sequence(&n.url) == Some(1));
    }
    let show = text(&run(Command::new(node_bin()).args([
        "network",
        "show",
        "--dir",
        net.to_str().unwrap(),
    ])));
    assert!(
        show.contains("sequence 1, 6 node(s) in 2 swarm(s)"),
        "{show}"
    );
    let app_config: serde_json::Value =
        serde_json::from_str(&text(&run(Command::new(node_bin()).args([
            "network",
            "app-config",
            "--dir",
            net.to_str().unwrap(),
        ]))))
        .unwrap();
    assert_eq!(app_config["operator_pubkey"], operator.as_str());
    assert_eq!(app_config["seeds"].as_array().unwrap().len(), 6);

    // Two users chat through the new network.
    let (home_a, home_b) = (root.path().join("a"), root.path().join("b"));
    let a = new_user(&home_a, &nodes[0].url, &operator);
    let b = new_user(&home_b, &nodes[1].url, &operator);
    murmur(&home_a, &["send", "--to", &b, "hello B"]);
    murmur(&home_b, &["send", "--to", &a, "hello A"]);
    assert_eq!(inbox(&home_b), ["hello B"]);
    assert_eq!(inbox(&home_a), ["hello A"]);

    // A keeps sending while 3 nodes join and node 0 leaves.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sender = {
        let (home_a, b, stop) = (home_a.clone(), b.clone(), stop.clone());
        std::thread::spawn(move || {
            let (mut acked, mut failed) = (Vec::new(), Vec::new());
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let text = format!("during the change {i}");
                let out = Command::new(env!("CARGO_BIN_EXE_murmur"))
                    .arg("--home")
                    .arg(&home_a)
                    .args(["send", "--to", &b, &text])
                    .output()
                    .unwrap();
                // Only acknowledged messages count; a send may fail mid-change and say so.
                if out.status.success() {
                    acked.push(text);
                } else {
                    failed.push(text);
                }
                i += 1;
            }
            (acked, failed)
        })
    };
    std::thread::sleep(Duration::from_secs(2));
    for i in 6..9 {
        let mut joining = new_node(root.path(), &net, &operator, &format!("node{i}"));
        joining.start();
        nodes.push(joining);
    }
    let leaving = nodes[0].ed25519.clone();
    run(Command::new(node_bin()).args([
        "network",
        "remove-node",
        "--dir",
        net.to_str().unwrap(),
        &leaving,
    ]));
    sign(&net);
    for n in &nodes {
        wait_for("the new manifest", || served_sequence(&n.url) == Some(2));
    }
    std::thread::sleep(Duration::from_secs(5));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (acked, failed) = sender.join().unwrap();
    assert!(
        acked.len() >= 10,
        "only {} messages were acknowledged",
        acked.len()
    );
    eprintln!("{} messages acknowledged during the change", acked.len());

    // The removed node hands its messages off, then goes away for good.
    std::thread::sleep(Duration::from_secs(5));
    drop(nodes.remove(0));
    // Swarm members catch up with each other every 10 s, so B reads until all are in (or 60 s).
    let mut got = Vec::new();
    let start = Instant::now();
    loop {
        got.extend(inbox(&home_b));
        let missing: Vec<&String> = acked.iter().filter(|t| !got.contains(t)).collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "lost {} of {}: {missing:?}",
            missing.len(),
            acked.len()
        );
        std::thread::sleep(Duration::from_secs(2));
    }
    // Each message once. A send that failed for want of acknowledgements may still have been
    // stored by the member that did acknowledge (its sender said "failed"): it may arrive,
    // once; nothing else may.
    let mut unique = got.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), got.len(), "each message once: {got:?}");
    let strays: Vec<&String> = got
        .iter()
        .filter(|t| !acked.contains(t) && !failed.contains(t))
        .collect();
    assert!(strays.is_empty(), "never sent: {strays:?}");
    eprintln!(
        "{} of {} failed sends arrived anyway",
        got.len() - acked.len(),
        failed.len()
    );
    // Clients follow the new manifest: the path avoids the removed node.
    let path = text(&murmur(&home_a, &["path", "--json"]));
    assert!(
        !path.contains(&leaving),
        "the path still uses the removed node"
    );
    murmur(&home_a, &["send", "--to", &b, "after the change"]);
    assert_eq!(inbox(&home_b), ["after the change"]);

    // An older manifest, or a tampered one, put where the nodes read it is refused.
    let manifest = net.join("manifest.json");
    let current = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, &first_manifest).unwrap();
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        nodes.iter().all(|n| served_sequence(&n.url) == Some(2)),
        "an older manifest was taken"
    );
    let mut tampered: serde_json::Value = serde_json::from_str(&current).unwrap();
    tampered["manifest"]["sequence"] = 3.into();
    std::fs::write(&manifest, tampered.to_string()).unwrap();
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        nodes.iter().all(|n| served_sequence(&n.url) == Some(2)),
        "a tampered manifest was taken"
    );
    let show = Command::new(node_bin())
        .args(["network", "show", "--dir", net.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!show.status.success(), "the operator tool refuses it too");
    assert!(String::from_utf8_lossy(&show.stderr).contains("does not verify"));
    let _ = a;
}
