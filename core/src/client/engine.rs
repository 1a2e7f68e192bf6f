//! The client engine's core: the network manifest, network time, and one storage RPC carried
//! through an onion path to a swarm member, with the retry policy around it.
//!
//! State lives in a `RefCell` that is never borrowed across an `.await`, so one `Client` can
//! poll and send at the same time on a single-threaded executor (a browser tab, the CLI).

use std::cell::RefCell;
use std::collections::HashMap;

use rand_core::CryptoRng;

use super::error::{ClientError, ClientResult};
use super::path::{OnionPath, PathPool};
use super::platform::{Clock, Store, Transport, TransportError};
use super::retry::{Action, Outcome, Retry};
use super::seen::{KEY_SEEN, SeenSet};
use crate::Identity;
use crate::error::{Error, ManifestError};
use crate::network::{Freshness, ManifestNode, NetworkConfig, Offer, SignedManifest, manifest_url};
use crate::onion::{Destination, EncType, RelayError, build_onion_request, decrypt_node_reply};
use crate::rpc::response::{NetworkTime, Reply};
use crate::rpc::{AccountId, Request, TTL_MAXIMUM_MS};

/// Store key of the signed manifest.
const KEY_MANIFEST: &str = "manifest";
/// Store key of the guards and paths.
const KEY_PATHS: &str = "paths";

/// Client settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    pub network: NetworkConfig,
    /// TTL of a sent message without a disappearing timer (14 days).
    pub message_ttl_ms: u64,
    /// How often the manifest is fetched again.
    pub manifest_refresh_ms: u64,
    /// Attempts per request before giving up (each may use a new path or swarm member).
    pub max_attempts: u32,
    /// Wait after the first failed attempt; doubled per failure up to `backoff_max_ms`.
    pub backoff_ms: u64,
    pub backoff_max_ms: u64,
    /// Whether this device takes part in protocol v2's device group and publishes the
    /// account's keys (a kept profile or a CLI home; never a temporary session).
    pub v2_publish: bool,
    /// Send v2 without forward secrecy, never v1, to recipients that publish no keys.
    pub v2_only: bool,
    /// This device's description and kind in the device group (`c` CLI, `w` browser).
    pub device_description: String,
    pub device_kind: String,
}

impl ClientConfig {
    /// Defaults for `network`.
    pub fn new(network: NetworkConfig) -> Self {
        Self {
            network,
            message_ttl_ms: TTL_MAXIMUM_MS,
            manifest_refresh_ms: 10 * 60 * 1000,
            max_attempts: 8,
            backoff_ms: 100,
            backoff_max_ms: 2_000,
            v2_publish: false,
            v2_only: false,
            device_description: String::new(),
            device_kind: String::new(),
        }
    }
}

/// Nodes whose time must agree (their median) before the client deletes anything by it.
pub const TIME_QUORUM: usize = 3;
/// Nodes whose latest time the median is taken over.
const TIME_SAMPLES: usize = 9;

#[derive(Debug, Default)]
pub(super) struct State {
    loaded: bool,
    manifest: Option<SignedManifest>,
    /// Local time of the last manifest check (`None`: check before the next request).
    manifest_checked_ms: Option<u64>,
    pool: PathPool,
    /// Network time minus local time: the median of `time_samples`.
    offset_ms: Option<i64>,
    /// The latest offset each recently answering node implied (one per node, newest last).
    time_samples: Vec<(String, i64)>,
    /// Message hashes not to hand out (again): loaded once here, marked and saved by
    /// `messaging`. Our own sync copies join it as they are stored.
    pub(super) seen: SeenSet,
    /// The paths JSON last written, so an unchanged pool is not written again.
    saved_paths: Vec<u8>,
    /// Each swarm member's `last_hash` as read from or written to the store (`None`: the
    /// store has none), so a poll reads a member's record once, not every time.
    pub(super) last_hashes: HashMap<String, Option<String>>,
    /// Who the next waiting retrieve goes to, and who only gets polled for now.
    pub(super) live: super::live::LiveState,
    /// This device's protocol v2 keys and group (`v2_loaded`: read from the store).
    #[cfg(feature = "v2-client")]
    pub(super) v2: Option<super::v2::DeviceKeys>,
    #[cfg(feature = "v2-client")]
    pub(super) v2_loaded: bool,
    /// Local time the device group was last read.
    #[cfg(feature = "v2-client")]
    pub(super) v2_group_read_ms: Option<u64>,
    /// Network time the account's UserGroups config was last read.
    #[cfg(feature = "groups-client")]
    pub(super) user_groups_read_ms: Option<u64>,
}

/// The Murmur client engine for one identity. See the module docs of [`crate::client`].
pub struct Client<T, C, S, R> {
    pub(super) transport: T,
    pub(super) clock: C,
    pub(super) store: S,
    pub(super) rng: RefCell<R>,
    pub(super) identity: Identity,
    pub(super) config: ClientConfig,
    pub(super) state: RefCell<State>,
}

impl<T, C, S, R> std::fmt::Debug for Client<T, C, S, R> {
    // Nothing of the identity or the state: Debug output may reach logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

impl<T: Transport, C: Clock, S: Store, R: CryptoRng> Client<T, C, S, R> {
    /// A client for `identity`. Nothing is fetched until the first operation.
    pub fn new(
        identity: Identity,
        config: ClientConfig,
        transport: T,
        clock: C,
        store: S,
        rng: R,
    ) -> Self {
        Self {
            transport,
            clock,
            store,
            rng: RefCell::new(rng),
            identity,
            config,
            state: RefCell::new(State::default()),
        }
    }

    /// The client's store (where it keeps its state; platforms keep theirs beside it).
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The identity this client acts for.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The operator key whose manifests this client takes.
    pub fn operator_key(&self) -> [u8; 32] {
        self.config.network.operator_key
    }

    /// The platform clock (for callers that pace their own loops with it).
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// Local time corrected by what the network said (local time until a node has answered).
    pub fn network_now_ms(&self) -> u64 {
        let local = self.clock.now_ms();
        let offset = self.state.borrow().offset_ms.unwrap_or(0);
        local.saturating_add_signed(offset)
    }

    /// The network time offset learnt so far (network − local, ms).
    pub fn clock_offset_ms(&self) -> Option<i64> {
        self.state.borrow().offset_ms
    }

    /// Network time, if at least [`TIME_QUORUM`] nodes have told it (their median): the only
    /// time to delete anything by. One node's word, wrong by a month, must not expire history.
    pub fn agreed_now_ms(&self) -> Option<u64> {
        (self.state.borrow().time_samples.len() >= TIME_QUORUM).then(|| self.network_now_ms())
    }

    /// The manifest in use.
    pub fn manifest(&self) -> Option<SignedManifest> {
        self.state.borrow().manifest.clone()
    }

    /// The guards in use (Ed25519 hex).
    pub fn guards(&self) -> Vec<String> {
        self.state.borrow().pool.guards().to_vec()
    }

    /// The onion path requests use now, building one if there is none.
    pub async fn current_path(&self) -> ClientResult<OnionPath> {
        self.ready().await?;
        let path = {
            let mut st = self.state.borrow_mut();
            let st = &mut *st;
            let manifest = st.manifest.as_ref().ok_or(ClientError::Unreachable {
                seeds: self.config.network.seeds.len(),
            })?;
            match st.pool.paths().first() {
                Some(p) => p.clone(),
                None => st
                    .pool
                    .path_for(&manifest.manifest, None, &mut *self.rng.borrow_mut())?,
            }
        };
        self.save_paths().await?;
        Ok(path)
    }

    /// Loads saved state, makes sure a manifest is held and fresh, and learns network time.
    /// A manifest past its expiry is refused once the seeds have nothing newer.
    pub async fn ready(&self) -> ClientResult<()> {
        self.load().await?;
        if self.manifest_due() {
            self.refresh_manifest().await?;
        }
        if let Freshness::Expired { .. } = self.manifest_freshness() {
            // Perhaps the operator has signed a new one since the last check.
            self.state.borrow_mut().manifest_checked_ms = None;
            self.refresh_manifest().await?;
            if let Freshness::Expired { at_ms } = self.manifest_freshness() {
                return Err(ClientError::Manifest(ManifestError::Expired { at_ms }));
            }
        }
        if self.state.borrow().offset_ms.is_none() {
            self.sync_time().await?;
        }
        Ok(())
    }

    fn manifest_freshness(&self) -> Freshness {
        let now = self.network_now_ms();
        self.state
            .borrow()
            .manifest
            .as_ref()
            .map_or(Freshness::Fresh, |m| m.manifest.freshness(now))
    }

    /// A warning for the user about the network's manifest (stale: past the operator's
    /// refresh time, still used), if there is one.
    pub fn manifest_warning(&self) -> Option<String> {
        self.manifest_freshness().warning()
    }

    /// Whether the manifest must be fetched before the next request: none held, the last
    /// check is older than the refresh interval, or the network it describes is too small for
    /// an onion path (an operator growing a new network should not have to wait 10 minutes).
    fn manifest_due(&self) -> bool {
        let st = self.state.borrow();
        let Some(held) = &st.manifest else {
            return true;
        };
        held.manifest.nodes.len() <= crate::client::path::PATH_HOPS
            || st.manifest_checked_ms.is_none_or(|at| {
                self.clock.now_ms().saturating_sub(at) >= self.config.manifest_refresh_ms
            })
    }

    async fn load(&self) -> ClientResult<()> {
        if self.state.borrow().loaded {
            return Ok(());
        }
        let manifest = self.store.get(KEY_MANIFEST).await?;
        let paths = self.store.get(KEY_PATHS).await?;
        let seen = self.store.get(KEY_SEEN).await?;
        let mut st = self.state.borrow_mut();
        st.loaded = true;
        st.seen = SeenSet::from_bytes(seen.as_deref());
        // A saved manifest is checked like a fetched one: the store is not trusted blindly.
        st.manifest = manifest
            .and_then(|m| SignedManifest::from_json(&m, &self.config.network.operator_key).ok());
        let mut pool: PathPool = paths
            .and_then(|p| serde_json::from_slice(&p).ok())
            .unwrap_or_default();
        if let Some(m) = &st.manifest {
            pool.retain_listed(&m.manifest);
        }
        st.pool = pool;
        Ok(())
    }

    /// Fetches the manifest from the seeds and takes it if the operator signed it and it is
    /// newer than the one held. Errors only when no usable manifest is held afterwards.
    pub async fn refresh_manifest(&self) -> ClientResult<()> {
        self.load().await?;
        let mut seeds = self.config.network.seeds.clone();
        super::shuffle(&mut seeds, &mut *self.rng.borrow_mut());
        let mut refusal: Option<ManifestError> = None;
        for seed in &seeds {
            let Ok(response) = self.transport.get(&manifest_url(seed)).await else {
                continue;
            };
            if response.status != 200 {
                continue;
            }
            let held = self.state.borrow().manifest.clone();
            let operator = &self.config.network.operator_key;
            match Offer::judge_json(&response.body, held.as_ref(), operator) {
                Offer::Newer(offered) => {
                    self.store
                        .put(KEY_MANIFEST, offered.to_json().into_bytes())
                        .await?;
                    {
                        let mut st = self.state.borrow_mut();
                        st.pool.retain_listed(&offered.manifest);
                        st.manifest = Some(offered);
                        st.manifest_checked_ms = Some(self.clock.now_ms());
                    }
                    self.save_paths().await?;
                    return Ok(());
                }
                Offer::Same => {
                    self.state.borrow_mut().manifest_checked_ms = Some(self.clock.now_ms());
                    return Ok(());
                }
                Offer::Refused(e) => refusal = Some(e),
            }
        }
        let mut st = self.state.borrow_mut();
        if st.manifest.is_some() {
            // Keep using the manifest held; try the seeds again at the next interval.
            st.manifest_checked_ms = Some(self.clock.now_ms());
            return Ok(());
        }
        Err(match refusal {
            Some(e) => ClientError::Manifest(e),
            None => ClientError::Unreachable { seeds: seeds.len() },
        })
    }

    /// Learns network time from [`TIME_QUORUM`] nodes picked at random (`info`, whose reply
    /// carries `t`); the offset is their median, so one node's lie does not set the clock.
    pub async fn sync_time(&self) -> ClientResult<()> {
        let mut nodes = {
            let st = self.state.borrow();
            st.manifest
                .as_ref()
                .map(|m| m.manifest.nodes.clone())
                .unwrap_or_default()
        };
        super::shuffle(&mut nodes, &mut *self.rng.borrow_mut());
        let mut asked: Vec<String> = Vec::new();
        while asked.len() < TIME_QUORUM {
            let candidates = super::not_asked(&nodes, &asked);
            if candidates.is_empty() {
                break;
            }
            match self.call(candidates, None, &|_, _| Request::Info).await {
                Ok((node, _)) => asked.push(node.ed25519),
                Err(e) if asked.is_empty() => return Err(e),
                // Fewer than a quorum answered: the time serves for signing, not deleting.
                Err(_) => break,
            }
        }
        Ok(())
    }

    /// The members of `account`'s swarm, as far as this client knows.
    pub(super) fn swarm_of(&self, account: &AccountId) -> Vec<ManifestNode> {
        let st = self.state.borrow();
        let Some(m) = &st.manifest else {
            return Vec::new();
        };
        m.manifest
            .swarm_for_key(&account.key())
            .map(|s| m.manifest.members(s).into_iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Saves the guards and paths if they changed since the last save (most requests reuse
    /// the same path, and this runs after each one).
    pub(super) async fn save_paths(&self) -> ClientResult<()> {
        let json = {
            let st = self.state.borrow();
            let json = serde_json::to_vec(&st.pool)
                .map_err(|_| Error::Malformed("paths do not serialise"))?;
            if json == st.saved_paths {
                return Ok(());
            }
            json
        };
        self.store.put(KEY_PATHS, json.clone()).await?;
        self.state.borrow_mut().saved_paths = json;
        Ok(())
    }

    /// Takes the time `node` answered with as one sample; the offset is the median of the
    /// latest sample of each of the last [`TIME_SAMPLES`] nodes.
    fn learn_time(&self, node: &ManifestNode, reply: &Reply) {
        let Some(NetworkTime { t }) = reply.parse() else {
            return;
        };
        let local = self.clock.now_ms();
        let offset = i64::try_from(t)
            .unwrap_or(i64::MAX)
            .saturating_sub(i64::try_from(local).unwrap_or(0));
        let mut st = self.state.borrow_mut();
        st.time_samples.retain(|(ed, _)| *ed != node.ed25519);
        st.time_samples.push((node.ed25519.clone(), offset));
        if st.time_samples.len() > TIME_SAMPLES {
            st.time_samples.remove(0);
        }
        let mut offsets: Vec<i64> = st.time_samples.iter().map(|(_, o)| *o).collect();
        crate::order::by_key(&mut offsets, |o| crate::order::signed_key(*o));
        st.offset_ms = Some(offsets[offsets.len() / 2]);
    }

    /// Sends the request `make(network_now, destination)` to one of `candidates` (tried in
    /// the given order, the next after a failure) until a member answers 200. `account` names
    /// the swarm the candidates form, so a 421 can move to the one a newer manifest assigns.
    ///
    /// Retry policy: a path failure waits (exponential backoff) and goes again over a new or
    /// repaired path; a dead destination moves to the next member; 421 refreshes the manifest
    /// and asks the swarm it assigns;
    /// 406 re-learns network time; any other 4xx is the caller's error and is not retried.
    pub(super) async fn call(
        &self,
        mut candidates: Vec<ManifestNode>,
        account: Option<&AccountId>,
        make: &dyn Fn(u64, &ManifestNode) -> Request,
    ) -> ClientResult<(ManifestNode, Reply)> {
        if candidates.is_empty() {
            return Err(ClientError::Exhausted {
                attempts: 0,
                last: "no node to ask (empty network or swarm)".into(),
            });
        }
        let mut member = 0usize;
        let mut refusals = 0usize;
        let mut retry = Retry::new(
            self.config.max_attempts,
            self.config.backoff_ms,
            self.config.backoff_max_ms,
        );
        loop {
            let dest = candidates[member % candidates.len()].clone();
            let request = make(self.network_now_ms(), &dest);
            let outcome = self.attempt(&dest, &request).await;
            self.save_paths().await?;
            let outcome = outcome?;
            match retry.next(outcome) {
                Action::Return(reply) => {
                    self.learn_time(&dest, &reply);
                    return Ok((dest, reply));
                }
                // A refusal is one member's word: a lying member refusing everything must not
                // stop the request, so it is final only once every candidate refused.
                Action::Refuse(reply) => {
                    refusals += 1;
                    if refusals >= candidates.len() {
                        return Err(if reply.status == 507 {
                            ClientError::MailboxFull
                        } else {
                            ClientError::Refused {
                                status: reply.status,
                                reason: reply.reason(),
                            }
                        });
                    }
                    member += 1;
                }
                Action::FollowSwarm => {
                    // A 421 only says "not here". The swarm is what the newest manifest the
                    // operator signed assigns, never the list the node names: a lying member
                    // would name itself and capture every send to, and poll of, the account.
                    self.state.borrow_mut().manifest_checked_ms = None;
                    self.refresh_manifest().await?;
                    let assigned = account.map(|a| self.swarm_of(a)).unwrap_or_default();
                    if assigned.is_empty() || assigned == candidates {
                        member += 1;
                    } else {
                        candidates = assigned;
                        super::shuffle(&mut candidates, &mut *self.rng.borrow_mut());
                        member = 0;
                    }
                }
                Action::SyncClock => {
                    // Learn the time from the same node, then sign again; if its time does not
                    // move the median, the member's clock is the odd one: ask the next.
                    let before = self.state.borrow().offset_ms;
                    if let Ok(Outcome::Reply(info)) = self.attempt(&dest, &Request::Info).await
                        && info.status == 200
                    {
                        self.learn_time(&dest, &info);
                    }
                    if self.state.borrow().offset_ms == before {
                        member += 1;
                    }
                }
                Action::Again {
                    next_member,
                    wait_ms,
                } => {
                    if next_member {
                        member += 1;
                    }
                    self.clock.sleep(wait_ms).await;
                }
                Action::GiveUp { last } => {
                    return Err(ClientError::Exhausted {
                        attempts: retry.attempts(),
                        last,
                    });
                }
            }
        }
    }

    /// One try: pick a path avoiding `dest`'s swarm, wrap `request` in onion layers, post it to
    /// the guard, and read the answer. Path bookkeeping (failures, dead nodes) happens here.
    async fn attempt(&self, dest: &ManifestNode, request: &Request) -> ClientResult<Outcome> {
        let payload = request.to_json().to_string();
        let destination = Destination::Node(dest.hop()?);
        Ok(
            match self
                .onion_post(&destination, Some(dest.swarm()), payload.into_bytes())
                .await?
            {
                Posted::Failed(outcome) => outcome,
                Posted::Answer {
                    path,
                    reply_key,
                    body,
                } => {
                    let mut st = self.state.borrow_mut();
                    match decrypt_node_reply(&reply_key, &body) {
                        Ok(reply) => {
                            st.pool.record_success(&path);
                            Outcome::Reply(reply)
                        }
                        Err(_) => {
                            st.pool.discard(&path);
                            Outcome::Unreadable("the reply could not be read")
                        }
                    }
                }
            },
        )
    }

    /// Sends `payload` in onion layers through a path (avoiding `avoid`'s swarm) to
    /// `destination`: the destination's 200 answer with the key to read it (the caller records
    /// the path's success or discards it once it has read it), or what went wrong on the way,
    /// the path bookkeeping done.
    pub(super) async fn onion_post(
        &self,
        destination: &Destination,
        avoid: Option<crate::swarm::SwarmId>,
        payload: Vec<u8>,
    ) -> ClientResult<Posted> {
        let (path, built) = {
            let mut st = self.state.borrow_mut();
            let st = &mut *st;
            let manifest = st.manifest.as_ref().ok_or(ClientError::Unreachable {
                seeds: self.config.network.seeds.len(),
            })?;
            let mut rng = self.rng.borrow_mut();
            st.pool.rotate(self.clock.now_ms());
            let path = st.pool.path_for(&manifest.manifest, avoid, &mut *rng)?;
            let hops = path
                .hops
                .iter()
                .map(ManifestNode::hop)
                .collect::<crate::error::Result<Vec<_>>>()?;
            let built =
                build_onion_request(&hops, destination, &payload, EncType::XChaCha20, &mut *rng)?;
            (path, built)
        };
        drop(payload);
        let guard = &path.hops[0];
        let response = self
            .transport
            .post(&guard.endpoint(crate::onion::ONION_REQ_PATH), built.body)
            .await;
        let mut st = self.state.borrow_mut();
        Ok(Posted::Failed(match response {
            Err(TransportError::Connect) => {
                st.pool.exclude_node(&guard.ed25519);
                Outcome::PathFailed("the guard node is unreachable")
            }
            // A stalled or corrupted answer may come from any hop or from the destination
            // itself: the path is dropped, and `call` asks the next swarm member.
            Err(_) => {
                st.pool.discard(&path);
                Outcome::Unreadable("no answer through the path")
            }
            Ok(r) if r.status == 200 => {
                return Ok(Posted::Answer {
                    path,
                    reply_key: built.reply_key,
                    body: r.body,
                });
            }
            Ok(r) => {
                let text = String::from_utf8_lossy(&r.body);
                let relay_error = RelayError::parse(r.status, &text);
                // A relay names an unreachable node by its Ed25519 key, a file server by its
                // X25519 key.
                let dest_ed = match destination {
                    Destination::Node(hop) => hex::encode(hop.ed25519),
                    Destination::Server(server) => hex::encode(server.x25519),
                };
                match relay_error.as_ref().and_then(RelayError::named_node) {
                    Some(ed) if ed.eq_ignore_ascii_case(&dest_ed) => Outcome::DestinationDown,
                    // The error text is any hop's unauthenticated word, so it excludes one
                    // node at most, and never the guard: no hop relays *to* the guard, so a
                    // text naming it is a lie (a relay steering the client to another guard,
                    // perhaps one it colludes with).
                    Some(ed)
                        if path.hops[1..]
                            .iter()
                            .any(|h| h.ed25519.eq_ignore_ascii_case(ed)) =>
                    {
                        st.pool.exclude_node(ed);
                        Outcome::PathFailed("a node of the path is down")
                    }
                    // A relay's own error (it timed out, or the next hop's answer was
                    // broken): which hop failed is unknown, so the same as no answer.
                    _ => {
                        st.pool.discard(&path);
                        Outcome::Unreadable("the path returned an error")
                    }
                }
            }
        }))
    }

    /// A path's outcome, read by the caller: it succeeded, or its answer was unreadable.
    pub(super) fn path_result(&self, path: &OnionPath, readable: bool) {
        let mut st = self.state.borrow_mut();
        if readable {
            st.pool.record_success(path);
        } else {
            st.pool.discard(path);
        }
    }
}

/// What [`Client::onion_post`] came back with.
pub(super) enum Posted {
    Answer {
        path: OnionPath,
        reply_key: crate::onion::ReplyKey,
        body: Vec<u8>,
    },
    Failed(Outcome),
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;
    use rand_core::SeedableRng as _;
    use std::collections::HashMap;

    use super::*;
    use crate::client::platform::{HttpResponse, MemoryStore};
    use crate::network::{Manifest, plan_swarms};
    use crate::test_util::block_on;

    /// Seeds that serve fixed answers; every POST fails to connect.
    #[derive(Default, Clone)]
    struct Seeds {
        answers: std::rc::Rc<RefCell<HashMap<String, Vec<u8>>>>,
    }

    impl Seeds {
        fn serve(&self, body: Vec<u8>) {
            self.answers.borrow_mut().insert(SEED_URL.into(), body);
        }
    }

    impl Transport for Seeds {
        async fn post(&self, _: &str, _: Vec<u8>) -> Result<HttpResponse, TransportError> {
            Err(TransportError::Connect)
        }

        async fn get(&self, url: &str) -> Result<HttpResponse, TransportError> {
            let body = self.answers.borrow().get(url).cloned();
            body.map(|body| HttpResponse { status: 200, body })
                .ok_or(TransportError::Connect)
        }
    }

    struct Fixed;

    impl Clock for Fixed {
        fn now_ms(&self) -> u64 {
            1_700_000_000_000
        }

        async fn sleep(&self, _: u64) {}
    }

    fn manifest(sequence: u64, operator: &SigningKey) -> Vec<u8> {
        manifest_of(4, sequence, operator)
    }

    fn manifest_of(count: usize, sequence: u64, operator: &SigningKey) -> Vec<u8> {
        manifest_dated(count, sequence, operator, None, None)
    }

    fn manifest_dated(
        count: usize,
        sequence: u64,
        operator: &SigningKey,
        refresh_ms: Option<u64>,
        expires_ms: Option<u64>,
    ) -> Vec<u8> {
        let swarms = plan_swarms(count);
        let nodes = (0..count)
            .map(|i| {
                let key = SigningKey::from_bytes(&[i as u8 + 1; 32]);
                ManifestNode::new(
                    hex::encode(key.verifying_key().to_bytes()),
                    hex::encode(
                        crate::keys::ed25519_pk_to_x25519(&key.verifying_key().to_bytes()).unwrap(),
                    ),
                    format!("http://127.0.0.1:{}", 30000 + i),
                    swarms[i].0,
                )
            })
            .collect();
        let m = Manifest {
            refresh_ms,
            expires_ms,
            ..Manifest::new("t".into(), sequence, nodes)
        };
        SignedManifest::sign(m, operator)
            .unwrap()
            .to_json()
            .into_bytes()
    }

    fn client(
        seeds: &Seeds,
        store: MemoryStore,
        operator: &SigningKey,
    ) -> Client<Seeds, Fixed, MemoryStore, rand_chacha::ChaCha20Rng> {
        let config = ClientConfig::new(NetworkConfig {
            seeds: vec!["http://seed".into()],
            operator_key: operator.verifying_key().to_bytes(),
        });
        Client::new(
            Identity::generate(&mut rand_chacha::ChaCha20Rng::seed_from_u64(1)),
            config,
            seeds.clone(),
            Fixed,
            store,
            rand_chacha::ChaCha20Rng::seed_from_u64(2),
        )
    }

    const SEED_URL: &str = "http://seed/network";

    #[test]
    fn only_manifests_of_the_pinned_operator_are_taken_and_never_older_ones() {
        let operator = SigningKey::from_bytes(&[9; 32]);
        let stranger = SigningKey::from_bytes(&[10; 32]);
        let seeds = Seeds::default();

        // Nobody answers.
        let c = client(&seeds, MemoryStore::new(), &operator);
        assert_eq!(
            block_on(c.refresh_manifest()),
            Err(ClientError::Unreachable { seeds: 1 })
        );
        // Signed by another key: refused.
        seeds.serve(manifest(1, &stranger));
        let c = client(&seeds, MemoryStore::new(), &operator);
        assert_eq!(
            block_on(c.refresh_manifest()),
            Err(ClientError::Manifest(ManifestError::WrongOperator))
        );
        assert!(c.manifest().is_none());
        // Tampered after signing: refused.
        let tampered = String::from_utf8(manifest(1, &operator))
            .unwrap()
            .replace("127.0.0.1:30000", "127.0.0.1:31337");
        seeds.serve(tampered.into_bytes());
        let c = client(&seeds, MemoryStore::new(), &operator);
        assert_eq!(
            block_on(c.refresh_manifest()),
            Err(ClientError::Manifest(ManifestError::BadSignature))
        );
        // Signed and newer: taken, then kept when the seed rolls back to an older one.
        seeds.serve(manifest(5, &operator));
        let c = client(&seeds, MemoryStore::new(), &operator);
        block_on(c.refresh_manifest()).unwrap();
        assert_eq!(c.manifest().unwrap().manifest.sequence, 5);
        seeds.serve(manifest(4, &operator));
        block_on(c.refresh_manifest()).unwrap();
        assert_eq!(c.manifest().unwrap().manifest.sequence, 5, "no rollback");
        seeds.serve(manifest(6, &operator));
        block_on(c.refresh_manifest()).unwrap();
        assert_eq!(c.manifest().unwrap().manifest.sequence, 6);
    }

    #[test]
    fn a_stale_manifest_warns_and_an_expired_one_is_refused_until_a_new_one_comes() {
        let operator = SigningKey::from_bytes(&[9; 32]);
        let now = Fixed.now_ms();
        let seeds = Seeds::default();
        // Past its refresh time: used (the request fails only because nothing answers POSTs
        // here), with a warning naming the date.
        seeds.serve(manifest_dated(
            4,
            1,
            &operator,
            Some(now - 1),
            Some(now + 1),
        ));
        let c = client(&seeds, MemoryStore::new(), &operator);
        assert!(matches!(
            block_on(c.ready()),
            Err(ClientError::Exhausted { .. })
        ));
        let warning = c.manifest_warning().expect("a stale manifest warns");
        assert!(warning.contains("2023-11-14"), "{warning}");
        // Past its expiry, with nothing newer at the seeds: refused, saying so.
        seeds.serve(manifest_dated(
            4,
            2,
            &operator,
            Some(now - 10),
            Some(now - 1),
        ));
        let c = client(&seeds, MemoryStore::new(), &operator);
        let refused = block_on(c.ready()).unwrap_err();
        assert_eq!(
            refused,
            ClientError::Manifest(ManifestError::Expired { at_ms: now - 1 })
        );
        assert!(
            refused.to_string().contains("expired on 2023-11-14"),
            "{refused}"
        );
        // The operator signs a new one: the next request takes it at once.
        seeds.serve(manifest_dated(4, 3, &operator, None, Some(now + 1_000)));
        assert!(matches!(
            block_on(c.ready()),
            Err(ClientError::Exhausted { .. })
        ));
        assert_eq!(c.manifest().unwrap().manifest.sequence, 3);
        assert_eq!(c.manifest_warning(), None);
    }

    #[test]
    fn a_network_too_small_for_paths_is_checked_again_at_once() {
        let operator = SigningKey::from_bytes(&[9; 32]);
        let seeds = Seeds::default();
        let c = client(&seeds, MemoryStore::new(), &operator);
        assert!(c.manifest_due(), "nothing held");
        seeds.serve(manifest_of(3, 1, &operator));
        block_on(c.refresh_manifest()).unwrap();
        assert!(
            c.manifest_due(),
            "3 nodes cannot carry a 3-hop path: ask again"
        );
        seeds.serve(manifest_of(4, 2, &operator));
        block_on(c.refresh_manifest()).unwrap();
        assert!(!c.manifest_due(), "4 nodes: fresh for the refresh interval");
    }

    #[test]
    fn a_saved_manifest_is_checked_again_when_loaded() {
        let operator = SigningKey::from_bytes(&[9; 32]);
        let seeds = Seeds::default();
        let store = MemoryStore::new();
        let forged = manifest(9, &SigningKey::from_bytes(&[10; 32]));
        block_on(store.put(KEY_MANIFEST, forged)).unwrap();
        let c = client(&seeds, store, &operator);
        // The forged saved manifest is ignored, and no seed answers.
        assert_eq!(
            block_on(c.refresh_manifest()),
            Err(ClientError::Unreachable { seeds: 1 })
        );
        assert!(c.manifest().is_none());
    }
}
