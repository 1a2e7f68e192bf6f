//! Runtime configuration: `config.json` beside `index.html`, so one build serves any network.
//! Same shape as a devnet's `devnet.json` and the CLI's network file:
//! `{"seeds": ["https://node.example.org:22021", ...], "operator_pubkey": "<hex>"}`
//! (other fields are ignored, so a `devnet.json` can be served as is).

use murmur_core::client::NetworkConfig;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct ConfigFile {
    #[serde(default)]
    seeds: Vec<String>,
    #[serde(default)]
    operator_pubkey: String,
}

/// Why the configuration cannot be used; shown to the user as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// config.json could not be fetched.
    Unavailable,
    /// It is not JSON of the expected shape.
    Malformed,
    /// No seed URLs: this deployment has not been pointed at a network yet.
    NoNetwork,
    /// The operator key is not 64 hex characters.
    BadOperatorKey,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Unavailable => "config.json could not be loaded",
            Self::Malformed => "config.json is not valid",
            Self::NoNetwork => {
                "config.json names no seed nodes: this Murmur is not connected to a network yet"
            }
            Self::BadOperatorKey => "config.json has an invalid operator key",
        })
    }
}

/// Parses config.json.
pub fn parse(bytes: &[u8]) -> Result<NetworkConfig, ConfigError> {
    let file: ConfigFile = serde_json::from_slice(bytes).map_err(|_| ConfigError::Malformed)?;
    let seeds: Vec<String> = file
        .seeds
        .into_iter()
        .map(|s| s.trim().trim_end_matches('/').to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if seeds.is_empty() {
        return Err(ConfigError::NoNetwork);
    }
    let mut operator_key = [0u8; 32];
    hex::decode_to_slice(file.operator_pubkey.trim(), &mut operator_key)
        .map_err(|_| ConfigError::BadOperatorKey)?;
    Ok(NetworkConfig {
        seeds,
        operator_key,
    })
}

/// Fetches and parses `config.json` from the page's own origin.
#[cfg(target_arch = "wasm32")]
pub async fn load() -> Result<NetworkConfig, ConfigError> {
    use murmur_core::client::Transport as _;
    let response = crate::platform::web::FetchTransport
        .get("config.json")
        .await
        .map_err(|_| ConfigError::Unavailable)?;
    if response.status != 200 {
        return Err(ConfigError::Unavailable);
    }
    parse(&response.body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_files_are_checked() {
        let key = "ab".repeat(32);
        let ok = format!(
            r#"{{"seeds": ["http://127.0.0.1:22100/", " "], "operator_pubkey": "{key}", "nodes": []}}"#
        );
        let config = parse(ok.as_bytes()).unwrap();
        assert_eq!(config.seeds, ["http://127.0.0.1:22100"]);
        assert_eq!(config.operator_key, [0xab; 32]);
        assert_eq!(parse(b"nope"), Err(ConfigError::Malformed));
        assert_eq!(
            parse(br#"{"seeds": [], "operator_pubkey": ""}"#),
            Err(ConfigError::NoNetwork)
        );
        assert_eq!(
            parse(br#"{"seeds": ["http://x"], "operator_pubkey": "12"}"#),
            Err(ConfigError::BadOperatorKey)
        );
    }
}
