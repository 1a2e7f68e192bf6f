#![no_main]
//! The stored wrapper (WebSocketMessage → Envelope), the Content protobuf, and what rides after
//! it (replies, reactions, unsend requests, receipts, typing: `message::extras`): never panic.
use libfuzzer_sys::fuzz_target;
use murmur_core::message::{self, Content, extras::Extras};
use prost::Message as _;

fuzz_target!(|data: &[u8]| {
    let _ = message::unwrap(data);
    let _ = Content::decode(message::unpad(data));
    let extras = Extras::read(data);
    // What is read writes back to something that reads the same.
    let mut again = Vec::new();
    extras.append_to(&mut again);
    assert_eq!(Extras::read(&again), extras);
});
