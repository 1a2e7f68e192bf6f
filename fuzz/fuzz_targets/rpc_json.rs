#![no_main]
//! Storage RPC requests as JSON: never panic; a parsed request survives a JSON round trip and
//! its signed string is computable.
use libfuzzer_sys::fuzz_target;
use murmur_core::rpc::Request;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = Request::from_json(data) {
        let _ = req.signed_message();
        let again = Request::from_json(req.to_json().to_string().as_bytes()).expect("round trip");
        assert_eq!(again, req);
    }
});
