//! Padding and encryption of config messages (SESSION-ATTACHMENTS-CONFIG.md §B.8). The nonce is
//! derived from the message, so a plaintext always encrypts to the same bytes (two devices
//! pushing the same merge store one message).

use zeroize::Zeroizing;

use crate::crypto;
use crate::error::{Error, Result};

/// What encryption adds: the tag and the nonce.
pub const OVERHEAD: usize = 40;
const NONCE_KEY_PREFIX: &[u8] = b"libsessionutil-config-encrypted-";

/// The encryption domains of the types Murmur uses.
pub const DOMAIN_USER_GROUPS: &[u8] = b"UserGroups";
pub const DOMAIN_USER_PROFILE: &[u8] = b"UserProfile";
pub const DOMAIN_GROUP_INFO: &[u8] = b"groups::Info";
pub const DOMAIN_GROUP_MEMBERS: &[u8] = b"groups::Members";

/// The padded size of a message of `len` bytes: with the 40 bytes of encryption, a multiple
/// of 256 below 5 KiB, of 1 KiB below 20 KiB, 2 KiB below 40 KiB, else 5 KiB.
pub fn padded_size(len: usize) -> usize {
    let with = len + OVERHEAD;
    let chunk = match with {
        0..5120 => 256,
        5120..20480 => 1024,
        20480..40960 => 2048,
        _ => 5120,
    };
    with.div_ceil(chunk) * chunk - OVERHEAD
}

/// Zero bytes in front of `msg` up to its padded size.
pub fn pad(msg: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; padded_size(msg.len()) - msg.len()];
    out.extend_from_slice(msg);
    out
}

/// Largest config message read (decompressed): the network's 76,800-byte limit, with room for
/// what compression saved.
pub const MAX_MESSAGE: usize = 1_000_000;

/// What is encrypted for a serialised message: `'z' || zstd(msg)` when strictly shorter (as
/// libsession does), padded.
pub fn prepare(msg: &[u8]) -> Vec<u8> {
    match crate::zstd::compress_if_shorter(msg) {
        Some(z) if z.len() + 1 < msg.len() => pad(&[b"z".as_slice(), &z].concat()),
        _ => pad(msg),
    }
}

fn key_of(key_base: &[u8; 32], len: usize, domain: &[u8]) -> Zeroizing<[u8; 32]> {
    Zeroizing::new(
        crypto::blake2b(
            32,
            &[],
            &[],
            &[key_base, &(len as u64).to_be_bytes(), domain],
        )
        .try_into()
        .expect("32 bytes asked for"),
    )
}

/// Encrypts a padded message: `ciphertext || tag || nonce`.
pub fn encrypt(key_base: &[u8; 32], domain: &[u8], msg: &[u8]) -> Vec<u8> {
    assert!(
        (1..=24).contains(&domain.len()),
        "a config domain is 1 to 24 bytes"
    );
    let nonce: [u8; 24] = crypto::blake2b(24, &[NONCE_KEY_PREFIX, domain].concat(), &[], &[msg])
        .try_into()
        .expect("24 bytes asked for");
    let mut out =
        crypto::xchacha_seal_with_nonce(&key_of(key_base, msg.len(), domain), &nonce, msg);
    out.extend_from_slice(&nonce);
    out
}

/// Decrypts, then strips the leading zero padding and decompresses a `'z'` message. Multipart
/// (`'m'`, newer libsession, for configs over 76,800 bytes) is refused: Murmur writes none.
pub fn decrypt(key_base: &[u8; 32], domain: &[u8], data: &[u8]) -> Result<Vec<u8>> {
    if data.len() < OVERHEAD {
        return Err(Error::Malformed("config: too short"));
    }
    let (ct, nonce) = data.split_at(data.len() - 24);
    let nonce: [u8; 24] = nonce.try_into().expect("24 bytes split off");
    let plain = crypto::xchacha_open_with_nonce(
        &key_of(key_base, data.len() - OVERHEAD, domain),
        &nonce,
        ct,
    )?;
    let start = plain.iter().position(|&b| b != 0).unwrap_or(plain.len());
    let msg = match plain.get(start) {
        Some(b'z') => crate::zstd::decompress(&plain[start + 1..], MAX_MESSAGE)
            .map_err(|_| Error::Malformed("config: bad or oversized compressed data"))?,
        Some(b'd') => plain[start..].to_vec(),
        Some(b'm') => return Err(Error::Malformed("config: multipart is not supported")),
        _ => return Err(Error::Malformed("config: not a config message")),
    };
    if msg.first() != Some(&b'd') {
        return Err(Error::Malformed("config: not a config message"));
    }
    Ok(msg)
}
