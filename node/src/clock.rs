//! Wall-clock time in milliseconds. Tests move it forward (expiry, signature windows) instead
//! of sleeping; nothing else in the node reads the system clock directly.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

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
