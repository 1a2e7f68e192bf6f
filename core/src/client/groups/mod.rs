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
//! Behind core's `groups-client` feature (the CLI turns it on): the web app does not carry it
//! yet (the wasm budget).

use std::collections::{BTreeMap, BTreeSet};

use ed25519_dalek::VerifyingKey;
use prost::Message as _;
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

mod user_groups;

use super::engine::Client;
use super::error::{ClientError, ClientResult};
use super::messaging::{Incoming, Sent};
use super::platform::{Clock, Store, Transport};
use super::v2::Protocol;
use crate::SessionId;
use crate::config::merge::{Merged, merge};
use crate::config::message::{ConfigMessage, Hash, hash};
use crate::config::{Data, seal};
use crate::crypto;
use crate::groups::control::{self, GroupUpdateMessage};
use crate::groups::info::{Info, Member, Pending, read_members, write_members};
use crate::groups::keys::{self, GroupKey, Reader};
use crate::groups::{GroupKeys, auth, kicked, message as group_message};
use crate::message::{Body, Content, message_content};
use crate::network::ManifestNode;
use crate::rpc::response::RetrieveResponse;
use crate::rpc::rules::RETRIEVE_MAX_COUNT;
use crate::rpc::{
    AccountId, DeleteAllParams, ExpireParams, Namespace, Request, RetrieveParams, RevokeParams,
    TTL_MAXIMUM_MS, TTL_MINIMUM_MS,
};

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
    /// Per swarm member, the last message hash read from namespace 11.
    #[serde(default)]
    last_hash: BTreeMap<String, String>,
    /// When this account joined (unix seconds; 0 while invited).
    #[serde(default)]
    joined_s: i64,
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

/// A control message as the members read it (its sender shown beside it), if it is one they
/// are shown: members added, removed or promoted, the name or timer changed, someone left.
fn notice_text(update: &GroupUpdateMessage) -> Option<String> {
    let ids = |ids: &[String]| ids.join(", ");
    if let Some(m) = &update.member_change_message {
        let who = ids(&m.member_session_ids);
        return Some(match m.r#type {
            control::MEMBERS_ADDED if m.history_shared == Some(true) => {
                format!("added {who} (with the group's history)")
            }
            control::MEMBERS_ADDED => format!("added {who}"),
            control::MEMBERS_REMOVED => format!("removed {who}"),
            control::MEMBERS_PROMOTED => format!("made {who} an admin"),
            _ => return None,
        });
    }
    if let Some(m) = &update.info_change_message {
        return Some(match m.r#type {
            control::INFO_NAME => format!(
                "renamed the group to \u{2068}{}\u{2069}",
                m.updated_name.as_deref().unwrap_or_default()
            ),
            control::INFO_AVATAR => "changed the group's picture".into(),
            control::INFO_DISAPPEARING => match m.updated_expiration {
                Some(s) if s > 0 => format!("set messages to disappear after {s} s"),
                _ => "turned off disappearing messages".into(),
            },
            _ => return None,
        });
    }
    update
        .member_left_notification_message
        .is_some()
        .then(|| "left the group".into())
}

/// A group message's time checks, as for direct messages: kept as long as any swarm may keep
/// it, due at its signed time plus its timer.
fn due_ms(sent_ms: u64, timer_s: Option<u32>, expiration: u64) -> u64 {
    let kept_until = sent_ms.saturating_add(TTL_MAXIMUM_MS);
    match timer_s {
        Some(s) => sent_ms.saturating_add((u64::from(s) * 1000).min(TTL_MAXIMUM_MS)),
        None => expiration.min(kept_until),
    }
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

    /// Reads a group's keys, Info and Members from its swarm now.
    pub async fn refresh_group(&self, group_id: &AccountId) -> ClientResult<()> {
        self.ready().await?;
        let mut record = self.record(group_id).await?;
        self.read_group(&mut record).await?;
        self.put_record(record).await
    }

    /// Creates a group named `name` (this account its admin) and invites `members`. Returns
    /// the group's ID and the members whose invitation could not be sent.
    pub async fn create_group(
        &self,
        name: &str,
        description: &str,
        members: &[SessionId],
    ) -> ClientResult<(AccountId, Vec<SessionId>)> {
        let own = self.identity.session_id();
        let invitees: BTreeSet<SessionId> = members.iter().copied().filter(|m| *m != own).collect();
        if invitees.len() + 1 > crate::groups::info::MEMBERS_MAX {
            return Err(bad("a group has at most 100 members"));
        }
        check_info_text(Some(name), Some(description))?;
        self.ready().await?;
        let mut seed = Zeroizing::new([0u8; 32]);
        self.rng.borrow_mut().fill_bytes(seed.as_mut());
        let group = GroupKeys::from_seed(&seed);
        let account = AccountId(group.group_id());
        let now = self.network_now_ms();
        let info = Info {
            name: name.to_owned(),
            description: description.to_owned(),
            created_s: i64::try_from(now / 1000).unwrap_or(i64::MAX),
            ..Info::default()
        };
        let mut info_data = Data::new();
        info.write(&mut info_data)?;
        let mut roster = BTreeMap::new();
        roster.insert(
            own,
            Member {
                admin: true,
                ..Member::default()
            },
        );
        for m in &invitees {
            roster.insert(
                *m,
                Member {
                    invite: Some(Pending::NotSent),
                    ..Member::default()
                },
            );
        }
        let mut members_data = Data::new();
        write_members(&mut members_data, &roster)?;
        let mut record = Record {
            id: account.to_hex(),
            name: name.to_owned(),
            status: GroupStatus::Joined,
            seed: Some(hex::encode(seed.as_ref())),
            auth: None,
            invited_by: None,
            keys: Vec::new(),
            info: None,
            members: None,
            last_hash: BTreeMap::new(),
            joined_s: i64::try_from(now / 1000).unwrap_or(0),
        };
        // Kept before anything is pushed: a failure half way leaves a group we can finish.
        self.put_record(record.clone()).await?;
        self.rekey(&mut record, &group, &roster).await?;
        self.push_config(&mut record, &group, NAMESPACE_INFO, info_data)
            .await?;
        self.push_config(&mut record, &group, NAMESPACE_MEMBERS, members_data)
            .await?;
        self.put_record(record).await?;
        let failed = self.send_invites(&account, &invitees).await?;
        // Best effort: the next poll pushes what did not go now.
        let _ = self.push_user_groups(&[]).await;
        Ok((account, failed))
    }

    /// Pushes a new key for `roster`'s members (not those marked removed), one generation up.
    async fn rekey(
        &self,
        record: &mut Record,
        group: &GroupKeys,
        roster: &BTreeMap<SessionId, Member>,
    ) -> ClientResult<()> {
        let generation = record.generation().map_or(0, |g| g + 1);
        let ids: Vec<SessionId> = roster
            .iter()
            .filter(|(_, m)| m.removed.is_none())
            .map(|(id, _)| *id)
            .collect();
        let now = self.network_now_ms();
        let made = keys::rekey(group, &ids, generation, now);
        let sign = |r: Request| r.signed_by_group(group);
        self.store_at(
            &record.account(),
            NAMESPACE_KEYS,
            &made.message,
            now,
            CONFIG_TTL_MS,
            &sign,
        )
        .await?;
        record.add_keys(&[made.key]);
        Ok(())
    }

    /// Signs, seals and pushes the next Info or Members message holding `data`.
    async fn push_config(
        &self,
        record: &mut Record,
        group: &GroupKeys,
        namespace: Namespace,
        data: Data,
    ) -> ClientResult<()> {
        let (current, current_hash) = record.config(namespace).unwrap_or_else(|| {
            let empty = ConfigMessage::empty();
            let h = hash(&empty.serialize(None));
            (empty, h)
        });
        let next = current.increment(current_hash, data);
        let bytes = next.serialize(Some(group.signing_key()));
        let key = record
            .keys()
            .first()
            .map(|k| k.key)
            .ok_or(bad("the group has no key yet"))?;
        let domain = if namespace == NAMESPACE_INFO {
            seal::DOMAIN_GROUP_INFO
        } else {
            seal::DOMAIN_GROUP_MEMBERS
        };
        let sealed = seal::encrypt(&key, domain, &seal::prepare(&bytes));
        let now = self.network_now_ms();
        let sign = |r: Request| r.signed_by_group(group);
        self.store_at(
            &record.account(),
            namespace,
            &sealed,
            now,
            CONFIG_TTL_MS,
            &sign,
        )
        .await?;
        record.set_config(namespace, &bytes);
        Ok(())
    }

    /// Stores a group message (or control message) in the group's swarm.
    async fn post(
        &self,
        record: &Record,
        signer: &Signer<'_>,
        content: Vec<u8>,
        sent_ms: u64,
        ttl_ms: u64,
    ) -> ClientResult<(String, u64, usize)> {
        let key = record
            .keys()
            .first()
            .map(|k| k.key)
            .ok_or(bad("the group has no key for us (it may not exist)"))?;
        let envelope = control::envelope(content, sent_ms, &mut *self.rng.borrow_mut());
        let data = group_message::encrypt(
            &self.identity,
            &record.group_pk().to_bytes(),
            &key,
            &envelope,
            &mut *self.rng.borrow_mut(),
        )
        .map_err(|_| ClientError::TooLong {
            max: super::MAX_TEXT_BYTES,
        })?;
        let sign = |r: Request| signer.sign(r);
        self.store_at(
            &record.account(),
            NAMESPACE_MESSAGES,
            &data,
            sent_ms,
            ttl_ms,
            &sign,
        )
        .await
    }

    /// A control message alone, in a `Content` with only the send time.
    fn control_content(update: GroupUpdateMessage, sent_ms: u64) -> Vec<u8> {
        control::append(
            message_content(&Body::default(), sent_ms, None).encode_to_vec(),
            update,
        )
    }

    /// Sends the group's invitation to each of `invitees` (already in its Members) and
    /// records each as sent or failed; returns the ones that failed.
    async fn send_invites(
        &self,
        group_id: &AccountId,
        invitees: &BTreeSet<SessionId>,
    ) -> ClientResult<Vec<SessionId>> {
        let mut record = self.record(group_id).await?;
        let group = record.admin().ok_or(ClientError::NotAdmin)?;
        let name = record.summary().name;
        let mut failed = Vec::new();
        let mut roster = record.members();
        for invitee in invitees {
            let auth = auth::make_auth(&group, invitee, true, false)?;
            let sent_ms = self.network_now_ms();
            let update = control::invite(&group, &name, invitee, &auth.0, sent_ms);
            let content = Zeroizing::new(Self::control_content(update, sent_ms));
            let sent = async {
                let (data, _) = self.seal_direct(invitee, &content, sent_ms).await?;
                self.store_message(
                    invitee,
                    super::NAMESPACE_DM,
                    &data,
                    sent_ms,
                    self.config.message_ttl_ms,
                )
                .await
            }
            .await;
            if sent.is_err() {
                failed.push(*invitee);
            }
            if let Some(m) = roster.get_mut(invitee) {
                m.invite = Some(if sent.is_ok() {
                    Pending::Sent
                } else {
                    Pending::Failed
                });
            }
        }
        let mut data = record
            .config(NAMESPACE_MEMBERS)
            .map(|(m, _)| m.data)
            .unwrap_or_default();
        write_members(&mut data, &roster)?;
        self.push_config(&mut record, &group, NAMESPACE_MEMBERS, data)
            .await?;
        self.put_record(record).await?;
        Ok(failed)
    }

    /// Invites `members` into `group` (admins only): they join the Members config, get a key
    /// (a rekey, as Session Desktop always does),
    /// their tokens are unrevoked (in case they were removed before), a notice is posted, and
    /// each gets an invitation. Returns those whose invitation could not be sent (invite them
    /// again to resend).
    ///
    /// With `history`, they also get every key the group had (one supplemental key message,
    /// SESSION-GROUPS.md §6.2), so they read what the swarm still holds from before.
    pub async fn invite_to_group(
        &self,
        group_id: &AccountId,
        members: &[SessionId],
        history: bool,
    ) -> ClientResult<Vec<SessionId>> {
        self.ready().await?;
        let mut record = self.record(group_id).await?;
        let group = record.admin().ok_or(ClientError::NotAdmin)?;
        self.read_group(&mut record).await?;
        let mut roster = record.members();
        let own = self.identity.session_id();
        let new: BTreeSet<SessionId> = members.iter().copied().filter(|m| *m != own).collect();
        for m in &new {
            let entry = roster.entry(*m).or_default();
            if !entry.admin {
                entry.invite = Some(Pending::NotSent);
                entry.with_history = history;
            }
            entry.removed = None;
        }
        if roster.len() > crate::groups::info::MEMBERS_MAX {
            return Err(bad("a group has at most 100 members"));
        }
        let tokens: Vec<[u8; 36]> = new
            .iter()
            .filter_map(|m| auth::token_for(&group, m, true, false).ok())
            .collect();
        let now = self.network_now_ms();
        let account = record.account();
        let unrevoke = |t: u64, _: &ManifestNode| {
            Request::Revoke {
                params: RevokeParams::new(&account, &tokens, t),
                unrevoke: true,
            }
            .signed_by_group(&group)
        };
        self.call(self.swarm_of(&account), Some(&account), &unrevoke)
            .await?;
        let ids: Vec<SessionId> = new.iter().copied().collect();
        if history && !ids.is_empty() {
            // Before the new key: Session Desktop pushes the supplement first.
            let message = keys::supplement(&group, &ids, &record.keys())?;
            let sign = |r: Request| r.signed_by_group(&group);
            self.store_at(
                &account,
                NAMESPACE_KEYS,
                &message,
                now,
                CONFIG_TTL_MS,
                &sign,
            )
            .await?;
        }
        self.rekey(&mut record, &group, &roster).await?;
        let mut data = record
            .config(NAMESPACE_MEMBERS)
            .map(|(m, _)| m.data)
            .unwrap_or_default();
        write_members(&mut data, &roster)?;
        self.push_config(&mut record, &group, NAMESPACE_MEMBERS, data)
            .await?;
        let notice = control::member_change(&group, control::MEMBERS_ADDED, &ids, history, now);
        self.post(
            &record,
            &Signer::Admin(GroupKeys::from_seed(group.seed())),
            Self::control_content(notice, now),
            now,
            self.config.message_ttl_ms,
        )
        .await?;
        self.put_record(record).await?;
        self.send_invites(group_id, &new).await
    }

    /// Takes a control message that came as a direct message (an invitation or promotion);
    /// true if `content` was one (it is then not a chat message).
    pub(super) async fn take_direct_control(
        &self,
        sender: &SessionId,
        sent_ms: u64,
        content: &[u8],
    ) -> ClientResult<bool> {
        let Some(update) = control::read(content) else {
            return Ok(false);
        };
        let own = self.identity.session_id();
        if let Some(invite) = update.invite_message {
            // Checked before anything is kept: the admin's signature for us at this time, and
            // auth data that opens for us under the group's key.
            let Ok(id) = control::verify_invite(&invite, &own, sent_ms) else {
                return Ok(true);
            };
            let pk = control::group_key(&id)?;
            if auth::Subaccount::open(&self.identity, &pk, &invite.member_auth_data).is_err() {
                return Ok(true);
            }
            let account = AccountId(id);
            let mut record = match self.record(&account).await {
                Ok(r) => r,
                Err(ClientError::UnknownGroup) => Record {
                    id: account.to_hex(),
                    name: String::new(),
                    status: GroupStatus::Invited,
                    seed: None,
                    auth: None,
                    invited_by: None,
                    keys: Vec::new(),
                    info: None,
                    members: None,
                    last_hash: BTreeMap::new(),
                    joined_s: 0,
                },
                Err(e) => return Err(e),
            };
            if record.seed.is_none() {
                record.auth = Some(hex::encode(&invite.member_auth_data));
            }
            // Invited again after a removal: a new invitation to accept.
            if matches!(record.status, GroupStatus::Removed) {
                record.status = GroupStatus::Invited;
            }
            record.name = crate::message::content::display_name(&invite.name).unwrap_or_default();
            record.invited_by = Some(sender.to_string());
            self.put_record(record).await?;
            return Ok(true);
        }
        if let Some(promote) = update.promote_message {
            let Ok(seed) = <[u8; 32]>::try_from(promote.group_identity_seed.as_slice()) else {
                return Ok(true);
            };
            let group = GroupKeys::from_seed(&seed);
            let account = AccountId(group.group_id());
            // Only for a group we are in: the seed is its own proof.
            if let Ok(mut record) = self.record(&account).await {
                record.seed = Some(hex::encode(seed));
                self.put_record(record).await?;
            }
            return Ok(true);
        }
        Ok(true)
    }

    /// Accepts an invitation: the group is read from then on, and its admins are told.
    pub async fn accept_group(&self, group_id: &AccountId) -> ClientResult<()> {
        self.ready().await?;
        let mut record = self.record(group_id).await?;
        if record.status != GroupStatus::Invited {
            return Err(bad("there is no invitation to accept for this group"));
        }
        record.status = GroupStatus::Joined;
        record.joined_s = i64::try_from(self.network_now_ms() / 1000).unwrap_or(0);
        self.read_group(&mut record).await?;
        let signer = record.signer(&self.identity)?;
        let now = self.network_now_ms();
        let response = GroupUpdateMessage {
            invite_response: Some(control::InviteResponse { is_approved: true }),
            ..Default::default()
        };
        self.post(
            &record,
            &signer,
            Self::control_content(response, now),
            now,
            self.config.message_ttl_ms,
        )
        .await?;
        self.put_record(record).await?;
        let _ = self.push_user_groups(&[]).await;
        Ok(())
    }

    /// Declines an invitation (or forgets a group we were removed from): nothing of it is kept.
    pub async fn decline_group(&self, group_id: &AccountId) -> ClientResult<()> {
        let record = self.record(group_id).await?;
        if record.status == GroupStatus::Joined {
            return Err(bad("this group was joined: leave it instead"));
        }
        self.forget_group(group_id).await
    }

    async fn forget_group(&self, group_id: &AccountId) -> ClientResult<()> {
        let id = group_id.to_hex();
        let mut all = self.load_groups().await?;
        all.retain(|r| r.id != id);
        self.save_groups(&all).await?;
        let _ = self.push_user_groups(&[]).await;
        Ok(())
    }

    /// Sends `body` to the group.
    pub async fn send_to_group(
        &self,
        group_id: &AccountId,
        body: &Body,
        disappear_after_s: Option<u32>,
    ) -> ClientResult<Sent> {
        if body.text.len() > super::MAX_TEXT_BYTES {
            return Err(ClientError::TooLong {
                max: super::MAX_TEXT_BYTES,
            });
        }
        self.ready().await?;
        let mut record = self.record(group_id).await?;
        if record.status != GroupStatus::Joined {
            return Err(bad(
                "not a member of this group (accept its invitation first)",
            ));
        }
        if record.keys.is_empty() {
            self.read_group(&mut record).await?;
        }
        let disappear = disappear_after_s.or_else(|| {
            record
                .info()
                .disappear_s
                .and_then(|s| u32::try_from(s).ok())
        });
        let signer = record.signer(&self.identity)?;
        let sent_ms = self.network_now_ms();
        let ttl_ms = disappear
            .map_or(self.config.message_ttl_ms, |s| u64::from(s) * 1000)
            .clamp(TTL_MINIMUM_MS, TTL_MAXIMUM_MS);
        let content = message_content(body, sent_ms, disappear).encode_to_vec();
        let (hash, expiry_ms, accepted_by) = self
            .post(&record, &signer, content, sent_ms, ttl_ms)
            .await?;
        // Our own message is not handed back by the next read.
        self.state
            .borrow_mut()
            .seen
            .mark(&hash, sent_ms.saturating_add(TTL_MAXIMUM_MS));
        self.save_seen().await?;
        self.put_record(record).await?;
        Ok(Sent {
            hash,
            sent_ms,
            expiry_ms,
            accepted_by,
            synced: false,
            protocol: Protocol::V1,
        })
    }

    /// Every message `account` holds in `namespace` after `since` (per member), read from
    /// [`READ_MEMBERS`] members and merged by hash; each hash checked against the bytes.
    /// Returns (hash, storage timestamp, expiry, data) oldest first, and the last hash each
    /// member answered with.
    async fn read_namespace(
        &self,
        account: &AccountId,
        namespace: Namespace,
        signer: &Signer<'_>,
        since: &BTreeMap<String, String>,
    ) -> ClientResult<(Vec<(String, u64, u64, Vec<u8>)>, BTreeMap<String, String>)> {
        let mut swarm = self.swarm_of(account);
        crate::order::shuffle(&mut swarm, &mut *self.rng.borrow_mut());
        let mut out: BTreeMap<String, (u64, u64, Vec<u8>)> = BTreeMap::new();
        let mut last = BTreeMap::new();
        let mut answered: Vec<String> = Vec::new();
        for round in 0..READ_MEMBERS {
            let mut candidates = super::not_asked(&swarm, &answered);
            if candidates.is_empty() {
                break;
            }
            let mut from: Option<String> = None;
            for _ in 0..MAX_PAGES {
                let after = |node: &ManifestNode| {
                    last.get(&node.ed25519)
                        .or_else(|| since.get(&node.ed25519))
                        .cloned()
                        .unwrap_or_default()
                };
                let make = |now: u64, node: &ManifestNode| {
                    signer.sign(Request::Retrieve(RetrieveParams::new(
                        account,
                        namespace,
                        after(node),
                        now,
                    )))
                };
                let result = self.call(candidates.clone(), Some(account), &make).await;
                let (node, reply) = match result {
                    Ok(r) => r,
                    Err(e) if round == 0 && from.is_none() => return Err(e),
                    Err(_) => break,
                };
                let page: RetrieveResponse = reply.parse().ok_or(crate::Error::Malformed(
                    "retrieve reply has the wrong shape",
                ))?;
                for m in page.messages.iter().take(RETRIEVE_MAX_COUNT) {
                    let Ok(data) = crypto::b64_decode(&m.data) else {
                        continue;
                    };
                    if crate::rpc::message_hash(account, namespace, &data) == m.hash {
                        out.entry(m.hash.clone())
                            .or_insert((m.timestamp, m.expiration, data));
                    }
                }
                if let Some(m) = page.messages.last() {
                    last.insert(node.ed25519.clone(), m.hash.clone());
                }
                crate::order::by_key(&mut candidates, |n| u64::from(n.ed25519 != node.ed25519));
                from = Some(node.ed25519);
                if !page.more {
                    break;
                }
            }
            match from {
                Some(node) => answered.push(node),
                None => break,
            }
        }
        let mut items: Vec<_> = out.into_iter().map(|(h, (t, e, d))| (h, t, e, d)).collect();
        items.sort_by_key(|(h, t, _, _)| (*t, h.clone()));
        Ok((items, last))
    }

    /// Reads the group's keys, then Info and Members (in that order: a config may need a key
    /// from the same read), merging what verifies. An admin whose merge made a new message
    /// pushes it.
    async fn read_group(&self, record: &mut Record) -> ClientResult<()> {
        let signer = record.signer(&self.identity)?;
        let account = record.account();
        let pk = record.group_pk();
        let none = BTreeMap::new();
        let (key_messages, _) = self
            .read_namespace(&account, NAMESPACE_KEYS, &signer, &none)
            .await?;
        // The messages that verified, with their expiries: kept alive below.
        let mut live: Vec<(String, u64)> = Vec::new();
        for (hash, timestamp, expiry, data) in &key_messages {
            let reader = match &signer {
                Signer::Admin(g) => Reader::Admin(g),
                _ => Reader::Member(&self.identity),
            };
            if let Ok(loaded) = keys::load(&pk, reader, data, *timestamp) {
                record.add_keys(&loaded.keys);
                live.push((hash.clone(), *expiry));
            }
        }
        for namespace in [NAMESPACE_INFO, NAMESPACE_MEMBERS] {
            let (messages, _) = self
                .read_namespace(&account, namespace, &signer, &none)
                .await?;
            live.extend(
                self.merge_config(record, &signer, namespace, &messages)
                    .await?,
            );
        }
        self.keep_alive(&account, &signer, live).await;
        let info = record.info();
        if info.destroyed {
            record.status = GroupStatus::Destroyed;
        }
        if !info.name.is_empty() {
            record.name = info.name;
        }
        Ok(())
    }

    /// Keys and configs are stored for 30 days: each reader with a write token (every member
    /// here) extends those that verified once any is within a day of its end, as Session
    /// Desktop does on each poll, so a group that goes a month without a change keeps them.
    /// Best effort: the next read tries again.
    async fn keep_alive(&self, account: &AccountId, signer: &Signer<'_>, live: Vec<(String, u64)>) {
        let now = self.network_now_ms();
        let due = live
            .iter()
            .any(|(_, expiry)| *expiry < now + CONFIG_TTL_MS - 24 * 3600 * 1000);
        if !due {
            return;
        }
        let hashes: Vec<String> = live.into_iter().map(|(h, _)| h).collect();
        let make = |t: u64, _: &ManifestNode| {
            signer.sign(Request::Expire(
                ExpireParams::new(account, hashes.clone(), t + CONFIG_TTL_MS).extend_only(),
            ))
        };
        let _ = self
            .call(self.swarm_of(account), Some(account), &make)
            .await;
    }

    /// Merges the Info or Members messages read (those that open and carry the group's
    /// signature) with the one held; returns the hashes and expiries of those that verified.
    async fn merge_config(
        &self,
        record: &mut Record,
        signer: &Signer<'_>,
        namespace: Namespace,
        messages: &[(String, u64, u64, Vec<u8>)],
    ) -> ClientResult<Vec<(String, u64)>> {
        let domain = if namespace == NAMESPACE_INFO {
            seal::DOMAIN_GROUP_INFO
        } else {
            seal::DOMAIN_GROUP_MEMBERS
        };
        let pk = record.group_pk();
        let keys = record.keys();
        let mut inputs: Vec<(ConfigMessage, Hash)> = Vec::new();
        let mut raw: Vec<Vec<u8>> = Vec::new();
        if let (Some(held), Some(bytes)) =
            (record.config(namespace), record.config_bytes(namespace))
        {
            inputs.push(held);
            raw.push(bytes);
        }
        let mut verified = Vec::new();
        for (stored_hash, _, expiry, data) in messages {
            let Some(plain) = keys
                .iter()
                .find_map(|k| seal::decrypt(&k.key, domain, data).ok())
            else {
                continue;
            };
            // Unsigned or signed by anyone but the group: not an admin's.
            let Ok(message) = ConfigMessage::parse(&plain, Some(&pk)) else {
                continue;
            };
            verified.push((stored_hash.clone(), *expiry));
            let h = hash(&plain);
            if inputs.iter().any(|(_, held)| *held == h) {
                continue;
            }
            inputs.push((message, h));
            raw.push(plain);
        }
        match merge(&inputs, !matches!(signer, Signer::Admin(_))) {
            Merged::Nothing => {}
            Merged::Adopt(i) => record.set_config(namespace, &raw[i]),
            Merged::New(message) => {
                if let Signer::Admin(group) = signer {
                    // The merge is pushed as is (same seqno and diffs every admin computes).
                    let bytes = message.serialize(Some(group.signing_key()));
                    if let Some(k) = keys.first() {
                        let sealed = seal::encrypt(&k.key, domain, &seal::prepare(&bytes));
                        let now = self.network_now_ms();
                        let sign = |r: Request| r.signed_by_group(group);
                        let account = record.account();
                        let _ = self
                            .store_at(&account, namespace, &sealed, now, CONFIG_TTL_MS, &sign)
                            .await;
                    }
                    record.set_config(namespace, &bytes);
                }
            }
        }
        Ok(verified)
    }

    /// Reads every joined group: keys, configs, then new messages (handed out) and control
    /// messages (applied: an admin clears accepted invitations and removes members who
    /// left); a kicked notice for us marks the group removed. A group that fails to read is
    /// skipped this time.
    pub async fn poll_groups(&self) -> ClientResult<Vec<Incoming>> {
        self.ready().await?;
        // The account's list of groups, now and then (other devices' changes), and pushed
        // when ours changed (an invitation taken by the direct-message poll).
        let now = self.network_now_ms();
        let due = self
            .state
            .borrow()
            .user_groups_read_ms
            .is_none_or(|t| now.saturating_sub(t) >= user_groups::READ_EVERY_MS);
        let synced = if due {
            self.sync_user_groups().await
        } else {
            self.push_user_groups(&[]).await
        };
        if synced.is_ok() && due {
            self.state.borrow_mut().user_groups_read_ms = Some(now);
        }
        let records = self.load_groups().await?;
        if !records.iter().any(|r| r.status == GroupStatus::Joined) {
            return Ok(Vec::new());
        }
        let mut fresh = Vec::new();
        for record in records {
            if record.status != GroupStatus::Joined {
                continue;
            }
            let mut record = record;
            if let Ok(()) = self.read_group_messages(&mut record, &mut fresh).await {
                self.put_record(record).await?;
            }
        }
        self.save_seen().await?;
        // A removal or destruction read just now goes to the account's list.
        let _ = self.push_user_groups(&[]).await;
        crate::order::by_key(&mut fresh, |m| m.sent_ms);
        Ok(fresh)
    }

    async fn read_group_messages(
        &self,
        record: &mut Record,
        fresh: &mut Vec<Incoming>,
    ) -> ClientResult<()> {
        let account = record.account();
        // A removed member's token is refused everywhere but at −11: that notice first.
        if self.take_kicked(record).await? {
            return Ok(());
        }
        self.read_group(record).await?;
        if record.status != GroupStatus::Joined {
            return Ok(());
        }
        let signer = record.signer(&self.identity)?;
        let since = record.last_hash.clone();
        let (messages, last) = self
            .read_namespace(&account, NAMESPACE_MESSAGES, &signer, &since)
            .await?;
        record.last_hash.extend(last);
        let pk = record.group_pk();
        let keys: Vec<[u8; 32]> = record.keys().iter().map(|k| k.key).collect();
        let own = self.identity.session_id();
        let now = self.network_now_ms();
        let mut accepted: Vec<SessionId> = Vec::new();
        let mut left: Vec<SessionId> = Vec::new();
        for (hash, _, expiration, data) in messages {
            if self.state.borrow().seen.contains(&hash) {
                continue;
            }
            let Ok(opened) = group_message::decrypt(pk.as_bytes(), &keys, &data) else {
                continue;
            };
            let Ok((sent_ms, content_bytes)) = control::open_envelope(&opened.data) else {
                continue;
            };
            let Ok(content) = Content::decode(content_bytes.as_slice()) else {
                continue;
            };
            let signed_ms = content.data_message.as_ref().and_then(|d| d.timestamp);
            if signed_ms.is_some_and(|t| t != sent_ms) {
                continue;
            }
            let kept_until = sent_ms.saturating_add(TTL_MAXIMUM_MS);
            let timer = content.expiration_timer;
            let due = due_ms(sent_ms, timer, expiration);
            if kept_until <= now || (timer.is_some() && due <= now) {
                continue;
            }
            self.state.borrow_mut().seen.mark(&hash, kept_until);
            if let Some(update) = control::read(&content_bytes) {
                if update
                    .invite_response
                    .as_ref()
                    .is_some_and(|r| r.is_approved)
                {
                    accepted.push(opened.sender);
                }
                if update.member_left_message.is_some() {
                    left.push(opened.sender);
                }
                // What the others see of it: admin notices only with the group's signature.
                let text = if control::verify_notice(&pk, &update, sent_ms) {
                    notice_text(&update)
                } else {
                    None
                };
                if let Some(text) = text
                    && opened.sender != own
                {
                    fresh.push(Incoming {
                        hash,
                        from: opened.sender,
                        sent_ms,
                        text,
                        attachments: Vec::new(),
                        profile: None,
                        sync_target: None,
                        disappear_after_s: timer,
                        expires_ms: due,
                        protocol: Protocol::V1,
                        group: Some(account),
                        notice: true,
                    });
                }
                continue;
            }
            if opened.sender == own {
                continue;
            }
            let Some(dm) = content.data_message else {
                continue;
            };
            let body = Body::read(&dm);
            fresh.push(Incoming {
                hash,
                from: opened.sender,
                sent_ms,
                text: body.text,
                attachments: body.attachments,
                profile: body.profile,
                sync_target: None,
                disappear_after_s: timer,
                expires_ms: due,
                protocol: Protocol::V1,
                group: Some(account),
                notice: false,
            });
        }
        if let Signer::Admin(group) = &signer
            && (!accepted.is_empty() || !left.is_empty())
        {
            let mut roster = record.members();
            let mut changed = false;
            for m in &accepted {
                if let Some(entry) = roster.get_mut(m)
                    && entry.invite.is_some()
                {
                    entry.invite = None;
                    entry.with_history = false;
                    changed = true;
                }
            }
            if changed {
                let mut data = record
                    .config(NAMESPACE_MEMBERS)
                    .map(|(m, _)| m.data)
                    .unwrap_or_default();
                write_members(&mut data, &roster)?;
                self.push_config(record, group, NAMESPACE_MEMBERS, data)
                    .await?;
            }
            // Members who left are removed as an admin removes anyone (Session: the next
            // admin online does it, since only admins can revoke and rekey).
            let leaving: Vec<SessionId> = left
                .into_iter()
                .filter(|m| roster.contains_key(m) && *m != own)
                .collect();
            if !leaving.is_empty() {
                let group = GroupKeys::from_seed(group.seed());
                self.remove_members(record, &group, &leaving, false).await?;
            }
        }
        Ok(())
    }

    /// Checks −11 for a notice naming us; true (and the group marked removed, its key and
    /// auth dropped) if there is one for our current generation or later.
    async fn take_kicked(&self, record: &mut Record) -> ClientResult<bool> {
        if record.seed.is_some() {
            return Ok(false);
        }
        let signer = record.signer(&self.identity)?;
        let account = record.account();
        let none = BTreeMap::new();
        let (notices, _) = self
            .read_namespace(&account, NAMESPACE_KICKED, &signer, &none)
            .await?;
        let current = record.generation().unwrap_or(0);
        let pk = record.group_pk().to_bytes();
        let kicked = notices.iter().any(|(_, _, _, data)| {
            matches!(kicked::decrypt(&self.identity, &pk, data), Ok(Some(g)) if g >= current)
        });
        if kicked {
            record.status = GroupStatus::Removed;
            record.auth = None;
        }
        Ok(kicked)
    }

    /// Removes `members` from a group (admins only): the kicked notice, revocation of their
    /// tokens, then a new key without them and Members without them. They keep what they
    /// could read before; nothing sent after opens for them, and their tokens are refused.
    pub async fn remove_from_group(
        &self,
        group_id: &AccountId,
        members: &[SessionId],
    ) -> ClientResult<()> {
        self.ready().await?;
        let mut record = self.record(group_id).await?;
        let group = record.admin().ok_or(ClientError::NotAdmin)?;
        self.read_group(&mut record).await?;
        let own = self.identity.session_id();
        let targets: Vec<SessionId> = members.iter().copied().filter(|m| *m != own).collect();
        if targets.is_empty() {
            return Err(bad("no one to remove (to leave, use leave)"));
        }
        self.remove_members(&mut record, &group, &targets, true)
            .await?;
        self.put_record(record).await
    }

    async fn remove_members(
        &self,
        record: &mut Record,
        group: &GroupKeys,
        targets: &[SessionId],
        notice: bool,
    ) -> ClientResult<()> {
        let account = record.account();
        let generation = record.generation().map_or(0, |g| g + 1);
        let mut nonce = [0u8; 24];
        self.rng.borrow_mut().fill_bytes(&mut nonce);
        let now = self.network_now_ms();
        let kicked_notice = kicked::encrypt(group, targets, generation, &nonce);
        let sign = |r: Request| r.signed_by_group(group);
        self.store_at(
            &account,
            NAMESPACE_KICKED,
            &kicked_notice,
            now,
            CONFIG_TTL_MS,
            &sign,
        )
        .await?;
        let tokens: Vec<[u8; 36]> = targets
            .iter()
            .filter_map(|m| auth::token_for(group, m, true, false).ok())
            .collect();
        let revoke = |t: u64, _: &ManifestNode| {
            Request::Revoke {
                params: RevokeParams::new(&account, &tokens, t),
                unrevoke: false,
            }
            .signed_by_group(group)
        };
        self.call(self.swarm_of(&account), Some(&account), &revoke)
            .await?;
        let mut roster = record.members();
        for t in targets {
            roster.remove(t);
        }
        self.rekey(record, group, &roster).await?;
        let mut data = record
            .config(NAMESPACE_MEMBERS)
            .map(|(m, _)| m.data)
            .unwrap_or_default();
        write_members(&mut data, &roster)?;
        self.push_config(record, group, NAMESPACE_MEMBERS, data)
            .await?;
        if notice {
            let now = self.network_now_ms();
            let update =
                control::member_change(group, control::MEMBERS_REMOVED, targets, false, now);
            self.post(
                record,
                &Signer::Admin(GroupKeys::from_seed(group.seed())),
                Self::control_content(update, now),
                now,
                self.config.message_ttl_ms,
            )
            .await?;
        }
        Ok(())
    }

    /// Makes `member` an admin too (admins only): it gets the group's seed.
    pub async fn promote_in_group(
        &self,
        group_id: &AccountId,
        member: &SessionId,
    ) -> ClientResult<()> {
        self.ready().await?;
        let mut record = self.record(group_id).await?;
        let group = record.admin().ok_or(ClientError::NotAdmin)?;
        self.read_group(&mut record).await?;
        let mut roster = record.members();
        let Some(entry) = roster.get_mut(member) else {
            return Err(bad("not a member of this group"));
        };
        entry.admin = true;
        entry.invite = None;
        let now = self.network_now_ms();
        let update = GroupUpdateMessage {
            promote_message: Some(control::PromoteMessage {
                group_identity_seed: group.seed().to_vec(),
                name: record.summary().name,
            }),
            ..Default::default()
        };
        let content = Zeroizing::new(Self::control_content(update, now));
        let (data, _) = self.seal_direct(member, &content, now).await?;
        let sent = self
            .store_message(
                member,
                super::NAMESPACE_DM,
                &data,
                now,
                self.config.message_ttl_ms,
            )
            .await;
        entry.promotion = if sent.is_ok() {
            None
        } else {
            Some(Pending::Failed)
        };
        let mut data = record
            .config(NAMESPACE_MEMBERS)
            .map(|(m, _)| m.data)
            .unwrap_or_default();
        write_members(&mut data, &roster)?;
        self.push_config(&mut record, &group, NAMESPACE_MEMBERS, data)
            .await?;
        let notice =
            control::member_change(&group, control::MEMBERS_PROMOTED, &[*member], false, now);
        self.post(
            &record,
            &Signer::Admin(GroupKeys::from_seed(group.seed())),
            Self::control_content(notice, now),
            now,
            self.config.message_ttl_ms,
        )
        .await?;
        self.put_record(record).await?;
        sent.map(|_| ())
    }

    /// Changes the group's name, description or disappearing timer (admins only; `Some(0)`
    /// turns the timer off).
    pub async fn update_group_info(
        &self,
        group_id: &AccountId,
        name: Option<&str>,
        description: Option<&str>,
        disappear_s: Option<u32>,
    ) -> ClientResult<()> {
        check_info_text(name, description)?;
        self.ready().await?;
        let mut record = self.record(group_id).await?;
        let group = record.admin().ok_or(ClientError::NotAdmin)?;
        self.read_group(&mut record).await?;
        let mut info = record.info();
        if let Some(n) = name {
            info.name = n.to_owned();
        }
        if let Some(d) = description {
            info.description = d.to_owned();
        }
        if let Some(s) = disappear_s {
            info.disappear_s = (s > 0).then_some(i64::from(s));
        }
        let mut data = record
            .config(NAMESPACE_INFO)
            .map(|(m, _)| m.data)
            .unwrap_or_default();
        info.write(&mut data)?;
        self.push_config(&mut record, &group, NAMESPACE_INFO, data)
            .await?;
        let signer = Signer::Admin(GroupKeys::from_seed(group.seed()));
        let now = self.network_now_ms();
        if let Some(n) = name {
            let update = control::info_change(&group, control::INFO_NAME, Some(n), None, now);
            self.post(
                &record,
                &signer,
                Self::control_content(update, now),
                now,
                self.config.message_ttl_ms,
            )
            .await?;
        }
        if let Some(s) = disappear_s {
            let update =
                control::info_change(&group, control::INFO_DISAPPEARING, None, Some(s), now);
            self.post(
                &record,
                &signer,
                Self::control_content(update, now),
                now,
                self.config.message_ttl_ms,
            )
            .await?;
        }
        if !info.name.is_empty() {
            record.name = info.name;
        }
        self.put_record(record).await
    }

    /// Leaves a group: the others are told (an admin then removes us: revocation and a new
    /// key), and nothing of it is kept here. The last admin cannot leave: promote someone
    /// first, or delete the group.
    pub async fn leave_group(&self, group_id: &AccountId) -> ClientResult<()> {
        self.ready().await?;
        let mut record = self.record(group_id).await?;
        if record.status != GroupStatus::Joined {
            return self.forget_group(group_id).await;
        }
        self.read_group(&mut record).await?;
        let own = self.identity.session_id();
        if record.seed.is_some() {
            let other_admins = record
                .members()
                .iter()
                .any(|(id, m)| *id != own && m.admin && m.removed.is_none());
            if !other_admins {
                return Err(bad(
                    "the last admin cannot leave: promote another member first, or delete the group",
                ));
            }
        }
        let signer = record.signer(&self.identity)?;
        let now = self.network_now_ms();
        let notification = GroupUpdateMessage {
            member_left_notification_message: Some(control::Empty {}),
            ..Default::default()
        };
        let left = GroupUpdateMessage {
            member_left_message: Some(control::Empty {}),
            ..Default::default()
        };
        self.post(
            &record,
            &signer,
            Self::control_content(notification, now),
            now,
            self.config.message_ttl_ms,
        )
        .await?;
        self.post(
            &record,
            &signer,
            Self::control_content(left, now + 1),
            now + 1,
            self.config.message_ttl_ms,
        )
        .await?;
        self.forget_group(group_id).await
    }

    /// Deletes the group for everyone (admins only): Info says destroyed, and the messages go
    /// from the swarm.
    pub async fn delete_group(&self, group_id: &AccountId) -> ClientResult<()> {
        self.ready().await?;
        let mut record = self.record(group_id).await?;
        let group = record.admin().ok_or(ClientError::NotAdmin)?;
        self.read_group(&mut record).await?;
        let mut info = record.info();
        info.destroyed = true;
        let mut data = record
            .config(NAMESPACE_INFO)
            .map(|(m, _)| m.data)
            .unwrap_or_default();
        info.write(&mut data)?;
        self.push_config(&mut record, &group, NAMESPACE_INFO, data)
            .await?;
        let account = record.account();
        let delete = |t: u64, _: &ManifestNode| {
            Request::DeleteAll(DeleteAllParams::new(&account, NAMESPACE_MESSAGES, t))
                .signed_by_group(&group)
        };
        // Best effort: the destroyed Info is what members act on.
        let _ = self
            .call(self.swarm_of(&account), Some(&account), &delete)
            .await;
        record.status = GroupStatus::Destroyed;
        self.put_record(record).await?;
        let _ = self.push_user_groups(&[]).await;
        Ok(())
    }
}
