//! Per-client-IP token buckets for the public endpoints (Session: 300 requests/s, burst 600).
//!
//! Memory is bounded: at most `max_clients` buckets. When the table is full, buckets that have
//! refilled completely (clients that went quiet) are dropped; if every client is busy, the table
//! is cleared rather than grown, which errs on the side of serving.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use crate::config::RateLimitConfig;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// The rate limiter.
#[derive(Debug)]
pub struct RateLimiter {
    config: RateLimitConfig,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl RateLimiter {
    pub fn new(config: RateLimitConfig) -> Self {
        Self {
            config,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `ip` at `now`; false means refuse (429).
    pub fn allow(&self, ip: IpAddr, now: Instant) -> bool {
        let rate = f64::from(self.config.per_second);
        let burst = f64::from(self.config.burst);
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= self.config.max_clients && !buckets.contains_key(&ip) {
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.last).as_secs_f64() * rate < burst
            });
            if buckets.len() >= self.config.max_clients {
                buckets.clear();
            }
        }
        let bucket = buckets.entry(ip).or_insert(Bucket {
            tokens: burst,
            last: now,
        });
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(burst);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Clients tracked now.
    pub fn tracked(&self) -> usize {
        self.buckets.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // instants to feed the limiter
mod tests {
    use super::*;
    use std::time::Duration;

    fn limiter(max_clients: usize) -> RateLimiter {
        RateLimiter::new(RateLimitConfig {
            per_second: 10,
            burst: 20,
            max_clients,
        })
    }

    #[test]
    fn burst_then_refill() {
        let l = limiter(10);
        let ip: IpAddr = [10, 0, 0, 1].into();
        let t0 = Instant::now();
        assert!((0..20).all(|_| l.allow(ip, t0)));
        assert!(!l.allow(ip, t0));
        // 100 ms at 10/s gives one token back.
        assert!(l.allow(ip, t0 + Duration::from_millis(100)));
        assert!(!l.allow(ip, t0 + Duration::from_millis(100)));
        // Another client is unaffected.
        assert!(l.allow([10, 0, 0, 2].into(), t0));
    }

    #[test]
    fn table_stays_bounded() {
        let l = limiter(100);
        let t0 = Instant::now();
        for i in 0..10_000u32 {
            l.allow(IpAddr::from(i.to_be_bytes()), t0);
            assert!(l.tracked() <= 100);
        }
    }
}
