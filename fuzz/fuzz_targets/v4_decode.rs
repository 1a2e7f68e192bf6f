#![no_main]
//! v4 bencoded requests and responses: never panic; parsed values re-encode to parseable bytes.
use libfuzzer_sys::fuzz_target;
use murmur_core::onion::v4::{V4Request, V4Response};

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = V4Request::decode(data) {
        assert_eq!(V4Request::decode(&req.encode()).expect("round trip"), req);
    }
    if let Ok(resp) = V4Response::decode(data) {
        assert_eq!(V4Response::decode(&resp.encode()).expect("round trip"), resp);
    }
});
