//! `murmur-node`: run a node from a config file, or a whole local network.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use murmur_node::clock::Clock;
use murmur_node::config::Config;
use murmur_node::devnet::{Devnet, DevnetSpec};
use murmur_node::identity::NodeIdentity;
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
    /// Run a whole network on 127.0.0.1 until interrupted; writes DIR/devnet.json for clients.
    Devnet {
        #[arg(long, default_value_t = 12)]
        nodes: usize,
        #[arg(long)]
        dir: PathBuf,
        /// Node i listens on base-port + i.
        #[arg(long, default_value_t = 22100)]
        base_port: u16,
    },
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

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler installs");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
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
            let node = server::start(cfg, None, None, Arc::new(Clock::default())).await?;
            println!("murmur-node listening on {}", node.addr);
            shutdown_signal().await;
            tracing::info!("shutting down");
            node.stop().await;
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
        } => {
            let devnet = Devnet::start(DevnetSpec {
                nodes,
                dir: dir.clone(),
                base_port,
                sync_interval_ms: 2_000,
            })
            .await
            .context("cannot start the devnet")?;
            println!(
                "devnet: {nodes} nodes on http://127.0.0.1:{base_port}..{}; clients: {}",
                usize::from(base_port) + nodes - 1,
                dir.join("devnet.json").display()
            );
            shutdown_signal().await;
            tracing::info!("shutting down");
            devnet.stop().await;
        }
    }
    Ok(())
}
