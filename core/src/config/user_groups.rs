//! The groups part of a user's UserGroups config (namespace 5, domain `UserGroups`;
//! SESSION-GROUPS.md §3, SESSION-ATTACHMENTS-CONFIG.md §B.9): the groups an account is in, so
//! another device of the account finds them. Keyed by the 33-byte group ID (`03…`).

use std::collections::BTreeMap;

use super::{Data, Value, bytes, int, write_entries};
use crate::error::{Error, Result};

/// One group the account is in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupEntry {
    /// The group's seed, for an admin (`K`; written empty for a member).
    pub seed: Option<[u8; 32]>,
    /// A member's 100-byte auth data (`s`; only without a seed).
    pub auth: Option<Vec<u8>>,
    /// The name from the invitation (`n`).
    pub name: String,
    /// `r`: 1 removed from the group, 2 the group was destroyed.
    pub removed: Option<u8>,
    /// `i`: the invitation is not yet accepted.
    pub invite_pending: bool,
    /// `j`: when it was joined (unix seconds).
    pub joined_s: i64,
    /// `+`: pinned (> 0), hidden (−1).
    pub priority: i64,
    /// `@`: notifications (1 all, 2 off, 3 mentions only).
    pub notify: Option<i64>,
    /// `!`: muted until (unix seconds).
    pub mute_until_s: i64,
}

fn put_int(d: &mut Data, key: &[u8], value: i64) {
    if value == 0 {
        d.remove(key);
    } else {
        d.insert(key.to_vec(), Value::Int(value));
    }
}

impl GroupEntry {
    fn read(d: &Data) -> Self {
        let seed = bytes(d, b"K").and_then(|k| k.try_into().ok());
        Self {
            auth: if seed.is_none() {
                bytes(d, b"s")
                    .filter(|s| s.len() == 100)
                    .map(<[u8]>::to_vec)
            } else {
                None
            },
            seed,
            name: bytes(d, b"n")
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default(),
            removed: int(d, b"r").filter(|r| matches!(r, 1 | 2)).map(|r| r as u8),
            invite_pending: int(d, b"i") == Some(1),
            joined_s: int(d, b"j").unwrap_or(0),
            priority: int(d, b"+").unwrap_or(0),
            notify: int(d, b"@"),
            mute_until_s: int(d, b"!").unwrap_or(0),
        }
    }

    fn write(&self, d: &mut Data) -> Result<()> {
        if self.name.len() > crate::groups::info::NAME_MAX {
            return Err(Error::LimitExceeded("group name over 100 bytes"));
        }
        // `K` is always present (empty for a member), so the entry never prunes away.
        let seed = self.seed.map(|s| s.to_vec()).unwrap_or_default();
        d.insert(b"K".to_vec(), Value::Str(seed));
        match (&self.seed, &self.auth) {
            (None, Some(auth)) if auth.len() == 100 => {
                d.insert(b"s".to_vec(), Value::Str(auth.clone()));
            }
            _ => {
                d.remove(b"s".as_slice());
            }
        }
        if self.name.is_empty() {
            d.remove(b"n".as_slice());
        } else {
            d.insert(b"n".to_vec(), Value::Str(self.name.as_bytes().to_vec()));
        }
        put_int(d, b"r", i64::from(self.removed.unwrap_or(0)));
        put_int(d, b"i", i64::from(self.invite_pending));
        put_int(d, b"j", self.joined_s.max(0));
        put_int(d, b"+", self.priority);
        put_int(d, b"@", self.notify.unwrap_or(0));
        put_int(d, b"!", self.mute_until_s.max(0));
        Ok(())
    }
}

/// The groups listed in a UserGroups config's data, by 33-byte group ID (`03…`); entries with
/// another key or not a dict are skipped.
pub fn read_groups(d: &Data) -> BTreeMap<[u8; 33], GroupEntry> {
    let Some(Value::Dict(g)) = d.get(b"g".as_slice()) else {
        return BTreeMap::new();
    };
    g.iter()
        .filter_map(|(id, v)| {
            let id: [u8; 33] = id.as_slice().try_into().ok()?;
            let Value::Dict(entry) = v else { return None };
            (id[0] == 0x03).then(|| (id, GroupEntry::read(entry)))
        })
        .collect()
}

/// Writes `groups` into `d`'s `g` (groups not listed go; other keys of an entry stay).
pub fn write_groups(d: &mut Data, groups: &BTreeMap<[u8; 33], GroupEntry>) -> Result<()> {
    if groups.keys().any(|id| id[0] != 0x03) {
        return Err(Error::Malformed("a group ID starts with 03"));
    }
    let entries: Vec<(&[u8], &GroupEntry)> =
        groups.iter().map(|(id, g)| (id.as_slice(), g)).collect();
    write_entries(d, b"g", &entries, GroupEntry::write)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::message::{ConfigMessage, hash};
    use crate::config::seal;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn groups_round_trip_through_a_sealed_user_groups_config() {
        let mut groups = BTreeMap::new();
        let admin_of = [3u8; 33];
        let mut member_of = [3u8; 33];
        member_of[1] = 9;
        groups.insert(
            admin_of,
            GroupEntry {
                seed: Some([7; 32]),
                name: "Book club".into(),
                joined_s: 1_767_225_600,
                priority: 1,
                ..GroupEntry::default()
            },
        );
        groups.insert(
            member_of,
            GroupEntry {
                auth: Some(vec![5; 100]),
                name: "Work".into(),
                invite_pending: true,
                mute_until_s: 1_800_000_000,
                ..GroupEntry::default()
            },
        );
        let mut data = Data::new();
        // Another part of UserGroups (communities) stays as it is.
        data.insert(
            b"o".to_vec(),
            Value::Dict([(b"x".to_vec(), Value::Int(1))].into()),
        );
        write_groups(&mut data, &groups).unwrap();
        let empty = ConfigMessage::empty();
        let m = empty.increment(hash(&empty.serialize(None)), data);
        let seed = [1u8; 32];
        let sealed = seal::encrypt(
            &seed,
            seal::DOMAIN_USER_GROUPS,
            &seal::prepare(&m.serialize(None)),
        );
        let plain = seal::decrypt(&seed, seal::DOMAIN_USER_GROUPS, &sealed).unwrap();
        let back = ConfigMessage::parse(&plain, None).unwrap();
        assert_eq!(read_groups(&back.data), groups);
        assert!(back.data.contains_key(b"o".as_slice()));

        // Leaving a group removes its entry; a member's entry keeps `K` empty.
        groups.remove(&admin_of);
        let mut data = back.data.clone();
        write_groups(&mut data, &groups).unwrap();
        let Some(Value::Dict(g)) = data.get(b"g".as_slice()) else {
            panic!("g is a dict")
        };
        assert_eq!(g.len(), 1);
        let Some(Value::Dict(e)) = g.get(member_of.as_slice()) else {
            panic!("the member's entry")
        };
        assert_eq!(e.get(b"K".as_slice()), Some(&Value::Str(Vec::new())));
        // A 05 ID is not a group.
        let mut wrong = BTreeMap::new();
        wrong.insert([5u8; 33], GroupEntry::default());
        assert!(write_groups(&mut data, &wrong).is_err());
    }
}
