//! Known-answer and round-trip tests for identities and recovery phrases
//! (SESSION-PROTOCOL.md §1, §9.2). They run natively and, with wasm-bindgen-test, in Chromium.

#![allow(clippy::unwrap_used)] // tests may unwrap; the wasm test attribute hides them from allow-unwrap-in-tests

use murmur_core::keys::{self, mnemonic};
use murmur_core::{Error, Identity, MnemonicError, Seed, SessionId};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

fn hex32(s: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).expect("32 hex bytes");
    out
}

#[test]
fn libsession_identity_vector() {
    let seed = Seed::from_bytes(&hex32(
        "0123456789abcdef0123456789abcdef00000000000000000000000000000000",
    ))
    .unwrap();
    let id = Identity::from_seed(seed);
    assert_eq!(
        hex::encode(id.ed25519_pubkey().to_bytes()),
        "4cb76fdc6d32278e3f83dbf608360ecc6b65727934b85d2fb86862ff98c46ab7"
    );
    assert_eq!(
        hex::encode(id.x25519_pubkey()),
        "d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72"
    );
    assert_eq!(
        hex::encode(id.x25519_secret()),
        "c066ce44b14d551ee69dbcd631c061d17655b374f5d54e4f1ea9e3718638956b"
    );
    assert_eq!(
        id.session_id().to_string(),
        "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72"
    );
}

#[test]
fn sixteen_byte_seed_is_zero_padded() {
    let short = Seed::from_bytes(
        &hex32("0123456789abcdef0123456789abcdef00000000000000000000000000000000")[..16],
    )
    .unwrap();
    let id = Identity::from_seed(short);
    assert_eq!(
        id.session_id().to_string(),
        "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72"
    );
}

#[test]
fn ed25519_to_x25519_matches_derivation() {
    let id = Identity::from_seed(Seed::from_bytes(&[7u8; 32]).unwrap());
    let converted = keys::ed25519_pk_to_x25519(&id.ed25519_pubkey().to_bytes()).unwrap();
    assert_eq!(converted, id.x25519_pubkey());
    // The identity point (small order) is refused, as libsodium does.
    let mut identity_point = [0u8; 32];
    identity_point[0] = 1;
    assert_eq!(
        keys::ed25519_pk_to_x25519(&identity_point),
        Err(Error::InvalidKey)
    );
}

#[test]
fn the_word_list_has_1626_words_with_unique_prefixes() {
    let words: Vec<_> = mnemonic::wordlist().unwrap().collect();
    assert_eq!(words.len(), 1626);
    assert_eq!((words[0], words[1625]), ("abbey", "zoom"));
    let mut prefixes: Vec<_> = words.iter().map(|w| &w[..mnemonic::PREFIX_LEN]).collect();
    prefixes.sort_unstable();
    prefixes.dedup();
    assert_eq!(prefixes.len(), 1626);
}

#[test]
fn only_the_english_list_byte_for_byte_installs() {
    let list = mnemonic::EMBEDDED_WORDLIST;
    assert_eq!(mnemonic::install(list.to_string()), Ok(()));
    assert!(mnemonic::is_installed());
    // A copy with one word changed, one word dropped, or Windows line ends is refused, and the
    // list in use is untouched.
    for altered in [
        list.replacen("abbey", "abbot", 1),
        list.replacen("zoom\n", "", 1),
        list.replace('\n', "\r\n"),
        String::new(),
    ] {
        assert_eq!(
            mnemonic::install(altered),
            Err(MnemonicError::WordlistMismatch)
        );
    }
    assert_eq!(mnemonic::encode(&[0u8; 16]).unwrap(), vec!["abbey"; 13]);
}

#[test]
fn mnemonic_vectors() {
    let bytes: Vec<u8> = (0u8..16).collect();
    assert_eq!(
        mnemonic::encode(&bytes).unwrap().join(" "),
        "amaze buffet cake entrance symptoms tiger lamb maze nestle python dusted faxed faxed"
    );
    assert_eq!(mnemonic::encode(&[0u8; 16]).unwrap(), vec!["abbey"; 13]);
    let long: Vec<u8> = (0u8..32).collect();
    let words = mnemonic::encode(&long).unwrap();
    assert_eq!(words.len(), 25);
    assert_eq!(words[22..].join(" "), "afield calamity boxes");
    assert_eq!(words[24], words[15], "checksum repeats word 16");
    assert_eq!(mnemonic::decode(&words.join(" ")).unwrap(), long);
}

#[test]
fn mnemonic_vector_session_id() {
    let seed = Seed::from_mnemonic(
        "amaze buffet cake entrance symptoms tiger lamb maze nestle python dusted faxed faxed",
    )
    .unwrap();
    let id = Identity::from_seed(seed);
    assert_eq!(
        hex::encode(id.ed25519_pubkey().to_bytes()),
        "65adc5bfb14b5363f1b50e63a431f6fe08ff5d4e8d362c1e3d4c56c9d044bfb0"
    );
    assert_eq!(
        id.session_id().to_string(),
        "05ca03b8e369aeeb69fd260c2957d37b232db17a60db7a39bca9f0c0a6be135c1a"
    );
}

#[test]
fn mnemonic_matches_by_prefix_and_ignores_case() {
    let phrase =
        "AMAZING bufxx CAKES entrance symptoms tiger lamb maze nestle python dusted faxed faxed";
    assert_eq!(
        mnemonic::decode(phrase).unwrap(),
        (0u8..16).collect::<Vec<_>>()
    );
}

#[test]
fn mnemonic_errors_are_precise() {
    let good =
        "amaze buffet cake entrance symptoms tiger lamb maze nestle python dusted faxed faxed";
    let twelve = good.rsplit_once(' ').unwrap().0;
    assert_eq!(
        mnemonic::decode(twelve),
        Err(MnemonicError::WrongLength(12))
    );
    assert_eq!(mnemonic::decode(""), Err(MnemonicError::WrongLength(0)));
    let unknown = good.replace("tiger", "qqqq");
    assert_eq!(
        mnemonic::decode(&unknown),
        Err(MnemonicError::UnknownWord(6))
    );
    let short_word = good.replace("lamb", "la");
    assert_eq!(
        mnemonic::decode(&short_word),
        Err(MnemonicError::UnknownWord(7))
    );
    let swapped = good.replacen("amaze buffet", "buffet amaze", 1);
    assert_eq!(mnemonic::decode(&swapped), Err(MnemonicError::BadChecksum));
    let wrong_checksum = good.replace("faxed faxed", "faxed amaze");
    assert_eq!(
        mnemonic::decode(&wrong_checksum),
        Err(MnemonicError::BadChecksum)
    );
    assert_eq!(
        Seed::from_mnemonic(twelve).map(|_| ()),
        Err(Error::Mnemonic(MnemonicError::WrongLength(12)))
    );
    assert_eq!(
        mnemonic::encode(&[1, 2, 3]),
        Err(MnemonicError::UnalignedInput)
    );
}

#[test]
fn invalid_group_is_refused() {
    // "zoom zoom zoom" encodes x = 1625 + 1626·0 + ... which is fine; the largest index pattern
    // (a, b, c) = (1625, 1624, 1623) gives x > u32::MAX.
    let mut words = vec!["zoom", "zones", "zombie"];
    words.extend(["abbey"; 9]);
    let joined_prefixes: String = words.iter().map(|w| &w[..3]).collect();
    let checksum = words[(crc32fast::hash(joined_prefixes.as_bytes()) as usize) % 12];
    words.push(checksum);
    assert_eq!(
        mnemonic::decode(&words.join(" ")),
        Err(MnemonicError::InvalidGroup(1, 3))
    );
}

#[test]
fn all_abbey_restores_the_zero_seed() {
    let phrase = ["abbey"; 13].join(" ");
    let seed = Seed::from_mnemonic(&phrase).unwrap();
    assert_eq!(seed.as_bytes(), &[0u8; 32]);
    assert_eq!(
        Identity::from_seed(seed.clone()).session_id(),
        Identity::from_seed(Seed::from_bytes(&[0u8; 32]).unwrap()).session_id()
    );
    assert_eq!(seed.to_mnemonic().unwrap(), phrase);
}

#[test]
fn round_trip_many_random_seeds() {
    // A seeded sweep that also runs in the browser (proptest below covers more natively).
    let mut rng = ChaCha20Rng::seed_from_u64(0x6d75_726d_7572);
    for _ in 0..300 {
        let id = Identity::generate(&mut rng);
        let phrase = id.seed().to_mnemonic().unwrap();
        assert_eq!(phrase.split(' ').count(), 13);
        let restored = Identity::from_seed(Seed::from_mnemonic(&phrase).unwrap());
        assert_eq!(restored.session_id(), id.session_id());
    }
}

#[test]
fn session_id_parsing() {
    let text = "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72";
    let id: SessionId = text.parse().unwrap();
    assert_eq!(id.to_string(), text);
    assert_eq!(format!("{id:?}"), "SessionId(<redacted>)");
    assert_eq!(text.to_uppercase().parse::<SessionId>().unwrap(), id);
    assert!(matches!(
        "06d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72".parse::<SessionId>(),
        Err(Error::Malformed(_))
    ));
    assert!(matches!(
        text[..64].parse::<SessionId>(),
        Err(Error::Malformed(_))
    ));
    assert!(matches!(
        text.replace('d', "g").parse::<SessionId>(),
        Err(Error::Malformed(_))
    ));
}

#[test]
fn secrets_have_redacted_debug() {
    let id = Identity::from_seed(Seed::from_bytes(&[9u8; 16]).unwrap());
    assert_eq!(format!("{id:?}"), "Identity(<redacted>)");
    assert_eq!(format!("{:?}", id.seed()), "Seed(<redacted>)");
}

#[cfg(not(target_arch = "wasm32"))]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn decode_encode_is_identity_16(seed in proptest::array::uniform16(any::<u8>())) {
            let words = mnemonic::encode(&seed).unwrap();
            prop_assert_eq!(words.len(), 13);
            prop_assert_eq!(mnemonic::decode(&words.join(" ")).unwrap(), seed.to_vec());
        }

        #[test]
        fn decode_encode_is_identity_32(seed in proptest::array::uniform32(any::<u8>())) {
            let words = mnemonic::encode(&seed).unwrap();
            prop_assert_eq!(mnemonic::decode(&words.join(" ")).unwrap(), seed.to_vec());
        }

        #[test]
        fn decode_never_panics(phrase in "\\PC{0,200}") {
            let _ = mnemonic::decode(&phrase);
        }
    }
}
