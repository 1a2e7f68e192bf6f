//! The file server's routes: Session's endpoints inside v4 onion requests (how clients reach
//! it, through a node), and the same endpoints served directly.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::StreamExt as _;
use murmur_core::files::{FileError, FileInfo, TTL_HEADER, Uploaded};
use murmur_core::onion::{self, v4::V4Meta};
use serde_json::{Map, Value};

use super::FileServer;
use super::store::{FileStoreError, StoredFile};

/// Where relays deliver v4 onion requests (Session's path).
pub const ONION_PATH: &str = "/oxen/v4/lsrpc";

/// The onion body a relay may send: one upload and its layers.
fn onion_body_limit(server: &FileServer) -> usize {
    usize::try_from(server.config.max_upload_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(64 * 1024)
        .min(murmur_core::limits::MAX_ONION_BODY)
}

pub fn router(server: Arc<FileServer>) -> Router {
    Router::new()
        .route(ONION_PATH, post(onion_request))
        .route("/file", post(upload))
        .route("/file/{id}", get(download))
        .route("/file/{id}/info", get(info))
        .route("/file/{id}/extend", post(extend))
        .layer(DefaultBodyLimit::disable())
        .with_state(server)
}

/// The uploader an upload is counted against: the address it came from, IPv6 by its /64.
fn uploader(addr: IpAddr) -> String {
    match addr {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

fn seconds(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

fn info_of(file: &StoredFile) -> FileInfo {
    FileInfo {
        size: file.size,
        uploaded: seconds(file.uploaded_ms),
        expires: seconds(file.expiry_ms),
    }
}

/// An answer to one API request, before it is sent directly or sealed into an onion reply.
enum Answer {
    Json(u16, Vec<u8>),
    /// A file's bytes, read when the answer is written.
    File(StoredFile),
}

fn json(status: u16, value: &impl serde::Serialize) -> Answer {
    Answer::Json(
        status,
        serde_json::to_vec(value).expect("API answers serialise"),
    )
}

fn error(status: u16) -> Answer {
    json(
        status,
        &FileError {
            status_code: status,
        },
    )
}

/// The answer to an upload, direct or through an onion request: the file's ID and expiry.
fn uploaded(stored: Result<StoredFile, FileStoreError>) -> Answer {
    match stored {
        Ok(file) => json(
            200,
            &Uploaded {
                id: file.id,
                expires: seconds(file.expiry_ms),
            },
        ),
        Err(e) => refusal(&e),
    }
}

fn refusal(e: &FileStoreError) -> Answer {
    match e {
        FileStoreError::NotFound => error(404),
        FileStoreError::Empty | FileStoreError::Full => error(413),
        FileStoreError::UploaderQuota => error(429),
        FileStoreError::Io(why) => {
            tracing::error!(error = %why, "file store error");
            error(500)
        }
    }
}

/// The TTL an upload or extension asks for (`X-FS-TTL`, seconds), bounded by the server's.
fn ttl_ms(server: &FileServer, asked: Option<&str>) -> Result<u64, Answer> {
    let max = server.config.ttl_seconds;
    let seconds = match asked {
        None => max,
        Some(text) => text
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|&s| s > 0)
            .ok_or_else(|| error(400))?
            .min(max),
    };
    Ok(seconds.saturating_mul(1000))
}

/// What `GET`/`POST` on `endpoint` answers. `body` is an upload's bytes (onion requests carry
/// them whole; direct uploads are streamed to the store first and arrive as `Uploaded`).
fn answer(
    server: &FileServer,
    method: &str,
    endpoint: &str,
    ttl: Option<&str>,
    body: Option<&[u8]>,
    from: &str,
) -> Answer {
    let now = server.clock.now_ms();
    let path = endpoint.split('?').next().unwrap_or_default();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method, parts.as_slice()) {
        ("POST", ["file"]) => {
            let Some(body) = body else {
                return error(413);
            };
            if body.len() as u64 > server.config.max_upload_bytes {
                return error(413);
            }
            let ttl = match ttl_ms(server, ttl) {
                Ok(t) => t,
                Err(a) => return a,
            };
            let stored = server
                .store
                .upload(server.config.max_upload_bytes)
                .and_then(|mut u| {
                    u.write(body)?;
                    u.finish(from, now, now + ttl)
                });
            uploaded(stored)
        }
        ("GET", ["file", id]) => match server.store.info(id, now) {
            Ok(file) => Answer::File(file),
            Err(e) => refusal(&e),
        },
        ("GET", ["file", id, "info"]) => match server.store.info(id, now) {
            Ok(file) => json(200, &info_of(&file)),
            Err(e) => refusal(&e),
        },
        ("POST", ["file", id, "extend"]) => {
            let ttl = match ttl_ms(server, ttl) {
                Ok(t) => t,
                Err(a) => return a,
            };
            match server.store.extend(id, now, now + ttl) {
                Ok(file) => json(200, &info_of(&file)),
                Err(e) => refusal(&e),
            }
        }
        _ => error(404),
    }
}

fn header_of<'a>(meta: &'a V4Meta, name: &str) -> Option<&'a str> {
    meta.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str())
}

/// `POST /oxen/v4/lsrpc`: a v4 request in an onion layer for this server.
async fn onion_request(
    State(server): State<Arc<FileServer>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let limit = onion_body_limit(&server);
    let body = match read_bounded(&server, &headers, body, limit).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let from = uploader(peer.ip());
    let server2 = server.clone();
    let sealed = tokio::task::spawn_blocking(move || {
        // Path errors are plain text, as a node's are; the client cannot read an encrypted
        // answer when the layer itself would not open.
        let (request, reply_key) = match onion::open_server_request(&server2.key, Vec::from(body)) {
            Ok(r) => r,
            Err(_) => return Err((StatusCode::BAD_REQUEST, "Invalid ciphertext")),
        };
        let meta = &request.meta;
        let answer = answer(
            &server2,
            &meta.method,
            &meta.endpoint,
            header_of(meta, TTL_HEADER),
            request.body(),
            &from,
        );
        drop(request);
        let mut rng = crate::clock::os_rng();
        let sealed = match answer {
            Answer::Json(code, bytes) => {
                let mut headers = Map::new();
                headers.insert("content-type".into(), Value::from("application/json"));
                onion::seal_server_reply(
                    &reply_key,
                    &onion::v4::V4Response {
                        code,
                        headers,
                        body: bytes,
                    },
                    &mut rng,
                )
            }
            Answer::File(file) => {
                let mut headers = Map::new();
                headers.insert(
                    "content-type".into(),
                    Value::from("application/octet-stream"),
                );
                let size = usize::try_from(file.size).unwrap_or(usize::MAX);
                let sealed = onion::seal_server_reply_with(
                    &reply_key,
                    200,
                    &headers,
                    size,
                    |buf| {
                        server2
                            .store
                            .read_into(&file.id, buf)
                            .map_err(|_| murmur_core::Error::Malformed("file unreadable"))
                    },
                    &mut rng,
                );
                match sealed {
                    Ok(s) => s,
                    Err(_) => {
                        let not_found = serde_json::to_vec(&FileError { status_code: 404 })
                            .expect("serialises");
                        onion::seal_server_reply(
                            &reply_key,
                            &onion::v4::V4Response {
                                code: 404,
                                headers: Map::new(),
                                body: not_found,
                            },
                            &mut rng,
                        )
                    }
                }
            }
        };
        Ok(sealed)
    })
    .await;
    match sealed {
        Ok(Ok(bytes)) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/octet-stream")],
            bytes,
        )
            .into_response(),
        Ok(Err((status, text))) => (status, text).into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response(),
    }
}

/// Reads a whole request body of at most `limit` bytes within the configured deadline.
async fn read_bounded(
    server: &FileServer,
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Bytes, Response> {
    let too_large = || {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            axum::Json(FileError { status_code: 413 }),
        )
            .into_response()
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let deadline = std::time::Duration::from_millis(server.config.http.body_read_timeout_ms);
    match tokio::time::timeout(deadline, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(_)) => Err(too_large()),
        Err(_) => Err((StatusCode::REQUEST_TIMEOUT, "request body too slow").into_response()),
    }
}

fn direct(answer: Answer, server: &FileServer) -> Response {
    match answer {
        Answer::Json(code, bytes) => (
            StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            [(header::CONTENT_TYPE, "application/json")],
            bytes,
        )
            .into_response(),
        Answer::File(file) => {
            let mut buf = Vec::new();
            match server.store.read_into(&file.id, &mut buf) {
                Ok(()) => (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "application/octet-stream")],
                    buf,
                )
                    .into_response(),
                Err(e) => direct(refusal(&e), server),
            }
        }
    }
}

fn ttl_header(headers: &HeaderMap) -> Option<&str> {
    headers.get(TTL_HEADER).and_then(|v| v.to_str().ok())
}

/// `POST /file` directly: the body streams to disk as it arrives (never held whole).
async fn upload(
    State(server): State<Arc<FileServer>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let limit = server.config.max_upload_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return direct(error(413), &server);
    }
    let ttl = match ttl_ms(&server, ttl_header(&headers)) {
        Ok(t) => t,
        Err(a) => return direct(a, &server),
    };
    let mut upload = match server.store.upload(limit) {
        Ok(u) => u,
        Err(e) => return direct(refusal(&e), &server),
    };
    let deadline = std::time::Duration::from_millis(server.config.http.body_read_timeout_ms);
    let mut stream = body.into_data_stream();
    let read = tokio::time::timeout(deadline, async {
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|_| FileStoreError::Empty)?;
            upload.write(&chunk)?;
        }
        Ok::<_, FileStoreError>(())
    })
    .await;
    match read {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return direct(refusal(&e), &server),
        Err(_) => return (StatusCode::REQUEST_TIMEOUT, "request body too slow").into_response(),
    }
    let now = server.clock.now_ms();
    direct(
        uploaded(upload.finish(&uploader(peer.ip()), now, now + ttl)),
        &server,
    )
}

async fn download(State(server): State<Arc<FileServer>>, Path(id): Path<String>) -> Response {
    let a = answer(&server, "GET", &format!("/file/{id}"), None, None, "");
    direct(a, &server)
}

async fn info(State(server): State<Arc<FileServer>>, Path(id): Path<String>) -> Response {
    let a = answer(&server, "GET", &format!("/file/{id}/info"), None, None, "");
    direct(a, &server)
}

async fn extend(
    State(server): State<Arc<FileServer>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let a = answer(
        &server,
        "POST",
        &format!("/file/{id}/extend"),
        ttl_header(&headers),
        None,
        "",
    );
    direct(a, &server)
}
