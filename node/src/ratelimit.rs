//! Token buckets for every route (Session: 300 requests/s, burst 600 per client).
//!
//! Who a request is charged to:
//! - its TCP peer, or the address a configured trusted proxy names (`X-Forwarded-For`,
//!   rightmost entry: the one the proxy itself saw) — never a forwarded header from anyone else;
//! - an IPv6 client by its /64, since one host is handed a whole /64 and could walk it;
//! - in one of three classes with separate buckets and limits: `Client` (public routes),
//!   `Relay` (onion requests from a manifest node, which carry many users' traffic) and `Peer`
//!   (the signed peer routes), so a flood in one class cannot starve the others.
//!
//! Memory is bounded: at most `max_clients` buckets, the least recently used evicted first (a
//! full table is never cleared, which would hand every attacker a fresh burst).

use std::collections::HashSet;
use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::sync::{Mutex, RwLock};
use std::time::Instant;

use lru::LruCache;

use crate::config::RateLimitConfig;

/// Which bucket family a request draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    Client,
    Relay,
    Peer,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// The rate limiter.
#[derive(Debug)]
pub struct RateLimiter {
    config: RateLimitConfig,
    buckets: Mutex<LruCache<(Class, IpAddr), Bucket>>,
    /// Addresses of the manifest's nodes (their onion traffic is `Relay`).
    relays: RwLock<HashSet<IpAddr>>,
}

/// The key an address is charged under: itself, or its /64 for IPv6 (IPv4-mapped addresses
/// count as the IPv4 address).
pub fn bucket_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
    }
}

impl RateLimiter {
    pub fn new(config: RateLimitConfig) -> Self {
        let capacity = NonZeroUsize::new(config.max_clients.max(1)).unwrap_or(NonZeroUsize::MIN);
        Self {
            config,
            buckets: Mutex::new(LruCache::new(capacity)),
            relays: RwLock::new(HashSet::new()),
        }
    }

    /// Replaces the set of node addresses (at start and whenever the manifest changes).
    pub fn set_relays(&self, relays: HashSet<IpAddr>) {
        *self.relays.write().unwrap_or_else(|e| e.into_inner()) = relays;
    }

    /// Whether `ip` is one of the manifest's nodes.
    pub fn is_relay(&self, ip: IpAddr) -> bool {
        self.relays
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&ip)
    }

    /// The client a request is charged to: the TCP peer, or — only when the peer is a trusted
    /// proxy — the address the proxy put last in `X-Forwarded-For`.
    pub fn client_ip(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        if !self.config.trusted_proxies.contains(&peer) {
            return peer;
        }
        forwarded_for
            .and_then(|v| v.rsplit(',').next())
            .and_then(|last| last.trim().parse::<IpAddr>().ok())
            .unwrap_or(peer)
    }

    fn limits(&self, class: Class) -> (f64, f64) {
        let c = &self.config;
        let (rate, burst) = match class {
            Class::Client => (c.per_second, c.burst),
            Class::Relay => (c.relay_per_second, c.relay_burst),
            Class::Peer => (c.peer_per_second, c.peer_burst),
        };
        (f64::from(rate), f64::from(burst))
    }

    /// Takes a token for `ip` in `class` at `now`; false means refuse (429).
    pub fn allow(&self, class: Class, ip: IpAddr, now: Instant) -> bool {
        let (rate, burst) = self.limits(class);
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let bucket = buckets.get_or_insert_mut((class, bucket_ip(ip)), || Bucket {
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

    /// Buckets tracked now.
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
            ..RateLimitConfig::default()
        })
    }

    #[test]
    fn burst_then_refill() {
        let l = limiter(10);
        let ip: IpAddr = [10, 0, 0, 1].into();
        let t0 = Instant::now();
        assert!((0..20).all(|_| l.allow(Class::Client, ip, t0)));
        assert!(!l.allow(Class::Client, ip, t0));
        // 100 ms at 10/s gives one token back.
        assert!(l.allow(Class::Client, ip, t0 + Duration::from_millis(100)));
        assert!(!l.allow(Class::Client, ip, t0 + Duration::from_millis(100)));
        // Another client is unaffected, and so is the same address's peer bucket.
        assert!(l.allow(Class::Client, [10, 0, 0, 2].into(), t0));
        assert!(l.allow(Class::Peer, ip, t0));
    }

    #[test]
    fn ipv6_is_charged_by_its_64() {
        let l = limiter(10);
        let t0 = Instant::now();
        // 20 different addresses inside one /64 share one bucket.
        for i in 0..20u16 {
            let ip: IpAddr = format!("2001:db8:1:2::{i:x}").parse().unwrap();
            assert!(l.allow(Class::Client, ip, t0));
        }
        let same_64: IpAddr = "2001:db8:1:2:ffff::1".parse().unwrap();
        assert!(!l.allow(Class::Client, same_64, t0));
        let next_64: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(l.allow(Class::Client, next_64, t0));
        // An IPv4-mapped address is its IPv4 address.
        let mapped: IpAddr = "::ffff:10.0.0.9".parse().unwrap();
        assert_eq!(bucket_ip(mapped), IpAddr::from([10, 0, 0, 9]));
    }

    #[test]
    fn forwarded_for_only_from_a_trusted_proxy() {
        let l = RateLimiter::new(RateLimitConfig {
            trusted_proxies: vec![[127, 0, 0, 1].into()],
            ..RateLimitConfig::default()
        });
        let proxy: IpAddr = [127, 0, 0, 1].into();
        let stranger: IpAddr = [192, 0, 2, 7].into();
        // The proxy's rightmost entry is the address it saw; anything left of it is the
        // client's own claim.
        assert_eq!(
            l.client_ip(proxy, Some("10.9.9.9, 198.51.100.4")),
            IpAddr::from([198, 51, 100, 4])
        );
        assert_eq!(l.client_ip(proxy, Some("garbage")), proxy);
        assert_eq!(l.client_ip(proxy, None), proxy);
        // Anyone else's header is ignored.
        assert_eq!(l.client_ip(stranger, Some("198.51.100.4")), stranger);
    }

    #[test]
    fn a_full_table_evicts_the_least_recently_used_not_everyone() {
        let l = limiter(100);
        let t0 = Instant::now();
        let busy: IpAddr = [10, 0, 0, 1].into();
        // The busy client spends its burst, then 10,000 one-off addresses arrive, touching
        // the busy one in between; it stays tracked and stays limited.
        assert!((0..20).all(|_| l.allow(Class::Client, busy, t0)));
        for i in 0..10_000u32 {
            l.allow(
                Class::Client,
                IpAddr::from(((i + 1) << 8).to_be_bytes()),
                t0,
            );
            assert!(l.tracked() <= 100);
            if i % 50 == 0 {
                assert!(
                    !l.allow(Class::Client, busy, t0),
                    "the busy client got a fresh burst"
                );
            }
        }
    }
}
