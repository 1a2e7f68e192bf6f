//! The file server's protocol (SESSION-ATTACHMENTS-CONFIG.md A.3, A.4), one contract for the
//! server that answers it and the clients that call it through onion requests.
//!
//! - `POST /file` takes the raw encrypted bytes and answers [`Uploaded`]; the file's ID is
//!   [`file_id`] of its bytes (Session's deduplicating IDs), so a client checks the answer
//!   against what it sent, and checks every download against the ID it asked for: a file
//!   server cannot swap or alter a file unnoticed.
//! - `GET /file/<id>` answers the bytes; `GET /file/<id>/info` and `POST /file/<id>/extend`
//!   answer [`FileInfo`].
//! - A message points at a file by URL ([`FileUrl`]): `<server>/file/<id>#d&p=<x25519 hex>`.
//!   A file larger than one upload (Murmur's extension, up to [`MAX_ATTACHMENT_BYTES`]) is
//!   encrypted as one stream, cut into parts of at most [`PART_BYTES`], and each part uploaded
//!   on its own; the IDs of the parts after the first follow in the fragment as
//!   `&parts=<id>.<id>…` (`docs/protocol.md`, "Attachments").

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The upload endpoint.
pub const UPLOAD_PATH: &str = "/file";
pub use crate::limits::{FILE_PART_BYTES as PART_BYTES, MAX_ATTACHMENT_BYTES};
/// The header a client names a file's time to live with (seconds).
pub const TTL_HEADER: &str = "X-FS-TTL";
/// Characters in a deduplicating file ID.
pub const FILE_ID_LEN: usize = 44;
/// The salt of Session's deduplicating file IDs (14 ASCII bytes and two zero bytes).
const FILE_ID_SALT: &[u8; 16] = b"SessionFileSvr\0\0";

/// Session's deduplicating file ID of `body`: base64url (no padding) of
/// BLAKE2b-33(body, salt `"SessionFileSvr\0\0"`), 44 characters. Pieces of the body may be
/// given one by one ([`FileIdHasher`]).
pub fn file_id(body: &[u8]) -> String {
    let mut hasher = FileIdHasher::new();
    hasher.update(body);
    hasher.finish()
}

/// [`file_id`] over a body that arrives in pieces.
pub struct FileIdHasher(blake2::Blake2bMac<blake2::digest::consts::U33>);

impl std::fmt::Debug for FileIdHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FileIdHasher(..)")
    }
}

impl Default for FileIdHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl FileIdHasher {
    pub fn new() -> Self {
        Self(
            blake2::Blake2bMac::new_with_salt_and_personal(None, FILE_ID_SALT, &[])
                .expect("a 16-byte salt"),
        )
    }

    pub fn update(&mut self, data: &[u8]) {
        blake2::digest::Mac::update(&mut self.0, data);
    }

    pub fn finish(self) -> String {
        use base64::Engine as _;
        let digest = blake2::digest::Mac::finalize(self.0).into_bytes();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
    }
}

/// Whether `id` has the shape of a deduplicating file ID (44 base64url characters).
pub fn is_file_id(id: &str) -> bool {
    id.len() == FILE_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `POST /file`'s answer: the ID and when the file expires (Unix seconds, a float as
/// Session's server writes it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Uploaded {
    pub id: String,
    pub expires: f64,
}

/// `GET /file/<id>/info` and `POST /file/<id>/extend`: size in bytes, upload and expiry times
/// (Unix seconds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileInfo {
    pub size: u64,
    pub uploaded: f64,
    pub expires: f64,
}

/// An error answer: `{"status_code": N}`, N being the HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileError {
    pub status_code: u16,
}

/// Where a file (all of its parts) is, as an attachment pointer's or a profile's `url` holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileUrl {
    /// The file server's base URL (`http[s]://host[:port]`).
    pub server: String,
    /// The file server's X25519 key (`p=` in the fragment), when given.
    pub server_key: Option<[u8; 32]>,
    /// The IDs of the file's parts, in order (one for any file Session can send).
    pub parts: Vec<String>,
    /// Encrypted in the deterministic "S" format (`d` in the fragment).
    pub deterministic: bool,
}

impl FileUrl {
    /// Parses `<server>/file/<id>[#fragment]` (or Session's legacy `/files/<id>`). The
    /// fragment's items are `&`-joined: `d` or `d=` (S format), `p=<64 hex>` (server key),
    /// `parts=<id>.<id>…` (Murmur's further parts); others are ignored.
    pub fn parse(url: &str) -> Result<Self> {
        let bad = || Error::Malformed("not a file URL");
        let (path, fragment) = url.split_once('#').unwrap_or((url, ""));
        let (server, id) = path
            .rsplit_once("/file/")
            .or_else(|| path.rsplit_once("/files/"))
            .ok_or_else(bad)?;
        let rest = server
            .strip_prefix("https://")
            .or_else(|| server.strip_prefix("http://"))
            .ok_or_else(bad)?;
        if rest.is_empty() || rest.contains(['/', '?', '#', '@']) {
            return Err(bad());
        }
        let legacy = !id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit());
        if !is_file_id(id) && !legacy {
            return Err(bad());
        }
        let mut out = Self {
            server: server.to_string(),
            server_key: None,
            parts: vec![id.to_string()],
            deterministic: false,
        };
        for item in fragment.split('&').filter(|i| !i.is_empty()) {
            let (name, value) = item.split_once('=').unwrap_or((item, ""));
            match name {
                "d" => out.deterministic = true,
                "p" => {
                    let mut key = [0u8; 32];
                    hex::decode_to_slice(value, &mut key).map_err(|_| bad())?;
                    out.server_key = Some(key);
                }
                "parts" => {
                    for part in value.split('.') {
                        if !is_file_id(part) {
                            return Err(bad());
                        }
                        out.parts.push(part.to_string());
                    }
                    if out.parts.len() > max_parts() {
                        return Err(Error::LimitExceeded("too many parts"));
                    }
                }
                _ => {}
            }
        }
        Ok(out)
    }

    /// The URL, as [`Self::parse`] reads it.
    pub fn to_url(&self) -> String {
        let mut url = format!("{}/file/{}", self.server, self.parts[0]);
        let mut items = Vec::new();
        if self.deterministic {
            items.push("d".to_string());
        }
        if let Some(key) = &self.server_key {
            items.push(format!("p={}", hex::encode(key)));
        }
        if self.parts.len() > 1 {
            items.push(format!("parts={}", self.parts[1..].join(".")));
        }
        if !items.is_empty() {
            url.push('#');
            url.push_str(&items.join("&"));
        }
        url
    }
}

/// The most parts a file of [`MAX_ATTACHMENT_BYTES`] needs.
pub const fn max_parts() -> usize {
    let encrypted = MAX_ATTACHMENT_BYTES as usize + MAX_ATTACHMENT_BYTES as usize / 32 + 4096;
    encrypted.div_ceil(PART_BYTES)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn file_ids_are_sessions() {
        assert_eq!(
            file_id(b"hello world"),
            "3qXfYbeRSxXa89I8ApcbKl0_BshkLQ6myd0DsvcrDEy3"
        );
        let mut pieces = FileIdHasher::new();
        pieces.update(b"hello ");
        pieces.update(b"world");
        assert_eq!(pieces.finish(), file_id(b"hello world"));
        assert!(is_file_id(&file_id(b"")));
        assert!(!is_file_id("3qXfYbeRSxXa89I8ApcbKl0_BshkLQ6myd0DsvcrDEy+"));
    }

    #[test]
    fn urls_round_trip_and_read_sessions_forms() {
        let id = file_id(b"x");
        let url = FileUrl {
            server: "http://127.0.0.1:22190".into(),
            server_key: Some([0xab; 32]),
            parts: vec![id.clone(), file_id(b"y"), file_id(b"z")],
            deterministic: true,
        };
        assert_eq!(FileUrl::parse(&url.to_url()).unwrap(), url);
        // Session's forms: `#d` (libsession), `#d=` (desktop), no fragment, legacy ids.
        let s = FileUrl::parse(&format!("http://filev2.getsession.org/file/{id}#d=")).unwrap();
        assert!(s.deterministic && s.parts == [id.clone()] && s.server_key.is_none());
        assert!(
            !FileUrl::parse("https://f.example/file/12345")
                .unwrap()
                .deterministic
        );
        assert!(FileUrl::parse("https://f.example/files/12345").is_ok());
        for bad in [
            "ftp://f.example/file/12345",
            "https://f.example/file/",
            "https://f.example/file/../../etc",
            "https://user@f.example/file/12345",
            "https://f.example/file/12345#p=zz",
            &format!("https://f.example/file/{id}#parts=notanid"),
        ] {
            assert!(FileUrl::parse(bad).is_err(), "{bad}");
        }
        assert!(max_parts() <= 11);
    }
}
