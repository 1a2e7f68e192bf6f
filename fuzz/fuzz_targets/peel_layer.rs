#![no_main]
//! A relay peeling an arbitrary onion body with a fixed node key: never panics.
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use murmur_core::onion::{NodeKey, peel_layer};

static NODE: LazyLock<NodeKey> = LazyLock::new(|| NodeKey::from_secret([7u8; 32]));

fuzz_target!(|data: &[u8]| {
    let _ = peel_layer(&NODE, data);
});
