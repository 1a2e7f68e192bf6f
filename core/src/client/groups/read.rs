//! Reading a group: one batch of retrieves per swarm member for what is new, keys before
//! configs before messages; merging Info and Members; keeping keys and configs alive; notices;
//! the kicked notice.

use std::collections::BTreeMap;

use prost::Message as _;
use rand_core::CryptoRng;

use super::{
    CONFIG_TTL_MS, GroupStatus, MAX_PAGES, NAMESPACE_INFO, NAMESPACE_KEYS, NAMESPACE_KICKED,
    NAMESPACE_MEMBERS, NAMESPACE_MESSAGES, READ_MEMBERS, Record, Signer, user_groups,
};

use crate::SessionId;
use crate::client::engine::Client;
use crate::client::error::ClientResult;
use crate::client::messaging::Incoming;
use crate::client::platform::{Clock, Store, Transport};
use crate::client::v2::Protocol;
use crate::config::merge::{Merged, merge};
use crate::config::message::{ConfigMessage, Hash, hash};
use crate::config::seal;
use crate::crypto;
use crate::groups::control::{self, GroupUpdateMessage};
use crate::groups::info::Member;
use crate::groups::keys::{self, GroupKey, Reader};
use crate::groups::{GroupKeys, kicked, message as group_message};
use crate::message::{Body, Content};
use crate::network::ManifestNode;
use crate::rpc::response::{BatchResponse, RetrieveResponse};
use crate::rpc::rules::RETRIEVE_MAX_COUNT;
use crate::rpc::{AccountId, ExpireParams, Namespace, Request, RetrieveParams, TTL_MAXIMUM_MS};

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
    if let Some(m) = &update.delete_member_content
        && m.admin_signature.is_some()
        && !m.member_session_ids.is_empty()
    {
        return Some(format!(
            "deleted the messages of {}",
            ids(&m.member_session_ids)
        ));
    }
    update
        .member_left_notification_message
        .is_some()
        .then(|| "left the group".into())
}

/// Whether a message from `sender`, opened with a key of `generation` and saying it was sent
/// at `sent_ms`, is taken: from a current member, under the newest key (whoever holds it was
/// given it), or sent before the group's next key came (a removed member's old messages).
fn admitted(
    roster: &BTreeMap<SessionId, Member>,
    keys: &[GroupKey],
    sender: SessionId,
    generation: u64,
    sent_ms: u64,
) -> bool {
    if roster.get(&sender).is_some_and(|m| m.removed.is_none()) {
        return true;
    }
    let next = keys
        .iter()
        .filter(|k| k.generation > generation)
        .map(|k| k.timestamp_ms)
        .min();
    next.is_none_or(|t| sent_ms < t)
}

/// A message read from a group's swarm: hash, storage timestamp, expiry, bytes.
pub(super) type Stored = (String, u64, u64, Vec<u8>);

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
    /// What is new in each of `namespaces` of `account`: one `batch` of retrieves per swarm
    /// member (each after that member's last hash for the namespace in `since`, keyed
    /// `"ns.member"`, which moves on), from [`READ_MEMBERS`] members, merged by hash, each
    /// hash checked against the bytes. A namespace a member refuses (a revoked token outside
    /// −11) reads as empty. Oldest first per namespace.
    pub(super) async fn read_new(
        &self,
        account: &AccountId,
        namespaces: &[Namespace],
        signer: &Signer<'_>,
        since: &mut BTreeMap<String, String>,
    ) -> ClientResult<BTreeMap<i16, Vec<Stored>>> {
        let mut swarm = self.swarm_of(account);
        crate::order::shuffle(&mut swarm, &mut *self.rng.borrow_mut());
        // Per namespace, by hash: storage timestamp, expiry, bytes.
        type ByHash = BTreeMap<String, (u64, u64, Vec<u8>)>;
        let mut out: BTreeMap<i16, ByHash> = namespaces
            .iter()
            .map(|ns| (ns.0, BTreeMap::new()))
            .collect();
        let mut answered: Vec<String> = Vec::new();
        for round in 0..READ_MEMBERS {
            let mut candidates = crate::client::not_asked(&swarm, &answered);
            if candidates.is_empty() {
                break;
            }
            let mut from: Option<String> = None;
            let mut pending: Vec<Namespace> = namespaces.to_vec();
            for _ in 0..MAX_PAGES {
                let key = |ns: Namespace, node: &ManifestNode| format!("{}.{}", ns.0, node.ed25519);
                let make = |now: u64, node: &ManifestNode| {
                    Request::Batch(
                        pending
                            .iter()
                            .map(|&ns| {
                                let after = since.get(&key(ns, node)).cloned().unwrap_or_default();
                                signer.sign(Request::Retrieve(RetrieveParams::new(
                                    account, ns, after, now,
                                )))
                            })
                            .collect(),
                    )
                };
                let result = self.call(candidates.clone(), Some(account), &make).await;
                let (node, reply) = match result {
                    Ok(r) => r,
                    Err(e) if round == 0 && from.is_none() => return Err(e),
                    Err(_) => break,
                };
                let batch: BatchResponse = reply
                    .parse()
                    .ok_or(crate::Error::Malformed("batch reply has the wrong shape"))?;
                let mut more = Vec::new();
                for (ns, result) in pending.iter().zip(&batch.results) {
                    let Some(page) = result.parse::<RetrieveResponse>() else {
                        continue;
                    };
                    let held = out.get_mut(&ns.0).expect("asked for");
                    for m in page.messages.iter().take(RETRIEVE_MAX_COUNT) {
                        let Ok(data) = crypto::b64_decode(&m.data) else {
                            continue;
                        };
                        if crate::rpc::message_hash(account, *ns, &data) == m.hash {
                            held.entry(m.hash.clone())
                                .or_insert((m.timestamp, m.expiration, data));
                        }
                    }
                    if let Some(m) = page.messages.last() {
                        since.insert(key(*ns, &node), m.hash.clone());
                    }
                    if page.more {
                        more.push(*ns);
                    }
                }
                crate::order::by_key(&mut candidates, |n| u64::from(n.ed25519 != node.ed25519));
                from = Some(node.ed25519);
                pending = more;
                if pending.is_empty() {
                    break;
                }
            }
            match from {
                Some(node) => answered.push(node),
                None => break,
            }
        }
        Ok(out
            .into_iter()
            .map(|(ns, held)| {
                let mut items: Vec<Stored> = held
                    .into_iter()
                    .map(|(h, (t, e, d))| (h, t, e, d))
                    .collect();
                items.sort_by_key(|(h, t, _, _)| (*t, h.clone()));
                (ns, items)
            })
            .collect())
    }

    /// Reads what is new of the group's keys, then Info and Members, and takes it.
    pub(super) async fn read_group(&self, record: &mut Record) -> ClientResult<()> {
        let signer = record.signer(&self.identity)?;
        let account = record.account();
        let mut since = core::mem::take(&mut record.last_hash);
        let read = self
            .read_new(
                &account,
                &[NAMESPACE_KEYS, NAMESPACE_INFO, NAMESPACE_MEMBERS],
                &signer,
                &mut since,
            )
            .await;
        record.last_hash = since;
        self.take_keys_and_configs(record, &signer, &read?).await
    }

    /// Takes keys (first: a config may need a key from the same read), then Info and Members,
    /// merging what verifies (an admin whose merge made a new message pushes it); then keeps
    /// them alive.
    async fn take_keys_and_configs(
        &self,
        record: &mut Record,
        signer: &Signer<'_>,
        read: &BTreeMap<i16, Vec<Stored>>,
    ) -> ClientResult<()> {
        let pk = record.group_pk();
        let none = Vec::new();
        for (hash, timestamp, expiry, data) in read.get(&NAMESPACE_KEYS.0).unwrap_or(&none) {
            let reader = match signer {
                Signer::Admin(g) => Reader::Admin(g),
                _ => Reader::Member(&self.identity),
            };
            if let Ok(loaded) = keys::load(&pk, reader, data, *timestamp) {
                record.add_keys(&loaded.keys);
                record.keep(NAMESPACE_KEYS, hash, *expiry);
            }
        }
        for namespace in [NAMESPACE_INFO, NAMESPACE_MEMBERS] {
            let messages = read.get(&namespace.0).unwrap_or(&none);
            self.merge_config(record, signer, namespace, messages)
                .await?;
        }
        self.keep_alive(record, signer).await;
        self.keep_picture_alive(record).await;
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
    /// here) extends the key messages and current configs it verified once any is within a day
    /// of its end, as Session Desktop does on each poll, so a group that goes a month without a
    /// change keeps them. Best effort: the next read tries again.
    pub(super) async fn keep_alive(&self, record: &mut Record, signer: &Signer<'_>) {
        let now = self.network_now_ms();
        record.kept.retain(|_, (_, expiry)| *expiry > now);
        let due = record
            .kept
            .values()
            .any(|(_, expiry)| *expiry < now + CONFIG_TTL_MS - 24 * 3600 * 1000);
        if !due {
            return;
        }
        let hashes: Vec<String> = record.kept.keys().cloned().collect();
        let account = record.account();
        let make = |t: u64, _: &ManifestNode| {
            signer.sign(Request::Expire(
                ExpireParams::new(&account, hashes.clone(), t + CONFIG_TTL_MS).extend_only(),
            ))
        };
        if self
            .call(self.swarm_of(&account), Some(&account), &make)
            .await
            .is_ok()
        {
            for (_, expiry) in record.kept.values_mut() {
                *expiry = (*expiry).max(now + CONFIG_TTL_MS);
            }
        }
    }

    /// Merges the Info or Members messages read (those that open and carry the group's
    /// signature) with the one held; the stored message that is the held one afterwards is
    /// the one kept alive.
    pub(super) async fn merge_config(
        &self,
        record: &mut Record,
        signer: &Signer<'_>,
        namespace: Namespace,
        messages: &[Stored],
    ) -> ClientResult<()> {
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
            let h = hash(&plain);
            verified.push((stored_hash.clone(), *expiry, h));
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
        if let Some((_, head)) = record.config(namespace)
            && let Some((stored, expiry, _)) = verified.iter().find(|(_, _, h)| *h == head)
        {
            record.kept.retain(|_, (ns, _)| *ns != namespace.0);
            record.keep(namespace, stored, *expiry);
        }
        Ok(())
    }

    /// Reads every joined group: keys, configs, then new messages (handed out) and control
    /// messages (applied: an admin clears accepted invitations and removes members who
    /// left); a kicked notice for us marks the group removed. A group that fails to read is
    /// skipped this time.
    pub async fn poll_groups(&self) -> ClientResult<Vec<Incoming>> {
        self.ready().await?;
        // The account's list of groups, now and then (other devices' changes).
        let now = self.network_now_ms();
        let due = self
            .state
            .borrow()
            .user_groups_read_ms
            .is_none_or(|t| now.saturating_sub(t) >= user_groups::READ_EVERY_MS);
        if due && self.sync_user_groups().await.is_ok() {
            self.state.borrow_mut().user_groups_read_ms = Some(now);
        }
        let mut records = self.load_groups().await?;
        let mut fresh = Vec::new();
        let mut read = false;
        for record in records
            .iter_mut()
            .filter(|r| r.status == GroupStatus::Joined)
        {
            // A group that fails to read keeps its state as it was (read again next time).
            let before = record.clone();
            if self.read_group_messages(record, &mut fresh).await.is_err() {
                *record = before;
            }
            read = true;
        }
        if read {
            self.save_groups(&records).await?;
            self.save_seen().await?;
        }
        // What changed on this device goes to the account's list: an invitation the
        // direct-message poll took, a removal or destruction read just now.
        let _ = self.push_user_groups(&[]).await;
        crate::order::by_key(&mut fresh, |m| m.sent_ms);
        Ok(fresh)
    }

    pub(super) async fn read_group_messages(
        &self,
        record: &mut Record,
        fresh: &mut Vec<Incoming>,
    ) -> ClientResult<()> {
        let account = record.account();
        let signer = record.signer(&self.identity)?;
        let admin = matches!(signer, Signer::Admin(_));
        // Everything new in one batch per member: the kicked notice (a removed member's token
        // is refused everywhere but at −11), keys, configs, messages.
        let mut namespaces = vec![
            NAMESPACE_KEYS,
            NAMESPACE_INFO,
            NAMESPACE_MEMBERS,
            NAMESPACE_MESSAGES,
        ];
        if !admin {
            namespaces.insert(0, NAMESPACE_KICKED);
        }
        let mut since = core::mem::take(&mut record.last_hash);
        let read = self
            .read_new(&account, &namespaces, &signer, &mut since)
            .await;
        record.last_hash = since;
        let mut read = read?;
        if !admin && self.take_kicked(record, read.get(&NAMESPACE_KICKED.0)) {
            return Ok(());
        }
        self.take_keys_and_configs(record, &signer, &read).await?;
        if record.status != GroupStatus::Joined {
            return Ok(());
        }
        let messages = read.remove(&NAMESPACE_MESSAGES.0).unwrap_or_default();
        let pk = record.group_pk();
        let held = record.keys();
        let roster = record.members();
        let own = self.identity.session_id();
        let now = self.network_now_ms();
        let mut accepted: Vec<SessionId> = Vec::new();
        let mut left: Vec<SessionId> = Vec::new();
        let mut deleted: Vec<(SessionId, Vec<SessionId>, Vec<String>)> = Vec::new();
        for (hash, _, expiration, data) in messages {
            if self.state.borrow().seen.contains(&hash) {
                continue;
            }
            // Which key opens it says from when it is: a key the group has moved past.
            let Some((generation, opened)) = held.iter().find_map(|k| {
                Some((
                    k.generation,
                    group_message::decrypt(pk.as_bytes(), &[k.key], &data).ok()?,
                ))
            }) else {
                continue;
            };
            let Ok((sent_ms, content_bytes)) = control::open_envelope(&opened.data) else {
                continue;
            };
            // A member removed keeps its old keys, and a node that ignores (or missed) the
            // revocation still takes its stores: what it writes under an old key counts only
            // if it says it was sent before the group moved past that key.
            if !admitted(&roster, &held, opened.sender, generation, sent_ms) {
                continue;
            }
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
                // What a reader is told of an admin's (or a member's) doing.
                let notice = |hash: String, text: String| Incoming {
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
                    #[cfg(feature = "message-extras")]
                    extras: Default::default(),
                };
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
                // Deleting content: an admin's (signed) for the members and messages it
                // lists; a member's own (unsigned) for the messages it lists and wrote.
                if let Some(order) = &update.delete_member_content
                    && control::verify_notice(&pk, &update, sent_ms)
                {
                    let authors: Vec<SessionId> = if order.admin_signature.is_some() {
                        order
                            .member_session_ids
                            .iter()
                            .filter_map(|m| m.parse().ok())
                            .collect()
                    } else {
                        Vec::new()
                    };
                    deleted.push((opened.sender, authors, order.message_hashes.clone()));
                    // Messages deleted by hash are told to the reader, which may have shown
                    // them already.
                    #[cfg(feature = "message-extras")]
                    if !order.message_hashes.is_empty() && opened.sender != own {
                        let mut told = notice(hash.clone(), "deleted a message".into());
                        told.extras.group_deletion = Some(crate::message::extras::GroupDeletion {
                            hashes: order.message_hashes.clone(),
                            by_admin: order.admin_signature.is_some(),
                        });
                        fresh.push(told);
                    }
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
                    fresh.push(notice(hash, text));
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
                #[cfg(feature = "message-extras")]
                extras: crate::message::extras::Extras::read(&content_bytes)
                    .from_sender(&opened.sender),
            });
        }
        // What the orders delete is not handed out (this read's) and not shown later.
        for (by, authors, hashes) in &deleted {
            let signed = !authors.is_empty();
            fresh.retain(|m| {
                m.group != Some(account)
                    || m.notice
                    || !(authors.contains(&m.from)
                        || (hashes.contains(&m.hash) && (signed || m.from == *by)))
            });
            if signed {
                let mut st = self.state.borrow_mut();
                for h in hashes {
                    st.seen.mark(h, now.saturating_add(TTL_MAXIMUM_MS));
                }
            }
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
                self.push_members(record, group, &roster).await?;
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

    /// Whether −11 holds a notice naming us for our current generation or later (the group
    /// is then marked removed, its auth dropped).
    pub(super) fn take_kicked(&self, record: &mut Record, notices: Option<&Vec<Stored>>) -> bool {
        let current = record.generation().unwrap_or(0);
        let pk = record.group_pk().to_bytes();
        let kicked = notices.into_iter().flatten().any(|(_, _, _, data)| {
            matches!(kicked::decrypt(&self.identity, &pk, data), Ok(Some(g)) if g >= current)
        });
        if kicked {
            record.status = GroupStatus::Removed;
            record.auth = None;
        }
        kicked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::groups::fixtures;

    fn key(generation: u64, timestamp_ms: u64) -> GroupKey {
        GroupKey {
            generation,
            key: [generation as u8; 32],
            timestamp_ms,
        }
    }

    #[test]
    fn who_may_write_under_which_key() {
        let member = fixtures::member().session_id();
        let removed = fixtures::admin().session_id();
        let mut roster = BTreeMap::new();
        roster.insert(member, Member::default());
        // Generation 1 came at 1000 (the removal); 2 at 2000.
        let keys = [key(2, 2000), key(1, 1000), key(0, 10)];
        assert!(admitted(&roster, &keys, member, 0, 5000));
        // Not a member: under the newest key, or before the group moved past the key used.
        assert!(admitted(&roster, &keys, removed, 2, 5000));
        assert!(admitted(&roster, &keys, removed, 0, 999));
        assert!(!admitted(&roster, &keys, removed, 0, 1000));
        assert!(!admitted(&roster, &keys, removed, 1, 2500));
        // Marked removed in Members counts as not a member.
        roster.insert(
            removed,
            Member {
                removed: Some(1),
                ..Member::default()
            },
        );
        assert!(!admitted(&roster, &keys, removed, 0, 1000));
    }

    #[test]
    fn notices_read_as_text() {
        let group = fixtures::group();
        let who = fixtures::member().session_id();
        let added = control::member_change(&group, control::MEMBERS_ADDED, &[who], true, 1);
        assert_eq!(
            notice_text(&added).unwrap(),
            format!("added {who} (with the group's history)")
        );
        let timer = control::info_change(&group, control::INFO_DISAPPEARING, None, Some(0), 1);
        assert_eq!(
            notice_text(&timer).unwrap(),
            "turned off disappearing messages"
        );
        let name = control::info_change(&group, control::INFO_NAME, Some("x\u{202e}y"), None, 1);
        // The name is isolated, so its direction marks cannot turn the sentence around.
        assert_eq!(
            notice_text(&name).unwrap(),
            "renamed the group to \u{2068}x\u{202e}y\u{2069}"
        );
        assert_eq!(notice_text(&GroupUpdateMessage::default()), None);
    }
}
