//! The protobuf types of a v1 direct message, as proto2 (Session's `SignalService.proto` and
//! `WebSocketResources.proto`). Only the fields Murmur reads or writes are declared; unknown
//! fields are skipped by the decoder, so messages from newer clients still parse.

/// `WebSocketMessage.type`: a request.
pub const WEBSOCKET_REQUEST: i32 = 1;
/// `Envelope.type`: a 1-to-1 Session message.
pub const ENVELOPE_SESSION_MESSAGE: i32 = 6;

/// `WebSocketResources.WebSocketMessage`: the outer wrapper that is stored.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WebSocketMessage {
    #[prost(int32, optional, tag = "1")]
    pub r#type: Option<i32>,
    #[prost(message, optional, tag = "2")]
    pub request: Option<WebSocketRequestMessage>,
}

/// `WebSocketRequestMessage`: `body` holds the Envelope; `verb`/`path` are legacy and ignored.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WebSocketRequestMessage {
    #[prost(string, optional, tag = "1")]
    pub verb: Option<String>,
    #[prost(string, optional, tag = "2")]
    pub path: Option<String>,
    #[prost(bytes = "vec", optional, tag = "3")]
    pub body: Option<Vec<u8>>,
    #[prost(uint64, optional, tag = "4")]
    pub request_id: Option<u64>,
}

/// `SessionProtos.Envelope`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Envelope {
    #[prost(int32, required, tag = "1")]
    pub r#type: i32,
    #[prost(string, optional, tag = "2")]
    pub source: Option<String>,
    #[prost(uint64, required, tag = "5")]
    pub timestamp: u64,
    #[prost(uint32, optional, tag = "7")]
    pub source_device: Option<u32>,
    #[prost(bytes = "vec", optional, tag = "8")]
    pub content: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "11")]
    pub pro_sig: Option<Vec<u8>>,
}

/// `Content.expirationType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum ExpirationType {
    Unknown = 0,
    DeleteAfterRead = 1,
    DeleteAfterSend = 2,
}

/// `SessionProtos.Content`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Content {
    #[prost(message, optional, tag = "1")]
    pub data_message: Option<DataMessage>,
    #[prost(enumeration = "ExpirationType", optional, tag = "12")]
    pub expiration_type: Option<i32>,
    /// Seconds after which the message disappears.
    #[prost(uint32, optional, tag = "13")]
    pub expiration_timer: Option<u32>,
    #[prost(uint64, optional, tag = "15")]
    pub sig_timestamp: Option<u64>,
}

/// `SessionProtos.DataMessage` (the fields Murmur reads and writes).
#[derive(Clone, PartialEq, prost::Message)]
pub struct DataMessage {
    #[prost(string, optional, tag = "1")]
    pub body: Option<String>,
    #[prost(message, repeated, tag = "2")]
    pub attachments: Vec<AttachmentPointer>,
    #[prost(uint32, optional, tag = "4")]
    pub flags: Option<u32>,
    /// The key of the sender's profile picture (with `profile`).
    #[prost(bytes = "vec", optional, tag = "6")]
    pub profile_key: Option<Vec<u8>>,
    #[prost(uint64, optional, tag = "7")]
    pub timestamp: Option<u64>,
    #[prost(message, optional, tag = "101")]
    pub profile: Option<LokiProfile>,
    /// Set on the sender's own sync copy: the Session ID it was sent to.
    #[prost(string, optional, tag = "105")]
    pub sync_target: Option<String>,
}

/// `SessionProtos.AttachmentPointer` (proto2): where a file is and how to open it.
#[derive(Clone, PartialEq, prost::Message)]
pub struct AttachmentPointer {
    /// Session desktop: the URL's last segment as a number, 0 when it is not one.
    #[prost(fixed64, required, tag = "1")]
    pub deprecated_id: u64,
    #[prost(string, optional, tag = "2")]
    pub content_type: Option<String>,
    /// 32 bytes (the S format).
    #[prost(bytes = "vec", optional, tag = "3")]
    pub key: Option<Vec<u8>>,
    /// Plaintext bytes, padding excluded.
    #[prost(uint32, optional, tag = "4")]
    pub size: Option<u32>,
    #[prost(bytes = "vec", optional, tag = "6")]
    pub digest: Option<Vec<u8>>,
    #[prost(string, optional, tag = "7")]
    pub file_name: Option<String>,
    #[prost(uint32, optional, tag = "8")]
    pub flags: Option<u32>,
    #[prost(uint32, optional, tag = "9")]
    pub width: Option<u32>,
    #[prost(uint32, optional, tag = "10")]
    pub height: Option<u32>,
    #[prost(string, optional, tag = "11")]
    pub caption: Option<String>,
    #[prost(string, optional, tag = "101")]
    pub url: Option<String>,
}

/// `SessionProtos.LokiProfile`: the sender's display name and picture URL.
#[derive(Clone, PartialEq, prost::Message)]
pub struct LokiProfile {
    #[prost(string, optional, tag = "1")]
    pub display_name: Option<String>,
    #[prost(string, optional, tag = "2")]
    pub profile_picture: Option<String>,
    #[prost(uint64, optional, tag = "3")]
    pub last_profile_update_seconds: Option<u64>,
}
