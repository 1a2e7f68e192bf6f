//! The client commands: identity, send, inbox, attachment, profile, path. Each opens the home,
//! builds a `murmur_core::client::Client` on the native platform and runs on a single-threaded
//! runtime.

use std::collections::BTreeMap;
use std::io::{BufRead as _, Write as _};
use std::path::{Path, PathBuf};

use clap::Args;
use murmur_cli::contacts::Contacts;
use murmur_cli::files::{DiskFile, DiskSink, prepare};
use murmur_cli::home::{Home, read_network_file};
use murmur_cli::index::{self, Entry};
use murmur_cli::platform::{DirStore, HttpTransport, SystemClock};
use murmur_cli::settings::Settings;
use murmur_core::attachment::Domain;
use murmur_core::client::files::FileSource;
use murmur_core::client::v2::{Protocol, V2Status};
use murmur_core::client::{
    Client, ClientConfig, ClientError, Incoming, Step, Store as _, parse_recipient,
};
use murmur_core::message::extras::{Extras, MessageRef, Quote, Reaction};
use murmur_core::message::{Attachment, Body, Profile, ProfilePicture};
use murmur_core::network::NetworkFile;
use murmur_core::rpc::AccountId;
use murmur_core::v2::devices::table::DeviceState;
use murmur_core::{Identity, Seed, SessionId};
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
            | ClientError::Refused { .. }
            | ClientError::FileTooLarge { .. }
            | ClientError::EmptyFile
            | ClientError::FileSource(_)
            | ClientError::UnknownGroup
            | ClientError::NotAdmin
            | ClientError::Group(_) => Self::Input(e.to_string()),
            other => Self::Network(other.to_string()),
        }
    }
}

pub(crate) type Result<T> = std::result::Result<T, Failure>;
pub(crate) type NativeClient =
    Client<HttpTransport, SystemClock, DirStore, UnwrapErr<getrandom::SysRng>>;

pub(crate) fn home(common: &Common) -> Home {
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

pub(crate) fn client(common: &Common, home: &Home, identity: Identity) -> Result<NativeClient> {
    let network = network(common, home)?
        .config()
        .map_err(|e| Failure::Input(e.to_string()))?;
    let transport = HttpTransport::new(common.ca_file.as_deref()).map_err(Failure::Input)?;
    let store = home.store().map_err(Failure::Input)?;
    let mut config = ClientConfig::new(network);
    // A home is a device of its account: it takes part in protocol v2's device group and
    // publishes the account's keys (SESSION-V2.md §1.3; docs/protocol.md).
    config.v2_publish = true;
    config.v2_only = home.v2_only();
    config.device_kind = murmur_core::client::v2::KIND_CLI.into();
    config.device_description = "murmur CLI".into();
    Ok(Client::new(
        identity,
        config,
        transport,
        SystemClock::default(),
        store,
        UnwrapErr(getrandom::SysRng),
    ))
}

/// Says on stderr what the client found wrong with the network but worked around (a stale
/// manifest).
pub(crate) fn warn_about_network(client: &NativeClient) {
    if let Some(warning) = client.manifest_warning() {
        eprintln!("murmur: warning: {warning}");
    }
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Network(format!("cannot start the runtime: {e}")))
}

fn print_new_identity(identity: &Identity) -> Result<()> {
    // The CLI compiles the word list in, so this cannot fail; the error is still reported.
    let phrase = identity
        .seed()
        .to_mnemonic()
        .map_err(|e| Failure::Input(e.to_string()))?;
    println!("Session ID: {}", identity.session_id());
    println!("Recovery phrase (the only way to restore this identity; keep it secret):");
    println!("{phrase}");
    Ok(())
}

pub fn identity_new(common: &Common) -> Result<()> {
    let seed = Seed::generate(&mut UnwrapErr(getrandom::SysRng));
    let identity = home(common)
        .create_identity(&seed)
        .map_err(Failure::Input)?;
    print_new_identity(&identity)
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
        print_new_identity(&identity)?;
    } else {
        println!("{}", identity.session_id());
    }
    Ok(())
}

/// What `murmur send` sends.
#[derive(Debug)]
pub struct Send<'a> {
    /// A Session ID, or (with `group`) unused.
    pub to: &'a str,
    /// A group (`03…`) to send to instead.
    pub group: Option<&'a str>,
    /// The text; `-` reads stdin and sends each non-empty line as its own message.
    pub text: &'a str,
    pub files: &'a [PathBuf],
    pub keep_metadata: bool,
    pub disappear: Option<u32>,
    pub json: bool,
    /// The hash of the message this replies to (quoted, as Session does).
    pub reply_to: Option<&'a str>,
}

pub fn send(common: &Common, how: &Send<'_>) -> Result<()> {
    // Check the recipient and the files before anything touches the network.
    let recipient = match how.group {
        Some(g) => Err(crate::groups::parse_group(g)?),
        None => Ok(parse_recipient(how.to)?),
    };
    let prepared = how
        .files
        .iter()
        .map(|path| {
            let source = DiskFile::open(path).map_err(Failure::Input)?;
            if source.len() > murmur_core::files::MAX_ATTACHMENT_BYTES {
                return Err(ClientError::FileTooLarge {
                    max: murmur_core::files::MAX_ATTACHMENT_BYTES,
                }
                .into());
            }
            if source.len() == 0 {
                return Err(Failure::Input(format!("{} is empty", path.display())));
            }
            let file = prepare(path, how.keep_metadata).map_err(Failure::Input)?;
            Ok((source, file))
        })
        .collect::<Result<Vec<_>>>()?;
    if how.text.is_empty() && prepared.is_empty() {
        return Err(Failure::Input(
            "nothing to send: give a text or --file".into(),
        ));
    }
    let home = home(common);
    let client = client(common, &home, home.identity().map_err(Failure::Input)?)?;
    let texts: Vec<String> = if how.text == "-" {
        std::io::stdin()
            .lock()
            .lines()
            .collect::<std::io::Result<Vec<_>>>()
            .map_err(|e| Failure::Input(format!("cannot read messages from stdin: {e}")))?
            .into_iter()
            .filter(|line| !line.trim().is_empty())
            .collect()
    } else {
        vec![how.text.to_string()]
    };
    let runtime = runtime()?;
    let quote = match how.reply_to {
        Some(hash) => Some(Quote {
            to: runtime
                .block_on(index::lookup(client_store(&client), hash))
                .ok_or_else(|| unknown_message(hash))?,
            text: None,
        }),
        None => None,
    };
    runtime.block_on(client.ready())?;
    warn_about_network(&client);
    let profile = runtime.block_on(profile_to_send(&client))?;
    let mut attachments = Vec::new();
    for (source, file) in &prepared {
        let progress = |done: u64, total: u64| {
            if !how.json {
                eprint!(
                    "\ruploading {}: {}%",
                    file.name.as_deref().unwrap_or("file"),
                    done * 100 / total.max(1)
                );
            }
        };
        let uploaded = match &file.bytes {
            Some(bytes) => runtime.block_on(client.upload_file(
                bytes.as_slice(),
                Domain::Attachment,
                None,
                &progress,
            )),
            None => {
                runtime.block_on(client.upload_file(source, Domain::Attachment, None, &progress))
            }
        }?;
        if !how.json {
            eprintln!();
        }
        attachments.push(Attachment {
            url: uploaded.url.to_url(),
            key: hex::encode(uploaded.key),
            size: uploaded.size,
            content_type: file.content_type.clone(),
            file_name: file.name.clone(),
            width: None,
            height: None,
        });
    }
    for (i, text) in texts.iter().enumerate() {
        let body = Body {
            text: text.clone(),
            // The files go with the first message.
            attachments: if i == 0 {
                attachments.clone()
            } else {
                Vec::new()
            },
            profile: profile.clone(),
        };
        // The quote goes with the first message.
        let extras = Extras {
            quote: if i == 0 { quote.clone() } else { None },
            ..Extras::default()
        };
        let sent = runtime.block_on(send_to(&client, &recipient, &body, &extras, how.disappear))?;
        if how.json {
            println!(
                "{}",
                json!({
                    "hash": sent.hash, "sent_ms": sent.sent_ms, "expiry_ms": sent.expiry_ms,
                    "accepted_by": sent.accepted_by, "synced": sent.synced,
                    "sync_hash": sent.sync_hash,
                    "attachments": body.attachments.len(), "protocol": sent.protocol.as_str(),
                })
            );
        } else {
            if recipient.is_err() {
                println!(
                    "sent to the group: stored by {} swarm member(s), hash {}",
                    sent.accepted_by, sent.hash
                );
                continue;
            }
            println!(
                "sent ({}): stored by {} swarm member(s), hash {}{}",
                match sent.protocol {
                    // Say why, so the user knows it is their contact's app, not theirs.
                    Protocol::V1 => "classic (v1): they publish no v2 keys",
                    p => protection(p),
                },
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

/// Sends `body` with `extras` to a contact or (`Err`) a group, and remembers it in the home's
/// index of messages (so it can be replied to and reacted to by hash).
async fn send_to(
    client: &NativeClient,
    recipient: &std::result::Result<SessionId, AccountId>,
    body: &Body,
    extras: &Extras,
    disappear: Option<u32>,
) -> Result<murmur_core::client::Sent> {
    let sent = match recipient {
        Ok(to) => client.send_with_extras(to, body, extras, disappear).await,
        Err(group) => {
            client
                .send_to_group_with(group, body, extras, disappear)
                .await
        }
    }?;
    let entry = Entry {
        author: client.identity().session_id().to_string(),
        sent_ms: sent.sent_ms,
        expires_ms: sent.expiry_ms,
        conversation: match recipient {
            Ok(to) => to.to_string(),
            Err(group) => group.to_hex(),
        },
        sync_hash: sent.sync_hash.clone(),
    };
    let store = client_store(client);
    let _ = index::record(store, vec![(sent.hash.clone(), entry)], sent.sent_ms).await;
    if let Ok(to) = recipient {
        // Whom we write to is a contact: their answers are not requests.
        let mut contacts = Contacts::load(store).await.map_err(Failure::Input)?;
        if !contacts.is_accepted(&to.to_string()) {
            contacts.accept(&to.to_string());
            contacts.save(store).await.map_err(Failure::Input)?;
        }
    }
    Ok(sent)
}

fn unknown_message(hash: &str) -> Failure {
    Failure::Input(format!(
        "no message {hash} here (hashes are what `murmur inbox` and `murmur send` print)"
    ))
}

/// `murmur react`: adds (or, `remove`, takes off) `emoji` on the message `hash`, sent to the
/// contact or group `to`.
pub fn react(common: &Common, to: &str, hash: &str, emoji: &str, remove: bool) -> Result<()> {
    let recipient = if to.trim().starts_with("03") {
        Err(crate::groups::parse_group(to)?)
    } else {
        Ok(parse_recipient(to)?)
    };
    let emoji = murmur_core::message::extras::check_emoji(emoji.trim())
        .ok_or_else(|| Failure::Input("a reaction is one emoji".into()))?
        .to_owned();
    let home = home(common);
    let client = client(common, &home, home.identity().map_err(Failure::Input)?)?;
    let runtime = runtime()?;
    let target = runtime
        .block_on(index::lookup(client_store(&client), hash))
        .ok_or_else(|| unknown_message(hash))?;
    let extras = Extras {
        reaction: Some(Reaction {
            to: target,
            emoji,
            remove,
        }),
        ..Extras::default()
    };
    runtime.block_on(send_to(
        &client,
        &recipient,
        &Body::default(),
        &extras,
        None,
    ))?;
    warn_about_network(&client);
    println!(
        "{}",
        if remove {
            "reaction removed"
        } else {
            "reacted"
        }
    );
    Ok(())
}

/// `murmur requests`: the message requests waiting (no flag), or accepting one (Session's
/// `messageRequestResponse` tells the sender), or declining one (their messages deleted from
/// this home and our swarm; with `block`, their later messages are deleted unread).
pub fn requests(
    common: &Common,
    accept: Option<&str>,
    decline: Option<&str>,
    block: bool,
    json: bool,
) -> Result<()> {
    let who: Option<SessionId> = accept.or(decline).map(parse_recipient).transpose()?;
    let home = home(common);
    let client = client(common, &home, home.identity().map_err(Failure::Input)?)?;
    let store = client_store(&client);
    let runtime = runtime()?;
    runtime.block_on(async {
        let mut contacts = Contacts::load(store).await.map_err(Failure::Input)?;
        let Some(who) = who else {
            for (id, p) in &contacts.requests {
                let name = store
                    .get(&format!("contact.{id}"))
                    .await
                    .ok()
                    .flatten()
                    .and_then(|b| String::from_utf8(b).ok());
                if json {
                    println!(
                        "{}",
                        json!({"from": id, "from_name": name, "messages": p.count, "first_ms": p.first_ms})
                    );
                } else {
                    let name = name.map(|n| format!(" ({})", printable(&n))).unwrap_or_default();
                    println!("{id}{name}: {} message(s) since {}", p.count, p.first_ms);
                }
            }
            return Ok(());
        };
        let id = who.to_string();
        let pending = contacts.requests.contains_key(&id);
        if accept.is_some() {
            if !pending {
                return Err(Failure::Input(format!("no message request from {id}")));
            }
            client.ready().await?;
            client.accept_request(&who).await?;
            contacts.accept(&id);
            contacts.save(store).await.map_err(Failure::Input)?;
            println!("accepted");
            return Ok(());
        }
        if !pending && !block {
            return Err(Failure::Input(format!("no message request from {id}")));
        }
        let theirs = index::hashes_in(store, &id).await;
        if !theirs.is_empty() {
            client.ready().await?;
            client.delete_from_own_swarm(theirs.clone()).await;
            for h in &theirs {
                index::forget(store, h).await.map_err(Failure::Input)?;
                let _ = store.remove(&attachments_key(h));
            }
        }
        contacts.decline(&id, block);
        contacts.save(store).await.map_err(Failure::Input)?;
        println!("{}", if block { "declined and blocked" } else { "declined" });
        Ok::<_, Failure>(())
    })?;
    warn_about_network(&client);
    Ok(())
}

/// `murmur settings`: shows the settings, or changes those given.
pub fn settings(
    common: &Common,
    read_receipts: Option<bool>,
    typing: Option<bool>,
    json: bool,
) -> Result<()> {
    let home = home(common);
    let store = home.store().map_err(Failure::Input)?;
    runtime()?.block_on(async {
        let mut s = Settings::load(&store).await.map_err(Failure::Input)?;
        if read_receipts.is_some() || typing.is_some() {
            s.read_receipts = read_receipts.unwrap_or(s.read_receipts);
            s.typing_indicators = typing.unwrap_or(s.typing_indicators);
            s.save(&store).await.map_err(Failure::Input)?;
        }
        let word = |on: bool| if on { "on" } else { "off" };
        if json {
            println!(
                "{}",
                json!({"read_receipts": s.read_receipts, "typing_indicators": s.typing_indicators})
            );
        } else {
            println!("read receipts: {}", word(s.read_receipts));
            println!("typing indicators: {}", word(s.typing_indicators));
        }
        Ok(())
    })
}

/// `murmur typing`: tells `to` we started (or, `stop`, stopped) typing — only when typing
/// indicators are on.
pub fn typing(common: &Common, to: &str, stop: bool) -> Result<()> {
    let to = parse_recipient(to)?;
    let home = home(common);
    let client = client(common, &home, home.identity().map_err(Failure::Input)?)?;
    let runtime = runtime()?;
    let settings = runtime
        .block_on(Settings::load(client_store(&client)))
        .map_err(Failure::Input)?;
    if !settings.typing_indicators {
        return Err(Failure::Input(
            "typing indicators are off (murmur settings --typing on)".into(),
        ));
    }
    runtime.block_on(client.send_typing(&to, !stop))?;
    warn_about_network(&client);
    Ok(())
}

/// `murmur delete`: forgets the message `hash` here and deletes it from our swarm; with
/// `everyone`, our own 1:1 message is deleted for the other person too (Session's unsend
/// request).
pub fn delete(common: &Common, hash: &str, everyone: bool) -> Result<()> {
    let home = home(common);
    let client = client(common, &home, home.identity().map_err(Failure::Input)?)?;
    let own = client.identity().session_id();
    let runtime = runtime()?;
    let store = client_store(&client);
    let entry = runtime
        .block_on(index::entry(store, hash))
        .ok_or_else(|| unknown_message(hash))?;
    let mine = entry.author == own.to_string();
    let peer: Option<SessionId> = entry.conversation.parse().ok();
    let group = match peer {
        Some(_) => None,
        None => Some(crate::groups::parse_group(&entry.conversation)?),
    };
    runtime.block_on(async {
        if everyone {
            // One's own messages; in a group, an admin's any message.
            let admin = match &group {
                Some(g) => client.group(g).await?.admin,
                None => false,
            };
            if !mine && !admin {
                return Err(Failure::Input(
                    "only your own messages can be deleted for everyone (in a group, an admin's any)"
                        .into(),
                ));
            }
        }
        client.ready().await?;
        let own_copies: Vec<String> = if mine {
            entry.sync_hash.iter().cloned().collect()
        } else if peer.is_some() {
            vec![hash.to_owned()]
        } else {
            Vec::new()
        };
        match (everyone, peer, &group) {
            (true, Some(peer), _) => {
                let target = MessageRef {
                    sent_ms: entry.sent_ms,
                    author: own,
                };
                client.unsend(&peer, target, own_copies).await?;
            }
            (true, None, Some(group)) => {
                client
                    .delete_group_messages(group, &[hash.to_owned()])
                    .await?;
            }
            _ => client.delete_from_own_swarm(own_copies).await,
        }
        index::forget(store, hash).await.map_err(Failure::Input)?;
        let _ = store.remove(&attachments_key(hash));
        Ok::<_, Failure>(())
    })?;
    warn_about_network(&client);
    println!(
        "{}",
        if everyone {
            "deleted for everyone"
        } else {
            "deleted here"
        }
    );
    Ok(())
}

/// Store key of our profile (name, picture URL and key) in the home.
const PROFILE: &str = "profile";
/// Store key of our profile picture's bytes (stripped), kept to upload again if the file
/// server lets it go.
const PROFILE_PICTURE: &str = "profile.picture";
/// How long before its expiry a profile picture is extended.
const PICTURE_EXTEND_BEFORE_MS: u64 = 3 * 24 * 3600 * 1000;

/// Our profile as sent with messages, its picture kept alive first: extended when it expires
/// within three days, uploaded again when the file server no longer has it.
async fn profile_to_send(client: &NativeClient) -> Result<Option<Profile>> {
    let store = client_store(client);
    let Some(bytes) = store.get(PROFILE).await.map_err(|e| Failure::Input(e.0))? else {
        return Ok(None);
    };
    let mut saved: SavedProfile = serde_json::from_slice(&bytes)
        .map_err(|_| Failure::Input("the saved profile is damaged".into()))?;
    if let Some(picture) = &saved.profile.picture {
        let now = client.network_now_ms();
        if saved.picture_expires_ms.saturating_sub(now) < PICTURE_EXTEND_BEFORE_MS {
            let url = murmur_core::files::FileUrl::parse(&picture.url)
                .map_err(|e| Failure::Input(e.to_string()))?;
            saved.picture_expires_ms = match client.extend_file(&url).await {
                Ok(expires) => expires,
                Err(ClientError::FileGone) => {
                    let Some(image) = store
                        .get(PROFILE_PICTURE)
                        .await
                        .map_err(|e| Failure::Input(e.0))?
                    else {
                        return Ok(Some(saved.profile));
                    };
                    let uploaded = client
                        .upload_file(image.as_slice(), Domain::ProfilePicture, None, &|_, _| {})
                        .await?;
                    saved.profile.picture = Some(ProfilePicture {
                        url: uploaded.url.to_url(),
                        key: hex::encode(uploaded.key),
                    });
                    uploaded.expires_ms
                }
                Err(e) => return Err(e.into()),
            };
            save_profile(client, &saved).await?;
        }
    }
    Ok(Some(saved.profile))
}

/// Our profile as the home keeps it.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct SavedProfile {
    profile: Profile,
    /// When the file server lets the picture go (ms since the epoch).
    #[serde(default)]
    picture_expires_ms: u64,
}

fn client_store(client: &NativeClient) -> &DirStore {
    client.store()
}

async fn save_profile(client: &NativeClient, saved: &SavedProfile) -> Result<()> {
    let bytes = serde_json::to_vec(saved).map_err(|e| Failure::Input(e.to_string()))?;
    client_store(client)
        .put(PROFILE, bytes)
        .await
        .map_err(|e| Failure::Input(e.0))
}

/// `murmur profile set`: a display name, and a picture (uploaded, metadata stripped) or none.
pub fn profile_set(
    common: &Common,
    name: Option<&str>,
    picture: Option<&Path>,
    remove_picture: bool,
) -> Result<()> {
    let name = match name {
        Some(n) => Some(
            murmur_core::message::content::display_name(n)
                .ok_or_else(|| Failure::Input("the name is empty once cleaned".into()))?,
        ),
        None => None,
    };
    let picture_bytes = picture
        .map(murmur_cli::files::read_picture)
        .transpose()
        .map_err(Failure::Input)?;
    let home = home(common);
    let client = client(common, &home, home.identity().map_err(Failure::Input)?)?;
    let runtime = runtime()?;
    runtime.block_on(async {
        let store = client_store(&client);
        let mut saved = match store.get(PROFILE).await.map_err(|e| Failure::Input(e.0))? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map_err(|_| Failure::Input("the saved profile is damaged".into()))?,
            None => SavedProfile {
                profile: Profile::default(),
                picture_expires_ms: 0,
            },
        };
        if name.is_some() {
            saved.profile.name = name;
        }
        if remove_picture {
            saved.profile.picture = None;
        }
        if let Some(bytes) = picture_bytes {
            client.ready().await?;
            let uploaded = client
                .upload_file(bytes.as_slice(), Domain::ProfilePicture, None, &|_, _| {})
                .await?;
            store
                .put(PROFILE_PICTURE, bytes)
                .await
                .map_err(|e| Failure::Input(e.0))?;
            saved.profile.picture = Some(ProfilePicture {
                url: uploaded.url.to_url(),
                key: hex::encode(uploaded.key),
            });
            saved.picture_expires_ms = uploaded.expires_ms;
        }
        saved.profile.updated_s = Some(client.network_now_ms() / 1000);
        save_profile(&client, &saved).await?;
        print_profile(&saved.profile, false);
        Ok(())
    })
}

fn print_profile(profile: &Profile, json: bool) {
    if json {
        println!(
            "{}",
            json!({ "name": profile.name, "picture": profile.picture.as_ref().map(|p| &p.url) })
        );
    } else {
        println!(
            "name: {}",
            profile
                .name
                .as_deref()
                .map_or_else(|| "(none)".into(), printable)
        );
        println!(
            "picture: {}",
            if profile.picture.is_some() {
                "set"
            } else {
                "none"
            }
        );
    }
}

/// `murmur profile show`.
pub fn profile_show(common: &Common, json: bool) -> Result<()> {
    let home = home(common);
    let store = home.store().map_err(Failure::Input)?;
    let profile = runtime()?.block_on(async {
        Ok::<_, Failure>(
            match store.get(PROFILE).await.map_err(|e| Failure::Input(e.0))? {
                Some(bytes) => {
                    serde_json::from_slice::<SavedProfile>(&bytes)
                        .map_err(|_| Failure::Input("the saved profile is damaged".into()))?
                        .profile
                }
                None => Profile::default(),
            },
        )
    })?;
    print_profile(&profile, json);
    Ok(())
}

/// Store key under which a received message's attachments are kept, for `attachment get`.
fn attachments_key(hash: &str) -> String {
    let safe: String = hash
        .chars()
        .filter_map(|c| match c {
            '+' => Some('-'),
            '/' => Some('_'),
            '=' => None,
            c => Some(c),
        })
        .collect();
    format!("attachments.{safe}")
}

/// `murmur attachment get`: downloads, checks and decrypts attachment `index` of the received
/// message `hash` to `out`.
pub fn attachment_get(common: &Common, hash: &str, index: usize, out: &Path) -> Result<()> {
    let home = home(common);
    let client = client(common, &home, home.identity().map_err(Failure::Input)?)?;
    let runtime = runtime()?;
    runtime.block_on(async {
        let saved = client_store(&client)
            .get(&attachments_key(hash))
            .await
            .map_err(|e| Failure::Input(e.0))?
            .ok_or_else(|| {
                Failure::Input(format!(
                    "no received message {hash} with files (run `murmur inbox` first)"
                ))
            })?;
        let attachments: Vec<Attachment> = serde_json::from_slice(&saved)
            .map_err(|_| Failure::Input("the saved attachments are damaged".into()))?;
        let attachment = attachments.get(index).ok_or_else(|| {
            Failure::Input(format!(
                "the message has {} file(s); index {index} is not one",
                attachments.len()
            ))
        })?;
        let (Some(url), Some(key)) = (attachment.file_url(), attachment.key_bytes()) else {
            return Err(Failure::Input("the saved attachment is damaged".into()));
        };
        // Nothing of a message request is downloaded before it is accepted.
        if let Some(entry) = index::entry(client_store(&client), hash).await {
            let contacts = Contacts::load(client_store(&client))
                .await
                .map_err(Failure::Input)?;
            if entry.conversation.starts_with("05") && !contacts.is_accepted(&entry.conversation) {
                return Err(Failure::Input(format!(
                    "this is a message request: accept it first (murmur requests --accept {})",
                    entry.conversation
                )));
            }
        }
        client.ready().await?;
        let mut sink = DiskSink::create(out).map_err(Failure::Input)?;
        let progress = |done: u64, total: u64| {
            eprint!("\rdownloading: {}%", done * 100 / total.max(1));
        };
        match client
            .download_file(&url, &key, attachment.size, &mut sink, &progress)
            .await
        {
            Ok(()) => {
                eprintln!();
                sink.finish().map_err(Failure::Input)?;
                println!("saved {} bytes to {}", attachment.size, out.display());
                Ok(())
            }
            Err(e) => {
                eprintln!();
                sink.abandon();
                Err(e.into())
            }
        }
    })
}

/// Text for a terminal: control characters (escape sequences) are shown, not obeyed.
pub(crate) fn printable(text: &str) -> String {
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

/// The hashes of the messages a reply or reaction is about, where this home has them.
#[derive(Debug, Default)]
struct About {
    reply_to: Option<String>,
    reacted_to: Option<String>,
    unsent: Option<String>,
    /// From someone not accepted yet: a message request.
    request: bool,
    /// Whether it would notify: not a request; in a group, as the group's notifications and
    /// mute say (`group mute`).
    notify: bool,
}

/// A read receipt or typing indicator from `m`'s sender, printed when the user has them on.
async fn print_signal(store: &DirStore, m: &Incoming, settings: Settings, own: &str, json: bool) {
    if let Some(t) = m.extras.typing
        && settings.typing_indicators
    {
        if json {
            println!(
                "{}",
                json!({"from": m.from.to_string(), "sent_ms": m.sent_ms, "typing": t.started})
            );
        } else if t.started {
            println!("{} is typing…", m.from);
        }
    }
    if !m.extras.read.is_empty() && settings.read_receipts {
        let hashes = index::ours_to(store, own, &m.from.to_string(), &m.extras.read).await;
        if json {
            println!(
                "{}",
                json!({"from": m.from.to_string(), "sent_ms": m.sent_ms, "read": hashes})
            );
        } else {
            for h in hashes {
                println!("{} read {h}", m.from);
            }
        }
    }
}

fn from_of(m: &Incoming) -> String {
    m.from.to_string()
}

/// A group deletion of messages this home had shown: who, and which.
fn print_deleted(m: &Incoming, hashes: &[String], json: bool) {
    let group = m.group.map(|g| g.to_hex()).unwrap_or_default();
    if json {
        println!(
            "{}",
            json!({"from": m.from.to_string(), "group": group, "sent_ms": m.sent_ms,
                   "hash": m.hash, "notice": true, "deleted": hashes})
        );
    } else {
        for h in hashes {
            println!(
                "[{}] {} in group {group} deleted message {h} for everyone",
                m.sent_ms, m.from
            );
        }
    }
}

/// Deletes the message `r` names (its author asked: the poll checked the request came from
/// them) from our swarm and this home; its hash, if this home had it.
async fn forget_unsent(client: &NativeClient, store: &DirStore, r: &MessageRef) -> Option<String> {
    let hash = index::hash_of(store, r).await?;
    let entry = index::forget(store, &hash).await.ok().flatten();
    let _ = store.remove(&attachments_key(&hash));
    let mut hashes = vec![hash.clone()];
    hashes.extend(entry.and_then(|e| e.sync_hash));
    client.delete_from_own_swarm(hashes).await;
    Some(hash)
}

impl About {
    async fn of(store: &DirStore, extras: &Extras) -> Self {
        let hash = async |r: Option<&MessageRef>| match r {
            Some(r) => index::hash_of(store, r).await,
            None => None,
        };
        Self {
            reply_to: hash(extras.quote.as_ref().map(|q| &q.to)).await,
            reacted_to: hash(extras.reaction.as_ref().map(|r| &r.to)).await,
            unsent: None,
            request: false,
            notify: true,
        }
    }
}

fn print_message(
    m: &Incoming,
    own: &SessionId,
    from_name: Option<&str>,
    about: &About,
    json: bool,
) {
    if json {
        let files: Vec<_> = m
            .attachments
            .iter()
            .enumerate()
            .map(|(i, a)| {
                json!({
                    "index": i,
                    "name": a.file_name,
                    "size": a.size,
                    "content_type": a.content_type,
                    "id": a.file_url().map(|u| u.parts[0].clone()),
                })
            })
            .collect();
        println!(
            "{}",
            json!({
                "from": m.from.to_string(), "from_name": from_name, "text": m.text,
                "sent_ms": m.sent_ms, "hash": m.hash, "attachments": files,
                "protocol": m.protocol.as_str(), "group": m.group.map(|g| g.to_hex()),
                "notice": m.notice,
                "reply_to": m.extras.quote.as_ref().map(|q| json!({
                    "hash": about.reply_to, "sent_ms": q.to.sent_ms,
                    "author": q.to.author.to_string(), "text": q.text,
                })),
                "reaction": m.extras.reaction.as_ref().map(|r| json!({
                    "hash": about.reacted_to, "sent_ms": r.to.sent_ms,
                    "author": r.to.author.to_string(), "emoji": r.emoji, "remove": r.remove,
                })),
                "unsend": m.extras.unsend.as_ref().map(|r| json!({
                    "hash": about.unsent, "sent_ms": r.sent_ms,
                })),
                "request": about.request, "request_accepted": m.extras.request_accepted,
                "mentions_me": murmur_core::client::groups::mentions(&m.text, own),
                "notify": about.notify,
            })
        );
    } else {
        let from = match from_name {
            Some(name) => format!("{} ({})", printable(name), m.from),
            None => m.from.to_string(),
        };
        let place = m
            .group
            .map(|g| format!(" in group {}", g.to_hex()))
            .unwrap_or_default();
        if m.notice {
            println!("[{}] {from}{place} {}", m.sent_ms, printable(&m.text));
            return;
        }
        let which =
            |hash: &Option<String>| hash.clone().unwrap_or_else(|| "a message not here".into());
        if m.extras.request_accepted {
            println!("[{}] {from} accepted your message request", m.sent_ms);
            return;
        }
        if about.request {
            println!(
                "[{}] message request from {from}: {} (murmur requests --accept {} or --decline)",
                m.sent_ms,
                printable(&m.text),
                m.from
            );
            return;
        }
        if m.extras.unsend.is_some() {
            println!(
                "[{}] {from}{place} deleted their message {} for everyone",
                m.sent_ms,
                which(&about.unsent)
            );
            return;
        }
        if let Some(r) = &m.extras.reaction {
            let verb = if r.remove { "took back" } else { "reacted" };
            println!(
                "[{}] {from}{place} {verb} {} on {}",
                m.sent_ms,
                printable(&r.emoji),
                which(&about.reacted_to)
            );
            return;
        }
        if m.extras.quote.is_some() {
            println!("    (replying to {})", which(&about.reply_to));
        }
        println!("[{}] {from}{place}: {}", m.sent_ms, printable(&m.text));
        for (i, a) in m.attachments.iter().enumerate() {
            println!(
                "    file {i}: {} ({}, {} bytes) — murmur attachment get --hash {} --index {i} --out FILE",
                printable(a.file_name.as_deref().unwrap_or("unnamed")),
                a.content_type,
                a.size,
                m.hash
            );
        }
    }
}

/// Keeps what `murmur inbox` shows later commands need: a message's files (for `attachment
/// get`) and the sender's newest display name.
async fn remember(store: &DirStore, m: &Incoming) -> Option<String> {
    if !m.attachments.is_empty()
        && let Ok(bytes) = serde_json::to_vec(&m.attachments)
    {
        let _ = store.put(&attachments_key(&m.hash), bytes).await;
    }
    let key = format!("contact.{}", m.from);
    if let Some(name) = m.profile.as_ref().and_then(|p| p.name.clone()) {
        let _ = store.put(&key, name.clone().into_bytes()).await;
        return Some(name);
    }
    store
        .get(&key)
        .await
        .ok()
        .flatten()
        .and_then(|b| String::from_utf8(b).ok())
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
    let store = home.store().map_err(Failure::Input)?;
    let show = async |messages: Vec<Incoming>| {
        // Sync copies of our own sent messages are history for other devices, not inbox.
        let seen: Vec<_> = messages
            .iter()
            .filter(|m| !m.notice && !m.extras.is_control())
            .map(|m| {
                let conversation = match (m.group, m.sync_target) {
                    (Some(g), _) => g.to_hex(),
                    (None, Some(to)) => to.to_string(),
                    (None, None) => m.from.to_string(),
                };
                let entry = Entry {
                    author: m.from.to_string(),
                    sent_ms: m.sent_ms,
                    expires_ms: m.expires_ms,
                    conversation,
                    sync_hash: None,
                };
                (m.hash.clone(), entry)
            })
            .collect();
        let _ = index::record(&store, seen, client.network_now_ms()).await;
        // Whether group messages notify: the groups read once for the batch.
        let groups = if messages.iter().any(|m| m.group.is_some()) {
            client.groups().await.unwrap_or_default()
        } else {
            Vec::new()
        };
        let now_s = (client.network_now_ms() / 1000) as i64;
        let mut contacts = match Contacts::load(&store).await {
            Ok(c) => c,
            Err(e) => {
                eprintln!("murmur: {e}; every sender is shown as a request");
                Contacts::default()
            }
        };
        let settings = Settings::load(&store).await.unwrap_or_default();
        // What we read, per sender, for read receipts (when they are on).
        let mut read: BTreeMap<SessionId, Vec<u64>> = BTreeMap::new();
        for m in &messages {
            // A message its author deleted for everyone: gone from our swarm and this home.
            let unsent = match &m.extras.unsend {
                Some(r) => forget_unsent(&client, &store, r).await,
                None => None,
            };
            if !m.extras.read.is_empty() || m.extras.typing.is_some() {
                // Receipts and typing: shown only when this user turned them on.
                if m.from != own {
                    print_signal(&store, m, settings, &own.to_string(), json).await;
                }
                continue;
            }
            if let Some(deletion) = &m.extras.group_deletion {
                // In a group: an admin's order takes any message, a member's its own only.
                let mut gone = Vec::new();
                for h in &deletion.hashes {
                    let Some(entry) = index::entry(&store, h).await else {
                        continue;
                    };
                    if deletion.by_admin || entry.author == from_of(m) {
                        let _ = index::forget(&store, h).await;
                        let _ = store.remove(&attachments_key(h));
                        gone.push(h.clone());
                    }
                }
                if !gone.is_empty() {
                    print_deleted(m, &gone, json);
                }
                continue;
            }
            let from = m.from.to_string();
            if m.from == own {
                // Sync copies of our own sent messages are history for other devices; whom
                // they went to is a contact here too.
                if let (None, Some(to)) = (m.group, m.sync_target) {
                    contacts.accept(&to.to_string());
                }
                continue;
            }
            let direct = m.group.is_none() && !m.notice;
            if direct && contacts.is_blocked(&from) {
                // Deleted unread.
                let _ = index::forget(&store, &m.hash).await;
                client.delete_from_own_swarm(vec![m.hash.clone()]).await;
                continue;
            }
            let request = direct && !m.extras.is_control() && !contacts.is_accepted(&from);
            if request {
                contacts.note_request(&from, m.sent_ms);
            } else if direct && !m.extras.is_control() {
                read.entry(m.from).or_default().push(m.sent_ms);
            }
            let name = remember(&store, m).await;
            let mut about = About::of(&store, &m.extras).await;
            about.unsent = unsent;
            about.request = request;
            about.notify = !request
                && m.group.is_none_or(|id| {
                    groups
                        .iter()
                        .find(|g| g.id == id)
                        .is_none_or(|g| g.notifies(&m.text, &own, now_s))
                });
            print_message(m, &own, name.as_deref(), &about, json);
        }
        if let Err(e) = contacts.save(&store).await {
            eprintln!("murmur: cannot save contacts: {e}");
        }
        if settings.read_receipts {
            for (to, times) in read {
                if let Err(e) = client.send_read_receipt(&to, times).await {
                    eprintln!("murmur: a read receipt could not be sent ({e})");
                }
            }
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
            show(client.poll().await?).await;
            show(client.poll_groups().await?).await;
            return Ok(());
        }
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        // A full poll first (two members, merged), then live steps.
        let mut polled = false;
        loop {
            let step = async {
                let step = if how.live && polled {
                    client.live().await
                } else {
                    client.poll().await.map(Step::Polled)
                };
                // Groups are read after each step (their swarms hold no waits for us).
                match client.poll_groups().await {
                    Ok(messages) => show(messages).await,
                    Err(e) => eprintln!("murmur: reading groups failed ({e}); retrying"),
                }
                step
            };
            let step = tokio::select! {
                _ = &mut ctrl_c => return Ok(()),
                step = step => step,
            };
            let pause = match step {
                Ok(Step::Waited(messages)) => {
                    show(messages).await;
                    false
                }
                Ok(Step::Polled(messages)) => {
                    show(messages).await;
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

/// How a message was protected, in words.
fn protection(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::V2Pfs => "forward secret, post-quantum",
        Protocol::V2NoPfs => "not forward secret",
        Protocol::V1 => "classic (v1)",
    }
}

/// `murmur keys`: this device's protocol v2 keys and device group (founding it, rotating and
/// publishing as due).
pub fn keys_show(common: &Common, json: bool) -> Result<()> {
    let home = home(common);
    let client = client(common, &home, home.identity().map_err(Failure::Input)?)?;
    let status = runtime()?.block_on(client.maintain_v2())?;
    warn_about_network(&client);
    let v2_only = home.v2_only();
    match status {
        V2Status::Member {
            group_id,
            devices,
            key_created_s,
            next_rotation_s,
            published,
        } => {
            if json {
                println!(
                    "{}",
                    json!({
                        "status": "member", "group": hex::encode(group_id), "devices": devices,
                        "key_created_s": key_created_s, "next_rotation_s": next_rotation_s,
                        "published": published, "v2_only": v2_only,
                    })
                );
            } else {
                println!(
                    "device group {} ({devices} device(s))",
                    hex::encode(group_id)
                );
                println!(
                    "account key made at {key_created_s}, next rotation at {next_rotation_s}; {}",
                    if published {
                        "published: senders use forward-secret, post-quantum v2"
                    } else {
                        "not yet published"
                    }
                );
                println!("v2 only: {}", if v2_only { "on" } else { "off" });
            }
        }
        other => {
            let (status, words) = match other {
                V2Status::Unlinked => (
                    "unlinked",
                    "this account has a device group on another device: link this device from it",
                ),
                V2Status::Off => ("off", "this client does not publish keys"),
                _ => ("not_yet", "no device group yet"),
            };
            if json {
                println!("{}", json!({ "status": status, "v2_only": v2_only }));
            } else {
                println!("{words}");
            }
        }
    }
    Ok(())
}

/// A device named on the command line: a prefix (8 or more hex characters) of its ID that
/// matches exactly one of `ids`.
fn pick_device(prefix: &str, ids: impl Iterator<Item = [u8; 32]>) -> Result<[u8; 32]> {
    let prefix = prefix.to_ascii_lowercase();
    if prefix.len() < 8 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Failure::Input(
            "name a device by 8 or more hex characters of its ID".into(),
        ));
    }
    let matches: Vec<[u8; 32]> = ids
        .filter(|id| hex::encode(id).starts_with(&prefix))
        .collect();
    match matches.as_slice() {
        [one] => Ok(*one),
        [] => Err(Failure::Input(format!("no device {prefix}…"))),
        _ => Err(Failure::Input(format!(
            "{prefix}… names more than one device"
        ))),
    }
}

/// Asks on stdin; true only for "yes".
fn confirm(question: &str) -> Result<bool> {
    eprint!("{question} [yes/no] ");
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Failure::Input(format!("cannot read the answer: {e}")))?;
    Ok(answer.trim().eq_ignore_ascii_case("yes"))
}

/// `murmur devices list`.
pub fn devices_list(common: &Common, json: bool) -> Result<()> {
    let home = home(common);
    let client = client(common, &home, home.identity().map_err(Failure::Input)?)?;
    let runtime = runtime()?;
    runtime.block_on(client.maintain_v2())?;
    let devices = runtime.block_on(client.devices())?;
    warn_about_network(&client);
    for d in &devices {
        let state = match d.state {
            DeviceState::Pending => "pending",
            DeviceState::Registered => "member",
            DeviceState::Left => "left",
            DeviceState::Kicked => "removed",
        };
        if json {
            println!(
                "{}",
                json!({
                    "id": hex::encode(d.id), "state": state, "description": d.description,
                    "kind": d.kind, "version": d.version, "at": d.at, "this_device": d.this_device,
                })
            );
        } else {
            println!(
                "{}  {state:<8} {} {}{}",
                &hex::encode(d.id)[..16],
                printable(&d.description),
                printable(&d.kind),
                if d.this_device { "  (this device)" } else { "" }
            );
        }
    }
    if devices.is_empty() && !json {
        println!("this device is in no device group (`murmur keys show`)");
    }
    Ok(())
}

/// `murmur devices link`: asks the account's device group to take this device in.
pub fn devices_link(common: &Common, yes: bool, wait_s: u64) -> Result<()> {
    let home = home(common);
    let client = client(common, &home, home.identity().map_err(Failure::Input)?)?;
    let runtime = runtime()?;
    if let V2Status::Member { .. } = runtime.block_on(client.maintain_v2())? {
        return Err(Failure::Input(
            "this device is in its account's device group already".into(),
        ));
    }
    let started = runtime.block_on(client.link_device())?;
    warn_about_network(&client);
    println!(
        "Link request sent. On a device of this account run `murmur devices requests` (or \
         open Settings in the app) and accept this device only if it shows these emoji:"
    );
    println!("    {}", started.emoji);
    if !yes && !confirm("Does the other device show the same emoji?")? {
        return Err(Failure::Input("link cancelled".into()));
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(wait_s);
    loop {
        if runtime.block_on(client.link_accepted())? {
            println!("linked: this device is in the device group; it reads v2 messages now");
            return Ok(());
        }
        if std::time::Instant::now() >= deadline {
            return Err(Failure::Network(
                "not accepted yet (a request lasts 10 minutes): run `murmur devices link` again"
                    .into(),
            ));
        }
        std::thread::sleep(std::time::Duration::from_secs(2));
    }
}

/// `murmur devices requests`: devices asking to join, with their emoji.
pub fn devices_requests(common: &Common, json: bool) -> Result<()> {
    let home = home(common);
    let client = client(common, &home, home.identity().map_err(Failure::Input)?)?;
    let requests = runtime()?.block_on(client.link_requests())?;
    warn_about_network(&client);
    for r in &requests {
        if json {
            println!(
                "{}",
                json!({
                    "id": hex::encode(r.id), "description": r.description, "kind": r.kind,
                    "at": r.at, "emoji": r.emoji,
                })
            );
        } else {
            println!(
                "{}  {} {}  asked at {}  {}",
                &hex::encode(r.id)[..16],
                printable(&r.description),
                printable(&r.kind),
                r.at,
                r.emoji
            );
        }
    }
    if requests.is_empty() && !json {
        println!("no device is asking to join");
    }
    Ok(())
}

/// `murmur devices accept ID`.
pub fn devices_accept(common: &Common, id: &str, yes: bool) -> Result<()> {
    let home = home(common);
    let client = client(common, &home, home.identity().map_err(Failure::Input)?)?;
    let runtime = runtime()?;
    let requests = runtime.block_on(client.link_requests())?;
    let device = pick_device(id, requests.iter().map(|r| r.id))?;
    let request = requests
        .iter()
        .find(|r| r.id == device)
        .expect("picked from these");
    println!("{}", request.emoji);
    if !yes && !confirm("Does the new device show these same emoji?")? {
        return Err(Failure::Input("not accepted".into()));
    }
    runtime.block_on(client.accept_device(&device))?;
    println!("accepted: the device joins when it next checks");
    Ok(())
}

/// `murmur devices remove ID`: it reads nothing sealed after this.
pub fn devices_remove(common: &Common, id: &str) -> Result<()> {
    let home = home(common);
    let client = client(common, &home, home.identity().map_err(Failure::Input)?)?;
    let runtime = runtime()?;
    let devices = runtime.block_on(client.devices())?;
    let device = pick_device(
        id,
        devices
            .iter()
            .filter(|d| !d.this_device && d.state == DeviceState::Registered)
            .map(|d| d.id),
    )?;
    runtime.block_on(client.remove_device(&device))?;
    println!("removed; a new account key is published: that device reads nothing sent from now on");
    Ok(())
}

/// `murmur keys set --v2-only on|off`.
pub fn keys_set(common: &Common, v2_only: bool) -> Result<()> {
    home(common).set_v2_only(v2_only).map_err(Failure::Input)?;
    println!(
        "v2 only: {}",
        if v2_only {
            "on (recipients without published keys get v2 without forward secrecy, never v1)"
        } else {
            "off (recipients without published keys get v1)"
        }
    );
    Ok(())
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
