//! Replies, reactions, "delete for everyone", accepted message requests, read receipts and
//! typing indicators in Session's formats: `DataMessage.quote` (8), `DataMessage.reaction`
//! (11), `Content.unsendRequest` (9), `Content.messageRequestResponse` (10),
//! `Content.receiptMessage` (5) and `Content.typingMessage` (6) of `SignalService.proto`. The first three name the
//! message they are about by Session's key for a message, its sender's signed time and its
//! author (`id`/`timestamp` and `author`).
//!
//! `Content` as the rest of the code knows it does not declare these fields (every declared
//! field is decoder code in the web app's bundle, read for every message): they are written
//! as a second serialised `Content` after the plain one — protobuf merges concatenated
//! messages, so Session's clients read one message — and read by decoding the signed content
//! bytes a second time, as group control messages are (`groups::control`). What a stranger
//! sends is checked before it is used: authors are Session IDs, times are set, emoji are short
//! and printable, quoted text is capped.

use prost::Message as _;

use crate::keys::SessionId;

/// Longest quoted text kept (bytes): Session Desktop quotes the first lines only.
pub const QUOTE_TEXT_MAX: usize = 2_000;
/// Longest reaction (bytes): an emoji with its modifiers and joiners.
pub const EMOJI_MAX: usize = 32;

/// The message a reply, reaction or unsend request is about: its signed time and its author.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageRef {
    pub sent_ms: u64,
    pub author: SessionId,
}

/// A reply's quote of the message it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    pub to: MessageRef,
    /// The quoted text (Session's fallback when the original is not held), capped.
    pub text: Option<String>,
}

/// A reaction added to, or (`remove`) taken off, a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reaction {
    pub to: MessageRef,
    pub emoji: String,
    pub remove: bool,
}

/// What a message carries besides text and files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extras {
    pub quote: Option<Quote>,
    pub reaction: Option<Reaction>,
    /// "Delete for everyone": the author asks that this message of theirs be deleted.
    pub unsend: Option<MessageRef>,
    /// The sender accepted our message request (`messageRequestResponse.isApproved`).
    pub request_accepted: bool,
    /// The sender read our messages sent at these times (`receiptMessage`, type READ).
    pub read: Vec<u64>,
    /// The sender started or stopped typing (`typingMessage`).
    pub typing: Option<Typing>,
    /// In a group: messages deleted for everyone, by hash (Session's `deleteMemberContent`;
    /// set by the groups client, not read from these bytes).
    pub group_deletion: Option<GroupDeletion>,
}

/// A typing indicator: started or stopped, at the sender's time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Typing {
    pub started: bool,
    pub at_ms: u64,
}

/// A group's order to delete messages for everyone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDeletion {
    pub hashes: Vec<String>,
    /// Signed by an admin: every listed message goes. Otherwise only those the sender wrote
    /// (the reader checks the author of each).
    pub by_admin: bool,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ExtrasContent {
    #[prost(message, optional, tag = "1")]
    data_message: Option<ExtrasData>,
    #[prost(message, optional, tag = "5")]
    receipt_message: Option<ReceiptProto>,
    #[prost(message, optional, tag = "6")]
    typing_message: Option<TypingProto>,
    #[prost(message, optional, tag = "9")]
    unsend_request: Option<UnsendRequestProto>,
    #[prost(message, optional, tag = "10")]
    message_request_response: Option<MessageRequestResponseProto>,
}

/// `ReceiptMessage`: `type` 0 = DELIVERY, 1 = READ; the messages' sent times.
#[derive(Clone, PartialEq, prost::Message)]
struct ReceiptProto {
    #[prost(int32, optional, tag = "1")]
    r#type: Option<i32>,
    #[prost(uint64, repeated, packed = "false", tag = "2")]
    timestamp: Vec<u64>,
}

/// `TypingMessage`: `action` 0 = STARTED, 1 = STOPPED.
#[derive(Clone, PartialEq, prost::Message)]
struct TypingProto {
    #[prost(uint64, optional, tag = "1")]
    timestamp: Option<u64>,
    #[prost(int32, optional, tag = "2")]
    action: Option<i32>,
}

/// Most message times one read receipt names.
pub const RECEIPT_MAX: usize = 100;
const RECEIPT_READ: i32 = 1;

/// `MessageRequestResponse` (the profile it may carry, fields 2 and 3, is not read: profiles
/// come with messages).
#[derive(Clone, PartialEq, prost::Message)]
struct MessageRequestResponseProto {
    #[prost(bool, optional, tag = "1")]
    is_approved: Option<bool>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ExtrasData {
    #[prost(message, optional, tag = "8")]
    quote: Option<QuoteProto>,
    #[prost(message, optional, tag = "11")]
    reaction: Option<ReactionProto>,
}

/// `DataMessage.Quote` (quoted attachments, field 4, are not written or read).
#[derive(Clone, PartialEq, prost::Message)]
struct QuoteProto {
    #[prost(uint64, optional, tag = "1")]
    id: Option<u64>,
    #[prost(string, optional, tag = "2")]
    author: Option<String>,
    #[prost(string, optional, tag = "3")]
    text: Option<String>,
}

/// `DataMessage.Reaction`; `action` 0 = REACT, 1 = REMOVE.
#[derive(Clone, PartialEq, prost::Message)]
struct ReactionProto {
    #[prost(uint64, optional, tag = "1")]
    id: Option<u64>,
    #[prost(string, optional, tag = "2")]
    author: Option<String>,
    #[prost(string, optional, tag = "3")]
    emoji: Option<String>,
    #[prost(int32, optional, tag = "4")]
    action: Option<i32>,
}

/// `UnsendRequest`.
#[derive(Clone, PartialEq, prost::Message)]
struct UnsendRequestProto {
    #[prost(uint64, optional, tag = "1")]
    timestamp: Option<u64>,
    #[prost(string, optional, tag = "2")]
    author: Option<String>,
}

const REACT: i32 = 0;
const REMOVE: i32 = 1;

/// A reaction's emoji as taken from anyone: 1 to [`EMOJI_MAX`] bytes, no control, space or
/// direction characters, and no letters or digits (an emoji, not a word).
pub fn check_emoji(emoji: &str) -> Option<&str> {
    let ok = !emoji.is_empty()
        && emoji.len() <= EMOJI_MAX
        && emoji.chars().all(|c| {
            !c.is_control()
                && !c.is_whitespace()
                && !c.is_alphanumeric()
                && !matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        });
    ok.then_some(emoji)
}

fn message_ref(id: Option<u64>, author: Option<&str>) -> Option<MessageRef> {
    let sent_ms = id.filter(|&t| t > 0)?;
    let author = author?.parse().ok()?;
    Some(MessageRef { sent_ms, author })
}

/// Cuts `text` to at most `max` bytes at a character boundary.
fn capped(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

impl Extras {
    /// Whether it is a control (an unsend request, a request's acceptance, a read receipt, a
    /// typing indicator), not a message.
    pub fn is_control(&self) -> bool {
        self.unsend.is_some()
            || self.request_accepted
            || !self.read.is_empty()
            || self.typing.is_some()
    }

    /// Whether it carries nothing.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// These as received from `sender`: an unsend request counts only for the sender's own
    /// message (anyone may quote or react to anyone's).
    #[must_use]
    pub fn from_sender(mut self, sender: &SessionId) -> Self {
        if self.unsend.is_some_and(|u| u.author != *sender) {
            self.unsend = None;
        }
        self
    }

    /// Appends these to `content` (a serialised `Content`): nothing when empty.
    pub fn append_to(&self, content: &mut Vec<u8>) {
        if self.is_empty() {
            return;
        }
        let data = (self.quote.is_some() || self.reaction.is_some()).then(|| ExtrasData {
            quote: self.quote.as_ref().map(|q| QuoteProto {
                id: Some(q.to.sent_ms),
                author: Some(q.to.author.to_string()),
                text: q.text.as_deref().map(|t| capped(t, QUOTE_TEXT_MAX)),
            }),
            reaction: self.reaction.as_ref().map(|r| ReactionProto {
                id: Some(r.to.sent_ms),
                author: Some(r.to.author.to_string()),
                emoji: Some(r.emoji.clone()),
                action: Some(if r.remove { REMOVE } else { REACT }),
            }),
        });
        ExtrasContent {
            data_message: data,
            receipt_message: (!self.read.is_empty()).then(|| ReceiptProto {
                r#type: Some(RECEIPT_READ),
                timestamp: self.read.iter().copied().take(RECEIPT_MAX).collect(),
            }),
            typing_message: self.typing.map(|t| TypingProto {
                timestamp: Some(t.at_ms),
                action: Some(if t.started { 0 } else { 1 }),
            }),
            unsend_request: self.unsend.map(|u| UnsendRequestProto {
                timestamp: Some(u.sent_ms),
                author: Some(u.author.to_string()),
            }),
            message_request_response: self.request_accepted.then_some(
                MessageRequestResponseProto {
                    is_approved: Some(true),
                },
            ),
        }
        .encode(content)
        .expect("a Vec grows as needed");
    }

    /// Reads what `content` (signed `Content` bytes) carries; a field that fails its checks is
    /// left out, and bytes that do not parse carry nothing.
    pub fn read(content: &[u8]) -> Self {
        let Ok(parsed) = ExtrasContent::decode(content) else {
            return Self::default();
        };
        let data = parsed.data_message.unwrap_or_default();
        let quote = data.quote.and_then(|q| {
            Some(Quote {
                to: message_ref(q.id, q.author.as_deref())?,
                text: q.text.map(|t| capped(&t, QUOTE_TEXT_MAX)),
            })
        });
        let reaction = data.reaction.and_then(|r| {
            let remove = match r.action.unwrap_or(REACT) {
                REACT => false,
                REMOVE => true,
                _ => return None,
            };
            Some(Reaction {
                to: message_ref(r.id, r.author.as_deref())?,
                emoji: check_emoji(r.emoji.as_deref()?)?.to_owned(),
                remove,
            })
        });
        let unsend = parsed
            .unsend_request
            .and_then(|u| message_ref(u.timestamp, u.author.as_deref()));
        let read = parsed
            .receipt_message
            .filter(|r| r.r#type == Some(RECEIPT_READ))
            .map(|r| {
                r.timestamp
                    .into_iter()
                    .filter(|&t| t > 0)
                    .take(RECEIPT_MAX)
                    .collect()
            })
            .unwrap_or_default();
        let typing = parsed.typing_message.and_then(|t| {
            let started = match t.action {
                Some(0) => true,
                Some(1) => false,
                _ => return None,
            };
            Some(Typing {
                started,
                at_ms: t.timestamp.filter(|&at| at > 0)?,
            })
        });
        let request_accepted = parsed
            .message_request_response
            .is_some_and(|r| r.is_approved == Some(true));
        Self {
            quote,
            reaction,
            unsend,
            request_accepted,
            read,
            typing,
            group_deletion: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{Content, DataMessage};

    fn someone() -> SessionId {
        crate::Identity::from_seed(crate::Seed::from_bytes(&[7; 32]).unwrap()).session_id()
    }

    #[test]
    fn extras_ride_after_the_plain_content_and_read_back() {
        let plain = Content {
            data_message: Some(DataMessage {
                body: Some("sounds good".into()),
                timestamp: Some(5),
                ..DataMessage::default()
            }),
            ..Content::default()
        };
        let to = MessageRef {
            sent_ms: 1_700_000_000_123,
            author: someone(),
        };
        let extras = Extras {
            quote: Some(Quote {
                to,
                text: Some("shall we?".into()),
            }),
            reaction: Some(Reaction {
                to,
                emoji: "👍🏽".into(),
                remove: false,
            }),
            unsend: Some(to),
            request_accepted: true,
            read: vec![7, 8],
            typing: Some(Typing {
                started: false,
                at_ms: 9,
            }),
            group_deletion: None,
        };
        let mut bytes = plain.encode_to_vec();
        extras.append_to(&mut bytes);
        // Session's decoder (our Content type stands in) still reads the plain message.
        let merged = Content::decode(bytes.as_slice()).unwrap();
        assert_eq!(
            merged.data_message.unwrap().body.as_deref(),
            Some("sounds good")
        );
        assert_eq!(Extras::read(&bytes), extras);
        // Nothing appended for nothing.
        let mut none = plain.encode_to_vec();
        Extras::default().append_to(&mut none);
        assert_eq!(none, plain.encode_to_vec());
        assert!(Extras::read(&none).is_empty());
    }

    #[test]
    fn the_wire_form_is_sessions_field_numbers() {
        let to = MessageRef {
            sent_ms: 300,
            author: someone(),
        };
        let mut bytes = Vec::new();
        Extras {
            reaction: Some(Reaction {
                to,
                emoji: "❤".into(),
                remove: true,
            }),
            ..Extras::default()
        }
        .append_to(&mut bytes);
        // Content.dataMessage (1, length-delimited) → DataMessage.reaction (11) →
        // id (1, varint 300), author (2), emoji (3), action (4) = 1.
        let author = someone().to_string();
        let mut reaction = vec![0x08, 0xac, 0x02, 0x12, 66];
        reaction.extend_from_slice(author.as_bytes());
        reaction.extend_from_slice(&[0x1a, 3]);
        reaction.extend_from_slice("❤".as_bytes());
        reaction.extend_from_slice(&[0x20, 1]);
        let mut data = vec![0x5a, reaction.len() as u8];
        data.extend_from_slice(&reaction);
        let mut want = vec![0x0a, data.len() as u8];
        want.extend_from_slice(&data);
        assert_eq!(bytes, want);
        // UnsendRequest is Content field 9: timestamp (1), author (2).
        let mut bytes = Vec::new();
        Extras {
            unsend: Some(to),
            ..Extras::default()
        }
        .append_to(&mut bytes);
        assert_eq!(&bytes[..5], &[0x4a, 71, 0x08, 0xac, 0x02]);
    }

    #[test]
    fn a_strangers_fields_are_checked() {
        let good = someone().to_string();
        let reaction = |id, author: &str, emoji: &str, action| {
            ExtrasContent {
                data_message: Some(ExtrasData {
                    quote: None,
                    reaction: Some(ReactionProto {
                        id,
                        author: Some(author.into()),
                        emoji: Some(emoji.into()),
                        action,
                    }),
                }),
                unsend_request: None,
                message_request_response: None,
                receipt_message: None,
                typing_message: None,
            }
            .encode_to_vec()
        };
        assert!(
            Extras::read(&reaction(Some(1), &good, "🎉", Some(0)))
                .reaction
                .is_some()
        );
        for bad in [
            reaction(None, &good, "🎉", Some(0)),
            reaction(Some(0), &good, "🎉", Some(0)),
            reaction(Some(1), "05nothex", "🎉", Some(0)),
            reaction(Some(1), &good, "", Some(0)),
            reaction(Some(1), &good, "lol", Some(0)),
            reaction(Some(1), &good, "🎉\u{202e}", Some(0)),
            reaction(Some(1), &good, &"🎉".repeat(9), Some(0)),
            reaction(Some(1), &good, "🎉", Some(7)),
        ] {
            assert!(Extras::read(&bad).reaction.is_none());
        }
        let long = ExtrasContent {
            data_message: Some(ExtrasData {
                quote: Some(QuoteProto {
                    id: Some(9),
                    author: Some(good),
                    text: Some("é".repeat(QUOTE_TEXT_MAX)),
                }),
                reaction: None,
            }),
            unsend_request: None,
            message_request_response: None,
            receipt_message: None,
            typing_message: None,
        }
        .encode_to_vec();
        let quote = Extras::read(&long).quote.unwrap();
        assert!(quote.text.unwrap().len() <= QUOTE_TEXT_MAX);
        assert!(Extras::read(b"\xff\xff not protobuf").is_empty());
    }
}
