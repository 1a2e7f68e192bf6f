#![no_main]
//! A relay peeling an arbitrary onion body with a fixed node key: never panics.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = murmur_core::onion::peel_layer(&[7u8; 32], data);
});
