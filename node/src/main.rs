//! `murmur-node`: run a node from a config file, or a whole local network.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use murmur_node::clock::Clock;
use murmur_node::config::Config;
use murmur_node::devnet::{Devnet, DevnetSpec};
use murmur_node::identity::NodeIdentity;
use murmur_node::operator::{self, NetworkDir, NodeCard};
use murmur_node::server;

#[derive(Parser)]
#[command(name = "murmur-node", version, about = "The Murmur service node")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one node.
    Run {
        /// TOML configuration file.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Override `listen` (e.g. 127.0.0.1:22021).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// Override `data_dir`.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Override `network.manifest_file`.
        #[arg(long)]
        manifest: Option<PathBuf>,
        /// Override `network.operator_key` (hex).
        #[arg(long)]
        operator_key: Option<String>,
    },
    /// Print this node's public keys (creating the key in DIR on first use).
    Keys {
        #[arg(long)]
        data_dir: PathBuf,
    },
    /// Run a file server: attachments and pictures, reached through onion requests.
    Files {
        /// TOML configuration file.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Override `listen`.
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// Override `data_dir`.
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Print a file server's X25519 key (creating it in DIR on first use), for
    /// `network add-file-server`.
    FilesKey {
        #[arg(long)]
        data_dir: PathBuf,
    },
    /// Operator tooling: the network's key and manifest, kept in a directory of the operator's.
    #[command(subcommand)]
    Network(NetworkCommand),
    /// Node set-up.
    #[command(subcommand)]
    Node(NodeCommand),
    /// Run a whole network on 127.0.0.1 until interrupted; writes DIR/devnet.json for clients.
    Devnet {
        #[arg(long, default_value_t = 12)]
        nodes: usize,
        #[arg(long)]
        dir: PathBuf,
        /// Node i listens on base-port + i.
        #[arg(long, default_value_t = 22100)]
        base_port: u16,
        /// Tests only: read `advance MS` lines on standard input and move every node's clock
        /// forward by MS milliseconds (answering `clock advanced MS`), so an end-to-end test
        /// moves network time together with the browser's instead of waiting in real time.
        #[arg(long)]
        test_clock: bool,
        /// Messages one account may hold per node (default 20,000): a small number lets a
        /// test or a demo fill a mailbox.
        #[arg(long)]
        account_max_count: Option<u64>,
    },
}

#[derive(Subcommand)]
enum NetworkCommand {
    /// Create a network: a new operator key (back it up) and an empty draft manifest.
    Init {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        name: String,
    },
    /// Add a node (its card from `node init`; `-` reads stdin) to the draft.
    AddNode {
        #[arg(long)]
        dir: PathBuf,
        card: PathBuf,
    },
    /// Remove a node (by Ed25519 key, hex) from the draft.
    RemoveNode {
        #[arg(long)]
        dir: PathBuf,
        ed25519: String,
    },
    /// Sign the draft as the next sequence into DIR/manifest.json (give it to every node).
    /// Run it again before the refresh date, even with no change: clients warn about a stale
    /// manifest and refuse an expired one.
    Sign {
        #[arg(long)]
        dir: PathBuf,
        /// Days until clients call the manifest stale (and warn).
        #[arg(long, default_value_t = 30)]
        refresh_days: u64,
        /// Days until clients refuse the manifest.
        #[arg(long, default_value_t = 90)]
        expire_days: u64,
    },
    /// List a file server (URL and X25519 key from `files-key`) in the draft.
    AddFileServer {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        url: String,
        #[arg(long)]
        x25519: String,
    },
    /// Remove a file server (by URL) from the draft.
    RemoveFileServer {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        url: String,
    },
    /// Print the signed manifest and any unsigned changes.
    Show {
        #[arg(long)]
        dir: PathBuf,
    },
    /// Print the web app's config.json for this network.
    AppConfig {
        #[arg(long)]
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum NodeCommand {
    /// Create the node's key in DATA_DIR and its config file; print its card (JSON) for
    /// `murmur-node network add-node`.
    Init {
        #[arg(long)]
        data_dir: PathBuf,
        /// Where the config goes (TOML).
        #[arg(long)]
        config: PathBuf,
        /// The address to listen on.
        #[arg(long)]
        listen: std::net::SocketAddr,
        /// The URL clients and other nodes reach this node at (https:// unless loopback).
        #[arg(long)]
        url: String,
        /// The operator's public key, hex (`murmur-node network show`).
        #[arg(long)]
        operator_key: String,
        /// The signed manifest file, re-read when it changes.
        #[arg(long)]
        manifest: Option<PathBuf>,
        /// Nodes to fetch newer manifests from (repeatable).
        #[arg(long = "seed")]
        seeds: Vec<String>,
        /// How often to look for a newer manifest.
        #[arg(long, default_value_t = 30)]
        reload_seconds: u64,
        /// Certificate and key (PEM) for HTTPS.
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
    },
}

fn network_command(command: NetworkCommand) -> anyhow::Result<()> {
    match command {
        NetworkCommand::Init { dir, name } => {
            let net = NetworkDir::init(&dir, &name)?;
            println!("operator key: {}", net.operator_pubkey());
            println!(
                "keep {} secret and backed up: it signs every change to the network",
                dir.join("operator.key").display()
            );
        }
        NetworkCommand::AddNode { dir, card } => {
            let text = if card.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())?
            } else {
                std::fs::read_to_string(&card)
                    .with_context(|| format!("cannot read {}", card.display()))?
            };
            let card: NodeCard =
                serde_json::from_str(&text).context("not a node card (from `node init`)")?;
            let swarm = NetworkDir::open(&dir)?.add_node(&card)?;
            println!(
                "added to swarm {:016x} (unsigned: run `network sign`)",
                swarm.0
            );
        }
        NetworkCommand::RemoveNode { dir, ed25519 } => {
            NetworkDir::open(&dir)?.remove_node(&ed25519)?;
            println!(
                "removed (unsigned: run `network sign`; keep the node running until it has handed its messages off)"
            );
        }
        NetworkCommand::AddFileServer { dir, url, x25519 } => {
            NetworkDir::open(&dir)?.add_file_server(&url, &x25519)?;
            println!("file server listed (unsigned: run `network sign`)");
        }
        NetworkCommand::RemoveFileServer { dir, url } => {
            NetworkDir::open(&dir)?.remove_file_server(&url)?;
            println!("file server removed (unsigned: run `network sign`)");
        }
        NetworkCommand::Sign {
            dir,
            refresh_days,
            expire_days,
        } => {
            let lifetime = operator::Lifetime {
                refresh_days,
                expire_days,
            };
            let signed = NetworkDir::open(&dir)?.sign_with(lifetime, Clock::default().now_ms())?;
            print!("{}", operator::describe(&signed.manifest));
            println!("signed: {}", dir.join("manifest.json").display());
            if let (Some(refresh), Some(expiry)) =
                (signed.manifest.refresh_ms, signed.manifest.expires_ms)
            {
                println!(
                    "sign again before {} (clients warn after it); it expires on {}",
                    murmur_core::network::utc_date(refresh),
                    murmur_core::network::utc_date(expiry)
                );
            }
        }
        NetworkCommand::Show { dir } => {
            let net = NetworkDir::open(&dir)?;
            println!("operator key: {}", net.operator_pubkey());
            let signed = net.signed()?;
            match &signed {
                Some(s) => print!("signed: {}", operator::describe(&s.manifest)),
                None => println!("signed: nothing yet"),
            }
            let draft = net.draft()?;
            if signed.as_ref().is_none_or(|s| {
                s.manifest.nodes != draft.nodes || s.manifest.file_servers != draft.file_servers
            }) {
                print!("unsigned draft: {}", operator::describe(&draft));
            }
        }
        NetworkCommand::AppConfig { dir } => {
            let config = NetworkDir::open(&dir)?.app_config()?;
            println!("{}", serde_json::to_string_pretty(&config)?);
        }
    }
    Ok(())
}

fn init_logging() {
    // Logs carry node ids, counts and errors; never Session IDs, client IPs or payloads.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

/// Resolves on SIGTERM or Ctrl-C. The handlers are installed when this is called, not when the
/// future is first polled: a signal that comes while the command is still starting (a
/// supervisor or a test stopping it early) is then a clean stop, not the default action that
/// kills the process with a failure status.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler installs");
        let mut interrupt = signal(SignalKind::interrupt()).expect("SIGINT handler installs");
        async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = interrupt.recv() => {}
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    init_logging();
    match Cli::parse().command {
        Command::Run {
            config,
            listen,
            data_dir,
            manifest,
            operator_key,
        } => {
            let mut cfg = match config {
                Some(path) => Config::load(&path)?,
                None => Config::default(),
            };
            if let Some(v) = listen {
                cfg.listen = v;
            }
            if let Some(v) = data_dir {
                cfg.data_dir = v;
            }
            if let Some(v) = manifest {
                cfg.network.manifest_file = Some(v);
            }
            if let Some(v) = operator_key {
                cfg.network.operator_key = v;
            }
            let stop = shutdown_signal();
            let node = server::start(cfg, None, None, Arc::new(Clock::default())).await?;
            println!("murmur-node listening on {}", node.addr);
            stop.await;
            tracing::info!("shutting down");
            node.stop().await;
        }
        Command::Network(command) => network_command(command)?,
        Command::Node(NodeCommand::Init {
            data_dir,
            config,
            listen,
            url,
            operator_key,
            manifest,
            seeds,
            reload_seconds,
            tls_cert,
            tls_key,
        }) => {
            anyhow::ensure!(
                !config.exists(),
                "{} exists; not overwriting it",
                config.display()
            );
            let cfg = Config {
                listen,
                data_dir: data_dir.clone(),
                tls: tls_cert.zip(tls_key).map(|(cert_file, key_file)| {
                    murmur_node::config::TlsConfig {
                        cert_file,
                        key_file,
                    }
                }),
                network: murmur_node::config::NetworkConfig {
                    operator_key,
                    manifest_file: manifest,
                    seed_urls: seeds,
                    reload_seconds,
                    ..Config::default().network
                },
                ..Config::default()
            };
            // Checked before the key is made, so a refused set-up leaves nothing behind.
            cfg.check()?;
            let card = NodeCard::for_node(&data_dir, &url)?;
            std::fs::write(&config, toml::to_string(&cfg)?)
                .with_context(|| format!("cannot write {}", config.display()))?;
            println!("{}", serde_json::to_string(&card)?);
        }
        Command::Files {
            config,
            listen,
            data_dir,
        } => {
            let mut cfg: murmur_node::files::FileServerConfig = match config {
                Some(path) => {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read {}", path.display()))?;
                    toml::from_str(&text).with_context(|| {
                        format!("{} is not a file server config", path.display())
                    })?
                }
                None => Default::default(),
            };
            if let Some(v) = listen {
                cfg.listen = v;
            }
            if let Some(v) = data_dir {
                cfg.data_dir = v;
            }
            let stop = shutdown_signal();
            let files = murmur_node::files::start(cfg, None, Arc::new(Clock::default())).await?;
            println!(
                "murmur-node file server listening on {}; x25519 {}",
                files.addr,
                files.server.x25519_hex()
            );
            stop.await;
            tracing::info!("shutting down");
            files.stop().await;
        }
        Command::FilesKey { data_dir } => {
            let key = murmur_node::files::load_or_create_key(&data_dir)?;
            println!(
                "{}",
                serde_json::json!({ "x25519": hex::encode(key.public()) })
            );
        }
        Command::Keys { data_dir } => {
            let id = NodeIdentity::load_or_create(&data_dir)?;
            println!(
                "{}",
                serde_json::json!({ "ed25519": id.ed25519_hex(), "x25519": hex::encode(id.x25519()) })
            );
        }
        Command::Devnet {
            nodes,
            dir,
            base_port,
            test_clock,
            account_max_count,
        } => {
            let stop = shutdown_signal();
            let devnet = Devnet::start(DevnetSpec {
                nodes,
                dir: dir.clone(),
                base_port,
                sync_interval_ms: 2_000,
                account_max_count,
            })
            .await
            .context("cannot start the devnet")?;
            println!(
                "devnet: {nodes} nodes on http://127.0.0.1:{base_port}..{}; file server {}; clients: {}",
                usize::from(base_port) + nodes - 1,
                devnet
                    .file_server()
                    .map_or_else(|| "none".into(), |f| format!("http://{}", f.addr)),
                dir.join("devnet.json").display()
            );
            if test_clock {
                let clock = devnet.clock.clone();
                std::thread::spawn(move || advance_from_stdin(clock));
            }
            stop.await;
            tracing::info!("shutting down");
            devnet.stop().await;
        }
    }
    Ok(())
}

/// `devnet --test-clock`: moves the devnet's shared clock by each `advance MS` line read on
/// standard input. Anything else is answered with an error line and changes nothing. A plain
/// thread, not tokio's stdin: a read blocked on tokio's pool would hold the runtime open at
/// shutdown, while this thread ends with the process.
fn advance_from_stdin(clock: Arc<Clock>) {
    use std::io::BufRead as _;
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { return };
        match line.trim().strip_prefix("advance ").map(str::parse::<u32>) {
            Some(Ok(ms)) => {
                clock.advance(i64::from(ms));
                println!("clock advanced {ms}");
            }
            _ => println!("clock: expected `advance MS`, got {} bytes", line.len()),
        }
    }
}
