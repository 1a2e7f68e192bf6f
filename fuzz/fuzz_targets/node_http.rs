#![no_main]
//! The node's HTTP handlers, structure-aware: sequences of storage RPCs on one account (Alice)
//! — signed by her, by someone else, unsigned, signed and then altered, or replayed — mixed
//! with raw bodies to every route, through the real router on a real SQLite database.
//!
//! Checked after every request: the router answers and never with 500; a request not validly
//! signed by Alice never removes one of her messages or shortens its expiry, and never reads a
//! namespace that needs her signature; a replay adds no message but the one its original
//! carries (no copy, no other message).
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use arbitrary::Arbitrary;
use axum::Router;
use axum::body::Body;
use axum::http::Request as HttpRequest;
use ed25519_dalek::SigningKey;
use http_body_util::BodyExt as _;
use libfuzzer_sys::fuzz_target;
use murmur_core::Identity;
use murmur_core::network::{Manifest, ManifestNode, SignedManifest};
use murmur_core::rpc::{
    AccountId, DeleteAllParams, DeleteBeforeParams, DeleteParams, ExpireAllParams,
    ExpireParams, GetExpiriesParams, Namespace, Request, RetrieveParams, StoreParams,
    message_hash,
};
use murmur_node::clock::Clock;
use murmur_node::config::Config;
use murmur_node::identity::NodeIdentity;
use murmur_node::state::SharedNode;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;
use serde_json::Value;
use tower::ServiceExt as _;

/// Namespaces worth telling apart: public inbox, private ones, the legacy group one, a
/// public outbox.
const NAMESPACES: [i16; 5] = [0, 1, 2, -10, 5];
const ROUTES: [&str; 9] = [
    "/storage_rpc/v1",
    "/onion_req/v2",
    "/json_rpc",
    "/network",
    "/metrics",
    "/murmur/v1/replicate",
    "/murmur/v1/messages",
    "/murmur/v1/handoff",
    "/nowhere",
];

struct World {
    rt: tokio::runtime::Runtime,
    node: SharedNode,
    router: Router,
    alice: Identity,
    mallory: Identity,
    _dir: tempfile::TempDir,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let operator = SigningKey::from_bytes(&[7; 32]);
        let me = NodeIdentity::load_or_create(dir.path()).unwrap();
        let manifest = Manifest::new("fuzz".into(), 1, vec![ManifestNode::new(me.ed25519_hex(), hex::encode(me.x25519()), "http://127.0.0.1:1".into(), 0)]);
        let signed = SignedManifest::sign(manifest, &operator).unwrap();
        let mut config = Config {
            data_dir: dir.path().to_path_buf(),
            ..Config::default()
        };
        config.network.operator_key = hex::encode(operator.verifying_key().to_bytes());
        config.network.manifest_file = Some(dir.path().join("unused.json"));
        config.rate_limit.per_second = 1_000_000_000;
        config.rate_limit.burst = 1_000_000_000;
        config.storage.max_bytes = 4 << 20;
        let node = rt
            .block_on(murmur_node::server::build(
                config,
                Some(signed),
                Arc::new(Clock::default()),
            ))
            .unwrap();
        let router = murmur_node::http::router(node.clone());
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        World {
            rt,
            node,
            router,
            alice: Identity::generate(&mut rng),
            mallory: Identity::generate(&mut rng),
            _dir: dir,
        }
    })
}

#[derive(Arbitrary, Debug)]
enum Step {
    /// Any bytes to any route.
    Raw { route: u8, body: Vec<u8> },
    /// A storage RPC on Alice's account.
    Rpc { op: Op, signer: Signer },
    /// An earlier request of this input, sent again byte for byte.
    Replay(u8),
}

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq)]
enum Signer {
    Alice,
    /// Signed by another account's key.
    Mallory,
    Unsigned,
    /// Signed by Alice, then a signed parameter changed.
    AliceAltered,
}

#[derive(Arbitrary, Debug)]
enum Op {
    Store { ns: u8, data: Vec<u8>, ttl_s: u32, skew_s: i16 },
    Retrieve { ns: u8, from: u8, skew_s: i16 },
    Delete { pick: Vec<u8> },
    DeleteAll { ns: u8, skew_s: i16 },
    DeleteBefore { ns: u8, before_s: i32 },
    Expire { pick: Vec<u8>, in_s: i32, mode: u8 },
    ExpireAll { ns: u8, in_s: i32 },
    GetExpiries { pick: Vec<u8>, skew_s: i16 },
}

/// Alice's messages: (namespace, hash) → expiry.
fn snapshot(w: &World) -> BTreeMap<(i16, String), u64> {
    let account = AccountId::from(w.alice.session_id());
    let mut all = BTreeMap::new();
    for ns in NAMESPACES {
        let (messages, _) = w
            .node
            .storage
            .retrieve(&account, Namespace(ns), "", 0, 10_000, usize::MAX)
            .unwrap();
        for m in messages {
            all.insert((ns, m.hash), m.expiry);
        }
    }
    all
}

fn ns(i: u8) -> Namespace {
    Namespace(NAMESPACES[usize::from(i) % NAMESPACES.len()])
}

fn offset(now: u64, seconds: i64) -> u64 {
    now.saturating_add_signed(seconds * 1000)
}

/// The request, and whether it needs (and has) Alice's valid signature to do anything.
fn build(w: &World, op: &Op, signer: Signer, known: &[String]) -> (Value, bool) {
    let now = w.node.clock.now_ms();
    let account = AccountId::from(w.alice.session_id());
    let pick = |p: &[u8]| -> Vec<String> {
        p.iter()
            .filter_map(|i| known.get(usize::from(*i) % known.len().max(1)).cloned())
            .collect()
    };
    // `now` moved by a number of seconds the input chose.
    let at = |seconds: i32| offset(now, i64::from(seconds));
    let a = &account;
    let request = match op {
        Op::Store { ns: n, data, ttl_s, skew_s } => {
            let ttl_ms = u64::from(*ttl_s) * 1000;
            Request::Store(StoreParams::new(a, ns(*n), data, at((*skew_s).into()), ttl_ms))
        }
        Op::Retrieve { ns: n, from, skew_s } => {
            let last = pick(&[*from]).pop().unwrap_or_default();
            Request::Retrieve(RetrieveParams::new(a, ns(*n), last, at((*skew_s).into())))
        }
        Op::Delete { pick: p } => Request::Delete(DeleteParams::new(a, pick(p))),
        Op::DeleteAll { ns: n, skew_s } => {
            Request::DeleteAll(DeleteAllParams::new(a, ns(*n), at((*skew_s).into())))
        }
        Op::DeleteBefore { ns: n, before_s } => {
            Request::DeleteBefore(DeleteBeforeParams::new(a, ns(*n), at(*before_s)))
        }
        Op::Expire { pick: p, in_s, mode } => Request::Expire(ExpireParams {
            shorten: mode % 3 == 1,
            extend: mode % 3 == 2,
            ..ExpireParams::new(a, pick(p), at(*in_s))
        }),
        Op::ExpireAll { ns: n, in_s } => {
            Request::ExpireAll(ExpireAllParams::new(a, ns(*n), at(*in_s)))
        }
        Op::GetExpiries { pick: p, skew_s } => {
            Request::GetExpiries(GetExpiriesParams::new(a, pick(p), at((*skew_s).into())))
        }
    };
    let request = match signer {
        Signer::Alice | Signer::AliceAltered => request.signed_by(&w.alice),
        Signer::Mallory => request.signed_by(&w.mallory),
        Signer::Unsigned => request,
    };
    let mut json = request.to_json();
    if signer == Signer::AliceAltered {
        // Change a parameter the signature covers.
        let p = &mut json["params"];
        let field = ["timestamp", "expiry", "before"]
            .into_iter()
            .find(|f| p.get(*f).is_some());
        match field {
            Some(f) => p[f] = Value::from(p[f].as_u64().unwrap_or(0) ^ 1),
            None => {
                if let Some(list) = p.get_mut("messages").and_then(Value::as_array_mut) {
                    list.push(Value::from("A".repeat(43)));
                }
            }
        }
    }
    (json, signer == Signer::Alice)
}

async fn send(router: &Router, path: &str, body: Vec<u8>) -> (u16, Value) {
    let response = router
        .clone()
        .oneshot(
            HttpRequest::post(path)
                .header("content-type", "application/json")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
        .expect("the router always answers");
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fuzz_target!(|steps: Vec<Step>| {
    let w = world();
    // Each input starts from an empty database.
    w.node.storage.sweep(u64::MAX).unwrap();
    w.rt.block_on(async {
        // Earlier storage RPCs of this input: body, and the messages a replay of it may add.
        let mut sent: Vec<(Vec<u8>, Vec<(i16, String)>)> = Vec::new();
        for step in steps.iter().take(32) {
            let before = snapshot(w);
            let known: Vec<String> = before.keys().map(|(_, h)| h.clone()).collect();
            let (path, body, authorised, reads_private) = match step {
                Step::Raw { route, body } => (
                    ROUTES[usize::from(*route) % ROUTES.len()],
                    body.clone(),
                    false,
                    false,
                ),
                Step::Rpc { op, signer } => {
                    let (json, authorised) = build(w, op, *signer, &known);
                    let reads_private = match op {
                        Op::Retrieve { ns: n, .. } => ns(*n).retrieve_needs_auth(),
                        Op::GetExpiries { .. } => true,
                        _ => false,
                    };
                    ("/storage_rpc/v1", json.to_string().into_bytes(), authorised, reads_private)
                }
                Step::Replay(i) => {
                    let Some((body, ..)) = sent.get(usize::from(*i) % sent.len().max(1)) else {
                        continue;
                    };
                    // A replay is authorised only in that Alice once signed it; what it may
                    // do is checked below (a store adds nothing new).
                    ("/storage_rpc/v1", body.clone(), true, false)
                }
            };
            let (status, reply) = send(&w.router, path, body.clone()).await;
            assert_ne!(status, 500, "internal error on {path}: {reply}");
            let after = snapshot(w);
            if !authorised {
                for (key, expiry) in &before {
                    let now = after.get(key);
                    assert!(now.is_some(), "a request without Alice's signature removed a message");
                    assert!(now >= Some(expiry), "a request without Alice's signature shortened an expiry");
                }
                if reads_private {
                    assert_ne!(status, 200, "read without Alice's signature: {reply}");
                }
            }
            let added: Vec<(i16, String)> =
                after.keys().filter(|k| !before.contains_key(*k)).cloned().collect();
            if let Step::Replay(i) = step {
                // A replay adds nothing but what the original added: never a second copy, never
                // another message. (Nor the same message after the owner deleted it: the node
                // remembers the delete, though the signature would let the store through.)
                let (_, may_add) = &sent[usize::from(*i) % sent.len()];
                for key in &added {
                    assert!(may_add.contains(key), "a replay added a message its original does not carry");
                }
            }
            if path == "/storage_rpc/v1" && !matches!(step, Step::Replay(_)) {
                // What a store carries is named by its content hash, whether or not it added
                // it this time: a store of a message already held adds nothing, and its replay
                // may add it if it was refused before (a full mailbox since emptied).
                let mut may_add = added;
                if let Step::Rpc { op: Op::Store { ns: n, data, .. }, .. } = step {
                    let account = AccountId::from(w.alice.session_id());
                    may_add.push((ns(*n).0, message_hash(&account, ns(*n), data)));
                }
                sent.push((body, may_add));
            }
        }
    });
});
