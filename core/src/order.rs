//! Sorting for the whole crate through one instance of the standard sort.
//!
//! Every `sort_by_key` on another element or key type is a new copy of the standard library's
//! sort (3–5 KB of wasm each; the browser bundle had a dozen). Here each sort turns its
//! elements into `(key, index)` pairs and sorts those, so the sort itself is compiled once and
//! only the tiny key-and-permute step is per type. The index breaks ties, so the order is
//! stable.

/// Sorts `items` by `key`, ascending; equal keys keep their order.
pub fn by_key<T>(items: &mut Vec<T>, mut key: impl FnMut(&T) -> u64) {
    let mut keyed: Vec<(u64, usize)> = items.iter().map(&mut key).zip(0..).collect();
    keyed.sort_unstable();
    let mut slots: Vec<Option<T>> = items.drain(..).map(Some).collect();
    items.extend(keyed.into_iter().filter_map(|(_, i)| slots[i].take()));
}

/// Shuffles `items` in place (Fisher–Yates): load spread over seeds and swarm members, slots
/// of a device-group message. A 64-bit draw per step: the modulo bias (list length over 2⁶⁴)
/// is far below anything observable.
pub fn shuffle<T>(items: &mut [T], rng: &mut impl rand_core::CryptoRng) {
    for i in (1..items.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

/// Sorts `ids` ascending and drops duplicates.
pub fn dedup_sorted(ids: &mut Vec<u64>) {
    by_key(ids, |id| *id);
    ids.dedup();
}

/// An `i64` as a `u64` key in the same order.
pub fn signed_key(v: i64) -> u64 {
    (v as u64) ^ (1 << 63)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_stably_by_key() {
        let mut v = vec![(3, 'a'), (1, 'b'), (3, 'c'), (0, 'd'), (1, 'e')];
        by_key(&mut v, |x| x.0);
        assert_eq!(v, [(0, 'd'), (1, 'b'), (1, 'e'), (3, 'a'), (3, 'c')]);
        let mut ids = vec![5, 1, 5, u64::MAX, 0];
        dedup_sorted(&mut ids);
        assert_eq!(ids, [0, 1, 5, u64::MAX]);
        let mut signed = vec![3i64, -7, 0, i64::MIN, i64::MAX];
        by_key(&mut signed, |x| signed_key(*x));
        assert_eq!(signed, [i64::MIN, -7, 0, 3, i64::MAX]);
        let mut empty: Vec<u8> = Vec::new();
        by_key(&mut empty, |x| u64::from(*x));
        assert!(empty.is_empty());
    }
}
