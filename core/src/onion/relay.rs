//! The errors a relay answers in plain text, with a non-200 status, when it cannot pass an
//! onion request on (Session's `onion_req/v2` texts). The node writes them with
//! [`RelayError::reply`] and the client reads them back with [`RelayError::parse`].
//!
//! They are not authenticated: any hop of the path can write any of them. A client may use the
//! node one names only as a hint about that node, never as proof about another.

/// Why a relay (or the final node, before executing) answered with an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelayError {
    /// The layer does not decrypt with this node's key (400).
    Undecryptable,
    /// The layer names an encryption type this node does not speak (400).
    UnknownEncType,
    /// The layer is malformed or over a limit (400, with the reason).
    Invalid(String),
    /// The next node is not in this node's manifest (502, its Ed25519 hex).
    NextNodeNotFound(String),
    /// The next node could not be reached (502, its Ed25519 hex).
    NextNodeUnreachable(String),
    /// The next node did not answer in time (504).
    Timeout,
    /// The next node's answer could not be read (502).
    InvalidResponse,
    /// The layer asks to relay to an HTTP server the network's manifest does not list as a
    /// file server: nodes relay only to their operator's file servers, never to any URL (403).
    ServerNotListed,
}

const NOT_FOUND: &str = "Next node not found: ";
const UNREACHABLE: &str = "Next node is currently unreachable: ";
const UNDECRYPTABLE: &str = "Invalid ciphertext";
const UNKNOWN_ENC: &str = "Invalid ciphertext: unknown enc_type";
const INVALID: &str = "Invalid request: ";
const TIMEOUT: &str = "Request time out";
const INVALID_RESPONSE: &str = "Invalid response from snode";
const SERVER_NOT_LISTED: &str = "Invalid url: not a file server of this network";

fn ed25519_hex(text: &str) -> Option<String> {
    let hex = text.trim();
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| hex.to_ascii_lowercase())
}

impl RelayError {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            Self::Undecryptable | Self::UnknownEncType | Self::Invalid(_) => 400,
            Self::NextNodeNotFound(_) | Self::NextNodeUnreachable(_) | Self::InvalidResponse => 502,
            Self::Timeout => 504,
            Self::ServerNotListed => 403,
        }
    }

    /// The text this error is answered with.
    pub fn text(&self) -> String {
        match self {
            Self::Undecryptable => UNDECRYPTABLE.into(),
            Self::UnknownEncType => UNKNOWN_ENC.into(),
            Self::Invalid(why) => format!("{INVALID}{why}"),
            Self::NextNodeNotFound(ed) => format!("{NOT_FOUND}{ed}"),
            Self::NextNodeUnreachable(ed) => format!("{UNREACHABLE}{ed}"),
            Self::Timeout => TIMEOUT.into(),
            Self::InvalidResponse => INVALID_RESPONSE.into(),
            Self::ServerNotListed => SERVER_NOT_LISTED.into(),
        }
    }

    /// The error a relay answered with `status` and `text`, if it is one of these.
    pub fn parse(status: u16, text: &str) -> Option<Self> {
        let text = text.trim_end();
        let error = if let Some(ed) = text.strip_prefix(NOT_FOUND) {
            Self::NextNodeNotFound(ed25519_hex(ed)?)
        } else if let Some(ed) = text.strip_prefix(UNREACHABLE) {
            Self::NextNodeUnreachable(ed25519_hex(ed)?)
        } else if text == UNKNOWN_ENC {
            Self::UnknownEncType
        } else if text == UNDECRYPTABLE {
            Self::Undecryptable
        } else if let Some(why) = text.strip_prefix(INVALID) {
            Self::Invalid(why.chars().take(200).collect())
        } else if text == TIMEOUT {
            Self::Timeout
        } else if text == INVALID_RESPONSE {
            Self::InvalidResponse
        } else if text == SERVER_NOT_LISTED {
            Self::ServerNotListed
        } else {
            return None;
        };
        (error.status() == status).then_some(error)
    }

    /// The node this error names as down (Ed25519 hex), if any.
    pub fn named_node(&self) -> Option<&str> {
        match self {
            Self::NextNodeNotFound(ed) | Self::NextNodeUnreachable(ed) => Some(ed),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_relay_error_reads_back() {
        let ed = "ab".repeat(32);
        let all = [
            RelayError::Undecryptable,
            RelayError::UnknownEncType,
            RelayError::Invalid("too many onion hops".into()),
            RelayError::NextNodeNotFound(ed.clone()),
            RelayError::NextNodeUnreachable(ed.clone()),
            RelayError::Timeout,
            RelayError::InvalidResponse,
            RelayError::ServerNotListed,
        ];
        for e in all {
            assert_eq!(RelayError::parse(e.status(), &e.text()), Some(e.clone()));
            assert_eq!(
                RelayError::parse(e.status(), &format!("{}\n", e.text())),
                Some(e)
            );
        }
        assert_eq!(
            RelayError::parse(502, &format!("{NOT_FOUND}{ed}"))
                .unwrap()
                .named_node(),
            Some(ed.as_str())
        );
        assert_eq!(RelayError::parse(502, "Next node not found: zz"), None);
        assert_eq!(RelayError::parse(500, TIMEOUT), None, "status must match");
        assert_eq!(RelayError::parse(502, ""), None);
    }
}
