//! The crypto workloads `make bench` compares: the same murmur-core operations, on fixed inputs,
//! run natively under criterion (`benches/crypto.rs`) and compiled to wasm in headless Chromium
//! beside libsodium.js doing the same work (`page/`, driven by `scripts/bench-crypto.mjs`).
//!
//! [`Workload`] holds the inputs; [`Op`] names one operation. The wasm build exports a loop
//! over an operation (so the timing is not dominated by JS↔wasm calls), the fixture's keys for
//! the JS side, and cross-checks proving the libsodium.js side produces what murmur-core reads.

use ed25519_dalek::{Signature, Signer as _, SigningKey};
use murmur_core::attachment;
use murmur_core::crypto;
use murmur_core::message;
use murmur_core::onion::{self, Destination, EncType, Hop, NodeKey, Peeled};
use murmur_core::rpc::{AccountId, Namespace, Request, StoreParams};
use murmur_core::v2::dm;
use murmur_core::v2::keys::KemKeys;
use murmur_core::v2::record::PublishedKeys;
use murmur_core::vault::{DataKey, KdfParams, WrappedKey};
use murmur_core::{Identity, Seed};
use prost::Message as _;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng as _;
use std::hint::black_box;

#[cfg(target_arch = "wasm32")]
mod wasm;

/// The vault fixture's passphrase.
const PASSPHRASE: &str = "correct horse battery staple";

/// One operation of the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// X25519 shared secret (scalar multiplication).
    X25519,
    /// Ed25519 signature of 256 bytes.
    Ed25519Sign,
    /// Ed25519 verification of that signature.
    Ed25519Verify,
    /// XChaCha20-Poly1305 encryption (random nonce) of 1 KiB.
    XChaChaSeal1K,
    /// XChaCha20-Poly1305 encryption of 64 KiB.
    XChaChaSeal64K,
    /// XChaCha20-Poly1305 decryption of 64 KiB.
    XChaChaOpen64K,
    /// A 3-hop onion request (xchacha20 layers) to a node, around a store RPC of a message.
    OnionBuild3,
    /// A v1 message: sign, then seal to the recipient (the padded Content of a 100-char text).
    MessageSeal,
    /// Opening and verifying that message.
    MessageOpen,
    /// Unlocking the vault: Argon2id (19 MiB, 2 passes, 1 lane) of the passphrase, then
    /// opening the wrapped data key with it.
    VaultUnlock,
    /// Encrypting 1 MiB as an attachment (secretstream in 32 KiB chunks, Session's S format).
    AttachmentSeal1M,
    /// Decrypting that attachment.
    AttachmentOpen1M,
    /// A protocol v2 message with forward secrecy: the same Content sealed to the recipient's
    /// published account keys (X25519 + ML-KEM-768 encapsulation, signed inner dict, AEAD).
    V2MessageSeal,
    /// Opening it with the recipient's account keys (decapsulation, AEAD, verify).
    V2MessageOpen,
}

impl Op {
    /// Every operation, in the order the report lists them.
    pub const ALL: [Op; 14] = [
        Op::X25519,
        Op::Ed25519Sign,
        Op::Ed25519Verify,
        Op::XChaChaSeal1K,
        Op::XChaChaSeal64K,
        Op::XChaChaOpen64K,
        Op::OnionBuild3,
        Op::MessageSeal,
        Op::MessageOpen,
        Op::VaultUnlock,
        Op::AttachmentSeal1M,
        Op::AttachmentOpen1M,
        Op::V2MessageSeal,
        Op::V2MessageOpen,
    ];

    /// The name used by the page, the criterion group and the report.
    pub fn name(self) -> &'static str {
        match self {
            Op::X25519 => "x25519",
            Op::Ed25519Sign => "ed25519_sign",
            Op::Ed25519Verify => "ed25519_verify",
            Op::XChaChaSeal1K => "xchacha20poly1305_seal_1k",
            Op::XChaChaSeal64K => "xchacha20poly1305_seal_64k",
            Op::XChaChaOpen64K => "xchacha20poly1305_open_64k",
            Op::OnionBuild3 => "onion_build_3_hops",
            Op::MessageSeal => "message_seal",
            Op::MessageOpen => "message_open",
            Op::VaultUnlock => "vault_unlock_argon2id",
            Op::AttachmentSeal1M => "attachment_seal_1m",
            Op::AttachmentOpen1M => "attachment_open_1m",
            Op::V2MessageSeal => "v2_message_seal",
            Op::V2MessageOpen => "v2_message_open",
        }
    }

    /// The operation called `name`.
    pub fn from_name(name: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.name() == name)
    }
}

/// The fixed inputs of every operation (deterministic, so both sides work on the same bytes).
pub struct Workload {
    rng: ChaCha20Rng,
    x25519_secret: [u8; 32],
    x25519_peer: [u8; 32],
    signer: SigningKey,
    to_sign: Vec<u8>,
    signature: Signature,
    aead_key: [u8; 32],
    plain_1k: Vec<u8>,
    plain_64k: Vec<u8>,
    sealed_64k: Vec<u8>,
    path: Vec<Hop>,
    path_keys: Vec<NodeKey>,
    destination: Hop,
    destination_key: NodeKey,
    store_rpc: Vec<u8>,
    sender: Identity,
    recipient: Identity,
    message_plain: Vec<u8>,
    message_sealed: Vec<u8>,
    wrapped_key: WrappedKey,
    attachment_key: murmur_core::attachment::AttachmentKey,
    plain_1m: Vec<u8>,
    sealed_1m: Vec<u8>,
    recipient_account: KemKeys,
    recipient_published: PublishedKeys,
    v2_sealed: Vec<u8>,
}

impl std::fmt::Debug for Workload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Workload(<fixture keys>)")
    }
}

fn node(seed: u8) -> (Hop, NodeKey) {
    let key = NodeKey::from_secret([seed; 32]);
    let ed = SigningKey::from_bytes(&[seed ^ 0xff; 32]);
    (
        Hop {
            ed25519: ed.verifying_key().to_bytes(),
            x25519: key.public(),
        },
        key,
    )
}

impl Default for Workload {
    fn default() -> Self {
        Self::new()
    }
}

impl Workload {
    /// The fixture.
    pub fn new() -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(2026);
        let x25519_secret = [7u8; 32];
        let x25519_peer = crypto::x25519_public(&[9u8; 32]);
        let signer = SigningKey::from_bytes(&[3u8; 32]);
        let to_sign: Vec<u8> = (0..=255u8).collect();
        let signature = signer.sign(&to_sign);
        let aead_key = [5u8; 32];
        let plain_1k = vec![0x61; 1024];
        let plain_64k = vec![0x62; 64 * 1024];
        let sealed_64k = crypto::xchacha_seal(&aead_key, &plain_64k, &mut rng);
        let (path, path_keys): (Vec<_>, Vec<_>) = [11u8, 12, 13].into_iter().map(node).unzip();
        let (destination, destination_key) = node(14);
        let sender = Identity::from_seed(Seed::from_bytes(&[21u8; 16]).expect("16 bytes"));
        let recipient = Identity::from_seed(Seed::from_bytes(&[22u8; 16]).expect("16 bytes"));
        let text = "x".repeat(100);
        let message_plain =
            message::pad(&message::text_content(&text, 1_790_000_000_000, None).encode_to_vec());
        let message_sealed = message::encrypt_for_recipient(
            &sender,
            &recipient.session_id(),
            &message_plain,
            &mut rng,
        )
        .expect("seal");
        let wrapped_key = DataKey::generate(&mut rng)
            .wrap(PASSPHRASE, KdfParams::generate(&mut rng), &mut rng)
            .expect("wrap");
        // What a client sends: a store of that message, as JSON.
        let store_rpc = Request::Store(StoreParams::new(
            &AccountId::from(recipient.session_id()),
            Namespace(0),
            &message::wrap(message_sealed.clone(), 1_790_000_000_000),
            1_790_000_000_000,
            14 * 24 * 3_600_000,
        ))
        .to_json()
        .to_string()
        .into_bytes();
        let plain_1m: Vec<u8> = (0..1 << 20).map(|i: u32| (i * 7 % 251) as u8).collect();
        let (attachment_key, sealed_1m) = attachment::encrypt(
            sender.seed().as_bytes(),
            attachment::Domain::Attachment,
            &plain_1m,
        )
        .expect("encrypt");
        let recipient_account = KemKeys::account(&[23u8; 32]);
        let recipient_published =
            PublishedKeys::new(*recipient_account.x_public(), recipient_account.m_public())
                .expect("a valid key");
        let v2_sealed = dm::encrypt_pfs(
            &sender,
            &recipient.session_id(),
            &recipient_published,
            &message_plain,
            &mut rng,
        );
        Self {
            rng,
            x25519_secret,
            x25519_peer,
            signer,
            to_sign,
            signature,
            aead_key,
            plain_1k,
            plain_64k,
            sealed_64k,
            path,
            path_keys,
            destination,
            destination_key,
            store_rpc,
            sender,
            recipient,
            message_plain,
            message_sealed,
            wrapped_key,
            attachment_key,
            plain_1m,
            sealed_1m,
            recipient_account,
            recipient_published,
            v2_sealed,
        }
    }

    /// Runs `op` once.
    pub fn run(&mut self, op: Op) {
        match op {
            Op::X25519 => {
                black_box(crypto::x25519(&self.x25519_secret, &self.x25519_peer).expect("x25519"));
            }
            Op::Ed25519Sign => {
                black_box(self.signer.sign(black_box(&self.to_sign)));
            }
            Op::Ed25519Verify => {
                let key = self.signer.verifying_key();
                key.verify_strict(black_box(&self.to_sign), &self.signature)
                    .expect("the fixture's signature verifies");
            }
            Op::XChaChaSeal1K => {
                black_box(crypto::xchacha_seal(
                    &self.aead_key,
                    &self.plain_1k,
                    &mut self.rng,
                ));
            }
            Op::XChaChaSeal64K => {
                black_box(crypto::xchacha_seal(
                    &self.aead_key,
                    &self.plain_64k,
                    &mut self.rng,
                ));
            }
            Op::XChaChaOpen64K => {
                black_box(crypto::xchacha_open(&self.aead_key, &self.sealed_64k).expect("open"));
            }
            Op::OnionBuild3 => {
                black_box(
                    onion::build_onion_request(
                        &self.path,
                        &Destination::Node(self.destination),
                        &self.store_rpc,
                        EncType::XChaCha20,
                        &mut self.rng,
                    )
                    .expect("build"),
                );
            }
            Op::MessageSeal => {
                black_box(
                    message::encrypt_for_recipient(
                        &self.sender,
                        &self.recipient.session_id(),
                        &self.message_plain,
                        &mut self.rng,
                    )
                    .expect("seal"),
                );
            }
            Op::MessageOpen => {
                black_box(
                    message::decrypt_incoming(&self.recipient, &self.message_sealed).expect("open"),
                );
            }
            Op::VaultUnlock => {
                black_box(DataKey::unwrap(&self.wrapped_key, PASSPHRASE).expect("unlock"));
            }
            Op::AttachmentSeal1M => {
                let (mut encryptor, mut out) =
                    attachment::Encryptor::new(&self.attachment_key, self.plain_1m.len() as u64);
                out.reserve(self.sealed_1m.len());
                encryptor.update(&self.plain_1m, &mut out).expect("update");
                encryptor.finish(&mut out).expect("finish");
                black_box(out);
            }
            Op::AttachmentOpen1M => {
                black_box(
                    attachment::decrypt(&self.attachment_key.key, &self.sealed_1m, None)
                        .expect("decrypt"),
                );
            }
            Op::V2MessageSeal => {
                black_box(dm::encrypt_pfs(
                    &self.sender,
                    &self.recipient.session_id(),
                    &self.recipient_published,
                    &self.message_plain,
                    &mut self.rng,
                ));
            }
            Op::V2MessageOpen => {
                black_box(
                    dm::decrypt(&self.recipient, &[&self.recipient_account], &self.v2_sealed)
                        .expect("the fixture's v2 message opens"),
                );
            }
        }
    }

    /// Bytes on the wire for the same Content: a v1 message and a v2 one.
    pub fn message_sizes(&self) -> (usize, usize) {
        (self.message_sealed.len(), self.v2_sealed.len())
    }

    /// The inputs the JS side needs, as JSON (hex for bytes).
    pub fn fixture_json(&self) -> String {
        serde_json::json!({
            "x25519_secret": hex::encode(self.x25519_secret),
            "x25519_peer": hex::encode(self.x25519_peer),
            "ed25519_seed": hex::encode(self.signer.to_bytes()),
            "to_sign": hex::encode(&self.to_sign),
            "signature": hex::encode(self.signature.to_bytes()),
            "aead_key": hex::encode(self.aead_key),
            "path": self.path.iter().map(|h| serde_json::json!({
                "ed25519": hex::encode(h.ed25519), "x25519": hex::encode(h.x25519)
            })).collect::<Vec<_>>(),
            "destination": {
                "ed25519": hex::encode(self.destination.ed25519),
                "x25519": hex::encode(self.destination.x25519),
            },
            "store_rpc": String::from_utf8_lossy(&self.store_rpc),
            "sender_ed25519_seed": hex::encode(self.sender.seed().as_bytes()),
            "recipient_x25519_public": hex::encode(self.recipient.x25519_pubkey()),
            "recipient_x25519_secret": hex::encode(self.recipient.x25519_secret()),
            "message_plain": hex::encode(&self.message_plain),
            "message_sealed": hex::encode(&self.message_sealed),
            "passphrase": PASSPHRASE,
            "kdf_memory_kib": self.wrapped_key.kdf.memory_kib,
            "kdf_passes": self.wrapped_key.kdf.passes,
            "kdf_lanes": self.wrapped_key.kdf.lanes,
            "kdf_salt": self.wrapped_key.kdf.salt,
            "wrapped_key": self.wrapped_key.wrapped,
            "attachment_key": hex::encode(*self.attachment_key.key),
            "attachment_sealed_1m": hex::encode(&self.sealed_1m),
        })
        .to_string()
    }

    /// Peels an onion request built by someone else through the fixture's path; true when every
    /// hop forwards to the next and the destination finds exactly the fixture's store RPC.
    pub fn check_onion(&self, body: &[u8]) -> bool {
        let mut body = body.to_vec();
        for (i, key) in self.path_keys.iter().enumerate() {
            let next = self.path.get(i + 1).unwrap_or(&self.destination);
            match onion::peel_layer(key, &body) {
                Ok(Peeled::RelayToNode {
                    destination_ed25519,
                    body: inner,
                }) if destination_ed25519 == next.ed25519 => body = inner,
                _ => return false,
            }
        }
        matches!(
            onion::peel_layer(&self.destination_key, &body),
            Ok(Peeled::Final { request, .. }) if request == self.store_rpc
        )
    }

    /// True when `sealed` opens as a message from the fixture's sender with its plaintext.
    pub fn check_message(&self, sealed: &[u8]) -> bool {
        matches!(
            message::decrypt_incoming(&self.recipient, sealed),
            Ok(opened) if opened.sender == self.sender.session_id()
                && opened.plaintext == self.message_plain
        )
    }

    /// True when `stream` (a secretstream header, then 32 KiB messages, the last FINAL) carries
    /// the attachment stream of the fixture's 1 MiB: what libsodium's push made must be what
    /// murmur-core's decryptor reads, once framed as an S-format file.
    pub fn check_secretstream(&self, stream: &[u8]) -> bool {
        let mut file = vec![attachment::FORMAT_S];
        file.extend_from_slice(stream);
        matches!(
            attachment::decrypt(&self.attachment_key.key, &file, Some(self.plain_1m.len() as u64)),
            Ok(p) if p == self.plain_1m
        )
    }

    /// The plaintext stream an attachment of the fixture's 1 MiB encrypts (padding, then the
    /// data), for the JS side to push through libsodium's secretstream.
    pub fn attachment_stream_1m(&self) -> Vec<u8> {
        let pad = attachment::encrypted_padding(self.plain_1m.len() as u64) as usize;
        let mut stream = vec![0u8; pad];
        stream[pad - 1] = 1;
        stream.extend_from_slice(&self.plain_1m);
        stream
    }

    /// True when `sealed` is the 1 KiB plaintext under the fixture's AEAD key.
    pub fn check_aead_1k(&self, sealed: &[u8]) -> bool {
        matches!(crypto::xchacha_open(&self.aead_key, sealed), Ok(p) if p == self.plain_1k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_op_runs_and_the_checks_accept_murmurs_own_output() {
        let mut w = Workload::new();
        for op in Op::ALL {
            w.run(op);
            assert_eq!(Op::from_name(op.name()), Some(op));
        }
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let built = onion::build_onion_request(
            &w.path,
            &Destination::Node(w.destination),
            &w.store_rpc,
            EncType::XChaCha20,
            &mut rng,
        )
        .expect("build");
        assert!(w.check_onion(&built.body));
        assert!(!w.check_onion(&built.body[..built.body.len() - 1]));
        assert!(w.check_message(&w.message_sealed));
        let mut tampered = w.message_sealed.clone();
        tampered[40] ^= 1;
        assert!(!w.check_message(&tampered));
        let sealed = crypto::xchacha_seal(&w.aead_key, &w.plain_1k, &mut rng);
        assert!(w.check_aead_1k(&sealed));
        assert!(!w.check_aead_1k(&w.sealed_64k));
    }
}
