//! What a device knows of its group (SESSION-V2.md §2.1 merge rules), built by merging every
//! `G` payload it reads. The rules make every device reach the same table whatever order the
//! messages arrive in: a device's state ranks Pending < Registered < Left < Kicked, then the
//! seqno, then the record's digest break ties; a tombstone outranks any record, a removal any
//! departure; a record for a device that holds a tombstone is refused and the tombstone is
//! stated again so the device that sent it learns.

use std::collections::BTreeMap;

use super::{DeviceId, DeviceRecord, Entry, Payload};
use crate::v2::account::AccountKeyRing;

/// A device's state in the group (never on the wire: a `G` payload's records are Registered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DeviceState {
    /// Asked to join (a link request), not yet accepted.
    Pending = 1,
    Registered = 2,
    /// Left on its own.
    Left = 3,
    /// Removed by another device.
    Kicked = 4,
}

/// One device's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub state: DeviceState,
    /// The record (Pending, Registered).
    pub record: Option<DeviceRecord>,
    /// When it left or was removed (unix seconds; Left, Kicked).
    pub gone_at: Option<i64>,
}

impl Row {
    fn tombstone(t: i64) -> Self {
        Self {
            state: if t > 0 {
                DeviceState::Kicked
            } else {
                DeviceState::Left
            },
            record: None,
            gone_at: Some(t.unsigned_abs() as i64),
        }
    }

    /// The tombstone as written: `t` for a removal, `−t` for a departure.
    fn tombstone_value(&self) -> Option<i64> {
        let t = self.gone_at?;
        match self.state {
            DeviceState::Kicked => Some(t),
            DeviceState::Left => Some(-t),
            _ => None,
        }
    }

    /// The order rows displace one another in (`own`: this device's row, which no record of
    /// equal rank displaces).
    fn rank(&self) -> (DeviceState, i64, [u8; 8]) {
        match &self.record {
            Some(r) => (self.state, r.seqno, r.digest()),
            None => (self.state, self.gone_at.unwrap_or(0), [0; 8]),
        }
    }
}

/// What merging a payload changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Merged {
    /// Anything at all.
    pub changed: bool,
    /// Tombstones stated again because a payload still had a live record for them: push.
    pub restated: Vec<DeviceId>,
    /// A departure newly learned: the account key must rotate (§2.5).
    pub new_departure: bool,
    /// This device is no longer a member.
    pub own_gone: bool,
}

/// The group as one device sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceTable {
    pub own: DeviceId,
    pub rows: BTreeMap<DeviceId, Row>,
    pub keys: AccountKeyRing,
}

impl DeviceTable {
    /// A table holding only this device's record, Registered, with `keys`.
    pub fn founding(own: DeviceId, record: DeviceRecord, keys: AccountKeyRing) -> Self {
        let mut rows = BTreeMap::new();
        rows.insert(
            own,
            Row {
                state: DeviceState::Registered,
                record: Some(record),
                gone_at: None,
            },
        );
        Self { own, rows, keys }
    }

    /// The Registered devices, by ID.
    pub fn registered(&self) -> impl Iterator<Item = (&DeviceId, &DeviceRecord)> {
        self.rows
            .iter()
            .filter_map(|(id, row)| match (&row.record, row.state) {
                (Some(r), DeviceState::Registered) => Some((id, r)),
                _ => None,
            })
    }

    /// The payload this device pushes: every Registered record and every tombstone (Pending
    /// devices are not written), and every account key held.
    pub fn payload(&self) -> Payload {
        let devices = self
            .rows
            .iter()
            .filter_map(|(id, row)| match (row.state, &row.record) {
                (DeviceState::Registered, Some(r)) => Some((*id, Entry::Record(r.clone()))),
                _ => row.tombstone_value().map(|t| (*id, Entry::Tombstone(t))),
            })
            .collect();
        Payload {
            devices,
            keys: self.keys.keys().to_vec(),
        }
    }

    /// The devices removed (not departed): their entries go in a `G` message's `k`.
    pub fn kicked(&self) -> Vec<DeviceId> {
        self.rows
            .iter()
            .filter(|(_, row)| row.state == DeviceState::Kicked)
            .map(|(id, _)| *id)
            .collect()
    }

    /// Merges a payload read from a `G` message at `now` (unix seconds).
    pub fn merge(&mut self, payload: &Payload, now: i64) -> Merged {
        let mut out = Merged::default();
        for (id, entry) in &payload.devices {
            let offered = match entry {
                Entry::Record(r) => Row {
                    state: DeviceState::Registered,
                    record: Some(r.clone()),
                    gone_at: None,
                },
                Entry::Tombstone(t) => Row::tombstone(*t),
            };
            let Some(held) = self.rows.get_mut(id) else {
                out.new_departure |= offered.state == DeviceState::Left;
                self.rows.insert(*id, offered);
                out.changed = true;
                continue;
            };
            let held_gone = held.state >= DeviceState::Left;
            if held_gone && offered.state == DeviceState::Registered {
                // A live record for a device that is gone: refuse it and say so again.
                held.gone_at = Some(now.max(1));
                out.restated.push(*id);
                out.changed = true;
                continue;
            }
            let own_equal_rank = *id == self.own && offered.state == held.state;
            if own_equal_rank || offered.rank() <= held.rank() {
                continue;
            }
            out.new_departure |=
                offered.state == DeviceState::Left && held.state != DeviceState::Left;
            out.own_gone |= *id == self.own && offered.state >= DeviceState::Left;
            *held = offered;
            out.changed = true;
        }
        let before = self.keys.clone();
        for key in &payload.keys {
            self.keys.merge(key.clone());
        }
        out.changed |= self.keys != before;
        out
    }

    /// Marks `device` removed at `now` (its record goes; the caller rotates the account key in
    /// the same step). `false` for this device itself or a device not in the group.
    pub fn remove(&mut self, device: &DeviceId, now: i64) -> bool {
        if *device == self.own {
            return false;
        }
        match self.rows.get_mut(device) {
            Some(row) if row.state <= DeviceState::Registered => {
                *row = Row::tombstone(now.max(1));
                true
            }
            _ => false,
        }
    }

    /// Accepts a link request: the device becomes Registered with `record` (its seqno raised
    /// past any it had). `false` if the device has left or was removed.
    pub fn accept(&mut self, device: DeviceId, record: DeviceRecord) -> bool {
        match self.rows.get(&device) {
            Some(row) if row.state >= DeviceState::Left => false,
            _ => {
                self.rows.insert(
                    device,
                    Row {
                        state: DeviceState::Registered,
                        record: Some(record),
                        gone_at: None,
                    },
                );
                true
            }
        }
    }
}
