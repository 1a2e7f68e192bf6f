//! Starting and stopping one node: open the store, load the manifest, bind HTTP or HTTPS, and
//! run the background tasks (replication, expiry sweep, manifest reload) until told to stop.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use murmur_core::network::SignedManifest;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::config::Config;
use crate::connections::{self, CappedAcceptor};
use crate::identity::NodeIdentity;
use crate::metrics::Metrics;
use crate::network::Network;
use crate::ratelimit::RateLimiter;
use crate::state::{Node, SharedNode};
use crate::storage::Storage;
use crate::{http, replication};

/// Database file name inside the data directory.
pub const DB_FILE: &str = "messages.sqlite";

/// A node that is serving.
#[derive(Debug)]
pub struct RunningNode {
    pub node: SharedNode,
    pub addr: SocketAddr,
    /// Where `/metrics` is served, when `metrics_listen` is set.
    pub metrics_addr: Option<SocketAddr>,
    handle: axum_server::Handle,
    metrics_handle: axum_server::Handle,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl RunningNode {
    /// Stops serving (in-flight requests get a few seconds; waiting retrieves answer at once)
    /// and ends the background tasks.
    pub async fn stop(self) {
        self.node.storage.waiters().close();
        let _ = self.shutdown.send(true);
        self.handle.graceful_shutdown(Some(Duration::from_secs(5)));
        self.metrics_handle.shutdown();
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

pub fn install_crypto_provider() {
    // Several nodes in one process (devnet, tests) share the provider; only the first call
    // installs it.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

async fn fetch_manifest(
    client: &reqwest::Client,
    seed: &str,
    operator: &[u8; 32],
) -> anyhow::Result<SignedManifest> {
    let response = client
        .get(murmur_core::network::manifest_url(seed))
        .timeout(Duration::from_secs(10))
        .send()
        .await?
        .error_for_status()?;
    let bytes = crate::outbound::read_capped(response)
        .await
        .map_err(|e| anyhow::anyhow!("the seed's manifest could not be read: {e:?}"))?;
    Ok(SignedManifest::from_json(&bytes, operator)?)
}

/// Reads the newest manifest available from the configured file or seeds.
async fn load_manifest(
    config: &Config,
    client: &reqwest::Client,
    operator: &[u8; 32],
) -> anyhow::Result<SignedManifest> {
    if let Some(path) = &config.network.manifest_file {
        let bytes = tokio::fs::read(path)
            .await
            .with_context(|| format!("cannot read manifest {}", path.display()))?;
        return SignedManifest::from_json(&bytes, operator)
            .with_context(|| format!("manifest {} refused", path.display()));
    }
    let mut last_error = anyhow::anyhow!("no seed URLs configured");
    for seed in &config.network.seed_urls {
        match fetch_manifest(client, seed, operator).await {
            Ok(m) => return Ok(m),
            Err(e) => last_error = e,
        }
    }
    Err(last_error.context("no seed node gave a valid manifest"))
}

/// Builds a node's state without serving it (tests drive its router directly). `manifest`
/// skips loading one from the file or seeds.
pub async fn build(
    config: Config,
    manifest: Option<SignedManifest>,
    clock: Arc<Clock>,
) -> anyhow::Result<SharedNode> {
    config.check()?;
    install_crypto_provider();
    // Creates the data directory on first start.
    let identity = NodeIdentity::load_or_create(&config.data_dir)?;
    let storage = Arc::new(
        Storage::open(&config.data_dir.join(DB_FILE), config.storage.caps())
            .context("cannot open the message database")?,
    );
    storage
        .waiters()
        .set_limits(config.http.waiters_per_account, config.http.max_waiters);
    let http_client = crate::outbound::client(&config)?;
    let operator = config.operator_key()?;
    let manifest = match manifest {
        Some(m) => m,
        None => load_manifest(&config, &http_client, &operator).await?,
    };
    let network = Network::new(manifest, operator, identity.ed25519_hex())
        .context("the manifest does not verify under network.operator_key")?;
    let node = Arc::new(Node {
        limiter: RateLimiter::new(config.rate_limit.clone()),
        config,
        identity,
        commits: crate::commit::GroupCommit::new(storage.clone()),
        storage,
        network,
        metrics: Metrics::default(),
        clock,
        http: http_client,
        forwarder: crate::replication::Forwarder::default(),
    });
    learn_relays(&node).await;
    Ok(node)
}

/// Tells the rate limiter which addresses are the manifest's nodes (their onion traffic is
/// many users', charged to its own buckets). Host names are resolved here, not per request.
async fn learn_relays(node: &Node) {
    let topology = node.network.current();
    let mut relays = std::collections::HashSet::new();
    let mut names = Vec::new();
    for n in &topology.signed.manifest.nodes {
        let (host, port) = crate::network::host_port(&n.url);
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        match host.parse::<std::net::IpAddr>() {
            Ok(ip) => {
                relays.insert(ip);
            }
            Err(_) => names.push((host, port)),
        }
    }
    // All names at once, 5 s in all: start-up and reloads never wait on DNS per node.
    let lookups = futures_util::future::join_all(
        names
            .iter()
            .map(|(host, port)| tokio::net::lookup_host((host.as_str(), *port))),
    );
    if let Ok(results) = tokio::time::timeout(Duration::from_secs(5), lookups).await {
        relays.extend(results.into_iter().flatten().flatten().map(|a| a.ip()));
    }
    node.limiter.set_relays(relays);
}

/// Starts a node. `listener` lets a caller bind first (to learn the port); otherwise
/// `config.listen` is bound. `manifest` skips loading one from the file or seeds.
pub async fn start(
    config: Config,
    listener: Option<TcpListener>,
    manifest: Option<SignedManifest>,
    clock: Arc<Clock>,
) -> anyhow::Result<RunningNode> {
    let listen = config.listen;
    let node = build(config, manifest, clock).await?;
    let listener = match listener {
        Some(l) => l,
        None => TcpListener::bind(listen).with_context(|| format!("cannot listen on {listen}"))?,
    };
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;

    let handle = axum_server::Handle::new();
    let server_task = serve_http(
        http::router(node.clone()),
        listener,
        node.config.tls.as_ref(),
        &node.config.http,
        handle.clone(),
    )
    .await?;
    let metrics_handle = axum_server::Handle::new();
    let mut metrics_addr = None;
    let mut tasks = Vec::new();
    if let Some(listen) = node.config.metrics_listen {
        let listener = TcpListener::bind(listen)
            .with_context(|| format!("cannot listen on {listen} for metrics"))?;
        listener.set_nonblocking(true)?;
        metrics_addr = Some(listener.local_addr()?);
        let server = axum_server::from_tcp(listener).handle(metrics_handle.clone());
        let app = http::metrics_router(node.clone()).into_make_service();
        tasks.push(tokio::spawn(async move {
            if let Err(e) = server.serve(app).await {
                tracing::error!(error = %e, "metrics server stopped");
            }
        }));
    }
    let (shutdown, shutdown_rx) = watch::channel(false);
    tasks.extend([
        server_task,
        tokio::spawn(replication::run(node.clone(), shutdown_rx.clone())),
        tokio::spawn(reload_manifests(node.clone(), shutdown_rx)),
    ]);
    tracing::info!(
        node = %&node.identity.ed25519_hex()[..12],
        tls = node.config.tls.is_some(),
        "node serving"
    );
    Ok(RunningNode {
        node,
        addr,
        metrics_addr,
        handle,
        metrics_handle,
        shutdown,
        tasks,
    })
}

/// Serves `app` on `listener` (HTTPS with `tls`, else plain HTTP), under the connection cap
/// and timeouts of `http`, until `handle` shuts it down.
pub async fn serve_http(
    app: axum::Router,
    listener: TcpListener,
    tls: Option<&crate::config::TlsConfig>,
    http: &crate::config::HttpConfig,
    handle: axum_server::Handle,
) -> anyhow::Result<JoinHandle<()>> {
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    Ok(match tls {
        Some(tls) => {
            let tls =
                axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert_file, &tls.key_file)
                    .await
                    .context("cannot load the TLS certificate or key")?;
            let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(tls)
                .handshake_timeout(Duration::from_millis(http.header_read_timeout_ms));
            let mut server = axum_server::from_tcp(listener)
                .acceptor(CappedAcceptor::new(acceptor, http.max_connections))
                .handle(handle);
            connections::harden(server.http_builder(), http);
            tokio::spawn(async move {
                if let Err(e) = server.serve(app).await {
                    tracing::error!(error = %e, "server stopped");
                }
            })
        }
        None => {
            let acceptor = axum_server::accept::DefaultAcceptor::new();
            let mut server = axum_server::from_tcp(listener)
                .acceptor(CappedAcceptor::new(acceptor, http.max_connections))
                .handle(handle);
            connections::harden(server.http_builder(), http);
            tokio::spawn(async move {
                if let Err(e) = server.serve(app).await {
                    tracing::error!(error = %e, "server stopped");
                }
            })
        }
    })
}

/// Looks for a newer manifest every `reload_seconds`, in the file or at the seeds.
async fn reload_manifests(node: SharedNode, mut shutdown: watch::Receiver<bool>) {
    let every = Duration::from_secs(node.config.network.reload_seconds.max(1));
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    let mut last_problem: Option<String> = None;
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tick.tick() => {}
        }
        let problem = match load_manifest(&node.config, &node.http, node.network.operator()).await {
            // The same manifest again is Ok(false); an older one is a rollback attempt.
            Ok(signed) => match node.network.offer(signed) {
                Ok(true) => {
                    learn_relays(&node).await;
                    None
                }
                Ok(false) => None,
                Err(e) => Some(format!("manifest refused: {e}")),
            },
            Err(e) => Some(format!("cannot load the manifest: {e:#}")),
        };
        // Said once when it starts and once when it clears, not on every tick.
        if problem != last_problem {
            match &problem {
                Some(p) => tracing::warn!(problem = %p, "manifest not taken; keeping the one held"),
                None => tracing::info!("manifest source is good again"),
            }
            last_problem = problem;
        }
    }
}
