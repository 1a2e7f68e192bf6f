//! A `murmur` home directory: one identity and its client state.
//!
//! ```text
//! identity       the Ed25519 seed, hex (mode 0600)
//! network.json   the network last used: {"seeds": [...], "operator_pubkey": "hex"}
//! state/         client state (manifest, guards and paths, last hashes, seen hashes)
//! inbox.lock     held while `murmur inbox` runs, so two readers never split the inbox
//! v2-only        present when v1 is never sent (`murmur keys set --v2-only on`)
//! ```

use std::fs::File;
use std::path::{Path, PathBuf};

use murmur_core::network::NetworkFile;
use murmur_core::{Identity, Seed};

use crate::platform::DirStore;

/// Reads a network file (`murmur_core::network::NetworkFile`: a devnet's `devnet.json`, the
/// app's `config.json`; extra fields are ignored), naming the file in any error.
pub fn read_network_file(path: &Path) -> Result<NetworkFile, String> {
    let bytes = std::fs::read(path)
        .map_err(|e| format!("cannot read network file {}: {e}", path.display()))?;
    NetworkFile::parse(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// The home directory.
#[derive(Debug, Clone)]
pub struct Home {
    dir: PathBuf,
}

impl Home {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn identity_path(&self) -> PathBuf {
        self.dir.join("identity")
    }

    fn ensure_dir(&self) -> Result<(), String> {
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| format!("cannot create {}: {e}", self.dir.display()))
    }

    /// Whether v1 is never sent (`murmur keys set --v2-only on`).
    pub fn v2_only(&self) -> bool {
        self.dir.join("v2-only").exists()
    }

    pub fn set_v2_only(&self, on: bool) -> Result<(), String> {
        self.ensure_dir()?;
        let path = self.dir.join("v2-only");
        let result = if on {
            std::fs::write(&path, b"on\n")
        } else {
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                other => other,
            }
        };
        result.map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    /// Saves a new identity; refuses to replace one (that would lose it for good).
    pub fn create_identity(&self, seed: &Seed) -> Result<Identity, String> {
        self.ensure_dir()?;
        let path = self.identity_path();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = options.open(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => format!(
                "{} already holds an identity; use another --home to create a new one",
                self.dir.display()
            ),
            _ => format!("cannot write {}: {e}", path.display()),
        })?;
        use std::io::Write as _;
        file.write_all(hex::encode(seed.as_bytes()).as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(Identity::from_seed(seed.clone()))
    }

    /// The identity of this home.
    pub fn identity(&self) -> Result<Identity, String> {
        let path = self.identity_path();
        let text = std::fs::read_to_string(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => format!(
                "no identity in {}: run `murmur identity new` or `murmur identity restore`",
                self.dir.display()
            ),
            _ => format!("cannot read {}: {e}", path.display()),
        })?;
        let bytes = hex::decode(text.trim())
            .map_err(|_| format!("{} is damaged (not a hex seed)", path.display()))?;
        let seed =
            Seed::from_bytes(&bytes).map_err(|_| format!("{} is damaged", path.display()))?;
        Ok(Identity::from_seed(seed))
    }

    /// Remembers the network used, so later commands need no network flags.
    pub fn save_network(&self, network: &NetworkFile) -> Result<(), String> {
        self.ensure_dir()?;
        let json = serde_json::to_vec_pretty(network).map_err(|e| e.to_string())?;
        std::fs::write(self.dir.join("network.json"), json)
            .map_err(|e| format!("cannot write network.json: {e}"))
    }

    /// The network saved by an earlier command.
    pub fn network(&self) -> Result<NetworkFile, String> {
        let path = self.dir.join("network.json");
        if !path.exists() {
            return Err("no network configured: pass --network-file FILE, or --seed URL and --operator-key HEX".into());
        }
        read_network_file(&path)
    }

    /// The client state store.
    pub fn store(&self) -> Result<DirStore, String> {
        DirStore::open(self.dir.join("state"))
    }

    /// Takes the inbox lock (released when the file is dropped).
    pub fn lock_inbox(&self) -> Result<File, String> {
        self.ensure_dir()?;
        let path = self.dir.join("inbox.lock");
        let file =
            File::create(&path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        file.try_lock().map_err(|_| {
            format!(
                "another `murmur inbox` is reading {}; stop it first",
                self.dir.display()
            )
        })?;
        Ok(file)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn identity_is_created_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::new(dir.path().join("h"));
        assert!(home.identity().unwrap_err().contains("no identity"));
        let seed = Seed::from_bytes(&[7u8; 32]).unwrap();
        let id = home.create_identity(&seed).unwrap();
        assert_eq!(home.identity().unwrap().session_id(), id.session_id());
        let again = home.create_identity(&Seed::from_bytes(&[8u8; 32]).unwrap());
        assert!(again.unwrap_err().contains("already holds an identity"));
        assert_eq!(home.identity().unwrap().session_id(), id.session_id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join("h/identity"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(dir.path().join("h/identity"), "zz").unwrap();
        assert!(home.identity().unwrap_err().contains("damaged"));
    }

    #[test]
    fn the_inbox_lock_is_exclusive() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::new(dir.path());
        let held = home.lock_inbox().unwrap();
        assert!(home.lock_inbox().unwrap_err().contains("another"));
        drop(held);
        assert!(home.lock_inbox().is_ok());
    }

    #[test]
    fn network_files_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n.json");
        std::fs::write(&path, r#"{"seeds": [], "operator_pubkey": "00"}"#).unwrap();
        assert!(read_network_file(&path).unwrap_err().contains("no seed"));
        std::fs::write(&path, r#"{"seeds": ["http://x"], "operator_pubkey": "00"}"#).unwrap();
        assert!(read_network_file(&path).unwrap_err().contains("64 hex"));
        std::fs::write(&path, "nope").unwrap();
        assert!(
            read_network_file(&path)
                .unwrap_err()
                .contains("not a network file")
        );
        let ok = format!(
            r#"{{"seeds": ["http://x"], "operator_pubkey": "{}", "nodes": []}}"#,
            "ab".repeat(32)
        );
        std::fs::write(&path, ok).unwrap();
        assert_eq!(read_network_file(&path).unwrap().seeds, ["http://x"]);
    }
}
