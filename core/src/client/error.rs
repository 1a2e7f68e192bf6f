//! Errors of the client engine. Like core's [`crate::Error`], messages never carry Session IDs,
//! keys or message text: they are shown to users and may reach logs.

use thiserror::Error;

use super::platform::StoreError;
use crate::error::ManifestError;

/// Why a client operation failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ClientError {
    /// No seed node answered (or every answer was unusable and no manifest is held).
    #[error("cannot reach the network: none of the {seeds} seed node(s) answered")]
    Unreachable { seeds: usize },
    /// Seeds answered, but with a manifest that cannot be accepted.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// Every attempt failed on the way (paths or swarm members down).
    #[error("request failed after {attempts} attempts: {last}")]
    Exhausted { attempts: u32, last: String },
    /// A node refused the request itself (bad request, auth, TTL); retrying will not help.
    #[error("refused by the node ({status}): {reason}")]
    Refused { status: u16, reason: String },
    /// The recipient's swarm holds as much for them as it allows (every member said so).
    #[error("their mailbox is full; try later")]
    MailboxFull,
    /// The text is longer than a message may be ([`super::MAX_TEXT_BYTES`]).
    #[error("message too long: at most {max} bytes of text")]
    TooLong { max: usize },
    /// The recipient is not a valid Session ID.
    #[error("invalid recipient: {0}")]
    InvalidRecipient(&'static str),
    /// A protocol-level failure (malformed reply, bad signature).
    #[error(transparent)]
    Protocol(#[from] crate::Error),
    /// The network lists no file server, so files cannot be sent.
    #[error("this network has no file server: files cannot be sent")]
    NoFileServer,
    /// A file URL names a file server the network's manifest does not list.
    #[error("the file is on a server this network does not list")]
    UnknownFileServer,
    /// The file is larger than a file may be.
    #[error("the file is too large: at most {} MB", max / 1_000_000)]
    FileTooLarge { max: u64 },
    /// The file is empty.
    #[error("the file is empty")]
    EmptyFile,
    /// The file server no longer has the file (expired or never there).
    #[error("the file is no longer available")]
    FileGone,
    /// The file server is full, or this sender's share of it is.
    #[error("the file server is full; try later")]
    FileServerFull,
    /// The file being sent could not be read.
    #[error("the file could not be read: {0}")]
    FileSource(String),
    /// A received file could not be written where it was going.
    #[error("the file could not be saved: {0}")]
    FileSink(String),
    /// No group with this ID is known here.
    #[error("no such group here (see the list of groups)")]
    UnknownGroup,
    /// Only a group's admins may do this.
    #[error("only an admin of the group can do this")]
    NotAdmin,
    /// A group operation that cannot be done in the group's state.
    #[error("{0}")]
    Group(&'static str),
    /// The platform's store failed.
    #[error("client storage failed: {}", .0.0)]
    Store(StoreError),
}

impl From<StoreError> for ClientError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// Result alias for the client engine.
pub type ClientResult<T> = core::result::Result<T, ClientError>;
