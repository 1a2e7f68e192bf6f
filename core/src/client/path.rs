//! Onion paths (DESIGN.md §3 "Paths"; Session's `onionPath.ts` policy): three distinct nodes,
//! the first a *guard*. The client keeps two guards for as long as the manifest lists them, so
//! the set of nodes that ever see its IP stays small; a path that times out or brings back an
//! unreadable reply is dropped and rebuilt, and a guard whose paths fail twice in a row is
//! replaced. Which hop spoiled a reply cannot be told, so each hop of a dropped path is
//! *suspected* once more, and new paths take the least suspected nodes until a path through a
//! node works again: a hostile hop, in every failed path, is soon out of the next ones instead
//! of in half of them at random. Nodes of the destination's swarm are left out of the path when the network has
//! enough other nodes, so the swarm never sees who is asking.
//!
//! Pure state: the node list and the RNG are passed in; nothing here does I/O.

use std::collections::{BTreeMap, BTreeSet};

use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::network::{Manifest, ManifestNode};
use crate::swarm::SwarmId;

/// Hops per path (Session's `ONION_REQUEST_HOPS`).
pub const PATH_HOPS: usize = 3;
/// Guards kept (Session's `desiredGuardCount`).
pub const GUARD_COUNT: usize = 2;
/// Discarded paths in a row after which their guard is replaced.
pub const GUARD_STRIKE_LIMIT: u32 = 2;
/// How long a path is used before it is replaced by a new one (Tor's circuit lifetime): a
/// client holding waiting retrieves all day does not keep one set of relays for hours.
/// Guards stay; only the relays after them change.
pub const PATH_LIFETIME_MS: u64 = 10 * 60 * 1000;

/// One onion path, guard first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnionPath {
    pub hops: Vec<ManifestNode>,
    #[serde(skip)]
    failures: u32,
    /// When the pool first handed the path out (0: not yet; see [`PathPool::rotate`]).
    #[serde(default)]
    first_used_ms: u64,
}

/// The client's guards and paths. Guards and paths are saved between runs (serde) so the
/// set of entry nodes stays small across restarts; nodes found dead are not.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PathPool {
    guards: Vec<String>,
    paths: Vec<OnionPath>,
    /// Nodes that failed in a path (by Ed25519 hex), left out of new paths.
    #[serde(skip)]
    excluded: BTreeSet<String>,
    /// Paths discarded in a row per guard since its last success (see [`Self::discard`]).
    #[serde(skip)]
    guard_strikes: BTreeMap<String, u32>,
    /// Per node, the discarded paths it was a hop of since it last worked (see
    /// [`Self::discard`]).
    #[serde(skip)]
    suspicion: BTreeMap<String, u32>,
}

fn random_index(len: usize, rng: &mut impl CryptoRng) -> usize {
    // Modulo bias is below 2^-40 for any node count a manifest can hold.
    (rng.next_u64() % len as u64) as usize
}

/// Picks `count` distinct entries of `from` at random (partial Fisher–Yates).
fn pick<T: Clone>(mut from: Vec<T>, count: usize, rng: &mut impl CryptoRng) -> Vec<T> {
    let count = count.min(from.len());
    for i in 0..count {
        let j = i + random_index(from.len() - i, rng);
        from.swap(i, j);
    }
    from.truncate(count);
    from
}

/// Picks `count` distinct nodes of `from`, the least suspected first (ties at random).
fn pick_trusted<'a>(
    from: Vec<&'a ManifestNode>,
    count: usize,
    suspicion: &BTreeMap<String, u32>,
    rng: &mut impl CryptoRng,
) -> Vec<&'a ManifestNode> {
    let all = from.len();
    let mut shuffled = pick(from, all, rng);
    // A stable sort keeps the shuffled order among equally suspected nodes.
    crate::order::by_key(&mut shuffled, |n| {
        u64::from(suspicion.get(&n.ed25519).copied().unwrap_or(0))
    });
    shuffled.truncate(count);
    shuffled
}

impl PathPool {
    /// An empty pool.
    pub fn new() -> Self {
        Self::default()
    }

    /// The guards in use (Ed25519 hex).
    pub fn guards(&self) -> &[String] {
        &self.guards
    }

    /// The paths currently kept.
    pub fn paths(&self) -> &[OnionPath] {
        &self.paths
    }

    /// Forgets guards and paths that `manifest` no longer lists (after a manifest update or a
    /// restart); nodes excluded as dead get another chance.
    pub fn retain_listed(&mut self, manifest: &Manifest) {
        self.excluded.clear();
        self.suspicion.clear();
        let listed = |ed: &str| manifest.nodes.iter().any(|n| n.ed25519 == ed);
        self.guards.retain(|g| listed(g));
        self.paths
            .retain(|p| p.hops.iter().all(|h| manifest.nodes.contains(h)));
    }

    /// Leaves `ed25519` out of every path from now on (it failed as a hop): its paths are
    /// dropped and, if it was a guard, the guard is replaced.
    pub fn exclude_node(&mut self, ed25519: &str) {
        self.excluded.insert(ed25519.to_string());
        self.guards.retain(|g| g != ed25519);
        self.paths
            .retain(|p| p.hops.iter().all(|h| h.ed25519 != ed25519));
    }

    /// A path for a request whose destination is in `avoid` (its swarm): an existing path that
    /// avoids it, or a new one. Errors when the manifest has fewer than four nodes (three hops
    /// plus a distinct destination).
    pub fn path_for(
        &mut self,
        manifest: &Manifest,
        avoid: Option<SwarmId>,
        rng: &mut impl CryptoRng,
    ) -> Result<OnionPath> {
        if manifest.nodes.len() < PATH_HOPS + 1 {
            return Err(Error::LimitExceeded(
                "an onion path needs at least four nodes in the network",
            ));
        }
        let mut live: Vec<&ManifestNode> = manifest
            .nodes
            .iter()
            .filter(|n| !self.excluded.contains(&n.ed25519))
            .collect();
        if live.len() < PATH_HOPS + 1 {
            // Too many nodes look dead to build around them: try them all again.
            self.excluded.clear();
            live = manifest.nodes.iter().collect();
        }
        let outside = live.iter().filter(|n| Some(n.swarm()) != avoid).count();
        // Avoiding the swarm is only possible when enough nodes lie outside it.
        let avoid = avoid.filter(|_| outside >= PATH_HOPS);
        let usable = |p: &OnionPath| p.hops.iter().all(|h| Some(h.swarm()) != avoid);
        if let Some(existing) = self.paths.iter().find(|p| usable(p)) {
            return Ok(existing.clone());
        }
        let path = self.build(&live, avoid, rng);
        self.paths.push(path.clone());
        Ok(path)
    }

    fn build(
        &mut self,
        live: &[&ManifestNode],
        avoid: Option<SwarmId>,
        rng: &mut impl CryptoRng,
    ) -> OnionPath {
        let allowed: Vec<&ManifestNode> = live
            .iter()
            .copied()
            .filter(|n| Some(n.swarm()) != avoid)
            .collect();
        // Top the guards up to GUARD_COUNT from the allowed nodes.
        if self.guards.len() < GUARD_COUNT {
            let candidates: Vec<&ManifestNode> = allowed
                .iter()
                .copied()
                .filter(|n| !self.guards.contains(&n.ed25519))
                .collect();
            let wanted = GUARD_COUNT - self.guards.len();
            let trusted = pick_trusted(candidates, wanted, &self.suspicion, rng);
            self.guards
                .extend(trusted.into_iter().map(|n| n.ed25519.clone()));
        }
        let usable_guards: Vec<&ManifestNode> = allowed
            .iter()
            .copied()
            .filter(|n| self.guards.contains(&n.ed25519))
            .collect();
        let guard = if usable_guards.is_empty() {
            // Every guard sits in the swarm to avoid: use a one-off entry node.
            pick_trusted(allowed.clone(), 1, &self.suspicion, rng)[0]
        } else {
            pick_trusted(usable_guards, 1, &self.suspicion, rng)[0]
        };
        let rest: Vec<&ManifestNode> = allowed
            .iter()
            .copied()
            .filter(|n| n.ed25519 != guard.ed25519)
            .collect();
        let mut hops = vec![guard.clone()];
        let relays = pick_trusted(rest, PATH_HOPS - 1, &self.suspicion, rng);
        hops.extend(relays.into_iter().cloned());
        OnionPath {
            hops,
            failures: 0,
            first_used_ms: 0,
        }
    }

    /// Retires the paths first used [`PATH_LIFETIME_MS`] or more before `now_ms` and starts the
    /// clock of those not used yet. Called before each request, so a path serves for its
    /// lifetime from its first request.
    pub fn rotate(&mut self, now_ms: u64) {
        for p in &mut self.paths {
            if p.first_used_ms == 0 {
                p.first_used_ms = now_ms.max(1);
            }
        }
        self.paths
            .retain(|p| now_ms.saturating_sub(p.first_used_ms) < PATH_LIFETIME_MS);
    }

    /// Drops `path` at once: it timed out, or its reply was cut off or does not decrypt.
    /// Which hop is to blame cannot be told, so no node is excluded; but a guard whose paths
    /// fail [`GUARD_STRIKE_LIMIT`] times in a row, through different relays, is replaced
    /// (every path starts at a guard, so a hostile guard would otherwise spoil them all).
    /// Every hop is suspected once more: new paths take the least suspected nodes.
    pub fn discard(&mut self, path: &OnionPath) {
        self.paths.retain(|p| p.hops != path.hops);
        for hop in &path.hops {
            *self.suspicion.entry(hop.ed25519.clone()).or_default() += 1;
        }
        let guard = &path.hops[0].ed25519;
        let strikes = self.guard_strikes.entry(guard.clone()).or_default();
        *strikes += 1;
        if *strikes >= GUARD_STRIKE_LIMIT {
            self.guard_strikes.remove(guard);
            self.guards.retain(|g| g != guard);
            self.paths.retain(|p| p.hops[0].ed25519 != *guard);
        }
    }

    /// Records a success: the path's failure count starts again, and its guard's, and its
    /// hops are no longer suspected.
    pub fn record_success(&mut self, path: &OnionPath) {
        self.guard_strikes.remove(&path.hops[0].ed25519);
        for hop in &path.hops {
            self.suspicion.remove(&hop.ed25519);
        }
        if let Some(kept) = self.paths.iter_mut().find(|p| p.hops == path.hops) {
            kept.failures = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::plan_swarms;
    use rand_core::SeedableRng as _;

    fn manifest(n: usize) -> Manifest {
        let swarms = plan_swarms(n);
        Manifest::new(
            "t".into(),
            1,
            (0..n)
                .map(|i| {
                    ManifestNode::new(
                        format!("{i:064x}"),
                        format!("{:064x}", i + 1000),
                        format!("http://127.0.0.1:{}", 20000 + i),
                        swarms[i].0,
                    )
                })
                .collect(),
        )
    }

    fn rng() -> rand_chacha::ChaCha20Rng {
        rand_chacha::ChaCha20Rng::seed_from_u64(1)
    }

    fn distinct(path: &OnionPath) -> bool {
        let mut eds: Vec<&str> = path.hops.iter().map(|h| h.ed25519.as_str()).collect();
        eds.sort_unstable();
        eds.dedup();
        eds.len() == PATH_HOPS
    }

    #[test]
    fn paths_avoid_the_destination_swarm_and_start_at_a_guard() {
        let m = manifest(12);
        let mut rng = rng();
        for swarm in m.swarm_ids() {
            let mut pool = PathPool::new();
            let path = pool.path_for(&m, Some(swarm), &mut rng).unwrap();
            assert!(distinct(&path));
            assert!(path.hops.iter().all(|h| h.swarm() != swarm));
            assert_eq!(pool.guards().len(), GUARD_COUNT);
            assert!(pool.guards().contains(&path.hops[0].ed25519));
            // The same path is reused while it works.
            assert_eq!(pool.path_for(&m, Some(swarm), &mut rng).unwrap(), path);
        }
    }

    #[test]
    fn a_discarded_path_is_rebuilt_around_its_hops_and_a_guard_failing_twice_in_a_row_is_replaced()
    {
        let m = manifest(12);
        let mut rng = rng();
        let mut pool = PathPool::new();
        let first = pool.path_for(&m, None, &mut rng).unwrap();
        let guards = pool.guards().to_vec();
        pool.discard(&first);
        assert!(
            pool.paths().is_empty(),
            "an unreadable reply drops the path"
        );
        assert_eq!(
            pool.guards(),
            guards.as_slice(),
            "one strike keeps the guard"
        );
        // Its hops are suspected: the next path is built of others, the other guard first.
        let next = pool.path_for(&m, None, &mut rng).unwrap();
        assert!(next.hops.iter().all(|h| !first.hops.contains(h)));
        assert!(guards.contains(&next.hops[0].ed25519));
        // A success through the same guard clears its strike and its suspicion.
        let guard = first.hops[0].ed25519.clone();
        let through_guard = OnionPath {
            hops: vec![
                first.hops[0].clone(),
                next.hops[1].clone(),
                next.hops[2].clone(),
            ],
            failures: 0,
            first_used_ms: 0,
        };
        pool.record_success(&through_guard);
        assert!(!pool.suspicion.contains_key(&guard));
        pool.discard(&through_guard);
        assert!(pool.guards().contains(&guard));
        // Two in a row: replaced, and its other paths go with it.
        pool.paths.push(first.clone());
        pool.discard(&through_guard);
        assert!(!pool.guards().contains(&guard));
        assert!(pool.paths().iter().all(|p| p.hops[0].ed25519 != guard));
        assert_eq!(pool.paths(), [next], "the other guard's path is kept");
        pool.paths.clear();
        pool.path_for(&m, None, &mut rng).unwrap();
        assert_eq!(pool.guards().len(), GUARD_COUNT, "topped up again");
    }

    #[test]
    fn small_networks_cannot_avoid_the_swarm_and_tiny_ones_are_refused() {
        let m = manifest(4); // one swarm of four
        let swarm = m.swarm_ids()[0];
        let path = PathPool::new()
            .path_for(&m, Some(swarm), &mut rng())
            .unwrap();
        assert!(distinct(&path));
        assert!(
            PathPool::new()
                .path_for(&manifest(3), None, &mut rng())
                .is_err()
        );
    }

    #[test]
    fn an_excluded_node_is_left_out_until_too_few_remain() {
        let m = manifest(12);
        let mut rng = rng();
        let mut pool = PathPool::new();
        let path = pool.path_for(&m, None, &mut rng).unwrap();
        let dead = path.hops[1].ed25519.clone();
        pool.exclude_node(&dead);
        assert!(
            pool.paths().is_empty(),
            "the path through the dead node is dropped"
        );
        for _ in 0..30 {
            let p = pool.path_for(&m, None, &mut rng).unwrap();
            assert!(p.hops.iter().all(|h| h.ed25519 != dead));
            pool.discard(&p);
        }
        // With nine of twelve nodes excluded, the pool tries every node again.
        for n in &m.nodes[..9] {
            pool.exclude_node(&n.ed25519);
        }
        assert!(pool.path_for(&m, None, &mut rng).is_ok());
        // Saved and loaded: guards and paths survive, exclusions do not.
        let saved: PathPool = serde_json::from_str(&serde_json::to_string(&pool).unwrap()).unwrap();
        assert_eq!(saved.guards(), pool.guards());
        assert_eq!(saved.paths(), pool.paths());
    }

    #[test]
    fn nodes_leaving_the_manifest_leave_the_pool() {
        let mut m = manifest(12);
        let mut rng = rng();
        let mut pool = PathPool::new();
        let path = pool.path_for(&m, None, &mut rng).unwrap();
        m.nodes.retain(|n| n.ed25519 != path.hops[0].ed25519);
        pool.retain_listed(&m);
        assert!(pool.paths().is_empty());
        assert_eq!(pool.guards().len(), GUARD_COUNT - 1);
    }

    /// The path policy against one hostile node outside the destination's swarm (it spoils
    /// every reply through it, as the hostile-relay test's proxies do), over many networks and
    /// seeds: requests alternate between two swarms, like a send and its sync copy. Before the
    /// pool weighed suspicion, about one request in a thousand spent all 8 attempts on paths
    /// through the hostile node.
    #[test]
    fn a_hostile_hop_is_out_of_the_next_paths() {
        let m = manifest(9);
        let swarms = m.swarm_ids();
        let mut worst = 0;
        for seed in 0..3_000u64 {
            let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
            let to = swarms[seed as usize % 3];
            let own = swarms[(seed as usize + 1) % 3];
            let outside: Vec<&ManifestNode> = m.nodes.iter().filter(|n| n.swarm() != to).collect();
            let hostile = outside[(seed as usize / 3) % outside.len()].ed25519.clone();
            let mut pool = PathPool::new();
            for request in 0..6 {
                let avoid = if request % 2 == 0 { to } else { own };
                let attempts = (1..=8)
                    .find(|_| {
                        let path = pool.path_for(&m, Some(avoid), &mut rng).unwrap();
                        let spoiled = path.hops.iter().any(|h| h.ed25519 == hostile);
                        if spoiled {
                            pool.discard(&path);
                        } else {
                            pool.record_success(&path);
                        }
                        !spoiled
                    })
                    .unwrap_or_else(|| panic!("seed {seed}: 8 spoiled paths in a row"));
                worst = worst.max(attempts);
            }
        }
        assert!(worst <= 3, "a request took {worst} attempts");
    }

    #[test]
    fn paths_are_replaced_after_their_lifetime_and_guards_are_kept() {
        let m = manifest(12);
        let mut rng = rng();
        let mut pool = PathPool::new();
        let first = pool.path_for(&m, None, &mut rng).unwrap();
        let guards = pool.guards().to_vec();
        pool.rotate(1_000);
        pool.rotate(1_000 + PATH_LIFETIME_MS - 1);
        assert_eq!(pool.path_for(&m, None, &mut rng).unwrap().hops, first.hops);
        pool.rotate(1_000 + PATH_LIFETIME_MS);
        assert!(pool.paths().is_empty(), "retired at its lifetime");
        let next = pool.path_for(&m, None, &mut rng).unwrap();
        assert_eq!(pool.guards(), guards.as_slice(), "the guards stay");
        assert!(guards.contains(&next.hops[0].ed25519));
    }
}
