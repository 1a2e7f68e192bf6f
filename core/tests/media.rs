//! Metadata stripping (core::media) on pictures made as phones and editors make them
//! (fixtures/make.py: GPS position, device, author, comments, XMP, a second picture after the
//! end). Runs natively and in Chromium.

#![allow(clippy::unwrap_used)]

use murmur_core::media::{ImageKind, Stripped, strip_metadata};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

const JPEG: &[u8] = include_bytes!("fixtures/gps.jpg");
const PNG: &[u8] = include_bytes!("fixtures/text.png");
const GIF: &[u8] = include_bytes!("fixtures/anim.gif");
const WEBP: &[u8] = include_bytes!("fixtures/exif.webp");

/// Every secret the fixtures carry.
const SECRETS: &[&[u8]] = &[
    b"Secret",
    b"Alice",
    b"GPS",
    b"SecretPhoneMaker",
    b"secret comment",
];

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn stripped(data: &[u8], kind: ImageKind) -> Vec<u8> {
    assert!(contains(data, b"Secret"), "the fixture carries secrets");
    match strip_metadata(data).unwrap() {
        Stripped::Image { bytes, kind: k } => {
            assert_eq!(k, kind);
            for secret in SECRETS {
                assert!(
                    !contains(&bytes, secret),
                    "{kind:?} still holds {:?}",
                    String::from_utf8_lossy(secret)
                );
            }
            // Stripping again changes nothing.
            assert_eq!(
                strip_metadata(&bytes).unwrap(),
                Stripped::Image {
                    bytes: bytes.clone(),
                    kind
                }
            );
            bytes
        }
        Stripped::Unsupported => panic!("{kind:?} not recognised"),
    }
}

#[test]
fn jpeg_loses_exif_xmp_comments_and_trailers_and_keeps_its_orientation() {
    let out = stripped(JPEG, ImageKind::Jpeg);
    assert!(out.starts_with(&[0xFF, 0xD8]) && out.ends_with(&[0xFF, 0xD9]));
    // The picture itself is there byte for byte: everything from the first scan on.
    let sos = |d: &[u8]| d.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
    let eoi = |d: &[u8]| d.windows(2).position(|w| w == [0xFF, 0xD9]).unwrap();
    assert_eq!(&out[sos(&out)..], &JPEG[sos(JPEG)..eoi(JPEG) + 2]);
    // Orientation 6 (rotate 90°) survives alone, in a minimal EXIF segment.
    let app1 = out.windows(2).position(|w| w == [0xFF, 0xE1]).unwrap();
    let exif = &out[app1..];
    assert!(exif[4..].starts_with(b"Exif\0\0MM"));
    let len = usize::from(u16::from_be_bytes([exif[2], exif[3]]));
    assert!(len < 40, "only the orientation: {len} bytes");
    assert!(contains(
        &exif[..len + 2],
        &[0x01, 0x12, 0x00, 0x03, 0, 0, 0, 1, 0x00, 0x06]
    ));
}

#[test]
fn png_loses_its_text_and_exif_chunks() {
    let out = stripped(PNG, ImageKind::Png);
    for chunk in [b"tEXt", b"iTXt", b"eXIf"] {
        assert!(!contains(&out, chunk));
    }
    assert!(contains(&out, b"IHDR") && contains(&out, b"IDAT") && out.ends_with(b"IEND\xaeB`\x82"));
}

#[test]
fn gif_loses_comments_and_keeps_its_animation() {
    let out = stripped(GIF, ImageKind::Gif);
    assert!(contains(&out, b"NETSCAPE2.0"), "the loop extension stays");
    let frames = |d: &[u8]| d.windows(2).filter(|w| w == &[0x00, 0x2C]).count();
    assert!(frames(&out) >= 1 && frames(&out) == frames(GIF));
    assert_eq!(out.last(), Some(&0x3B));
}

#[test]
fn webp_loses_exif_and_xmp_and_its_header_agrees() {
    let out = stripped(WEBP, ImageKind::Webp);
    assert!(!contains(&out, b"EXIF") && !contains(&out, b"XMP "));
    let riff = u32::from_le_bytes([out[4], out[5], out[6], out[7]]) as usize;
    assert_eq!(riff + 8, out.len());
}

#[test]
fn other_files_are_left_to_the_caller_and_broken_pictures_refused() {
    assert_eq!(
        strip_metadata(b"%PDF-1.7 not a picture").unwrap(),
        Stripped::Unsupported
    );
    assert_eq!(strip_metadata(b"").unwrap(), Stripped::Unsupported);
    // The JPEG's picture ends before its trailer (which stripping drops): cut inside it.
    let jpeg_end = JPEG.len() - b"\xff\xd8SecretTrailerPicture\xff\xd9".len();
    for (data, what) in [
        (&JPEG[..jpeg_end], "jpeg"),
        (PNG, "png"),
        (GIF, "gif"),
        (WEBP, "webp"),
    ] {
        for cut in [data.len() / 3, data.len() / 2, data.len() - 3] {
            let r = strip_metadata(&data[..cut]);
            assert!(r.is_err(), "{what} cut at {cut}: {r:?}");
        }
    }
}
