#![no_main]
//! The `[N][blob][JSON]` framing every onion layer uses: never panics, and re-encoding a parsed
//! payload parses back to the same value.
use libfuzzer_sys::fuzz_target;
use murmur_core::onion::CombinedPayload;

fuzz_target!(|data: &[u8]| {
    if let Ok(payload) = CombinedPayload::decode(data) {
        let again = CombinedPayload::decode(&payload.encode()).expect("re-encoded payload parses");
        assert_eq!(again, payload);
    }
});
