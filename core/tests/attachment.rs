//! Attachment encryption, Session's "S" format (SESSION-ATTACHMENTS-CONFIG.md A.1, A.7): the
//! padding sizes from libsession's tests, the [computed] vectors (made with libsodium), and the
//! streaming encryptor and decryptor against bad input. Runs natively and in Chromium.

#![allow(clippy::unwrap_used)]

use murmur_core::Error;
use murmur_core::attachment::{
    self, AttachmentKey, Decryptor, Domain, Encryptor, KeyHasher, MAX_REGULAR_SIZE,
    decrypted_max_size, encrypted_padding, encrypted_size,
};
use sha2::Digest as _;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

const SEED: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// libsession's test pattern: byte i is (i·7) mod 256.
fn data(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 256) as u8).collect()
}

fn seed() -> Vec<u8> {
    hex::decode(SEED).unwrap()
}

#[test]
fn encrypted_sizes_match_libsessions_tests() {
    for (n, size) in [
        (0, 4096),
        (1, 4096),
        (2, 4096),
        (10, 4096),
        (100, 4096),
        (1000, 4096),
        (2000, 4096),
        (4000, 4096),
        (4053, 4096),
        (4054, 8192),
        (8149, 8192),
        (8150, 12288),
        (33333, 36864),
        (60000, 61440),
        (261_982, 262_144),
        (261_983, 270_336),
        (523_990, 524_288),
        (523_991, 540_672),
        (6_543_210, 6_553_600),
        (10_218_286, 10_223_616),
        (10_000_000, 10_223_616),
        (25_000_000, 25_165_824),
    ] {
        assert_eq!(encrypted_size(n), size, "size of {n} bytes");
        let max = decrypted_max_size(size).unwrap();
        // The padding but its final 0x01 could hold plaintext too.
        assert_eq!(max, n + encrypted_padding(n) - 1, "{n}");
    }
    assert_eq!(encrypted_size(MAX_REGULAR_SIZE), 10_223_616);
    assert_eq!(decrypted_max_size(25), None);
}

#[test]
fn computed_vectors() {
    for (n, domain, key, head, pad, size, sha) in [
        (
            0,
            Domain::Attachment,
            "c811e82fa9a353e0e9814faaa362e3563af2ba3300d31d6e7ea8319b4b17b8d5",
            "5357aaa43118daae1b068b7b2cfea7fbf2bc32ca4d99003ec0",
            4054,
            4096,
            "28ca9a9e248a6bb759a44e4a9921d46313fa8a7ff4887120af8f15c1fcc803b9",
        ),
        (
            10,
            Domain::Attachment,
            "a5ff549754db8366306e1fe3c9bade0bf47bc77a21136d13c11fd1888fb0575a",
            "536af0d08ae5c327968b6789c7c2b4bd17e3a627e451b023d3",
            4044,
            4096,
            "23bb79dcd605be9fddabdc4ba8f80fa258292116b441534d1bde414e8909aa7d",
        ),
        (
            10,
            Domain::ProfilePicture,
            "fc24ce45a359976a7cf404683bc4c5e676fec82e90c103173156cc417bbad695",
            "53b03f95749e2a2ac29633e8290f156611d28a7d72bd0e93a2",
            4044,
            4096,
            "e09941b21202c685cc7a687432e888a018827a36ef2843e8215e25e4a601ff67",
        ),
        (
            100_000,
            Domain::Attachment,
            "4461723cc0028369290944e6169d3155225b902dfb44fc8b113cdd6b0dcebfb8",
            "534640dcb6ddab0c3cbec9dedbbfa911ad874dfa3b9706ac57",
            2307,
            102_400,
            "d7b684ad6d5756973ebcc72a83be71bd09e3244f171d47e403c4d9e93f3063f4",
        ),
    ] {
        let plain = data(n);
        let (k, encrypted) = attachment::encrypt(&seed(), domain, &plain).unwrap();
        assert_eq!(hex::encode(*k.key), key, "key of {n}");
        assert_eq!(hex::encode(&encrypted[..25]), head, "head of {n}");
        assert_eq!(encrypted_padding(n as u64), pad);
        assert_eq!(encrypted.len(), size);
        assert_eq!(
            hex::encode(sha2::Sha256::digest(&encrypted)),
            sha,
            "bytes of {n}"
        );
        assert_eq!(
            attachment::decrypt(&k.key, &encrypted, Some(n as u64)).unwrap(),
            plain
        );
    }
}

fn key_of(plain: &[u8]) -> AttachmentKey {
    let mut hasher = KeyHasher::new(&seed(), Domain::Attachment).unwrap();
    for piece in plain.chunks(1000) {
        hasher.update(piece);
    }
    hasher.finish()
}

#[test]
fn streaming_in_odd_pieces_gives_the_same_bytes() {
    // Around chunk boundaries, and a padding that spans whole chunks.
    for n in [0, 1, 32_767, 32_768, 32_769, 65_536, 130_000, 261_983] {
        let plain = data(n);
        let (_, whole) = attachment::encrypt(&seed(), Domain::Attachment, &plain).unwrap();
        let key = key_of(&plain);
        let (mut encryptor, mut out) = Encryptor::new(&key, n as u64);
        for piece in plain.chunks(9_999) {
            encryptor.update(piece, &mut out).unwrap();
        }
        encryptor.finish(&mut out).unwrap();
        assert_eq!(out, whole, "{n} bytes");

        let mut decryptor = Decryptor::new(&key.key);
        let mut back = Vec::new();
        for piece in whole.chunks(7_777) {
            decryptor.update(piece, &mut back).unwrap();
        }
        decryptor.finish(&mut back).unwrap();
        assert_eq!(back, plain, "{n} bytes back");
    }
}

#[test]
fn the_wrong_length_is_refused_both_ways() {
    let key = key_of(b"abc");
    let (mut encryptor, mut out) = Encryptor::new(&key, 3);
    assert!(encryptor.update(b"abcd", &mut out).is_err());
    let (mut encryptor, mut out) = Encryptor::new(&key, 3);
    encryptor.update(b"ab", &mut out).unwrap();
    assert!(encryptor.finish(&mut out).is_err());
}

#[test]
fn tampered_truncated_and_foreign_files_are_refused() {
    let plain = data(70_000);
    let (key, good) = attachment::encrypt(&seed(), Domain::Attachment, &plain).unwrap();
    let open = |bytes: &[u8]| attachment::decrypt(&key.key, bytes, Some(plain.len() as u64));
    assert_eq!(open(&good).unwrap(), plain);
    // A flipped bit in the header, in a middle chunk, in the last chunk.
    for at in [3, 25 + 40_000, good.len() - 5] {
        let mut bad = good.clone();
        bad[at] ^= 1;
        assert_eq!(open(&bad), Err(Error::DecryptionFailed), "bit at {at}");
    }
    // Cut at a chunk boundary (every chunk verifies, no FINAL) and mid-chunk.
    let boundary = 25 + 2 * (32_768 + 17);
    assert!(matches!(open(&good[..boundary]), Err(Error::Malformed(_))));
    assert!(open(&good[..good.len() - 1]).is_err());
    // More after the end, another format byte, the wrong key, a stated size past the end.
    let mut longer = good.clone();
    longer.extend_from_slice(&[0; 40]);
    assert!(open(&longer).is_err());
    let mut other = good.clone();
    other[0] = b'X';
    assert_eq!(open(&other), Err(Error::UnknownEncType));
    assert_eq!(
        attachment::decrypt(&[9; 32], &good, None),
        Err(Error::DecryptionFailed)
    );
    assert!(attachment::decrypt(&key.key, &good, Some(plain.len() as u64 + 1)).is_err());
    assert!(attachment::decrypt(&key.key, b"S", None).is_err());
}

#[test]
fn the_same_file_encrypts_the_same_and_domains_differ() {
    let plain = data(5000);
    let (a, x) = attachment::encrypt(&seed(), Domain::Attachment, &plain).unwrap();
    let (b, y) = attachment::encrypt(&seed(), Domain::Attachment, &plain).unwrap();
    assert_eq!((a.key.clone(), &x), (b.key.clone(), &y));
    let (c, _) = attachment::encrypt(&seed(), Domain::ProfilePicture, &plain).unwrap();
    assert_ne!(a.key, c.key);
    assert!(KeyHasher::new(&[1; 31], Domain::Attachment).is_err());
}
