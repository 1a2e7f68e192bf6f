//! The recovery phrase: Session's Monero-style mnemonic over a 1626-word list.
//!
//! Every 4 bytes (a little-endian u32 `x`) become three words `a, b, c` with
//! `a = x mod n`, `b = (x/n + a) mod n`, `c = (x/n/n + b) mod n` (n = 1626). A last checksum word
//! repeats one of the seed words: the one at `crc32(first 3 letters of every word) mod words`.
//! Words are matched by their first three letters, case-insensitively, so a typo after the
//! prefix is forgiven. (SESSION-PROTOCOL.md §1.4.)

use std::sync::OnceLock;

use blake2::digest::{Digest, consts::U32};

use crate::error::MnemonicError;

/// How many letters of a word identify it in the English list.
pub const PREFIX_LEN: usize = 3;

const N: u64 = 1626;

/// BLAKE2b-256 of `wordlist_english.txt`. The web app fetches the list only when a screen needs
/// it (~6 KB gzip out of the start-up wasm) and [`install`] checks it against this, so a stale
/// or altered copy is refused rather than turning a phrase into the wrong account.
pub const WORDLIST_BLAKE2B_256: [u8; 32] = [
    0xe6, 0x37, 0x06, 0xd5, 0xc9, 0x5f, 0x08, 0xfd, 0x44, 0xe0, 0x01, 0xf1, 0x2d, 0xd6, 0x0d, 0x24,
    0xa1, 0x2b, 0xc0, 0xc7, 0x20, 0x06, 0x52, 0x47, 0x2a, 0x63, 0x17, 0x35, 0xec, 0x76, 0xa6, 0xc8,
];

/// The file name the list is served under beside the web app's bundle.
pub const WORDLIST_FILE: &str = "wordlist_english.txt";

/// The list compiled in (feature `embedded-wordlist`: the CLI, tests and tools).
#[cfg(feature = "embedded-wordlist")]
pub const EMBEDDED_WORDLIST: &str = include_str!("wordlist_english.txt");

/// zlib's CRC-32 (ISO-HDLC), as Session computes the checksum word.
const CRC_32: crc::Crc<u32, crc::Table<1>> =
    crc::Crc::<u32, crc::Table<1>>::new(&crc::CRC_32_ISO_HDLC);

/// The list as a slice, split once: lookups run on every keystroke of the restore form.
/// (Every word is lowercase ASCII with at least 4 letters, so `&w[..PREFIX_LEN]` is its prefix.)
static WORDS: OnceLock<Vec<&'static str>> = OnceLock::new();

/// Checks a copy of the word list against [`WORDLIST_BLAKE2B_256`].
fn check(text: &str) -> Result<(), MnemonicError> {
    let digest = blake2::Blake2b::<U32>::digest(text.as_bytes());
    (digest.as_slice() == WORDLIST_BLAKE2B_256)
        .then_some(())
        .ok_or(MnemonicError::WordlistMismatch)
}

/// Makes `text` the word list, once it is checked to be the English list byte for byte.
/// Installing it again (or with `embedded-wordlist`) checks the copy and changes nothing.
pub fn install(text: String) -> Result<(), MnemonicError> {
    check(&text)?;
    if WORDS.get().is_none() {
        // Kept for the life of the program, like a compiled-in list (11 KB, installed once).
        let text: &'static str = Box::leak(text.into_boxed_str());
        let _ = WORDS.set(text.lines().collect());
    }
    Ok(())
}

/// True once the list can be used (always, with `embedded-wordlist`).
pub fn is_installed() -> bool {
    words().is_ok()
}

fn words() -> Result<&'static [&'static str], MnemonicError> {
    #[cfg(feature = "embedded-wordlist")]
    let list = Some(WORDS.get_or_init(|| EMBEDDED_WORDLIST.lines().collect()));
    #[cfg(not(feature = "embedded-wordlist"))]
    let list = WORDS.get();
    list.map(Vec::as_slice)
        .ok_or(MnemonicError::WordlistNotInstalled)
}

fn word_at(list: &[&'static str], index: u64) -> &'static str {
    // Indices come from `mod 1626` on a list whose hash fixes it at exactly 1626 words.
    list.get(index as usize).copied().unwrap_or_default()
}

/// The English word list (1626 words, from the Monero project, MIT licence; see
/// `wordlist_english.LICENSE`).
pub fn wordlist() -> Result<impl Iterator<Item = &'static str> + Clone, MnemonicError> {
    Ok(words()?.iter().copied())
}

fn prefix(word: &str) -> String {
    // The list is ASCII, so ASCII case folding is all a match needs (and it keeps the
    // Unicode case tables out of the wasm bundle).
    word.chars()
        .take(PREFIX_LEN)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The index of a word by its first three letters; `None` if the word is shorter than that, no
/// word of the list starts the same way, or the list is not installed.
pub fn index_of(word: &str) -> Option<usize> {
    if word.chars().count() < PREFIX_LEN {
        return None;
    }
    let wanted = prefix(word);
    words()
        .ok()?
        .iter()
        .position(|w| w.get(..PREFIX_LEN) == Some(wanted.as_str()))
}

fn checksum_index(words: &[&str]) -> usize {
    let joined: String = words.iter().map(|w| prefix(w)).collect();
    (CRC_32.checksum(joined.as_bytes()) as usize) % words.len()
}

/// Encodes bytes (a multiple of 4, non-empty) as words, checksum word last.
pub fn encode(bytes: &[u8]) -> Result<Vec<&'static str>, MnemonicError> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(4) {
        return Err(MnemonicError::UnalignedInput);
    }
    let list = words()?;
    let mut words = Vec::with_capacity(bytes.len() / 4 * 3 + 1);
    for chunk in bytes.chunks_exact(4) {
        let x = u64::from(u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]));
        let a = x % N;
        let b = (x / N + a) % N;
        let c = (x / N / N + b) % N;
        for i in [a, b, c] {
            words.push(word_at(list, i));
        }
    }
    let checksum = words[checksum_index(&words)];
    words.push(checksum);
    Ok(words)
}

/// Decodes a phrase of 13 (or 25) words back to its 16 (or 32) bytes.
pub fn decode(phrase: &str) -> Result<Vec<u8>, MnemonicError> {
    let list = words()?;
    let words: Vec<&str> = phrase.split_whitespace().collect();
    if words.len() != 13 && words.len() != 25 {
        return Err(MnemonicError::WrongLength(words.len()));
    }
    let mut indices = Vec::with_capacity(words.len());
    for (i, word) in words.iter().enumerate() {
        indices.push(index_of(word).ok_or(MnemonicError::UnknownWord(i + 1))? as u64);
    }
    let (seed_indices, checksum) = indices.split_at(words.len() - 1);
    let seed_words: Vec<&str> = seed_indices.iter().map(|&i| word_at(list, i)).collect();
    if seed_indices[checksum_index(&seed_words)] != checksum[0] {
        return Err(MnemonicError::BadChecksum);
    }
    let mut bytes = Vec::with_capacity(seed_indices.len() / 3 * 4);
    for (group, triple) in seed_indices.chunks_exact(3).enumerate() {
        let (a, b, c) = (triple[0], triple[1], triple[2]);
        let x = a + N * ((N - a + b) % N) + N * N * ((N - b + c) % N);
        if x % N != a || x > u64::from(u32::MAX) {
            return Err(MnemonicError::InvalidGroup(group * 3 + 1, group * 3 + 3));
        }
        bytes.extend_from_slice(&(x as u32).to_le_bytes());
    }
    Ok(bytes)
}
