//! Onion requests (SESSION-PROTOCOL.md §3): how a client wraps a request in one encrypted layer
//! per hop, and how each hop peels exactly one layer and learns only where to send the rest.
//!
//! Every layer travels as a *combined payload*, `[N: u32 LE][N bytes ciphertext][JSON]`
//! ([`CombinedPayload`]). The JSON beside the ciphertext says how to decrypt it
//! (`ephemeral_key`, `enc_type`). Inside, the plaintext is again a combined payload whose JSON
//! routes it: `headers` present means "this is for you" (final destination), `host` means
//! "relay to an HTTP server", and otherwise `destination` names the next node.

pub mod hop;
mod relay;
pub mod v4;

use rand_core::CryptoRng;
use serde_json::{Map, Value, json};

pub use hop::{EncType, NodeKey, ReplyKey};
pub use relay::RelayError;

use crate::error::{Error, Result};
use crate::rpc::response::{Reply, ReplyBody};

/// Where clients and relays send onion requests (Session's path).
pub const ONION_REQ_PATH: &str = "/onion_req/v2";

/// Most hops a request may pass through (a relay refuses to forward past this).
pub const MAX_ONION_HOPS: u64 = 15;
pub use crate::limits::MAX_ONION_BODY;

/// `[N: u32 LE][N bytes][JSON object]`.
#[derive(Debug, Clone, PartialEq)]
pub struct CombinedPayload {
    /// The length-prefixed part (a ciphertext, or the innermost request).
    pub blob: Vec<u8>,
    /// The JSON object that follows.
    pub json: Map<String, Value>,
}

impl CombinedPayload {
    /// Serialises as `[len][blob][json]`.
    pub fn encode(&self) -> Vec<u8> {
        let json = serde_json::to_string(&self.json).expect("a JSON map always serialises");
        let mut out = Vec::with_capacity(4 + self.blob.len() + json.len());
        out.extend_from_slice(&(self.blob.len() as u32).to_le_bytes());
        out.extend_from_slice(&self.blob);
        out.extend_from_slice(json.as_bytes());
        out
    }

    /// Parses `[len][blob][json]`; the JSON runs to the end of the buffer.
    pub fn decode(data: &[u8]) -> Result<Self> {
        if data.len() > MAX_ONION_BODY {
            return Err(Error::LimitExceeded("onion request too large"));
        }
        let (len, rest) = data.split_first_chunk::<4>().ok_or(Error::Malformed(
            "combined payload shorter than its length prefix",
        ))?;
        let len = u32::from_le_bytes(*len) as usize;
        if len > rest.len() {
            return Err(Error::Malformed("combined payload length exceeds the data"));
        }
        let (blob, json) = rest.split_at(len);
        let json = match serde_json::from_slice::<Value>(json) {
            Ok(Value::Object(map)) => map,
            _ => return Err(Error::Malformed("combined payload JSON is not an object")),
        };
        Ok(Self {
            blob: blob.to_vec(),
            json,
        })
    }
}

/// One node of a path: its Ed25519 key (its name in routing JSON) and X25519 key (what layers
/// are encrypted to).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hop {
    pub ed25519: [u8; 32],
    pub x25519: [u8; 32],
}

/// An HTTP server reached through the last hop (SOGS, file server, push server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerTarget {
    pub host: String,
    pub port: u16,
    /// `http` or `https`.
    pub protocol: String,
    /// The server's onion endpoint, e.g. `/oxen/v4/lsrpc`.
    pub target: String,
    /// The server's X25519 key.
    pub x25519: [u8; 32],
}

/// Where an onion request ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A service node, which executes a storage RPC.
    Node(Hop),
    /// An HTTP server, which receives a v4 request.
    Server(ServerTarget),
}

/// What a client keeps to read the reply to an onion request it built.
#[derive(Debug)]
pub struct BuiltRequest {
    /// The body to POST to the guard's `/onion_req/v2`.
    pub body: Vec<u8>,
    /// The key the destination will encrypt its reply with.
    pub reply_key: ReplyKey,
}

fn route_json(enc_type: EncType, ephemeral: &[u8; 32]) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("ephemeral_key".into(), json!(hex::encode(ephemeral)));
    map.insert("enc_type".into(), json!(enc_type.as_str()));
    map
}

/// Builds an onion request through `path` (1–15 hops; the first is the guard) to `destination`.
/// For a node, `payload` is the storage RPC JSON; for a server, the v4 request (see [`v4`]).
pub fn build_onion_request(
    path: &[Hop],
    destination: &Destination,
    payload: &[u8],
    enc_type: EncType,
    rng: &mut impl CryptoRng,
) -> Result<BuiltRequest> {
    build_onion_request_owned(path, destination, payload.to_vec(), enc_type, rng)
}

/// [`build_onion_request`] around a payload it may consume: every layer is framed and encrypted
/// where the payload lies, so a 10 MB upload is held once, not once per layer.
pub fn build_onion_request_owned(
    path: &[Hop],
    destination: &Destination,
    payload: Vec<u8>,
    enc_type: EncType,
    rng: &mut impl CryptoRng,
) -> Result<BuiltRequest> {
    if path.is_empty() || path.len() as u64 > MAX_ONION_HOPS {
        return Err(Error::LimitExceeded("an onion path has 1 to 15 hops"));
    }
    let mut buf = payload;
    // Innermost layer, to the destination.
    let (dest_x25519, mut route) = match destination {
        Destination::Node(node) => {
            let mut marker = Map::new();
            marker.insert("headers".into(), json!(""));
            frame_in_place(&mut buf, &marker);
            let mut route = Map::new();
            route.insert("destination".into(), json!(hex::encode(node.ed25519)));
            (node.x25519, route)
        }
        Destination::Server(server) => {
            let mut route = Map::new();
            route.insert("host".into(), json!(server.host));
            route.insert("target".into(), json!(server.target));
            route.insert("method".into(), json!("POST"));
            route.insert("protocol".into(), json!(server.protocol));
            route.insert("port".into(), json!(server.port));
            (server.x25519, route)
        }
    };
    let (reply_key, mut ephemeral) =
        hop::encrypt_for_hop_in_place(&dest_x25519, &mut buf, enc_type, rng)?;

    // Wrap once per path hop, from the last hop back to the guard.
    for hop in path.iter().rev() {
        route.extend(route_json(enc_type, &ephemeral));
        frame_in_place(&mut buf, &route);
        let (_, next) = hop::encrypt_for_hop_in_place(&hop.x25519, &mut buf, enc_type, rng)?;
        ephemeral = next;
        route = Map::new();
        route.insert("destination".into(), json!(hex::encode(hop.ed25519)));
    }
    frame_in_place(&mut buf, &route_json(enc_type, &ephemeral));
    Ok(BuiltRequest {
        body: buf,
        reply_key,
    })
}

/// Frames `buf` as a combined payload, `[len][buf][json]`, where it lies (one move of its
/// bytes within its own allocation).
fn frame_in_place(buf: &mut Vec<u8>, json: &Map<String, Value>) {
    let json = serde_json::to_string(json).expect("a JSON map always serialises");
    let len = (buf.len() as u32).to_le_bytes();
    // Room for this frame and the next layer's nonce and tag, so neither reallocates.
    buf.reserve(len.len() + json.len() + 64);
    buf.splice(0..0, len);
    buf.extend_from_slice(json.as_bytes());
}

/// What a node found when it peeled one layer.
#[derive(Debug)]
pub enum Peeled {
    /// The request is for this node: execute `request` (a storage RPC JSON) and encrypt the
    /// reply with `reply_key`.
    Final {
        request: Vec<u8>,
        reply_key: ReplyKey,
    },
    /// Forward `body` to the next node's `/onion_req/v2`; its reply goes back unchanged.
    RelayToNode {
        destination_ed25519: [u8; 32],
        body: Vec<u8>,
    },
    /// POST `body` (this hop's whole plaintext) to an HTTP server.
    RelayToServer {
        host: String,
        port: u16,
        protocol: String,
        target: String,
        body: Vec<u8>,
    },
}

fn hex32(value: Option<&Value>, what: &'static str) -> Result<[u8; 32]> {
    let text = value
        .and_then(Value::as_str)
        .ok_or(Error::Malformed(what))?;
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).map_err(|_| Error::Malformed(what))?;
    Ok(out)
}

/// Peels one layer of an onion request `body` with this node's X25519 keypair.
/// Errors: [`Error::Malformed`] for bad framing or JSON, [`Error::UnknownEncType`],
/// [`Error::DecryptionFailed`] (answered as 400 "Invalid ciphertext"), and
/// [`Error::LimitExceeded`] past [`MAX_ONION_HOPS`].
pub fn peel_layer(node: &NodeKey, body: &[u8]) -> Result<Peeled> {
    let outer = CombinedPayload::decode(body)?;
    let enc_type = EncType::from_json(outer.json.get("enc_type"))?;
    let ephemeral = hex32(
        outer.json.get("ephemeral_key"),
        "ephemeral_key must be 64 hex chars",
    )?;
    let hop_no = match outer.json.get("hop_no") {
        None => 0,
        Some(v) => v
            .as_u64()
            .ok_or(Error::Malformed("hop_no must be a non-negative integer"))?,
    };
    let reply_key = ReplyKey::for_node(node, &ephemeral, enc_type)?;
    let plaintext = reply_key.decrypt(&outer.blob)?;
    let inner = CombinedPayload::decode(&plaintext)?;

    if inner.json.contains_key("headers") {
        return Ok(Peeled::Final {
            request: inner.blob,
            reply_key,
        });
    }
    let next_hop = hop_no + 1;
    if next_hop > MAX_ONION_HOPS {
        return Err(Error::LimitExceeded("too many onion hops"));
    }
    if let Some(host) = inner.json.get("host") {
        let host = host
            .as_str()
            .ok_or(Error::Malformed("host must be a string"))?
            .to_string();
        let protocol = match inner.json.get("protocol") {
            None => "https".to_string(),
            Some(Value::String(p)) if p == "http" || p == "https" => p.clone(),
            Some(_) => return Err(Error::Malformed("protocol must be http or https")),
        };
        let port = match inner.json.get("port") {
            None if protocol == "http" => 80,
            None => 443,
            Some(v) => v
                .as_u64()
                .and_then(|p| u16::try_from(p).ok())
                .ok_or(Error::Malformed("port must be 0-65535"))?,
        };
        let target = inner
            .json
            .get("target")
            .and_then(Value::as_str)
            .ok_or(Error::Malformed("target must be a string"))?
            .to_string();
        // Only onion endpoints may be proxied (no open relay to arbitrary URLs).
        let allowed = (target.starts_with("/loki/") || target.starts_with("/oxen/"))
            && target.ends_with("/lsrpc")
            && !target.contains('?');
        if !allowed {
            return Err(Error::Malformed("invalid url"));
        }
        return Ok(Peeled::RelayToServer {
            host,
            port,
            protocol,
            target,
            body: plaintext,
        });
    }
    let destination_ed25519 = hex32(
        inner.json.get("destination"),
        "destination must be 64 hex chars",
    )?;
    let next_enc = EncType::from_json(inner.json.get("enc_type"))?;
    let next_ephemeral = hex32(
        inner.json.get("ephemeral_key"),
        "ephemeral_key must be 64 hex chars",
    )?;
    let mut json = route_json(next_enc, &next_ephemeral);
    json.insert("hop_no".into(), json!(next_hop));
    let body = CombinedPayload {
        blob: inner.blob,
        json,
    }
    .encode();
    Ok(Peeled::RelayToNode {
        destination_ed25519,
        body,
    })
}

/// A v4 request a server opened ([`open_server_request`]): its metadata, and its body where it
/// was decrypted, in the request's own buffer (a 10 MB upload is held once).
#[derive(Debug)]
pub struct ServerRequest {
    pub meta: v4::V4Meta,
    buffer: Vec<u8>,
    body: Option<core::ops::Range<usize>>,
}

impl ServerRequest {
    /// The request's body, if it has one.
    pub fn body(&self) -> Option<&[u8]> {
        self.body.clone().map(|r| &self.buffer[r])
    }
}

/// Where `part` lies within `whole` (a sub-slice of it).
fn range_within(whole: &[u8], part: &[u8]) -> core::ops::Range<usize> {
    let start = part.as_ptr() as usize - whole.as_ptr() as usize;
    start..start + part.len()
}

/// The server's side of a v4 onion request. A relay POSTs a server its hop's plaintext,
/// `[N][ciphertext]{"ephemeral_key", "enc_type", …}` (§3.5); the server opens the ciphertext
/// with its own X25519 keypair, in place, and finds the v4 request (§3.7). Returns the request
/// and the key its reply is sealed with ([`seal_server_reply`]). Errors as [`peel_layer`]'s.
pub fn open_server_request(
    server: &NodeKey,
    mut body: Vec<u8>,
) -> Result<(ServerRequest, ReplyKey)> {
    if body.len() > MAX_ONION_BODY {
        return Err(Error::LimitExceeded("onion request too large"));
    }
    let (len, rest) = body.split_first_chunk::<4>().ok_or(Error::Malformed(
        "combined payload shorter than its length prefix",
    ))?;
    let len = u32::from_le_bytes(*len) as usize;
    if len > rest.len() {
        return Err(Error::Malformed("combined payload length exceeds the data"));
    }
    let json = match serde_json::from_slice::<Value>(&rest[len..]) {
        Ok(Value::Object(map)) => map,
        _ => return Err(Error::Malformed("combined payload JSON is not an object")),
    };
    let enc_type = EncType::from_json(json.get("enc_type"))?;
    let ephemeral = hex32(
        json.get("ephemeral_key"),
        "ephemeral_key must be 64 hex chars",
    )?;
    let reply_key = ReplyKey::for_node(server, &ephemeral, enc_type)?;
    let plain = {
        let blob = &mut body[4..4 + len];
        let base = blob.as_ptr() as usize - 4;
        let plain = reply_key.decrypt_in_place(blob)?;
        let start = plain.as_ptr() as usize - base;
        start..start + plain.len()
    };
    let (meta, body_range) = {
        let request = v4::V4Request::locate(&body[plain.clone()])?;
        let range = request.1.map(|b| {
            let r = range_within(&body[plain.clone()], b);
            plain.start + r.start..plain.start + r.end
        });
        (request.0, range)
    };
    Ok((
        ServerRequest {
            meta,
            buffer: body,
            body: body_range,
        },
        reply_key,
    ))
}

/// A server's reply to a v4 onion request: the bencoded v4 response, encrypted with the
/// request's key, raw (no base64); relays pass it back unchanged (§3.6).
pub fn seal_server_reply(
    reply_key: &ReplyKey,
    response: &v4::V4Response,
    rng: &mut impl CryptoRng,
) -> Vec<u8> {
    reply_key.encrypt(&response.encode(), rng)
}

/// [`seal_server_reply`] for a reply whose body is written straight into the buffer that is
/// sent: `fill` appends exactly `body_len` bytes (a file read from disk) after the v4 head.
pub fn seal_server_reply_with(
    reply_key: &ReplyKey,
    code: u16,
    headers: &Map<String, Value>,
    body_len: usize,
    fill: impl FnOnce(&mut Vec<u8>) -> Result<()>,
    rng: &mut impl CryptoRng,
) -> Result<Vec<u8>> {
    let head = v4::V4Response::head(code, headers, body_len);
    let mut buf = Vec::with_capacity(head.len() + body_len + 1 + 64);
    buf.extend_from_slice(&head);
    fill(&mut buf)?;
    if buf.len() != head.len() + body_len {
        return Err(Error::Malformed("a reply body of the wrong length"));
    }
    buf.push(b'e');
    reply_key.encrypt_in_place(&mut buf, rng);
    Ok(buf)
}

/// Reads a server's reply to a v4 onion request the client built with `reply_key`.
pub fn open_server_reply(reply_key: &ReplyKey, reply: &[u8]) -> Result<v4::V4Response> {
    open_server_reply_owned(reply_key, reply.to_vec())
}

/// [`open_server_reply`] where the reply lies: decrypted in place, its body cut out of the same
/// allocation (a 10 MB download is held once).
pub fn open_server_reply_owned(reply_key: &ReplyKey, mut reply: Vec<u8>) -> Result<v4::V4Response> {
    let plain = {
        let base = reply.as_ptr() as usize;
        let plain = reply_key.decrypt_in_place(&mut reply)?;
        let start = plain.as_ptr() as usize - base;
        start..start + plain.len()
    };
    let (code, headers, body) = {
        let (code, headers, body) = v4::V4Response::locate(&reply[plain.clone()])?;
        let r = range_within(&reply[plain.clone()], body);
        (code, headers, plain.start + r.start..plain.start + r.end)
    };
    reply.truncate(body.end);
    reply.drain(..body.start);
    Ok(v4::V4Response {
        code,
        headers,
        body: reply,
    })
}

/// Builds the final node's reply: `{"status": code, "body": "<rpc JSON as a string>"}`,
/// encrypted with the request's reply key and base64-encoded (§3.6).
pub fn encrypt_node_reply(
    reply_key: &ReplyKey,
    status: u16,
    body_json: &str,
    rng: &mut impl CryptoRng,
) -> String {
    let reply = json!({ "status": status, "body": body_json }).to_string();
    crate::crypto::b64_encode(&reply_key.encrypt(reply.as_bytes(), rng))
}

/// Reads a node's reply to an onion request: base64 → decrypt → `{"status", "body"}` with the
/// double-encoded body parsed again. Returns the storage RPC reply it carries.
pub fn decrypt_node_reply(reply_key: &ReplyKey, reply: &[u8]) -> Result<Reply> {
    let text = core::str::from_utf8(reply).map_err(|_| Error::Malformed("reply is not text"))?;
    let text = text.trim();
    // A legacy wrapper `{"result": "<b64>"}` is accepted too.
    let b64 = match serde_json::from_slice::<Value>(text.as_bytes()) {
        Ok(Value::Object(map)) => map
            .get("result")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or(Error::Malformed("reply JSON has no result"))?,
        _ => text.to_string(),
    };
    let plaintext = reply_key.decrypt(&crate::crypto::b64_decode(&b64)?)?;
    let outer: Value =
        serde_json::from_slice(&plaintext).map_err(|_| Error::Malformed("reply is not JSON"))?;
    let status = outer
        .get("status")
        .or_else(|| outer.get("status_code"))
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .ok_or(Error::Malformed("reply has no status"))?;
    Ok(match outer.get("body") {
        Some(Value::String(s)) => Reply::from_wire(status, s),
        Some(other @ (Value::Object(_) | Value::Array(_))) => Reply {
            status,
            body: ReplyBody::Json(other.clone()),
        },
        Some(other) => Reply::text(status, other.to_string()),
        None => Reply::text(status, ""),
    })
}
