//! Waiting retrieves (live delivery, `docs/protocol.md` "wait_retrieve"): requests held until a
//! message arrives for one of the (account, namespace) pairs they follow.
//!
//! A waiter is a future, not a thread or a database connection: it holds one `watch` receiver
//! per pair it follows. Every message the store takes — a client's store, a peer's forward,
//! catch-up, handoff — bumps the pair's counter ([`Waiters::wake`], called by the store after
//! its commit), which wakes every waiter of that pair. A pair nobody waits on has no entry, so
//! a store costs one hash lookup. Waiters are bounded per account and per node, and
//! [`Waiters::close`] (shutdown) releases every one at once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use murmur_core::rpc::{AccountId, Namespace};
use tokio::sync::watch;

type Pair = (AccountId, Namespace);

#[derive(Debug)]
struct Slot {
    arrivals: watch::Sender<u64>,
    holders: usize,
}

#[derive(Debug, Default)]
struct Inner {
    slots: HashMap<Pair, Slot>,
    per_account: HashMap<AccountId, usize>,
    held: usize,
}

/// Why a wait was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The account holds as many waits here as it may.
    Account,
    /// The node holds as many waits as it may.
    Node,
}

/// The node's waiting retrieves.
#[derive(Debug)]
pub struct Waiters {
    inner: Mutex<Inner>,
    per_account: AtomicUsize,
    per_node: AtomicUsize,
    closing: watch::Sender<bool>,
    closed: AtomicBool,
    woken: AtomicU64,
    refused: AtomicU64,
}

impl Default for Waiters {
    fn default() -> Self {
        Self::new(
            murmur_core::limits::WAITERS_PER_ACCOUNT,
            murmur_core::limits::WAITERS_PER_NODE,
        )
    }
}

impl Waiters {
    pub fn new(per_account: usize, per_node: usize) -> Self {
        Self {
            inner: Mutex::default(),
            per_account: AtomicUsize::new(per_account),
            per_node: AtomicUsize::new(per_node),
            closing: watch::channel(false).0,
            closed: AtomicBool::new(false),
            woken: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        }
    }

    /// Sets the bounds (the node's config).
    pub fn set_limits(&self, per_account: usize, per_node: usize) {
        self.per_account.store(per_account, Ordering::Relaxed);
        self.per_node.store(per_node, Ordering::Relaxed);
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a wait on `pairs`. Register before reading the store: a message stored after
    /// this call wakes the wait even if the read did not see it.
    pub fn register(&self, pairs: &[Pair]) -> Result<Wait<'_>, Refused> {
        let mut accounts: Vec<AccountId> = pairs.iter().map(|(a, _)| *a).collect();
        accounts.sort_unstable();
        accounts.dedup();
        let mut unique: Vec<Pair> = pairs.to_vec();
        unique.sort_unstable();
        unique.dedup();
        let mut inner = self.lock();
        let refusal = if inner.held >= self.per_node.load(Ordering::Relaxed) {
            Some(Refused::Node)
        } else if accounts.iter().any(|a| {
            inner.per_account.get(a).copied().unwrap_or(0)
                >= self.per_account.load(Ordering::Relaxed)
        }) {
            Some(Refused::Account)
        } else {
            None
        };
        if let Some(r) = refusal {
            self.refused.fetch_add(1, Ordering::Relaxed);
            return Err(r);
        }
        inner.held += 1;
        for a in &accounts {
            *inner.per_account.entry(*a).or_default() += 1;
        }
        let receivers = unique
            .iter()
            .map(|pair| {
                let slot = inner.slots.entry(*pair).or_insert_with(|| Slot {
                    arrivals: watch::channel(0).0,
                    holders: 0,
                });
                slot.holders += 1;
                slot.arrivals.subscribe()
            })
            .collect();
        Ok(Wait {
            waiters: self,
            pairs: unique,
            accounts,
            receivers,
            closing: self.closing.subscribe(),
        })
    }

    /// A message for `account` in `namespace` was stored: wakes its waiters.
    pub fn wake(&self, account: &AccountId, namespace: Namespace) {
        let inner = self.lock();
        if let Some(slot) = inner.slots.get(&(*account, namespace)) {
            slot.arrivals.send_modify(|n| *n = n.wrapping_add(1));
            self.woken.fetch_add(slot.holders as u64, Ordering::Relaxed);
        }
    }

    /// Releases every wait now and makes later ones answer at once (the node is stopping).
    pub fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
        self.closing.send_replace(true);
    }

    /// Whether [`Waiters::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    /// Waits held now.
    pub fn held(&self) -> usize {
        self.lock().held
    }

    /// Waits woken by an arrival, and waits refused by a bound, since start.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.woken.load(Ordering::Relaxed),
            self.refused.load(Ordering::Relaxed),
        )
    }
}

/// One held wait; dropping it (answered, or the caller went away) releases its place.
#[derive(Debug)]
pub struct Wait<'a> {
    waiters: &'a Waiters,
    pairs: Vec<Pair>,
    accounts: Vec<AccountId>,
    receivers: Vec<watch::Receiver<u64>>,
    closing: watch::Receiver<bool>,
}

impl Wait<'_> {
    /// Resolves when a message arrives for one of the pairs, the node closes, or `ms` pass.
    pub async fn until_arrival(&mut self, ms: u64) {
        if self.waiters.closed.load(Ordering::Relaxed) {
            return;
        }
        let arrivals = futures_util::future::select_all(
            self.receivers.iter_mut().map(|r| Box::pin(r.changed())),
        );
        tokio::select! {
            _ = arrivals => {}
            _ = self.closing.wait_for(|closing| *closing) => {}
            () = tokio::time::sleep(std::time::Duration::from_millis(ms)) => {}
        }
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        let mut inner = self.waiters.lock();
        inner.held -= 1;
        for a in &self.accounts {
            if let Some(n) = inner.per_account.get_mut(a) {
                *n -= 1;
                if *n == 0 {
                    inner.per_account.remove(a);
                }
            }
        }
        for pair in &self.pairs {
            if let Some(slot) = inner.slots.get_mut(pair) {
                slot.holders -= 1;
                if slot.holders == 0 {
                    inner.slots.remove(pair);
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const A: AccountId = AccountId([5; 33]);
    const B: AccountId = AccountId([6; 33]);
    const NS: Namespace = Namespace(0);

    #[tokio::test]
    async fn an_arrival_wakes_only_its_pair_and_places_are_given_back() {
        let waiters = Waiters::new(2, 3);
        let mut a = waiters.register(&[(A, NS)]).unwrap();
        let mut b = waiters.register(&[(B, NS)]).unwrap();
        waiters.wake(&A, NS);
        // `a` resolves at once; `b` only at its bound.
        tokio::time::timeout(std::time::Duration::from_secs(5), a.until_arrival(60_000))
            .await
            .unwrap();
        assert!(
            tokio::time::timeout(
                std::time::Duration::from_millis(50),
                b.until_arrival(60_000)
            )
            .await
            .is_err()
        );
        assert_eq!(waiters.held(), 2);
        drop((a, b));
        assert_eq!(waiters.held(), 0);
        assert!(waiters.lock().slots.is_empty());
        assert!(waiters.lock().per_account.is_empty());
    }

    #[test]
    fn bounds_per_account_and_per_node_refuse_and_count() {
        let waiters = Waiters::new(2, 3);
        let a1 = waiters.register(&[(A, NS)]).unwrap();
        let _a2 = waiters.register(&[(A, NS), (A, Namespace(5))]).unwrap();
        assert_eq!(waiters.register(&[(A, NS)]).unwrap_err(), Refused::Account);
        let _b = waiters.register(&[(B, NS)]).unwrap();
        assert_eq!(waiters.register(&[(B, NS)]).unwrap_err(), Refused::Node);
        drop(a1);
        assert!(waiters.register(&[(A, NS)]).is_ok());
        assert_eq!(waiters.counts().1, 2);
    }

    #[tokio::test]
    async fn closing_releases_every_wait_and_later_ones_return_at_once() {
        let waiters = Waiters::default();
        let mut held = waiters.register(&[(A, NS)]).unwrap();
        waiters.close();
        tokio::time::timeout(
            std::time::Duration::from_secs(5),
            held.until_arrival(60_000),
        )
        .await
        .unwrap();
        let mut later = waiters.register(&[(B, NS)]).unwrap();
        tokio::time::timeout(
            std::time::Duration::from_secs(5),
            later.until_arrival(60_000),
        )
        .await
        .unwrap();
    }
}
