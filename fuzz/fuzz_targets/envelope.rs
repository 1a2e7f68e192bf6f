#![no_main]
//! The stored wrapper (WebSocketMessage → Envelope) and the Content protobuf: never panic.
use libfuzzer_sys::fuzz_target;
use murmur_core::message::{self, Content};
use prost::Message as _;

fuzz_target!(|data: &[u8]| {
    let _ = message::unwrap(data);
    let _ = Content::decode(message::unpad(data));
});
