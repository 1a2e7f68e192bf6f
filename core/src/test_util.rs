//! Helpers for core's unit tests.

use std::task::{Context, Poll, Waker};

/// Runs a future whose awaits are all immediately ready (the in-memory stores and fakes used
/// by the unit tests), without an executor.
pub fn block_on<F: Future>(f: F) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    let mut f = std::pin::pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}
