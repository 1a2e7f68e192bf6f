//! Control messages (SESSION-GROUPS.md §9): `GroupUpdateMessage` in `DataMessage` field 120.
//! Invitations and promotions travel as direct messages; the rest as group messages (ns 11).
//!
//! These types are kept apart from [`crate::message::proto`]'s `Content`: a serialized
//! protobuf message followed by another is their merge, so a control message is written as
//! the plain `Content` bytes then a `Content { dataMessage { groupUpdateMessage } }` of its
//! own, and read from the same bytes by decoding them a second time as [`GroupContent`]. Code
//! that never handles groups (the web app, for now) does not carry these types.
//!
//! Also here: the inner envelope of a group message (§7, `type = CLOSED_GROUP_MESSAGE`).

use ed25519_dalek::{Signature, Signer as _, VerifyingKey};
use prost::Message as _;
use rand_core::CryptoRng;

use super::GroupKeys;
use crate::error::{Error, Result};
use crate::keys::SessionId;
use crate::message::proto::Envelope;

/// `Envelope.type` of a group message.
pub const ENVELOPE_GROUP_MESSAGE: i32 = 7;

/// `Content`, read for its data message's field 120 only.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GroupContent {
    #[prost(message, optional, tag = "1")]
    pub data_message: Option<GroupData>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct GroupData {
    #[prost(message, optional, tag = "120")]
    pub group_update_message: Option<GroupUpdateMessage>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct GroupUpdateMessage {
    #[prost(message, optional, tag = "1")]
    pub invite_message: Option<InviteMessage>,
    #[prost(message, optional, tag = "2")]
    pub info_change_message: Option<InfoChangeMessage>,
    #[prost(message, optional, tag = "3")]
    pub member_change_message: Option<MemberChangeMessage>,
    #[prost(message, optional, tag = "4")]
    pub promote_message: Option<PromoteMessage>,
    #[prost(message, optional, tag = "5")]
    pub member_left_message: Option<Empty>,
    #[prost(message, optional, tag = "6")]
    pub invite_response: Option<InviteResponse>,
    #[prost(message, optional, tag = "7")]
    pub delete_member_content: Option<DeleteMemberContent>,
    #[prost(message, optional, tag = "8")]
    pub member_left_notification_message: Option<Empty>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct InviteMessage {
    #[prost(string, required, tag = "1")]
    pub group_session_id: String,
    #[prost(string, required, tag = "2")]
    pub name: String,
    #[prost(bytes = "vec", required, tag = "3")]
    pub member_auth_data: Vec<u8>,
    #[prost(bytes = "vec", required, tag = "4")]
    pub admin_signature: Vec<u8>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct PromoteMessage {
    #[prost(bytes = "vec", required, tag = "1")]
    pub group_identity_seed: Vec<u8>,
    #[prost(string, required, tag = "2")]
    pub name: String,
}

/// `GroupUpdateInfoChangeMessage.Type`.
pub const INFO_NAME: i32 = 1;
pub const INFO_AVATAR: i32 = 2;
pub const INFO_DISAPPEARING: i32 = 3;

#[derive(Clone, PartialEq, prost::Message)]
pub struct InfoChangeMessage {
    #[prost(int32, required, tag = "1")]
    pub r#type: i32,
    #[prost(string, optional, tag = "2")]
    pub updated_name: Option<String>,
    #[prost(uint32, optional, tag = "3")]
    pub updated_expiration: Option<u32>,
    #[prost(bytes = "vec", required, tag = "4")]
    pub admin_signature: Vec<u8>,
}

/// `GroupUpdateMemberChangeMessage.Type`.
pub const MEMBERS_ADDED: i32 = 1;
pub const MEMBERS_REMOVED: i32 = 2;
pub const MEMBERS_PROMOTED: i32 = 3;

#[derive(Clone, PartialEq, prost::Message)]
pub struct MemberChangeMessage {
    #[prost(int32, required, tag = "1")]
    pub r#type: i32,
    #[prost(string, repeated, tag = "2")]
    pub member_session_ids: Vec<String>,
    #[prost(bool, optional, tag = "3")]
    pub history_shared: Option<bool>,
    #[prost(bytes = "vec", required, tag = "4")]
    pub admin_signature: Vec<u8>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct InviteResponse {
    #[prost(bool, required, tag = "1")]
    pub is_approved: bool,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct DeleteMemberContent {
    #[prost(string, repeated, tag = "1")]
    pub member_session_ids: Vec<String>,
    #[prost(string, repeated, tag = "2")]
    pub message_hashes: Vec<String>,
    #[prost(bytes = "vec", optional, tag = "3")]
    pub admin_signature: Option<Vec<u8>>,
}

/// `GroupUpdateMemberLeftMessage`, `GroupUpdateMemberLeftNotificationMessage`: no fields.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Empty {}

/// The control message in serialized `Content` bytes, if there is one.
pub fn read(content: &[u8]) -> Option<GroupUpdateMessage> {
    GroupContent::decode(content)
        .ok()?
        .data_message?
        .group_update_message
}

/// `content` (a serialized `Content`) with `update` merged into its data message.
pub fn append(mut content: Vec<u8>, update: GroupUpdateMessage) -> Vec<u8> {
    GroupContent {
        data_message: Some(GroupData {
            group_update_message: Some(update),
        }),
    }
    .encode(&mut content)
    .expect("a Vec grows");
    content
}

/// What the invitation's admin signature covers: `"INVITE" ‖ invitee ‖ TS`.
fn invite_signed(invitee: &SessionId, sent_ms: u64) -> Vec<u8> {
    format!("INVITE{invitee}{sent_ms}").into_bytes()
}

/// An invitation for `invitee` with its 100-byte auth data, sent at `sent_ms` (the envelope's
/// time, which the signature covers).
pub fn invite(
    group: &GroupKeys,
    name: &str,
    invitee: &SessionId,
    auth: &[u8],
    sent_ms: u64,
) -> GroupUpdateMessage {
    let sig = group.signing_key().sign(&invite_signed(invitee, sent_ms));
    GroupUpdateMessage {
        invite_message: Some(InviteMessage {
            group_session_id: hex::encode(group.group_id()),
            name: name.to_owned(),
            member_auth_data: auth.to_vec(),
            admin_signature: sig.to_bytes().to_vec(),
        }),
        ..Default::default()
    }
}

/// The group an invitation to `me`, sent at `sent_ms`, is for, once its admin signature
/// verifies under that group's key.
pub fn verify_invite(invite: &InviteMessage, me: &SessionId, sent_ms: u64) -> Result<[u8; 33]> {
    let id: [u8; 33] = hex::decode(&invite.group_session_id)
        .ok()
        .and_then(|b| b.try_into().ok())
        .filter(|b: &[u8; 33]| b[0] == 0x03)
        .ok_or(Error::Malformed("invite: not a group ID"))?;
    let key = group_key(&id)?;
    verify(&key, &invite_signed(me, sent_ms), &invite.admin_signature)?;
    Ok(id)
}

/// The group's Ed25519 key, from its `03…` ID.
pub fn group_key(id: &[u8; 33]) -> Result<VerifyingKey> {
    VerifyingKey::from_bytes(id[1..].try_into().expect("32 bytes")).map_err(|_| Error::InvalidKey)
}

fn verify(key: &VerifyingKey, message: &[u8], sig: &[u8]) -> Result<()> {
    let sig: [u8; 64] = sig.try_into().map_err(|_| Error::BadSignature)?;
    key.verify_strict(message, &Signature::from_bytes(&sig))
        .map_err(|_| Error::BadSignature)
}

fn info_signed(kind: i32, sent_ms: u64) -> Vec<u8> {
    format!("INFO_CHANGE{kind}{sent_ms}").into_bytes()
}

fn members_signed(kind: i32, sent_ms: u64) -> Vec<u8> {
    format!("MEMBER_CHANGE{kind}{sent_ms}").into_bytes()
}

/// An admin's notice that the group's name or timer changed.
pub fn info_change(
    group: &GroupKeys,
    kind: i32,
    name: Option<&str>,
    expiration_s: Option<u32>,
    sent_ms: u64,
) -> GroupUpdateMessage {
    let sig = group.signing_key().sign(&info_signed(kind, sent_ms));
    GroupUpdateMessage {
        info_change_message: Some(InfoChangeMessage {
            r#type: kind,
            updated_name: name.map(str::to_owned),
            updated_expiration: expiration_s,
            admin_signature: sig.to_bytes().to_vec(),
        }),
        ..Default::default()
    }
}

/// An admin's notice that members were added, removed or promoted.
pub fn member_change(
    group: &GroupKeys,
    kind: i32,
    members: &[SessionId],
    history_shared: bool,
    sent_ms: u64,
) -> GroupUpdateMessage {
    let sig = group.signing_key().sign(&members_signed(kind, sent_ms));
    GroupUpdateMessage {
        member_change_message: Some(MemberChangeMessage {
            r#type: kind,
            member_session_ids: members.iter().map(ToString::to_string).collect(),
            history_shared: history_shared.then_some(true),
            admin_signature: sig.to_bytes().to_vec(),
        }),
        ..Default::default()
    }
}

fn delete_signed(sent_ms: u64, members: &[String], hashes: &[String]) -> Vec<u8> {
    let mut m = format!("DELETE_CONTENT{sent_ms}").into_bytes();
    for id in members {
        m.extend_from_slice(id.as_bytes());
    }
    for h in hashes {
        m.extend_from_slice(h.as_bytes());
    }
    m
}

/// A member's order to delete its own messages `hashes` for everyone (unsigned: each reader
/// deletes only those the sender wrote).
pub fn delete_own_messages(hashes: &[String]) -> GroupUpdateMessage {
    GroupUpdateMessage {
        delete_member_content: Some(DeleteMemberContent {
            member_session_ids: Vec::new(),
            message_hashes: hashes.to_vec(),
            admin_signature: None,
        }),
        ..Default::default()
    }
}

/// An admin's order to delete everything `members` wrote and the messages `hashes`.
pub fn delete_member_content(
    group: &GroupKeys,
    members: &[SessionId],
    hashes: &[String],
    sent_ms: u64,
) -> GroupUpdateMessage {
    let ids: Vec<String> = members.iter().map(ToString::to_string).collect();
    let sig = group
        .signing_key()
        .sign(&delete_signed(sent_ms, &ids, hashes));
    GroupUpdateMessage {
        delete_member_content: Some(DeleteMemberContent {
            member_session_ids: ids,
            message_hashes: hashes.to_vec(),
            admin_signature: Some(sig.to_bytes().to_vec()),
        }),
        ..Default::default()
    }
}

/// Whether an admin notice carries a good signature of the group's key (members check it
/// themselves: a member holding only a write token could post one otherwise).
pub fn verify_notice(group: &VerifyingKey, update: &GroupUpdateMessage, sent_ms: u64) -> bool {
    if let Some(m) = &update.info_change_message {
        return verify(group, &info_signed(m.r#type, sent_ms), &m.admin_signature).is_ok();
    }
    if let Some(m) = &update.member_change_message {
        return verify(
            group,
            &members_signed(m.r#type, sent_ms),
            &m.admin_signature,
        )
        .is_ok();
    }
    if let Some(m) = &update.delete_member_content {
        // Unsigned, it is a member deleting its own messages (the reader checks the author).
        return m.admin_signature.as_ref().is_none_or(|sig| {
            verify(
                group,
                &delete_signed(sent_ms, &m.member_session_ids, &m.message_hashes),
                sig,
            )
            .is_ok()
        });
    }
    true
}

/// The envelope inside a group message (§7): type 7, `sourceDevice` 1, the send time, the
/// `Content` as it is, and a decoy Pro signature (`r·B ‖ random scalar`: Murmur has no Pro).
pub fn envelope(content: Vec<u8>, sent_ms: u64, rng: &mut impl CryptoRng) -> Vec<u8> {
    let mut r = [0u8; 64];
    rng.fill_bytes(&mut r);
    let r = curve25519_dalek::Scalar::from_bytes_mod_order_wide(&r);
    let big_r = curve25519_dalek::constants::ED25519_BASEPOINT_POINT * r;
    let mut s = [0u8; 64];
    rng.fill_bytes(&mut s);
    let s = curve25519_dalek::Scalar::from_bytes_mod_order_wide(&s);
    Envelope {
        r#type: ENVELOPE_GROUP_MESSAGE,
        source: None,
        timestamp: sent_ms,
        source_device: Some(1),
        content: Some(content),
        pro_sig: Some([big_r.compress().to_bytes(), s.to_bytes()].concat()),
    }
    .encode_to_vec()
}

/// A group message's envelope: its send time and `Content` bytes.
pub fn open_envelope(data: &[u8]) -> Result<(u64, Vec<u8>)> {
    let env = Envelope::decode(data).map_err(|_| Error::Malformed("not an Envelope"))?;
    if env.r#type != ENVELOPE_GROUP_MESSAGE {
        return Err(Error::Malformed("not a group message envelope"));
    }
    let content = env
        .content
        .ok_or(Error::Malformed("Envelope has no content"))?;
    Ok((env.timestamp, content))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::groups::fixtures;
    use crate::message::proto::Content;
    use crate::message::text_content;

    #[test]
    fn computed_invite_signature() {
        // SESSION-GROUPS.md §9: the group of §6.5 invites its member at TS 1700000000000.
        let group = fixtures::group();
        let member = fixtures::member().session_id();
        let update = invite(&group, "g", &member, &[0; 100], 1_700_000_000_000);
        let sig = update
            .invite_message
            .as_ref()
            .unwrap()
            .admin_signature
            .clone();
        assert_eq!(
            hex::encode(&sig),
            "ed8723c158cddaa85e350da925ded4cd1e457f3918b77253cfdc81a869f2d0fa8397887dd90dac3dd577a6078d816977cb966e9b68432a0f66a5c39461443c0f"
        );
        let inv = update.invite_message.unwrap();
        assert_eq!(
            verify_invite(&inv, &member, 1_700_000_000_000).unwrap(),
            group.group_id()
        );
        // Another time, another invitee, another group's ID: refused.
        assert!(verify_invite(&inv, &member, 1_700_000_000_001).is_err());
        let other = fixtures::admin().session_id();
        assert!(verify_invite(&inv, &other, 1_700_000_000_000).is_err());
        let mut moved = inv.clone();
        moved.group_session_id = hex::encode(GroupKeys::from_seed(&[9; 32]).group_id());
        assert!(verify_invite(&moved, &member, 1_700_000_000_000).is_err());
    }

    #[test]
    fn a_control_message_rides_along_a_plain_content() {
        let group = fixtures::group();
        let plain = text_content("hi", 5, None).encode_to_vec();
        let update = member_change(
            &group,
            MEMBERS_ADDED,
            &[fixtures::member().session_id()],
            true,
            5,
        );
        let both = append(plain, update.clone());
        // Both readers see their part.
        let content = Content::decode(both.as_slice()).unwrap();
        assert_eq!(content.data_message.unwrap().body.as_deref(), Some("hi"));
        assert_eq!(read(&both), Some(update.clone()));
        assert!(verify_notice(&group.public(), &update, 5));
        assert!(!verify_notice(&group.public(), &update, 6));
        assert!(!verify_notice(
            &GroupKeys::from_seed(&[9; 32]).public(),
            &update,
            5
        ));
        assert_eq!(read(&text_content("hi", 5, None).encode_to_vec()), None);
        // An order to delete content: signed over the members and hashes it lists.
        let member = fixtures::member().session_id();
        let order = delete_member_content(&group, &[member], &["h1".into()], 5);
        assert!(verify_notice(&group.public(), &order, 5));
        let mut widened = order.clone();
        widened
            .delete_member_content
            .as_mut()
            .unwrap()
            .member_session_ids
            .push(fixtures::admin().session_id().to_string());
        assert!(!verify_notice(&group.public(), &widened, 5));
    }

    #[test]
    fn the_envelope_round_trips_and_is_checked() {
        use rand_core::SeedableRng as _;
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        let data = envelope(b"content".to_vec(), 42, &mut rng);
        assert_eq!(open_envelope(&data).unwrap(), (42, b"content".to_vec()));
        let dm = crate::message::proto::Envelope {
            r#type: 6,
            source: None,
            timestamp: 1,
            source_device: None,
            content: Some(vec![1]),
            pro_sig: None,
        };
        assert!(open_envelope(&dm.encode_to_vec()).is_err());
        assert!(open_envelope(b"\xff\xff").is_err());
    }
}
