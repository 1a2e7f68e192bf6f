//! What admins do: create a group, rekey, push Info and Members, invite (with history or
//! not), remove (kicked notice, revocation, rekey), promote, rename, delete for everyone.

use std::collections::{BTreeMap, BTreeSet};

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::{
    CONFIG_TTL_MS, GroupStatus, NAMESPACE_INFO, NAMESPACE_KEYS, NAMESPACE_KICKED,
    NAMESPACE_MEMBERS, NAMESPACE_MESSAGES, Record, Signer, bad, check_info_text,
};

use crate::SessionId;
use crate::client::engine::Client;
use crate::client::error::{ClientError, ClientResult};
use crate::client::platform::{Clock, Store, Transport};
use crate::config::message::{ConfigMessage, hash};
use crate::config::{Data, seal};
use crate::groups::control::{self, GroupUpdateMessage};
use crate::groups::info::{Info, Member, Pending, write_members};
use crate::groups::keys::{self};
use crate::groups::{GroupKeys, auth, kicked, message as group_message};
use crate::network::ManifestNode;
use crate::rpc::{AccountId, DeleteAllParams, DeleteParams, Namespace, Request, RevokeParams};

impl<T: Transport, C: Clock, S: Store, R: CryptoRng> Client<T, C, S, R> {
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
            seed: Some(hex::encode(seed.as_ref())),
            joined_s: i64::try_from(now / 1000).unwrap_or(0),
            ..Record::new(&account, name.to_owned(), GroupStatus::Joined)
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
    pub(super) async fn rekey(
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

    /// Pushes Members holding `roster` (the other keys of the config kept).
    pub(super) async fn push_members(
        &self,
        record: &mut Record,
        group: &GroupKeys,
        roster: &BTreeMap<SessionId, Member>,
    ) -> ClientResult<()> {
        let mut data = record
            .config(NAMESPACE_MEMBERS)
            .map(|(m, _)| m.data)
            .unwrap_or_default();
        write_members(&mut data, roster)?;
        self.push_config(record, group, NAMESPACE_MEMBERS, data)
            .await
    }

    /// Pushes Info holding `info` (the other keys of the config kept).
    pub(super) async fn push_info(
        &self,
        record: &mut Record,
        group: &GroupKeys,
        info: &Info,
    ) -> ClientResult<()> {
        let mut data = record
            .config(NAMESPACE_INFO)
            .map(|(m, _)| m.data)
            .unwrap_or_default();
        info.write(&mut data)?;
        self.push_config(record, group, NAMESPACE_INFO, data).await
    }

    /// Posts an admin's notice (`update`, signed for `sent_ms`) to the group.
    pub(super) async fn announce(
        &self,
        record: &Record,
        group: &GroupKeys,
        update: GroupUpdateMessage,
        sent_ms: u64,
    ) -> ClientResult<()> {
        let admin = Signer::Admin(GroupKeys::from_seed(group.seed()));
        let content = Self::control_content(update, sent_ms);
        self.post(record, &admin, content, sent_ms, self.config.message_ttl_ms)
            .await
            .map(|_| ())
    }

    /// Signs, seals and pushes the next Info or Members message holding `data`.
    pub(super) async fn push_config(
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

    /// Sends the group's invitation to each of `invitees` (already in its Members) and
    /// records each as sent or failed; returns the ones that failed.
    pub(super) async fn send_invites(
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
                    crate::client::NAMESPACE_DM,
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
        self.push_members(&mut record, &group, &roster).await?;
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
        self.push_members(&mut record, &group, &roster).await?;
        let notice = control::member_change(&group, control::MEMBERS_ADDED, &ids, history, now);
        self.announce(&record, &group, notice, now).await?;
        self.put_record(record).await?;
        self.send_invites(group_id, &new).await
    }

    /// Removes `members` from a group (admins only): the kicked notice, revocation of their
    /// tokens, then a new key without them and Members without them. They keep what they
    /// could read before; nothing sent after opens for them, and their tokens are refused.
    ///
    /// With `delete_messages`, what they wrote goes too: deleted from the group's swarm, and
    /// a signed `deleteMemberContent` tells the others' apps to drop their copies.
    pub async fn remove_from_group(
        &self,
        group_id: &AccountId,
        members: &[SessionId],
        delete_messages: bool,
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
        if delete_messages {
            self.delete_content(&mut record, &group, &targets).await?;
        }
        self.put_record(record).await
    }

    /// Deletes from the swarm every message `authors` wrote that it still holds, and posts the
    /// signed order for the others' copies.
    async fn delete_content(
        &self,
        record: &mut Record,
        group: &GroupKeys,
        authors: &[SessionId],
    ) -> ClientResult<()> {
        let account = record.account();
        let admin = Signer::Admin(GroupKeys::from_seed(group.seed()));
        let mut all = self
            .read_new(
                &account,
                &[NAMESPACE_MESSAGES],
                &admin,
                &mut BTreeMap::new(),
            )
            .await?;
        let keys: Vec<[u8; 32]> = record.keys().iter().map(|k| k.key).collect();
        let pk = record.group_pk().to_bytes();
        let hashes: Vec<String> = all
            .remove(&NAMESPACE_MESSAGES.0)
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, _, _, data)| {
                group_message::decrypt(&pk, &keys, data).is_ok_and(|m| authors.contains(&m.sender))
            })
            .map(|(hash, _, _, _)| hash)
            .collect();
        if !hashes.is_empty() {
            let delete = |_: u64, _: &ManifestNode| {
                Request::Delete(DeleteParams::new(&account, hashes.clone())).signed_by_group(group)
            };
            self.call(self.swarm_of(&account), Some(&account), &delete)
                .await?;
        }
        let now = self.network_now_ms();
        let order = control::delete_member_content(group, authors, &hashes, now);
        self.announce(record, group, order, now).await?;
        Ok(())
    }

    pub(super) async fn remove_members(
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
        self.push_members(record, group, &roster).await?;
        if notice {
            let now = self.network_now_ms();
            let update =
                control::member_change(group, control::MEMBERS_REMOVED, targets, false, now);
            self.announce(record, group, update, now).await?;
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
                crate::client::NAMESPACE_DM,
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
        self.push_members(&mut record, &group, &roster).await?;
        let notice =
            control::member_change(&group, control::MEMBERS_PROMOTED, &[*member], false, now);
        self.announce(&record, &group, notice, now).await?;
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
        self.push_info(&mut record, &group, &info).await?;
        let now = self.network_now_ms();
        if let Some(n) = name {
            let update = control::info_change(&group, control::INFO_NAME, Some(n), None, now);
            self.announce(&record, &group, update, now).await?;
        }
        if let Some(s) = disappear_s {
            let update =
                control::info_change(&group, control::INFO_DISAPPEARING, None, Some(s), now);
            self.announce(&record, &group, update, now).await?;
        }
        if !info.name.is_empty() {
            record.name = info.name;
        }
        self.put_record(record).await
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
        self.push_info(&mut record, &group, &info).await?;
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
