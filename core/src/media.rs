//! What a picture says besides the picture: removed before it leaves the device.
//!
//! Cameras and editors write where and when a photo was taken, the device and its serial
//! number, the software, the author and a thumbnail into image files. [`strip_metadata`] removes
//! those without decoding or re-encoding the image (so nothing is lost):
//! - **JPEG**: APP1 (EXIF, XMP), APP13 (IPTC/Photoshop), APP3–APP12 and APP15 (vendor data)
//!   and comments go; JFIF (APP0), the colour profile (APP2) and Adobe's colour transform
//!   (APP14) stay. EXIF's orientation is the one fact the picture needs to be shown upright,
//!   so when it is not "upright already" it is written back alone, in a minimal EXIF segment.
//! - **PNG**: text chunks (tEXt, zTXt, iTXt), eXIf and tIME go; chunks that change how the
//!   image looks (palette, transparency, gamma, colour profile) and APNG animation stay.
//! - **GIF**: comment extensions and application extensions other than the looping one
//!   (NETSCAPE2.0 / ANIMEXTS1.0, which animations need) go; frames stay.
//! - **WebP**: the EXIF and XMP chunks go, and the header's flags say so.
//!
//! Anything else is [`Stripped::Unsupported`]: the caller decides (the web app re-encodes
//! pictures of other formats; other files are sent as they are).

use crate::error::{Error, Result};

/// What [`strip_metadata`] made of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stripped {
    /// The picture without its metadata (possibly unchanged, when it had none).
    Image { bytes: Vec<u8>, kind: ImageKind },
    /// Not a picture format this strips.
    Unsupported,
}

/// The picture formats [`strip_metadata`] understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Jpeg,
    Png,
    Gif,
    Webp,
}

impl ImageKind {
    /// Its MIME type.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
        }
    }

    /// The format of `data`, by its first bytes (never by a name or a claimed type).
    pub fn sniff(data: &[u8]) -> Option<Self> {
        if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if data.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a") {
            Some(Self::Gif)
        } else if data.len() >= 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
            Some(Self::Webp)
        } else {
            None
        }
    }
}

/// Removes the metadata of a JPEG, PNG, GIF or WebP picture (by its content, whatever its
/// name says). A file that claims one of those formats but is malformed is an error.
pub fn strip_metadata(data: &[u8]) -> Result<Stripped> {
    let Some(kind) = ImageKind::sniff(data) else {
        return Ok(Stripped::Unsupported);
    };
    let bytes = match kind {
        ImageKind::Jpeg => strip_jpeg(data)?,
        ImageKind::Png => strip_png(data)?,
        ImageKind::Gif => strip_gif(data)?,
        ImageKind::Webp => strip_webp(data)?,
    };
    Ok(Stripped::Image { bytes, kind })
}

fn bad(what: &'static str) -> Error {
    Error::Malformed(what)
}

fn be16(data: &[u8], at: usize) -> Result<usize> {
    data.get(at..at + 2)
        .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
        .ok_or(bad("picture cut short"))
}

fn strip_jpeg(data: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut at = 2;
    let mut orientation = None;
    let mut scanned = false;
    loop {
        if data.get(at) != Some(&0xFF) {
            return Err(bad("JPEG segment expected"));
        }
        // Fill bytes (0xFF repeated) may precede a marker.
        while data.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let marker = *data.get(at + 1).ok_or(bad("picture cut short"))?;
        if marker == 0xD9 {
            // The end of the picture: whatever follows (a phone's second picture, a
            // vendor's trailer) is not sent.
            out.extend_from_slice(&[0xFF, 0xD9]);
            return Ok(out);
        }
        if matches!(marker, 0x01 | 0xD0..=0xD7) {
            out.extend_from_slice(&[0xFF, marker]);
            at += 2;
            continue;
        }
        let len = be16(data, at + 2)?;
        if len < 2 {
            return Err(bad("JPEG segment length"));
        }
        let end = at + 2 + len;
        let segment = data.get(at..end).ok_or(bad("picture cut short"))?;
        let payload = &segment[4..];
        let keep = match marker {
            0xE1 => {
                if orientation.is_none() {
                    orientation = exif_orientation(payload);
                }
                false
            }
            // APP2 holds colour profiles, but also other pictures (MPF): only the profile stays.
            0xE2 => payload.starts_with(b"ICC_PROFILE\0"),
            0xE3..=0xED | 0xEF | 0xFE => false,
            _ => true,
        };
        if marker == 0xDA && !scanned {
            // The picture starts: the minimal EXIF goes in front of it.
            if let Some(o) = orientation.filter(|&o| o != 1) {
                out.extend_from_slice(&orientation_segment(o));
            }
            scanned = true;
        }
        if keep {
            out.extend_from_slice(segment);
        }
        at = end;
        if marker == 0xDA {
            // Entropy-coded data runs to the next marker that is neither a stuffed 0xFF
            // (FF 00) nor a restart marker.
            let mut i = at;
            loop {
                match (data.get(i), data.get(i + 1)) {
                    (Some(0xFF), Some(0x00 | 0xD0..=0xD7)) => i += 2,
                    (Some(0xFF), Some(_)) => break,
                    (Some(_), _) => i += 1,
                    (None, _) => return Err(bad("picture cut short")),
                }
            }
            out.extend_from_slice(&data[at..i]);
            at = i;
        }
    }
}

/// The orientation tag (0x0112) of an EXIF block (`Exif\0\0` and a TIFF structure), if any.
fn exif_orientation(exif: &[u8]) -> Option<u16> {
    let tiff = exif.strip_prefix(b"Exif\0\0")?;
    let little = match tiff.get(..2)? {
        b"II" => true,
        b"MM" => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b = tiff.get(at..at + 2)?;
        Some(if little {
            u16::from_le_bytes([b[0], b[1]])
        } else {
            u16::from_be_bytes([b[0], b[1]])
        })
    };
    let u32_at = |at: usize| -> Option<usize> {
        let b = tiff.get(at..at + 4)?;
        let v = if little {
            u32::from_le_bytes([b[0], b[1], b[2], b[3]])
        } else {
            u32::from_be_bytes([b[0], b[1], b[2], b[3]])
        };
        usize::try_from(v).ok()
    };
    let ifd = u32_at(4)?;
    let entries = usize::from(u16_at(ifd)?);
    (0..entries.min(512)).find_map(|i| {
        let entry = ifd + 2 + i * 12;
        (u16_at(entry)? == 0x0112)
            .then(|| u16_at(entry + 8))
            .flatten()
            .filter(|o| (1..=8).contains(o))
    })
}

/// An APP1 segment holding an EXIF block with the orientation tag alone.
fn orientation_segment(orientation: u16) -> Vec<u8> {
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"MM\0\x2a\0\0\0\x08"); // big-endian, IFD at 8
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_be_bytes()); // count
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]); // value padding
    tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    let len = 2 + 6 + tiff.len();
    let mut segment = vec![0xFF, 0xE1];
    segment.extend_from_slice(&(len as u16).to_be_bytes());
    segment.extend_from_slice(b"Exif\0\0");
    segment.extend_from_slice(&tiff);
    segment
}

fn strip_png(data: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len());
    out.extend_from_slice(&data[..8]);
    let mut at = 8;
    loop {
        let header = data.get(at..at + 8).ok_or(bad("picture cut short"))?;
        let len = usize::try_from(u32::from_be_bytes([
            header[0], header[1], header[2], header[3],
        ]))
        .map_err(|_| bad("PNG chunk length"))?;
        let kind = &header[4..8];
        let end = at
            .checked_add(12)
            .and_then(|v| v.checked_add(len))
            .ok_or(bad("PNG chunk length"))?;
        let chunk = data.get(at..end).ok_or(bad("picture cut short"))?;
        let drop = matches!(kind, b"tEXt" | b"zTXt" | b"iTXt" | b"eXIf" | b"tIME");
        if !drop {
            out.extend_from_slice(chunk);
        }
        if kind == b"IEND" {
            return Ok(out);
        }
        at = end;
    }
}

fn strip_gif(data: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len());
    let screen = data.get(..13).ok_or(bad("picture cut short"))?;
    out.extend_from_slice(screen);
    let mut at = 13;
    let table = |flags: u8| {
        if flags & 0x80 != 0 {
            3 << ((flags & 7) + 1)
        } else {
            0
        }
    };
    let global = table(screen[10]);
    out.extend_from_slice(data.get(at..at + global).ok_or(bad("picture cut short"))?);
    at += global;
    // Data sub-blocks: a length byte and that many bytes, until a zero length.
    let sub_blocks = |mut at: usize| -> Result<usize> {
        loop {
            let n = usize::from(*data.get(at).ok_or(bad("picture cut short"))?);
            at += 1 + n;
            if n == 0 {
                return Ok(at);
            }
        }
    };
    loop {
        match *data.get(at).ok_or(bad("picture cut short"))? {
            0x3B => {
                out.push(0x3B);
                return Ok(out);
            }
            0x2C => {
                let descriptor = data.get(at..at + 10).ok_or(bad("picture cut short"))?;
                let end = at + 10 + table(descriptor[9]) + 1;
                let end = sub_blocks(end)?;
                out.extend_from_slice(data.get(at..end).ok_or(bad("picture cut short"))?);
                at = end;
            }
            0x21 => {
                let label = *data.get(at + 1).ok_or(bad("picture cut short"))?;
                let end = sub_blocks(at + 2)?;
                let block = data.get(at..end).ok_or(bad("picture cut short"))?;
                let keep = match label {
                    0xFE => false,
                    0xFF => {
                        let id = block.get(3..14).unwrap_or_default();
                        id == b"NETSCAPE2.0" || id == b"ANIMEXTS1.0"
                    }
                    _ => true,
                };
                if keep {
                    out.extend_from_slice(block);
                }
                at = end;
            }
            _ => return Err(bad("GIF block expected")),
        }
    }
}

fn strip_webp(data: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len());
    out.extend_from_slice(&data[..12]);
    let mut at = 12;
    while at < data.len() {
        let header = data.get(at..at + 8).ok_or(bad("picture cut short"))?;
        let len = usize::try_from(u32::from_le_bytes([
            header[4], header[5], header[6], header[7],
        ]))
        .map_err(|_| bad("WebP chunk length"))?;
        let end = at
            .checked_add(8 + len + (len & 1))
            .ok_or(bad("WebP chunk length"))?;
        let chunk = data
            .get(at..end.min(data.len()))
            .ok_or(bad("picture cut short"))?;
        if chunk.len() < 8 + len {
            return Err(bad("picture cut short"));
        }
        match &header[..4] {
            b"EXIF" | b"XMP " => {}
            b"VP8X" => {
                let start = out.len();
                out.extend_from_slice(chunk);
                // Flags: bit 3 EXIF, bit 2 XMP.
                if let Some(flags) = out.get_mut(start + 8) {
                    *flags &= !0b0000_1100;
                }
            }
            _ => out.extend_from_slice(chunk),
        }
        at = end;
    }
    let riff = u32::try_from(out.len() - 8).map_err(|_| bad("WebP too large"))?;
    out[4..8].copy_from_slice(&riff.to_le_bytes());
    Ok(out)
}
