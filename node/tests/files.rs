//! The file server over real sockets: Session's endpoints served directly and inside v4 onion
//! layers, IDs computed from the bytes, TTLs, quotas and bounds, expiry, and bad input that
//! stores nothing.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use murmur_core::files::{FileInfo, Uploaded, file_id};
use murmur_core::onion::v4::{V4Meta, V4Request};
use murmur_core::onion::{self, CombinedPayload, EncType};
use murmur_node::clock::Clock;
use murmur_node::files::{FileServerConfig, RunningFileServer};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;
use serde_json::json;

async fn file_server(
    adjust: impl FnOnce(&mut FileServerConfig),
) -> (RunningFileServer, tempfile::TempDir, Arc<Clock>) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = FileServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().join("files"),
        ..FileServerConfig::default()
    };
    adjust(&mut config);
    let clock = Arc::new(Clock::default());
    let server = murmur_node::files::start(config, None, clock.clone())
        .await
        .unwrap();
    (server, dir, clock)
}

fn url(server: &RunningFileServer, path: &str) -> String {
    format!("http://{}{path}", server.addr)
}

async fn upload(
    server: &RunningFileServer,
    body: &[u8],
    ttl: Option<&str>,
) -> (u16, serde_json::Value) {
    let mut request = murmur_testkit::net::http()
        .post(url(server, "/file"))
        .body(body.to_vec());
    if let Some(ttl) = ttl {
        request = request.header("X-FS-TTL", ttl);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (
        status,
        response.json().await.unwrap_or(serde_json::Value::Null),
    )
}

fn held(server: &RunningFileServer) -> (u64, u64) {
    server.server.store.stats().unwrap()
}

#[tokio::test]
async fn direct_upload_download_info_and_extend() {
    let (server, _dir, clock) = file_server(|_| {}).await;
    let body = b"an encrypted attachment, as far as the server knows".repeat(100);
    let (status, answer) = upload(&server, &body, None).await;
    assert_eq!(status, 200, "{answer}");
    let uploaded: Uploaded = serde_json::from_value(answer).unwrap();
    assert_eq!(
        uploaded.id,
        file_id(&body),
        "the ID is the hash of the bytes"
    );
    let now_s = clock.now_ms() as f64 / 1000.0;
    assert!(
        (uploaded.expires - now_s - 14.0 * 86400.0).abs() < 60.0,
        "14 days"
    );

    let http = murmur_testkit::net::http();
    let got = http
        .get(url(&server, &format!("/file/{}", uploaded.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(
        got.headers()["content-type"],
        "application/octet-stream",
        "never a type a browser would render"
    );
    assert_eq!(got.bytes().await.unwrap().as_ref(), body.as_slice());

    let info: FileInfo = http
        .get(url(&server, &format!("/file/{}/info", uploaded.id)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info.size, body.len() as u64);

    // Uploading the same bytes again is the same file; a shorter TTL never shortens it.
    let (status, again) = upload(&server, &body, Some("60")).await;
    assert_eq!(status, 200);
    assert_eq!(again["id"], uploaded.id);
    assert!(again["expires"].as_f64().unwrap() >= uploaded.expires);
    assert_eq!(held(&server).0, 1);
    let extended: FileInfo = http
        .post(url(&server, &format!("/file/{}/extend", uploaded.id)))
        .header("X-FS-TTL", "60")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        extended.expires >= uploaded.expires,
        "extend never shortens"
    );

    for missing in [
        "/file/AAAA",
        "/file/../../etc/passwd",
        &format!("/file/{}", file_id(b"never")),
    ] {
        assert_eq!(
            http.get(url(&server, missing))
                .send()
                .await
                .unwrap()
                .status(),
            404,
            "{missing}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn bounds_quotas_and_bad_ttls_refuse_and_store_nothing() {
    let (server, _dir, _) = file_server(|c| {
        c.max_upload_bytes = 1000;
        c.uploader_quota_bytes = 1500;
    })
    .await;
    // Too large, by its declared length (refused before the body is read) and as sent.
    assert_eq!(upload(&server, &[1; 1001], None).await.0, 413);
    // Chunked (no length given): refused once it passes the bound, mid-stream.
    {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let mut s = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        s.write_all(b"POST /file HTTP/1.1\r\nHost: f\r\nTransfer-Encoding: chunked\r\n\r\n")
            .await
            .unwrap();
        for _ in 0..11 {
            let _ = s.write_all(b"64\r\n").await;
            let _ = s.write_all(&[2u8; 100]).await;
            let _ = s.write_all(b"\r\n").await;
        }
        let _ = s.write_all(b"0\r\n\r\n").await;
        let mut head = [0u8; 12];
        s.read_exact(&mut head).await.unwrap();
        assert_eq!(&head, b"HTTP/1.1 413");
    }
    assert_eq!(upload(&server, b"", None).await.0, 413, "empty");
    for ttl in ["soon", "-5", "0", "1.5"] {
        assert_eq!(upload(&server, b"x", Some(ttl)).await.0, 400, "ttl {ttl}");
    }
    assert_eq!(held(&server), (0, 0), "nothing refused was kept");
    // The uploader's quota: 1,500 bytes from this address.
    assert_eq!(upload(&server, &[3; 900], None).await.0, 200);
    let (status, answer) = upload(&server, &[4; 700], None).await;
    assert_eq!(status, 429, "{answer}");
    assert_eq!(answer["status_code"], 429);
    assert_eq!(held(&server), (1, 900));
    // The incoming directory holds no leftovers of refused uploads.
    let incoming = std::fs::read_dir(_dir.path().join("files/incoming"))
        .unwrap()
        .count();
    assert_eq!(incoming, 0);
    // Still serving.
    assert_eq!(upload(&server, &[5; 500], None).await.0, 200);
    server.stop().await;
}

#[tokio::test]
async fn expired_files_are_gone_and_swept() {
    let (server, dir, clock) = file_server(|c| {
        c.ttl_seconds = 3600;
        c.sweep_seconds = 1;
    })
    .await;
    let (_, answer) = upload(&server, b"short-lived", None).await;
    let id = answer["id"].as_str().unwrap().to_string();
    clock.advance(3_600_001);
    let http = murmur_testkit::net::http();
    assert_eq!(
        http.get(url(&server, &format!("/file/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    // The sweep removes it from disk too.
    let on_disk = dir.path().join("files/files").join(&id[..2]).join(&id);
    for _ in 0..50 {
        if !on_disk.exists() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(!on_disk.exists());
    assert_eq!(held(&server), (0, 0));
    server.stop().await;
}

/// What the last node of a path POSTs to a file server: the hop's plaintext, the v4 request
/// encrypted to the server's key with a fresh ephemeral key.
fn onion_body(server_key: &[u8; 32], request: &V4Request, seed: u64) -> (Vec<u8>, onion::ReplyKey) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let (reply_key, ephemeral, ciphertext) =
        onion::hop::encrypt_for_hop(server_key, &request.encode(), EncType::XChaCha20, &mut rng)
            .unwrap();
    let mut json = serde_json::Map::new();
    json.insert("ephemeral_key".into(), json!(hex::encode(ephemeral)));
    json.insert("enc_type".into(), json!("xchacha20"));
    (
        CombinedPayload {
            blob: ciphertext,
            json,
        }
        .encode(),
        reply_key,
    )
}

#[tokio::test]
async fn onion_requests_are_opened_with_the_servers_key_and_answered_for_the_client_alone() {
    let (server, _dir, _) = file_server(|_| {}).await;
    let key = server.server.key.public();
    let http = murmur_testkit::net::http();
    let body = vec![7u8; 300_000];
    let post = |body: Vec<u8>| http.post(url(&server, "/oxen/v4/lsrpc")).body(body).send();
    let upload = V4Request {
        meta: V4Meta {
            method: "POST".into(),
            endpoint: "/file".into(),
            headers: Default::default(),
        },
        body: Some(body.clone()),
    };
    let (request, reply_key) = onion_body(&key, &upload, 1);
    let answer = post(request).await.unwrap();
    assert_eq!(answer.status(), 200);
    let bytes = answer.bytes().await.unwrap();
    let reply = onion::open_server_reply(&reply_key, &bytes).unwrap();
    assert_eq!(reply.code, 200);
    let uploaded: Uploaded = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(uploaded.id, file_id(&body));
    // The answer is sealed for the client: another key opens nothing.
    let (_, other_key) = onion_body(&key, &upload, 2);
    assert!(onion::open_server_reply(&other_key, &bytes).is_err());

    let download = V4Request {
        meta: V4Meta {
            method: "GET".into(),
            endpoint: format!("/file/{}", uploaded.id),
            headers: Default::default(),
        },
        body: None,
    };
    let (request, reply_key) = onion_body(&key, &download, 3);
    let bytes = post(request).await.unwrap().bytes().await.unwrap();
    let reply = onion::open_server_reply(&reply_key, &bytes).unwrap();
    assert_eq!(reply.code, 200);
    assert_eq!(reply.body, body);

    // A layer for another key, garbage, and a truncated body: plain 400, nothing stored.
    let (for_other, _) = onion_body(&[9; 32], &upload, 4);
    let (good, _) = onion_body(&key, &upload, 5);
    for bad in [
        for_other,
        b"garbage".to_vec(),
        good[..good.len() / 2].to_vec(),
    ] {
        let answer = post(bad).await.unwrap();
        assert_eq!(answer.status(), 400);
    }
    assert_eq!(held(&server).0, 1);
    server.stop().await;
}
