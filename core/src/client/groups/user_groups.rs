//! The account's list of groups in its UserGroups config (namespace 5, SESSION-GROUPS.md §3,
//! SESSION-ATTACHMENTS-CONFIG.md §B.9–B.10), so another device of the account finds them: the
//! seed for a group we administer, the auth data for one we are a member of, the name, whether
//! the invitation is still pending, removal.
//!
//! Sealed under our Ed25519 seed (domain `UserGroups`), unsigned, stored in our own swarm. We
//! write it unwrapped (`Content` field 11, the old `sharedConfigMessage` wrapper, is reserved in
//! Session's current protos) and read both forms. The merged message is kept in the store
//! ([`KEY_USER_GROUPS`]); a read merges what the swarm holds into it, takes the groups another
//! device added or dropped, and pushes when this device's groups are not what it says.

use std::collections::BTreeMap;

use prost::Message as _;
use rand_core::CryptoRng;

use super::{GroupStatus, Record, Signer};
use crate::client::engine::Client;
use crate::client::error::ClientResult;
use crate::client::platform::{Clock, Store, Transport};
use crate::config::Data;
use crate::config::merge::{Merged, merge};
use crate::config::message::{ConfigMessage, hash};
use crate::config::seal;
use crate::config::user_groups::{GroupEntry, read_groups, write_groups};
use crate::rpc::{AccountId, Namespace};

/// The UserGroups config's namespace.
pub const NAMESPACE_USER_GROUPS: Namespace = Namespace(5);
/// The merged UserGroups message, as this device holds it.
pub const KEY_USER_GROUPS: &str = "user_groups";
/// Config messages live 30 days in the swarm; each push renews the current one.
const TTL_MS: u64 = 30 * 24 * 3600 * 1000;
/// How often a poll reads the config from the swarm (a change on this device pushes at once).
pub(super) const READ_EVERY_MS: u64 = 30_000;
/// `SharedConfigMessage.kind` of UserGroups.
const KIND_USER_GROUPS: i32 = 4;

/// `Content` read for the old wrapper's field 11 only.
#[derive(Clone, PartialEq, prost::Message)]
struct WrappedContent {
    #[prost(message, optional, tag = "11")]
    shared_config_message: Option<SharedConfigMessage>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct SharedConfigMessage {
    #[prost(int32, required, tag = "1")]
    kind: i32,
    #[prost(int64, required, tag = "2")]
    seqno: i64,
    #[prost(bytes = "vec", required, tag = "3")]
    data: Vec<u8>,
}

/// What a record says of the group in UserGroups, on top of what the entry held (the fields
/// this device does not set — pinning — stay).
fn entry_of(record: &Record, held: Option<&GroupEntry>) -> Option<([u8; 33], GroupEntry)> {
    let id = record.account().0;
    let mut entry = held.cloned().unwrap_or_default();
    entry.seed = record
        .seed
        .as_deref()
        .and_then(|s| hex::decode(s).ok())
        .and_then(|s| s.try_into().ok());
    entry.auth = record.auth.as_deref().and_then(|a| hex::decode(a).ok());
    entry.name = record.name.clone();
    entry.invite_pending = record.status == GroupStatus::Invited;
    entry.removed = match record.status {
        GroupStatus::Removed => Some(1),
        GroupStatus::Destroyed => Some(2),
        _ => None,
    };
    entry.joined_s = record.joined_s;
    // Notifications go in only as set here: otherwise the config's (another device's, or
    // what a home from before them never read) stay.
    if record.notify_unpushed {
        entry.notify = record.notify;
        entry.mute_until_s = record.mute_until_s;
    }
    Some((id, entry))
}

/// A record for a group another device of the account listed.
fn record_of(id: &[u8; 33], entry: &GroupEntry) -> Record {
    let status = match entry.removed {
        Some(2) => GroupStatus::Destroyed,
        Some(_) => GroupStatus::Removed,
        None if entry.invite_pending && entry.seed.is_none() => GroupStatus::Invited,
        None => GroupStatus::Joined,
    };
    Record {
        seed: entry.seed.map(hex::encode),
        auth: if entry.seed.is_none() {
            entry.auth.as_deref().map(hex::encode)
        } else {
            None
        },
        joined_s: entry.joined_s,
        notify: entry.notify,
        mute_until_s: entry.mute_until_s,
        ..Record::new(&AccountId(*id), entry.name.clone(), status)
    }
}

impl<T: Transport, C: Clock, S: Store, R: CryptoRng> Client<T, C, S, R> {
    /// After a push (or when there was nothing to push): the records take the notifications
    /// the config now holds (`data`), and those set here, now in it, stop overriding it.
    async fn take_notifications(&self, data: &Data) -> ClientResult<()> {
        let entries = read_groups(data);
        let mut records = self.load_groups().await?;
        let mut changed = false;
        for r in &mut records {
            let Some(e) = entries.get(&r.account().0) else {
                continue;
            };
            let now = (e.notify, e.mute_until_s, false);
            if (r.notify, r.mute_until_s, r.notify_unpushed) != now {
                (r.notify, r.mute_until_s, r.notify_unpushed) = now;
                changed = true;
            }
        }
        if changed {
            self.save_groups(&records).await?;
        }
        Ok(())
    }

    /// The held UserGroups message and its bytes (the empty object if none).
    async fn held_user_groups(&self) -> ClientResult<(ConfigMessage, Vec<u8>)> {
        if let Some(bytes) = self.store.get(KEY_USER_GROUPS).await?
            && let Ok(message) = ConfigMessage::parse(&bytes, None)
        {
            return Ok((message, bytes));
        }
        let empty = ConfigMessage::empty();
        let bytes = empty.serialize(None);
        Ok((empty, bytes))
    }

    /// Opens a stored UserGroups message: unwrapped, or in the old wrapper (a v1 message from
    /// ourselves carrying `sharedConfigMessage`).
    /// Returns the message with its bytes as decrypted (its hash names it in others' lagged
    /// diffs, so it is taken from these bytes, never a re-serialisation).
    fn open_user_groups(&self, data: &[u8]) -> Option<(ConfigMessage, Vec<u8>)> {
        let seed = self.identity.seed().as_bytes();
        let sealed = match crate::message::decode_direct_message(&self.identity, data) {
            Ok(received) if received.sender == self.identity.session_id() => {
                WrappedContent::decode(received.content_bytes.as_slice())
                    .ok()?
                    .shared_config_message
                    .filter(|m| m.kind == KIND_USER_GROUPS)?
                    .data
            }
            _ => data.to_vec(),
        };
        let plain = seal::decrypt(seed, seal::DOMAIN_USER_GROUPS, &sealed).ok()?;
        Some((ConfigMessage::parse(&plain, None).ok()?, plain))
    }

    /// Reads the account's list of groups now (another device's changes), and pushes this
    /// device's.
    pub async fn sync_groups(&self) -> ClientResult<()> {
        self.ready().await?;
        let now = self.network_now_ms();
        self.sync_user_groups().await?;
        self.state.borrow_mut().user_groups_read_ms = Some(now);
        Ok(())
    }

    /// Reads the config from our swarm, merges it with the one held, takes the groups other
    /// devices added or dropped, and pushes if this device's groups differ from it.
    pub(super) async fn sync_user_groups(&self) -> ClientResult<()> {
        let own = AccountId::from(self.identity.session_id());
        let signer = Signer::Own(&self.identity);
        // All of it each time (the swarm holds one message, or a few to merge).
        let messages = self
            .read_new(
                &own,
                &[NAMESPACE_USER_GROUPS],
                &signer,
                &mut BTreeMap::new(),
            )
            .await?
            .remove(&NAMESPACE_USER_GROUPS.0)
            .unwrap_or_default();
        let (held, held_bytes) = self.held_user_groups().await?;
        let before = read_groups(&held.data);
        let mut inputs = vec![(held, hash(&held_bytes))];
        let mut raw = vec![held_bytes];
        let mut read_hashes = Vec::new();
        for (stored_hash, _, _, data) in &messages {
            let Some((message, plain)) = self.open_user_groups(data) else {
                continue;
            };
            read_hashes.push(stored_hash.clone());
            let h = hash(&plain);
            if !inputs.iter().any(|(_, held)| *held == h) {
                inputs.push((message, h));
                raw.push(plain);
            }
        }
        let merged = match merge(&inputs, false) {
            Merged::Nothing | Merged::Adopt(0) => None,
            Merged::Adopt(i) => Some((inputs.swap_remove(i).0, raw.swap_remove(i))),
            Merged::New(m) => {
                let bytes = m.serialize(None);
                Some((m, bytes))
            }
        };
        if let Some((message, bytes)) = merged {
            self.store.put(KEY_USER_GROUPS, bytes).await?;
            let after = read_groups(&message.data);
            let mut records = self.load_groups().await?;
            // Groups another device took or left.
            for (id, entry) in &after {
                let hex_id = hex::encode(id);
                match records.iter_mut().find(|r| r.id == hex_id) {
                    None => records.push(record_of(id, entry)),
                    Some(r) => {
                        if entry.removed.is_some()
                            || (!entry.invite_pending && r.status == GroupStatus::Invited)
                        {
                            let theirs = record_of(id, entry);
                            r.status = theirs.status;
                            r.seed = r.seed.take().or(theirs.seed);
                            r.auth = r.auth.take().or(theirs.auth);
                            r.joined_s = theirs.joined_s.max(r.joined_s);
                        }
                    }
                }
            }
            // Listed before this merge and not after: left on another device.
            records.retain(|r| {
                let id = r.account().0;
                !before.contains_key(&id) || after.contains_key(&id)
            });
            self.save_groups(&records).await?;
        }
        self.push_user_groups(&read_hashes).await
    }

    /// Pushes the config if this device's groups are not what it holds (or several messages
    /// were merged); then deletes `superseded` (the messages merged) from the swarm, best
    /// effort.
    pub(super) async fn push_user_groups(&self, superseded: &[String]) -> ClientResult<()> {
        let (held, held_bytes) = self.held_user_groups().await?;
        let entries = read_groups(&held.data);
        let wanted: BTreeMap<[u8; 33], GroupEntry> = self
            .load_groups()
            .await?
            .iter()
            .filter_map(|r| entry_of(r, entries.get(&r.account().0)))
            .collect();
        let mut data: Data = held.data.clone();
        write_groups(&mut data, &wanted)?;
        crate::config::prune(&mut data);
        // Pushed when the groups changed, or to replace several messages by one merge.
        if data == held.data && superseded.len() <= 1 {
            return self.take_notifications(&data).await;
        }
        let next = held.increment(hash(&held_bytes), data);
        let bytes = next.serialize(None);
        let sealed = seal::encrypt(
            self.identity.seed().as_bytes(),
            seal::DOMAIN_USER_GROUPS,
            &seal::prepare(&bytes),
        );
        let own = self.identity.session_id();
        let now = self.network_now_ms();
        let (pushed, _, _) = self
            .store_message(&own, NAMESPACE_USER_GROUPS, &sealed, now, TTL_MS)
            .await?;
        self.store.put(KEY_USER_GROUPS, bytes).await?;
        self.take_notifications(&next.data).await?;
        let old: Vec<String> = superseded
            .iter()
            .filter(|h| **h != pushed)
            .cloned()
            .collect();
        self.delete_own(old).await;
        Ok(())
    }
}
