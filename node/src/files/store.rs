//! The file server's store: each file on disk under its ID, its metadata in SQLite.
//!
//! A file's ID is Session's deduplicating ID of its bytes ([`murmur_core::files::file_id`]),
//! computed here as the bytes arrive, never taken from the uploader: the same bytes uploaded
//! twice are one file (its expiry moves to the later of the two). Uploads are counted against
//! a per-uploader quota (the address the upload came from: a relaying node, or a client
//! uploading directly) and a total; a refused or failed upload leaves nothing behind.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use murmur_core::files::{FileIdHasher, is_file_id};
use rusqlite::{Connection, OptionalExtension as _, params};

const MIGRATIONS: &[&str] = &[include_str!("../../migrations/files/0001_files.sql")];

/// How much the store holds, in all and per uploader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotas {
    pub total_bytes: u64,
    pub uploader_bytes: u64,
}

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum FileStoreError {
    #[error("no such file")]
    NotFound,
    #[error("the uploader's quota is used up")]
    UploaderQuota,
    #[error("the file server is full")]
    Full,
    #[error("empty upload")]
    Empty,
    #[error("storage error: {0}")]
    Io(String),
}

impl From<std::io::Error> for FileStoreError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e.to_string())
    }
}

impl From<rusqlite::Error> for FileStoreError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Io(e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, FileStoreError>;

/// A stored file's metadata (times in ms since the epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    pub id: String,
    pub size: u64,
    pub uploaded_ms: u64,
    pub expiry_ms: u64,
}

/// Files on disk and their metadata.
pub struct FileStore {
    dir: PathBuf,
    db: Mutex<Connection>,
    quotas: Quotas,
}

impl std::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileStore").field("dir", &self.dir).finish()
    }
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// An upload under way: bytes go to a temporary file and into the ID's hash as they arrive.
#[derive(Debug)]
pub struct Upload<'a> {
    store: &'a FileStore,
    file: tempfile::NamedTempFile,
    hasher: FileIdHasher,
    size: u64,
    limit: u64,
}

impl Upload<'_> {
    /// Appends `data`; refuses to go past the upload's size bound.
    pub fn write(&mut self, data: &[u8]) -> Result<()> {
        self.size += data.len() as u64;
        if self.size > self.limit {
            return Err(FileStoreError::Full);
        }
        self.file.write_all(data)?;
        self.hasher.update(data);
        Ok(())
    }

    /// Keeps the file for `uploader` until `expiry_ms` (an upload of bytes already held only
    /// moves that file's expiry later). Nothing is kept when a quota refuses it.
    pub fn finish(self, uploader: &str, now_ms: u64, expiry_ms: u64) -> Result<StoredFile> {
        if self.size == 0 {
            return Err(FileStoreError::Empty);
        }
        let id = self.hasher.finish();
        let store = self.store;
        let db = store.lock();
        if let Some(held) = store.get_locked(&db, &id, now_ms)? {
            let expiry = held.expiry_ms.max(expiry_ms);
            db.execute(
                "UPDATE files SET expiry = ?2, uploaded = ?3 WHERE id = ?1",
                params![id, to_i64(expiry), to_i64(now_ms)],
            )?;
            return Ok(StoredFile {
                expiry_ms: expiry,
                uploaded_ms: now_ms,
                ..held
            });
        }
        let (total, mine): (i64, i64) = db.query_row(
            "SELECT COALESCE(SUM(size), 0), COALESCE(SUM(CASE WHEN uploader = ?1 THEN size END), 0)
             FROM files",
            params![uploader],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if to_u64(mine) + self.size > store.quotas.uploader_bytes {
            return Err(FileStoreError::UploaderQuota);
        }
        if to_u64(total) + self.size > store.quotas.total_bytes {
            return Err(FileStoreError::Full);
        }
        let path = store.path_of(&id);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        self.file.as_file().sync_all()?;
        self.file
            .persist(&path)
            .map_err(|e| FileStoreError::Io(e.error.to_string()))?;
        // An expired row of the same ID (its file swept or about to be) is replaced.
        db.execute(
            "INSERT OR REPLACE INTO files (id, size, uploaded, expiry, uploader)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                id,
                to_i64(self.size),
                to_i64(now_ms),
                to_i64(expiry_ms),
                uploader
            ],
        )?;
        Ok(StoredFile {
            id,
            size: self.size,
            uploaded_ms: now_ms,
            expiry_ms,
        })
    }
}

impl FileStore {
    /// Opens (creating if needed) the store in `dir`.
    pub fn open(dir: &Path, quotas: Quotas) -> Result<Self> {
        std::fs::create_dir_all(dir.join("files"))?;
        std::fs::create_dir_all(dir.join("incoming"))?;
        let mut db = Connection::open(dir.join("files.sqlite"))?;
        db.pragma_update(None, "journal_mode", "WAL")?;
        db.pragma_update(None, "synchronous", "NORMAL")?;
        let version: usize = db.pragma_query_value(None, "user_version", |r| r.get(0))?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
            let tx = db.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i + 1)?;
            tx.commit()?;
        }
        // Partial uploads of a previous run.
        for entry in std::fs::read_dir(dir.join("incoming"))?.flatten() {
            let _ = std::fs::remove_file(entry.path());
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            db: Mutex::new(db),
            quotas,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.db.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn path_of(&self, id: &str) -> PathBuf {
        // IDs are checked to be base64url before they name a path.
        self.dir.join("files").join(&id[..2]).join(id)
    }

    /// Starts an upload of at most `limit` bytes.
    pub fn upload(&self, limit: u64) -> Result<Upload<'_>> {
        Ok(Upload {
            store: self,
            file: tempfile::NamedTempFile::new_in(self.dir.join("incoming"))?,
            hasher: FileIdHasher::new(),
            size: 0,
            limit,
        })
    }

    fn get_locked(&self, db: &Connection, id: &str, now_ms: u64) -> Result<Option<StoredFile>> {
        Ok(db
            .query_row(
                "SELECT size, uploaded, expiry FROM files WHERE id = ?1 AND expiry > ?2",
                params![id, to_i64(now_ms)],
                |r| {
                    Ok(StoredFile {
                        id: id.to_string(),
                        size: to_u64(r.get(0)?),
                        uploaded_ms: to_u64(r.get(1)?),
                        expiry_ms: to_u64(r.get(2)?),
                    })
                },
            )
            .optional()?)
    }

    /// The file `id`'s metadata, if it is held and unexpired at `now_ms`.
    pub fn info(&self, id: &str, now_ms: u64) -> Result<StoredFile> {
        if !is_file_id(id) {
            return Err(FileStoreError::NotFound);
        }
        self.get_locked(&self.lock(), id, now_ms)?
            .ok_or(FileStoreError::NotFound)
    }

    /// Appends the bytes of file `id` to `buf`.
    pub fn read_into(&self, id: &str, buf: &mut Vec<u8>) -> Result<()> {
        use std::io::Read as _;
        if !is_file_id(id) {
            return Err(FileStoreError::NotFound);
        }
        let mut file =
            std::fs::File::open(self.path_of(id)).map_err(|_| FileStoreError::NotFound)?;
        file.read_to_end(buf)?;
        Ok(())
    }

    /// Moves `id`'s expiry to at least `expiry_ms` (never earlier).
    pub fn extend(&self, id: &str, now_ms: u64, expiry_ms: u64) -> Result<StoredFile> {
        let info = self.info(id, now_ms)?;
        let expiry = info.expiry_ms.max(expiry_ms);
        self.lock().execute(
            "UPDATE files SET expiry = ?2 WHERE id = ?1",
            params![id, to_i64(expiry)],
        )?;
        Ok(StoredFile {
            expiry_ms: expiry,
            ..info
        })
    }

    /// Removes every file expired at `now_ms`; returns how many.
    pub fn sweep(&self, now_ms: u64) -> Result<usize> {
        let db = self.lock();
        let ids: Vec<String> = db
            .prepare("DELETE FROM files WHERE expiry <= ?1 RETURNING id")?
            .query_map(params![to_i64(now_ms)], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        // Under the lock, so an upload of the same bytes cannot land in between.
        for id in &ids {
            let _ = std::fs::remove_file(self.path_of(id));
        }
        drop(db);
        Ok(ids.len())
    }

    /// Files and bytes held.
    pub fn stats(&self) -> Result<(u64, u64)> {
        let (n, bytes): (i64, i64) = self.lock().query_row(
            "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM files",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok((to_u64(n), to_u64(bytes)))
    }
}
