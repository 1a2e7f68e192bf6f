//! Runtime configuration: `config.json` beside `index.html`, so one build serves any network.
//! It is `murmur_core::network::NetworkFile`, the shape of a devnet's `devnet.json` and the
//! CLI's network file: `{"seeds": ["https://node.example.org:22021", ...], "operator_pubkey":
//! "<hex>"}` (other fields are ignored, so a `devnet.json` can be served as is).

use murmur_core::network::{NetworkConfig, NetworkFile, NetworkFileError};

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

/// Parses config.json (the network file shared with the CLI and the devnet).
pub fn parse(bytes: &[u8]) -> Result<NetworkConfig, ConfigError> {
    let file = NetworkFile::parse(bytes).map_err(|e| match e {
        NetworkFileError::Malformed => ConfigError::Malformed,
        NetworkFileError::NoSeeds => ConfigError::NoNetwork,
        NetworkFileError::BadOperatorKey => ConfigError::BadOperatorKey,
    })?;
    file.config().map_err(|_| ConfigError::Malformed)
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
