//! SESSION-ATTACHMENTS-CONFIG.md §B.11 vectors (libsession's serialisation, hashes, signature
//! and UserProfile encryption), then merging and bad input.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use std::collections::BTreeSet;

use ed25519_dalek::SigningKey;

use super::merge::{Merged, merge};
use super::message::{ConfigMessage, hash};
use super::seal;
use super::{Data, Scalar, Value, diff};

fn s(text: &str) -> Vec<u8> {
    text.as_bytes().to_vec()
}

fn set(items: &[Scalar]) -> Value {
    Value::Set(items.iter().cloned().collect::<BTreeSet<_>>())
}

fn dict(entries: Vec<(&str, Value)>) -> Data {
    entries.into_iter().map(|(k, v)| (s(k), v)).collect()
}

fn str_(t: &str) -> Scalar {
    Scalar::Str(s(t))
}

fn data10() -> Data {
    dict(vec![
        (
            "bar",
            Value::Dict(dict(vec![
                ("", set(&[Scalar::Int(42), str_("a"), str_("b")])),
                ("asdf", Value::Int(123)),
                ("xyz", Value::Str(s("abc"))),
            ])),
        ),
        ("foo", Value::Int(123)),
    ])
}

fn message10() -> ConfigMessage {
    let mut m = ConfigMessage::empty();
    m.seqno = 10;
    m.diff = diff::compute(&Data::new(), &data10());
    m.data = data10();
    m
}

fn text(bytes: &[u8], h0: &[u8; 32], h1: &[u8; 32]) -> String {
    // The vectors write hashes as <hash0> / <hash1>.
    let mut t = String::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(h0) {
            t.push_str("<hash0>");
            i += 32;
        } else if bytes[i..].starts_with(h1) {
            t.push_str("<hash1>");
            i += 32;
        } else {
            t.push(bytes[i] as char);
            i += 1;
        }
    }
    t
}

#[test]
fn serialisation_and_hashes_match_libsession() {
    let m10 = message10();
    let b10 = m10.serialize(None);
    assert_eq!(
        text(&b10, &[1; 32], &[1; 32]),
        "d1:#i10e1:&d3:bard0:li42e1:a1:be4:asdfi123e3:xyz3:abce3:fooi123ee1:<le1:=d3:bard0:lli42e1:a1:belee4:asdf0:3:xyz0:e3:foo0:ee"
    );
    let h0 = hash(&b10);
    assert_eq!(
        hex::encode(h0),
        "d65738bba88b0f3455cef20fe09a7b4b10f25f9db82be24a6ce1bd06da197526"
    );
    assert_eq!(ConfigMessage::parse(&b10, None).unwrap(), m10);

    let mut d11 = data10();
    d11.remove(b"foo".as_slice());
    let m11 = m10.increment(h0, d11);
    let b11 = m11.serialize(None);
    assert_eq!(
        text(&b11, &h0, &[1; 32]),
        "d1:#i11e1:&d3:bard0:li42e1:a1:be4:asdfi123e3:xyz3:abcee1:<lli10e32:<hash0>d3:bard0:lli42e1:a1:belee4:asdf0:3:xyz0:e3:foo0:eee1:=d3:foo1:-ee"
    );
    let h1 = hash(&b11);
    assert_eq!(
        hex::encode(h1),
        "5b30b4abf4cba71db25dbc0d977cc25df1d0a8a87cad7f561cdec2b8caf65f5e"
    );

    let mut d12 = m11.data.clone();
    d12.insert(s("foo"), Value::Int(123));
    let Some(Value::Dict(bar)) = d12.get_mut(b"bar".as_slice()) else {
        panic!("bar is a dict");
    };
    bar.insert(s("xyz"), Value::Int(42));
    bar.insert(s("a"), Value::Int(42));
    bar.insert(
        s(""),
        set(&[Scalar::Int(42), Scalar::Int(99), str_("a"), str_("c")]),
    );
    let m12 = m11.increment(h1, d12);
    let b12 = m12.serialize(None);
    assert_eq!(
        text(&b12, &h0, &h1),
        "d1:#i12e1:&d3:bard0:li42ei99e1:a1:ce1:ai42e4:asdfi123e3:xyzi42ee3:fooi123ee1:<lli10e32:<hash0>d3:bard0:lli42e1:a1:belee4:asdf0:3:xyz0:e3:foo0:eeli11e32:<hash1>d3:foo1:-eee1:=d3:bard0:lli99e1:cel1:bee1:a0:3:xyz0:e3:foo0:ee"
    );
    assert_eq!(
        hex::encode(hash(&b12)),
        "027552203cf669070d3ecbeecfa65c65497d59aa4da490e0f68f8131ce081320"
    );
    assert_eq!(ConfigMessage::parse(&b12, None).unwrap(), m12);

    let empty = ConfigMessage::empty().serialize(None);
    assert_eq!(empty, b"d1:#i0e1:&de1:<le1:=dee");
    assert_eq!(
        hex::encode(hash(&empty)),
        "ea173b57beca8af18c3519a7bbf69c3e7a05d1c049fa9558341d8ebb48b0c965"
    );
}

#[test]
fn signature_matches_libsession() {
    let sk: [u8; 64] = hex::decode("79f530dbf3d81aecc04072933c1b3e3edc0b7d91f2dcc2f7756f2611886cca5f4384261cdd338f5820ca9cbbe3fc72ac8944ee60d3b795b797fbbf5597b09f17").unwrap().try_into().unwrap();
    let signer = SigningKey::from_keypair_bytes(&sk).unwrap();
    let signed = message10().serialize(Some(&signer));
    let sig = &signed[signed.len() - 65..signed.len() - 1];
    assert_eq!(
        hex::encode(sig),
        "77267f4de7701ae348eba0ef73175281512ba3f1051cfed22dc3e31b9c6993302938863e09bc8b33638161071bd8dc397d5c1d3f674120d08fbb9c64dde2e907"
    );
    let key = signer.verifying_key();
    assert_eq!(
        ConfigMessage::parse(&signed, Some(&key)).unwrap(),
        message10()
    );
    // Unsigned, or signed by someone else, it is refused where a signature is required.
    assert!(ConfigMessage::parse(&message10().serialize(None), Some(&key)).is_err());
    let other = SigningKey::from_bytes(&[7; 32]);
    assert!(ConfigMessage::parse(&message10().serialize(Some(&other)), Some(&key)).is_err());
    let mut tampered = signed.clone();
    tampered[8] ^= 1;
    assert!(ConfigMessage::parse(&tampered, Some(&key)).is_err());
}

#[test]
fn user_profile_push_matches_libsession() {
    let seed: [u8; 32] =
        hex::decode("0123456789abcdef0123456789abcdef00000000000000000000000000000000")
            .unwrap()
            .try_into()
            .unwrap();
    let empty = ConfigMessage::empty();
    let data = dict(vec![
        ("+", Value::Int(9)),
        ("n", Value::Str(s("Kallie"))),
        ("p", Value::Str(s("http://example.org/omg-pic-123.bmp"))),
        ("q", Value::Str(s("secret78901234567890123456789012"))),
    ]);
    let m1 = empty.increment(hash(&empty.serialize(None)), data);
    let plain = m1.serialize(None);
    assert_eq!(plain.len(), 180);
    let padded = seal::prepare(&plain);
    assert_eq!(padded.len(), 216);
    let sealed = seal::encrypt(&seed, seal::DOMAIN_USER_PROFILE, &padded);
    assert_eq!(
        hex::encode(&sealed),
        "9693a69686da3055f1ecdfb239c3bf8e746951a36d888c2fb7c02e856a5c2091b24e39a7e1af828f1fa09fe8bf7d274afde0a0847ba143c43ffb8722301b5ae32e2f078b9a5e19097403336e50b18c84aade446cd2823b011f97d6ad2116a53feb814efecc086bc172d31f4214b4d7c630b63bbe575b08682d146da44915063a07a78556ab5eff4f67f6aa26211e8d330b53d28567a931028c393709a325425de7486ccde24416a7fd4a8ba5fa73899c65f4276dfaddd5b2100adcf0f793104fb235b31ce32ec656056009a9ebf58d45d7d696b74e0c7ff0499c4d23204976f19561dc0dba6dc53a2497d28ce03498ea49bf122762d7bc1d6d9c02f6d54f8384"
    );
    assert_eq!(
        seal::decrypt(&seed, seal::DOMAIN_USER_PROFILE, &sealed).unwrap(),
        plain
    );
    // Another key or domain opens nothing.
    assert!(seal::decrypt(&[1; 32], seal::DOMAIN_USER_PROFILE, &sealed).is_err());
    assert!(seal::decrypt(&seed, seal::DOMAIN_USER_GROUPS, &sealed).is_err());
}

#[test]
fn padding_sizes() {
    assert_eq!(seal::padded_size(1), 216);
    assert_eq!(seal::padded_size(216), 216);
    assert_eq!(seal::padded_size(217), 472);
    assert_eq!(seal::padded_size(5080), 5080);
    assert_eq!(seal::padded_size(5081), 6104);
    let big = vec![b'x'; 5000];
    let padded = seal::prepare(&[b"d".as_slice(), &big].concat());
    assert!(padded.contains(&b'z'), "compressible data is compressed");
    assert!(padded.len() < 5000);
}

/// Two admins edit the same seqno-10 message at once; every order of inputs merges to the same
/// bytes, holding both edits.
#[test]
fn concurrent_edits_merge_identically_whatever_the_order() {
    let base = message10();
    let h = hash(&base.serialize(None));
    let mut da = base.data.clone();
    da.insert(s("alice"), Value::Str(s("was here")));
    let mut db = base.data.clone();
    db.remove(b"foo".as_slice());
    db.insert(s("bob"), Value::Int(1));
    let a = base.increment(h, da);
    let b = base.increment(h, db);
    let (ha, hb) = (hash(&a.serialize(None)), hash(&b.serialize(None)));

    let one = merge(&[(a.clone(), ha), (b.clone(), hb)], false);
    let two = merge(
        &[(b.clone(), hb), (a.clone(), ha), (base.clone(), h)],
        false,
    );
    let (Merged::New(m1), Merged::New(m2)) = (one, two) else {
        panic!("two heads merge into a new message");
    };
    assert_eq!(m1.serialize(None), m2.serialize(None));
    assert_eq!(m1.seqno, 12);
    assert_eq!(
        m1.data.get(b"alice".as_slice()),
        Some(&Value::Str(s("was here")))
    );
    assert_eq!(m1.data.get(b"bob".as_slice()), Some(&Value::Int(1)));
    assert_eq!(m1.data.get(b"foo".as_slice()), None);
    // The merge, seen next to what it merged, is the one head.
    let hm = hash(&m1.serialize(None));
    let merged = ConfigMessage::parse(&m1.serialize(None), None).unwrap();
    assert_eq!(
        merge(&[(a.clone(), ha), (merged, hm), (b.clone(), hb)], false),
        Merged::Adopt(1)
    );
    // A read-only object (a group member) adopts the best head instead of writing.
    let best = if (a.seqno, ha) > (b.seqno, hb) { 0 } else { 1 };
    assert_eq!(merge(&[(a, ha), (b, hb)], true), Merged::Adopt(best));
}

#[test]
fn malformed_messages_are_refused() {
    for bad in [
        &b"de"[..],
        b"d1:!i0e1:#i0e1:&de1:<le1:=dee",     // a key before `#`
        b"d1:#i0e1:<le1:=dee",                // no data
        b"d1:#i0e1:&d1:ale1:<le1:=dee",       // an empty set
        b"d1:#i0e1:&d1:ali2ei1ee1:<le1:=dee", // an unsorted set
        b"d1:#i0e1:&d1:al1:ai1ee1:<le1:=dee", // strings before ints
        b"d1:#i0e1:&d1:adee1:<le1:=dee",      // an empty dict
        b"d1:#i0e1:&de1:<le1:=d1:a1:xee",     // a diff that is not "" or "-"
        b"d1:#i1e1:&de1:<lli1e32:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaadeee1:=dee", // a lag not older
        b"d1:#i0e1:&de1:<le1:=de1:~1:xi1ee",  // a key after the signature
    ] {
        assert!(
            ConfigMessage::parse(bad, None).is_err(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    // Unknown top-level keys in the gaps survive a round trip.
    let with_unknown = b"d1:#i3e1:$i7e1:&de1:<le1:=de1:{3:abce";
    let m = ConfigMessage::parse(with_unknown, None).unwrap();
    assert_eq!(m.serialize(None), with_unknown);
}
