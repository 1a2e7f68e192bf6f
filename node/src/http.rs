//! The node's HTTP surface: routes, body limits, CORS, the per-IP rate limit and request
//! counting. Handlers are thin; the work is in `rpc`, `onion` and `replication`.
//!
//! Public (browser-reachable, CORS, rate-limited): `POST /storage_rpc/v1`, `POST /onion_req/v2`,
//! `POST /json_rpc`, `GET /network`. Operators: `GET /metrics`, on its own listener only
//! ([`metrics_router`]). Peers only (signed by a
//! manifest node key, no CORS, rate-limited in their own buckets):
//! `POST /murmur/v1/{replicate,messages,handoff}`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Extension, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use murmur_core::limits::{
    JSON_RPC_MAX_BODY, MAX_ONION_BODY, PEER_MAX_BODY, PEER_PAGE_REQUEST_MAX_BODY,
    STORAGE_RPC_MAX_BODY,
};
use murmur_core::onion::ONION_REQ_PATH;
use murmur_core::rpc::AccountId;
use murmur_core::rpc::response::{Reply, ReplyBody};
use serde_json::{Value, json};
use tower_http::cors::{Any, CorsLayer};

use crate::ratelimit::Class;
use crate::replication::{
    self, HANDOFF_PATH, MESSAGES_PATH, REPLICATE_BATCH_PATH, REPLICATE_PATH, SUBACCOUNTS_PATH,
};
use crate::state::SharedNode;
use crate::{network, onion, peer, rpc};

/// The node's router.
pub fn router(node: SharedNode) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE]);
    // Layers run bottom-up: the rate limit first, then the body is read (bounded, with a
    // deadline), then the handler.
    let public = Router::new()
        .route("/storage_rpc/v1", post(storage_rpc))
        .route(ONION_REQ_PATH, post(onion_req))
        .route("/json_rpc", post(json_rpc))
        .route("/network", get(network_manifest))
        .route_layer(middleware::from_fn_with_state(node.clone(), bounded_body))
        .route_layer(middleware::from_fn_with_state(node.clone(), rate_limit))
        .layer(cors);
    let peers = Router::new()
        .route(REPLICATE_PATH, post(peer_replicate))
        .route(REPLICATE_BATCH_PATH, post(peer_replicate_batch))
        .route(MESSAGES_PATH, post(peer_messages))
        .route(SUBACCOUNTS_PATH, post(peer_subaccount_changes))
        .route(HANDOFF_PATH, post(peer_handoff))
        .route_layer(middleware::from_fn_with_state(node.clone(), peer_auth))
        .route_layer(middleware::from_fn_with_state(node.clone(), rate_limit));
    Router::new()
        .merge(public)
        .merge(peers)
        // Every body is read by `read_body`, which enforces each route's own bound.
        .layer(DefaultBodyLimit::disable())
        .layer(middleware::from_fn_with_state(node.clone(), count_requests))
        .with_state(node)
}

/// `GET /metrics` alone, for the operator's own listen address (`metrics_listen`): the
/// public listener does not serve it, so strangers learn nothing of the node's load and cannot
/// make it render metrics at their rate.
pub fn metrics_router(node: SharedNode) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(node)
}

/// Largest request body each route takes: what a legitimate sender sends, no more.
pub fn body_limit(path: &str) -> usize {
    match path {
        "/storage_rpc/v1" => STORAGE_RPC_MAX_BODY,
        ONION_REQ_PATH => MAX_ONION_BODY,
        "/json_rpc" => JSON_RPC_MAX_BODY,
        REPLICATE_PATH | REPLICATE_BATCH_PATH | HANDOFF_PATH => PEER_MAX_BODY,
        MESSAGES_PATH | SUBACCOUNTS_PATH => PEER_PAGE_REQUEST_MAX_BODY,
        _ => 0,
    }
}

/// Reads a request body of at most `limit` bytes within the configured deadline: 413 when it
/// is (or says it is) larger, before reading it; 408 when the client is too slow.
async fn read_body(
    node: &SharedNode,
    headers: &HeaderMap,
    body: axum::body::Body,
    limit: usize,
) -> Result<Bytes, Response> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(text(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body too large",
        ));
    }
    let deadline = std::time::Duration::from_millis(node.config.http.body_read_timeout_ms);
    match tokio::time::timeout(deadline, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => {
            let too_large = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            Err(if too_large {
                text(StatusCode::PAYLOAD_TOO_LARGE, "request body too large")
            } else {
                text(StatusCode::BAD_REQUEST, "request body cut off")
            })
        }
        Err(_) => Err(text(StatusCode::REQUEST_TIMEOUT, "request body too slow")),
    }
}

async fn bounded_body(State(node): State<SharedNode>, request: Request, next: Next) -> Response {
    let limit = body_limit(request.uri().path());
    let (parts, body) = request.into_parts();
    match read_body(&node, &parts.headers, body, limit).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await
        }
        Err(refusal) => refusal,
    }
}

fn endpoint_label(path: Option<&str>) -> &'static str {
    match path {
        Some("/storage_rpc/v1") => "storage_rpc",
        Some(ONION_REQ_PATH) => "onion_req",
        Some("/json_rpc") => "json_rpc",
        Some("/network") => "network",
        Some("/metrics") => "metrics",
        Some(REPLICATE_PATH) => "peer_replicate",
        Some(REPLICATE_BATCH_PATH) => "peer_replicate_batch",
        Some(MESSAGES_PATH) => "peer_messages",
        Some(SUBACCOUNTS_PATH) => "peer_subaccounts",
        Some(HANDOFF_PATH) => "peer_handoff",
        _ => "other",
    }
}

async fn count_requests(State(node): State<SharedNode>, request: Request, next: Next) -> Response {
    let label = endpoint_label(
        request
            .extensions()
            .get::<MatchedPath>()
            .map(MatchedPath::as_str),
    );
    let started = crate::clock::monotonic_now();
    let response = next.run(request).await;
    let took = crate::clock::monotonic_now().duration_since(started);
    node.metrics.record(label, response.status().as_u16(), took);
    response
}

fn tcp_peer(request: &Request) -> IpAddr {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip())
}

/// Charges every request to a bucket (`ratelimit` says whose) before any work is done.
async fn rate_limit(State(node): State<SharedNode>, request: Request, next: Next) -> Response {
    if request.method() == Method::OPTIONS {
        return next.run(request).await;
    }
    let peer = tcp_peer(&request);
    let path = request.uri().path();
    let (class, ip) = if [
        REPLICATE_PATH,
        REPLICATE_BATCH_PATH,
        MESSAGES_PATH,
        SUBACCOUNTS_PATH,
        HANDOFF_PATH,
    ]
    .contains(&path)
    {
        (Class::Peer, peer)
    } else if path == ONION_REQ_PATH && node.limiter.is_relay(peer) {
        (Class::Relay, peer)
    } else {
        let forwarded = request
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        (Class::Client, node.limiter.client_ip(peer, forwarded))
    };
    if !node.limiter.allow(class, ip, crate::clock::monotonic_now()) {
        node.metrics.rate_limited.inc();
        return text(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many requests, try again later",
        );
    }
    next.run(request).await
}

fn text(status: StatusCode, body: impl Into<String>) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        body.into(),
    )
        .into_response()
}

fn status_of(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn rpc_response(reply: Reply) -> Response {
    let status = status_of(reply.status);
    match reply.body {
        ReplyBody::Text(s) => text(status, s),
        ReplyBody::Json(body) => (status, axum::Json(body)).into_response(),
    }
}

async fn storage_rpc(State(node): State<SharedNode>, headers: HeaderMap, body: Bytes) -> Response {
    // Session's retired long-poll mode.
    if headers.contains_key("x-loki-long-poll") {
        return text(StatusCode::GONE, "long polling is no longer supported");
    }
    drop(headers);
    rpc_response(rpc::handle(&node, body.into()).await)
}

async fn onion_req(State(node): State<SharedNode>, body: Bytes) -> Response {
    let reply = onion::handle(&node, body).await;
    let content_type = if reply.status == 200 {
        "application/octet-stream"
    } else {
        "text/plain; charset=utf-8"
    };
    (
        status_of(reply.status),
        [(header::CONTENT_TYPE, content_type)],
        reply.body,
    )
        .into_response()
}

/// `get_n_service_nodes` in oxend's shape, from the manifest; `fields` selects keys as oxend
/// does. Murmur adds `storage_url` (browsers reach nodes by URL) and `swarm_id`.
async fn json_rpc(State(node): State<SharedNode>, body: Bytes) -> Response {
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return json_rpc_error(Value::Null, -32700, "Parse error");
    };
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    if request.get("method").and_then(Value::as_str) != Some("get_n_service_nodes") {
        return json_rpc_error(id, -32601, "Method not found");
    }
    let fields = request
        .pointer("/params/fields")
        .and_then(Value::as_object)
        .filter(|f| !f.is_empty());
    let limit = request
        .pointer("/params/limit")
        .and_then(Value::as_u64)
        .map_or(usize::MAX, |l| l as usize);
    let topology = node.network.current();
    let states: Vec<Value> = topology
        .signed
        .manifest
        .nodes
        .iter()
        .take(limit)
        .map(|n| {
            let (host, port) = network::host_port(&n.url);
            let all = json!({
                "public_ip": host,
                "storage_port": port,
                "pubkey_ed25519": n.ed25519,
                "pubkey_x25519": n.x25519,
                "swarm_id": n.swarm_id,
                "storage_url": n.url,
            });
            match (fields, all) {
                (Some(fields), Value::Object(map)) => Value::Object(
                    map.into_iter()
                        .filter(|(k, _)| fields.get(k).and_then(Value::as_bool) == Some(true))
                        .collect(),
                ),
                (_, all) => all,
            }
        })
        .collect();
    axum::Json(json!({
        "jsonrpc": "2.0",
        "id": id,
        "result": {
            "service_node_states": states,
            "height": topology.signed.manifest.sequence,
        },
    }))
    .into_response()
}

fn json_rpc_error(id: Value, code: i64, message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(
            json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } }),
        ),
    )
        .into_response()
}

async fn network_manifest(State(node): State<SharedNode>) -> Response {
    (
        [(header::CACHE_CONTROL, "no-cache")],
        axum::Json(node.network.current().signed.clone()),
    )
        .into_response()
}

async fn metrics(State(node): State<SharedNode>) -> Response {
    let body = node.metrics.render(
        node.storage.stats(),
        node.network.current().signed.manifest.sequence,
        {
            let waiters = node.storage.waiters();
            let (woken, refused) = waiters.counts();
            (waiters.held() as u64, woken, refused)
        },
    );
    ([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], body).into_response()
}

/// Every peer route: the headers are checked first (a manifest node, a fresh time), so a
/// stranger's body is never read; then the body (bounded to what that route takes) is read
/// once here and the signature checked over it, so no handler can forget to authenticate
/// its sender.
async fn peer_auth(State(node): State<SharedNode>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let claim = match peer::Claim::from_headers(&node.network, node.clock.now_ms(), &parts.headers)
    {
        Ok(claim) => claim,
        Err(why) => return text(StatusCode::UNAUTHORIZED, why),
    };
    let bytes = match read_body(&node, &parts.headers, body, body_limit(parts.uri.path())).await {
        Ok(bytes) => bytes,
        Err(refusal) => return refusal,
    };
    match claim.verify(parts.uri.path(), &bytes) {
        Ok(sender) => parts.extensions.insert(peer::PeerSender(sender)),
        Err(why) => return text(StatusCode::UNAUTHORIZED, why),
    };
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}

async fn peer_replicate(State(node): State<SharedNode>, body: Bytes) -> Response {
    serve_peer_writes(node, body, replication::serve_replicate).await
}

async fn peer_replicate_batch(State(node): State<SharedNode>, body: Bytes) -> Response {
    serve_peer_writes(node, body, replication::serve_replicate_batch).await
}

/// A peer's forwarded write (or batch of them), checked against the manifest in force now,
/// on the blocking pool (it commits).
async fn serve_peer_writes(
    node: SharedNode,
    body: Bytes,
    serve: fn(
        &crate::storage::Storage,
        &crate::identity::NodeIdentity,
        &crate::network::Topology,
        u64,
        &[u8],
    ) -> Reply,
) -> Response {
    let reply = crate::commit::blocking(move || {
        let topology = node.network.current();
        Ok(serve(
            &node.storage,
            &node.identity,
            &topology,
            node.clock.now_ms(),
            &body,
        ))
    })
    .await;
    match reply {
        Ok(reply) => rpc_response(reply),
        Err(_) => text(StatusCode::INTERNAL_SERVER_ERROR, "internal error"),
    }
}

async fn peer_messages(
    State(node): State<SharedNode>,
    Extension(peer::PeerSender(sender)): Extension<peer::PeerSender>,
    body: Bytes,
) -> Response {
    let Ok(request) = serde_json::from_slice::<replication::PageRequest>(&body) else {
        return text(StatusCode::BAD_REQUEST, "invalid page request");
    };
    let topology = node.network.current();
    // A swarm's messages go to its current members only: not to another swarm's node, nor
    // to one the operator just removed (which the previous manifest still lists).
    if !topology.in_swarm(&sender.ed25519, request.swarm_id) {
        return text(StatusCode::FORBIDDEN, "not a member of that swarm");
    }
    match replication::serve_messages(&node.storage, &topology, node.clock.now_ms(), &request) {
        Ok(page) => axum::Json(page).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot read messages for a peer");
            text(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}

async fn peer_subaccount_changes(
    State(node): State<SharedNode>,
    Extension(peer::PeerSender(sender)): Extension<peer::PeerSender>,
    body: Bytes,
) -> Response {
    let Ok(request) = serde_json::from_slice::<replication::ChangesRequest>(&body) else {
        return text(StatusCode::BAD_REQUEST, "invalid page request");
    };
    let topology = node.network.current();
    if !topology.in_swarm(&sender.ed25519, request.swarm_id) {
        return text(StatusCode::FORBIDDEN, "not a member of that swarm");
    }
    match replication::serve_subaccount_changes(&node.storage, &topology, &request) {
        Ok(page) => axum::Json(page).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot read subaccount changes for a peer");
            text(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}

async fn peer_handoff(
    State(node): State<SharedNode>,
    Extension(peer::PeerSender(sender)): Extension<peer::PeerSender>,
    body: Bytes,
) -> Response {
    let Ok(handoff) = serde_json::from_slice::<replication::Handoff>(&body) else {
        return text(StatusCode::BAD_REQUEST, "invalid handoff");
    };
    // Only a node that held these accounts (now or under the manifest before) hands them on.
    let held = |a: AccountId| node.network.held_by(&sender.ed25519, &a);
    let from_holder = handoff
        .messages
        .iter()
        .all(|m| AccountId::parse(&m.account).is_ok_and(held))
        && handoff
            .changes
            .iter()
            .all(|c| replication::change_account(c).is_some_and(held));
    if !from_holder {
        return text(StatusCode::FORBIDDEN, "not a holder of these accounts");
    }
    let topology = node.network.current();
    let now_ms = node.clock.now_ms();
    let accepted =
        replication::accept_subaccount_changes(&node.storage, &topology, now_ms, handoff.changes)
            .and_then(|()| {
                replication::accept(
                    &node.storage,
                    &topology,
                    &node.metrics,
                    now_ms,
                    handoff.messages,
                )
            });
    match accepted {
        Ok(n) => axum::Json(json!({ "accepted": n })).into_response(),
        Err(why) => text(StatusCode::CONFLICT, why),
    }
}
