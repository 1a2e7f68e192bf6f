//! Groups v2 for the client (SESSION-GROUPS.md §10, as Session Desktop performs it): create,
//! invite, accept or decline, read and write, remove (rekey + revoke + kicked notice), promote,
//! rename, leave, delete for everyone.
//!
//! Each group this account knows is a [`Record`] in the store (key [`KEY_GROUPS`]): the
//! group's seed for an admin or the auth data an admin issued for a member, the group keys
//! read so far, and the Info and Members config messages last merged. What a member reads from
//! the group's swarm is checked by the member itself: key messages and configs must carry the
//! group key's signature, admin notices too, and every message its sender's; a node (or a
//! member with a write token) can make a member read nothing, never something an admin did
//! not sign.
//!
//! `admin` is what admins do, `member` what every member does, `read` how a group is read,
//! `user_groups` the account's list of groups for its other devices.
//!
//! Behind core's `groups-client` feature (the CLI turns it on): the web app does not carry it
//! yet (the wasm budget).

use std::collections::BTreeMap;

use ed25519_dalek::VerifyingKey;
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

mod admin;
mod member;
mod picture;
mod read;
mod user_groups;

use super::engine::Client;
use super::error::{ClientError, ClientResult};
use super::platform::{Clock, Store, Transport};
use crate::SessionId;
use crate::config::message::{ConfigMessage, Hash, hash};
use crate::crypto;
use crate::groups::control::{self};
use crate::groups::info::{Info, Member, read_members};
use crate::groups::keys::GroupKey;
use crate::groups::{GroupKeys, auth};
use crate::rpc::{AccountId, Namespace, Request};

/// Group messages and control messages.
pub const NAMESPACE_MESSAGES: Namespace = Namespace(11);
/// Key messages.
pub const NAMESPACE_KEYS: Namespace = Namespace(12);
/// The Info config.
pub const NAMESPACE_INFO: Namespace = Namespace(13);
/// The Members config.
pub const NAMESPACE_MEMBERS: Namespace = Namespace(14);
/// Kicked notices (readable with a revoked token).
pub const NAMESPACE_KICKED: Namespace = Namespace(-11);
/// Keys, configs and kicked notices are kept 30 days (Session Desktop's TTL for them).
const CONFIG_TTL_MS: u64 = 30 * 24 * 3600 * 1000;
/// Where the records live in the client's store.
pub const KEY_GROUPS: &str = "groups";
/// Most groups one account keeps.
const MAX_GROUPS: usize = 500;
/// Swarm members each group read merges (one lying member hides nothing).
const READ_MEMBERS: usize = 2;
/// Most pages read per namespace and member in one poll.
const MAX_PAGES: usize = 10;

/// Where this account stands in a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupStatus {
    /// Invited: nothing is read from the group before the user accepts.
    Invited,
    Joined,
    /// Removed by an admin (a kicked notice named us).
    Removed,
    /// Deleted for everyone by an admin.
    Destroyed,
}

impl GroupStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invited => "invited",
            Self::Joined => "joined",
            Self::Removed => "removed",
            Self::Destroyed => "destroyed",
        }
    }
}

/// How a group's messages notify, as Session's UserGroups config keeps it (`@`), shared by
/// the account's devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GroupNotifications {
    /// Every message (Session: `@` absent, or 1).
    #[default]
    All,
    /// Only messages that mention us (`@05…` in the text; Session: 3).
    MentionsOnly,
    /// None (Session: 2).
    Off,
}

impl GroupNotifications {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::MentionsOnly => "mentions",
            Self::Off => "off",
        }
    }

    /// Session's `@` value (`None`: the default, written as absent).
    fn code(self) -> Option<i64> {
        match self {
            Self::All => None,
            Self::MentionsOnly => Some(3),
            Self::Off => Some(2),
        }
    }

    fn from_code(code: Option<i64>) -> Self {
        match code {
            Some(2) => Self::Off,
            Some(3) => Self::MentionsOnly,
            _ => Self::All,
        }
    }
}

/// Whether `text` mentions `who`: Session's clients write a mention as `@` and the Session ID.
pub fn mentions(text: &str, who: &SessionId) -> bool {
    text.contains(&format!("@{who}"))
}

#[derive(Clone, Serialize, Deserialize)]
struct StoredKey {
    generation: u64,
    key: String,
    timestamp_ms: u64,
}

/// One group as the store keeps it (JSON; binary values hex or base64).
#[derive(Clone, Serialize, Deserialize)]
struct Record {
    id: String,
    /// The name from the invitation (Info's once read).
    name: String,
    status: GroupStatus,
    /// An admin's group seed (hex).
    #[serde(default)]
    seed: Option<String>,
    /// A member's auth data (hex).
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    invited_by: Option<String>,
    #[serde(default)]
    keys: Vec<StoredKey>,
    /// The Info and Members config messages last merged (base64 of their signed bytes).
    #[serde(default)]
    info: Option<String>,
    #[serde(default)]
    members: Option<String>,
    /// Per namespace and swarm member (`"ns.member"`), the last message hash read.
    #[serde(default)]
    last_hash: BTreeMap<String, String>,
    /// Key messages and the current configs, by hash: namespace and expiry, to keep alive.
    #[serde(default)]
    kept: BTreeMap<String, (i16, u64)>,
    /// When this account joined (unix seconds; 0 while invited).
    #[serde(default)]
    joined_s: i64,
    /// Until when the file server is known to keep the group's picture (ms; 0: not known).
    #[serde(default)]
    picture_until_ms: u64,
    /// The UserGroups `@` value (notifications) and `!` (muted until, unix seconds; 0: not),
    /// as the config last said, or as set here. A home from before these has neither: the
    /// next read of the config fills them in.
    #[serde(default)]
    notify: Option<i64>,
    #[serde(default)]
    mute_until_s: i64,
    /// Set here and not pushed yet: the config takes these values, not the other way round.
    #[serde(default)]
    notify_unpushed: bool,
}

/// What a user sees of a group.
#[derive(Debug, Clone)]
pub struct GroupSummary {
    pub id: AccountId,
    pub name: String,
    pub status: GroupStatus,
    pub admin: bool,
    pub invited_by: Option<SessionId>,
    pub info: Info,
    pub members: BTreeMap<SessionId, Member>,
    /// The newest key generation held (`None`: no key yet).
    pub generation: Option<u64>,
    pub notifications: GroupNotifications,
    /// Muted until this time (unix seconds), whatever `notifications` says; 0: not muted.
    pub muted_until_s: i64,
}

impl GroupSummary {
    /// Whether a message with `text` should notify us (`me`) at `now_s` (unix seconds).
    pub fn notifies(&self, text: &str, me: &SessionId, now_s: i64) -> bool {
        if self.muted_until_s > now_s {
            return false;
        }
        match self.notifications {
            GroupNotifications::All => true,
            GroupNotifications::MentionsOnly => mentions(text, me),
            GroupNotifications::Off => false,
        }
    }
}

/// Who signs requests: to a group's swarm, an admin (the group key) or a member (its
/// subaccount token); to our own swarm (the UserGroups config), our identity.
enum Signer<'a> {
    Admin(GroupKeys),
    Member(auth::Subaccount),
    Own(&'a crate::Identity),
}

impl Signer<'_> {
    fn sign(&self, request: Request) -> Request {
        match self {
            Self::Admin(g) => request.signed_by_group(g),
            Self::Member(s) => request.signed_by_subaccount(s),
            Self::Own(id) => request.signed_by(id),
        }
    }
}

/// A config message as read or held, with its hash.
type Config = (ConfigMessage, Hash);

fn bad(what: &'static str) -> ClientError {
    ClientError::Group(what)
}

impl Record {
    /// A group known by its ID only: no seed or auth, keys or configs yet.
    fn new(id: &AccountId, name: String, status: GroupStatus) -> Self {
        Self {
            id: id.to_hex(),
            name,
            status,
            seed: None,
            auth: None,
            invited_by: None,
            keys: Vec::new(),
            info: None,
            members: None,
            last_hash: BTreeMap::new(),
            kept: BTreeMap::new(),
            joined_s: 0,
            picture_until_ms: 0,
            notify: None,
            mute_until_s: 0,
            notify_unpushed: false,
        }
    }

    fn account(&self) -> AccountId {
        AccountId::parse(&self.id).expect("a record holds a checked ID")
    }

    fn group_pk(&self) -> VerifyingKey {
        control::group_key(&self.account().0).expect("a record holds a checked ID")
    }

    fn admin(&self) -> Option<GroupKeys> {
        let seed: [u8; 32] = hex::decode(self.seed.as_deref()?).ok()?.try_into().ok()?;
        Some(GroupKeys::from_seed(&seed))
    }

    fn signer<'a>(&self, me: &'a crate::Identity) -> ClientResult<Signer<'a>> {
        if let Some(g) = self.admin() {
            return Ok(Signer::Admin(g));
        }
        let auth = self
            .auth
            .as_deref()
            .and_then(|a| hex::decode(a).ok())
            .ok_or(bad("no authorisation for this group"))?;
        Ok(Signer::Member(auth::Subaccount::open(
            me,
            &self.group_pk(),
            &auth,
        )?))
    }

    /// The keys held, newest first (the order messages and configs are opened with).
    fn keys(&self) -> Vec<GroupKey> {
        let mut keys: Vec<GroupKey> = self
            .keys
            .iter()
            .filter_map(|k| {
                Some(GroupKey {
                    generation: k.generation,
                    key: hex::decode(&k.key).ok()?.try_into().ok()?,
                    timestamp_ms: k.timestamp_ms,
                })
            })
            .collect();
        keys.sort_by_key(|k| core::cmp::Reverse((k.generation, k.timestamp_ms, k.key)));
        keys
    }

    fn add_keys(&mut self, found: &[GroupKey]) -> bool {
        let mut added = false;
        for k in found {
            let key = hex::encode(k.key);
            if !self
                .keys
                .iter()
                .any(|s| s.generation == k.generation && s.key == key)
            {
                self.keys.push(StoredKey {
                    generation: k.generation,
                    key,
                    timestamp_ms: k.timestamp_ms,
                });
                added = true;
            }
        }
        added
    }

    /// Keeps a stored key or config message alive (see `read::keep_alive`).
    fn keep(&mut self, namespace: Namespace, hash: &str, expiry: u64) {
        self.kept.insert(hash.to_owned(), (namespace.0, expiry));
    }

    fn generation(&self) -> Option<u64> {
        self.keys.iter().map(|k| k.generation).max()
    }

    /// The held Info or Members message, as signed.
    fn config_bytes(&self, namespace: Namespace) -> Option<Vec<u8>> {
        let held = if namespace == NAMESPACE_INFO {
            &self.info
        } else {
            &self.members
        };
        crypto::b64_decode(held.as_deref()?).ok()
    }

    fn config(&self, namespace: Namespace) -> Option<Config> {
        let bytes = self.config_bytes(namespace)?;
        let message = ConfigMessage::parse(&bytes, Some(&self.group_pk())).ok()?;
        Some((message, hash(&bytes)))
    }

    fn set_config(&mut self, namespace: Namespace, bytes: &[u8]) {
        let slot = if namespace == NAMESPACE_INFO {
            &mut self.info
        } else {
            &mut self.members
        };
        *slot = Some(crypto::b64_encode(bytes));
    }

    fn info(&self) -> Info {
        self.config(NAMESPACE_INFO)
            .map(|(m, _)| Info::read(&m.data))
            .unwrap_or_default()
    }

    fn members(&self) -> BTreeMap<SessionId, Member> {
        self.config(NAMESPACE_MEMBERS)
            .map(|(m, _)| read_members(&m.data))
            .unwrap_or_default()
    }

    fn summary(&self) -> GroupSummary {
        let info = self.info();
        GroupSummary {
            id: self.account(),
            name: if info.name.is_empty() {
                self.name.clone()
            } else {
                info.name.clone()
            },
            status: self.status,
            admin: self.seed.is_some(),
            invited_by: self.invited_by.as_deref().and_then(|s| s.parse().ok()),
            info,
            members: self.members(),
            generation: self.generation(),
            notifications: GroupNotifications::from_code(self.notify),
            muted_until_s: self.mute_until_s,
        }
    }
}

/// A name and description within Session's limits, checked before anything is done.
fn check_info_text(name: Option<&str>, description: Option<&str>) -> ClientResult<()> {
    use crate::groups::info::{DESCRIPTION_MAX, NAME_MAX};
    if name.is_some_and(|n| n.len() > NAME_MAX || n.contains('\0')) {
        return Err(bad("a group name is at most 100 bytes"));
    }
    if description.is_some_and(|d| d.len() > DESCRIPTION_MAX || d.contains('\0')) {
        return Err(bad("a group description is at most 2000 bytes"));
    }
    Ok(())
}

impl<T: Transport, C: Clock, S: Store, R: CryptoRng> Client<T, C, S, R> {
    async fn load_groups(&self) -> ClientResult<Vec<Record>> {
        Ok(match self.store.get(KEY_GROUPS).await? {
            Some(bytes) if !bytes.is_empty() => serde_json::from_slice(&bytes)
                .map_err(|_| crate::Error::Malformed("stored groups do not parse"))?,
            _ => Vec::new(),
        })
    }

    async fn save_groups(&self, records: &[Record]) -> ClientResult<()> {
        let bytes = Zeroizing::new(serde_json::to_vec(records).expect("records serialize"));
        self.store.put(KEY_GROUPS, bytes.to_vec()).await?;
        Ok(())
    }

    async fn record(&self, group: &AccountId) -> ClientResult<Record> {
        let id = group.to_hex();
        self.load_groups()
            .await?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or(ClientError::UnknownGroup)
    }

    async fn put_record(&self, record: Record) -> ClientResult<()> {
        let mut all = self.load_groups().await?;
        all.retain(|r| r.id != record.id);
        if all.len() >= MAX_GROUPS {
            return Err(bad("this account is in too many groups"));
        }
        all.push(record);
        self.save_groups(&all).await
    }

    /// The groups this account knows, by ID.
    pub async fn groups(&self) -> ClientResult<Vec<GroupSummary>> {
        Ok(self
            .load_groups()
            .await?
            .iter()
            .map(Record::summary)
            .collect())
    }

    /// One group.
    pub async fn group(&self, group: &AccountId) -> ClientResult<GroupSummary> {
        Ok(self.record(group).await?.summary())
    }

    /// Sets how the group's messages notify, and mutes it until `muted_until_s` (unix
    /// seconds; 0: not muted). Kept in the UserGroups config, so the account's other devices
    /// follow; pushed now (an error leaves the change here, pushed with the next sync).
    pub async fn set_group_notifications(
        &self,
        group: &AccountId,
        notifications: GroupNotifications,
        muted_until_s: i64,
    ) -> ClientResult<()> {
        let mut record = self.record(group).await?;
        record.notify = notifications.code();
        record.mute_until_s = muted_until_s.max(0);
        record.notify_unpushed = true;
        self.put_record(record).await?;
        self.ready().await?;
        self.push_user_groups(&[]).await
    }

    /// Reads a group's keys, Info and Members from its swarm now.
    pub async fn refresh_group(&self, group_id: &AccountId) -> ClientResult<()> {
        self.ready().await?;
        let mut record = self.record(group_id).await?;
        self.read_group(&mut record).await?;
        self.put_record(record).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Existing users keep their groups: a record as the version before group notifications
    /// wrote it reads with every message notifying, and a mute set on it is kept.
    #[test]
    fn a_record_from_the_previous_version_notifies_and_keeps_a_mute() {
        let id = format!("03{}", "ab".repeat(32));
        let old = format!(
            r#"[{{"id":"{id}","name":"Team","status":"joined","seed":null,"auth":null,"invited_by":null,"keys":[],"info":null,"members":null,"last_hash":{{}},"kept":{{}},"joined_s":1700000000,"picture_until_ms":0}}]"#
        );
        let mut records: Vec<Record> = serde_json::from_str(&old).unwrap();
        let g = records[0].summary();
        assert_eq!(
            (g.name.as_str(), g.status, g.notifications, g.muted_until_s),
            ("Team", GroupStatus::Joined, GroupNotifications::All, 0)
        );
        records[0].notify = GroupNotifications::MentionsOnly.code();
        records[0].mute_until_s = 1_800_000_000;
        let again: Vec<Record> =
            serde_json::from_slice(&serde_json::to_vec(&records).unwrap()).unwrap();
        let g = again[0].summary();
        assert_eq!(
            (g.notifications, g.muted_until_s, again[0].joined_s),
            (
                GroupNotifications::MentionsOnly,
                1_800_000_000,
                1_700_000_000
            )
        );
    }

    #[test]
    fn notifications_follow_the_mode_the_mute_and_mentions() {
        let me: SessionId = format!("05{}", "cd".repeat(32)).parse().unwrap();
        let other: SessionId = format!("05{}", "ef".repeat(32)).parse().unwrap();
        let mut record = Record::new(
            &AccountId::parse(&format!("03{}", "ab".repeat(32))).unwrap(),
            "Team".into(),
            GroupStatus::Joined,
        );
        let mention = format!("hi @{me}");
        let other_mention = format!("hi @{other}");
        let check = |r: &Record, text: &str, now: i64| r.summary().notifies(text, &me, now);
        assert!(check(&record, "hi", 100));
        record.notify = GroupNotifications::MentionsOnly.code();
        assert!(check(&record, &mention, 100));
        assert!(!check(&record, "hi", 100));
        assert!(!check(&record, &other_mention, 100));
        record.notify = GroupNotifications::Off.code();
        assert!(!check(&record, &mention, 100));
        record.notify = None;
        record.mute_until_s = 200;
        assert!(!check(&record, &mention, 199));
        assert!(check(&record, "hi", 200), "the mute ends on time");
        // Session's codes: an unknown value reads as the default.
        assert_eq!(
            GroupNotifications::from_code(Some(1)),
            GroupNotifications::All
        );
        assert_eq!(
            GroupNotifications::from_code(Some(9)),
            GroupNotifications::All
        );
    }
}
