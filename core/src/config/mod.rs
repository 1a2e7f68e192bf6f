//! Session's config messages (SESSION-ATTACHMENTS-CONFIG.md Part B): the format group Info and
//! Members (namespaces 13, 14) and a user's own synced settings (namespaces 2–5, e.g. the list
//! of groups in UserGroups) travel in. A config object is a tree of values ([`Data`]); each
//! update is a [`message::ConfigMessage`] carrying the whole tree, its own diff and the last
//! few diffs, so concurrent updates from several devices or admins [`merge`] to the same bytes
//! everywhere. [`seal`] pads and encrypts a message under a key and a type's domain.

pub mod diff;
pub mod merge;
pub mod message;
pub mod seal;
pub mod user_groups;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use crate::bencode::{Item, Writer};
use crate::error::{Error, Result};

/// A set element: sets hold integers, then byte strings, each ascending (the derived order).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scalar {
    Int(i64),
    Str(Vec<u8>),
}

/// A value in a config tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Int(i64),
    Str(Vec<u8>),
    /// Non-empty.
    Set(BTreeSet<Scalar>),
    /// Non-empty.
    Dict(Data),
}

/// A dict of values: the object's data (`&`), or a dict inside it.
pub type Data = BTreeMap<Vec<u8>, Value>;

impl Value {
    /// Whether two values are of the same kind (a change of kind is a new value in a diff).
    pub fn same_kind(&self, other: &Value) -> bool {
        core::mem::discriminant(self) == core::mem::discriminant(other)
    }
}

/// The integer at `key`, if that is one.
pub fn int(d: &Data, key: &[u8]) -> Option<i64> {
    match d.get(key) {
        Some(Value::Int(n)) => Some(*n),
        _ => None,
    }
}

/// The string at `key`, if that is one.
pub fn bytes<'a>(d: &'a Data, key: &[u8]) -> Option<&'a [u8]> {
    match d.get(key) {
        Some(Value::Str(b)) => Some(b),
        _ => None,
    }
}

/// Makes the dict at `key` hold exactly `entries` (by their keys): each is written by `write`
/// into the dict it had (so keys this version does not know stay) or a new one; entries not
/// listed go.
pub fn write_entries<E>(
    d: &mut Data,
    key: &[u8],
    entries: &[(&[u8], &E)],
    write: impl Fn(&E, &mut Data) -> Result<()>,
) -> Result<()> {
    let mut dict = match d.remove(key) {
        Some(Value::Dict(dict)) => dict,
        _ => Data::new(),
    };
    dict.retain(|k, _| entries.iter().any(|(e, _)| *e == k.as_slice()));
    for (k, entry) in entries {
        let slot = dict
            .entry(k.to_vec())
            .or_insert_with(|| Value::Dict(Data::new()));
        if !matches!(slot, Value::Dict(_)) {
            *slot = Value::Dict(Data::new());
        }
        if let Value::Dict(e) = slot {
            write(entry, e)?;
        }
    }
    if !dict.is_empty() {
        d.insert(key.to_vec(), Value::Dict(dict));
    }
    Ok(())
}

/// Removes empty sets and dicts, recursively (they are never written).
pub fn prune(data: &mut Data) {
    data.retain(|_, v| match v {
        Value::Dict(d) => {
            prune(d);
            !d.is_empty()
        }
        Value::Set(s) => !s.is_empty(),
        _ => true,
    });
}

pub(crate) fn write_scalar(w: &mut Writer, s: &Scalar) {
    match s {
        Scalar::Int(n) => w.int(*n),
        Scalar::Str(b) => w.bytes(b),
    };
}

pub(crate) fn write_set(w: &mut Writer, set: &BTreeSet<Scalar>) {
    w.list();
    for s in set {
        write_scalar(w, s);
    }
    w.end();
}

/// Writes `data` as a dict.
pub fn write_data(w: &mut Writer, data: &Data) {
    w.dict();
    for (k, v) in data {
        w.key(k);
        match v {
            Value::Int(n) => {
                w.int(*n);
            }
            Value::Str(b) => {
                w.bytes(b);
            }
            Value::Set(s) => write_set(w, s),
            Value::Dict(d) => write_data(w, d),
        }
    }
    w.end();
}

/// Reads a set: integers then strings, each strictly ascending (so unique), not empty.
pub(crate) fn read_set(items: &[Item<'_>], allow_empty: bool) -> Result<BTreeSet<Scalar>> {
    let bad = Error::Malformed("config: bad set");
    let mut out: Vec<Scalar> = Vec::with_capacity(items.len());
    for item in items {
        let s = match item {
            Item::Int(n) => Scalar::Int(*n),
            Item::Bytes(b) => Scalar::Str(b.to_vec()),
            _ => return Err(bad),
        };
        if out.last().is_some_and(|last| *last >= s) {
            return Err(bad);
        }
        out.push(s);
    }
    if out.is_empty() && !allow_empty {
        return Err(bad);
    }
    Ok(out.into_iter().collect())
}

/// Reads a data dict (`top`: the `&` dict, which may be empty).
pub fn read_data(item: &Item<'_>, top: bool) -> Result<Data> {
    let Item::Dict(dict) = item else {
        return Err(Error::Malformed("config: data is not a dict"));
    };
    let mut out = Data::new();
    for key in dict.keys() {
        let value = match dict.get(key).expect("a listed key") {
            Item::Int(n) => Value::Int(*n),
            Item::Bytes(b) => Value::Str(b.to_vec()),
            Item::List(items) => Value::Set(read_set(items, false)?),
            d @ Item::Dict(_) => Value::Dict(read_data(d, false)?),
        };
        out.insert(key.to_vec(), value);
    }
    if out.is_empty() && !top {
        return Err(Error::Malformed("config: empty dict"));
    }
    Ok(out)
}
