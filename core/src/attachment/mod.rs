//! Attachment encryption, Session's deterministic "S" format (SESSION-ATTACHMENTS-CONFIG.md A.1).
//!
//! A file is encrypted with a key and secretstream header derived from the file itself and
//! the uploader's seed: `nk = BLAKE2b-56(plaintext; key = seed[..32], pers = domain)`, header
//! `nk[..24]`, key `nk[24..]`. The same file from the same sender encrypts to the same bytes,
//! which lets a file server keep one copy and a profile picture re-upload to the same ID.
//!
//! The encrypted file is `'S' || header || chunk…`: the plaintext, preceded by `pad - 1` zero
//! bytes and a `0x01` ([`encrypted_padding`] sizes the padding so the result lands on a coarse
//! size grid), is cut into 32 KiB pieces, each one secretstream message (the last one tagged
//! FINAL). Everything here streams: [`KeyHasher`] takes the file in pieces for the key, then an
//! [`Encryptor`] and a [`Decryptor`] take and give pieces of any size, so a 100 MB file never
//! has to be in memory whole.

pub mod secretstream;

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use secretstream::{ABYTES, HEADER_BYTES, State, TAG_FINAL, TAG_MESSAGE};

/// The format byte every encrypted attachment starts with.
pub const FORMAT_S: u8 = b'S';
/// Plaintext bytes per secretstream message.
pub const CHUNK_SIZE: usize = 32_768;
/// Encrypted bytes per message: a chunk and its 17 bytes of tag and MAC.
pub const ENCRYPTED_CHUNK_SIZE: usize = CHUNK_SIZE + ABYTES;
/// Largest plaintext Session encrypts without its `allow_large` flag (10,223,616 bytes once
/// encrypted): what one upload to a file server may carry.
pub const MAX_REGULAR_SIZE: u64 = 10_218_286;
/// `'S'` and the header.
const PREFIX: usize = 1 + HEADER_BYTES;

/// What an encrypted file is for: each domain derives its keys under its own personalisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    /// A file sent in a message.
    Attachment,
    /// A profile picture.
    ProfilePicture,
}

impl Domain {
    fn personalisation(self) -> &'static [u8; 16] {
        match self {
            Self::Attachment => b"SessionAttachmnt",
            Self::ProfilePicture => b"Session_Prof_Pic",
        }
    }
}

/// How many padding bytes (the zeros and the final `0x01`) go in front of `len` bytes of
/// plaintext, by libsession's `encrypted_padding`: at least 1, and enough that the encrypted
/// size is a multiple of a step that grows with the size (4 KiB up to 128 KiB, then 1/32 of
/// the size rounded to a power of two).
pub fn encrypted_padding(len: u64) -> u64 {
    let chunk = CHUNK_SIZE as u64;
    let overhead = ABYTES as u64;
    let chunks = len.div_ceil(chunk);
    let enc = len + 1 + HEADER_BYTES as u64 + 1 + overhead * chunks;
    let floor = bit_floor(enc.max(131_072)) >> 5;
    let padded = enc.div_ceil(floor) * floor;
    let padding = padded - enc + 1;
    // The padding may itself need more chunks (each with 17 bytes of overhead): take those
    // bytes back out of it so the total still lands on the grid.
    let encrypted_chunk = ENCRYPTED_CHUNK_SIZE as u64;
    let mut implicit = 0;
    if padding >= encrypted_chunk {
        implicit = padding / encrypted_chunk * overhead;
    }
    let free = chunks * chunk - len;
    if padding % encrypted_chunk > free {
        implicit += overhead;
    }
    padding - implicit
}

fn bit_floor(v: u64) -> u64 {
    if v == 0 {
        0
    } else {
        1 << (63 - v.leading_zeros())
    }
}

/// The size of `len` bytes of plaintext once encrypted.
pub fn encrypted_size(len: u64) -> u64 {
    let stream = len + encrypted_padding(len);
    PREFIX as u64 + stream + ABYTES as u64 * stream.div_ceil(CHUNK_SIZE as u64)
}

/// The most plaintext an encrypted file of `len` bytes can hold (its padding included), or
/// `None` when it is too short to be one.
pub fn decrypted_max_size(len: u64) -> Option<u64> {
    let stream = len.checked_sub(PREFIX as u64 + 1)?;
    let chunks = stream.div_ceil(ENCRYPTED_CHUNK_SIZE as u64);
    stream.checked_sub(chunks * ABYTES as u64)
}

/// The key (and secretstream header) a file encrypts under; the key is what a message's
/// `AttachmentPointer.key` carries.
#[derive(Clone, PartialEq, Eq)]
pub struct AttachmentKey {
    pub key: Zeroizing<[u8; 32]>,
    pub header: [u8; HEADER_BYTES],
}

impl std::fmt::Debug for AttachmentKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AttachmentKey(..)")
    }
}

/// Hashes a file, in pieces, into the key it encrypts under.
pub struct KeyHasher {
    mac: blake2::Blake2bMac<blake2::digest::consts::U56>,
}

impl std::fmt::Debug for KeyHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyHasher(..)")
    }
}

impl KeyHasher {
    /// For a file of `domain` uploaded by the holder of `seed` (its first 32 bytes are used).
    pub fn new(seed: &[u8], domain: Domain) -> Result<Self> {
        let key = seed.get(..32).ok_or(Error::Malformed(
            "the attachment seed is shorter than 32 bytes",
        ))?;
        let mac = blake2::Blake2bMac::new_with_salt_and_personal(
            Some(key),
            &[],
            domain.personalisation(),
        )
        .expect("a 32-byte key and a 16-byte personalisation");
        Ok(Self { mac })
    }

    pub fn update(&mut self, data: &[u8]) {
        blake2::digest::Mac::update(&mut self.mac, data);
    }

    pub fn finish(self) -> AttachmentKey {
        use blake2::digest::Mac as _;
        use zeroize::Zeroize as _;
        let mut nk = [0u8; 56];
        nk.copy_from_slice(&self.mac.finalize().into_bytes());
        let mut header = [0u8; HEADER_BYTES];
        header.copy_from_slice(&nk[..HEADER_BYTES]);
        let mut key = Zeroizing::new([0u8; 32]);
        key.copy_from_slice(&nk[HEADER_BYTES..]);
        nk.zeroize();
        AttachmentKey { key, header }
    }
}

/// Encrypts a file of a length known up front, in pieces of any size.
#[derive(Debug)]
pub struct Encryptor {
    state: State,
    /// Stream bytes (padding, then plaintext) not yet pushed: at most one chunk.
    pending: Vec<u8>,
    /// Stream bytes still to come after `pending`.
    remaining: u64,
}

impl Encryptor {
    /// Starts a file of `len` plaintext bytes; returns the encryptor and the first bytes of the
    /// encrypted file (`'S'`, the header, and any chunks of padding already complete).
    pub fn new(key: &AttachmentKey, len: u64) -> (Self, Vec<u8>) {
        let padding = encrypted_padding(len);
        let mut encryptor = Self {
            state: State::new(&key.key, &key.header),
            pending: Vec::with_capacity(CHUNK_SIZE),
            remaining: len + padding,
        };
        let mut out = Vec::with_capacity(PREFIX + ENCRYPTED_CHUNK_SIZE);
        out.push(FORMAT_S);
        out.extend_from_slice(&key.header);
        let zeros = [0u8; 4096];
        let mut left = padding - 1;
        while left > 0 {
            let n = left.min(zeros.len() as u64) as usize;
            encryptor.take(&zeros[..n], &mut out);
            left -= n as u64;
        }
        encryptor.take(&[0x01], &mut out);
        (encryptor, out)
    }

    /// Encrypts the next `data` of the file, appending whole encrypted chunks to `out`.
    /// More bytes than the length given at the start are refused.
    pub fn update(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<()> {
        if data.len() as u64 > self.remaining {
            return Err(Error::Malformed("more bytes than the file's length"));
        }
        self.take(data, out);
        Ok(())
    }

    fn take(&mut self, mut data: &[u8], out: &mut Vec<u8>) {
        while !data.is_empty() {
            let n = (CHUNK_SIZE - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..n]);
            self.remaining -= n as u64;
            data = &data[n..];
            // A full chunk goes out at once unless it is the last (that one is FINAL).
            if self.pending.len() == CHUNK_SIZE && self.remaining > 0 {
                self.state.push(&self.pending, TAG_MESSAGE, out);
                self.pending.clear();
            }
        }
    }

    /// Ends the file: appends its last (FINAL) chunk. Fewer bytes than the length given at
    /// the start are refused.
    pub fn finish(mut self, out: &mut Vec<u8>) -> Result<()> {
        if self.remaining != 0 {
            return Err(Error::Malformed("fewer bytes than the file's length"));
        }
        self.state.push(&self.pending, TAG_FINAL, out);
        Ok(())
    }
}

/// Encrypts `data` whole: its key, and the encrypted file.
pub fn encrypt(seed: &[u8], domain: Domain, data: &[u8]) -> Result<(AttachmentKey, Vec<u8>)> {
    let mut hasher = KeyHasher::new(seed, domain)?;
    hasher.update(data);
    let key = hasher.finish();
    let (mut encryptor, mut out) = Encryptor::new(&key, data.len() as u64);
    out.reserve(encrypted_size(data.len() as u64) as usize - out.len());
    encryptor.update(data, &mut out)?;
    encryptor.finish(&mut out)?;
    Ok((key, out))
}

/// Decrypts an encrypted file given in pieces of any size: plaintext comes out as each chunk
/// verifies, padding removed. A chunk that does not verify, a stream that goes on after its
/// FINAL chunk or ends without one, and bad padding are all refused.
#[derive(Debug)]
pub struct Decryptor {
    key: Zeroizing<[u8; 32]>,
    state: Option<State>,
    /// Encrypted bytes not yet decrypted.
    buffer: Vec<u8>,
    /// Whether the padding has been passed.
    in_data: bool,
    finished: bool,
}

impl Decryptor {
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            key: Zeroizing::new(*key),
            state: None,
            buffer: Vec::new(),
            in_data: false,
            finished: false,
        }
    }

    /// Takes the next encrypted bytes, appending what decrypts to `out`.
    pub fn update(&mut self, mut data: &[u8], out: &mut Vec<u8>) -> Result<()> {
        if self.finished && !data.is_empty() {
            return Err(Error::Malformed("attachment data after its final chunk"));
        }
        if self.state.is_none() {
            let n = (PREFIX - self.buffer.len()).min(data.len());
            self.buffer.extend_from_slice(&data[..n]);
            data = &data[n..];
            if self.buffer.len() < PREFIX {
                return Ok(());
            }
            if self.buffer[0] != FORMAT_S {
                return Err(Error::UnknownEncType);
            }
            let mut header = [0u8; HEADER_BYTES];
            header.copy_from_slice(&self.buffer[1..PREFIX]);
            self.state = Some(State::new(&self.key, &header));
            self.buffer.clear();
        }
        while !data.is_empty() {
            // A full-size chunk may be the last one: decrypt it once it is whole and let its
            // tag say so.
            let n = (ENCRYPTED_CHUNK_SIZE - self.buffer.len()).min(data.len());
            self.buffer.extend_from_slice(&data[..n]);
            data = &data[n..];
            if self.buffer.len() == ENCRYPTED_CHUNK_SIZE {
                self.open_chunk(out)?;
                if self.finished && !data.is_empty() {
                    return Err(Error::Malformed("attachment data after its final chunk"));
                }
            }
        }
        Ok(())
    }

    fn open_chunk(&mut self, out: &mut Vec<u8>) -> Result<()> {
        let state = self
            .state
            .as_mut()
            .ok_or(Error::Malformed("attachment too short"))?;
        let start = out.len();
        let tag = state.pull(&self.buffer, out)?;
        self.buffer.clear();
        self.finished = tag == TAG_FINAL;
        if !self.in_data {
            // Leading zeros, then 0x01, then the file: the padding may span whole chunks.
            let skip = out[start..].iter().take_while(|&&b| b == 0).count();
            match out.get(start + skip) {
                Some(0x01) => {
                    out.drain(start..start + skip + 1);
                    self.in_data = true;
                }
                Some(_) => {
                    out.truncate(start);
                    return Err(Error::Malformed("attachment padding is invalid"));
                }
                None => out.truncate(start),
            }
        }
        Ok(())
    }

    /// Ends the stream: decrypts its last chunk, which must be the FINAL one.
    pub fn finish(mut self, out: &mut Vec<u8>) -> Result<()> {
        if !self.finished {
            if self.state.is_none() || self.buffer.is_empty() {
                return Err(Error::Malformed("attachment cut short"));
            }
            self.open_chunk(out)?;
        }
        if !self.finished || !self.buffer.is_empty() {
            return Err(Error::Malformed("attachment cut short"));
        }
        if !self.in_data {
            return Err(Error::Malformed("attachment padding is invalid"));
        }
        Ok(())
    }
}

/// Decrypts a whole encrypted file with `key`; `size`, when given (the pointer's size), is the
/// file's length: extra bytes are dropped, fewer are an error.
pub fn decrypt(key: &[u8; 32], data: &[u8], size: Option<u64>) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(decrypted_max_size(data.len() as u64).unwrap_or(0) as usize);
    let mut decryptor = Decryptor::new(key);
    decryptor.update(data, &mut out)?;
    decryptor.finish(&mut out)?;
    if let Some(size) = size {
        let size = usize::try_from(size).map_err(|_| Error::Malformed("attachment size"))?;
        if out.len() < size {
            return Err(Error::Malformed("attachment shorter than its stated size"));
        }
        out.truncate(size);
    }
    Ok(out)
}
