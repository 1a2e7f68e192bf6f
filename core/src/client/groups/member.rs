//! What every member does: take an invitation or promotion that came by direct message,
//! accept or decline, post to the group (messages and control messages), leave.

use prost::Message as _;
use rand_core::CryptoRng;

use super::{GroupStatus, NAMESPACE_MESSAGES, Record, Signer, bad};

use crate::SessionId;
use crate::client::engine::Client;
use crate::client::error::{ClientError, ClientResult};
use crate::client::messaging::Sent;
use crate::client::platform::{Clock, Store, Transport};
use crate::client::v2::Protocol;
use crate::groups::control::{self, GroupUpdateMessage};
use crate::groups::{GroupKeys, auth, message as group_message};
use crate::message::{Body, message_content};
use crate::network::ManifestNode;
use crate::rpc::{AccountId, DeleteParams, Request, TTL_MAXIMUM_MS, TTL_MINIMUM_MS};

impl<T: Transport, C: Clock, S: Store, R: CryptoRng> Client<T, C, S, R> {
    /// Stores a group message (or control message) in the group's swarm.
    pub(super) async fn post(
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
            max: crate::client::MAX_TEXT_BYTES,
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
    pub(super) fn control_content(update: GroupUpdateMessage, sent_ms: u64) -> Vec<u8> {
        control::append(
            message_content(&Body::default(), sent_ms, None).encode_to_vec(),
            update,
        )
    }

    /// Takes a control message that came as a direct message (an invitation or promotion);
    /// true if `content` was one (it is then not a chat message).
    pub(in crate::client) async fn take_direct_control(
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
            let records = self.load_groups().await?;
            let id = account.to_hex();
            let mut record = match records.iter().find(|r| r.id == id) {
                Some(r) => r.clone(),
                // Invitations past the most groups an account keeps are dropped, not kept
                // failing every poll (anyone can make groups and invite).
                None if records.len() >= super::MAX_GROUPS => return Ok(true),
                None => Record::new(&account, String::new(), GroupStatus::Invited),
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

    pub(super) async fn forget_group(&self, group_id: &AccountId) -> ClientResult<()> {
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
        self.send_to_group_with(group_id, body, &Default::default(), disappear_after_s)
            .await
    }

    /// Deletes messages `hashes` of the group for everyone: an admin's from the swarm too, with
    /// a signed `deleteMemberContent`; a member's (its own messages only: readers check the
    /// author of each, and a member's token cannot delete from the swarm, where they expire)
    /// with an unsigned one.
    pub async fn delete_group_messages(
        &self,
        group_id: &AccountId,
        hashes: &[String],
    ) -> ClientResult<()> {
        self.ready().await?;
        let record = self.record(group_id).await?;
        if record.status != GroupStatus::Joined {
            return Err(bad("not a member of this group"));
        }
        let now = self.network_now_ms();
        match record.admin() {
            Some(group) => {
                let account = record.account();
                let delete = |_: u64, _: &ManifestNode| {
                    Request::Delete(DeleteParams::new(&account, hashes.to_vec()))
                        .signed_by_group(&group)
                };
                self.call(self.swarm_of(&account), Some(&account), &delete)
                    .await?;
                let order = control::delete_member_content(&group, &[], hashes, now);
                self.announce(&record, &group, order, now).await
            }
            None => {
                let signer = record.signer(&self.identity)?;
                let content = Self::control_content(control::delete_own_messages(hashes), now);
                self.post(&record, &signer, content, now, self.config.message_ttl_ms)
                    .await
                    .map(|_| ())
            }
        }
    }

    /// [`Self::send_to_group`] carrying a reply's quote, a reaction or an unsend request too.
    pub async fn send_to_group_with(
        &self,
        group_id: &AccountId,
        body: &Body,
        extras: &crate::message::extras::Extras,
        disappear_after_s: Option<u32>,
    ) -> ClientResult<Sent> {
        if body.text.len() > crate::client::MAX_TEXT_BYTES {
            return Err(ClientError::TooLong {
                max: crate::client::MAX_TEXT_BYTES,
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
        let mut content = message_content(body, sent_ms, disappear).encode_to_vec();
        extras.append_to(&mut content);
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
            sync_hash: None,
            protocol: Protocol::V1,
        })
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
}
