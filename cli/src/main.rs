//! `murmur`: the headless Murmur client and protocol inspector.
//!
//! Output goes to stdout; failures get one line on stderr and exit code 2 for bad input (a
//! malformed recipient, no identity, bad flags) or 1 when the network could not do it.

mod commands;
mod inspect;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "murmur",
    version,
    about = "Murmur: private messaging over onion-routed swarms"
)]
struct Cli {
    #[command(flatten)]
    common: commands::Common,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create, restore or show this home's identity.
    #[command(subcommand)]
    Identity(IdentityCommand),
    /// Send a text message.
    Send(SendArgs),
    /// Print received messages (`--follow` keeps waiting for more).
    Inbox(InboxArgs),
    /// Show the onion path requests take now.
    Path {
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Check protocol computations from a shell (keys, recovery phrases, ...).
    #[command(subcommand)]
    Inspect(inspect::Inspect),
}

#[derive(Debug, Subcommand)]
enum IdentityCommand {
    /// Create a new identity (prints its Session ID and recovery phrase).
    New,
    /// Restore an identity from its 13-word recovery phrase, read from stdin.
    Restore,
    /// Print the Session ID (and, with --phrase, the recovery phrase).
    Show {
        #[arg(long)]
        phrase: bool,
    },
}

#[derive(Debug, Args)]
struct SendArgs {
    /// The recipient's Session ID (66 hex characters starting 05).
    #[arg(long)]
    to: String,
    /// Make the message disappear this many seconds after sending.
    #[arg(long, value_name = "SECONDS")]
    disappear: Option<u32>,
    /// One JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// The message text; `-` reads stdin and sends each non-empty line as its own message,
    /// in order.
    text: String,
}

#[derive(Debug, Args)]
struct InboxArgs {
    /// Keep going and print messages as they arrive (Ctrl-C stops): live, with waiting
    /// retrieves at nodes that hold them, polling the others.
    #[arg(long)]
    follow: bool,
    /// JSON lines: {"from","text","sent_ms","hash"}.
    #[arg(long)]
    json: bool,
    /// With --follow: how often to poll when no node holds waits (or with --poll).
    #[arg(long, default_value_t = 1000, value_name = "MS")]
    interval_ms: u64,
    /// With --follow: poll every --interval-ms instead of waiting (what Session's clients do).
    #[arg(long)]
    poll: bool,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inspect(cmd) => inspect::run(cmd)
            .map(|json| println!("{json}"))
            .map_err(commands::Failure::Input),
        Command::Identity(IdentityCommand::New) => commands::identity_new(&cli.common),
        Command::Identity(IdentityCommand::Restore) => commands::identity_restore(&cli.common),
        Command::Identity(IdentityCommand::Show { phrase }) => {
            commands::identity_show(&cli.common, phrase)
        }
        Command::Send(a) => commands::send(&cli.common, &a.to, &a.text, a.disappear, a.json),
        Command::Inbox(a) => commands::inbox(
            &cli.common,
            commands::Inbox {
                follow: a.follow,
                json: a.json,
                interval_ms: a.interval_ms,
                live: !a.poll,
            },
        ),
        Command::Path { json } => commands::path(&cli.common, json),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("murmur: {}", failure.message());
            std::process::ExitCode::from(failure.code())
        }
    }
}

/// Where the home is when `--home` is not given.
fn default_home() -> PathBuf {
    if let Some(dir) = std::env::var_os("MURMUR_HOME") {
        return dir.into();
    }
    std::env::var_os("HOME").map_or_else(
        || PathBuf::from(".murmur"),
        |h| PathBuf::from(h).join(".murmur"),
    )
}
