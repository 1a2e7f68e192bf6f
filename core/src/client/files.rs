//! Files through the operator's file server (`docs/protocol.md` "Attachments"): every request a
//! v4 onion request through a three-hop path to a file server the signed manifest lists, so
//! the file server never learns who asks and no node sees a file.
//!
//! Nothing a file server says is taken on trust that can be checked: a file's ID is the hash
//! of its bytes, so the ID an upload is answered with must be the hash of what was sent, and a
//! download must hash to the ID asked for.
//!
//! An attachment is encrypted once, as one stream ([`crate::attachment`]), read from its
//! source twice (once for the key, once to encrypt) and uploaded in parts of at most
//! [`PART_BYTES`]; at most one part is held in memory at a time, each way.

use rand_core::CryptoRng;

use super::engine::{Client, Posted};
use super::error::{ClientError, ClientResult};
use super::platform::{Clock, Store, Transport};
use crate::attachment::{self, Decryptor, Domain, Encryptor, KeyHasher};
use crate::files::{
    FileInfo, FileUrl, MAX_ATTACHMENT_BYTES, PART_BYTES, TTL_HEADER, UPLOAD_PATH, Uploaded, file_id,
};
use crate::network::FileServer;
use crate::onion::v4::{V4Meta, V4Request, V4Response};
use crate::onion::{Destination, ServerTarget, open_server_reply_owned};

/// Where the file server expects onion requests (Session's path).
pub const FILE_SERVER_ONION_PATH: &str = "/oxen/v4/lsrpc";
/// Bytes read from a source at a time while hashing and encrypting.
const READ_BYTES: usize = 1 << 20;

/// A file to upload, read in pieces (a file on disk, a browser `Blob`).
#[allow(async_fn_in_trait)]
pub trait FileSource {
    /// Its length in bytes.
    fn len(&self) -> u64;
    /// Whether it is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// `len` bytes from `offset` (fewer only at the end).
    async fn read(&self, offset: u64, len: usize) -> Result<Vec<u8>, String>;
}

impl FileSource for [u8] {
    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }
    async fn read(&self, offset: u64, len: usize) -> Result<Vec<u8>, String> {
        let start = usize::try_from(offset).map_err(|_| "offset".to_string())?;
        let end = start.saturating_add(len).min(<[u8]>::len(self));
        Ok(self.get(start..end).unwrap_or_default().to_vec())
    }
}

/// Where a download's plaintext goes, piece by piece.
#[allow(async_fn_in_trait)]
pub trait FileSink {
    async fn write(&mut self, data: &[u8]) -> Result<(), String>;
}

impl FileSink for Vec<u8> {
    async fn write(&mut self, data: &[u8]) -> Result<(), String> {
        self.extend_from_slice(data);
        Ok(())
    }
}

/// An attachment once uploaded: what a message's `AttachmentPointer` carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedFile {
    pub url: FileUrl,
    pub key: [u8; 32],
    /// Plaintext bytes.
    pub size: u64,
    /// When the file server lets it go (ms since the epoch): the earliest of its parts'.
    pub expires_ms: u64,
}

/// How far a transfer is: bytes done of bytes in all (read and encrypted, or downloaded).
pub type Progress<'a> = &'a dyn Fn(u64, u64);

fn seconds_to_ms(s: f64) -> u64 {
    if s.is_finite() && s > 0.0 {
        (s * 1000.0) as u64
    } else {
        0
    }
}

/// A file server as an onion destination.
fn target_of(server: &FileServer) -> ClientResult<ServerTarget> {
    let bad = || ClientError::Protocol(crate::Error::Malformed("a file server URL"));
    let (protocol, rest) = server.url.split_once("://").ok_or_else(bad)?;
    if protocol != "http" && protocol != "https" {
        return Err(bad());
    }
    let host_port = rest.trim_end_matches('/');
    let (host, port) = match host_port.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
            (h, p.parse::<u16>().map_err(|_| bad())?)
        }
        _ => (host_port, if protocol == "http" { 80 } else { 443 }),
    };
    let mut x25519 = [0u8; 32];
    hex::decode_to_slice(&server.x25519, &mut x25519).map_err(|_| bad())?;
    Ok(ServerTarget {
        host: host.to_string(),
        port,
        protocol: protocol.to_string(),
        target: FILE_SERVER_ONION_PATH.into(),
        x25519,
    })
}

impl<T: Transport, C: Clock, S: Store, R: CryptoRng> Client<T, C, S, R> {
    /// The manifest's file servers.
    pub fn file_servers(&self) -> Vec<FileServer> {
        self.manifest()
            .map(|m| m.manifest.file_servers.clone())
            .unwrap_or_default()
    }

    /// The file server a file URL names, if the manifest lists it (by URL and, when the URL
    /// says, by key): files are fetched only from the operator's servers.
    /// The file server uploads go to: the manifest's first.
    fn upload_server(&self) -> ClientResult<FileServer> {
        self.file_servers()
            .into_iter()
            .next()
            .ok_or(ClientError::NoFileServer)
    }

    fn server_of(&self, url: &FileUrl) -> ClientResult<FileServer> {
        self.file_servers()
            .into_iter()
            .find(|s| {
                s.url.trim_end_matches('/') == url.server
                    && url
                        .server_key
                        .is_none_or(|k| hex::encode(k).eq_ignore_ascii_case(&s.x25519))
            })
            .ok_or(ClientError::UnknownFileServer)
    }

    /// One v4 request to `server` through an onion path, retried over new paths; the
    /// server's answer, whatever its code.
    async fn server_call(
        &self,
        server: &FileServer,
        request: V4Request,
    ) -> ClientResult<V4Response> {
        let destination = Destination::Server(target_of(server)?);
        // Kept for a retry; each attempt's layers are built around a copy of it.
        let payload = request.into_bytes();
        let mut last = String::from("no attempt");
        let mut wait_ms = self.config.backoff_ms;
        for attempt in 0..self.config.max_attempts {
            if attempt > 0 {
                self.clock.sleep(wait_ms).await;
                wait_ms = (wait_ms * 2).min(self.config.backoff_max_ms);
            }
            let posted = self.onion_post(&destination, None, payload.clone()).await?;
            self.save_paths().await?;
            match posted {
                Posted::Failed(outcome) => last = outcome.describe(),
                Posted::Answer {
                    path,
                    reply_key,
                    body,
                } => {
                    let reply = open_server_reply_owned(&reply_key, body);
                    self.path_result(&path, reply.is_ok());
                    match reply {
                        Ok(reply) => return Ok(reply),
                        Err(_) => last = "the file server's answer could not be read".into(),
                    }
                }
            }
        }
        Err(ClientError::Exhausted {
            attempts: self.config.max_attempts,
            last,
        })
    }

    /// Uploads one part (encrypted bytes) to `server`; checks the ID it is given.
    async fn upload_part(
        &self,
        server: &FileServer,
        part: Vec<u8>,
        ttl_s: Option<u64>,
    ) -> ClientResult<Uploaded> {
        let expected = file_id(&part);
        let mut meta = V4Meta {
            method: "POST".into(),
            endpoint: UPLOAD_PATH.into(),
            headers: Default::default(),
        };
        meta.headers.insert(
            "Content-Type".into(),
            serde_json::Value::from("application/octet-stream"),
        );
        if let Some(ttl) = ttl_s {
            meta.headers
                .insert(TTL_HEADER.into(), serde_json::Value::from(ttl.to_string()));
        }
        let reply = self
            .server_call(
                server,
                V4Request {
                    meta,
                    body: Some(part),
                },
            )
            .await?;
        if reply.code != 200 {
            return Err(file_server_error(reply.code));
        }
        let uploaded: Uploaded = serde_json::from_slice(&reply.body)
            .map_err(|_| ClientError::Protocol(crate::Error::Malformed("an upload answer")))?;
        if uploaded.id != expected {
            return Err(ClientError::Protocol(crate::Error::Malformed(
                "the file server named the upload with another ID",
            )));
        }
        Ok(uploaded)
    }

    /// Encrypts `source` (as `domain`, keyed by this account's seed) and uploads it in parts to
    /// the manifest's file server. `progress` is told the plaintext bytes encrypted and sent.
    pub async fn upload_file(
        &self,
        source: &(impl FileSource + ?Sized),
        domain: Domain,
        ttl_s: Option<u64>,
        progress: Progress<'_>,
    ) -> ClientResult<UploadedFile> {
        let size = source.len();
        if size == 0 {
            return Err(ClientError::EmptyFile);
        }
        if size > MAX_ATTACHMENT_BYTES {
            return Err(ClientError::FileTooLarge {
                max: MAX_ATTACHMENT_BYTES,
            });
        }
        self.ready().await?;
        let server = self.upload_server()?;
        // Pass 1: the key is the hash of the whole file.
        let mut hasher = KeyHasher::new(self.identity.seed().as_bytes(), domain)?;
        let mut offset = 0;
        while offset < size {
            let piece = read_piece(source, offset, size).await?;
            hasher.update(&piece);
            offset += piece.len() as u64;
        }
        let key = hasher.finish();
        // Pass 2: encrypt, a part at a time.
        let (mut encryptor, mut part) = Encryptor::new(&key, size);
        part.reserve(PART_BYTES.min(attachment::encrypted_size(size) as usize));
        let mut parts = Vec::new();
        let mut expires_ms = u64::MAX;
        let mut offset = 0;
        while offset < size {
            let piece = read_piece(source, offset, size).await?;
            offset += piece.len() as u64;
            encryptor.update(&piece, &mut part)?;
            while part.len() >= PART_BYTES {
                let rest = part.split_off(PART_BYTES);
                let full = std::mem::replace(&mut part, rest);
                let uploaded = self.upload_part(&server, full, ttl_s).await?;
                expires_ms = expires_ms.min(seconds_to_ms(uploaded.expires));
                parts.push(uploaded.id);
            }
            progress(offset, size);
        }
        encryptor.finish(&mut part)?;
        while !part.is_empty() {
            let at = part.len().min(PART_BYTES);
            let rest = part.split_off(at);
            let full = std::mem::replace(&mut part, rest);
            let uploaded = self.upload_part(&server, full, ttl_s).await?;
            expires_ms = expires_ms.min(seconds_to_ms(uploaded.expires));
            parts.push(uploaded.id);
        }
        Ok(UploadedFile {
            url: file_url(&server, parts, true),
            key: *key.key,
            size,
            expires_ms,
        })
    }

    /// Uploads `sealed` (encrypted already, one part at most) as it is: a file in a legacy
    /// form (a group picture), its URL without `#d`. Returns the URL and when the file server
    /// lets it go (ms since the epoch).
    #[cfg(feature = "groups-client")]
    pub async fn upload_sealed(&self, sealed: Vec<u8>) -> ClientResult<(FileUrl, u64)> {
        if sealed.len() > PART_BYTES {
            return Err(ClientError::FileTooLarge {
                max: PART_BYTES as u64,
            });
        }
        self.ready().await?;
        let server = self.upload_server()?;
        let uploaded = self.upload_part(&server, sealed, None).await?;
        let url = file_url(&server, vec![uploaded.id], false);
        Ok((url, seconds_to_ms(uploaded.expires)))
    }

    /// Downloads a one-part file as it is stored (a file in a legacy form), checked against
    /// its ID.
    #[cfg(feature = "groups-client")]
    pub async fn download_sealed(&self, url: &FileUrl) -> ClientResult<Vec<u8>> {
        let [id] = url.parts.as_slice() else {
            return Err(ClientError::Protocol(crate::Error::Malformed(
                "a file in one part",
            )));
        };
        self.ready().await?;
        let server = self.server_of(url)?;
        self.download_part(&server, id).await
    }

    /// Downloads, checks and decrypts the file at `url` with `key`, handing the plaintext to
    /// `sink` as it verifies; `size` (the pointer's) is the file's length. `progress` is told
    /// the encrypted bytes downloaded.
    pub async fn download_file(
        &self,
        url: &FileUrl,
        key: &[u8; 32],
        size: u64,
        sink: &mut impl FileSink,
        progress: Progress<'_>,
    ) -> ClientResult<()> {
        if !url.deterministic {
            return Err(ClientError::Protocol(crate::Error::UnknownEncType));
        }
        if size > MAX_ATTACHMENT_BYTES || url.parts.len() > crate::files::max_parts() {
            return Err(ClientError::FileTooLarge {
                max: MAX_ATTACHMENT_BYTES,
            });
        }
        self.ready().await?;
        let server = self.server_of(url)?;
        let total = attachment::encrypted_size(size);
        let mut decryptor = Decryptor::new(key);
        let mut done = 0u64;
        let mut written = 0u64;
        let mut plain = Vec::new();
        for id in &url.parts {
            let part = self.download_part(&server, id).await?;
            done += part.len() as u64;
            plain.clear();
            decryptor.update(&part, &mut plain)?;
            drop(part);
            written += write_capped(sink, &plain, size - written.min(size)).await?;
            progress(done.min(total), total);
        }
        plain.clear();
        decryptor.finish(&mut plain)?;
        written += write_capped(sink, &plain, size - written.min(size)).await?;
        if written < size {
            return Err(ClientError::Protocol(crate::Error::Malformed(
                "the file is shorter than its stated size",
            )));
        }
        Ok(())
    }

    /// One part, checked against its ID.
    async fn download_part(&self, server: &FileServer, id: &str) -> ClientResult<Vec<u8>> {
        if !crate::files::is_file_id(id) {
            return Err(ClientError::Protocol(crate::Error::Malformed("a file ID")));
        }
        let reply = self
            .server_call(
                server,
                V4Request {
                    meta: V4Meta {
                        method: "GET".into(),
                        endpoint: format!("/file/{id}"),
                        headers: Default::default(),
                    },
                    body: None,
                },
            )
            .await?;
        if reply.code != 200 {
            return Err(file_server_error(reply.code));
        }
        if reply.body.len() > PART_BYTES || file_id(&reply.body) != id {
            return Err(ClientError::Protocol(crate::Error::Malformed(
                "the file server sent other bytes than the file asked for",
            )));
        }
        Ok(reply.body)
    }

    /// Moves the expiry of every part of `url` to the server's full TTL (a profile picture kept
    /// alive); the earliest expiry of the parts after, ms since the epoch.
    pub async fn extend_file(&self, url: &FileUrl) -> ClientResult<u64> {
        self.ready().await?;
        let server = self.server_of(url)?;
        let mut earliest = u64::MAX;
        for id in &url.parts {
            let reply = self
                .server_call(
                    &server,
                    V4Request {
                        meta: V4Meta {
                            method: "POST".into(),
                            endpoint: format!("/file/{id}/extend"),
                            headers: Default::default(),
                        },
                        body: None,
                    },
                )
                .await?;
            if reply.code != 200 {
                return Err(file_server_error(reply.code));
            }
            let info: FileInfo = serde_json::from_slice(&reply.body)
                .map_err(|_| ClientError::Protocol(crate::Error::Malformed("a file's info")))?;
            earliest = earliest.min(seconds_to_ms(info.expires));
        }
        Ok(earliest)
    }
}

/// The URL of the file uploaded to `server` in `parts`.
fn file_url(server: &FileServer, parts: Vec<String>, deterministic: bool) -> FileUrl {
    FileUrl {
        server: server.url.trim_end_matches('/').to_string(),
        server_key: hex::decode(&server.x25519)
            .ok()
            .and_then(|k| k.try_into().ok()),
        parts,
        deterministic,
    }
}

async fn read_piece(
    source: &(impl FileSource + ?Sized),
    offset: u64,
    size: u64,
) -> ClientResult<Vec<u8>> {
    let want = usize::try_from((size - offset).min(READ_BYTES as u64)).unwrap_or(READ_BYTES);
    let piece = source
        .read(offset, want)
        .await
        .map_err(ClientError::FileSource)?;
    if piece.is_empty() || piece.len() > want {
        return Err(ClientError::FileSource(
            "the file changed while it was being sent".into(),
        ));
    }
    Ok(piece)
}

/// Writes at most `left` bytes of `data` (the rest is padding past the stated size).
async fn write_capped(sink: &mut impl FileSink, data: &[u8], left: u64) -> ClientResult<u64> {
    let n = data.len().min(usize::try_from(left).unwrap_or(usize::MAX));
    if n > 0 {
        sink.write(&data[..n])
            .await
            .map_err(ClientError::FileSink)?;
    }
    Ok(n as u64)
}

fn file_server_error(code: u16) -> ClientError {
    match code {
        404 => ClientError::FileGone,
        413 => ClientError::FileTooLarge {
            max: MAX_ATTACHMENT_BYTES,
        },
        429 | 507 => ClientError::FileServerFull,
        code => ClientError::Refused {
            status: code,
            reason: "the file server refused the request".into(),
        },
    }
}
