//! The client commands: identity, send, inbox, path. Each opens the home, builds a
//! `murmur_core::client::Client` on the native platform and runs on a single-threaded runtime.

use std::io::{BufRead as _, Write as _};
use std::path::PathBuf;

use clap::Args;
use murmur_cli::home::{Home, read_network_file};
use murmur_cli::platform::{DirStore, HttpTransport, SystemClock};
use murmur_core::client::{Client, ClientConfig, ClientError, Incoming, Step, parse_recipient};
use murmur_core::network::NetworkFile;
use murmur_core::{Identity, Seed};
use rand_core::UnwrapErr;
use serde_json::json;

/// Flags every client command takes.
#[derive(Debug, Args)]
pub struct Common {
    /// Directory holding the identity and client state [default: $MURMUR_HOME or ~/.murmur].
    #[arg(long, global = true, value_name = "DIR")]
    home: Option<PathBuf>,
    /// A network file (a devnet's devnet.json); remembered in the home.
    #[arg(long, global = true, value_name = "FILE", conflicts_with = "seed")]
    network_file: Option<PathBuf>,
    /// A seed node URL (repeatable); needs --operator-key.
    #[arg(long, global = true, value_name = "URL", requires = "operator_key")]
    seed: Vec<String>,
    /// The network operator's Ed25519 key (hex) that signs the node list.
    #[arg(long, global = true, value_name = "HEX", requires = "seed")]
    operator_key: Option<String>,
    /// Extra CA certificate(s) (PEM) to trust for the nodes' HTTPS.
    #[arg(long, global = true, value_name = "FILE")]
    ca_file: Option<PathBuf>,
}

/// How a command failed: bad input (exit 2) or the network could not do it (exit 1).
#[derive(Debug)]
pub enum Failure {
    Input(String),
    Network(String),
}

impl Failure {
    pub fn message(&self) -> &str {
        match self {
            Self::Input(m) | Self::Network(m) => m,
        }
    }

    pub fn code(&self) -> u8 {
        match self {
            Self::Input(_) => 2,
            Self::Network(_) => 1,
        }
    }
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::InvalidRecipient(_)
            | ClientError::TooLong { .. }
            | ClientError::Refused { .. } => Self::Input(e.to_string()),
            other => Self::Network(other.to_string()),
        }
    }
}

type Result<T> = std::result::Result<T, Failure>;
type NativeClient = Client<HttpTransport, SystemClock, DirStore, UnwrapErr<getrandom::SysRng>>;

fn home(common: &Common) -> Home {
    Home::new(common.home.clone().unwrap_or_else(super::default_home))
}

/// The network from the flags (remembered in the home) or from the home.
fn network(common: &Common, home: &Home) -> Result<NetworkFile> {
    let given = if let Some(path) = &common.network_file {
        Some(read_network_file(path).map_err(Failure::Input)?)
    } else if let Some(key) = &common.operator_key {
        let file = NetworkFile {
            seeds: common.seed.clone(),
            operator_pubkey: key.clone(),
        };
        file.config().map_err(|e| Failure::Input(e.to_string()))?;
        Some(file)
    } else {
        None
    };
    match given {
        Some(file) => {
            // The operator key decides which network's word is taken: changing it is
            // switching networks, so it is never done quietly.
            if let Ok(held) = home.network()
                && held.operator_pubkey != file.operator_pubkey
            {
                eprintln!(
                    "murmur: WARNING: the network's operator key changes from {} to {}. \
                     Only go on if its operator told you so; messages now go through a \
                     different network.",
                    held.operator_pubkey, file.operator_pubkey
                );
            }
            home.save_network(&file).map_err(Failure::Input)?;
            Ok(file)
        }
        None => home.network().map_err(Failure::Input),
    }
}

fn client(common: &Common, home: &Home, identity: Identity) -> Result<NativeClient> {
    let network = network(common, home)?
        .config()
        .map_err(|e| Failure::Input(e.to_string()))?;
    let transport = HttpTransport::new(common.ca_file.as_deref()).map_err(Failure::Input)?;
    let store = home.store().map_err(Failure::Input)?;
    Ok(Client::new(
        identity,
        ClientConfig::new(network),
        transport,
        SystemClock::default(),
        store,
        UnwrapErr(getrandom::SysRng),
    ))
}

/// Says on stderr what the client found wrong with the network but worked around (a stale
/// manifest).
fn warn_about_network(client: &NativeClient) {
    if let Some(warning) = client.manifest_warning() {
        eprintln!("murmur: warning: {warning}");
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Network(format!("cannot start the runtime: {e}")))
}

fn print_new_identity(identity: &Identity) {
    println!("Session ID: {}", identity.session_id());
    println!("Recovery phrase (the only way to restore this identity; keep it secret):");
    println!("{}", identity.seed().to_mnemonic());
}

pub fn identity_new(common: &Common) -> Result<()> {
    let seed = Seed::generate(&mut UnwrapErr(getrandom::SysRng));
    let identity = home(common)
        .create_identity(&seed)
        .map_err(Failure::Input)?;
    print_new_identity(&identity);
    Ok(())
}

pub fn identity_restore(common: &Common) -> Result<()> {
    let mut phrase = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut phrase)
        .map_err(|e| Failure::Input(format!("cannot read the recovery phrase: {e}")))?;
    let seed = Seed::from_mnemonic(&phrase).map_err(|e| Failure::Input(e.to_string()))?;
    let identity = home(common)
        .create_identity(&seed)
        .map_err(Failure::Input)?;
    println!("Session ID: {}", identity.session_id());
    Ok(())
}

pub fn identity_show(common: &Common, phrase: bool) -> Result<()> {
    let identity = home(common).identity().map_err(Failure::Input)?;
    if phrase {
        print_new_identity(&identity);
    } else {
        println!("{}", identity.session_id());
    }
    Ok(())
}

pub fn send(
    common: &Common,
    to: &str,
    text: &str,
    disappear: Option<u32>,
    json: bool,
) -> Result<()> {
    // Check the recipient before anything touches the network.
    let recipient = parse_recipient(to)?;
    let home = home(common);
    let client = client(common, &home, home.identity().map_err(Failure::Input)?)?;
    let texts: Vec<String> = if text == "-" {
        std::io::stdin()
            .lock()
            .lines()
            .collect::<std::io::Result<Vec<_>>>()
            .map_err(|e| Failure::Input(format!("cannot read messages from stdin: {e}")))?
            .into_iter()
            .filter(|line| !line.trim().is_empty())
            .collect()
    } else {
        vec![text.to_string()]
    };
    let runtime = runtime()?;
    runtime.block_on(client.ready())?;
    warn_about_network(&client);
    for text in &texts {
        let sent = runtime.block_on(client.send_text(&recipient, text, disappear))?;
        if json {
            println!(
                "{}",
                json!({
                    "hash": sent.hash, "sent_ms": sent.sent_ms, "expiry_ms": sent.expiry_ms,
                    "accepted_by": sent.accepted_by, "synced": sent.synced,
                })
            );
        } else {
            println!(
                "sent: stored by {} swarm member(s), hash {}{}",
                sent.accepted_by,
                sent.hash,
                if sent.synced {
                    ""
                } else {
                    " (sync copy failed)"
                }
            );
        }
    }
    Ok(())
}

/// Text for a terminal: control characters (escape sequences) are shown, not obeyed.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\n' {
                char::REPLACEMENT_CHARACTER
            } else {
                c
            }
        })
        .collect()
}

fn print_message(m: &Incoming, json: bool) {
    if json {
        println!(
            "{}",
            json!({ "from": m.from.to_string(), "text": m.text, "sent_ms": m.sent_ms, "hash": m.hash })
        );
    } else {
        println!("[{}] {}: {}", m.sent_ms, m.from, printable(&m.text));
    }
}

/// How `murmur inbox` runs.
#[derive(Debug, Clone, Copy)]
pub struct Inbox {
    /// Keep going until Ctrl-C.
    pub follow: bool,
    pub json: bool,
    /// Poll interval where no node holds waits (or always, without `live`).
    pub interval_ms: u64,
    /// Follow with waiting retrieves (`Client::live`) rather than polls.
    pub live: bool,
}

pub fn inbox(common: &Common, how: Inbox) -> Result<()> {
    let home = home(common);
    let identity = home.identity().map_err(Failure::Input)?;
    let own = identity.session_id();
    let _lock = home.lock_inbox().map_err(Failure::Input)?;
    let client = client(common, &home, identity)?;
    let json = how.json;
    let show = |messages: Vec<Incoming>| {
        // Sync copies of our own sent messages are history for other devices, not inbox.
        for m in messages.iter().filter(|m| m.from != own) {
            print_message(m, json);
        }
        let _ = std::io::stdout().flush();
    };
    runtime()?.block_on(async {
        // Following keeps going through outages: its steps say what failed.
        if let Err(e) = client.ready().await
            && !how.follow
        {
            return Err(e.into());
        }
        warn_about_network(&client);
        if !how.follow {
            show(client.poll().await?);
            return Ok(());
        }
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        // A full poll first (two members, merged), then live steps.
        let mut polled = false;
        loop {
            let step = async {
                if how.live && polled {
                    client.live().await
                } else {
                    client.poll().await.map(Step::Polled)
                }
            };
            let step = tokio::select! {
                _ = &mut ctrl_c => return Ok(()),
                step = step => step,
            };
            let pause = match step {
                Ok(Step::Waited(messages)) => {
                    show(messages);
                    false
                }
                Ok(Step::Polled(messages)) => {
                    show(messages);
                    // After the first full poll, live steps start at once.
                    let first = !polled;
                    polled = true;
                    !(first && how.live)
                }
                // Keep following through outages; say so once per failed step.
                Err(e) => {
                    eprintln!("murmur: receiving failed ({e}); retrying");
                    true
                }
            };
            if pause {
                tokio::select! {
                    _ = &mut ctrl_c => return Ok(()),
                    () = tokio::time::sleep(std::time::Duration::from_millis(how.interval_ms)) => {}
                }
            }
        }
    })
}

pub fn path(common: &Common, json: bool) -> Result<()> {
    let home = home(common);
    let client = client(common, &home, home.identity().map_err(Failure::Input)?)?;
    let path = runtime()?.block_on(client.current_path())?;
    warn_about_network(&client);
    if json {
        let hops: Vec<_> = path
            .hops
            .iter()
            .map(|h| json!({ "ed25519": h.ed25519, "url": h.url, "swarm_id": h.swarm_id }))
            .collect();
        println!("{}", json!({ "hops": hops, "guards": client.guards() }));
    } else {
        for (i, hop) in path.hops.iter().enumerate() {
            let role = if i == 0 { "guard" } else { "relay" };
            println!(
                "{role}  {}…  {}  swarm {:016x}",
                &hop.ed25519[..16],
                hop.url,
                hop.swarm_id
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn terminal_escapes_are_not_passed_through() {
        assert_eq!(printable("hi\u{1b}[2Jthere"), "hi\u{fffd}[2Jthere");
        assert_eq!(printable("two\nlines"), "two\nlines");
    }
}
