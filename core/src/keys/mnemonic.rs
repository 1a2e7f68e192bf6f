//! The recovery phrase: Session's Monero-style mnemonic over a 1626-word list.
//!
//! Every 4 bytes (a little-endian u32 `x`) become three words `a, b, c` with
//! `a = x mod n`, `b = (x/n + a) mod n`, `c = (x/n/n + b) mod n` (n = 1626). A last checksum word
//! repeats one of the seed words: the one at `crc32(first 3 letters of every word) mod words`.
//! Words are matched by their first three letters, case-insensitively, so a typo after the
//! prefix is forgiven. (SESSION-PROTOCOL.md §1.4.)

use crate::error::MnemonicError;

/// How many letters of a word identify it in the English list.
pub const PREFIX_LEN: usize = 3;

const WORDLIST_TEXT: &str = include_str!("wordlist_english.txt");
const N: u64 = 1626;

/// zlib's CRC-32 (ISO-HDLC), as Session computes the checksum word.
const CRC_32: crc::Crc<u32, crc::Table<1>> =
    crc::Crc::<u32, crc::Table<1>>::new(&crc::CRC_32_ISO_HDLC);

/// The list as a slice, split once: lookups run on every keystroke of the restore form.
/// (Every word is lowercase ASCII with at least 4 letters, so `&w[..PREFIX_LEN]` is its prefix.)
static WORDS: std::sync::LazyLock<Vec<&'static str>> =
    std::sync::LazyLock::new(|| WORDLIST_TEXT.lines().collect());

/// The English word list (1626 words, from the Monero project, MIT licence; see
/// `wordlist_english.LICENSE`).
pub fn wordlist() -> impl Iterator<Item = &'static str> + Clone {
    WORDS.iter().copied()
}

fn word_at(index: usize) -> &'static str {
    // Indices come from `mod 1626` on a list checked to hold exactly 1626 words.
    WORDS.get(index).copied().unwrap_or_default()
}

fn prefix(word: &str) -> String {
    // The list is ASCII, so ASCII case folding is all a match needs (and it keeps the
    // Unicode case tables out of the wasm bundle).
    word.chars()
        .take(PREFIX_LEN)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The index of a word by its first three letters; `None` if the word is shorter than that or
/// no word of the list starts the same way.
pub fn index_of(word: &str) -> Option<usize> {
    if word.chars().count() < PREFIX_LEN {
        return None;
    }
    let wanted = prefix(word);
    WORDS
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
    let mut words = Vec::with_capacity(bytes.len() / 4 * 3 + 1);
    for chunk in bytes.chunks_exact(4) {
        let x = u64::from(u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]));
        let a = x % N;
        let b = (x / N + a) % N;
        let c = (x / N / N + b) % N;
        for i in [a, b, c] {
            words.push(word_at(i as usize));
        }
    }
    let checksum = words[checksum_index(&words)];
    words.push(checksum);
    Ok(words)
}

/// Decodes a phrase of 13 (or 25) words back to its 16 (or 32) bytes.
pub fn decode(phrase: &str) -> Result<Vec<u8>, MnemonicError> {
    let words: Vec<&str> = phrase.split_whitespace().collect();
    if words.len() != 13 && words.len() != 25 {
        return Err(MnemonicError::WrongLength(words.len()));
    }
    let mut indices = Vec::with_capacity(words.len());
    for (i, word) in words.iter().enumerate() {
        indices.push(index_of(word).ok_or(MnemonicError::UnknownWord(i + 1))? as u64);
    }
    let (seed_indices, checksum) = indices.split_at(words.len() - 1);
    let seed_words: Vec<&str> = seed_indices.iter().map(|&i| word_at(i as usize)).collect();
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
