//! The hashes a client has already handed out (or stored itself as sync copies), so a message
//! read again from another swarm member, or after a restart, is not delivered twice. Pure:
//! `messaging` marks and saves it; the engine only holds it in its state.

use std::collections::BTreeMap;

/// Store key of the set.
pub(super) const KEY_SEEN: &str = "seen";
/// Most hashes remembered; the ones expiring soonest go first.
const SEEN_MAX: usize = 100_000;

/// Hash → the expiry of the message it names.
#[derive(Debug, Default)]
pub(super) struct SeenSet(BTreeMap<String, u64>);

impl SeenSet {
    /// The set as saved; an unreadable record counts as empty (deliveries then dedupe on
    /// the history's own hashes).
    pub(super) fn from_bytes(bytes: Option<&[u8]>) -> Self {
        Self(
            bytes
                .and_then(|b| serde_json::from_slice(b).ok())
                .unwrap_or_default(),
        )
    }

    /// Whether `hash` is recorded.
    pub(super) fn contains(&self, hash: &str) -> bool {
        self.0.contains_key(hash)
    }

    /// Records `hash` (expiring at `expiry`); false if it already was.
    pub(super) fn mark(&mut self, hash: &str, expiry: u64) -> bool {
        if self.0.contains_key(hash) {
            return false;
        }
        self.0.insert(hash.to_string(), expiry);
        true
    }

    /// Drops what expired by `now_ms` (and the soonest-expiring beyond [`SEEN_MAX`]), then
    /// returns the bytes to save.
    pub(super) fn pruned_bytes(&mut self, now_ms: u64) -> Vec<u8> {
        self.prune(now_ms, SEEN_MAX);
        // A map of strings to integers always serialises.
        serde_json::to_vec(&self.0).unwrap_or_default()
    }

    fn prune(&mut self, now_ms: u64, max: usize) {
        self.0.retain(|_, expiry| *expiry > now_ms);
        if self.0.len() > max {
            let mut by_expiry: Vec<(u64, String)> =
                self.0.iter().map(|(h, e)| (*e, h.clone())).collect();
            crate::order::by_key(&mut by_expiry, |(expiry, _)| *expiry);
            let excess = self.0.len() - max;
            for (_, h) in by_expiry.into_iter().take(excess) {
                self.0.remove(&h);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_once_and_prunes_the_expired_then_the_soonest() {
        let mut seen = SeenSet::default();
        assert!(seen.mark("a", 10));
        assert!(!seen.mark("a", 10), "a second mark is refused");
        for (h, e) in [("b", 20), ("c", 30), ("d", 40)] {
            seen.mark(h, e);
        }
        seen.prune(10, 2);
        assert_eq!(seen.0.keys().collect::<Vec<_>>(), ["c", "d"]);
        let saved = seen.pruned_bytes(0);
        let back = SeenSet::from_bytes(Some(&saved));
        assert_eq!(back.0, seen.0);
        assert!(SeenSet::from_bytes(Some(b"not json")).0.is_empty());
    }
}
