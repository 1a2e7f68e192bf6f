//! Files through onion paths on a real devnet (9 nodes and its file server): a 25 MB file in
//! three parts up and back byte for byte, the limits, an expired file, a file server that lies
//! (caught by the IDs), and nodes that relay only to the network's file servers.
#![allow(clippy::unwrap_used)]

use murmur_core::Identity;
use murmur_core::attachment::Domain;
use murmur_core::client::files::{FileSource, UploadedFile};
use murmur_core::client::{ClientError, MemoryStore};
use murmur_core::onion::{self, Destination, EncType, ServerTarget};
use murmur_testkit::devnet;
use murmur_testkit::lying_files::FileLie;
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng as _, SeedableRng as _};

fn random(len: usize, seed: u64) -> Vec<u8> {
    let mut data = vec![0u8; len];
    ChaCha20Rng::seed_from_u64(seed).fill_bytes(&mut data);
    data
}

fn client(
    net: &murmur_node::devnet::Devnet,
    seed: u64,
) -> devnet::TestClient<murmur_cli::platform::HttpTransport, MemoryStore> {
    let identity = Identity::generate(&mut ChaCha20Rng::seed_from_u64(seed));
    devnet::client(
        net,
        identity,
        devnet::transport(),
        MemoryStore::new(),
        0,
        seed,
    )
}

fn no_progress(_: u64, _: u64) {}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_file_goes_up_in_parts_through_three_hops_and_comes_back_byte_equal() {
    let (net, _dir) = devnet::start(9, 60_000).await;
    let alice = client(&net, 1);
    let bob = client(&net, 2);
    let data = random(25_000_000, 7);
    let seen = std::cell::Cell::new(0);
    let progress = |done: u64, total: u64| {
        assert!(done <= total && done >= seen.get());
        seen.set(done);
    };
    let uploaded = alice
        .upload_file(data.as_slice(), Domain::Attachment, None, &progress)
        .await
        .unwrap();
    assert_eq!(seen.get(), data.len() as u64, "progress reaches the end");
    assert_eq!(uploaded.url.parts.len(), 3, "25 MB in parts of ~10 MB");
    assert_eq!(uploaded.size, data.len() as u64);
    assert!(uploaded.url.deterministic);
    let files = net.file_server().unwrap();
    assert_eq!(files.server.store.stats().unwrap().0, 3);

    // Bob has only the URL and the key, as a message would carry them.
    let url = murmur_core::files::FileUrl::parse(&uploaded.url.to_url()).unwrap();
    let mut back = Vec::new();
    bob.download_file(&url, &uploaded.key, uploaded.size, &mut back, &no_progress)
        .await
        .unwrap();
    assert!(back == data, "the same bytes");

    // The wrong key, and the wrong size, are refused.
    let mut out = Vec::new();
    let wrong_key = bob
        .download_file(&url, &[1; 32], uploaded.size, &mut out, &no_progress)
        .await;
    assert!(
        matches!(wrong_key, Err(ClientError::Protocol(_))),
        "{wrong_key:?}"
    );
    let mut out = Vec::new();
    let too_long = bob
        .download_file(
            &url,
            &uploaded.key,
            uploaded.size + 10,
            &mut out,
            &no_progress,
        )
        .await;
    assert!(too_long.is_err());

    // Uploading the same file again is the same file on the server.
    let again = alice
        .upload_file(data.as_slice(), Domain::Attachment, None, &no_progress)
        .await
        .unwrap();
    assert_eq!(again.url, uploaded.url);
    assert_eq!(files.server.store.stats().unwrap().0, 3);
    net.stop().await;
}

/// A source of a given length that must never be read (the size check comes first).
struct Huge(u64);

impl FileSource for Huge {
    fn len(&self) -> u64 {
        self.0
    }
    async fn read(&self, _: u64, _: usize) -> Result<Vec<u8>, String> {
        panic!("an oversized file is refused before it is read");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_expiry_and_unknown_servers() {
    let (net, _dir) = devnet::start(9, 60_000).await;
    let alice = client(&net, 3);
    let oversized = alice
        .upload_file(&Huge(100_000_001), Domain::Attachment, None, &no_progress)
        .await;
    assert!(
        matches!(oversized, Err(ClientError::FileTooLarge { .. })),
        "{oversized:?}"
    );
    let empty = alice
        .upload_file(&[][..], Domain::Attachment, None, &no_progress)
        .await;
    assert!(matches!(empty, Err(ClientError::EmptyFile)));
    let files = net.file_server().unwrap();
    assert_eq!(
        files.server.store.stats().unwrap().0,
        0,
        "nothing was uploaded"
    );

    // A file the network's server lets go is "no longer available".
    let data = random(5000, 8);
    let uploaded = alice
        .upload_file(data.as_slice(), Domain::Attachment, None, &no_progress)
        .await
        .unwrap();
    net.clock.advance(15 * 24 * 3600 * 1000);
    let mut out = Vec::new();
    let gone = alice
        .download_file(
            &uploaded.url,
            &uploaded.key,
            uploaded.size,
            &mut out,
            &no_progress,
        )
        .await;
    assert!(matches!(gone, Err(ClientError::FileGone)), "{gone:?}");
    assert_eq!(
        gone.unwrap_err().to_string(),
        "the file is no longer available"
    );

    // A URL on a server the manifest does not list is not fetched at all.
    let mut elsewhere = uploaded.url.clone();
    elsewhere.server = "http://127.0.0.1:9".into();
    let refused = alice
        .download_file(
            &elsewhere,
            &uploaded.key,
            uploaded.size,
            &mut out,
            &no_progress,
        )
        .await;
    assert!(matches!(refused, Err(ClientError::UnknownFileServer)));
    net.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_relay_only_to_the_networks_file_servers() {
    let (net, _dir) = devnet::start(9, 60_000).await;
    let nodes = &net.manifest.manifest.nodes;
    let hops: Vec<_> = nodes[..3].iter().map(|n| n.hop().unwrap()).collect();
    // Another server on this machine (a node's own port): not listed, so not relayed to.
    let (host, port) = ("127.0.0.1".to_string(), murmur_testkit::net::free_port());
    let target = ServerTarget {
        host,
        port,
        protocol: "http".into(),
        target: "/oxen/v4/lsrpc".into(),
        x25519: [5; 32],
    };
    let built = onion::build_onion_request(
        &hops,
        &Destination::Server(target),
        b"l2:{}e",
        EncType::XChaCha20,
        &mut ChaCha20Rng::seed_from_u64(1),
    )
    .unwrap();
    let answer = murmur_testkit::net::http()
        .post(nodes[0].endpoint(onion::ONION_REQ_PATH))
        .body(built.body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 403);
    assert_eq!(
        answer.text().await.unwrap(),
        "Invalid url: not a file server of this network"
    );
    net.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lying_file_server_is_caught_by_the_ids() {
    let (mut net, _dir) = devnet::start(9, 60_000).await;
    let alice = client(&net, 4);
    let data = random(50_000, 9);
    let honest: UploadedFile = alice
        .upload_file(data.as_slice(), Domain::Attachment, None, &no_progress)
        .await
        .unwrap();

    // The real file server goes; liars with its key take its place, one after the other.
    let addr = net.file_server().unwrap().addr;
    let files_dir = net.dir.join("files");
    let key = || murmur_node::files::load_or_create_key(&files_dir).unwrap();
    let liar = |lie| murmur_testkit::lying_files::serve(addr, key(), lie);
    net.stop_file_server().await;
    let server = liar(FileLie::WrongId).await;
    let named_wrong = alice
        .upload_file(
            random(1000, 10).as_slice(),
            Domain::Attachment,
            None,
            &no_progress,
        )
        .await;
    assert!(
        named_wrong
            .unwrap_err()
            .to_string()
            .contains("named the upload with another ID")
    );
    server.abort();
    let _ = server.await;

    for lie in [FileLie::Garbage, FileLie::Truncated] {
        let server = liar(lie).await;
        let mut out = Vec::new();
        let result = alice
            .download_file(
                &honest.url,
                &honest.key,
                honest.size,
                &mut out,
                &no_progress,
            )
            .await;
        assert!(
            result
                .unwrap_err()
                .to_string()
                .contains("other bytes than the file asked for"),
            "{lie:?}"
        );
        assert!(out.is_empty(), "nothing of a lie reaches the sink");
        server.abort();
        let _ = server.await;
    }
    net.stop().await;
}

mod common;

/// Creates an identity in `home` on `network_file`; returns its Session ID.
async fn cli_user(home: &std::path::Path, network_file: &std::path::Path) -> String {
    let out = common::murmur(home, &["identity", "new"]).await;
    assert!(out.status.success(), "{}", common::stderr(&out));
    let id = common::stdout(&out)
        .lines()
        .next()
        .unwrap()
        .strip_prefix("Session ID: ")
        .unwrap()
        .to_string();
    let out = common::murmur(
        home,
        &["--network-file", network_file.to_str().unwrap(), "path"],
    )
    .await;
    assert!(out.status.success(), "{}", common::stderr(&out));
    id
}

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../core/tests/fixtures")
        .join(name)
}

/// Alice (with a name and picture) sends Bob a photo with GPS tags and a 12 MB document from
/// the command line; Bob sees her name, lists the files and saves them: the photo byte-equal
/// to its stripped form (no location, no camera), the document byte-equal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_sends_files_and_a_profile() {
    use common::{murmur, stderr, stdout};
    let (net, dir) = devnet::start(9, 60_000).await;
    let file = net.dir.join("devnet.json");
    let (home_a, home_b) = (dir.path().join("a"), dir.path().join("b"));
    let _a = cli_user(&home_a, &file).await;
    let b = cli_user(&home_b, &file).await;

    let out = murmur(
        &home_a,
        &[
            "profile",
            "set",
            "--name",
            "Alice \u{202E}Liddell",
            "--picture",
            fixture("exif.webp").to_str().unwrap(),
        ],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let out = murmur(&home_a, &["profile", "show", "--json"]).await;
    let profile: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(profile["name"], "Alice Liddell", "direction marks removed");
    assert!(profile["picture"].as_str().unwrap().contains("/file/"));

    let document = dir.path().join("report.pdf");
    std::fs::write(&document, random(12_000_000, 11)).unwrap();
    let photo = fixture("gps.jpg");
    let out = murmur(
        &home_a,
        &[
            "send",
            "--to",
            &b,
            "--file",
            photo.to_str().unwrap(),
            "--file",
            document.to_str().unwrap(),
            "--json",
            "two files",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));

    let out = murmur(&home_b, &["inbox", "--json"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let m: serde_json::Value = serde_json::from_str(stdout(&out).lines().next().unwrap()).unwrap();
    assert_eq!(m["text"], "two files");
    assert_eq!(m["from_name"], "Alice Liddell");
    let files = m["attachments"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0]["name"], "gps.jpg");
    assert_eq!(files[0]["content_type"], "image/jpeg");
    assert_eq!(files[1]["name"], "report.pdf");
    assert_eq!(files[1]["content_type"], "application/pdf");
    assert_eq!(files[1]["size"], 12_000_000);
    let hash = m["hash"].as_str().unwrap();
    // Alice never wrote to Bob before: a message request, whose files wait for his yes.
    assert_eq!(m["request"], true);
    let got_photo = dir.path().join("photo.jpg");
    let get_photo = [
        "attachment",
        "get",
        "--hash",
        hash,
        "--index",
        "0",
        "--out",
        got_photo.to_str().unwrap(),
    ];
    let out = murmur(&home_b, &get_photo).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("message request"), "{}", stderr(&out));
    assert!(!got_photo.exists());
    let alice = m["from"].as_str().unwrap();
    let out = murmur(&home_b, &["requests", "--accept", alice]).await;
    assert!(out.status.success(), "{}", stderr(&out));

    let out = murmur(&home_b, &get_photo).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let received = std::fs::read(&got_photo).unwrap();
    let stripped =
        match murmur_core::media::strip_metadata(&std::fs::read(&photo).unwrap()).unwrap() {
            murmur_core::media::Stripped::Image { bytes, .. } => bytes,
            murmur_core::media::Stripped::Unsupported => unreachable!(),
        };
    assert_eq!(received, stripped, "the stripped photo, byte for byte");
    for secret in [&b"GPS"[..], b"SecretPhoneMaker", b"Alice Secretname"] {
        assert!(!received.windows(secret.len()).any(|w| w == secret));
    }
    let got_doc = dir.path().join("doc.pdf");
    let out = murmur(
        &home_b,
        &[
            "attachment",
            "get",
            "--hash",
            hash,
            "--index",
            "1",
            "--out",
            got_doc.to_str().unwrap(),
        ],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::read(&got_doc).unwrap() == std::fs::read(&document).unwrap());

    // No such file: a clear error, nothing written.
    let nowhere = dir.path().join("nothing");
    let out = murmur(
        &home_b,
        &[
            "attachment",
            "get",
            "--hash",
            hash,
            "--index",
            "5",
            "--out",
            nowhere.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("index 5 is not one"),
        "{}",
        stderr(&out)
    );
    assert!(!nowhere.exists());

    // A file over 100 MB is refused before anything is uploaded.
    let huge = dir.path().join("huge.bin");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(100_000_001)
        .unwrap();
    let before = net.file_server().unwrap().server.store.stats().unwrap();
    let out = murmur(
        &home_a,
        &["send", "--to", &b, "--file", huge.to_str().unwrap()],
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("too large"), "{}", stderr(&out));
    assert_eq!(
        net.file_server().unwrap().server.store.stats().unwrap(),
        before
    );
    net.stop().await;
}
