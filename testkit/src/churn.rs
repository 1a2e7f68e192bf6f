//! Steady client traffic through a [`ProcessNet`] while nodes are killed with SIGKILL and
//! restarted. The fault suite (`cli/tests/faults.rs`, ~2 minutes) and `make soak MINUTES=N`
//! (`cli/examples/soak.rs`) both run [`run_churn`]; its [`Report`] says what was lost (must be
//! nothing), what failed, p99 latency over time and node memory.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use murmur_cli::platform::HttpTransport;
use murmur_core::client::{ClientConfig, ClientError, Incoming, MemoryStore, NetworkConfig, Step};
use murmur_core::{Identity, SessionId};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng as _, SeedableRng as _};

use crate::devnet::{self, TestClient};
use crate::processes::ProcessNet;

/// The client configuration of [`client`]: the default, backing off at most 500 ms.
pub fn fast_config(network: NetworkConfig) -> ClientConfig {
    let mut config = devnet::config(network);
    config.backoff_max_ms = 500;
    config
}

/// A client engine on the real HTTP transport and an in-memory store, retrying fast and
/// backing off at most 500 ms (the policy is the same).
pub fn client(
    network: NetworkConfig,
    identity: Identity,
    seed: u64,
) -> TestClient<HttpTransport, MemoryStore> {
    devnet::client_with(
        fast_config(network),
        identity,
        devnet::transport(),
        MemoryStore::new(),
        0,
        seed,
    )
}

/// A short, identifier-free name for an error, to count by.
pub fn error_kind(e: &ClientError) -> String {
    match e {
        ClientError::Exhausted { last, .. } => format!("exhausted: {last}"),
        ClientError::Refused { status, reason } => format!("refused {status}: {reason}"),
        other => other.to_string(),
    }
}

/// How a churn run goes.
#[derive(Debug, Clone)]
pub struct ChurnSpec {
    pub nodes: usize,
    pub clients: usize,
    pub duration: Duration,
    /// A random node (outside the first `spare`) is killed this often...
    pub kill_every: Duration,
    /// ...and restarted after this long.
    pub down_for: Duration,
    /// Nodes `0..spare` are never killed, so their memory growth can be read.
    pub spare: usize,
    /// Each client sends, then polls its inbox, then waits this long.
    pub send_gap: Duration,
    pub report_every: Duration,
    pub sync_ms: u64,
    pub seed: u64,
    /// Print each interval's line as it ends.
    pub live: bool,
}

/// One reporting interval.
#[derive(Debug, Clone)]
pub struct Interval {
    pub end_s: u64,
    pub acked: usize,
    pub send_errors: usize,
    pub poll_errors: usize,
    pub ack_p50_ms: f64,
    pub ack_p99_ms: f64,
    pub delivery_p99_ms: f64,
    /// RSS of every node in KiB (0 = down at that moment).
    pub rss_kib: Vec<u64>,
    pub kills: u32,
}

/// What a churn run saw.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub acked: usize,
    pub send_errors: usize,
    pub poll_errors: usize,
    /// Acknowledged messages their recipient could not retrieve afterwards.
    pub lost: Vec<String>,
    /// Messages handed to a recipient more than once (while running, or afterwards).
    pub duplicated: Vec<String>,
    /// Unacknowledged messages that arrived anyway (allowed: the ack was lost, not the store).
    pub unacked_delivered: usize,
    pub errors: BTreeMap<String, u64>,
    pub kills: u32,
    /// Node processes that died without being killed.
    pub crashes: Vec<String>,
    pub intervals: Vec<Interval>,
    pub ack_p99_ms: f64,
    pub delivery_p99_ms: f64,
}

impl Report {
    /// (first, last) RSS in KiB of node `i` across the intervals in which it was up.
    pub fn rss_first_last(&self, i: usize) -> Option<(u64, u64)> {
        let mut up = self
            .intervals
            .iter()
            .map(|iv| iv.rss_kib[i])
            .filter(|&r| r > 0);
        let first = up.next()?;
        Some((first, up.next_back().unwrap_or(first)))
    }

    /// A plain-text table, one line per interval, and the totals.
    pub fn render(&self, spare: usize) -> String {
        let mut out = String::from(
            "  time   acked  send-err  poll-err  ack p50  ack p99  delivery p99  kills  RSS spare/max (MiB)\n",
        );
        for iv in &self.intervals {
            out.push_str(&interval_line(iv, spare));
        }
        out.push_str(&format!(
            "acked {} · lost {} · duplicated {} · send errors {} · poll errors {} · kills {} · crashes {} · unacked but delivered {}\n",
            self.acked,
            self.lost.len(),
            self.duplicated.len(),
            self.send_errors,
            self.poll_errors,
            self.kills,
            self.crashes.len(),
            self.unacked_delivered
        ));
        out.push_str(&format!(
            "ack p99 {:.0} ms · delivery p99 {:.0} ms (whole run)\n",
            self.ack_p99_ms, self.delivery_p99_ms
        ));
        for i in 0..spare {
            if let Some((first, last)) = self.rss_first_last(i) {
                out.push_str(&format!(
                    "node {i} (never killed) RSS {:.1} → {:.1} MiB ({:+.1} MiB)\n",
                    first as f64 / 1024.0,
                    last as f64 / 1024.0,
                    (last as f64 - first as f64) / 1024.0
                ));
            }
        }
        for (kind, n) in &self.errors {
            out.push_str(&format!("error ×{n}: {kind}\n"));
        }
        out
    }
}

fn interval_line(iv: &Interval, spare: usize) -> String {
    let spare_max = iv.rss_kib[..spare].iter().max().copied().unwrap_or(0);
    let max = iv.rss_kib.iter().max().copied().unwrap_or(0);
    format!(
        "{:>5}s  {:>6}  {:>8}  {:>8}  {:>6.0}ms {:>6.0}ms  {:>10.0}ms  {:>5}  {:.1}/{:.1}\n",
        iv.end_s,
        iv.acked,
        iv.send_errors,
        iv.poll_errors,
        iv.ack_p50_ms,
        iv.ack_p99_ms,
        iv.delivery_p99_ms,
        iv.kills,
        spare_max as f64 / 1024.0,
        max as f64 / 1024.0
    )
}

/// The value at quantile `q` (nearest rank) of `values`, 0 when empty.
pub fn quantile(values: &mut [f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
    values[rank - 1]
}

/// A send as the sender saw it.
struct SendEvent {
    text: String,
    to: usize,
    started: Instant,
    ack_ms: Option<f64>,
}

/// What every client thread records.
#[derive(Default)]
struct Log {
    sends: Vec<SendEvent>,
    /// (recipient, text, when it was handed out)
    received: Vec<(usize, String, Instant)>,
    poll_errors: Vec<Instant>,
    send_errors: Vec<Instant>,
    errors: BTreeMap<String, u64>,
}

impl Log {
    fn record_send(&mut self, send: SendEvent, error: Option<ClientError>) {
        self.sends.push(send);
        if let Some(e) = error {
            self.send_errors.push(Instant::now());
            *self
                .errors
                .entry(format!("send {}", error_kind(&e)))
                .or_default() += 1;
        }
    }

    fn record_poll(&mut self, me: usize, polled: Result<Vec<Incoming>, ClientError>) {
        let now = Instant::now();
        match polled {
            Ok(messages) => {
                for m in messages.into_iter().filter(|m| m.sync_target.is_none()) {
                    self.received.push((me, m.text, now));
                }
            }
            Err(e) => {
                self.poll_errors.push(now);
                *self
                    .errors
                    .entry(format!("poll {}", error_kind(&e)))
                    .or_default() += 1;
            }
        }
    }
}

/// One client's loops, until `stop`: sending to the next client and waiting, and beside it
/// following its inbox live (`Client::live`: waiting retrieves, polls where none are held),
/// as the CLI's `inbox --follow` and the app do.
fn client_thread(
    me: usize,
    ids: Vec<SessionId>,
    identity: Identity,
    network: NetworkConfig,
    spec: ChurnSpec,
    log: Arc<Mutex<Log>>,
    stop: Arc<AtomicBool>,
) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let c = client(network, identity, spec.seed * 100 + me as u64);
        let stopped = async || {
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        let sending = async {
            let mut seq = 0u64;
            while !stop.load(Ordering::Relaxed) {
                // Round robin over the others, so every swarm gets traffic.
                let to = (me + 1 + (seq as usize % (ids.len() - 1))) % ids.len();
                let text = format!("churn {me}-{seq}");
                seq += 1;
                let started = Instant::now();
                let result = c.send_text(&ids[to], &text, None).await;
                let ack_ms = result
                    .as_ref()
                    .ok()
                    .map(|_| started.elapsed().as_secs_f64() * 1000.0);
                log.lock().unwrap().record_send(
                    SendEvent {
                        text,
                        to,
                        started,
                        ack_ms,
                    },
                    result.err(),
                );
                tokio::time::sleep(spec.send_gap).await;
            }
        };
        let receiving = async {
            while !stop.load(Ordering::Relaxed) {
                // A wait in flight at the end is dropped, not waited out.
                let step = tokio::select! {
                    step = c.live() => step,
                    () = stopped() => return,
                };
                let polled = matches!(step, Ok(Step::Polled(_)) | Err(_));
                log.lock()
                    .unwrap()
                    .record_poll(me, step.map(Step::messages));
                if polled {
                    tokio::time::sleep(spec.send_gap).await;
                }
            }
        };
        tokio::join!(sending, receiving);
    });
}

/// Everything each recipient's swarm hands a fresh client (no state, new device): text →
/// times seen. Polls until every expected text arrived or `timeout` passed.
async fn retrieve_all(
    network: NetworkConfig,
    identity: Identity,
    expected: &[String],
    seed: u64,
    timeout: Duration,
) -> HashMap<String, u32> {
    let c = client(network, identity, seed);
    let mut seen: HashMap<String, u32> = HashMap::new();
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(messages) = c.poll().await {
            for m in messages.into_iter().filter(|m| m.sync_target.is_none()) {
                *seen.entry(m.text).or_default() += 1;
            }
        }
        if expected.iter().all(|t| seen.contains_key(t)) || Instant::now() > deadline {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Runs steady traffic between `spec.clients` clients while killing and restarting nodes,
/// then restarts every node, lets the swarms sync and checks each acknowledged message.
pub async fn run_churn(net: &mut ProcessNet, spec: &ChurnSpec) -> Report {
    net.start_all().await;
    let mut rng = ChaCha20Rng::seed_from_u64(spec.seed);
    let identities: Vec<Identity> = (0..spec.clients)
        .map(|_| Identity::generate(&mut rng))
        .collect();
    let ids: Vec<SessionId> = identities.iter().map(Identity::session_id).collect();
    let log = Arc::new(Mutex::new(Log::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let network = net.network();
    let threads: Vec<_> = identities
        .iter()
        .enumerate()
        .map(|(me, id)| {
            let (ids, id, network, spec, log, stop) = (
                ids.clone(),
                id.clone(),
                network.clone(),
                spec.clone(),
                log.clone(),
                stop.clone(),
            );
            std::thread::spawn(move || client_thread(me, ids, id, network, spec, log, stop))
        })
        .collect();

    // Chaos, and a report line per interval.
    let begin = Instant::now();
    let mut report = Report::default();
    let mut next_kill = begin + spec.kill_every;
    let mut next_report = begin + spec.report_every;
    let mut down: Option<(usize, Instant)> = None;
    let mut kills_at_last_report = 0;
    let mut reported_until = begin;
    while begin.elapsed() < spec.duration {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let now = Instant::now();
        for i in 0..net.nodes.len() {
            if let Some(status) = net.exited(i) {
                report
                    .crashes
                    .push(format!("node {i} exited by itself: {status}"));
                net.forget_exited(i);
                net.start(i);
            }
        }
        if let Some((i, until)) = down
            && now >= until
        {
            net.start(i);
            down = None;
        }
        if now >= next_kill && down.is_none() && net.nodes.len() > spec.spare {
            let i = spec.spare + (rng.next_u32() as usize % (net.nodes.len() - spec.spare));
            net.kill(i);
            report.kills += 1;
            down = Some((i, now + spec.down_for));
            next_kill = now + spec.kill_every;
        }
        if now >= next_report {
            close_interval(
                &mut report,
                &log,
                (reported_until, now, begin),
                net,
                spec,
                kills_at_last_report,
            );
            kills_at_last_report = report.kills;
            reported_until = now;
            next_report = now + spec.report_every;
        }
    }
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    // The tail since the last line.
    let now = Instant::now();
    if now.duration_since(reported_until) > Duration::from_secs(1) {
        close_interval(
            &mut report,
            &log,
            (reported_until, now, begin),
            net,
            spec,
            kills_at_last_report,
        );
    }
    if let Some((i, _)) = down {
        net.start(i);
    }
    net.start_all().await;
    // Let every swarm pull what its members missed while they were down.
    tokio::time::sleep(Duration::from_millis(3 * spec.sync_ms + 1000)).await;

    let log = std::mem::take(&mut *log.lock().unwrap());
    settle(&mut report, log, &identities, network, spec).await;
    report
}

/// Adds the interval `from..to` (seconds counted from `begin`) to the report, printing it
/// when the run is live.
fn close_interval(
    report: &mut Report,
    log: &Mutex<Log>,
    (from, to, begin): (Instant, Instant, Instant),
    net: &ProcessNet,
    spec: &ChurnSpec,
    kills_before: u32,
) {
    let iv = interval(
        &log.lock().unwrap(),
        from,
        to,
        begin,
        net,
        report.kills - kills_before,
    );
    if spec.live {
        print!("{}", interval_line(&iv, spec.spare));
    }
    report.intervals.push(iv);
}

fn interval(
    log: &Log,
    from: Instant,
    to: Instant,
    begin: Instant,
    net: &ProcessNet,
    kills: u32,
) -> Interval {
    let in_range = |t: &Instant| *t >= from && *t < to;
    let sends: Vec<&SendEvent> = log.sends.iter().filter(|s| in_range(&s.started)).collect();
    let mut acks: Vec<f64> = sends.iter().filter_map(|s| s.ack_ms).collect();
    let started: HashMap<&str, Instant> = log
        .sends
        .iter()
        .map(|s| (s.text.as_str(), s.started))
        .collect();
    let mut delivery: Vec<f64> = log
        .received
        .iter()
        .filter(|(_, _, at)| in_range(at))
        .filter_map(|(_, text, at)| {
            Some(
                at.duration_since(*started.get(text.as_str())?)
                    .as_secs_f64()
                    * 1000.0,
            )
        })
        .collect();
    Interval {
        end_s: to.duration_since(begin).as_secs(),
        acked: acks.len(),
        send_errors: log.send_errors.iter().filter(|t| in_range(t)).count(),
        poll_errors: log.poll_errors.iter().filter(|t| in_range(t)).count(),
        ack_p50_ms: quantile(&mut acks.clone(), 0.5),
        ack_p99_ms: quantile(&mut acks, 0.99),
        delivery_p99_ms: quantile(&mut delivery, 0.99),
        rss_kib: (0..net.nodes.len())
            .map(|i| net.rss_kib(i).unwrap_or(0))
            .collect(),
        kills,
    }
}

/// The end of a run: totals, and every acknowledged message checked at its recipient.
async fn settle(
    report: &mut Report,
    log: Log,
    identities: &[Identity],
    network: NetworkConfig,
    spec: &ChurnSpec,
) {
    report.errors = log.errors;
    report.send_errors = log.send_errors.len();
    report.poll_errors = log.poll_errors.len();
    let acked: Vec<&SendEvent> = log.sends.iter().filter(|s| s.ack_ms.is_some()).collect();
    report.acked = acked.len();
    report.ack_p99_ms = quantile(
        &mut acked.iter().filter_map(|s| s.ack_ms).collect::<Vec<_>>(),
        0.99,
    );
    let started: HashMap<&str, Instant> = log
        .sends
        .iter()
        .map(|s| (s.text.as_str(), s.started))
        .collect();
    report.delivery_p99_ms = quantile(
        &mut log
            .received
            .iter()
            .filter_map(|(_, t, at)| {
                Some(at.duration_since(*started.get(t.as_str())?).as_secs_f64() * 1000.0)
            })
            .collect::<Vec<_>>(),
        0.99,
    );

    // Handed out at most once by the running clients.
    let mut handed: HashMap<&str, u32> = HashMap::new();
    for (_, text, _) in &log.received {
        *handed.entry(text.as_str()).or_default() += 1;
    }
    report.duplicated.extend(
        handed
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(t, n)| format!("{t} handed out {n} times")),
    );

    // Every acknowledged message is in its recipient's swarm, exactly once.
    for (r, identity) in identities.iter().enumerate() {
        let expected: Vec<String> = acked
            .iter()
            .filter(|s| s.to == r)
            .map(|s| s.text.clone())
            .collect();
        let got = retrieve_all(
            network.clone(),
            identity.clone(),
            &expected,
            spec.seed * 1000 + r as u64,
            Duration::from_secs(60),
        )
        .await;
        for text in &expected {
            match got.get(text) {
                None => report.lost.push(text.clone()),
                Some(1) => {}
                Some(n) => report.duplicated.push(format!("{text} stored {n} times")),
            }
        }
        report.unacked_delivered += log
            .sends
            .iter()
            .filter(|s| s.to == r && s.ack_ms.is_none() && got.contains_key(&s.text))
            .count();
    }
}
