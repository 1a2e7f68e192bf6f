//! The one error type of murmur-core.
//!
//! Callers branch on the variant, never on the message. Messages are short and never carry key
//! material, recovery words, Session IDs or plaintext: they may end up in a log or on a screen.

use thiserror::Error;

/// Everything that can go wrong in murmur-core.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// Input that does not have the shape the protocol requires (length, prefix, encoding).
    #[error("malformed input: {0}")]
    Malformed(&'static str),
    /// A public key that is not a valid curve point (or is of small order).
    #[error("invalid public key")]
    InvalidKey,
    /// Authenticated decryption failed: wrong key, or the ciphertext was altered.
    #[error("decryption failed")]
    DecryptionFailed,
    /// A signature that does not verify.
    #[error("bad signature")]
    BadSignature,
    /// A protocol limit was exceeded (size, count, hops, TTL).
    #[error("limit exceeded: {0}")]
    LimitExceeded(&'static str),
    /// An onion layer named an encryption type this implementation does not speak.
    #[error("unknown encryption type")]
    UnknownEncType,
    /// A recovery phrase that cannot be decoded.
    #[error(transparent)]
    Mnemonic(#[from] MnemonicError),
    /// A network manifest that cannot be accepted.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
}

/// Why a network manifest was refused (DESIGN.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// Signed by a key other than the pinned operator key.
    #[error("manifest is not signed by this network's operator key")]
    WrongOperator,
    /// The signature does not match the content (tampered or corrupted).
    #[error("manifest signature does not verify (tampered or corrupted)")]
    BadSignature,
    /// Not newer than the manifest already held (a replay or a rollback).
    #[error("manifest sequence {offered} is not newer than the held sequence {held}")]
    NotNewer { held: u64, offered: u64 },
    /// Structurally unusable.
    #[error("invalid manifest: {0}")]
    Invalid(&'static str),
    /// Written in a newer manifest format than this build understands.
    #[error(
        "the network manifest is version {offered}; this Murmur understands up to version {supported}: update it"
    )]
    UnsupportedVersion { offered: u32, supported: u32 },
    /// Past its expiry, and the seeds have no newer one.
    #[error(
        "this network's manifest expired on {} (UTC) and no newer one is available: its operator must sign a new one",
        crate::network::utc_date(*at_ms)
    )]
    Expired { at_ms: u64 },
}

/// Why a recovery phrase was refused. Positions are 1-based, as a user counts words; the words
/// themselves are never included, since they are secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MnemonicError {
    /// The phrase does not have 13 words (or 25 for a 32-byte seed).
    #[error("a recovery phrase has 13 words; this one has {0}")]
    WrongLength(usize),
    /// A word is not in the word list (matched by its first letters).
    #[error("word {0} is not in the recovery word list")]
    UnknownWord(usize),
    /// The last word does not match the others: a word is wrong or out of order.
    #[error("the checksum word does not match; check the words and their order")]
    BadChecksum,
    /// A group of three words does not encode a valid 32-bit value.
    #[error("words {0} to {1} do not form a valid group")]
    InvalidGroup(usize, usize),
    /// Bytes to encode are not a whole number of 4-byte chunks (or empty).
    #[error("only whole 4-byte chunks can be encoded")]
    UnalignedInput,
    /// The word list has not been loaded yet (the web app fetches it when a screen needs it).
    #[error("the recovery word list is not loaded")]
    WordlistNotInstalled,
    /// A copy of the word list that is not the English list byte for byte.
    #[error("the recovery word list does not match this version of Murmur; reload the page")]
    WordlistMismatch,
}

/// Result alias for murmur-core.
pub type Result<T> = core::result::Result<T, Error>;
