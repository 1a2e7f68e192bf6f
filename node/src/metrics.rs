//! Prometheus metrics in the text exposition format, kept in a few counters: requests by
//! endpoint and status, onion relays, replication. Labels are fixed route names and status
//! codes, never anything a client sent.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// The node's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    /// Writes forwarded to swarm peers that failed (timeouts, refusals).
    pub forward_failures: AtomicU64,
    /// Messages received from peers by catch-up or handoff.
    pub replicated_in: AtomicU64,
    /// Messages handed to a new swarm and dropped here.
    pub handed_off: AtomicU64,
    /// Milliseconds since this node last completed a catch-up round with every swarm peer.
    pub replication_lag_ms: AtomicU64,
    /// Requests refused by the rate limiter.
    pub rate_limited: AtomicU64,
}

impl Metrics {
    /// Counts one request to `endpoint` answered with `status`.
    pub fn record(&self, endpoint: &'static str, status: u16) {
        let mut map = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        *map.entry((endpoint, status)).or_default() += 1;
    }

    /// The exposition text; `stored` is (messages, bytes) from the store.
    pub fn render(&self, stored: (u64, u64), manifest_sequence: u64) -> String {
        let mut out = String::new();
        out.push_str("# HELP murmur_requests_total Requests by endpoint and HTTP status.\n");
        out.push_str("# TYPE murmur_requests_total counter\n");
        for ((endpoint, status), n) in self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "murmur_requests_total{{endpoint=\"{endpoint}\",status=\"{status}\"}} {n}"
            );
        }
        let gauges: [(&str, &str, &str, u64); 8] = [
            (
                "murmur_stored_messages",
                "gauge",
                "Messages held.",
                stored.0,
            ),
            (
                "murmur_stored_bytes",
                "gauge",
                "Message data bytes held.",
                stored.1,
            ),
            (
                "murmur_replication_lag_seconds",
                "gauge",
                "Seconds since the last complete catch-up with every swarm peer.",
                self.replication_lag_ms.load(Ordering::Relaxed) / 1000,
            ),
            (
                "murmur_forward_failures_total",
                "counter",
                "Writes a swarm peer did not acknowledge.",
                self.forward_failures.load(Ordering::Relaxed),
            ),
            (
                "murmur_replicated_in_total",
                "counter",
                "Messages received by catch-up or handoff.",
                self.replicated_in.load(Ordering::Relaxed),
            ),
            (
                "murmur_handed_off_total",
                "counter",
                "Messages handed to their new swarm.",
                self.handed_off.load(Ordering::Relaxed),
            ),
            (
                "murmur_rate_limited_total",
                "counter",
                "Requests refused by the per-IP rate limit.",
                self.rate_limited.load(Ordering::Relaxed),
            ),
            (
                "murmur_manifest_sequence",
                "gauge",
                "Sequence of the network manifest in force.",
                manifest_sequence,
            ),
        ];
        for (name, kind, help, value) in gauges {
            let _ = write!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
            );
        }
        out
    }
}
