//! Group commit of clients' stores, and storage work kept off the threads that serve requests.
//!
//! A client's store is answered only once it is committed here (and at enough peers), so
//! its commit is on every store's path. Stores that arrive while a commit is under way wait
//! for the next one and share it: one SQLite transaction for all of them
//! ([`Storage::store_all`]), each message in its own savepoint so one refusal (a full
//! mailbox) refuses only that message. Nothing is answered before its commit, so "no
//! acknowledged message is lost" holds exactly as with one commit per store.
//!
//! Commits, like every other blocking storage call a handler makes ([`blocking`]), run on
//! tokio's blocking pool: a commit (and the WAL checkpoint SQLite runs in one now and then)
//! never holds up a worker thread that is reading or answering other requests.

use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot};

use crate::storage::{Storage, StorageError, StoreOutcome, StoredMessage};

/// Most stores committed together.
const GROUP_MAX: usize = 256;

struct Job {
    message: StoredMessage,
    reply: oneshot::Sender<Result<StoreOutcome, StorageError>>,
}

/// One node's commit queue: a task that takes every store queued since its last commit and
/// commits them as one.
pub struct GroupCommit {
    storage: Arc<Storage>,
    queue: Mutex<Option<mpsc::UnboundedSender<Job>>>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

impl GroupCommit {
    pub fn new(storage: Arc<Storage>) -> Self {
        Self {
            storage,
            queue: Mutex::new(None),
        }
    }

    /// Stores `message` (never one that replaces its namespace) in the next group commit.
    pub async fn store(&self, message: StoredMessage) -> Result<StoreOutcome, StorageError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job { message, reply });
        answer.await.unwrap_or_else(|_| Err(ended()))
    }

    fn submit(&self, job: Job) {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        let sender = queue.get_or_insert_with(|| self.start());
        if let Err(mpsc::error::SendError(job)) = sender.send(job) {
            // The task ended (only if a commit panicked): start another.
            let sender = queue.insert(self.start());
            let _ = sender.send(job);
        }
    }

    /// The commit task; it ends when this queue is dropped with its node.
    fn start(&self) -> mpsc::UnboundedSender<Job> {
        let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
        let storage = self.storage.clone();
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut jobs = vec![first];
                while jobs.len() < GROUP_MAX {
                    match rx.try_recv() {
                        Ok(job) => jobs.push(job),
                        Err(_) => break,
                    }
                }
                let storage = storage.clone();
                let (messages, replies): (Vec<_>, Vec<_>) =
                    jobs.into_iter().map(|j| (j.message, j.reply)).unzip();
                let outcomes = tokio::task::spawn_blocking(move || {
                    let refs: Vec<&StoredMessage> = messages.iter().collect();
                    storage.store_all(&refs)
                })
                .await;
                match outcomes {
                    Ok(outcomes) => {
                        for (reply, outcome) in replies.into_iter().zip(outcomes) {
                            let _ = reply.send(outcome);
                        }
                    }
                    Err(_) => {
                        for reply in replies {
                            let _ = reply.send(Err(ended()));
                        }
                    }
                }
            }
        });
        tx
    }
}

/// Runs blocking storage work `f` on tokio's blocking pool.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StorageError> + Send + 'static,
) -> Result<T, StorageError> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|_| Err(ended()))
}

fn ended() -> StorageError {
    StorageError::Db("the storage task ended".into())
}
