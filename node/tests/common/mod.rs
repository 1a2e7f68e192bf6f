//! Helpers shared by the node's integration tests: accounts, signed requests, one-node setups.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::Request as HttpRequest;
use ed25519_dalek::SigningKey;
use http_body_util::BodyExt as _;
use murmur_core::Identity;
use murmur_core::network::{Manifest, ManifestNode, SignedManifest};
use murmur_core::rpc::{
    self, AccountId, DeleteParams, Namespace, Request, RetrieveParams, StoreParams,
};
use murmur_node::clock::Clock;
use murmur_node::config::Config;
use murmur_node::identity::NodeIdentity;
use murmur_node::state::SharedNode;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;
use serde_json::Value;
use tower::ServiceExt as _;

/// A deterministic RNG for test accounts.
pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// An account whose swarm in `manifest` is `node`'s swarm (or, with `same = false`, another).
pub fn account_for(manifest: &Manifest, node_ed: &str, same: bool, seed: u64) -> Identity {
    let swarm = manifest
        .nodes
        .iter()
        .find(|n| n.ed25519 == node_ed)
        .expect("node in manifest")
        .swarm();
    let mut r = rng(seed);
    loop {
        let id = Identity::generate(&mut r);
        let key = id.session_id().x25519_pubkey();
        if (manifest.swarm_for_key(&key) == Some(swarm)) == same {
            return id;
        }
    }
}

pub fn account(id: &Identity) -> AccountId {
    AccountId::from(id.session_id())
}

/// A store request (signed when the namespace needs it).
pub fn store(id: &Identity, ns: i16, data: &[u8], ttl_ms: u64, now_ms: u64) -> Request {
    let p = StoreParams::new(&account(id), Namespace(ns), data, now_ms, ttl_ms);
    if Namespace(ns).is_public_inbox() {
        Request::Store(p)
    } else {
        Request::Store(p).signed_by(id)
    }
}

/// A signed retrieve.
pub fn retrieve(id: &Identity, ns: i16, last_hash: &str, now_ms: u64) -> Request {
    let p = RetrieveParams::new(&account(id), Namespace(ns), last_hash.into(), now_ms);
    Request::Retrieve(p).signed_by(id)
}

/// A signed delete of `hashes`.
pub fn delete(id: &Identity, hashes: &[String]) -> Request {
    Request::Delete(DeleteParams::new(&account(id), hashes.to_vec())).signed_by(id)
}

/// The hash a store of `data` for `id` in `ns` gets.
pub fn hash_of(id: &Identity, ns: i16, data: &[u8]) -> String {
    rpc::message_hash(&account(id), Namespace(ns), data)
}

/// A fake manifest node (never contacted) in `swarm_id`.
pub fn phantom_node(swarm_id: u64, seed: u8) -> ManifestNode {
    let id = NodeIdentity::from_seed(murmur_core::Seed::from_bytes(&[seed; 32]).expect("seed"));
    ManifestNode::new(
        id.ed25519_hex(),
        hex::encode(id.x25519()),
        "http://127.0.0.1:9".into(),
        swarm_id,
    )
}

/// One node (swarm 0) built without a socket, in a manifest that also names a phantom node in
/// another swarm (so some accounts belong elsewhere and get a 421).
pub struct OneNode {
    pub dir: tempfile::TempDir,
    pub node: SharedNode,
    pub router: Router,
    pub manifest: Manifest,
    pub clock: Arc<Clock>,
}

impl OneNode {
    /// This node's Ed25519 key in hex, as its replies name it.
    pub fn me(&self) -> String {
        self.node.identity.ed25519_hex()
    }

    /// An account this node's swarm holds (`seed` picks which).
    pub fn member(&self, seed: u64) -> Identity {
        account_for(&self.manifest, &self.me(), true, seed)
    }

    /// An account another swarm holds.
    pub fn outsider(&self, seed: u64) -> Identity {
        account_for(&self.manifest, &self.me(), false, seed)
    }

    /// The node's clock.
    pub fn now(&self) -> u64 {
        self.clock.now_ms()
    }

    /// Runs `request` and returns the body of its reply, which must be a 200.
    pub async fn ok(&self, request: &Request) -> Value {
        let (status, body) = rpc(&self.router, request).await;
        assert_eq!(status, 200, "{body}");
        body
    }
}

pub async fn one_node(max_bytes: u64) -> OneNode {
    one_node_with(|c| c.storage.max_bytes = max_bytes).await
}

/// [`one_node`] with a config adjusted by `adjust`.
pub async fn one_node_with(adjust: impl FnOnce(&mut Config)) -> OneNode {
    let dir = tempfile::tempdir().expect("tempdir");
    let operator = SigningKey::from_bytes(&[7; 32]);
    let me = NodeIdentity::load_or_create(dir.path()).expect("node key");
    let manifest = Manifest::new(
        "test".into(),
        1,
        vec![
            ManifestNode::new(
                me.ed25519_hex(),
                hex::encode(me.x25519()),
                "http://127.0.0.1:1".into(),
                0,
            ),
            phantom_node(1 << 63, 1),
        ],
    );
    let signed = SignedManifest::sign(manifest.clone(), &operator).expect("sign");
    let mut config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    config.network.operator_key = hex::encode(operator.verifying_key().to_bytes());
    config.network.manifest_file = Some(dir.path().join("unused.json"));
    adjust(&mut config);
    let clock = Arc::new(Clock::default());
    let node = murmur_node::server::build(config, Some(signed), clock.clone())
        .await
        .expect("node builds");
    let router = murmur_node::http::router(node.clone());
    OneNode {
        dir,
        node,
        router,
        manifest,
        clock,
    }
}

/// POSTs `body` to `path` through the router; returns status and body (JSON if it parses,
/// else a JSON string of the text).
pub async fn post(router: &Router, path: &str, body: impl Into<Body>) -> (u16, Value) {
    let response = router
        .clone()
        .oneshot(
            HttpRequest::post(path)
                .header("content-type", "application/json")
                .body(body.into())
                .expect("request builds"),
        )
        .await
        .expect("router answers");
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, value)
}

/// Runs a storage RPC through the router.
pub async fn rpc(router: &Router, request: &Request) -> (u16, Value) {
    post(router, "/storage_rpc/v1", request.to_json().to_string()).await
}

/// A node serving on a loopback port (see [`serve`]).
pub struct Served {
    pub node: murmur_node::server::RunningNode,
    pub dir: tempfile::TempDir,
    /// The operator key that signed its manifest.
    pub operator: SigningKey,
    pub manifest: Manifest,
}

/// One node (swarm 0) serving on a loopback port, in a manifest that also lists `others`,
/// with its config `adjust`ed.
pub async fn serve(others: Vec<ManifestNode>, adjust: impl FnOnce(&mut Config)) -> Served {
    let dir = tempfile::tempdir().expect("tempdir");
    let operator = SigningKey::from_bytes(&[7; 32]);
    let me = NodeIdentity::load_or_create(dir.path()).expect("node key");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let addr = listener.local_addr().expect("its address");
    let mut nodes = vec![ManifestNode::new(
        me.ed25519_hex(),
        hex::encode(me.x25519()),
        format!("http://{addr}"),
        0,
    )];
    nodes.extend(others);
    let manifest = Manifest::new("test".into(), 1, nodes);
    let signed = SignedManifest::sign(manifest.clone(), &operator).expect("sign");
    let mut config = Config {
        data_dir: dir.path().to_path_buf(),
        listen: addr,
        ..Config::default()
    };
    config.network.operator_key = hex::encode(operator.verifying_key().to_bytes());
    config.network.manifest_file = Some(dir.path().join("unused.json"));
    adjust(&mut config);
    let node = murmur_node::server::start(
        config,
        Some(listener),
        Some(signed),
        Arc::new(Clock::default()),
    )
    .await
    .expect("node starts");
    Served {
        node,
        dir,
        operator,
        manifest,
    }
}
