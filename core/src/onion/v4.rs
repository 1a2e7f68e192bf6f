//! v4 onion requests to HTTP servers (SESSION-PROTOCOL.md §3.7): a bencoded list of one or two
//! byte strings — JSON metadata, then the body — and a response of exactly two strings.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::bencode::{self, Item};
use crate::error::{Error, Result};

/// Request metadata: method, endpoint (starting `/`) and headers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct V4Meta {
    pub method: String,
    pub endpoint: String,
    #[serde(default)]
    pub headers: Map<String, Value>,
}

/// A v4 request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V4Request {
    pub meta: V4Meta,
    pub body: Option<Vec<u8>>,
}

/// A v4 response: status code, lower-case headers, body bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V4Response {
    pub code: u16,
    pub headers: Map<String, Value>,
    pub body: Vec<u8>,
}

fn bstring(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(&bencode::string_header(data.len()));
    out.extend_from_slice(data);
}

/// Parses a bencoded list of byte strings (nothing else is allowed in v4 framing).
fn parse_string_list(data: &[u8]) -> Result<Vec<&[u8]>> {
    let Item::List(items) = bencode::parse(data)? else {
        return Err(Error::Malformed("v4: not a bencoded list"));
    };
    items
        .into_iter()
        .map(|item| match item {
            Item::Bytes(b) => Ok(b),
            _ => Err(Error::Malformed(
                "v4: list holds something other than strings",
            )),
        })
        .collect()
}

impl V4Request {
    /// `l <len>:<json meta> [<len>:<body>] e`.
    pub fn encode(&self) -> Vec<u8> {
        let meta = serde_json::to_vec(&self.meta).expect("V4Meta always serialises");
        let mut out = vec![b'l'];
        bstring(&mut out, &meta);
        if let Some(body) = &self.body {
            bstring(&mut out, body);
        }
        out.push(b'e');
        out
    }

    /// [`Self::encode`] of a request it may consume: the framing is written around the body
    /// where it lies (a 10 MB upload is not copied).
    pub fn into_bytes(self) -> Vec<u8> {
        let meta = serde_json::to_vec(&self.meta).expect("V4Meta always serialises");
        let mut head = vec![b'l'];
        bstring(&mut head, &meta);
        match self.body {
            None => {
                head.push(b'e');
                head
            }
            Some(mut body) => {
                head.extend_from_slice(&bencode::string_header(body.len()));
                // Room for the framing and the onion layers that will wrap it.
                body.reserve(head.len() + 1 + 4096);
                body.splice(0..0, head);
                body.push(b'e');
                body
            }
        }
    }

    /// Parses and validates a v4 request.
    pub fn decode(data: &[u8]) -> Result<Self> {
        let (meta, body) = Self::locate(data)?;
        Ok(Self {
            meta,
            body: body.map(<[u8]>::to_vec),
        })
    }

    /// Parses and validates a v4 request without copying its body: the metadata, and the
    /// body where it lies in `data`.
    pub fn locate(data: &[u8]) -> Result<(V4Meta, Option<&[u8]>)> {
        let items = parse_string_list(data)?;
        let (meta, body) = match items.as_slice() {
            [meta] => (meta, None),
            [meta, body] => (meta, Some(*body)),
            _ => return Err(Error::Malformed("v4: request is a list of 1 or 2 strings")),
        };
        let meta: V4Meta = serde_json::from_slice(meta)
            .map_err(|_| Error::Malformed("v4: bad request metadata"))?;
        if !meta.endpoint.starts_with('/') {
            return Err(Error::Malformed("v4: endpoint must start with /"));
        }
        Ok((meta, body))
    }
}

impl V4Response {
    /// `l <len>:{"code":…,"headers":{…}} <len>:<body> e`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Self::head(self.code, &self.headers, self.body.len());
        out.extend_from_slice(&self.body);
        out.push(b'e');
        out
    }

    /// A response up to its body: `l <len>:<meta> <body_len>:` (the body and `e` follow).
    pub fn head(code: u16, headers: &Map<String, Value>, body_len: usize) -> Vec<u8> {
        let meta = serde_json::json!({ "code": code, "headers": headers }).to_string();
        let mut out = vec![b'l'];
        bstring(&mut out, meta.as_bytes());
        out.extend_from_slice(&bencode::string_header(body_len));
        out
    }

    /// Parses a v4 response.
    pub fn decode(data: &[u8]) -> Result<Self> {
        let (code, headers, body) = Self::locate(data)?;
        Ok(Self {
            code,
            headers,
            body: body.to_vec(),
        })
    }

    /// Parses a v4 response without copying its body: code, headers, and the body where it
    /// lies in `data`.
    pub fn locate(data: &[u8]) -> Result<(u16, Map<String, Value>, &[u8])> {
        let items = parse_string_list(data)?;
        let [meta, body] = items.as_slice() else {
            return Err(Error::Malformed("v4: response is a list of 2 strings"));
        };
        let meta: Value = serde_json::from_slice(meta)
            .map_err(|_| Error::Malformed("v4: bad response metadata"))?;
        let code = meta
            .get("code")
            .and_then(Value::as_u64)
            .and_then(|c| u16::try_from(c).ok())
            .ok_or(Error::Malformed("v4: response has no code"))?;
        let headers = match meta.get("headers") {
            Some(Value::Object(h)) => h.clone(),
            None => Map::new(),
            Some(_) => return Err(Error::Malformed("v4: headers must be an object")),
        };
        Ok((code, headers, body))
    }
}
