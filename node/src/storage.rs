//! The node's message store: one SQLite database (bundled SQLite, WAL) holding the messages of
//! every account in this node's swarm until they expire.
//!
//! Every operation is a short statement under one mutex: SQLite allows one writer at a time
//! anyway, and each call takes microseconds, so async callers call straight in rather than
//! paying for a thread hop. Schema changes live in `migrations/NNNN_*.sql`, applied in order and
//! recorded in `PRAGMA user_version`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use murmur_core::rpc::{AccountId, Namespace};
use rusqlite::{Connection, OptionalExtension, params};

use crate::waiters::Waiters;

/// Schema migrations, in order. Never edit a released one; add a new file.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_messages.sql"),
    include_str!("../migrations/0002_peer_cursors.sql"),
    include_str!("../migrations/0003_account_usage.sql"),
    include_str!("../migrations/0004_revoked_subaccounts.sql"),
    include_str!("../migrations/0005_subaccount_changes.sql"),
    include_str!("../migrations/0006_deleted_messages.sql"),
];

/// Most revoked tokens a node keeps per account (Session's limit); the oldest go first.
pub const REVOKED_MAX: usize = 50;

/// Most deleted hashes a node remembers per account (as many as it may hold messages); the
/// soonest forgotten go first.
pub const DELETED_MAX: u64 = murmur_core::limits::ACCOUNT_QUOTA_MESSAGES;

/// Most messages one account may hold on a node (all namespaces).
pub const DEFAULT_ACCOUNT_MAX_COUNT: u64 = murmur_core::limits::ACCOUNT_QUOTA_MESSAGES;
/// Most message bytes one account may hold on a node.
pub const DEFAULT_ACCOUNT_MAX_BYTES: u64 = murmur_core::limits::ACCOUNT_QUOTA_BYTES;

/// How much a node holds: in all, and for any one account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    pub max_bytes: u64,
    pub account_max_bytes: u64,
    pub account_max_count: u64,
}

impl Caps {
    /// A node cap and the default account quota.
    pub fn total(max_bytes: u64) -> Self {
        Self {
            max_bytes,
            account_max_bytes: DEFAULT_ACCOUNT_MAX_BYTES,
            account_max_count: DEFAULT_ACCOUNT_MAX_COUNT,
        }
    }
}

/// Session's per-node cap (`SIZE_LIMIT` = 3.5 GiB of message data).
pub const DEFAULT_MAX_BYTES: u64 = 3584 * 1024 * 1024;

/// What can go wrong in the store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// Accepting the message would take the node past its size cap.
    #[error("node storage is full")]
    Full,
    /// Accepting the message would take its account past its quota (count or bytes).
    #[error("the account's mailbox is full")]
    AccountFull,
    /// The disk under the database is full (SQLITE_FULL): nothing was written, and what is
    /// stored stays readable.
    #[error("disk full")]
    DiskFull,
    /// Any other failure of the database (its text, for the log).
    #[error("database error: {0}")]
    Db(String),
}

impl From<rusqlite::Error> for StorageError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull) => Self::DiskFull,
            _ => Self::Db(e.to_string()),
        }
    }
}

pub type Result<T> = std::result::Result<T, StorageError>;

/// A message as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// Local arrival order; only meaningful on this node.
    pub id: i64,
    pub account: AccountId,
    pub namespace: Namespace,
    pub hash: String,
    pub timestamp: u64,
    pub expiry: u64,
    pub data: Vec<u8>,
}

/// A stored message without its data: what identifies it across the swarm, and its expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDigest {
    /// Local arrival order; only meaningful on this node.
    pub id: i64,
    pub account: AccountId,
    pub namespace: Namespace,
    pub hash: String,
    pub expiry: u64,
}

/// The result of storing a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreOutcome {
    /// Newly stored.
    Stored { expiry: u64 },
    /// It was already here (its expiry is raised to the later of the two).
    Already { expiry: u64 },
    /// Its account's owner deleted it here: it is not kept again.
    Deleted,
}

/// How `expire` may move an expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpireMode {
    /// Set it, either way.
    Set,
    /// Only make it earlier.
    Shorten,
    /// Only make it later.
    Extend,
}

struct Inner {
    conn: Connection,
    bytes: u64,
    count: u64,
}

/// The SQLite-backed message store.
pub struct Storage {
    inner: Mutex<Inner>,
    caps: Caps,
    /// Woken after every commit that adds a message, whoever sent it.
    waiters: Waiters,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage")
            .field("caps", &self.caps)
            .finish_non_exhaustive()
    }
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn account_from(blob: Vec<u8>) -> rusqlite::Result<AccountId> {
    let bytes: [u8; 33] = blob.try_into().map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Blob,
            "account is not 33 bytes".into(),
        )
    })?;
    Ok(AccountId(bytes))
}

fn row_to_message(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredMessage> {
    Ok(StoredMessage {
        id: row.get(0)?,
        account: account_from(row.get(1)?)?,
        namespace: Namespace(row.get(2)?),
        hash: row.get(3)?,
        timestamp: to_u64(row.get(4)?),
        expiry: to_u64(row.get(5)?),
        data: row.get(6)?,
    })
}

const MESSAGE_COLUMNS: &str = "id, account, namespace, hash, timestamp, expiry, data";

/// Runs one `DELETE … RETURNING hash, length(data)`; returns the hashes and the bytes freed.
fn delete_returning(
    conn: &Connection,
    sql: &str,
    args: impl rusqlite::Params,
) -> Result<(Vec<String>, u64)> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(args)?;
    let mut hashes = Vec::new();
    let mut freed = 0;
    while let Some(row) = rows.next()? {
        hashes.push(row.get(0)?);
        freed += to_u64(row.get(1)?);
    }
    Ok((hashes, freed))
}

/// Remembers `hashes` of `account` as deleted by its owner, each until the time given (a
/// later time wins), keeping the [`DELETED_MAX`] remembered longest.
fn remember_deleted(
    tx: &rusqlite::Transaction<'_>,
    account: &AccountId,
    hashes: &[(String, u64)],
) -> Result<()> {
    if hashes.is_empty() {
        return Ok(());
    }
    let mut insert = tx.prepare_cached(
        "INSERT INTO deleted_messages (account, hash, until) VALUES (?1, ?2, ?3)
         ON CONFLICT (account, hash) DO UPDATE SET until = max(until, excluded.until)",
    )?;
    for (hash, until) in hashes {
        insert.execute(params![&account.0[..], hash, to_i64(*until)])?;
    }
    tx.prepare_cached(
        "DELETE FROM deleted_messages WHERE account = ?1 AND hash IN
           (SELECT hash FROM deleted_messages WHERE account = ?1
            ORDER BY until DESC, hash LIMIT -1 OFFSET ?2)",
    )?
    .execute(params![&account.0[..], to_i64(DELETED_MAX)])?;
    Ok(())
}

impl Inner {
    /// Keeps the cached totals in step with rows that were deleted.
    fn forget(&mut self, rows: usize, bytes: u64) {
        self.count -= rows as u64;
        self.bytes -= bytes;
    }
}

impl Storage {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path, caps: Caps) -> Result<Self> {
        let conn = Connection::open(path)?;
        Self::with_connection(conn, caps)
    }

    fn with_connection(mut conn: Connection, caps: Caps) -> Result<Self> {
        // WAL: readers never block the writer; NORMAL sync is durable across process crashes
        // (an OS crash can lose the last transactions, which swarm peers still hold).
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let version: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i + 1)?;
            tx.commit()?;
        }
        let (count, bytes): (i64, i64) = conn.query_row(
            "SELECT COUNT(*), COALESCE(SUM(length(data)), 0) FROM messages",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(Self {
            inner: Mutex::new(Inner {
                conn,
                bytes: to_u64(bytes),
                count: to_u64(count),
            }),
            caps,
            waiters: Waiters::default(),
        })
    }

    /// The waiting retrieves this store wakes.
    pub fn waiters(&self) -> &Waiters {
        &self.waiters
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves SQLite consistent (statements are atomic).
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Number of stored messages and their total data bytes.
    pub fn stats(&self) -> (u64, u64) {
        let inner = self.lock();
        (inner.count, inner.bytes)
    }

    /// Stores a message. A duplicate (same account, namespace and hash) is not stored twice;
    /// its expiry becomes the later of the two. With `replace_namespace` (public outboxes) every
    /// other message of the account in that namespace is removed.
    pub fn store(&self, msg: &StoredMessage, replace_namespace: bool) -> Result<StoreOutcome> {
        let outcome = Self::store_in(&self.caps, &mut self.lock(), msg, replace_namespace);
        if let Ok(StoreOutcome::Stored { .. }) = outcome {
            self.waiters.wake(&msg.account, msg.namespace);
        }
        outcome
    }

    /// Stores several messages (none replacing its namespace) in one transaction: one commit
    /// for all, which is what a batch of forwarded writes costs a peer. Each has its own
    /// outcome; a refused one (full, over quota) leaves the others stored.
    pub fn store_all(&self, msgs: &[&StoredMessage]) -> Vec<Result<StoreOutcome>> {
        let mut inner = self.lock();
        if let Err(e) = inner.conn.execute_batch("BEGIN") {
            let e = StorageError::from(e);
            return msgs.iter().map(|_| Err(e.clone())).collect();
        }
        let mut outcomes: Vec<_> = msgs
            .iter()
            .map(|m| Self::store_in(&self.caps, &mut inner, m, false))
            .collect();
        if let Err(e) = inner.conn.execute_batch("COMMIT") {
            // Nothing of the batch is stored: say so for each, and count again from the table.
            let _ = inner.conn.execute_batch("ROLLBACK");
            let e = StorageError::from(e);
            for o in &mut outcomes {
                *o = Err(e.clone());
            }
            if let Ok((count, bytes)) = inner.conn.query_row(
                "SELECT COUNT(*), COALESCE(SUM(length(data)), 0) FROM messages",
                [],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
            ) {
                (inner.count, inner.bytes) = (to_u64(count), to_u64(bytes));
            }
            return outcomes;
        }
        drop(inner);
        for (m, o) in msgs.iter().zip(&outcomes) {
            if let Ok(StoreOutcome::Stored { .. }) = o {
                self.waiters.wake(&m.account, m.namespace);
            }
        }
        outcomes
    }

    /// One store on the locked connection, in a savepoint: its own transaction, or a part of
    /// the one [`Self::store_all`] opened.
    fn store_in(
        caps: &Caps,
        inner: &mut Inner,
        msg: &StoredMessage,
        replace_namespace: bool,
    ) -> Result<StoreOutcome> {
        // A store that crossed its own delete (a forward or catch-up page still on its way
        // when the owner deleted it) must not bring the message back.
        if inner
            .conn
            .prepare_cached("SELECT 1 FROM deleted_messages WHERE account = ?1 AND hash = ?2")?
            .exists(params![&msg.account.0[..], msg.hash])?
        {
            return Ok(StoreOutcome::Deleted);
        }
        // Cached statements: a store runs these on every member, and parsing them each time
        // was a visible share of the write path.
        let existing: Option<i64> = inner
            .conn
            .prepare_cached(
                "SELECT expiry FROM messages WHERE account = ?1 AND namespace = ?2 AND hash = ?3",
            )?
            .query_row(
                params![&msg.account.0[..], msg.namespace.0, msg.hash],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(old) = existing {
            let expiry = to_u64(old).max(msg.expiry);
            // Catch-up hands every member each message again: unchanged, it costs no write.
            if expiry == to_u64(old) {
                return Ok(StoreOutcome::Already { expiry });
            }
            inner
                .conn
                .prepare_cached(
                    "UPDATE messages SET expiry = ?4
                     WHERE account = ?1 AND namespace = ?2 AND hash = ?3",
                )?
                .execute(params![
                    &msg.account.0[..],
                    msg.namespace.0,
                    msg.hash,
                    to_i64(expiry)
                ])?;
            return Ok(StoreOutcome::Already { expiry });
        }
        let size = msg.data.len() as u64;
        if inner.bytes + size > caps.max_bytes {
            return Err(StorageError::Full);
        }
        let space = murmur_core::swarm::swarm_space(&msg.account.key());
        let tx = inner.conn.savepoint()?;
        let (replaced, freed) = if replace_namespace {
            delete_returning(
                &tx,
                "DELETE FROM messages WHERE account = ?1 AND namespace = ?2
                 RETURNING hash, length(data)",
                params![&msg.account.0[..], msg.namespace.0],
            )?
        } else {
            (Vec::new(), 0)
        };
        // The quota counts what the account holds after any replaced message is gone; a
        // refusal drops the transaction, so the replaced message stays.
        let (count, bytes): (i64, i64) = tx
            .prepare_cached("SELECT count, bytes FROM account_usage WHERE account = ?1")?
            .query_row(params![&msg.account.0[..]], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
            .unwrap_or((0, 0));
        if to_u64(count) + 1 > caps.account_max_count
            || to_u64(bytes) + size > caps.account_max_bytes
        {
            return Err(StorageError::AccountFull);
        }
        tx.prepare_cached(
            "INSERT INTO messages (account, namespace, hash, timestamp, expiry, data, swarm_space)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            &msg.account.0[..],
            msg.namespace.0,
            msg.hash,
            to_i64(msg.timestamp),
            to_i64(msg.expiry),
            msg.data,
            space as i64
        ])?;
        tx.commit()?;
        inner.count += 1;
        inner.bytes += size;
        inner.forget(replaced.len(), freed);
        Ok(StoreOutcome::Stored { expiry: msg.expiry })
    }

    /// Messages of `account` in `namespace` after `last_hash` (from the start when empty or
    /// unknown), unexpired at `now_ms`, in arrival order: at most `max_count`, and no more than
    /// `max_size` data bytes except that one message is always returned if any is pending.
    /// The flag says whether more are waiting.
    pub fn retrieve(
        &self,
        account: &AccountId,
        namespace: Namespace,
        last_hash: &str,
        now_ms: u64,
        max_count: usize,
        max_size: usize,
    ) -> Result<(Vec<StoredMessage>, bool)> {
        let inner = self.lock();
        let after: i64 = if last_hash.is_empty() {
            0
        } else {
            inner
                .conn
                .query_row(
                    "SELECT id FROM messages WHERE account = ?1 AND namespace = ?2 AND hash = ?3",
                    params![&account.0[..], namespace.0, last_hash],
                    |r| r.get(0),
                )
                .optional()?
                .unwrap_or(0)
        };
        let mut stmt = inner.conn.prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages
             WHERE account = ?1 AND namespace = ?2 AND id > ?3 AND expiry > ?4
             ORDER BY id LIMIT ?5"
        ))?;
        let rows = stmt.query_map(
            params![
                &account.0[..],
                namespace.0,
                after,
                to_i64(now_ms),
                to_i64(max_count as u64 + 1)
            ],
            row_to_message,
        )?;
        let mut out = Vec::new();
        let mut size = 0usize;
        let mut more = false;
        for row in rows {
            let msg = row?;
            if out.len() == max_count || (!out.is_empty() && size + msg.data.len() > max_size) {
                more = true;
                break;
            }
            size += msg.data.len();
            out.push(msg);
        }
        Ok((out, more))
    }

    /// Deletes the listed messages of `account`; returns the hashes deleted, sorted.
    /// Revokes `tokens` of `account` at the owner's time `at_ms`, as an unlogged change
    /// ([`Self::change_subaccounts`]).
    pub fn revoke(&self, account: &AccountId, tokens: &[[u8; 36]], at_ms: u64) -> Result<()> {
        self.change_subaccounts(account, tokens, true, at_ms, None)
    }

    /// Revokes (`revoked`) or lets back in `tokens` of `account`, as the group owner did at
    /// `at_ms`. The owner's time orders its changes, whatever order they arrive in: a token
    /// takes the change only when it is newer than the one it holds (at the same time, a
    /// revocation wins), so every member of a swarm ends the same. The newest
    /// [`REVOKED_MAX`] revocations are kept per account, and as many unrevocations.
    ///
    /// `signed`: the owner's signed request (JSON), logged for peers' catch-up
    /// ([`Self::subaccount_changes_after`]); the newest `2 × REVOKED_MAX` per account are kept.
    pub fn change_subaccounts(
        &self,
        account: &AccountId,
        tokens: &[[u8; 36]],
        revoked: bool,
        at_ms: u64,
        signed: Option<&str>,
    ) -> Result<()> {
        let mut inner = self.lock();
        let tx = inner.conn.transaction()?;
        for t in tokens {
            tx.execute(
                "INSERT INTO revoked_subaccounts (account, token, revoked_at, revoked)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (account, token) DO UPDATE
                 SET revoked_at = excluded.revoked_at, revoked = excluded.revoked
                 WHERE excluded.revoked_at > revoked_at
                    OR (excluded.revoked_at = revoked_at AND excluded.revoked > revoked)",
                params![&account.0[..], &t[..], at_ms as i64, revoked],
            )?;
        }
        for state in [true, false] {
            tx.execute(
                "DELETE FROM revoked_subaccounts WHERE account = ?1 AND revoked = ?3 AND token NOT IN
                   (SELECT token FROM revoked_subaccounts WHERE account = ?1 AND revoked = ?3
                    ORDER BY revoked_at DESC, token LIMIT ?2)",
                params![&account.0[..], REVOKED_MAX as i64, state],
            )?;
        }
        if let Some(signed) = signed {
            tx.execute(
                "INSERT OR IGNORE INTO subaccount_changes (account, timestamp, request)
                 VALUES (?1, ?2, ?3)",
                params![&account.0[..], at_ms as i64, signed],
            )?;
            tx.execute(
                "DELETE FROM subaccount_changes WHERE account = ?1 AND id NOT IN
                   (SELECT id FROM subaccount_changes WHERE account = ?1
                    ORDER BY timestamp DESC, id DESC LIMIT ?2)",
                params![&account.0[..], 2 * REVOKED_MAX as i64],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Up to `limit` logged subaccount changes after `after` (this node's arrival order):
    /// `(id, account, signed request)`.
    pub fn subaccount_changes_after(
        &self,
        after: i64,
        limit: usize,
    ) -> Result<Vec<(i64, AccountId, String)>> {
        let inner = self.lock();
        let mut stmt = inner.conn.prepare_cached(
            "SELECT id, account, request FROM subaccount_changes WHERE id > ?1 ORDER BY id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![after, limit as i64], |r| {
            Ok((r.get(0)?, account_from(r.get(1)?)?, r.get(2)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// [`Self::is_revoked`] as the checks take it; a database error counts as revoked (the
    /// request is refused rather than let through unchecked).
    pub fn revoked(&self) -> impl Fn(&AccountId, &[u8; 36]) -> bool + '_ {
        |account, token| self.is_revoked(account, token).unwrap_or(true)
    }

    /// Whether `token` of `account` is revoked.
    pub fn is_revoked(&self, account: &AccountId, token: &[u8; 36]) -> Result<bool> {
        Ok(self
            .lock()
            .conn
            .query_row(
                "SELECT 1 FROM revoked_subaccounts WHERE account = ?1 AND token = ?2 AND revoked = 1",
                params![&account.0[..], &token[..]],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Deletes the listed messages of `account` at `now_ms`; returns the hashes deleted,
    /// sorted. Every hash listed is remembered ([`DELETED_MAX`]) until no copy of it can be
    /// alive, so a store of it that arrives afterwards is not kept: the longest TTL from now.
    pub fn delete(
        &self,
        account: &AccountId,
        hashes: &[String],
        now_ms: u64,
    ) -> Result<Vec<String>> {
        let until = now_ms.saturating_add(murmur_core::rpc::TTL_MAXIMUM_PRIVATE_MS);
        let remembered = hashes
            .iter()
            .map(|h| (h.clone(), until))
            .collect::<Vec<_>>();
        let mut deleted = self.delete_each(
            "DELETE FROM messages WHERE account = ?1 AND hash = ?2 RETURNING hash, length(data)",
            hashes.iter().map(|h| (&account.0[..], h)),
            Some((account, &remembered[..])),
        )?;
        deleted.sort();
        Ok(deleted)
    }

    /// Runs `sql` (a `DELETE … RETURNING hash, length(data)`) once per parameter set, in one
    /// transaction, remembering the `deleted` hashes (and until when) of an account with
    /// them; returns every hash deleted.
    fn delete_each<P: rusqlite::Params>(
        &self,
        sql: &str,
        each: impl Iterator<Item = P>,
        deleted_by_owner: Option<(&AccountId, &[(String, u64)])>,
    ) -> Result<Vec<String>> {
        let mut inner = self.lock();
        let tx = inner.conn.transaction()?;
        let mut deleted = Vec::new();
        let mut freed = 0;
        for args in each {
            let (hashes, bytes) = delete_returning(&tx, sql, args)?;
            deleted.extend(hashes);
            freed += bytes;
        }
        if let Some((account, hashes)) = deleted_by_owner {
            remember_deleted(&tx, account, hashes)?;
        }
        tx.commit()?;
        inner.forget(deleted.len(), freed);
        Ok(deleted)
    }

    /// Runs `sql` (a `DELETE … RETURNING hash, length(data), expiry`) once; with `account`,
    /// the hashes deleted are remembered as its owner's deletes until their expiry.
    fn delete_where(
        &self,
        sql: &str,
        args: &[&dyn rusqlite::ToSql],
        account: Option<&AccountId>,
    ) -> Result<Vec<String>> {
        let mut inner = self.lock();
        let tx = inner.conn.transaction()?;
        let mut deleted = Vec::new();
        let mut freed = 0;
        {
            let mut stmt = tx.prepare_cached(sql)?;
            let mut rows = stmt.query(args)?;
            while let Some(row) = rows.next()? {
                deleted.push((row.get::<_, String>(0)?, to_u64(row.get(2)?)));
                freed += to_u64(row.get(1)?);
            }
        }
        if let Some(account) = account {
            remember_deleted(&tx, account, &deleted)?;
        }
        tx.commit()?;
        inner.forget(deleted.len(), freed);
        let mut hashes: Vec<String> = deleted.into_iter().map(|(h, _)| h).collect();
        hashes.sort();
        Ok(hashes)
    }

    /// Deletes every message of `account` in `namespace`; returns their hashes, sorted.
    pub fn delete_all(&self, account: &AccountId, namespace: Namespace) -> Result<Vec<String>> {
        self.delete_where(
            "DELETE FROM messages WHERE account = ?1 AND namespace = ?2
             RETURNING hash, length(data), expiry",
            &[&&account.0[..], &namespace.0],
            Some(account),
        )
    }

    /// Deletes messages of `account` in `namespace` whose timestamp is before `before_ms`.
    pub fn delete_before(
        &self,
        account: &AccountId,
        namespace: Namespace,
        before_ms: u64,
    ) -> Result<Vec<String>> {
        self.delete_where(
            "DELETE FROM messages WHERE account = ?1 AND namespace = ?2 AND timestamp < ?3
             RETURNING hash, length(data), expiry",
            &[&&account.0[..], &namespace.0, &to_i64(before_ms)],
            Some(account),
        )
    }

    /// Moves the expiry of the listed messages to `expiry_ms` as `mode` allows. Returns the
    /// hashes updated (sorted) and, for shorten/extend, the unchanged ones with their expiry.
    pub fn expire(
        &self,
        account: &AccountId,
        hashes: &[String],
        expiry_ms: u64,
        mode: ExpireMode,
        now_ms: u64,
    ) -> Result<(Vec<String>, BTreeMap<String, u64>)> {
        let inner = self.lock();
        let mut updated = Vec::new();
        let mut unchanged = BTreeMap::new();
        let mut select = inner.conn.prepare_cached(
            "SELECT expiry FROM messages WHERE account = ?1 AND hash = ?2 AND expiry > ?3",
        )?;
        let mut update = inner
            .conn
            .prepare_cached("UPDATE messages SET expiry = ?3 WHERE account = ?1 AND hash = ?2")?;
        for hash in hashes {
            let Some(current) = select
                .query_row(params![&account.0[..], hash, to_i64(now_ms)], |r| {
                    r.get::<_, i64>(0)
                })
                .optional()?
                .map(to_u64)
            else {
                continue;
            };
            let allowed = match mode {
                ExpireMode::Set => current != expiry_ms,
                ExpireMode::Shorten => expiry_ms < current,
                ExpireMode::Extend => expiry_ms > current,
            };
            if allowed {
                update.execute(params![&account.0[..], hash, to_i64(expiry_ms)])?;
                updated.push(hash.clone());
            } else if mode != ExpireMode::Set {
                unchanged.insert(hash.clone(), current);
            } else {
                updated.push(hash.clone());
            }
        }
        updated.sort();
        updated.dedup();
        Ok((updated, unchanged))
    }

    /// Shortens the expiry of every message of `account` in `namespace` to `expiry_ms` (never
    /// lengthens); returns the hashes updated, sorted.
    pub fn expire_all(
        &self,
        account: &AccountId,
        namespace: Namespace,
        expiry_ms: u64,
    ) -> Result<Vec<String>> {
        let inner = self.lock();
        let mut stmt = inner.conn.prepare_cached(
            "UPDATE messages SET expiry = ?3 WHERE account = ?1 AND namespace = ?2 AND expiry > ?3
             RETURNING hash",
        )?;
        let mut updated = stmt
            .query_map(
                params![&account.0[..], namespace.0, to_i64(expiry_ms)],
                |r| r.get::<_, String>(0),
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        updated.sort();
        Ok(updated)
    }

    /// Expiries of the listed messages of `account` still alive at `now_ms`.
    pub fn get_expiries(
        &self,
        account: &AccountId,
        hashes: &[String],
        now_ms: u64,
    ) -> Result<BTreeMap<String, u64>> {
        let inner = self.lock();
        let mut stmt = inner.conn.prepare_cached(
            "SELECT expiry FROM messages WHERE account = ?1 AND hash = ?2 AND expiry > ?3",
        )?;
        let mut out = BTreeMap::new();
        for hash in hashes {
            if let Some(e) = stmt
                .query_row(params![&account.0[..], hash, to_i64(now_ms)], |r| {
                    r.get::<_, i64>(0)
                })
                .optional()?
            {
                out.insert(hash.clone(), to_u64(e));
            }
        }
        Ok(out)
    }

    /// Removes every message expired at `now_ms`, and forgets the deletes whose time is
    /// up; returns how many messages.
    pub fn sweep(&self, now_ms: u64) -> Result<u64> {
        let removed = self.delete_where(
            "DELETE FROM messages WHERE expiry <= ?1 RETURNING hash, length(data), expiry",
            &[&to_i64(now_ms)],
            None,
        )?;
        self.lock().conn.execute(
            "DELETE FROM deleted_messages WHERE until <= ?1",
            [to_i64(now_ms)],
        )?;
        Ok(removed.len() as u64)
    }

    /// Unexpired messages with local id above `after_id`, in id order, at most `limit`: the
    /// pages peers read to catch up and that handoff walks.
    pub fn page_after(
        &self,
        after_id: i64,
        now_ms: u64,
        limit: usize,
    ) -> Result<Vec<StoredMessage>> {
        let inner = self.lock();
        let mut stmt = inner.conn.prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE id > ?1 AND expiry > ?2 ORDER BY id LIMIT ?3"
        ))?;
        let rows = stmt
            .query_map(
                params![after_id, to_i64(now_ms), to_i64(limit as u64)],
                row_to_message,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// What [`Self::page_after`] would return, without the data: the digest pages a peer
    /// compares with what it holds before asking for any message whole.
    pub fn digests_after(
        &self,
        after_id: i64,
        now_ms: u64,
        limit: usize,
    ) -> Result<Vec<StoredDigest>> {
        let inner = self.lock();
        let mut stmt = inner.conn.prepare_cached(
            "SELECT id, account, namespace, hash, expiry FROM messages
             WHERE id > ?1 AND expiry > ?2 ORDER BY id LIMIT ?3",
        )?;
        let rows = stmt
            .query_map(
                params![after_id, to_i64(now_ms), to_i64(limit as u64)],
                |row| {
                    Ok(StoredDigest {
                        id: row.get(0)?,
                        account: account_from(row.get(1)?)?,
                        namespace: Namespace(row.get(2)?),
                        hash: row.get(3)?,
                        expiry: to_u64(row.get(4)?),
                    })
                },
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// The messages with these local ids that are unexpired at `now_ms`, in id order.
    pub fn messages_by_id(&self, ids: &[i64], now_ms: u64) -> Result<Vec<StoredMessage>> {
        let inner = self.lock();
        let mut stmt = inner.conn.prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?1 AND expiry > ?2"
        ))?;
        let mut sorted = ids.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let mut out = Vec::with_capacity(sorted.len());
        for id in sorted {
            if let Some(m) = stmt
                .query_row(params![id, to_i64(now_ms)], row_to_message)
                .optional()?
            {
                out.push(m);
            }
        }
        Ok(out)
    }

    /// For each (account, namespace, hash), the expiry of the message held here, if any; one
    /// its owner deleted here counts as held for ever (a peer's copy is not worth fetching).
    pub fn held_expiries(&self, keys: &[(AccountId, Namespace, &str)]) -> Result<Vec<Option<u64>>> {
        let inner = self.lock();
        let mut stmt = inner.conn.prepare_cached(
            "SELECT expiry FROM messages WHERE account = ?1 AND namespace = ?2 AND hash = ?3
             UNION ALL
             SELECT ?4 FROM deleted_messages WHERE account = ?1 AND hash = ?3",
        )?;
        keys.iter()
            .map(|(account, namespace, hash)| {
                Ok(stmt
                    .query_row(params![&account.0[..], namespace.0, hash, i64::MAX], |r| {
                        r.get::<_, i64>(0)
                    })
                    .optional()?
                    .map(to_u64))
            })
            .collect()
    }

    /// Removes exact messages (after they were handed to their new swarm).
    pub fn remove(&self, messages: &[StoredMessage]) -> Result<()> {
        self.delete_each(
            "DELETE FROM messages WHERE account = ?1 AND namespace = ?2 AND hash = ?3
             RETURNING hash, length(data)",
            messages
                .iter()
                .map(|m| (&m.account.0[..], m.namespace.0, &m.hash)),
            None,
        )?;
        Ok(())
    }

    /// How far this node has read `peer`'s messages.
    pub fn peer_cursor(&self, peer: &str) -> Result<i64> {
        let inner = self.lock();
        Ok(inner
            .conn
            .query_row(
                "SELECT cursor FROM peer_cursors WHERE peer = ?1",
                [peer],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0))
    }

    /// Records how far this node has read `peer`'s messages.
    pub fn set_peer_cursor(&self, peer: &str, cursor: i64) -> Result<()> {
        let inner = self.lock();
        inner.conn.execute(
            "INSERT INTO peer_cursors (peer, cursor) VALUES (?1, ?2)
             ON CONFLICT (peer) DO UPDATE SET cursor = excluded.cursor",
            params![peer, cursor],
        )?;
        Ok(())
    }

    /// Forgets the logged subaccount changes `ids` (handed to their account's new swarm).
    pub fn forget_subaccount_changes(&self, ids: &[i64]) -> Result<()> {
        let mut inner = self.lock();
        let tx = inner.conn.transaction()?;
        for id in ids {
            tx.execute("DELETE FROM subaccount_changes WHERE id = ?1", [id])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// How far this node has read `peer`'s subaccount changes (0: not yet).
    pub fn peer_subaccount_cursor(&self, peer: &str) -> Result<i64> {
        let inner = self.lock();
        Ok(inner
            .conn
            .query_row(
                "SELECT cursor FROM peer_subaccount_cursors WHERE peer = ?1",
                [peer],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0))
    }

    /// Records how far this node has read `peer`'s subaccount changes.
    pub fn set_peer_subaccount_cursor(&self, peer: &str, cursor: i64) -> Result<()> {
        let inner = self.lock();
        inner.conn.execute(
            "INSERT INTO peer_subaccount_cursors (peer, cursor) VALUES (?1, ?2)
             ON CONFLICT (peer) DO UPDATE SET cursor = excluded.cursor",
            params![peer, cursor],
        )?;
        Ok(())
    }

    /// Forgets every peer cursor (the swarm changed: new peers have unrelated ids, and the
    /// accounts now ours are read from the start).
    pub fn reset_peer_cursors(&self) -> Result<()> {
        let inner = self.lock();
        inner.conn.execute("DELETE FROM peer_cursors", [])?;
        inner
            .conn
            .execute("DELETE FROM peer_subaccount_cursors", [])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database at `path` as the version with the first `version` migrations made it.
    fn at_schema(path: &Path, version: usize) -> Connection {
        let mut conn = Connection::open(path).unwrap();
        for (i, sql) in MIGRATIONS[..version].iter().enumerate() {
            let tx = conn.transaction().unwrap();
            tx.execute_batch(sql).unwrap();
            tx.pragma_update(None, "user_version", i + 1).unwrap();
            tx.commit().unwrap();
        }
        conn
    }

    fn open() -> Storage {
        let conn = Connection::open_in_memory().expect("sqlite opens");
        Storage::with_connection(conn, Caps::total(1000)).expect("schema applies")
    }

    fn msg(hash: &str, data: &[u8], expiry: u64) -> StoredMessage {
        StoredMessage {
            id: 0,
            account: AccountId([5; 33]),
            namespace: Namespace(0),
            hash: hash.into(),
            timestamp: 1,
            expiry,
            data: data.to_vec(),
        }
    }

    #[test]
    fn duplicate_is_reported_and_keeps_the_later_expiry() {
        let s = open();
        assert_eq!(
            s.store(&msg("a", b"x", 100), false).unwrap(),
            StoreOutcome::Stored { expiry: 100 }
        );
        assert_eq!(
            s.store(&msg("a", b"x", 200), false).unwrap(),
            StoreOutcome::Already { expiry: 200 }
        );
        assert_eq!(
            s.store(&msg("a", b"x", 50), false).unwrap(),
            StoreOutcome::Already { expiry: 200 }
        );
        assert_eq!(s.stats(), (1, 1));
    }

    #[test]
    fn a_store_that_crossed_its_delete_does_not_bring_the_message_back() {
        let s =
            Storage::with_connection(Connection::open_in_memory().unwrap(), Caps::total(1 << 20))
                .unwrap();
        let (now, account) = (1_000, AccountId([5; 33]));
        let held = |s: &Storage| {
            let (msgs, _) = s
                .retrieve(&account, Namespace(0), "", now, 100, 1 << 20)
                .unwrap();
            msgs.into_iter().map(|m| m.hash).collect::<Vec<_>>()
        };
        // The delete arrives first (the forward of the store was still on its way) ...
        assert!(
            s.delete(&account, &["early".into()], now)
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            s.store(&msg("early", b"x", now + 500), false).unwrap(),
            StoreOutcome::Deleted
        );
        // ... or a catch-up page hands back a message already deleted here.
        s.store(&msg("late", b"y", now + 500), false).unwrap();
        assert_eq!(s.delete(&account, &["late".into()], now).unwrap(), ["late"]);
        assert_eq!(
            s.store_all(&[
                &msg("late", b"y", now + 500),
                &msg("other", b"z", now + 500)
            ]),
            [
                Ok(StoreOutcome::Deleted),
                Ok(StoreOutcome::Stored { expiry: now + 500 })
            ]
        );
        assert_eq!(held(&s), ["other"]);
        // Catch-up does not fetch a peer's copy of it.
        let keys = [
            (account, Namespace(0), "late"),
            (account, Namespace(0), "gone"),
        ];
        assert_eq!(s.held_expiries(&keys).unwrap(), [Some(u64::MAX >> 1), None]);
        // So are hashes a delete_all or delete_before took.
        s.delete_all(&account, Namespace(0)).unwrap();
        assert_eq!(
            s.store(&msg("other", b"z", now + 500), false).unwrap(),
            StoreOutcome::Deleted
        );
        s.store(&msg("old", b"o", now + 500), false).unwrap();
        assert_eq!(s.delete_before(&account, Namespace(0), 2).unwrap(), ["old"]);
        assert_eq!(
            s.store(&msg("old", b"o", now + 500), false).unwrap(),
            StoreOutcome::Deleted
        );
        assert!(held(&s).is_empty());
        assert_eq!(s.stats(), (0, 0));
        // Another account's message of the same hash is its own.
        let mut theirs = msg("early", b"x", now + 500);
        theirs.account = AccountId([6; 33]);
        assert!(matches!(
            s.store(&theirs, false),
            Ok(StoreOutcome::Stored { .. })
        ));
        // A delete is remembered until no copy can be alive: the longest TTL after it was
        // made, or the expiry of the message it took; then the sweep forgets it.
        let forgotten_at = now + murmur_core::rpc::TTL_MAXIMUM_PRIVATE_MS;
        s.sweep(forgotten_at - 1).unwrap();
        assert_eq!(
            s.store(&msg("early", b"x", u64::MAX), false).unwrap(),
            StoreOutcome::Deleted
        );
        s.sweep(forgotten_at).unwrap();
        assert!(matches!(
            s.store(&msg("early", b"x", u64::MAX), false),
            Ok(StoreOutcome::Stored { .. })
        ));
        assert!(matches!(
            s.store(&msg("late", b"y", u64::MAX), false),
            Ok(StoreOutcome::Stored { .. })
        ));
    }

    #[test]
    fn an_account_has_at_most_deleted_max_deletes_remembered() {
        let s = open();
        let account = AccountId([5; 33]);
        let hashes = |from: u64, n: u64| {
            (from..from + n)
                .map(|i| format!("h{i}"))
                .collect::<Vec<_>>()
        };
        // The first batch is remembered the longest; the second pushes the oldest of the
        // rest out.
        s.delete(&account, &hashes(0, 10), 5_000).unwrap();
        s.delete(&account, &hashes(10, DELETED_MAX), 1_000).unwrap();
        let remembered: i64 = s
            .lock()
            .conn
            .query_row("SELECT COUNT(*) FROM deleted_messages", [], |r| r.get(0))
            .unwrap();
        assert_eq!(remembered, DELETED_MAX as i64);
        assert_eq!(
            s.store(&msg("h0", b"x", 1), false).unwrap(),
            StoreOutcome::Deleted
        );
    }

    #[test]
    fn cap_refuses_and_keeps_what_is_stored() {
        let s = open();
        s.store(&msg("a", &[0; 600], 100), false).unwrap();
        assert!(matches!(
            s.store(&msg("b", &[0; 600], 100), false),
            Err(StorageError::Full)
        ));
        assert_eq!(s.stats(), (1, 600));
        let (got, more) = s
            .retrieve(&AccountId([5; 33]), Namespace(0), "", 0, 10, 10_000)
            .unwrap();
        assert_eq!((got.len(), more), (1, false));
    }

    #[test]
    fn retrieve_pages_by_last_hash_and_hides_expired() {
        let s = open();
        for (i, h) in ["a", "b", "c"].iter().enumerate() {
            s.store(&msg(h, b"x", 100 + i as u64), false).unwrap();
        }
        let acct = AccountId([5; 33]);
        let (got, more) = s.retrieve(&acct, Namespace(0), "", 0, 2, 10_000).unwrap();
        assert_eq!(
            got.iter().map(|m| m.hash.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert!(more);
        let (got, more) = s.retrieve(&acct, Namespace(0), "b", 0, 2, 10_000).unwrap();
        assert_eq!(
            got.iter().map(|m| m.hash.as_str()).collect::<Vec<_>>(),
            ["c"]
        );
        assert!(!more);
        // At 101 "a" and "b" have expired (expiry is exclusive).
        let (got, _) = s
            .retrieve(&acct, Namespace(0), "", 101, 10, 10_000)
            .unwrap();
        assert_eq!(
            got.iter().map(|m| m.hash.as_str()).collect::<Vec<_>>(),
            ["c"]
        );
        assert_eq!(s.sweep(101).unwrap(), 2);
        assert_eq!(s.stats(), (1, 1));
    }

    fn for_account(account: u8, hash: &str, data: &[u8]) -> StoredMessage {
        StoredMessage {
            account: AccountId([account; 33]),
            ..msg(hash, data, 1_000)
        }
    }

    fn with_quota(count: u64, bytes: u64) -> Storage {
        let conn = Connection::open_in_memory().expect("sqlite opens");
        let caps = Caps {
            max_bytes: 1 << 30,
            account_max_bytes: bytes,
            account_max_count: count,
        };
        Storage::with_connection(conn, caps).expect("schema applies")
    }

    #[test]
    fn one_account_over_its_quota_is_refused_and_others_still_store() {
        let s = with_quota(3, 1_000);
        for h in ["a", "b", "c"] {
            s.store(&for_account(1, h, b"xx"), false).unwrap();
        }
        assert!(matches!(
            s.store(&for_account(1, "d", b"xx"), false),
            Err(StorageError::AccountFull)
        ));
        // By bytes too.
        s.store(&for_account(2, "a", &[0; 900]), false).unwrap();
        assert!(matches!(
            s.store(&for_account(2, "b", &[0; 101]), false),
            Err(StorageError::AccountFull)
        ));
        // Another account is unaffected, and nothing was lost.
        s.store(&for_account(3, "a", b"xx"), false).unwrap();
        assert_eq!(s.stats(), (5, 3 * 2 + 900 + 2));
        // Deleting frees the quota (the triggers keep it exact) ...
        s.delete(&AccountId([1; 33]), &["a".into()], 0).unwrap();
        s.store(&for_account(1, "d", b"xx"), false).unwrap();
        // ... so does expiry, and a replaced public-outbox message does not count twice.
        assert_eq!(s.sweep(1_000).unwrap(), 5);
        let s = with_quota(1, 1_000);
        s.store(&for_account(4, "a", b"x"), true).unwrap();
        s.store(&for_account(4, "b", b"y"), true).unwrap();
        assert_eq!(s.stats(), (1, 1));
    }

    #[test]
    fn a_database_from_before_the_quota_opens_with_its_usage_counted() {
        // Written as the previous version did (schema 2), then opened by this one.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("messages.sqlite");
        {
            let conn = at_schema(&path, 2);
            for (i, account) in [7u8, 7, 8].iter().enumerate() {
                conn.execute(
                    "INSERT INTO messages (account, namespace, hash, timestamp, expiry, data, swarm_space)
                     VALUES (?1, 0, ?2, 1, 1000, ?3, 0)",
                    params![&[*account; 33][..], format!("h{i}"), vec![0u8; 10]],
                )
                .unwrap();
            }
        }
        let caps = Caps {
            max_bytes: 1 << 30,
            account_max_bytes: 1 << 20,
            account_max_count: 2,
        };
        let s = Storage::open(&path, caps).unwrap();
        assert_eq!(s.stats(), (3, 30));
        // Account 7 already holds two: the quota knows it.
        assert!(matches!(
            s.store(&for_account(7, "new", b"x"), false),
            Err(StorageError::AccountFull)
        ));
        s.store(&for_account(8, "new", b"x"), false).unwrap();
        let (got, _) = s
            .retrieve(&AccountId([7; 33]), Namespace(0), "", 0, 10, 10_000)
            .unwrap();
        assert_eq!(got.len(), 2, "the old messages are still there");
    }

    #[test]
    fn changes_to_a_token_follow_the_owners_time_whatever_order_they_arrive_in() {
        let acct = AccountId([3; 33]);
        let t = [1; 36];
        // (revoked, owner's time) in the order one node hears them, then the reverse.
        let changes = [(true, 10), (false, 5), (false, 20), (true, 15), (true, 20)];
        for order in [changes.to_vec(), changes.iter().rev().copied().collect()] {
            let s = open();
            for (revoked, at) in order {
                s.change_subaccounts(&acct, &[t], revoked, at, None)
                    .unwrap();
            }
            // The newest is at 20, where a revocation and an unrevocation tie: it is revoked.
            assert!(s.is_revoked(&acct, &t).unwrap());
        }
        let s = open();
        s.change_subaccounts(&acct, &[t], true, 10, None).unwrap();
        s.change_subaccounts(&acct, &[t], false, 5, None).unwrap();
        assert!(
            s.is_revoked(&acct, &t).unwrap(),
            "an older unrevocation loses"
        );
        s.change_subaccounts(&acct, &[t], false, 11, None).unwrap();
        assert!(!s.is_revoked(&acct, &t).unwrap());
        s.change_subaccounts(&acct, &[t], true, 10, None).unwrap();
        assert!(
            !s.is_revoked(&acct, &t).unwrap(),
            "a replayed revocation loses"
        );
    }

    #[test]
    fn the_log_of_signed_changes_is_paged_and_bounded_per_account() {
        let s = open();
        let acct = AccountId([3; 33]);
        for i in 0..(2 * REVOKED_MAX + 10) {
            let signed = format!("{{\"n\": {i}}}");
            s.change_subaccounts(&acct, &[[i as u8; 36]], true, i as u64, Some(&signed))
                .unwrap();
        }
        // The same signed request again is not logged twice.
        s.change_subaccounts(&acct, &[[0; 36]], true, 0, Some("{\"n\": 109}"))
            .unwrap();
        let all = s.subaccount_changes_after(0, 1_000).unwrap();
        assert_eq!(all.len(), 2 * REVOKED_MAX, "the oldest went");
        assert_eq!(all[0].2, "{\"n\": 10}");
        let page = s.subaccount_changes_after(all[9].0, 5).unwrap();
        assert_eq!(page.len(), 5);
        assert_eq!(page[0].0, all[10].0);
        // Revocations are capped as before; the unrevocations kept are capped alike.
        for i in 0..(REVOKED_MAX + 5) {
            s.change_subaccounts(&acct, &[[i as u8; 36]], false, 1_000 + i as u64, None)
                .unwrap();
        }
        let kept: i64 = s
            .lock()
            .conn
            .query_row(
                "SELECT count(*) FROM revoked_subaccounts WHERE account = ?1",
                params![&acct.0[..]],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(kept as usize, 2 * REVOKED_MAX);
    }

    #[test]
    fn a_database_from_before_deletes_were_remembered_keeps_its_messages() {
        // Written as the previous version did (schema 5), then opened by this one.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("messages.sqlite");
        {
            let conn = at_schema(&path, 5);
            conn.execute(
                "INSERT INTO messages (account, namespace, hash, timestamp, expiry, data, swarm_space)
                 VALUES (?1, 0, 'kept', 1, 100, x'0102', 0)",
                params![&[5u8; 33][..]],
            )
            .unwrap();
        }
        let s = Storage::open(&path, Caps::total(1 << 30)).unwrap();
        let account = AccountId([5; 33]);
        assert_eq!(s.stats(), (1, 2));
        let (msgs, _) = s
            .retrieve(&account, Namespace(0), "", 10, 10, 1 << 20)
            .unwrap();
        assert_eq!(msgs[0].hash, "kept");
        assert_eq!(s.delete(&account, &["kept".into()], 10).unwrap(), ["kept"]);
        assert_eq!(
            s.store(&msg("kept", &[1, 2], 100), false).unwrap(),
            StoreOutcome::Deleted
        );
    }

    #[test]
    fn a_database_from_before_the_change_log_keeps_its_revocations() {
        // Written as the previous version did (schema 4), then opened by this one.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("messages.sqlite");
        {
            let conn = at_schema(&path, 4);
            conn.execute(
                "INSERT INTO revoked_subaccounts (account, token, revoked_at) VALUES (?1, ?2, 50)",
                params![&[3u8; 33][..], &[1u8; 36][..]],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO peer_cursors (peer, cursor) VALUES ('aa', 7)",
                [],
            )
            .unwrap();
        }
        let s = Storage::open(&path, Caps::total(1 << 30)).unwrap();
        let acct = AccountId([3; 33]);
        assert!(s.is_revoked(&acct, &[1; 36]).unwrap(), "still revoked");
        assert_eq!(s.peer_cursor("aa").unwrap(), 7);
        assert_eq!(s.peer_subaccount_cursor("aa").unwrap(), 0);
        assert!(s.subaccount_changes_after(0, 10).unwrap().is_empty());
        // An unrevocation older than the revocation from before changes nothing; a newer one does.
        s.change_subaccounts(&acct, &[[1; 36]], false, 40, None)
            .unwrap();
        assert!(s.is_revoked(&acct, &[1; 36]).unwrap());
        s.change_subaccounts(&acct, &[[1; 36]], false, 60, None)
            .unwrap();
        assert!(!s.is_revoked(&acct, &[1; 36]).unwrap());
    }

    #[test]
    fn a_database_from_before_revocations_opens_with_its_messages_and_takes_them() {
        // Written as the previous version did (schema 3), then opened by this one.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("messages.sqlite");
        {
            let conn = at_schema(&path, 3);
            conn.execute(
                "INSERT INTO messages (account, namespace, hash, timestamp, expiry, data, swarm_space)
                 VALUES (?1, 0, 'old', 1, ?2, ?3, 0)",
                params![&[3u8; 33][..], i64::MAX, b"kept".to_vec()],
            )
            .unwrap();
        }
        let s = Storage::open(&path, Caps::total(1 << 30)).unwrap();
        let (got, _) = s
            .retrieve(&AccountId([3; 33]), Namespace(0), "", 0, 10, 10_000)
            .unwrap();
        assert_eq!(got.len(), 1, "the message from before is there");
        s.revoke(&AccountId([3; 33]), &[[1; 36]], 5).unwrap();
        assert!(s.is_revoked(&AccountId([3; 33]), &[1; 36]).unwrap());
    }
}
