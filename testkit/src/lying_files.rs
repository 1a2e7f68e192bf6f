//! A file server run by an attacker: it holds the network's real file-server key (so clients
//! read its answers) and lies about what it stores. The lies live here, in the dev-only test
//! kit, never in the node binary.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::routing::post;
use murmur_core::files::file_id;
use murmur_core::onion::{self, NodeKey};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;

/// How the file server lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileLie {
    /// Takes uploads but names each with the ID of other bytes.
    WrongId,
    /// Serves other bytes for every download.
    Garbage,
    /// Serves an empty body for every download (a file cut off).
    Truncated,
}

/// Serves the lying file server at `addr` with `key` until the task is aborted.
pub async fn serve(addr: SocketAddr, key: NodeKey, lie: FileLie) -> tokio::task::JoinHandle<()> {
    let key = Arc::new(key);
    let app = axum::Router::new().route(
        "/oxen/v4/lsrpc",
        post(move |body: axum::body::Bytes| {
            let key = key.clone();
            async move {
                let (request, reply_key) = onion::open_server_request(&key, body.to_vec()).unwrap();
                let body = match (request.meta.method.as_str(), lie) {
                    ("POST", FileLie::WrongId) => answer(&file_id(b"something else")),
                    ("POST", _) => answer(&file_id(request.body().unwrap_or_default())),
                    ("GET", FileLie::Garbage) => b"not the file at all".to_vec(),
                    _ => Vec::new(),
                };
                onion::seal_server_reply(
                    &reply_key,
                    &onion::v4::V4Response {
                        code: 200,
                        headers: Default::default(),
                        body,
                    },
                    &mut ChaCha20Rng::seed_from_u64(9),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() })
}

fn answer(id: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "id": id, "expires": 2e9 })).unwrap()
}
