//! Helpers for core's unit tests.

use std::task::{Context, Poll, Waker};

/// Runs a future whose awaits are all immediately ready (the in-memory stores and fakes used
/// by the unit tests), without an executor. It polls until done, so a future that is pending
/// without waking (as [`one_turn`]'s) is polled again.
pub fn block_on<F: Future>(f: F) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    let mut f = std::pin::pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

/// Waits one turn: pending once, then ready. Stores in tests await it at each step, as
/// IndexedDB's requests do, so futures joined together interleave there.
pub async fn one_turn() {
    let mut waited = false;
    std::future::poll_fn(|_| {
        if std::mem::replace(&mut waited, true) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
}
