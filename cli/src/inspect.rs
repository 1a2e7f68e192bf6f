//! `murmur inspect`: protocol computations as JSON, for checking Murmur against other
//! implementations from a shell.

use clap::Subcommand;
use murmur_core::keys::mnemonic;
use murmur_core::{Identity, Seed};
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
    }
}

fn parse_hex(flag: &str, text: &str) -> Result<Vec<u8>, String> {
    hex::decode(text.trim()).map_err(|_| format!("{flag} must be hex"))
}
