//! The account-key lifecycle (SESSION-V2.md §1.2) and the sender's cache of other accounts'
//! published keys (§1.4). Pure functions of the keys held and `now` (unix seconds).

use super::keys::KemKeys;
use crate::crypto;

/// Keys are kept this long after they rotate: the 14-day message TTL, 24 h of sender
/// staleness and 24 h of margin.
pub const ACCOUNT_KEY_RETENTION_S: u64 = 16 * 24 * 3600;
/// Account keys rotate every 12 h, within a 2 h window spread over the account's devices.
pub const ROTATION_PERIOD_S: u64 = 12 * 3600;
pub const ROTATION_WINDOW_S: u64 = 2 * 3600;
const ROTATION_PERSONAL: &[u8] = b"SessionAccKeyRot";

/// One account key as a device holds it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccountKey {
    pub seed: [u8; 32],
    pub created: u64,
    /// When a newer key replaced it; `None` for the current key.
    pub rotated: Option<u64>,
}

impl core::fmt::Debug for AccountKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AccountKey")
            .field("created", &self.created)
            .field("rotated", &self.rotated)
            .finish_non_exhaustive()
    }
}

/// The account keys a device holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountKeyRing {
    keys: Vec<AccountKey>,
}

impl AccountKeyRing {
    pub fn new(keys: Vec<AccountKey>) -> Self {
        let mut ring = Self { keys };
        ring.converge();
        ring
    }

    pub fn keys(&self) -> &[AccountKey] {
        &self.keys
    }

    /// The key senders should use (and the one published): the one not rotated.
    pub fn current(&self) -> Option<&AccountKey> {
        self.keys.iter().find(|k| k.rotated.is_none())
    }

    /// Adds a freshly made key (32 random bytes) as the current one: created strictly after
    /// every key held, every other key rotated at that moment.
    pub fn create(&mut self, seed: [u8; 32], now: u64) -> &AccountKey {
        let newest = self.keys.iter().map(|k| k.created + 1).max().unwrap_or(0);
        let created = now.max(newest);
        for k in &mut self.keys {
            k.rotated.get_or_insert(created);
        }
        self.keys.push(AccountKey {
            seed,
            created,
            rotated: None,
        });
        self.keys.last().expect("just pushed")
    }

    /// Takes in a key another device holds (from the device group): a key already held keeps
    /// the earlier of the two rotation times, a new one is added; then one current key is
    /// chosen again. The result does not depend on the order keys arrive in.
    pub fn merge(&mut self, other: AccountKey) {
        match self.keys.iter_mut().find(|k| k.seed == other.seed) {
            Some(held) => {
                held.rotated = match (held.rotated, other.rotated) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            None => self.keys.push(other),
        }
        self.converge();
    }

    /// Among keys not rotated the newest wins (ties: the lowest seed); the others are rotated
    /// at the winner's creation.
    fn converge(&mut self) {
        let Some(winner) = self
            .keys
            .iter()
            .filter(|k| k.rotated.is_none())
            .min_by(|a, b| b.created.cmp(&a.created).then(a.seed.cmp(&b.seed)))
            .map(|k| (k.seed, k.created))
        else {
            return;
        };
        for k in &mut self.keys {
            if k.rotated.is_none() && k.seed != winner.0 {
                k.rotated = Some(winner.1);
            }
        }
        // One order for one set of keys (current first, then the most recently rotated), so
        // two devices holding the same keys hold equal rings.
        self.keys.sort_by(|a, b| {
            let at =
                |k: &AccountKey| core::cmp::Reverse((k.rotated.unwrap_or(u64::MAX), k.created));
            at(a).cmp(&at(b)).then(a.seed.cmp(&b.seed))
        });
    }

    /// Forgets keys rotated more than [`ACCOUNT_KEY_RETENTION_S`] ago: messages sealed to
    /// them can no longer be opened (forward secrecy). Returns how many went.
    pub fn prune(&mut self, now: u64) -> usize {
        let before = self.keys.len();
        self.keys
            .retain(|k| k.rotated.is_none_or(|r| now < r + ACCOUNT_KEY_RETENTION_S));
        before - self.keys.len()
    }

    /// When this device should rotate: 12 h ± 1 h after the current key was made, at an offset
    /// drawn from the device's ID so the first of `devices` devices rotates uniformly in
    /// [11 h, 13 h]. `None` without a current key.
    pub fn next_rotation(&self, device_id: &[u8], devices: u32) -> Option<u64> {
        let current = self.current()?;
        let offset = rotation_offset_s(&current.seed, device_id, devices);
        Some(current.created + offset as u64)
    }

    /// The keys to try on an incoming message, expanded: current first, then the most
    /// recently rotated.
    pub fn decryption_keys(&self) -> Vec<KemKeys> {
        self.decryption_order()
            .iter()
            .map(KemKeys::account)
            .collect()
    }

    /// The seeds of [`Self::decryption_keys`], in its order.
    pub fn decryption_order(&self) -> Vec<[u8; 32]> {
        let mut order: Vec<&AccountKey> = self.keys.iter().collect();
        order.sort_by_key(|k| core::cmp::Reverse(k.rotated.unwrap_or(u64::MAX)));
        order.into_iter().map(|k| k.seed).collect()
    }
}

/// `PERIOD − WINDOW/2 + WINDOW·(1 − u^N)` seconds, `u` from the device ID keyed by the
/// current key (SESSION-V2.md §1.2).
pub fn rotation_offset_s(current_seed: &[u8; 32], device_id: &[u8], devices: u32) -> f64 {
    let h = crypto::blake2b(8, current_seed, ROTATION_PERSONAL, &[device_id]);
    let u = u64::from_le_bytes(h.try_into().expect("8 bytes")) as f64 / 2f64.powi(64);
    let n = i32::try_from(devices.max(1)).unwrap_or(i32::MAX);
    let window = ROTATION_WINDOW_S as f64;
    ROTATION_PERIOD_S as f64 - window / 2.0 + window * (1.0 - u.powi(n))
}

/// Cached published keys younger than this are used as they are.
pub const KEYS_FRESH_S: u64 = 24 * 3600;
/// Older than this they are not used at all (SESSION-V2.md open question 2: the doc's rule).
pub const KEYS_EXPIRY_S: u64 = 48 * 3600;
/// After a fetch found no valid keys, no new fetch for this long.
pub const KEYS_NAK_S: u64 = 3600;

/// What a sender knows of a recipient's published keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedKeys<K> {
    /// The keys last found, and when.
    pub found: Option<(K, u64)>,
    /// When a fetch last found none.
    pub nak_at: Option<u64>,
}

/// How to send to someone, from what the cache holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendPlan<'a, K> {
    /// v2 with forward secrecy; `refetch` asks for a fetch in the background (stale keys).
    Pfs { keys: &'a K, refetch: bool },
    /// Fetch the recipient's −21 record first, then decide again.
    FetchFirst,
    /// No usable keys: v2 non-PFS when v1 is no longer sent (`v2_only`), else v1.
    Fallback,
}

/// SESSION-V2.md §1.4 and §4.
pub fn send_plan<K>(cache: Option<&CachedKeys<K>>, now: u64) -> SendPlan<'_, K> {
    let Some(cache) = cache else {
        return SendPlan::FetchFirst;
    };
    let nak_recent = cache.nak_at.is_some_and(|t| now < t + KEYS_NAK_S);
    match &cache.found {
        Some((keys, at)) if now < at + KEYS_EXPIRY_S => SendPlan::Pfs {
            keys,
            refetch: now >= at + KEYS_FRESH_S && !nak_recent,
        },
        _ if nak_recent => SendPlan::Fallback,
        _ => SendPlan::FetchFirst,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn seed(n: u8) -> [u8; 32] {
        [n; 32]
    }

    #[test]
    fn rotation_schedule_vector() {
        let ak: [u8; 32] = core::array::from_fn(|i| i as u8);
        let device: [u8; 32] = core::array::from_fn(|i| 0xc0 + i as u8);
        assert_eq!(
            hex::encode(crypto::blake2b(8, &ak, ROTATION_PERSONAL, &[&device])),
            "aa750db7f278692e"
        );
        for (n, want) in [
            (1, 45494.66245017286),
            (2, 46563.34637236268),
            (4, 46792.22153618418),
        ] {
            let got = rotation_offset_s(&ak, &device, n);
            assert!((got - want).abs() < 1e-6, "N={n}: {got}");
        }
        let ring = AccountKeyRing::new(vec![AccountKey {
            seed: ak,
            created: 1_000_000,
            rotated: None,
        }]);
        assert_eq!(ring.next_rotation(&device, 1), Some(1_045_494));
    }

    #[test]
    fn a_new_key_is_strictly_newest_and_rotates_the_rest() {
        let mut ring = AccountKeyRing::default();
        ring.create(seed(1), 100);
        // A clock behind the newest key still makes a newer one.
        let k = ring.create(seed(2), 50).clone();
        assert_eq!((k.created, k.rotated), (101, None));
        assert_eq!(ring.current().unwrap().seed, seed(2));
        assert_eq!(ring.keys()[0].rotated, Some(101));
    }

    #[test]
    fn merging_converges_whatever_the_order() {
        let key = |n, created, rotated| AccountKey {
            seed: seed(n),
            created,
            rotated,
        };
        // Two devices made keys at the same second; another device already saw 9 replaced.
        let keys = [
            key(9, 500, None),
            key(3, 500, None),
            key(1, 400, None),
            key(9, 500, Some(500)),
        ];
        let mut currents = Vec::new();
        for order in [[0, 1, 2, 3], [3, 2, 1, 0], [1, 3, 0, 2], [2, 0, 3, 1]] {
            let mut ring = AccountKeyRing::default();
            for i in order {
                ring.merge(keys[i].clone());
            }
            assert_eq!(ring.keys().len(), 3);
            assert_eq!(
                ring.keys().iter().filter(|k| k.rotated.is_none()).count(),
                1
            );
            currents.push(ring.current().unwrap().seed);
        }
        // Tie on `created`: the lowest seed wins, on every device.
        assert_eq!(currents, [seed(3); 4]);
        // A key held twice keeps the earlier rotation.
        let mut ring = AccountKeyRing::new(vec![key(7, 1, Some(900)), key(8, 2, None)]);
        let rotated_7 = |ring: &AccountKeyRing| {
            ring.keys()
                .iter()
                .find(|k| k.seed == seed(7))
                .unwrap()
                .rotated
        };
        ring.merge(key(7, 1, Some(600)));
        assert_eq!(rotated_7(&ring), Some(600));
        ring.merge(key(7, 1, Some(800)));
        assert_eq!(rotated_7(&ring), Some(600));
    }

    #[test]
    fn keys_go_sixteen_days_after_rotating_and_are_tried_newest_first() {
        let mut ring = AccountKeyRing::default();
        ring.create(seed(1), 0);
        ring.create(seed(2), 1000);
        ring.create(seed(3), 2000);
        let order: Vec<[u8; 32]> = ring.decryption_keys().iter().map(|k| *k.seed()).collect();
        assert_eq!(order, [seed(3), seed(2), seed(1)]);
        assert_eq!(ring.prune(1000 + ACCOUNT_KEY_RETENTION_S - 1), 0);
        assert_eq!(ring.prune(1000 + ACCOUNT_KEY_RETENTION_S), 1);
        assert_eq!(ring.prune(2000 + ACCOUNT_KEY_RETENTION_S), 1);
        assert_eq!(ring.keys().len(), 1);
        assert_eq!(ring.prune(u64::MAX / 2), 0, "the current key stays");
    }

    #[test]
    fn the_send_plan_follows_the_cache() {
        let h = 3600;
        let cache = |found: Option<u64>, nak: Option<u64>| CachedKeys {
            found: found.map(|t| ("keys", t)),
            nak_at: nak,
        };
        assert_eq!(send_plan::<&str>(None, 0), SendPlan::FetchFirst);
        let fresh = cache(Some(0), None);
        assert_eq!(
            send_plan(Some(&fresh), 23 * h),
            SendPlan::Pfs {
                keys: &"keys",
                refetch: false
            }
        );
        assert_eq!(
            send_plan(Some(&fresh), 30 * h),
            SendPlan::Pfs {
                keys: &"keys",
                refetch: true
            }
        );
        assert_eq!(send_plan(Some(&fresh), 48 * h), SendPlan::FetchFirst);
        // A fetch just found nothing: no new fetch for an hour, older keys still used.
        let nak = cache(None, Some(10 * h));
        assert_eq!(send_plan(Some(&nak), 10 * h + 59 * 60), SendPlan::Fallback);
        assert_eq!(send_plan(Some(&nak), 11 * h), SendPlan::FetchFirst);
        let stale_and_nak = cache(Some(0), Some(30 * h));
        assert_eq!(
            send_plan(Some(&stale_and_nak), 30 * h + 1),
            SendPlan::Pfs {
                keys: &"keys",
                refetch: false
            }
        );
        let expired_and_nak = cache(Some(0), Some(48 * h));
        assert_eq!(
            send_plan(Some(&expired_and_nak), 48 * h + 1),
            SendPlan::Fallback
        );
    }
}
