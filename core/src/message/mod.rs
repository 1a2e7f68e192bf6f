//! v1 direct messages (SESSION-PROTOCOL.md §5.1).
//!
//! Sending: `Content` protobuf → pad to a multiple of 160 → sign `P || sender_ed || recipient_x`
//! with the sender's Ed25519 key → seal `P || sender_ed || sig` to the recipient's X25519 key →
//! `Envelope` → `WebSocketMessage`, stored in the recipient's swarm. The recipient key is signed
//! but not sent, so a message cannot be re-addressed to someone else.

pub mod content;
pub mod extras;
pub mod proto;

use ed25519_dalek::{Signature, Signer, VerifyingKey};
use prost::Message as _;
use rand_core::CryptoRng;

use crate::crypto;
use crate::error::{Error, Result};
use crate::keys::{Identity, SessionId, ed25519_pk_to_x25519};
pub use content::{Attachment, Body, Profile, ProfilePicture};
pub use proto::{Content, DataMessage, Envelope, ExpirationType, WebSocketMessage};

/// Padding block of v1 content.
pub const PADDING_BLOCK: usize = 160;
/// Bytes the sender's key and signature add inside the sealed box.
const SIGNED_OVERHEAD: usize = 32 + 64;

/// Pads so the result is a multiple of 160: `content || 0x80 || 0x00…` (LSU 2025 form).
pub fn pad(content: &[u8]) -> Vec<u8> {
    let added = PADDING_BLOCK - ((content.len() + 1) % PADDING_BLOCK);
    let mut out = Vec::with_capacity(content.len() + 1 + added);
    out.extend_from_slice(content);
    out.push(0x80);
    out.resize(content.len() + 1 + added, 0);
    out
}

/// Removes padding of either generation: trailing zeros then one 0x80; content whose last
/// non-zero byte is not 0x80 is taken as unpadded.
pub fn unpad(padded: &[u8]) -> &[u8] {
    match padded.iter().rposition(|&b| b != 0) {
        Some(i) if padded[i] == 0x80 => &padded[..i],
        _ => padded,
    }
}

/// Signs and seals `plaintext` (already padded) for `recipient`.
pub fn encrypt_for_recipient(
    sender: &Identity,
    recipient: &SessionId,
    plaintext: &[u8],
    rng: &mut impl CryptoRng,
) -> Result<Vec<u8>> {
    let sender_ed = sender.ed25519_pubkey().to_bytes();
    let recipient_x = recipient.x25519_pubkey();
    let signed = [plaintext, &sender_ed, &recipient_x].concat();
    let sig = sender.ed25519_signing_key().sign(&signed);
    let inner = [plaintext, &sender_ed, &sig.to_bytes()].concat();
    crypto::sealed_box_seal(&recipient_x, &inner, rng)
}

/// A message opened and verified by its recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// The sender's Session ID, derived from the Ed25519 key inside the box.
    pub sender: SessionId,
    pub sender_ed25519: [u8; 32],
    /// The plaintext exactly as signed (still padded).
    pub plaintext: Vec<u8>,
}

/// Opens a sealed message addressed to `recipient` and verifies the sender's signature.
pub fn decrypt_incoming(recipient: &Identity, ciphertext: &[u8]) -> Result<Opened> {
    if ciphertext.len() < crypto::SEALED_BOX_OVERHEAD + SIGNED_OVERHEAD {
        return Err(Error::Malformed("message too short"));
    }
    let inner = crypto::sealed_box_open(
        recipient.x25519_secret(),
        &recipient.x25519_pubkey(),
        ciphertext,
    )?;
    let split = inner
        .len()
        .checked_sub(SIGNED_OVERHEAD)
        .ok_or(Error::Malformed("message too short"))?;
    let (plaintext, rest) = inner.split_at(split);
    let (sender_ed, sig) = rest.split_at(32);
    let sender_ed: [u8; 32] = sender_ed
        .try_into()
        .map_err(|_| Error::Malformed("bad key"))?;
    let sig = Signature::from_slice(sig).map_err(|_| Error::BadSignature)?;
    let key = VerifyingKey::from_bytes(&sender_ed).map_err(|_| Error::BadSignature)?;
    let signed = [plaintext, &sender_ed, &recipient.x25519_pubkey()].concat();
    key.verify_strict(&signed, &sig)
        .map_err(|_| Error::BadSignature)?;
    let sender = SessionId::from_x25519(ed25519_pk_to_x25519(&sender_ed)?);
    Ok(Opened {
        sender,
        sender_ed25519: sender_ed,
        plaintext: plaintext.to_vec(),
    })
}

/// Wraps sealed content as `WebSocketMessage{REQUEST, body = Envelope{SESSION_MESSAGE, …}}`.
pub fn wrap(ciphertext: Vec<u8>, sent_ms: u64) -> Vec<u8> {
    let envelope = Envelope {
        r#type: proto::ENVELOPE_SESSION_MESSAGE,
        source: None,
        timestamp: sent_ms,
        source_device: Some(1),
        content: Some(ciphertext),
        pro_sig: None,
    };
    WebSocketMessage {
        r#type: Some(proto::WEBSOCKET_REQUEST),
        request: Some(proto::WebSocketRequestMessage {
            verb: Some(String::new()),
            path: Some(String::new()),
            body: Some(envelope.encode_to_vec()),
            request_id: Some(0),
        }),
    }
    .encode_to_vec()
}

/// Unwraps stored bytes to the Envelope (legacy `verb`/`path` values are ignored).
pub fn unwrap(data: &[u8]) -> Result<Envelope> {
    let ws =
        WebSocketMessage::decode(data).map_err(|_| Error::Malformed("not a WebSocketMessage"))?;
    let body = ws
        .request
        .and_then(|r| r.body)
        .ok_or(Error::Malformed("WebSocketMessage has no request body"))?;
    Envelope::decode(body.as_slice()).map_err(|_| Error::Malformed("not an Envelope"))
}

/// A received direct message.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub sender: SessionId,
    pub sent_ms: u64,
    pub content: Content,
    /// `content` as it was signed: fields `Content` does not declare (a group's control
    /// message, `groups::control`) are read from these.
    pub content_bytes: Vec<u8>,
}

/// Encodes a `Content` for `recipient`: pad, sign, seal, envelope, wrapper.
pub fn encode_direct_message(
    sender: &Identity,
    recipient: &SessionId,
    content: &Content,
    sent_ms: u64,
    rng: &mut impl CryptoRng,
) -> Result<Vec<u8>> {
    encode_direct_bytes(sender, recipient, &content.encode_to_vec(), sent_ms, rng)
}

/// [`encode_direct_message`] of a `Content` serialized already.
pub fn encode_direct_bytes(
    sender: &Identity,
    recipient: &SessionId,
    content: &[u8],
    sent_ms: u64,
    rng: &mut impl CryptoRng,
) -> Result<Vec<u8>> {
    let ct = encrypt_for_recipient(sender, recipient, &pad(content), rng)?;
    Ok(wrap(ct, sent_ms))
}

/// Decodes stored bytes addressed to `recipient`: unwrap, open, verify, unpad, parse.
pub fn decode_direct_message(recipient: &Identity, data: &[u8]) -> Result<Received> {
    let envelope = unwrap(data)?;
    let ct = envelope
        .content
        .ok_or(Error::Malformed("Envelope has no content"))?;
    let opened = decrypt_incoming(recipient, &ct)?;
    let content_bytes = unpad(&opened.plaintext).to_vec();
    let content = Content::decode(content_bytes.as_slice())
        .map_err(|_| Error::Malformed("not a Content message"))?;
    Ok(Received {
        sender: opened.sender,
        sent_ms: envelope.timestamp,
        content,
        content_bytes,
    })
}

/// A text message's `Content` ([`message_content`] of the text alone).
pub fn text_content(text: &str, sent_ms: u64, disappear_after_s: Option<u32>) -> Content {
    message_content(&Body::text(text), sent_ms, disappear_after_s)
}

/// A message's `Content` (text, attachments, profile), with disappearing-message fields when
/// `disappear_after_s` is set.
pub fn message_content(body: &Body, sent_ms: u64, disappear_after_s: Option<u32>) -> Content {
    let mut dm = DataMessage {
        timestamp: Some(sent_ms),
        ..DataMessage::default()
    };
    body.write(&mut dm);
    Content {
        data_message: Some(dm),
        expiration_type: disappear_after_s.map(|_| ExpirationType::DeleteAfterSend as i32),
        expiration_timer: disappear_after_s,
        sig_timestamp: Some(sent_ms),
    }
}
