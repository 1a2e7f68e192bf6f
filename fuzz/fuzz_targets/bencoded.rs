#![no_main]
//! The bencoded formats read from the network: protocol v2 (the −21 record, v2 direct
//! messages, device group payloads, `G` messages and link requests), config messages and groups (key messages, group messages, subaccount auth data, kicked
//! notices, and the protobuf control messages) never panic; whatever bencode
//! accepts is canonical (its dicts' raw bytes are exactly the input it consumed).
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use murmur_core::bencode::{self, Item};
use murmur_core::config::{message::ConfigMessage, seal as config_seal};
use murmur_core::groups::{
    auth::Subaccount, control, keys as group_keys, kicked, message as group_message,
};
use murmur_core::v2::devices::{self, link, message as device_message};
use murmur_core::v2::{dm, keys::KemKeys, record};
use murmur_core::{Identity, Seed};

fn keys() -> &'static (Identity, KemKeys) {
    static KEYS: OnceLock<(Identity, KemKeys)> = OnceLock::new();
    KEYS.get_or_init(|| {
        let seed = Seed::from_bytes(&[7; 32]).expect("32 bytes");
        (Identity::from_seed(seed), KemKeys::account(&[9; 32]))
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok((item, used)) = bencode::parse_prefix(data) {
        if let Item::Dict(dict) = item {
            assert_eq!(dict.raw(), &data[..used]);
        }
    }
    let (me, account) = keys();
    let _ = record::parse(&me.session_id(), data);
    let _ = dm::decrypt(me, &[account], data);
    let _ = devices::Payload::parse(devices::unpad(data));
    if let Ok(outer) = device_message::read_outer(me, data) {
        let _ = outer.open(me, &[1; 32], &[account]);
    }
    let _ = link::read_plaintext(me, data);
    if let Ok(m) = ConfigMessage::parse(data, None) {
        // What parses re-serialises to a message that parses (lagged diffs past the window are
        // dropped on the way), and from there the round trip is exact.
        let once = ConfigMessage::parse(&m.serialize(None), None).expect("re-serialised");
        let bytes = once.serialize(None);
        assert_eq!(ConfigMessage::parse(&bytes, None).expect("again"), once);
    }
    let _ = config_seal::decrypt(&[5; 32], config_seal::DOMAIN_GROUP_INFO, data);
    let _ = link::open(me, &[1; 32], core::slice::from_ref(account), data);
    let group_pk = me.ed25519_pubkey();
    let _ = group_message::decrypt(group_pk.as_bytes(), &[[3; 32]], data);
    let _ = Subaccount::open(me, &group_pk, data);
    let _ = group_keys::load(&group_pk, group_keys::Reader::Member(me), data, 0);
    // The kicked notice (bencoded), and control messages and the group envelope (protobuf,
    // read from the same network input).
    let _ = kicked::decrypt(me, group_pk.as_bytes(), data);
    let _ = control::read(data);
    let _ = control::open_envelope(data);
});
