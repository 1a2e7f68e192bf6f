//! What a message says, as the app and the CLI see it: text, attachments and the sender's
//! profile, written into Session's `DataMessage` and read back from one. Everything a sender
//! writes is a stranger's input to the reader, so every field is checked on the way in: file
//! URLs must parse, keys be 32 bytes, sizes within the limit, names without control or
//! direction-changing characters and capped, content types well-formed.

use serde::{Deserialize, Serialize};

use super::proto::{AttachmentPointer, DataMessage, LokiProfile};
use crate::files::{FileUrl, MAX_ATTACHMENT_BYTES};

/// Most attachments one message carries (more are ignored).
pub const MAX_ATTACHMENTS: usize = 32;
/// Longest display name, in bytes (Session's limit).
pub const MAX_NAME_BYTES: usize = 100;
/// Longest file name shown, in bytes.
pub const MAX_FILE_NAME_BYTES: usize = 200;
/// Longest profile picture URL (Session's limit).
pub const MAX_PICTURE_URL_BYTES: usize = 223;
const MAX_CONTENT_TYPE_BYTES: usize = 100;
const MAX_URL_BYTES: usize = 4096;

/// A file a message carries: where it is and how to open it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// The file URL (`files::FileUrl`).
    pub url: String,
    /// The 32-byte key, hex.
    pub key: String,
    /// Plaintext bytes.
    pub size: u64,
    pub content_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
}

impl Attachment {
    /// The key as bytes (checked when the attachment was read).
    pub fn key_bytes(&self) -> Option<[u8; 32]> {
        let mut key = [0u8; 32];
        hex::decode_to_slice(&self.key, &mut key).ok()?;
        Some(key)
    }

    /// The URL, parsed (checked when the attachment was read).
    pub fn file_url(&self) -> Option<FileUrl> {
        FileUrl::parse(&self.url).ok()
    }

    /// Whether the content type names a picture a browser may show inline.
    pub fn is_image(&self) -> bool {
        matches!(
            self.content_type.as_str(),
            "image/jpeg" | "image/png" | "image/gif" | "image/webp"
        )
    }

    fn to_pointer(&self) -> AttachmentPointer {
        let last = self.url.rsplit('/').next().unwrap_or_default();
        let last = last.split('#').next().unwrap_or_default();
        AttachmentPointer {
            deprecated_id: last.parse().unwrap_or(0),
            content_type: Some(self.content_type.clone()),
            key: self.key_bytes().map(|k| k.to_vec()),
            size: u32::try_from(self.size).ok(),
            digest: None,
            file_name: self.file_name.clone(),
            flags: None,
            width: self.width,
            height: self.height,
            caption: None,
            url: Some(self.url.clone()),
        }
    }

    /// A stranger's pointer, or `None` when it is not one Murmur can fetch and open.
    fn from_pointer(p: &AttachmentPointer) -> Option<Self> {
        let url = p.url.as_deref().filter(|u| u.len() <= MAX_URL_BYTES)?;
        let parsed = FileUrl::parse(url).ok()?;
        if !parsed.deterministic {
            return None;
        }
        let key: [u8; 32] = p.key.as_deref()?.try_into().ok()?;
        let size = u64::from(p.size?);
        if size == 0 || size > MAX_ATTACHMENT_BYTES {
            return None;
        }
        Some(Self {
            url: url.to_string(),
            key: hex::encode(key),
            size,
            content_type: content_type(p.content_type.as_deref()),
            file_name: p.file_name.as_deref().and_then(file_name),
            width: p.width.filter(|&w| w > 0 && w <= 100_000),
            height: p.height.filter(|&h| h > 0 && h <= 100_000),
        })
    }
}

/// A profile picture: its file URL and key (the profile key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfilePicture {
    pub url: String,
    /// 32 bytes, hex.
    pub key: String,
}

impl ProfilePicture {
    pub fn key_bytes(&self) -> Option<[u8; 32]> {
        let mut key = [0u8; 32];
        hex::decode_to_slice(&self.key, &mut key).ok()?;
        Some(key)
    }
}

/// The sender's profile as messages carry it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<ProfilePicture>,
    /// When it last changed (seconds since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_s: Option<u64>,
}

/// A display name as it may be shown: control and direction-changing characters removed,
/// whitespace trimmed, at most [`MAX_NAME_BYTES`]; `None` when nothing is left.
pub fn display_name(name: &str) -> Option<String> {
    clean(name, MAX_NAME_BYTES)
}

/// A file name as it may be shown and saved: its last path segment, cleaned like a display
/// name, at most [`MAX_FILE_NAME_BYTES`]; never `.` or `..`.
pub fn file_name(name: &str) -> Option<String> {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    clean(last, MAX_FILE_NAME_BYTES).filter(|n| n != "." && n != "..")
}

/// Whether `c` may be shown: no control characters, no bidirectional overrides, isolates or
/// marks (which could reverse the text around a name), no zero-width characters.
fn shown(c: char) -> bool {
    !c.is_control()
        && !matches!(
            c,
            '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{FEFF}'
        )
}

fn clean(text: &str, max: usize) -> Option<String> {
    let mut out: String = text.chars().filter(|&c| shown(c)).collect();
    let trimmed = out.trim();
    if trimmed.len() != out.len() {
        out = trimmed.to_string();
    }
    if out.len() > max {
        let mut end = max;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
        out = out.trim_end().to_string();
    }
    (!out.is_empty()).then_some(out)
}

/// A MIME type as given, when well-formed (`type/subtype`, lower-case token characters);
/// otherwise `application/octet-stream`.
pub fn content_type(given: Option<&str>) -> String {
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"!#$&^_.+-".contains(&b))
    };
    match given.map(str::trim).map(str::to_ascii_lowercase) {
        Some(t)
            if t.len() <= MAX_CONTENT_TYPE_BYTES
                && t.split_once('/').is_some_and(|(a, b)| token(a) && token(b)) =>
        {
            t
        }
        _ => "application/octet-stream".into(),
    }
}

/// What a message carries besides its times.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Body {
    pub text: String,
    pub attachments: Vec<Attachment>,
    pub profile: Option<Profile>,
}

impl Body {
    /// Text alone.
    pub fn text(text: &str) -> Self {
        Self {
            text: text.to_string(),
            ..Self::default()
        }
    }

    /// Writes this into `dm` (Session's fields: body, attachments, profile and profile key).
    pub fn write(&self, dm: &mut DataMessage) {
        dm.body = (!self.text.is_empty()).then(|| self.text.clone());
        dm.attachments = self
            .attachments
            .iter()
            .map(Attachment::to_pointer)
            .collect();
        if let Some(profile) = &self.profile {
            // As Session does: the profile always, the key only with a picture.
            dm.profile = Some(LokiProfile {
                display_name: profile.name.clone(),
                profile_picture: profile.picture.as_ref().map(|p| p.url.clone()),
                last_profile_update_seconds: profile.updated_s,
            });
            dm.profile_key = profile
                .picture
                .as_ref()
                .and_then(ProfilePicture::key_bytes)
                .map(|k| k.to_vec());
        }
    }

    /// Reads a stranger's `dm`: what does not pass the checks is left out.
    pub fn read(dm: &DataMessage) -> Self {
        let attachments = dm
            .attachments
            .iter()
            .take(MAX_ATTACHMENTS)
            .filter_map(Attachment::from_pointer)
            .collect();
        let profile = dm.profile.as_ref().map(|p| {
            let picture = p
                .profile_picture
                .as_deref()
                .filter(|u| u.len() <= MAX_PICTURE_URL_BYTES)
                .filter(|u| FileUrl::parse(u).is_ok_and(|f| f.deterministic))
                .zip(
                    dm.profile_key
                        .as_deref()
                        .and_then(|k| <[u8; 32]>::try_from(k).ok()),
                )
                .map(|(url, key)| ProfilePicture {
                    url: url.to_string(),
                    key: hex::encode(key),
                });
            Profile {
                name: p.display_name.as_deref().and_then(display_name),
                picture,
                updated_s: p.last_profile_update_seconds,
            }
        });
        Self {
            text: dm.body.clone().unwrap_or_default(),
            attachments,
            profile,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn attachment() -> Attachment {
        Attachment {
            url: format!(
                "http://127.0.0.1:22112/file/{}#d",
                crate::files::file_id(b"x")
            ),
            key: hex::encode([7u8; 32]),
            size: 1234,
            content_type: "image/jpeg".into(),
            file_name: Some("photo.jpg".into()),
            width: Some(640),
            height: Some(480),
        }
    }

    #[test]
    fn a_body_round_trips_through_a_data_message() {
        let body = Body {
            text: "look".into(),
            attachments: vec![attachment()],
            profile: Some(Profile {
                name: Some("Alice".into()),
                picture: Some(ProfilePicture {
                    url: attachment().url,
                    key: hex::encode([9u8; 32]),
                }),
                updated_s: Some(1_700_000_000),
            }),
        };
        let mut dm = DataMessage::default();
        body.write(&mut dm);
        assert_eq!(dm.profile_key.as_deref(), Some(&[9u8; 32][..]));
        assert_eq!(Body::read(&dm), body);
    }

    #[test]
    fn a_strangers_fields_are_checked() {
        let mut dm = DataMessage::default();
        let good = attachment().to_pointer();
        let mut bad_key = good.clone();
        bad_key.key = Some(vec![1; 31]);
        let mut too_big = good.clone();
        too_big.size = Some(200_000_000);
        let mut not_ours = good.clone();
        not_ours.url = Some("javascript:alert(1)".into());
        let mut legacy = good.clone();
        legacy.url = Some("http://f.example/file/123".into());
        let mut hostile = good.clone();
        hostile.file_name = Some("../../\u{202E}gpj.exe\u{0007}".into());
        hostile.content_type = Some("text/html; charset=\"x\"".into());
        dm.attachments = vec![good, bad_key, too_big, not_ours, legacy, hostile];
        dm.attachments
            .extend(std::iter::repeat_n(attachment().to_pointer(), 40));
        dm.profile = Some(LokiProfile {
            display_name: Some("  \u{202E}evil\u{0000}name  ".into()),
            profile_picture: Some("http://x/file/1".into()),
            last_profile_update_seconds: None,
        });
        dm.profile_key = Some(vec![1; 32]);
        let read = Body::read(&dm);
        assert_eq!(
            read.attachments.len(),
            2 + 26,
            "the bad ones go; 32 looked at in all"
        );
        let hostile = &read.attachments[1];
        assert_eq!(hostile.file_name.as_deref(), Some("gpj.exe"));
        assert_eq!(hostile.content_type, "application/octet-stream");
        let profile = read.profile.unwrap();
        assert_eq!(profile.name.as_deref(), Some("evilname"));
        assert!(profile.picture.is_none(), "not an S-format file URL");
    }

    #[test]
    fn names_are_capped_on_a_character_boundary() {
        let long = "é".repeat(80);
        let name = display_name(&long).unwrap();
        assert!(name.len() <= MAX_NAME_BYTES && name.chars().all(|c| c == 'é'));
        assert_eq!(display_name(" \u{200B} "), None);
        assert_eq!(file_name("C:\\Users\\a\\..").as_deref(), None);
        assert_eq!(content_type(Some("Image/PNG")), "image/png");
    }
}
