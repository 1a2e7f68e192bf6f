#![no_main]
//! Opening arbitrary bytes as a v1 message for a fixed recipient: never panics. Inputs that
//! start with a valid sealed box reach the signature and unpadding code.
use libfuzzer_sys::fuzz_target;
use murmur_core::{Identity, Seed, message};

fuzz_target!(|data: &[u8]| {
    let me = Identity::from_seed(Seed::from_bytes(&[1u8; 32]).expect("32-byte seed"));
    let _ = message::decrypt_incoming(&me, data);
    let _ = message::decode_direct_message(&me, data);
});
