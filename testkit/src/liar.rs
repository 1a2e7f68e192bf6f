//! A Byzantine node for the tests: a manifest node run by an attacker. It holds that node's
//! real keys (the ones [`ProcessNet::create`] wrote), peels real onion layers and signs with
//! its real key, and lies as its [`Lie`] says; where it does not lie it passes everything to
//! the real `murmur-node` process behind it, which listens on a hidden port. So the rest of
//! the network sees a working member that misbehaves in one way.
//!
//! The lies live here, in the dev-only test kit, never in the node binary.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use murmur_core::crypto::b64_decode;
use murmur_core::onion::{self, Peeled, RelayError};
use murmur_core::rpc::response::{
    GetSwarmResponse, NodeEntry, RetrieveResponse, RetrievedMessage, StoreNodeResult,
    StoreResponse, SwarmNode, node_sig,
};
use murmur_core::rpc::rules::RETRIEVE_MAX_COUNT;
use murmur_core::rpc::{AccountId, Request as RpcRequest, message_hash};
use murmur_node::identity::NodeIdentity;

use crate::processes::ProcessNet;

/// How the node lies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lie {
    /// No lie: everything goes to the real node.
    Honest,
    /// Answers every onion request sent to it with `307 Location: <url>`, hoping the relay
    /// that called it follows (server-side request forgery).
    Redirect(String),
    /// As a destination, answers every request naming an account with 421 and a "swarm" of
    /// itself alone, to capture the account.
    ClaimSwarm,
    /// As a destination, acknowledges every store with its real signature and keeps nothing.
    AckAndDrop,
    /// As a destination, answers every retrieve with no messages.
    HideMessages,
    /// As a relay, answers that the node `.0` (Ed25519 hex) is unreachable, to get it
    /// excluded from the client's paths.
    Blame(String),
    /// As a destination, serves the real retrieve page with every message's data replaced
    /// by junk under its real hash.
    CorruptData,
    /// As a destination, serves every retrieve from the start (ignoring `last_hash`) with
    /// every expiration in the past, to have messages shown again.
    ReplayExpired,
    /// As a destination, serves the real retrieve page with every expiration at `u64::MAX`.
    FarExpiry,
    /// As a destination, refuses every request with 400.
    Refuse,
    /// As a destination, answers every retrieve with a full page of junk messages (new ones
    /// each time, each under the hash of its own data, expiring far in the future) and
    /// "more": 1,000 per page, 20 pages per poll.
    FloodJunk,
    /// As a destination, answers as the real node would with its network time (`t`, and
    /// `info`'s `timestamp`) moved by this many milliseconds.
    SkewClock(i64),
}

impl Lie {
    /// Whether the lie rewrites the real node's retrieve page.
    fn rewrites_retrieve(&self) -> bool {
        matches!(
            self,
            Self::CorruptData | Self::ReplayExpired | Self::FarExpiry
        )
    }
}

#[derive(Debug)]
struct Liar {
    identity: NodeIdentity,
    me: murmur_core::network::ManifestNode,
    hidden: u16,
    lie: Mutex<Lie>,
    /// Requests answered with a lie so far.
    told: AtomicU64,
    http: reqwest::Client,
}

/// A running liar; dropping it leaves the port served until the test's runtime ends.
#[derive(Debug, Clone)]
pub struct LiarHandle {
    liar: Arc<Liar>,
}

impl LiarHandle {
    /// Changes the lie from the next request on.
    pub fn set(&self, lie: Lie) {
        *self.liar.lie.lock().unwrap() = lie;
    }

    /// How many requests it has answered with a lie (a test checks its lie was put to the
    /// client at all).
    pub fn lies_told(&self) -> u64 {
        self.liar.told.load(Ordering::Relaxed)
    }
}

/// Turns node `i` of `net` into a liar: the real node moves to a hidden port and the liar takes
/// its published one. Call after [`ProcessNet::create`] and before or after starting it.
pub async fn corrupt(net: &mut ProcessNet, i: usize, lie: Lie) -> LiarHandle {
    let published = net.nodes[i].port;
    let hidden = net.move_to_hidden_port(i);
    let identity = NodeIdentity::load_or_create(&net.nodes[i].data_dir).unwrap();
    let me = net
        .manifest
        .manifest
        .node(&identity.ed25519())
        .expect("the liar is a manifest node")
        .clone();
    let liar = Arc::new(Liar {
        identity,
        me,
        hidden,
        lie: Mutex::new(lie),
        told: AtomicU64::new(0),
        http: crate::net::http(),
    });
    let app = Router::new()
        .route(murmur_core::onion::ONION_REQ_PATH, post(onion_request))
        .fallback(pass_on)
        .layer(DefaultBodyLimit::max(64 << 20))
        .with_state(liar.clone());
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], published)))
        .await
        .unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    LiarHandle { liar }
}

async fn onion_request(State(liar): State<Arc<Liar>>, body: Bytes) -> Response {
    let lie = liar.lie.lock().unwrap().clone();
    if let Lie::Redirect(location) = &lie {
        liar.told.fetch_add(1, Ordering::Relaxed);
        return (
            StatusCode::TEMPORARY_REDIRECT,
            [(header::LOCATION, location.clone())],
        )
            .into_response();
    }
    match (onion::peel_layer(liar.identity.onion_key(), &body), &lie) {
        (Ok(Peeled::Final { request, reply_key }), _) => {
            let (status, text) = liar.answer(&lie, &request).await;
            let sealed = onion::encrypt_node_reply(
                &reply_key,
                status,
                &text,
                &mut murmur_node::clock::os_rng(),
            );
            (StatusCode::OK, sealed).into_response()
        }
        (Ok(Peeled::RelayToNode { .. }), Lie::Blame(ed)) => {
            liar.told.fetch_add(1, Ordering::Relaxed);
            let error = RelayError::NextNodeUnreachable(ed.clone());
            (StatusCode::from_u16(error.status()).unwrap(), error.text()).into_response()
        }
        _ => {
            liar.pass("POST", murmur_core::onion::ONION_REQ_PATH, Vec::new(), body)
                .await
        }
    }
}

/// `text` (a JSON reply) with its times moved by `by` ms.
fn skewed(text: &str, by: i64) -> String {
    let Ok(mut reply) = serde_json::from_str::<serde_json::Value>(text) else {
        return text.to_string();
    };
    for field in ["t", "timestamp"] {
        if let Some(t) = reply.get(field).and_then(serde_json::Value::as_u64) {
            reply[field] = t.saturating_add_signed(by).into();
        }
    }
    reply.to_string()
}

/// The lie that needs no real answer for a storage-RPC `request` arriving at the liar as its
/// destination, or `None`.
fn lied_answer(liar: &Liar, lie: &Lie, request: &[u8]) -> Option<(u16, String)> {
    let names_account = serde_json::from_slice::<serde_json::Value>(request)
        .is_ok_and(|v| v["params"]["pubkey"].is_string());
    let request = RpcRequest::from_json(request).ok()?;
    let t = crate::now_ms();
    match (lie, &request) {
        (Lie::ClaimSwarm, _) if names_account => {
            let me = &liar.me;
            let swarm = GetSwarmResponse {
                snodes: vec![SwarmNode {
                    pubkey_ed25519: me.ed25519.clone(),
                    pubkey_x25519: me.x25519.clone(),
                    ip: "127.0.0.1".into(),
                    port_https: 443,
                    url: Some(me.url.clone()),
                }],
                swarm: format!("{:016x}", me.swarm_id),
                t,
                hf: murmur_core::rpc::response::HARDFORK.to_vec(),
            };
            Some((421, serde_json::to_string(&swarm).unwrap()))
        }
        (Lie::AckAndDrop, RpcRequest::Store(params)) => {
            let account = AccountId::parse(&params.pubkey).ok()?;
            let data = b64_decode(&params.data).ok()?;
            let hash = message_hash(&account, params.namespace, &data);
            let signature =
                murmur_core::crypto::b64_encode(&liar.identity.sign(&node_sig::store(&hash)));
            let ack = StoreResponse {
                hash: Some(hash.clone()),
                swarm: [(
                    liar.me.ed25519.clone(),
                    NodeEntry::Ok(StoreNodeResult {
                        hash,
                        signature,
                        expiry: params.timestamp + params.ttl.unwrap_or(crate::DAY_MS),
                        already: false,
                    }),
                )]
                .into(),
                t,
                hf: murmur_core::rpc::response::HARDFORK.to_vec(),
            };
            Some((200, serde_json::to_string(&ack).unwrap()))
        }
        (Lie::Refuse, _) => Some((400, "invalid request: refused by a liar".into())),
        (Lie::FloodJunk, RpcRequest::Retrieve(params)) => {
            let account = AccountId::parse(&params.pubkey).ok()?;
            let page = liar.told.load(Ordering::Relaxed);
            let messages = (0..RETRIEVE_MAX_COUNT)
                .map(|i| {
                    let data = format!("junk {page} {i}").into_bytes();
                    RetrievedMessage {
                        hash: message_hash(&account, params.namespace, &data),
                        timestamp: t,
                        expiration: u64::MAX / 2,
                        data: murmur_core::crypto::b64_encode(&data),
                    }
                })
                .collect();
            let flood = RetrieveResponse {
                messages,
                more: true,
                t,
                hf: murmur_core::rpc::response::HARDFORK.to_vec(),
            };
            Some((200, serde_json::to_string(&flood).unwrap()))
        }
        (Lie::HideMessages, RpcRequest::Retrieve(_)) => {
            let empty = RetrieveResponse {
                messages: Vec::new(),
                more: false,
                t,
                hf: murmur_core::rpc::response::HARDFORK.to_vec(),
            };
            Some((200, serde_json::to_string(&empty).unwrap()))
        }
        _ => None,
    }
}

impl Liar {
    /// The answer to a storage-RPC `request` arriving at the liar as its destination.
    async fn answer(&self, lie: &Lie, request: &[u8]) -> (u16, String) {
        if let Some(answer) = lied_answer(self, lie, request) {
            self.told.fetch_add(1, Ordering::Relaxed);
            return answer;
        }
        match lie {
            Lie::SkewClock(by) => {
                self.told.fetch_add(1, Ordering::Relaxed);
                let (status, text) = self.ask_real_node(request).await;
                (status, skewed(&text, *by))
            }
            _ if lie.rewrites_retrieve() => self.rewritten_retrieve(lie, request).await,
            _ => self.ask_real_node(request).await,
        }
    }

    /// The real node's answer to `request`, with its retrieve page rewritten as `lie` says.
    async fn rewritten_retrieve(&self, lie: &Lie, request: &[u8]) -> (u16, String) {
        let Ok(RpcRequest::Retrieve(mut params)) = RpcRequest::from_json(request) else {
            return self.ask_real_node(request).await;
        };
        if *lie == Lie::ReplayExpired {
            // `last_hash` is not under the client's signature.
            params.last_hash.clear();
        }
        let request = RpcRequest::Retrieve(params).to_json().to_string();
        let (status, text) = self.ask_real_node(request.as_bytes()).await;
        let Ok(mut page) = serde_json::from_str::<RetrieveResponse>(&text) else {
            return (status, text);
        };
        if page.messages.is_empty() {
            return (status, text);
        }
        for m in &mut page.messages {
            match lie {
                Lie::CorruptData => m.data = murmur_core::crypto::b64_encode(b"not the message"),
                Lie::ReplayExpired => m.expiration = 1,
                _ => m.expiration = u64::MAX,
            }
        }
        self.told.fetch_add(1, Ordering::Relaxed);
        (status, serde_json::to_string(&page).unwrap())
    }

    /// The real node's answer to a plain storage RPC.
    async fn ask_real_node(&self, request: &[u8]) -> (u16, String) {
        let reply = self
            .http
            .post(format!("http://127.0.0.1:{}/storage_rpc/v1", self.hidden))
            .body(request.to_vec())
            .send()
            .await;
        match reply {
            Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
            Err(_) => (503, "the node behind the liar is down".into()),
        }
    }

    /// Forwards a request to the real node unchanged and its answer back.
    async fn pass(
        &self,
        method: &str,
        path_and_query: &str,
        headers: Vec<(String, String)>,
        body: Bytes,
    ) -> Response {
        let url = format!("http://127.0.0.1:{}{path_and_query}", self.hidden);
        let mut forward = match method {
            "GET" => self.http.get(url),
            _ => self.http.post(url).body(body),
        };
        for (k, v) in headers {
            forward = forward.header(k, v);
        }
        match forward.send().await {
            Ok(r) => {
                let status = StatusCode::from_u16(r.status().as_u16()).unwrap();
                let bytes = r.bytes().await.unwrap_or_default();
                (status, bytes).into_response()
            }
            Err(_) => StatusCode::BAD_GATEWAY.into_response(),
        }
    }
}

/// Everything but onion requests (peer calls, `/network`, direct RPC) goes to the real node.
async fn pass_on(State(liar): State<Arc<Liar>>, request: Request<Body>) -> Response {
    let method = request.method().as_str().to_string();
    let path = request
        .uri()
        .path_and_query()
        .map_or("/".to_string(), |p| p.as_str().to_string());
    let headers = request
        .headers()
        .iter()
        .filter(|(k, _)| *k != header::HOST && *k != header::CONTENT_LENGTH)
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let Ok(body) = axum::body::to_bytes(request.into_body(), 64 << 20).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    liar.pass(&method, &path, headers, body).await
}
