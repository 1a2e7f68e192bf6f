//! `murmur`: the headless Murmur client and protocol inspector.
//!
//! Output goes to stdout; failures get one line on stderr and exit code 2 for bad input (a
//! malformed recipient, no identity, bad flags) or 1 when the network could not do it.

mod commands;
mod groups;
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
    /// Send a message: text, files, or both.
    Send(SendArgs),
    /// Print received messages (`--follow` keeps waiting for more).
    Inbox(InboxArgs),
    /// Delete a message here (and from your swarm); `--everyone`: your own message for the
    /// other person too.
    Delete {
        /// The message's hash (as `murmur inbox` or `murmur send` printed it).
        #[arg(long)]
        hash: String,
        #[arg(long)]
        everyone: bool,
    },
    /// Message requests (first messages from people you never wrote to): list them, accept
    /// one, or decline one (`--block`: and delete their later messages unread).
    Requests {
        #[arg(long, value_name = "SESSION_ID", conflicts_with = "decline")]
        accept: Option<String>,
        #[arg(long, value_name = "SESSION_ID")]
        decline: Option<String>,
        #[arg(long, requires = "decline")]
        block: bool,
        #[arg(long)]
        json: bool,
    },
    /// Privacy settings: read receipts and typing indicators (both off unless turned on; off,
    /// none are sent and those that arrive are ignored).
    Settings {
        #[arg(long, value_name = "on|off", value_parser = parse_on_off)]
        read_receipts: Option<bool>,
        #[arg(long, value_name = "on|off", value_parser = parse_on_off)]
        typing: Option<bool>,
        #[arg(long)]
        json: bool,
    },
    /// Tell a contact you are typing (`--stop`: that you stopped); needs typing indicators on.
    Typing {
        #[arg(long)]
        to: String,
        #[arg(long)]
        stop: bool,
    },
    /// React to a message with an emoji (or take a reaction back).
    React {
        /// The contact (05…) or group (03…) the message is in.
        #[arg(long)]
        to: String,
        /// The message's hash (as `murmur inbox` or `murmur send` printed it).
        #[arg(long)]
        hash: String,
        /// Take this reaction back instead.
        #[arg(long)]
        remove: bool,
        emoji: String,
    },
    /// Files received: download, check and decrypt one.
    #[command(subcommand)]
    Attachment(AttachmentCommand),
    /// The name and picture others see with your messages.
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Protocol v2: this device's keys and device group; the v2-only setting.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Protocol v2: this account's devices; linking this device to them, accepting or
    /// removing another.
    #[command(subcommand)]
    Devices(DevicesCommand),
    /// Group chats: create, invite, accept, remove, leave, list, members.
    #[command(subcommand)]
    Group(groups::GroupCommand),
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

#[derive(Debug, Subcommand)]
enum AttachmentCommand {
    /// Download file INDEX of a received message (as `murmur inbox` lists it) to OUT.
    Get {
        /// The message's hash.
        #[arg(long)]
        hash: String,
        #[arg(long, default_value_t = 0)]
        index: usize,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum DevicesCommand {
    /// The account's devices: members, and those that left or were removed.
    List {
        #[arg(long)]
        json: bool,
    },
    /// On a new device (an account restored here whose group is on another device): ask to
    /// join; prints the emoji the other device must show, then waits to be accepted.
    Link {
        /// The emoji were compared already: do not ask.
        #[arg(long)]
        yes: bool,
        /// How long to wait for the other device (seconds).
        #[arg(long, default_value_t = 600)]
        wait: u64,
    },
    /// Devices asking to join, each with its emoji.
    Requests {
        #[arg(long)]
        json: bool,
    },
    /// Accept a device asking to join (8+ hex characters of its ID).
    Accept {
        id: String,
        /// The emoji were compared already: do not ask.
        #[arg(long)]
        yes: bool,
    },
    /// Remove a device (8+ hex characters of its ID): the account key changes at once.
    Remove { id: String },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Show the device group and the account key (founds, rotates and publishes as due).
    Show {
        #[arg(long)]
        json: bool,
    },
    /// Change a setting.
    Set {
        /// `on`: never send v1; recipients without published keys get v2 without forward
        /// secrecy.
        #[arg(long, value_name = "on|off", value_parser = parse_on_off, action = clap::ArgAction::Set)]
        v2_only: bool,
    },
}

fn parse_on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err("say on or off".into()),
    }
}

#[derive(Debug, Subcommand)]
enum ProfileCommand {
    /// Set your display name and/or picture (sent with every message from now on).
    Set {
        #[arg(long)]
        name: Option<String>,
        /// A JPEG, PNG, GIF or WebP picture (its metadata is removed before upload).
        #[arg(long, conflicts_with = "remove_picture")]
        picture: Option<PathBuf>,
        #[arg(long)]
        remove_picture: bool,
    },
    /// Show your profile.
    Show {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
struct SendArgs {
    /// The recipient's Session ID (66 hex characters starting 05).
    #[arg(long, required_unless_present = "group", conflicts_with = "group")]
    to: Option<String>,
    /// A group (03…) to send to instead.
    #[arg(long, value_name = "GROUP_ID")]
    group: Option<String>,
    /// Make the message disappear this many seconds after sending.
    #[arg(long, value_name = "SECONDS")]
    disappear: Option<u32>,
    /// One JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// A file to send (repeatable; up to 100 MB each). Pictures lose their metadata
    /// (location, device, author) first.
    #[arg(long, value_name = "PATH")]
    file: Vec<PathBuf>,
    /// Send pictures as they are, metadata included.
    #[arg(long)]
    keep_metadata: bool,
    /// Reply to the message with this hash (it is quoted, as Session does).
    #[arg(long, value_name = "HASH")]
    reply_to: Option<String>,
    /// The message text; `-` reads stdin and sends each non-empty line as its own message,
    /// in order.
    #[arg(default_value = "")]
    text: String,
}

#[derive(Debug, Args)]
struct InboxArgs {
    /// Keep going and print messages as they arrive (Ctrl-C stops): live, with waiting
    /// retrieves at nodes that hold them, polling the others.
    #[arg(long)]
    follow: bool,
    /// JSON lines: {"from","from_name","text","sent_ms","hash","attachments","protocol"}
    /// (protocol: "v1", "v2" or "v2-nopfs").
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
        Command::Send(a) => commands::send(
            &cli.common,
            &commands::Send {
                to: a.to.as_deref().unwrap_or_default(),
                group: a.group.as_deref(),
                text: &a.text,
                files: &a.file,
                keep_metadata: a.keep_metadata,
                disappear: a.disappear,
                json: a.json,
                reply_to: a.reply_to.as_deref(),
            },
        ),
        Command::Requests {
            accept,
            decline,
            block,
            json,
        } => commands::requests(
            &cli.common,
            accept.as_deref(),
            decline.as_deref(),
            block,
            json,
        ),
        Command::Settings {
            read_receipts,
            typing,
            json,
        } => commands::settings(&cli.common, read_receipts, typing, json),
        Command::Typing { to, stop } => commands::typing(&cli.common, &to, stop),
        Command::Delete { hash, everyone } => commands::delete(&cli.common, &hash, everyone),
        Command::React {
            to,
            hash,
            emoji,
            remove,
        } => commands::react(&cli.common, &to, &hash, &emoji, remove),
        Command::Attachment(AttachmentCommand::Get { hash, index, out }) => {
            commands::attachment_get(&cli.common, &hash, index, &out)
        }
        Command::Profile(ProfileCommand::Set {
            name,
            picture,
            remove_picture,
        }) => commands::profile_set(
            &cli.common,
            name.as_deref(),
            picture.as_deref(),
            remove_picture,
        ),
        Command::Profile(ProfileCommand::Show { json }) => {
            commands::profile_show(&cli.common, json)
        }
        Command::Inbox(a) => commands::inbox(
            &cli.common,
            commands::Inbox {
                follow: a.follow,
                json: a.json,
                interval_ms: a.interval_ms,
                live: !a.poll,
            },
        ),
        Command::Devices(DevicesCommand::List { json }) => {
            commands::devices_list(&cli.common, json)
        }
        Command::Devices(DevicesCommand::Link { yes, wait }) => {
            commands::devices_link(&cli.common, yes, wait)
        }
        Command::Devices(DevicesCommand::Requests { json }) => {
            commands::devices_requests(&cli.common, json)
        }
        Command::Devices(DevicesCommand::Accept { id, yes }) => {
            commands::devices_accept(&cli.common, &id, yes)
        }
        Command::Devices(DevicesCommand::Remove { id }) => {
            commands::devices_remove(&cli.common, &id)
        }
        Command::Keys(KeysCommand::Show { json }) => commands::keys_show(&cli.common, json),
        Command::Keys(KeysCommand::Set { v2_only }) => commands::keys_set(&cli.common, v2_only),
        Command::Path { json } => commands::path(&cli.common, json),
        Command::Group(cmd) => groups::run(&cli.common, cmd),
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
