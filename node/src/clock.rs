//! The node's only reads of the outside world's time and randomness: wall-clock time in
//! milliseconds (tests move it forward — expiry, signature windows — instead of sleeping), a
//! monotonic instant for rate limiting, and the OS RNG. `node/clippy.toml` refuses
//! `SystemTime::now`, `Instant::now` and `getrandom::SysRng` everywhere else.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use rand_core::UnwrapErr;

/// The operating system's CSPRNG (keys, reply nonces).
pub fn os_rng() -> UnwrapErr<getrandom::SysRng> {
    UnwrapErr(getrandom::SysRng)
}

/// A monotonic instant, for intervals that must not jump with the wall clock.
pub fn monotonic_now() -> Instant {
    Instant::now()
}

/// The node's clock: system time plus an adjustable offset.
#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    /// Milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> u64 {
        let system = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        u64::try_from(system + self.offset_ms.load(Ordering::Relaxed)).unwrap_or(0)
    }

    /// Moves this clock by `ms` (tests).
    pub fn advance(&self, ms: i64) {
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }
}
