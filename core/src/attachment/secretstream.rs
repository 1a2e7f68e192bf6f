//! libsodium's `crypto_secretstream_xchacha20poly1305`, the stream cipher of Session's attachment
//! encryption (SESSION-ATTACHMENTS-CONFIG.md A.1), over RustCrypto's ChaCha20 and Poly1305 (the
//! same crates the rest of core uses, so the wasm bundle carries one ChaCha20).
//!
//! A stream is keyed by a 32-byte key and a 24-byte header: `k = HChaCha20(key, header[..16])`,
//! a 32-bit block counter starting at 1 and an 8-byte `inonce = header[16..]`. Each message
//! `m` with a tag byte becomes `E(tag) || E(m) || mac` (17 bytes more than `m`), where the
//! ChaCha20-IETF nonce is `counter_le || inonce`, block 0 keys Poly1305, block 1 encrypts the
//! tag block and blocks 2… encrypt `m`. The MAC is libsodium's exact byte string: the 64-byte
//! tag block, the ciphertext, `len(m) mod 16` zero bytes (libsodium's padding expression
//! reduces to that), then `le64(0) || le64(64 + len(m))`. Afterwards `inonce ^= mac[..8]`,
//! the counter moves on, and a tag with the REKEY bit (FINAL has it) or a wrapped counter
//! re-keys the state. libsodium itself picks a random header in `init_push`; Session derives
//! the header, so a stream here always starts from a given one.

use chacha20::ChaCha20;
use chacha20::cipher::{KeyIvInit as _, StreamCipher as _};
use poly1305::Poly1305;
use poly1305::universal_hash::{KeyInit as _, UniversalHash as _};
use subtle::ConstantTimeEq as _;
use zeroize::Zeroize as _;

use crate::error::{Error, Result};

/// Header bytes.
pub const HEADER_BYTES: usize = 24;
/// Bytes a message grows by: the encrypted tag byte and the 16-byte MAC.
pub const ABYTES: usize = 17;
/// An ordinary message.
pub const TAG_MESSAGE: u8 = 0x00;
/// The last message of the stream (it also re-keys).
pub const TAG_FINAL: u8 = 0x03;
const TAG_REKEY: u8 = 0x02;

/// One direction of a stream: the state both push and pull keep.
pub struct State {
    k: [u8; 32],
    counter: u32,
    inonce: [u8; 8],
}

impl Drop for State {
    fn drop(&mut self) {
        self.k.zeroize();
        self.inonce.zeroize();
    }
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("State(..)")
    }
}

/// Poly1305 over a byte string given in pieces (libsodium's `crypto_onetimeauth_update`):
/// whole 16-byte blocks go in as they fill, the tail at the end.
struct Mac {
    poly: Poly1305,
    partial: [u8; 16],
    filled: usize,
}

impl Mac {
    fn new(key: &[u8]) -> Self {
        Self {
            poly: Poly1305::new_from_slice(key).expect("a Poly1305 key is 32 bytes"),
            partial: [0; 16],
            filled: 0,
        }
    }

    fn update(&mut self, mut data: &[u8]) {
        if self.filled > 0 {
            let take = (16 - self.filled).min(data.len());
            self.partial[self.filled..self.filled + take].copy_from_slice(&data[..take]);
            self.filled += take;
            data = &data[take..];
            if self.filled < 16 {
                return;
            }
            self.poly.update(&[self.partial.into()]);
            self.filled = 0;
        }
        let whole = data.len() / 16 * 16;
        let (blocks, tail) = data.split_at(whole);
        for block in blocks.chunks_exact(16) {
            let block: [u8; 16] = block.try_into().expect("chunks of 16");
            self.poly.update(&[block.into()]);
        }
        self.partial[..tail.len()].copy_from_slice(tail);
        self.filled = tail.len();
    }

    fn finish(self) -> [u8; 16] {
        self.poly
            .compute_unpadded(&self.partial[..self.filled])
            .into()
    }
}

impl State {
    /// The state a stream keyed by `key` with `header` starts in (push and pull alike).
    pub fn new(key: &[u8; 32], header: &[u8; HEADER_BYTES]) -> Self {
        let mut hchacha_input = [0u8; 16];
        hchacha_input.copy_from_slice(&header[..16]);
        let k = chacha20::hchacha::<chacha20::R20>(&(*key).into(), &hchacha_input.into());
        let mut inonce = [0u8; 8];
        inonce.copy_from_slice(&header[16..]);
        Self {
            k: k.into(),
            counter: 1,
            inonce,
        }
    }

    fn cipher(&self) -> ChaCha20 {
        let mut nonce = [0u8; 12];
        nonce[..4].copy_from_slice(&self.counter.to_le_bytes());
        nonce[4..].copy_from_slice(&self.inonce);
        ChaCha20::new(&self.k.into(), &nonce.into())
    }

    /// Block 0 keys the MAC; the cipher is left at block 1.
    fn mac_and_cipher(&self) -> (Mac, ChaCha20) {
        let mut cipher = self.cipher();
        let mut block0 = [0u8; 64];
        cipher.apply_keystream(&mut block0);
        let mac = Mac::new(&block0[..32]);
        block0.zeroize();
        (mac, cipher)
    }

    /// Absorbs the ciphertext's padding and lengths, and moves the state past this message.
    fn finish_message(&mut self, mut mac: Mac, message_len: usize, tag: u8) -> [u8; 16] {
        mac.update(&[0u8; 16][..message_len % 16]);
        mac.update(&0u64.to_le_bytes());
        mac.update(&(64 + message_len as u64).to_le_bytes());
        let tag_bytes = mac.finish();
        for (n, m) in self.inonce.iter_mut().zip(&tag_bytes) {
            *n ^= m;
        }
        self.counter = self.counter.wrapping_add(1);
        if tag & TAG_REKEY != 0 || self.counter == 0 {
            self.rekey();
        }
        tag_bytes
    }

    fn rekey(&mut self) {
        let mut next = [0u8; 40];
        next[..32].copy_from_slice(&self.k);
        next[32..].copy_from_slice(&self.inonce);
        self.cipher().apply_keystream(&mut next);
        self.k.copy_from_slice(&next[..32]);
        self.inonce.copy_from_slice(&next[32..]);
        self.counter = 1;
        next.zeroize();
    }

    /// Encrypts `message` with `tag`, appending `E(tag) || E(message) || mac` to `out`.
    pub fn push(&mut self, message: &[u8], tag: u8, out: &mut Vec<u8>) {
        let (mut mac, mut cipher) = self.mac_and_cipher();
        let mut block = [0u8; 64];
        block[0] = tag;
        cipher.apply_keystream(&mut block);
        mac.update(&block);
        out.push(block[0]);
        let start = out.len();
        out.extend_from_slice(message);
        cipher.apply_keystream(&mut out[start..]);
        mac.update(&out[start..]);
        let tag_bytes = self.finish_message(mac, message.len(), tag);
        out.extend_from_slice(&tag_bytes);
    }

    /// Decrypts one encrypted message (`E(tag) || E(m) || mac`), appending `m` to `out`;
    /// returns its tag. A MAC that does not verify leaves `out` and the state as they were.
    pub fn pull(&mut self, encrypted: &[u8], out: &mut Vec<u8>) -> Result<u8> {
        if encrypted.len() < ABYTES {
            return Err(Error::Malformed("secretstream message too short"));
        }
        let (mut mac, mut cipher) = self.mac_and_cipher();
        let mut block = [0u8; 64];
        block[0] = encrypted[0];
        cipher.apply_keystream(&mut block);
        let tag = block[0];
        block[0] = encrypted[0];
        mac.update(&block);
        let body = &encrypted[1..encrypted.len() - 16];
        mac.update(body);
        // The state moves only once the MAC verifies: work on a copy until then.
        let mut next = Self {
            k: self.k,
            counter: self.counter,
            inonce: self.inonce,
        };
        let expected = next.finish_message(mac, body.len(), tag);
        if !bool::from(expected.ct_eq(&encrypted[encrypted.len() - 16..])) {
            return Err(Error::DecryptionFailed);
        }
        let start = out.len();
        out.extend_from_slice(body);
        cipher.apply_keystream(&mut out[start..]);
        std::mem::swap(self, &mut next);
        Ok(tag)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn push_then_pull_round_trips_and_rekeys_on_final() {
        let key = [7u8; 32];
        let header = [9u8; 24];
        let mut push = State::new(&key, &header);
        let mut wire = Vec::new();
        let messages: [&[u8]; 4] = [b"", b"a", &[1u8; 100], &[2u8; 33]];
        let mut lens = Vec::new();
        for (i, m) in messages.iter().enumerate() {
            let tag = if i == messages.len() - 1 {
                TAG_FINAL
            } else {
                TAG_MESSAGE
            };
            let before = wire.len();
            push.push(m, tag, &mut wire);
            assert_eq!(wire.len() - before, m.len() + ABYTES);
            lens.push(m.len() + ABYTES);
        }
        let mut pull = State::new(&key, &header);
        let mut at = 0;
        for (i, (m, len)) in messages.iter().zip(&lens).enumerate() {
            let mut out = Vec::new();
            let tag = pull.pull(&wire[at..at + len], &mut out).unwrap();
            assert_eq!(out, *m);
            assert_eq!(tag == TAG_FINAL, i == messages.len() - 1);
            at += len;
        }
    }

    #[test]
    fn a_flipped_bit_fails_and_leaves_the_state() {
        let (key, header) = ([1u8; 32], [2u8; 24]);
        let mut push = State::new(&key, &header);
        let mut wire = Vec::new();
        push.push(b"hello", TAG_MESSAGE, &mut wire);
        let good = wire.clone();
        let mut pull = State::new(&key, &header);
        for i in 0..wire.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x20;
            let mut out = Vec::new();
            assert_eq!(pull.pull(&bad, &mut out), Err(Error::DecryptionFailed));
            assert!(out.is_empty());
        }
        let mut out = Vec::new();
        assert_eq!(pull.pull(&good, &mut out), Ok(TAG_MESSAGE));
        assert_eq!(out, b"hello");
    }
}
