//! Prometheus metrics (prometheus-client, text format 0.0.4): requests by endpoint and status,
//! latency histograms per endpoint and per storage method, replication and rate limiting, and
//! what the node holds. Labels are fixed route and method names and status codes, never
//! anything a client sent.

use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, prometheus_text};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The `Content-Type` of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    endpoint: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabel {
    endpoint: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodLabel {
    method: &'static str,
}

/// 0.25 ms to ~8 s in doublings: a retrieve from a warm cache up to a forward that times out.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

type Latency<L> = Family<L, Histogram, fn() -> Histogram>;

/// The node's metrics; every field is a handle into `registry`.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Latency<EndpointLabel>,
    method_seconds: Latency<MethodLabel>,
    /// Writes forwarded to swarm peers that failed (timeouts, refusals).
    pub forward_failures: Counter,
    /// Messages received from peers by catch-up or handoff.
    pub replicated_in: Counter,
    /// Messages handed to a new swarm and dropped here.
    pub handed_off: Counter,
    /// Requests refused by the rate limiter.
    pub rate_limited: Counter,
    replication_lag_seconds: Gauge,
    stored_messages: Gauge,
    stored_bytes: Gauge,
    manifest_sequence: Gauge,
    waiters_held: Gauge,
    waits_woken: Gauge,
    waits_refused: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut m = Self {
            registry: Registry::default(),
            requests: Family::default(),
            request_seconds: Family::new_with_constructor(latency_histogram),
            method_seconds: Family::new_with_constructor(latency_histogram),
            forward_failures: Counter::default(),
            replicated_in: Counter::default(),
            handed_off: Counter::default(),
            rate_limited: Counter::default(),
            replication_lag_seconds: Gauge::default(),
            stored_messages: Gauge::default(),
            stored_bytes: Gauge::default(),
            manifest_sequence: Gauge::default(),
            waiters_held: Gauge::default(),
            waits_woken: Gauge::default(),
            waits_refused: Gauge::default(),
        };
        let registry = &mut m.registry;
        // Counters get their `_total` suffix, and help texts their full stop, from the encoder.
        let counters = [
            (
                "murmur_forward_failures",
                "Writes a swarm peer did not acknowledge",
                &m.forward_failures,
            ),
            (
                "murmur_replicated_in",
                "Messages received by catch-up or handoff",
                &m.replicated_in,
            ),
            (
                "murmur_handed_off",
                "Messages handed to their new swarm",
                &m.handed_off,
            ),
            (
                "murmur_rate_limited",
                "Requests refused by the per-IP rate limit",
                &m.rate_limited,
            ),
        ];
        registry.register(
            "murmur_requests",
            "Requests by endpoint and HTTP status",
            m.requests.clone(),
        );
        for (name, help, counter) in counters {
            registry.register(name, help, counter.clone());
        }
        registry.register(
            "murmur_request_duration_seconds",
            "Time to answer a request, by endpoint",
            m.request_seconds.clone(),
        );
        registry.register(
            "murmur_storage_method_duration_seconds",
            "Time to run one storage RPC method (a batch counts each subrequest), by method",
            m.method_seconds.clone(),
        );
        let gauges = [
            (
                "murmur_replication_lag_seconds",
                "Seconds since the last complete catch-up with every swarm peer",
                &m.replication_lag_seconds,
            ),
            (
                "murmur_stored_messages",
                "Messages held",
                &m.stored_messages,
            ),
            (
                "murmur_stored_bytes",
                "Message data bytes held",
                &m.stored_bytes,
            ),
            (
                "murmur_manifest_sequence",
                "Sequence of the network manifest in force",
                &m.manifest_sequence,
            ),
            (
                "murmur_waiting_retrieves",
                "Waiting retrieves held now",
                &m.waiters_held,
            ),
            (
                "murmur_waits_woken",
                "Waiting retrieves woken by an arrival since start",
                &m.waits_woken,
            ),
            (
                "murmur_waits_refused",
                "Waiting retrieves refused by the per-account or per-node bound since start",
                &m.waits_refused,
            ),
        ];
        for (name, help, gauge) in gauges {
            registry.register(name, help, gauge.clone());
        }
        m
    }
}

fn gauge_value(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Metrics {
    /// Counts one request to `endpoint` answered with `status` after `took`.
    pub fn record(&self, endpoint: &'static str, status: u16, took: Duration) {
        self.requests
            .get_or_create(&RequestLabels { endpoint, status })
            .inc();
        self.request_seconds
            .get_or_create(&EndpointLabel { endpoint })
            .observe(took.as_secs_f64());
    }

    /// Times one storage RPC method.
    pub fn record_method(&self, method: &'static str, took: Duration) {
        self.method_seconds
            .get_or_create(&MethodLabel { method })
            .observe(took.as_secs_f64());
    }

    /// How long since the node last completed a catch-up round with every swarm peer.
    pub fn set_replication_lag(&self, lag_ms: u64) {
        self.replication_lag_seconds.set(gauge_value(lag_ms / 1000));
    }

    /// The exposition text; `stored` is (messages, bytes) from the store, `waiters` what
    /// it holds: (held now, woken, refused).
    pub fn render(
        &self,
        stored: (u64, u64),
        manifest_sequence: u64,
        waiters: (u64, u64, u64),
    ) -> String {
        self.waiters_held.set(gauge_value(waiters.0));
        self.waits_woken.set(gauge_value(waiters.1));
        self.waits_refused.set(gauge_value(waiters.2));
        self.stored_messages.set(gauge_value(stored.0));
        self.stored_bytes.set(gauge_value(stored.1));
        self.manifest_sequence.set(gauge_value(manifest_sequence));
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histograms_and_gauges() {
        let m = Metrics::default();
        m.record("storage_rpc", 200, Duration::from_millis(3));
        m.record_method("store", Duration::from_millis(2));
        m.forward_failures.inc();
        m.set_replication_lag(4_500);
        let text = m.render((7, 700), 3, (2, 5, 1));
        for line in [
            "murmur_requests_total{endpoint=\"storage_rpc\",status=\"200\"} 1",
            "murmur_request_duration_seconds_count{endpoint=\"storage_rpc\"} 1",
            "murmur_request_duration_seconds_bucket{endpoint=\"storage_rpc\",le=\"0.004\"} 1",
            "murmur_storage_method_duration_seconds_count{method=\"store\"} 1",
            "murmur_forward_failures_total 1",
            "murmur_replication_lag_seconds 4",
            "murmur_stored_messages 7",
            "murmur_stored_bytes 700",
            "murmur_manifest_sequence 3",
            "murmur_waiting_retrieves 2",
            "murmur_waits_woken 5",
            "murmur_waits_refused 1",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line} missing from\n{text}"
            );
        }
    }
}
