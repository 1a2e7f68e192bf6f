//! `murmur inspect`: protocol computations as JSON, for checking Murmur against other
//! implementations from a shell.

use clap::Subcommand;
use murmur_core::keys::mnemonic;
use murmur_core::message;
use murmur_core::rpc::{self, AccountId, Namespace};
use murmur_core::swarm::{SwarmId, swarm_for, swarm_space};
use murmur_core::{Identity, Seed, crypto};
use serde_json::{Value, json};

#[derive(Debug, Subcommand)]
pub enum Inspect {
    /// The keys and Session ID of a seed (16 or 32 bytes, hex).
    SessionId {
        #[arg(long)]
        seed: String,
    },
    /// Encode a seed as a recovery phrase, or decode a phrase.
    Mnemonic {
        /// Hex bytes to encode (a multiple of 4 bytes).
        #[arg(long, conflicts_with = "decode", required_unless_present = "decode")]
        encode: Option<String>,
        /// The words to decode, in one argument.
        #[arg(long)]
        decode: Option<String>,
    },
    /// The swarm-space position of an account, and its swarm among the given ids.
    Swarm {
        /// The account ID (66 hex characters).
        session_id: String,
        /// Swarm ids, decimal, comma-separated.
        #[arg(long, value_delimiter = ',')]
        swarm_ids: Option<Vec<u64>>,
    },
    /// Open a v1 sealed message addressed to the identity of a seed.
    Open {
        /// The recipient's seed (16 or 32 bytes, hex).
        #[arg(long)]
        seed: String,
        /// The sealed message (the Envelope's content), hex.
        ciphertext_hex: String,
    },
    /// The storage hash of a message.
    Hash {
        #[arg(long)]
        pubkey: String,
        #[arg(long, allow_hyphen_values = true)]
        namespace: i16,
        #[arg(long)]
        data_b64: String,
    },
}

/// Runs one inspect command; the error is a one-line message for stderr.
pub fn run(cmd: Inspect) -> Result<Value, String> {
    match cmd {
        Inspect::SessionId { seed } => {
            let bytes = parse_hex("--seed", &seed)?;
            let id = Identity::from_seed(Seed::from_bytes(&bytes).map_err(|e| e.to_string())?);
            Ok(json!({
                "session_id": id.session_id().to_string(),
                "ed25519_pubkey": hex::encode(id.ed25519_pubkey().to_bytes()),
                "x25519_pubkey": hex::encode(id.x25519_pubkey()),
            }))
        }
        Inspect::Mnemonic {
            encode: Some(hex_bytes),
            ..
        } => {
            let bytes = parse_hex("--encode", &hex_bytes)?;
            let words = mnemonic::encode(&bytes).map_err(|e| e.to_string())?;
            Ok(json!({ "words": words.join(" ") }))
        }
        Inspect::Mnemonic {
            decode: Some(phrase),
            ..
        } => {
            let seed = Seed::from_mnemonic(&phrase).map_err(|e| e.to_string())?;
            let id = Identity::from_seed(seed.clone());
            Ok(json!({
                "seed": hex::encode(seed.as_bytes()),
                "session_id": id.session_id().to_string(),
            }))
        }
        Inspect::Mnemonic { .. } => Err("give --encode HEX or --decode WORDS".into()),
        Inspect::Swarm {
            session_id,
            swarm_ids,
        } => {
            let account = AccountId::parse(session_id.trim()).map_err(|e| e.to_string())?;
            let space = swarm_space(&account.key());
            let mut out = json!({ "space": space });
            if let Some(ids) = swarm_ids {
                let ids: Vec<SwarmId> = ids.into_iter().map(SwarmId).collect();
                let swarm = swarm_for(space, &ids).ok_or("--swarm-ids is empty")?;
                out["swarm_id"] = json!(swarm.0);
            }
            Ok(out)
        }
        Inspect::Open {
            seed,
            ciphertext_hex,
        } => {
            let bytes = parse_hex("--seed", &seed)?;
            let id = Identity::from_seed(Seed::from_bytes(&bytes).map_err(|e| e.to_string())?);
            let ct = parse_hex("CIPHERTEXT_HEX", &ciphertext_hex)?;
            let opened = message::decrypt_incoming(&id, &ct).map_err(|e| e.to_string())?;
            Ok(json!({
                "sender": opened.sender.to_string(),
                "plaintext_hex": hex::encode(&opened.plaintext),
            }))
        }
        Inspect::Hash {
            pubkey,
            namespace,
            data_b64,
        } => {
            let account = AccountId::parse(pubkey.trim()).map_err(|e| e.to_string())?;
            let data = crypto::b64_decode(&data_b64).map_err(|_| "--data-b64 must be base64")?;
            Ok(json!({ "hash": rpc::message_hash(&account, Namespace(namespace), &data) }))
        }
    }
}

fn parse_hex(flag: &str, text: &str) -> Result<Vec<u8>, String> {
    hex::decode(text.trim()).map_err(|_| format!("{flag} must be hex"))
}
