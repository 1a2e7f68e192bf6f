//! Diffs (SESSION-ATTACHMENTS-CONFIG.md §B.4): what one update changed, mirroring the data
//! tree: `""` a scalar set, `"-"` a scalar removed, a dict the changes inside it, and
//! `[[added…], [removed…]]` for a set.

use std::collections::{BTreeMap, BTreeSet};

use super::{Data, Scalar, Value, read_set, write_set};
use crate::bencode::{Item, Writer};
use crate::error::{Error, Result};

/// One key's change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// `""`: a scalar set or changed (its value is in the data).
    Set,
    /// `"-"`: removed.
    Removed,
    /// Changes inside a dict.
    Dict(Diff),
    /// A set's additions and removals.
    SetChange {
        added: BTreeSet<Scalar>,
        removed: BTreeSet<Scalar>,
    },
}

/// The changes of one update, by key.
pub type Diff = BTreeMap<Vec<u8>, Change>;

/// The diff taking `old` to `new`.
pub fn compute(old: &Data, new: &Data) -> Diff {
    let mut out = Diff::new();
    for (k, v) in new {
        let change = match (old.get(k), v) {
            (Some(o), n) if o == n => continue,
            (Some(Value::Dict(o)), Value::Dict(n)) => Change::Dict(compute(o, n)),
            (Some(Value::Set(o)), Value::Set(n)) => Change::SetChange {
                added: n.difference(o).cloned().collect(),
                removed: o.difference(n).cloned().collect(),
            },
            // New, or a change of kind (a new value, which replaces the old on replay).
            (_, n) => addition(n),
        };
        out.insert(k.clone(), change);
    }
    for (k, v) in old {
        if !new.contains_key(k) {
            out.insert(k.clone(), removal(v));
        }
    }
    out
}

/// A new value as a diff: its whole contents added.
fn addition(v: &Value) -> Change {
    match v {
        Value::Dict(d) => Change::Dict(d.iter().map(|(k, v)| (k.clone(), addition(v))).collect()),
        Value::Set(s) => Change::SetChange {
            added: s.clone(),
            removed: BTreeSet::new(),
        },
        _ => Change::Set,
    }
}

/// A removed value as a diff.
fn removal(v: &Value) -> Change {
    match v {
        Value::Dict(d) => Change::Dict(d.iter().map(|(k, v)| (k.clone(), removal(v))).collect()),
        Value::Set(s) => Change::SetChange {
            added: BTreeSet::new(),
            removed: s.clone(),
        },
        _ => Change::Removed,
    }
}

pub fn write(w: &mut Writer, diff: &Diff) {
    w.dict();
    for (k, c) in diff {
        w.key(k);
        match c {
            Change::Set => {
                w.bytes(b"");
            }
            Change::Removed => {
                w.bytes(b"-");
            }
            Change::Dict(d) => write(w, d),
            Change::SetChange { added, removed } => {
                w.list();
                write_set(w, added);
                write_set(w, removed);
                w.end();
            }
        }
    }
    w.end();
}

pub fn read(item: &Item<'_>) -> Result<Diff> {
    let bad = Error::Malformed("config: bad diff");
    let Item::Dict(dict) = item else {
        return Err(bad);
    };
    let mut out = Diff::new();
    for key in dict.keys() {
        let change = match dict.get(key).expect("a listed key") {
            Item::Bytes(b"") => Change::Set,
            Item::Bytes(b"-") => Change::Removed,
            d @ Item::Dict(_) => Change::Dict(read(d)?),
            Item::List(parts) => match parts.as_slice() {
                [Item::List(a), Item::List(r)] => Change::SetChange {
                    added: read_set(a, true)?,
                    removed: read_set(r, true)?,
                },
                _ => return Err(bad),
            },
            _ => return Err(bad),
        };
        out.insert(key.to_vec(), change);
    }
    Ok(out)
}
