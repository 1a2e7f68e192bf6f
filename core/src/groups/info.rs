//! A group's Info and Members (SESSION-GROUPS.md §4, §5, namespaces 13 and 14): config objects
//! (`crate::config`) signed by the group's key and encrypted under its shared key. This module
//! reads and writes their data as types; what a string may hold is checked on both sides.

use std::collections::BTreeMap;

use crate::config::{self, Data, Value};
use crate::error::{Error, Result};
use crate::keys::SessionId;

/// Longest group name and description (bytes), and picture URL.
pub const NAME_MAX: usize = 100;
pub const DESCRIPTION_MAX: usize = 2000;
pub const PICTURE_URL_MAX: usize = 223;
/// Most members a group has (a client rule: Session's limit).
pub const MEMBERS_MAX: usize = 100;

/// A picture: where it is and the key it is encrypted under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    pub url: String,
    pub key: [u8; 32],
}

/// The group's Info (ns 13).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Info {
    pub name: String,
    pub description: String,
    pub picture: Option<Picture>,
    /// Unix seconds.
    pub created_s: i64,
    /// Receivers delete messages (attachments) sent before this (unix seconds).
    pub delete_before_s: i64,
    pub delete_attachments_before_s: i64,
    /// The disappearing timer (delete after send), seconds.
    pub disappear_s: Option<i64>,
    /// Destroyed for everyone.
    pub destroyed: bool,
}

fn text(d: &Data, key: &[u8]) -> Option<String> {
    config::bytes(d, key).map(|b| String::from_utf8_lossy(b).into_owned())
}

fn picture(d: &Data) -> Option<Picture> {
    let url = text(d, b"p")?;
    let key = match d.get(b"q".as_slice()) {
        Some(Value::Str(k)) => k.as_slice().try_into().ok()?,
        _ => return None,
    };
    Some(Picture { url, key })
}

fn put_str(d: &mut Data, key: &[u8], value: &str) {
    if value.is_empty() {
        d.remove(key);
    } else {
        d.insert(key.to_vec(), Value::Str(value.as_bytes().to_vec()));
    }
}

/// Positive values only; anything else removes the key (libsession's setters).
fn put_positive(d: &mut Data, key: &[u8], value: i64) {
    if value > 0 {
        d.insert(key.to_vec(), Value::Int(value));
    } else {
        d.remove(key);
    }
}

fn put_picture(d: &mut Data, picture: Option<&Picture>) {
    match picture {
        Some(p) => {
            d.insert(b"p".to_vec(), Value::Str(p.url.as_bytes().to_vec()));
            d.insert(b"q".to_vec(), Value::Str(p.key.to_vec()));
        }
        None => {
            d.remove(b"p".as_slice());
            d.remove(b"q".as_slice());
        }
    }
}

/// A name or text that may be shown: within `max` bytes, no NUL.
fn check_text(value: &str, max: usize, what: &'static str) -> Result<()> {
    if value.len() > max || value.contains('\0') {
        return Err(Error::LimitExceeded(what));
    }
    Ok(())
}

fn check_picture(p: Option<&Picture>) -> Result<()> {
    if let Some(p) = p {
        check_text(&p.url, PICTURE_URL_MAX, "picture URL over 223 bytes")?;
    }
    Ok(())
}

impl Info {
    pub fn read(d: &Data) -> Self {
        Self {
            name: text(d, b"n").unwrap_or_default(),
            description: text(d, b"o").unwrap_or_default(),
            picture: picture(d),
            created_s: config::int(d, b"c").unwrap_or(0),
            delete_before_s: config::int(d, b"d").unwrap_or(0),
            delete_attachments_before_s: config::int(d, b"D").unwrap_or(0),
            disappear_s: config::int(d, b"E").filter(|&s| s > 0),
            destroyed: config::int(d, b"!") == Some(1),
        }
    }

    /// Writes this Info into `d` (keys this version does not know stay). Refuses a name over
    /// 100 bytes, a description over 2,000, a picture URL over 223, or a NUL.
    pub fn write(&self, d: &mut Data) -> Result<()> {
        check_text(&self.name, NAME_MAX, "group name over 100 bytes")?;
        check_text(
            &self.description,
            DESCRIPTION_MAX,
            "description over 2,000 bytes",
        )?;
        check_picture(self.picture.as_ref())?;
        put_str(d, b"n", &self.name);
        put_str(d, b"o", &self.description);
        put_picture(d, self.picture.as_ref());
        put_positive(d, b"c", self.created_s);
        put_positive(d, b"d", self.delete_before_s);
        put_positive(d, b"D", self.delete_attachments_before_s);
        put_positive(d, b"E", self.disappear_s.unwrap_or(0));
        put_positive(d, b"!", i64::from(self.destroyed));
        Ok(())
    }
}

/// An invitation's or promotion's state on the wire: sent, failed, not yet sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pending {
    Sent = 1,
    Failed = 2,
    NotSent = 3,
}

impl Pending {
    fn from_int(n: i64) -> Option<Self> {
        match n {
            1 => Some(Self::Sent),
            2 => Some(Self::Failed),
            3 => Some(Self::NotSent),
            _ => None,
        }
    }
}

/// One member (ns 14).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    pub picture: Option<Picture>,
    pub admin: bool,
    /// An invitation not yet accepted (never for an admin).
    pub invite: Option<Pending>,
    /// Invited with the group's history (a key supplement).
    pub with_history: bool,
    pub promotion: Option<Pending>,
    /// Removal pending: 1 the member, 2 the member and their messages.
    pub removed: Option<u8>,
}

impl Member {
    fn read(d: &Data) -> Self {
        let admin = config::int(d, b"A") == Some(1);
        let promotion = config::int(d, b"P").and_then(Pending::from_int);
        let invite = if admin {
            None
        } else {
            config::int(d, b"I").and_then(Pending::from_int)
        };
        Self {
            name: text(d, b"n").unwrap_or_default(),
            picture: picture(d),
            admin,
            with_history: invite.is_some()
                && promotion.is_none()
                && config::int(d, b"s") == Some(1),
            invite,
            promotion,
            removed: config::int(d, b"R")
                .filter(|r| matches!(r, 1 | 2))
                .map(|r| r as u8),
        }
    }

    fn write(&self, d: &mut Data) -> Result<()> {
        check_text(&self.name, NAME_MAX, "member name over 100 bytes")?;
        check_picture(self.picture.as_ref())?;
        // Always written, so the member's dict is never empty (and never pruned).
        d.insert(b"n".to_vec(), Value::Str(self.name.as_bytes().to_vec()));
        put_picture(d, self.picture.as_ref());
        put_positive(d, b"A", i64::from(self.admin));
        let invite = if self.admin { None } else { self.invite };
        put_positive(d, b"I", invite.map_or(0, |p| p as i64));
        put_positive(d, b"s", i64::from(self.with_history && invite.is_some()));
        put_positive(d, b"P", self.promotion.map_or(0, |p| p as i64));
        put_positive(d, b"R", i64::from(self.removed.unwrap_or(0)));
        Ok(())
    }
}

/// A member key: a 33-byte `05` Session ID.
fn session_id(id: &[u8]) -> Option<SessionId> {
    let id: &[u8; 33] = id.try_into().ok()?;
    (id[0] == 0x05).then(|| SessionId::from_x25519(id[1..].try_into().expect("32 bytes")))
}

/// The group's members (ns 14), by Session ID.
pub fn read_members(d: &Data) -> BTreeMap<SessionId, Member> {
    let Some(Value::Dict(m)) = d.get(b"m".as_slice()) else {
        return BTreeMap::new();
    };
    m.iter()
        .filter_map(|(id, v)| {
            // Keys that are not 33-byte 05 IDs, or values that are not dicts, are skipped.
            let Value::Dict(entry) = v else { return None };
            Some((session_id(id)?, Member::read(entry)))
        })
        .collect()
}

/// Writes `members` into `d`'s `m` (members not listed are removed). At most [`MEMBERS_MAX`].
pub fn write_members(d: &mut Data, members: &BTreeMap<SessionId, Member>) -> Result<()> {
    if members.len() > MEMBERS_MAX {
        return Err(Error::LimitExceeded("a group has at most 100 members"));
    }
    let entries: Vec<(&[u8], &Member)> = members
        .iter()
        .map(|(sid, m)| (sid.as_bytes().as_slice(), m))
        .collect();
    config::write_entries(d, b"m", &entries, Member::write)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::message::{ConfigMessage, hash};
    use crate::config::seal;
    use crate::groups::fixtures::{admin, group, member};

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn info_and_members_round_trip_signed_and_sealed() {
        let g = group();
        let info = Info {
            name: "Book club".into(),
            description: "Chapter 3 on Friday".into(),
            picture: Some(Picture {
                url: "http://files/file/abc".into(),
                key: [7; 32],
            }),
            created_s: 1_767_225_600,
            disappear_s: Some(86_400),
            ..Info::default()
        };
        let mut data = Data::new();
        info.write(&mut data).unwrap();
        let mut members = BTreeMap::new();
        members.insert(
            admin().session_id(),
            Member {
                name: "Ann".into(),
                admin: true,
                invite: Some(Pending::Sent),
                ..Member::default()
            },
        );
        members.insert(
            member().session_id(),
            Member {
                invite: Some(Pending::NotSent),
                with_history: true,
                ..Member::default()
            },
        );
        write_members(&mut data, &members).unwrap();

        let empty = ConfigMessage::empty();
        let m = empty.increment(hash(&empty.serialize(None)), data);
        let signer = g.signing_key();
        let bytes = m.serialize(Some(signer));
        let key = [9u8; 32];
        let sealed = seal::encrypt(&key, seal::DOMAIN_GROUP_INFO, &seal::prepare(&bytes));
        let opened = seal::decrypt(&key, seal::DOMAIN_GROUP_INFO, &sealed).unwrap();
        let back = ConfigMessage::parse(&opened, Some(&g.public())).unwrap();
        assert_eq!(Info::read(&back.data), info);
        let got = read_members(&back.data);
        assert_eq!(got.len(), 2);
        // An admin's invitation is not written; the other keeps its history flag.
        assert_eq!(got[&admin().session_id()].invite, None);
        assert!(got[&admin().session_id()].admin);
        assert!(got[&member().session_id()].with_history);
        assert_eq!(got[&member().session_id()].name, "");
        // Signed by someone else: a member refuses it.
        let forged = m.serialize(Some(&ed25519_dalek::SigningKey::from_bytes(&[1; 32])));
        assert!(ConfigMessage::parse(&forged, Some(&g.public())).is_err());
    }

    #[test]
    fn oversized_and_malformed_values_are_refused_or_skipped() {
        let long = "x".repeat(NAME_MAX + 1);
        let mut d = Data::new();
        let before = d.clone();
        assert!(
            Info {
                name: long.clone(),
                ..Info::default()
            }
            .write(&mut d)
            .is_err()
        );
        assert!(
            Info {
                description: "y".repeat(DESCRIPTION_MAX + 1),
                ..Info::default()
            }
            .write(&mut d)
            .is_err()
        );
        assert!(
            Info {
                name: "a\0b".into(),
                ..Info::default()
            }
            .write(&mut d)
            .is_err()
        );
        assert_eq!(d, before, "nothing written");
        let mut many = BTreeMap::new();
        for i in 0..=MEMBERS_MAX as u8 {
            many.insert(SessionId::from_x25519([i; 32]), Member::default());
        }
        assert!(write_members(&mut d, &many).is_err(), "a 101st member");
        // Entries under keys that are not Session IDs, or that are not dicts, are skipped.
        let mut m = Data::new();
        m.insert(
            vec![5; 10],
            Value::Dict([(b"n".to_vec(), Value::Int(1))].into()),
        );
        m.insert(member().session_id().as_bytes().to_vec(), Value::Int(3));
        d.insert(b"m".to_vec(), Value::Dict(m));
        assert!(read_members(&d).is_empty());
    }
}
