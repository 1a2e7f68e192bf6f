//! `murmur inspect` from the outside: JSON on stdout and exit 0, or a message on stderr and
//! exit 2, checked against the protocol vectors.

use std::process::Command;

use serde_json::Value;

fn murmur(args: &[&str]) -> (i32, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_murmur"))
        .args(args)
        .output()
        .expect("run murmur");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (
        out.status.code().unwrap_or(-1),
        json,
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn ok(args: &[&str]) -> Value {
    let (code, json, err) = murmur(args);
    assert_eq!(code, 0, "{args:?}: {err}");
    json
}

fn bad(args: &[&str]) -> String {
    let (code, json, err) = murmur(args);
    assert_eq!(code, 2, "{args:?} should fail");
    assert_eq!(json, Value::Null, "nothing on stdout");
    assert!(!err.trim().is_empty());
    err
}

#[test]
fn session_id() {
    let v = ok(&[
        "inspect",
        "session-id",
        "--seed",
        "0123456789abcdef0123456789abcdef",
    ]);
    assert_eq!(
        v["session_id"],
        "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72"
    );
    assert_eq!(
        v["ed25519_pubkey"],
        "4cb76fdc6d32278e3f83dbf608360ecc6b65727934b85d2fb86862ff98c46ab7"
    );
    assert_eq!(
        v["x25519_pubkey"],
        "d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72"
    );
    assert!(bad(&["inspect", "session-id", "--seed", "0123"]).contains("16 or 32 bytes"));
    assert!(bad(&["inspect", "session-id", "--seed", "xyz"]).contains("hex"));
}

#[test]
fn mnemonic() {
    let v = ok(&[
        "inspect",
        "mnemonic",
        "--encode",
        "000102030405060708090a0b0c0d0e0f",
    ]);
    assert_eq!(
        v["words"],
        "amaze buffet cake entrance symptoms tiger lamb maze nestle python dusted faxed faxed"
    );
    let v = ok(&[
        "inspect",
        "mnemonic",
        "--decode",
        "amaze buffet cake entrance symptoms tiger lamb maze nestle python dusted faxed faxed",
    ]);
    assert_eq!(
        v["seed"],
        "000102030405060708090a0b0c0d0e0f00000000000000000000000000000000"
    );
    assert_eq!(
        v["session_id"],
        "05ca03b8e369aeeb69fd260c2957d37b232db17a60db7a39bca9f0c0a6be135c1a"
    );
    assert!(bad(&["inspect", "mnemonic", "--decode", "abbey abbey"]).contains("13 words"));
    assert!(bad(&["inspect", "mnemonic", "--encode", "010203"]).contains("4-byte"));
    // Both or neither is a usage error (clap's own exit code 2).
    bad(&["inspect", "mnemonic"]);
}

#[test]
fn swarm() {
    let id = "053506f4a71324b7dd114eddbf4e311f39dde243e1f2cb97c40db1961f70ebaae8";
    assert_eq!(
        ok(&["inspect", "swarm", id]),
        serde_json::json!({"space": 17589930838143112648u64})
    );
    let v = ok(&[
        "inspect",
        "swarm",
        id,
        "--swarm-ids",
        "0,17000000000000000000,18446744073709551615",
    ]);
    assert_eq!(v["swarm_id"], 17000000000000000000u64);
    assert!(bad(&["inspect", "swarm", "05abc"]).contains("66 hex"));
}

#[test]
fn open() {
    // libsodium-made v1 message (see core/tests/protocol.rs) from seed 0x02×32 to seed 0x01×32.
    let ct = "9d5b36bea6c47759c6891d19384bc8642eb90a04196f1c0eeb3f7708884e6167d398de988b6e280f7a6733847bc4175366b13534719ebb41a17aa62f6bd5f324f8e9e15287fe04f839ad895f53e8c083bdc74dd35b042d005e574a893f2f2fde8bf3266d060ac95d1973483e278e7f7a760820093326bbe43d89c1cba616b8f24b06181b31cc03afd7c2e3b742e27048b60639120eb1aa30cae27e01f7ace6fd807e39f770f87cac3c4877b5088974963276cb3c0fbd4a744265b8b0ce867e44d50df772c367d9db332a53b3be2e9fa64f160fdf4d89bf9014eb492aae08eaa76fe441418f6daaba83b537c73cfddc07985a1531b1b1e33984b167b56d4dc1e0830a33a28a140cfdc753968157f88e103dbff1c78b25a53776d3cbba159b95985370c5d236a4110256d323cd546902b8";
    let v = ok(&["inspect", "open", "--seed", &"01".repeat(32), ct]);
    assert_eq!(
        v["sender"],
        "0560346e7c911a5f6ba154129174cafe75b294ac3bbd5549632f48cec6266f8410"
    );
    let plain = v["plaintext_hex"].as_str().unwrap();
    assert!(plain.starts_with("0a070a0568656c6c6f80"), "{plain}");
    assert_eq!(plain.len(), 320);
    assert!(
        bad(&["inspect", "open", "--seed", &"03".repeat(32), ct]).contains("decryption failed")
    );
}

#[test]
fn hash() {
    let pk = "051b1b58dd50ea14b60da17b790cd02754d970c9bab864ebb3c0f3016fe51d3f57";
    let hash = |ns: &'static str, data: &'static str| {
        [
            "inspect",
            "hash",
            "--pubkey",
            pk,
            "--namespace",
            ns,
            "--data-b64",
            data,
        ]
    };
    for (ns, data, expected) in [
        (
            "0",
            "aGVsbG8gd29ybGQ=",
            "r25yMYVTAGGF83XusTY1SrMSjj3Em32mJwyzJ+PxojA",
        ),
        ("-10", "AAE=", "SQhAO3dn894DvmbDiOGTJV+bQsmgHjr+HMynBajMMP0"),
    ] {
        assert_eq!(ok(&hash(ns, data))["hash"], expected);
    }
    assert!(bad(&hash("0", "@@")).contains("base64"));
}
