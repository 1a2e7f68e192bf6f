//! Merging concurrent config messages (SESSION-ATTACHMENTS-CONFIG.md §B.6): every device (or
//! admin) that sees the same set of messages computes the same merged message, byte for byte,
//! so their pushes coincide.

use std::collections::BTreeMap;

use super::diff::{Change, Diff};
use super::message::{ConfigMessage, Hash, LAG, Lagged};
use super::{Data, Value, prune};

/// What merging decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Merged {
    /// Nothing to merge.
    Nothing,
    /// Take input `index` as it is (one head, or a read-only object's best one).
    Adopt(usize),
    /// A new message, one seqno past the newest, to be pushed.
    New(ConfigMessage),
}

/// Merges `inputs` (each message with its hash; the object's own current one first, if any).
/// `read_only`: the object can verify but not sign (a group member), so it adopts the best
/// head instead of writing a merge.
pub fn merge(inputs: &[(ConfigMessage, Hash)], read_only: bool) -> Merged {
    let Some(max_seqno) = inputs.iter().map(|(m, _)| m.seqno).max() else {
        return Merged::Nothing;
    };
    let heads: Vec<usize> = (0..inputs.len())
        .filter(|&i| {
            let (m, h) = &inputs[i];
            let lagged_elsewhere = inputs.iter().enumerate().any(|(j, (o, _))| {
                j != i && o.lagged.iter().any(|l| l.seqno == m.seqno && l.hash == *h)
            });
            let duplicate = inputs[..i].iter().any(|(_, oh)| oh == h);
            !lagged_elsewhere && !duplicate && m.seqno + LAG > max_seqno
        })
        .collect();
    let best = |set: &[usize]| {
        set.iter().copied().max_by(|&a, &b| {
            let (ma, ha) = &inputs[a];
            let (mb, hb) = &inputs[b];
            (ma.seqno, ha).cmp(&(mb.seqno, hb))
        })
    };
    match heads.as_slice() {
        [] => return Merged::Nothing,
        [one] => return Merged::Adopt(*one),
        _ if read_only => return Merged::Adopt(best(&heads).expect("two or more heads")),
        _ => {}
    }

    // The replay set, by (seqno, hash): filled newest first, each head's own diff then its
    // lagged ones, never overwritten; each entry replays against its supplier's data.
    let mut order = heads.clone();
    order.sort_by(|&a, &b| {
        let (ma, ha) = &inputs[a];
        let (mb, hb) = &inputs[b];
        (mb.seqno, hb).cmp(&(ma.seqno, ha))
    });
    let mut replay: BTreeMap<(i64, Hash), (&Diff, &Data)> = BTreeMap::new();
    for &i in &order {
        let (m, h) = &inputs[i];
        replay.entry((m.seqno, *h)).or_insert((&m.diff, &m.data));
        for l in &m.lagged {
            replay
                .entry((l.seqno, l.hash))
                .or_insert((&l.diff, &m.data));
        }
    }
    let mut data = inputs[order[0]].0.data.clone();
    for (diff, source) in replay.values() {
        apply(&mut data, diff, source);
    }
    prune(&mut data);
    let lagged = replay
        .iter()
        .map(|(&(seqno, hash), (diff, _))| Lagged {
            seqno,
            hash,
            diff: (*diff).clone(),
        })
        .collect();
    let mut merged = inputs[order[0]].0.clone();
    merged.seqno = max_seqno + 1;
    merged.data = data;
    merged.lagged = lagged;
    merged.diff = Diff::new();
    Merged::New(merged)
}

/// Replays `diff` onto `data`, taking values from `source` (the data of the message that
/// carried the diff).
fn apply(data: &mut Data, diff: &Diff, source: &Data) {
    for (k, change) in diff {
        let from = source.get(k);
        match change {
            Change::Removed => {
                data.remove(k);
            }
            Change::Set => match from {
                Some(v @ (Value::Int(_) | Value::Str(_))) => {
                    data.insert(k.clone(), v.clone());
                }
                _ => {
                    data.remove(k);
                }
            },
            Change::Dict(inner) => match from {
                Some(Value::Dict(src)) => {
                    let slot = data
                        .entry(k.clone())
                        .or_insert_with(|| Value::Dict(Data::new()));
                    if !matches!(slot, Value::Dict(_)) {
                        *slot = Value::Dict(Data::new());
                    }
                    if let Value::Dict(d) = slot {
                        apply(d, inner, src);
                    }
                }
                _ => {
                    data.remove(k);
                }
            },
            Change::SetChange { added, removed } => match from {
                Some(Value::Set(_)) => {
                    let slot = data
                        .entry(k.clone())
                        .or_insert_with(|| Value::Set(Default::default()));
                    if !matches!(slot, Value::Set(_)) {
                        *slot = Value::Set(Default::default());
                    }
                    if let Value::Set(s) = slot {
                        s.extend(added.iter().cloned());
                        s.retain(|x| !removed.contains(x));
                    }
                }
                _ => {
                    data.remove(k);
                }
            },
        }
    }
}
