//! Encryption at rest (DESIGN.md §2 `app`): everything a client keeps on a device is sealed
//! under a random *data key*; the data key is stored only wrapped by a key derived from the
//! user's passphrase with Argon2id. The KDF parameters are stored with the wrapped key, so they
//! can be raised later (re-wrap on the next unlock) without re-encrypting any record.
//!
//! - Records: XChaCha20-Poly1305 with a random nonce, the record's slot name as associated data,
//!   so a ciphertext moved to another slot fails to open.
//! - Slot names: a keyed hash of the logical name, so no Session ID, contact name or
//!   conversation name appears in the clear in the store's keys.
//! - [`VaultStore`] puts both over any [`Backing`] store: the client's state and the app's
//!   records then pass through one encrypted store, whatever the backend (IndexedDB, memory).
//! - An index (itself a sealed record) holds a digest of every record's ciphertext, written in
//!   the same atomic batch as the record: a record swapped for an older copy, or an index from
//!   another copy of the store, is refused instead of mixed in unnoticed. (A whole store rolled
//!   back at once is consistent and cannot be told from the real one without storage the
//!   attacker cannot also roll back.)
//! - A passphrase change re-keys: a new record key, every record re-sealed, all in one batch,
//!   so an old copy of the key record with the old passphrase opens nothing written after.

use argon2::{Algorithm, Argon2, Params, Version};
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::client::platform::{Store, StoreError};
use crate::crypto;
use crate::error::{Error, Result};

/// Format version of a wrapped key. Version 1 wraps one 32-byte key that both names and seals
/// records; version 2 wraps two (names, then records), so records can be re-keyed while their
/// slots stay.
pub const WRAP_VERSION: u8 = 2;
/// Argon2id memory, KiB (19 MiB: OWASP's floor for Argon2id).
pub const DEFAULT_MEMORY_KIB: u32 = 19 * 1024;
/// Argon2id passes.
pub const DEFAULT_PASSES: u32 = 2;
/// Lowest parameters a wrapped key may claim: a tampered record cannot weaken the KDF below this.
const MIN_MEMORY_KIB: u32 = 19 * 1024;
const MIN_PASSES: u32 = 2;
/// Highest: a tampered record cannot make unlocking exhaust the device either.
const MAX_MEMORY_KIB: u32 = 1024 * 1024;
const MAX_PASSES: u32 = 16;

/// Argon2id parameters and salt, stored beside the wrapped key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    pub memory_kib: u32,
    pub passes: u32,
    pub lanes: u32,
    /// Hex, 16 bytes.
    pub salt: String,
}

impl KdfParams {
    /// Default parameters with a fresh salt.
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        let mut salt = [0u8; 16];
        rng.fill_bytes(&mut salt);
        Self {
            memory_kib: DEFAULT_MEMORY_KIB,
            passes: DEFAULT_PASSES,
            lanes: 1,
            salt: hex::encode(salt),
        }
    }

    fn derive(&self, passphrase: &str) -> Result<Zeroizing<[u8; 32]>> {
        let in_range = (MIN_MEMORY_KIB..=MAX_MEMORY_KIB).contains(&self.memory_kib)
            && (MIN_PASSES..=MAX_PASSES).contains(&self.passes)
            && self.lanes == 1;
        if !in_range {
            return Err(Error::LimitExceeded("KDF parameters out of range"));
        }
        let salt = hex::decode(&self.salt).map_err(|_| Error::Malformed("KDF salt"))?;
        if salt.len() != 16 {
            return Err(Error::Malformed("KDF salt"));
        }
        let params = Params::new(self.memory_kib, self.passes, self.lanes, Some(32))
            .map_err(|_| Error::LimitExceeded("KDF parameters out of range"))?;
        let mut out = Zeroizing::new([0u8; 32]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(passphrase.as_bytes(), &salt, out.as_mut())
            .map_err(|_| Error::LimitExceeded("KDF parameters out of range"))?;
        Ok(out)
    }
}

/// The data key as stored: wrapped under the passphrase key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrappedKey {
    pub version: u8,
    pub kdf: KdfParams,
    /// Base64 of `nonce || XChaCha20-Poly1305(data key)`.
    pub wrapped: String,
}

/// Why a vault could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnlockError {
    /// The passphrase does not open this vault.
    #[error("wrong passphrase")]
    WrongPassphrase,
    /// The stored key record is damaged or from an unknown version.
    #[error("the stored key is damaged: {0}")]
    Damaged(Error),
}

/// The random keys records are named (slots) and sealed under.
pub struct DataKey {
    enc: Zeroizing<[u8; 32]>,
    names: Zeroizing<[u8; 32]>,
    names_raw: Zeroizing<[u8; 32]>,
    records_raw: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(<secret>)")
    }
}

fn subkey(raw: &[u8; 32], purpose: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&crypto::blake2b(32, raw, b"murmur-vault", &[purpose]));
    out
}

fn random_key(rng: &mut impl CryptoRng) -> Zeroizing<[u8; 32]> {
    let mut raw = Zeroizing::new([0u8; 32]);
    rng.fill_bytes(raw.as_mut());
    raw
}

impl DataKey {
    fn from_raw(names_raw: Zeroizing<[u8; 32]>, records_raw: Zeroizing<[u8; 32]>) -> Self {
        Self {
            enc: subkey(&records_raw, b"records"),
            names: subkey(&names_raw, b"names"),
            names_raw,
            records_raw,
        }
    }

    /// A new random data key.
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        Self::from_raw(random_key(rng), random_key(rng))
    }

    /// The same names (slots), a new random record key: what a re-key seals under.
    fn rekeyed(&self, rng: &mut impl CryptoRng) -> Self {
        Self::from_raw(Zeroizing::new(*self.names_raw), random_key(rng))
    }

    /// Wraps the key under `passphrase` with `kdf` (one Argon2id run).
    pub fn wrap(
        &self,
        passphrase: &str,
        kdf: KdfParams,
        rng: &mut impl CryptoRng,
    ) -> Result<WrappedKey> {
        let kek = kdf.derive(passphrase)?;
        let mut both = Zeroizing::new([0u8; 64]);
        both[..32].copy_from_slice(self.names_raw.as_ref());
        both[32..].copy_from_slice(self.records_raw.as_ref());
        let wrapped = crypto::xchacha_seal_aad(&kek, both.as_ref(), b"murmur-vault-key", rng);
        Ok(WrappedKey {
            version: WRAP_VERSION,
            kdf,
            wrapped: crypto::b64_encode(&wrapped),
        })
    }

    /// Unwraps with `passphrase` (one Argon2id run; a wrong passphrase fails the tag check).
    pub fn unwrap(
        wrapped: &WrappedKey,
        passphrase: &str,
    ) -> core::result::Result<Self, UnlockError> {
        if !(1..=WRAP_VERSION).contains(&wrapped.version) {
            return Err(UnlockError::Damaged(Error::Malformed(
                "unknown key version",
            )));
        }
        let data = crypto::b64_decode(&wrapped.wrapped).map_err(UnlockError::Damaged)?;
        let kek = wrapped
            .kdf
            .derive(passphrase)
            .map_err(UnlockError::Damaged)?;
        let raw =
            crypto::xchacha_open_aad(&kek, &data, b"murmur-vault-key").map_err(|e| match e {
                Error::DecryptionFailed => UnlockError::WrongPassphrase,
                other => UnlockError::Damaged(other),
            })?;
        let raw = Zeroizing::new(raw);
        let key = |bytes: &[u8]| -> core::result::Result<Zeroizing<[u8; 32]>, UnlockError> {
            let key: [u8; 32] = bytes
                .try_into()
                .map_err(|_| UnlockError::Damaged(Error::Malformed("data key length")))?;
            Ok(Zeroizing::new(key))
        };
        match (wrapped.version, raw.len()) {
            // Version 1: one key names and seals.
            (1, 32) => Ok(Self::from_raw(key(&raw)?, key(&raw)?)),
            (2, 64) => Ok(Self::from_raw(key(&raw[..32])?, key(&raw[32..])?)),
            _ => Err(UnlockError::Damaged(Error::Malformed("data key length"))),
        }
    }

    /// The slot a logical record name is stored under: hex of a keyed BLAKE2b.
    pub fn slot(&self, name: &str) -> String {
        hex::encode(crypto::blake2b(
            32,
            self.names.as_ref(),
            b"",
            &[name.as_bytes()],
        ))
    }

    /// Seals a record for `slot`.
    pub fn seal(&self, slot: &str, plaintext: &[u8], rng: &mut impl CryptoRng) -> Vec<u8> {
        crypto::xchacha_seal_aad(&self.enc, plaintext, slot.as_bytes(), rng)
    }

    /// Opens a record sealed for `slot`.
    pub fn open(&self, slot: &str, sealed: &[u8]) -> Result<Vec<u8>> {
        crypto::xchacha_open_aad(&self.enc, sealed, slot.as_bytes())
    }
}

/// What the vault needs of the store underneath beyond [`Store`]: listing what is there, and
/// writing several records as one (all of them or none), so a record and the index that vouches
/// for it never disagree after a crash, and a re-key never leaves half the records behind.
// Futures are not `Send`, as everywhere in the client (a browser is single-threaded).
#[allow(async_fn_in_trait)]
pub trait Backing: Store {
    /// Every key held.
    async fn keys(&self) -> core::result::Result<Vec<String>, StoreError>;
    /// Writes every record or none.
    async fn put_all(
        &self,
        records: Vec<(String, Vec<u8>)>,
    ) -> core::result::Result<(), StoreError>;
}

impl Backing for crate::client::MemoryStore {
    async fn keys(&self) -> core::result::Result<Vec<String>, StoreError> {
        Ok(crate::client::MemoryStore::keys(self))
    }

    async fn put_all(
        &self,
        records: Vec<(String, Vec<u8>)>,
    ) -> core::result::Result<(), StoreError> {
        // One synchronous run: nothing can observe half of it.
        for (k, v) in records {
            self.put(&k, v).await?;
        }
        Ok(())
    }
}

impl<T: Backing + ?Sized> Backing for &T {
    async fn keys(&self) -> core::result::Result<Vec<String>, StoreError> {
        (**self).keys().await
    }

    async fn put_all(
        &self,
        records: Vec<(String, Vec<u8>)>,
    ) -> core::result::Result<(), StoreError> {
        (**self).put_all(records).await
    }
}

/// The logical name of the index record.
const INDEX_NAME: &str = "vault.index";
/// Bytes of a record digest in the index.
const DIGEST_LEN: usize = 24;

fn digest(sealed: &[u8]) -> [u8; DIGEST_LEN] {
    let mut out = [0u8; DIGEST_LEN];
    out.copy_from_slice(&crypto::blake2b(
        DIGEST_LEN,
        &[],
        b"murmur-vault-idx",
        &[sealed],
    ));
    out
}

/// Bytes of one index entry: the slot (32 bytes, the hex of a slot decoded) and its digest.
const ENTRY_LEN: usize = 32 + DIGEST_LEN;

/// Slot → digest of the ciphertext stored there, for every record of the vault: entries
/// sorted by slot, kept in the form they are sealed in (a flat byte string, not a map, which
/// keeps the wasm small and a clone a copy).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Index(Vec<u8>);

fn slot_bytes(slot: &str) -> [u8; 32] {
    let mut raw = [0u8; 32];
    // Slots are always 64 hex characters (`DataKey::slot`); the vault-key record is never
    // indexed.
    let _ = hex::decode_to_slice(slot, &mut raw);
    raw
}

impl Index {
    fn entries(&self) -> impl Iterator<Item = &[u8]> {
        self.0.chunks_exact(ENTRY_LEN)
    }

    /// Where `slot`'s entry is, or would go.
    fn find(&self, slot: &[u8; 32]) -> core::result::Result<usize, usize> {
        let count = self.0.len() / ENTRY_LEN;
        let (mut lo, mut hi) = (0, count);
        while lo < hi {
            let mid = usize::midpoint(lo, hi);
            match self.0[mid * ENTRY_LEN..mid * ENTRY_LEN + 32].cmp(slot) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    fn get(&self, slot: &str) -> Option<[u8; DIGEST_LEN]> {
        let at = self.find(&slot_bytes(slot)).ok()? * ENTRY_LEN + 32;
        self.0[at..at + DIGEST_LEN].try_into().ok()
    }

    fn insert(&mut self, slot: &str, digest: [u8; DIGEST_LEN]) {
        let raw = slot_bytes(slot);
        match self.find(&raw) {
            Ok(i) => self.0[i * ENTRY_LEN + 32..(i + 1) * ENTRY_LEN].copy_from_slice(&digest),
            Err(i) => {
                let at = i * ENTRY_LEN;
                self.0.splice(at..at, raw.iter().chain(&digest).copied());
            }
        }
    }

    fn slots(&self) -> Vec<String> {
        self.entries().map(|e| hex::encode(&e[..32])).collect()
    }

    fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Entries as sealed; refused unless whole and strictly sorted (as written).
    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let whole = bytes.len().is_multiple_of(ENTRY_LEN);
        let sorted = bytes
            .chunks_exact(ENTRY_LEN)
            .zip(bytes.chunks_exact(ENTRY_LEN).skip(1))
            .all(|(a, b)| a[..32] < b[..32]);
        (whole && sorted).then(|| Self(bytes.to_vec()))
    }
}

/// The error a record from another copy of the store gets.
fn mixed() -> StoreError {
    StoreError(
        "a stored record does not match the rest of this profile (part of it was restored from another copy)"
            .into(),
    )
}

/// A [`Store`] whose keys are keyed hashes and whose values are sealed under a [`DataKey`],
/// each vouched for by the vault's index.
#[derive(Debug)]
pub struct VaultStore<S, R> {
    inner: S,
    key: std::cell::RefCell<DataKey>,
    index: std::cell::RefCell<Index>,
    rng: std::cell::RefCell<R>,
}

impl<S: Backing, R: CryptoRng> VaultStore<S, R> {
    /// A vault over `inner` with `key` and an empty index (a new vault, or a test's).
    pub fn new(inner: S, key: DataKey, rng: R) -> Self {
        Self {
            inner,
            key: std::cell::RefCell::new(key),
            index: std::cell::RefCell::default(),
            rng: std::cell::RefCell::new(rng),
        }
    }

    /// The slot `name` is stored under in the store underneath.
    pub fn slot(&self, name: &str) -> String {
        self.key.borrow().slot(name)
    }

    /// The store underneath (what is actually written).
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The index as a sealed record (slot, bytes).
    fn sealed_index(&self, index: &Index) -> (String, Vec<u8>) {
        let key = self.key.borrow();
        let slot = key.slot(INDEX_NAME);
        let sealed = key.seal(&slot, index.as_bytes(), &mut *self.rng.borrow_mut());
        (slot, sealed)
    }

    /// Reads the index; a vault from before the index (none stored) gets one made from what
    /// is there now, taken on trust once.
    async fn load_index(&self) -> core::result::Result<(), VaultError> {
        let slot = self.slot(INDEX_NAME);
        let index = match self.inner.get(&slot).await? {
            Some(sealed) => {
                let bytes = self
                    .key
                    .borrow()
                    .open(&slot, &sealed)
                    .map_err(|_| mixed())?;
                Index::from_bytes(&bytes).ok_or_else(mixed)?
            }
            None => {
                let mut index = Index::default();
                for k in self.inner.keys().await? {
                    if k == WRAPPED_KEY_SLOT || k == slot {
                        continue;
                    }
                    if let Some(sealed) = self.inner.get(&k).await? {
                        index.insert(&k, digest(&sealed));
                    }
                }
                let record = self.sealed_index(&index);
                self.inner.put_all(vec![record]).await?;
                index
            }
        };
        *self.index.borrow_mut() = index;
        Ok(())
    }
}

impl<S: Backing, R: CryptoRng> Store for VaultStore<S, R> {
    async fn get(&self, key: &str) -> core::result::Result<Option<Vec<u8>>, StoreError> {
        let slot = self.slot(key);
        // A put that starts while the read is under way vouches for its record at once, but the
        // read still answers with the one before (it was asked first): either is this vault's.
        let before = self.index.borrow().get(&slot);
        let stored = self.inner.get(&slot).await?;
        let after = self.index.borrow().get(&slot);
        let found = stored.as_deref().map(digest);
        match (found == before || found == after, stored) {
            (true, None) => Ok(None),
            (true, Some(sealed)) => self
                .key
                .borrow()
                .open(&slot, &sealed)
                .map(Some)
                .map_err(|_| StoreError("a stored record failed its integrity check".into())),
            // Present but not vouched for, vouched for but absent, or another ciphertext
            // than the one written last: not this copy's record.
            (false, _) => Err(mixed()),
        }
    }

    async fn put(&self, key: &str, value: Vec<u8>) -> core::result::Result<(), StoreError> {
        let slot = self.slot(key);
        let sealed = self
            .key
            .borrow()
            .seal(&slot, &value, &mut *self.rng.borrow_mut());
        // Entered before the write is awaited, so a put that starts meanwhile writes an index
        // that includes this one (writes commit in the order they start).
        let index_record = {
            let mut index = self.index.borrow_mut();
            index.insert(&slot, digest(&sealed));
            self.sealed_index(&index)
        };
        self.inner.put_all(vec![(slot, sealed), index_record]).await
    }
}

/// Where the wrapped data key sits in the store underneath (the one record not sealed: it is
/// itself ciphertext plus the KDF parameters).
pub const WRAPPED_KEY_SLOT: &str = "vault-key";

/// Why a vault could not be created, unlocked or re-keyed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    #[error(transparent)]
    Unlock(#[from] UnlockError),
    /// `create` on a store that already holds a vault (it would be lost).
    #[error("this device already holds a profile")]
    Exists,
    /// `unlock` on a store without a vault.
    #[error("no profile on this device")]
    Missing,
    #[error("storage failed: {}", .0.0)]
    Store(StoreError),
}

impl From<StoreError> for VaultError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

async fn read_wrapped<S: Store>(inner: &S) -> core::result::Result<Option<WrappedKey>, VaultError> {
    match inner.get(WRAPPED_KEY_SLOT).await? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|_| {
            VaultError::Unlock(UnlockError::Damaged(Error::Malformed("stored key record")))
        }),
    }
}

fn wrapped_record(wrapped: &WrappedKey) -> core::result::Result<(String, Vec<u8>), VaultError> {
    let json = serde_json::to_vec(wrapped)
        .map_err(|_| VaultError::Store(StoreError("key record does not serialise".into())))?;
    Ok((WRAPPED_KEY_SLOT.to_string(), json))
}

impl<S: Backing, R: CryptoRng> VaultStore<S, R> {
    /// Whether `inner` holds a vault.
    pub async fn exists(inner: &S) -> core::result::Result<bool, VaultError> {
        Ok(read_wrapped(inner).await?.is_some())
    }

    /// Creates a vault in `inner` (a fresh data key, wrapped under `passphrase`).
    pub async fn create(
        inner: S,
        passphrase: &str,
        mut rng: R,
    ) -> core::result::Result<Self, VaultError> {
        if read_wrapped(&inner).await?.is_some() {
            return Err(VaultError::Exists);
        }
        let key = DataKey::generate(&mut rng);
        let wrapped = key
            .wrap(passphrase, KdfParams::generate(&mut rng), &mut rng)
            .map_err(|e| VaultError::Unlock(UnlockError::Damaged(e)))?;
        let vault = Self::new(inner, key, rng);
        let index = vault.sealed_index(&Index::default());
        vault
            .inner
            .put_all(vec![wrapped_record(&wrapped)?, index])
            .await?;
        Ok(vault)
    }

    /// Opens the vault in `inner` with `passphrase` (one Argon2id run).
    pub async fn unlock(
        inner: S,
        passphrase: &str,
        rng: R,
    ) -> core::result::Result<Self, VaultError> {
        let wrapped = read_wrapped(&inner).await?.ok_or(VaultError::Missing)?;
        let key = DataKey::unwrap(&wrapped, passphrase)?;
        let vault = Self::new(inner, key, rng);
        vault.load_index().await?;
        Ok(vault)
    }

    /// Checks `passphrase` against the stored key (one Argon2id run), e.g. before showing the
    /// recovery phrase.
    pub async fn check_passphrase(&self, passphrase: &str) -> core::result::Result<(), VaultError> {
        let wrapped = read_wrapped(&self.inner)
            .await?
            .ok_or(VaultError::Missing)?;
        DataKey::unwrap(&wrapped, passphrase)?;
        Ok(())
    }

    /// Changes the passphrase after checking `old_passphrase`, and re-keys: every record is
    /// re-sealed under a new record key (slots stay), and the key record, the records and the
    /// index are written as one batch. A wrong old passphrase, or a record that does not match
    /// the index, changes nothing.
    pub async fn change_passphrase(
        &self,
        old_passphrase: &str,
        new_passphrase: &str,
    ) -> core::result::Result<(), VaultError> {
        let wrapped = read_wrapped(&self.inner)
            .await?
            .ok_or(VaultError::Missing)?;
        DataKey::unwrap(&wrapped, old_passphrase)?;
        let new_key = self.key.borrow().rekeyed(&mut *self.rng.borrow_mut());
        let slots = self.index.borrow().slots();
        let mut batch = Vec::with_capacity(slots.len() + 2);
        let mut index = Index::default();
        for slot in slots {
            let sealed = self.inner.get(&slot).await?.ok_or_else(mixed)?;
            if Some(digest(&sealed)) != self.index.borrow().get(&slot) {
                return Err(mixed().into());
            }
            let plain = Zeroizing::new(
                self.key
                    .borrow()
                    .open(&slot, &sealed)
                    .map_err(|_| mixed())?,
            );
            let resealed = new_key.seal(&slot, &plain, &mut *self.rng.borrow_mut());
            index.insert(&slot, digest(&resealed));
            batch.push((slot, resealed));
        }
        let rewrapped = {
            let mut rng = self.rng.borrow_mut();
            let kdf = KdfParams::generate(&mut *rng);
            new_key
                .wrap(new_passphrase, kdf, &mut *rng)
                .map_err(|e| VaultError::Unlock(UnlockError::Damaged(e)))?
        };
        batch.push(wrapped_record(&rewrapped)?);
        let index_slot = new_key.slot(INDEX_NAME);
        let sealed_index = new_key.seal(&index_slot, index.as_bytes(), &mut *self.rng.borrow_mut());
        batch.push((index_slot, sealed_index));
        self.inner.put_all(batch).await?;
        *self.key.borrow_mut() = new_key;
        *self.index.borrow_mut() = index;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use rand_core::SeedableRng as _;

    use super::*;
    use crate::Identity;
    use crate::client::MemoryStore;
    use crate::client::conformance::check_store;
    use crate::test_util::{block_on, one_turn};

    fn rng(seed: u64) -> rand_chacha::ChaCha20Rng {
        rand_chacha::ChaCha20Rng::seed_from_u64(seed)
    }

    /// A backing store that answers a read with what it held when the read was asked, a turn
    /// later, as IndexedDB does (a read asked before a write does not see it).
    struct SnapshotStore(MemoryStore);

    impl Store for SnapshotStore {
        async fn get(&self, key: &str) -> core::result::Result<Option<Vec<u8>>, StoreError> {
            let held = block_on(self.0.get(key));
            one_turn().await;
            held
        }
        async fn put(&self, key: &str, value: Vec<u8>) -> core::result::Result<(), StoreError> {
            one_turn().await;
            self.0.put(key, value).await
        }
    }

    impl Backing for SnapshotStore {
        async fn keys(&self) -> core::result::Result<Vec<String>, StoreError> {
            Ok(self.0.keys())
        }
        async fn put_all(
            &self,
            records: Vec<(String, Vec<u8>)>,
        ) -> core::result::Result<(), StoreError> {
            one_turn().await;
            self.0.put_all(records).await
        }
    }

    #[test]
    fn a_read_during_a_write_of_the_same_record_gets_one_of_the_two() {
        let mut r = rng(9);
        let vault = VaultStore::new(
            SnapshotStore(MemoryStore::new()),
            DataKey::generate(&mut r),
            r,
        );
        block_on(vault.put("history.index", b"old".to_vec())).unwrap();
        // The chat list is read while the poll loop writes the index.
        let (read, written) = block_on(futures_util::future::join(
            vault.get("history.index"),
            vault.put("history.index", b"new".to_vec()),
        ));
        written.unwrap();
        assert_eq!(read.unwrap().as_deref(), Some(&b"old"[..]));
        // A record that did not exist yet reads as absent, not as mixed in.
        let (read, written) = block_on(futures_util::future::join(
            vault.get("history.drafts"),
            vault.put("history.drafts", b"x".to_vec()),
        ));
        written.unwrap();
        assert_eq!(read.unwrap(), None);
        assert_eq!(
            block_on(vault.get("history.index")).unwrap().as_deref(),
            Some(&b"new"[..])
        );
        // A ciphertext the vault never wrote is still refused.
        let slot = vault.slot("history.index");
        let stale = block_on(vault.inner().0.get(&slot)).unwrap().unwrap();
        block_on(vault.put("history.index", b"newer".to_vec())).unwrap();
        block_on(vault.inner().0.put(&slot, stale)).unwrap();
        assert!(block_on(vault.get("history.index")).is_err());
    }

    #[test]
    fn the_right_passphrase_opens_and_a_wrong_one_is_refused() {
        let mut r = rng(1);
        let key = DataKey::generate(&mut r);
        let wrapped = key
            .wrap("correct horse", KdfParams::generate(&mut r), &mut r)
            .unwrap();
        assert_eq!(wrapped.kdf.memory_kib, 19 * 1024);
        assert_eq!(wrapped.kdf.passes, 2);
        let sealed = key.seal(&key.slot("conversation"), b"hello", &mut r);
        // The wrapped record survives a JSON round trip (how it is stored).
        let stored: WrappedKey =
            serde_json::from_str(&serde_json::to_string(&wrapped).unwrap()).unwrap();
        let opened = DataKey::unwrap(&stored, "correct horse").unwrap();
        assert_eq!(opened.slot("conversation"), key.slot("conversation"));
        assert_eq!(
            opened.open(&key.slot("conversation"), &sealed).unwrap(),
            b"hello"
        );
        assert_eq!(
            DataKey::unwrap(&stored, "correct horsE").unwrap_err(),
            UnlockError::WrongPassphrase
        );
        assert_eq!(
            DataKey::unwrap(&stored, "").unwrap_err(),
            UnlockError::WrongPassphrase
        );
    }

    #[test]
    fn a_tampered_key_record_is_damaged_not_weakened() {
        let mut r = rng(2);
        let key = DataKey::generate(&mut r);
        let wrapped = key.wrap("pw", KdfParams::generate(&mut r), &mut r).unwrap();
        let mut weak = wrapped.clone();
        weak.kdf.memory_kib = 8;
        weak.kdf.passes = 1;
        assert!(matches!(
            DataKey::unwrap(&weak, "pw"),
            Err(UnlockError::Damaged(_))
        ));
        let mut huge = wrapped.clone();
        huge.kdf.memory_kib = u32::MAX;
        assert!(matches!(
            DataKey::unwrap(&huge, "pw"),
            Err(UnlockError::Damaged(_))
        ));
        let mut version = wrapped.clone();
        version.version = 9;
        assert!(matches!(
            DataKey::unwrap(&version, "pw"),
            Err(UnlockError::Damaged(_))
        ));
        let mut salt = wrapped;
        salt.kdf.salt = "00".into();
        assert!(matches!(
            DataKey::unwrap(&salt, "pw"),
            Err(UnlockError::Damaged(_))
        ));
    }

    #[test]
    fn a_record_moved_to_another_slot_or_altered_does_not_open() {
        let mut r = rng(3);
        let key = DataKey::generate(&mut r);
        let (a, b) = (key.slot("a"), key.slot("b"));
        assert_ne!(a, b);
        let sealed = key.seal(&a, b"secret", &mut r);
        assert!(key.open(&b, &sealed).is_err());
        let mut flipped = sealed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(key.open(&a, &flipped).is_err());
        assert!(DataKey::generate(&mut r).open(&a, &sealed).is_err());
    }

    #[test]
    fn stores_keep_the_contract() {
        block_on(check_store(&MemoryStore::new())).unwrap();
        let vault = VaultStore::new(MemoryStore::new(), DataKey::generate(&mut rng(4)), rng(5));
        block_on(check_store(&vault)).unwrap();
    }

    #[test]
    fn nothing_readable_reaches_the_store_underneath() {
        let mut r = rng(6);
        let contact = Identity::generate(&mut r).session_id().to_string();
        let vault = VaultStore::new(MemoryStore::new(), DataKey::generate(&mut r), rng(7));
        let name = format!("conversation.{contact}");
        block_on(vault.put(&name, b"meet at the old bridge at noon".to_vec())).unwrap();
        block_on(vault.put("contact.name", b"Alice Example".to_vec())).unwrap();
        assert_eq!(
            block_on(vault.get(&name)).unwrap().unwrap(),
            b"meet at the old bridge at noon"
        );
        let inner = vault.inner();
        for slot in inner.keys() {
            assert!(!slot.contains(&contact) && !slot.contains("conversation"));
            assert!(!slot.contains("contact"));
            let value = block_on(inner.get(&slot)).unwrap().unwrap();
            let text = String::from_utf8_lossy(&value);
            assert!(!text.contains("bridge") && !text.contains("Alice"));
        }
        // A value swapped between slots underneath is refused, not misread.
        let moved = block_on(inner.get(&vault.slot(&name))).unwrap().unwrap();
        block_on(inner.put(&vault.slot("contact.name"), moved)).unwrap();
        assert!(block_on(vault.get("contact.name")).is_err());
        assert!(block_on(vault.get(&name)).unwrap().is_some());
    }

    #[test]
    fn a_vault_is_created_unlocked_and_rekeyed() {
        let store = MemoryStore::new();
        let vault = block_on(VaultStore::create(&store, "first", rng(8))).unwrap();
        block_on(vault.put("identity", b"seed bytes".to_vec())).unwrap();
        assert_eq!(
            block_on(VaultStore::create(&store, "other", rng(9))).unwrap_err(),
            VaultError::Exists
        );
        let records_before: Vec<(String, Option<Vec<u8>>)> = store
            .keys()
            .into_iter()
            .filter(|k| k != WRAPPED_KEY_SLOT)
            .map(|k| (k.clone(), block_on(store.get(&k)).unwrap()))
            .collect();
        // A wrong old passphrase changes nothing.
        assert_eq!(
            block_on(vault.change_passphrase("wrong", "second")).unwrap_err(),
            VaultError::Unlock(UnlockError::WrongPassphrase)
        );
        assert!(block_on(VaultStore::unlock(&store, "first", rng(10))).is_ok());
        assert!(block_on(vault.check_passphrase("first")).is_ok());
        assert_eq!(
            block_on(vault.check_passphrase("second")).unwrap_err(),
            VaultError::Unlock(UnlockError::WrongPassphrase)
        );
        block_on(vault.change_passphrase("first", "second")).unwrap();
        assert!(block_on(vault.check_passphrase("second")).is_ok());
        assert_eq!(
            block_on(VaultStore::unlock(&store, "first", rng(11))).unwrap_err(),
            VaultError::Unlock(UnlockError::WrongPassphrase)
        );
        let reopened = block_on(VaultStore::unlock(&store, "second", rng(12))).unwrap();
        assert_eq!(
            block_on(reopened.get("identity")).unwrap().as_deref(),
            Some(b"seed bytes".as_slice())
        );
        // Re-keyed: the same slots, every record sealed anew.
        for (k, v) in records_before {
            let now = block_on(store.get(&k)).unwrap();
            assert!(now.is_some(), "the slot stays");
            assert_ne!(now, v, "the record was re-sealed");
        }
        assert_eq!(
            block_on(VaultStore::unlock(&MemoryStore::new(), "x", rng(13))).unwrap_err(),
            VaultError::Missing
        );
        store.clear();
        assert!(!block_on(VaultStore::<_, rand_chacha::ChaCha20Rng>::exists(&store)).unwrap());
    }

    /// Byzantine-nodes issue, point 11: a passphrase change re-keys, so whoever kept a copy of
    /// the old key record and knows the old passphrase opens nothing written afterwards.
    #[test]
    fn after_a_passphrase_change_the_old_key_record_opens_nothing_later() {
        let store = MemoryStore::new();
        let vault = block_on(VaultStore::create(&store, "old pass", rng(20))).unwrap();
        block_on(vault.put("earlier", b"written before".to_vec())).unwrap();
        let old_key_record = block_on(store.get(WRAPPED_KEY_SLOT)).unwrap().unwrap();
        block_on(vault.change_passphrase("old pass", "new pass")).unwrap();
        block_on(vault.put("later", b"written after the change".to_vec())).unwrap();
        assert_eq!(
            block_on(vault.get("earlier")).unwrap().as_deref(),
            Some(b"written before".as_slice())
        );
        // The old key, from the old record and passphrase, against today's records.
        let wrapped: WrappedKey = serde_json::from_slice(&old_key_record).unwrap();
        let old = DataKey::unwrap(&wrapped, "old pass").unwrap();
        for slot in [vault.slot("earlier"), vault.slot("later")] {
            let sealed = block_on(store.get(&slot)).unwrap().unwrap();
            assert!(
                old.open(&slot, &sealed).is_err(),
                "the old key opened {slot}"
            );
        }
        // And as a whole vault: the old key record put back does not open it.
        let copy = MemoryStore::new();
        for k in store.keys() {
            block_on(copy.put(&k, block_on(store.get(&k)).unwrap().unwrap())).unwrap();
        }
        block_on(copy.put(WRAPPED_KEY_SLOT, old_key_record)).unwrap();
        assert!(block_on(VaultStore::unlock(&copy, "old pass", rng(21))).is_err());
        // The new passphrase opens everything.
        let reopened = block_on(VaultStore::unlock(&store, "new pass", rng(22))).unwrap();
        assert_eq!(
            block_on(reopened.get("later")).unwrap().as_deref(),
            Some(b"written after the change".as_slice())
        );
    }

    #[test]
    fn the_index_keeps_one_sorted_entry_per_slot() {
        let slot = |b: u8| hex::encode([b; 32]);
        let mut index = Index::default();
        for (b, d) in [(9u8, 1u8), (3, 2), (7, 3), (3, 4)] {
            index.insert(&slot(b), [d; DIGEST_LEN]);
        }
        assert_eq!(index.slots(), [slot(3), slot(7), slot(9)]);
        assert_eq!(
            index.get(&slot(3)),
            Some([4; DIGEST_LEN]),
            "replaced, not added"
        );
        assert_eq!(index.get(&slot(5)), None);
        assert_eq!(Index::from_bytes(index.as_bytes()), Some(index.clone()));
        let mut swapped = index.as_bytes().to_vec();
        swapped.rotate_left(ENTRY_LEN);
        assert_eq!(Index::from_bytes(&swapped), None, "unsorted");
        assert_eq!(Index::from_bytes(&[0; ENTRY_LEN + 1]), None, "not whole");
    }

    /// Raw copies of every record underneath.
    fn snapshot(store: &MemoryStore) -> Vec<(String, Vec<u8>)> {
        store
            .keys()
            .into_iter()
            .map(|k| (k.clone(), block_on(store.get(&k)).unwrap().unwrap()))
            .collect()
    }

    /// Point 11: records from different copies of the store are never mixed unnoticed.
    #[test]
    fn one_record_or_the_index_from_an_older_copy_is_refused() {
        let store = MemoryStore::new();
        let vault = block_on(VaultStore::create(&store, "pass phrase", rng(30))).unwrap();
        block_on(vault.put("conversation", b"first version".to_vec())).unwrap();
        let older = snapshot(&store);
        block_on(vault.put("conversation", b"second version".to_vec())).unwrap();
        block_on(vault.put("other", b"untouched".to_vec())).unwrap();
        let slot = vault.slot("conversation");
        let old_record = older.iter().find(|(k, _)| *k == slot).unwrap().1.clone();
        let index_slot = vault.slot(INDEX_NAME);
        let old_index = older
            .iter()
            .find(|(k, _)| *k == index_slot)
            .unwrap()
            .1
            .clone();

        // One record swapped for its older copy: refused, now and after reopening; the rest
        // reads as before.
        let current = block_on(store.get(&slot)).unwrap().unwrap();
        block_on(store.put(&slot, old_record)).unwrap();
        assert_eq!(block_on(vault.get("conversation")).unwrap_err(), mixed());
        let reopened = block_on(VaultStore::unlock(&store, "pass phrase", rng(31))).unwrap();
        assert_eq!(block_on(reopened.get("conversation")).unwrap_err(), mixed());
        assert_eq!(
            block_on(reopened.get("other")).unwrap().as_deref(),
            Some(b"untouched".as_slice())
        );
        block_on(store.put(&slot, current)).unwrap();

        // The index swapped for its older copy: the records written since are refused.
        block_on(store.put(&index_slot, old_index)).unwrap();
        let reopened = block_on(VaultStore::unlock(&store, "pass phrase", rng(32))).unwrap();
        assert_eq!(block_on(reopened.get("conversation")).unwrap_err(), mixed());
        assert_eq!(block_on(reopened.get("other")).unwrap_err(), mixed());

        // The limit, as documented: the whole store rolled back at once reads as that copy.
        for (k, v) in &older {
            block_on(store.put(k, v.clone())).unwrap();
        }
        let other_slot = vault.slot("other");
        let whole = MemoryStore::new();
        for (k, v) in snapshot(&store)
            .into_iter()
            .filter(|(k, _)| *k != other_slot)
        {
            block_on(whole.put(&k, v)).unwrap();
        }
        let rolled_back = block_on(VaultStore::unlock(&whole, "pass phrase", rng(33))).unwrap();
        assert_eq!(
            block_on(rolled_back.get("conversation"))
                .unwrap()
                .as_deref(),
            Some(b"first version".as_slice())
        );
        assert_eq!(block_on(rolled_back.get("other")).unwrap(), None);
    }

    /// Existing users keep their history: a vault written by the previous version (a version-1
    /// key record, one key naming and sealing, no index) opens, gets its index, and re-keys.
    #[test]
    fn a_vault_from_the_previous_version_opens_and_rekeys() {
        let mut r = rng(40);
        let store = MemoryStore::new();
        let raw = random_key(&mut r);
        let key = DataKey::from_raw(Zeroizing::new(*raw), Zeroizing::new(*raw));
        let kdf = KdfParams::generate(&mut r);
        let kek = kdf.derive("old version").unwrap();
        let v1 = WrappedKey {
            version: 1,
            kdf,
            wrapped: crypto::b64_encode(&crypto::xchacha_seal_aad(
                &kek,
                raw.as_ref(),
                b"murmur-vault-key",
                &mut r,
            )),
        };
        block_on(store.put(WRAPPED_KEY_SLOT, serde_json::to_vec(&v1).unwrap())).unwrap();
        for (name, value) in [("identity.seed", b"seed".as_slice()), ("settings", b"{}")] {
            let slot = key.slot(name);
            block_on(store.put(&slot, key.seal(&slot, value, &mut r))).unwrap();
        }
        let vault = block_on(VaultStore::unlock(&store, "old version", rng(41))).unwrap();
        assert_eq!(
            block_on(vault.get("identity.seed")).unwrap().as_deref(),
            Some(b"seed".as_slice())
        );
        assert!(
            block_on(store.get(&key.slot(INDEX_NAME)))
                .unwrap()
                .is_some(),
            "indexed"
        );
        block_on(vault.change_passphrase("old version", "new version")).unwrap();
        let wrapped: WrappedKey =
            serde_json::from_slice(&block_on(store.get(WRAPPED_KEY_SLOT)).unwrap().unwrap())
                .unwrap();
        assert_eq!(wrapped.version, WRAP_VERSION);
        let reopened = block_on(VaultStore::unlock(&store, "new version", rng(42))).unwrap();
        assert_eq!(
            block_on(reopened.get("settings")).unwrap().as_deref(),
            Some(b"{}".as_slice())
        );
    }
}
