//! The client's protocol v2 (the `v2-client` feature): this device's keys and group, kept in
//! the client's store; founding, rotating and publishing; the cache of others' keys; sealing
//! and opening direct messages of either version.

use prost::Message as _;
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::{NAMESPACE_DEVICES, NAMESPACE_OUTBOX, Protocol, V2Status};
use crate::bencode::{self, Item};
use crate::client::engine::Client;
use crate::client::error::ClientResult;
use crate::client::platform::{Clock, Store, Transport};
use crate::crypto;
use crate::keys::SessionId;
use crate::message::Received;
use crate::message::proto::Content;
use crate::network::ManifestNode;
use crate::rpc::response::RetrieveResponse;
use crate::rpc::{AccountId, Namespace, Request, RetrieveParams};
use crate::v2::account::{AccountKeyRing, CachedKeys, SendPlan, send_plan};
use crate::v2::devices::link;
use crate::v2::devices::message::{self as group_message, GroupId, Header, Opened, Recipient};
use crate::v2::devices::table::{DeviceState, DeviceTable};
use crate::v2::devices::{DeviceId, DeviceRecord, LINK_REQUEST_TTL_MS, Payload};
use crate::v2::dm::{self, Protection};
use crate::v2::keys::{KemKeys, KemPublic, MLKEM_PUBLIC, account_x_public};
use crate::v2::record::{self, PublishedKeys};

/// −21 records and `G` messages are kept this long (the most a private namespace allows).
const PUBLISHED_TTL_MS: u64 = 30 * 24 * 3600 * 1000;

const KEY_DEVICE: &str = "v2.device";
/// Set when the account has a device group elsewhere: this device waits to be linked.
const KEY_UNLINKED: &str = "v2.unlinked";
/// A link request this device made and waits on: `d 1:G <group> 1:I <id> 1:S <seed> 1:q <request> e`.
const KEY_LINKING: &str = "v2.linking";
/// Device keys rotate weekly (SESSION-V2.md open question 4) and a retired one is kept 30 days:
/// group messages live that long and may still be sealed to it.
const DEVICE_KEY_ROTATION_S: u64 = 7 * 24 * 3600;
const DEVICE_KEY_RETENTION_S: u64 = 30 * 24 * 3600;
/// A member with other devices reads the group this often (their rotations, new devices).
const GROUP_READ_INTERVAL_MS: u64 = 10 * 60 * 1000;

/// This device's v2 state: its device ID and keys, and its group.
pub(in crate::client) struct DeviceKeys {
    device_id: DeviceId,
    device_seed: Zeroizing<[u8; 32]>,
    /// Device seeds rotated out, with when (unix seconds), kept [`DEVICE_KEY_RETENTION_S`].
    retired: Vec<(Zeroizing<[u8; 32]>, u64)>,
    group_id: GroupId,
    table: DeviceTable,
    /// The X25519 half of the account key last published at −21.
    published: Option<[u8; 32]>,
    /// Hashes of this group's `G` messages this device read (not kept on disk): the next push
    /// supersedes them, so it deletes them.
    superseded: Vec<String>,
    /// The account keys held, expanded (ML-KEM key generation is the costly part), made again
    /// only when the keys held change. Not kept on disk.
    expanded: Vec<KemKeys>,
}

impl core::fmt::Debug for DeviceKeys {
    // IDs and secrets stay out of logs.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DeviceKeys").finish_non_exhaustive()
    }
}

impl DeviceKeys {
    /// Every device key held: the current one first, then retired ones.
    fn device_keys(&self) -> Vec<KemKeys> {
        core::iter::once(&self.device_seed)
            .chain(self.retired.iter().map(|(s, _)| s))
            .map(|s| KemKeys::device(s))
            .collect()
    }

    /// The account keys to try on a message, current first: expanded once per set of keys.
    fn account_keys(&mut self) -> &[KemKeys] {
        let seeds = self.table.keys.decryption_order();
        if self.expanded.iter().map(|k| k.seed()).ne(seeds.iter()) {
            self.expanded = seeds.iter().map(KemKeys::account).collect();
        }
        &self.expanded
    }

    /// This device's record as the group holds it.
    fn own_record(&self) -> Option<&DeviceRecord> {
        self.table.rows.get(&self.device_id)?.record.as_ref()
    }

    /// `d 1:G <group id> 1:I <device id> 1:P <payload> [1:R l <d 1:c <retired at> 1:s <seed> e>… e]
    /// 1:S <device seed> [1:p <published X>] e`.
    fn encode(&self) -> Zeroizing<Vec<u8>> {
        let mut w = bencode::Writer::new();
        w.dict()
            .key(b"G")
            .bytes(&self.group_id)
            .key(b"I")
            .bytes(&self.device_id)
            .key(b"P")
            .bytes(&self.table.payload().encode());
        if !self.retired.is_empty() {
            w.key(b"R").list();
            for (seed, at) in &self.retired {
                w.dict()
                    .key(b"c")
                    .int(*at as i64)
                    .key(b"s")
                    .bytes(seed.as_ref())
                    .end();
            }
            w.end();
        }
        w.key(b"S").bytes(self.device_seed.as_ref());
        if let Some(p) = &self.published {
            w.key(b"p").bytes(p);
        }
        w.end();
        Zeroizing::new(w.finish())
    }

    fn decode(data: &[u8]) -> Option<Self> {
        let Ok(Item::Dict(d)) = bencode::parse(data) else {
            return None;
        };
        let device_id: DeviceId = d.bytes(b"I")?.try_into().ok()?;
        let payload = Payload::parse(d.bytes(b"P")?).ok()?;
        let mut table = DeviceTable {
            own: device_id,
            keys: AccountKeyRing::new(payload.keys.clone()),
            ..DeviceTable::default()
        };
        table.merge(&payload, 0);
        // A state written before device keys rotated has no `R`.
        let mut retired = Vec::new();
        if let Some(Item::List(list)) = d.get(b"R") {
            for item in list {
                let Item::Dict(r) = item else { return None };
                let seed: [u8; 32] = r.bytes(b"s")?.try_into().ok()?;
                retired.push((Zeroizing::new(seed), u64::try_from(r.int(b"c")?).ok()?));
            }
        }
        Some(Self {
            device_id,
            device_seed: Zeroizing::new(d.bytes(b"S")?.try_into().ok()?),
            retired,
            group_id: d.bytes(b"G")?.try_into().ok()?,
            table,
            published: d.bytes(b"p").and_then(|p| p.try_into().ok()),
            superseded: Vec::new(),
            expanded: Vec::new(),
        })
    }
}

/// A device of the group, as `murmur devices list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    pub id: DeviceId,
    pub state: DeviceState,
    pub description: String,
    pub kind: String,
    pub version: i64,
    /// When it last changed, or left / was removed (unix seconds).
    pub at: i64,
    pub this_device: bool,
}

/// A device asking to join, with the emoji check both screens show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRequestInfo {
    pub id: DeviceId,
    pub description: String,
    pub kind: String,
    /// When it asked (unix seconds, its own word).
    pub at: i64,
    /// The first 7 of the emoji check.
    pub emoji: String,
}

/// What `link_device` started: the emoji to compare on the other device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkStarted {
    pub emoji: String,
    pub group_id: GroupId,
}

/// A recipient's published keys as the sender caches them.
type Cached = CachedKeys<PublishedKeys>;

/// The store key of `peer`'s cache row (hashed: no Session ID in a file name).
fn peer_key(peer: &SessionId) -> String {
    let h = crypto::blake2b(16, &[], b"MurmurV2KeyCache", &[peer.as_bytes()]);
    format!("v2.peer.{}", hex::encode(h))
}

/// `d [1:M <ML-KEM key> 1:X <X25519 key> 1:f <fetched at>] [1:n <NAK at>] e`.
fn encode_cached(row: &Cached) -> Vec<u8> {
    let mut w = bencode::Writer::new();
    w.dict();
    if let Some((keys, at)) = &row.found {
        w.key(b"M")
            .bytes(keys.m.as_ref())
            .key(b"X")
            .bytes(&keys.x)
            .key(b"f")
            .int(*at as i64);
    }
    if let Some(n) = row.nak_at {
        w.key(b"n").int(n as i64);
    }
    w.end();
    w.finish()
}

fn decode_cached(data: &[u8]) -> Option<Cached> {
    let Ok(Item::Dict(d)) = bencode::parse(data) else {
        return None;
    };
    let found = match (d.bytes(b"M"), d.bytes(b"X"), d.int(b"f")) {
        (Some(m), Some(x), Some(f)) => {
            let m: &[u8; MLKEM_PUBLIC] = m.try_into().ok()?;
            Some((PublishedKeys::new(x.try_into().ok()?, m).ok()?, f as u64))
        }
        _ => None,
    };
    Some(Cached {
        found,
        nak_at: d.int(b"n").map(|n| n as u64),
    })
}

/// This build's version as a device record writes it: `1000000·major + 1000·minor + patch`.
fn device_version() -> i64 {
    let part = |s: &str| s.parse::<i64>().unwrap_or(0).min(999);
    let mut v = env!("CARGO_PKG_VERSION").split('.');
    let mut next = || v.next().map_or(0, part);
    let (major, minor, patch) = (next(), next(), next());
    major * 1_000_000 + minor * 1000 + patch
}

impl<T: Transport, C: Clock, S: Store, R: CryptoRng> Client<T, C, S, R> {
    fn now_s(&self) -> u64 {
        self.network_now_ms() / 1000
    }

    /// Whether a flag key holds something (the store cannot delete: a cleared flag is empty).
    async fn flag(&self, key: &str) -> ClientResult<bool> {
        Ok(self.store.get(key).await?.is_some_and(|v| !v.is_empty()))
    }

    /// This device's v2 state, read from the store once.
    async fn load_device_keys(&self) -> ClientResult<()> {
        if self.state.borrow().v2_loaded {
            return Ok(());
        }
        let keys = match self.store.get(KEY_DEVICE).await? {
            Some(bytes) => {
                let bytes = Zeroizing::new(bytes);
                Some(
                    DeviceKeys::decode(&bytes)
                        .ok_or(crate::Error::Malformed("stored v2 device state"))?,
                )
            }
            None => None,
        };
        let mut st = self.state.borrow_mut();
        st.v2 = keys;
        st.v2_loaded = true;
        Ok(())
    }

    async fn save_device_keys(&self) -> ClientResult<()> {
        let bytes = match &self.state.borrow().v2 {
            Some(keys) => keys.encode(),
            None => return Ok(()),
        };
        self.store.put(KEY_DEVICE, bytes.to_vec()).await?;
        Ok(())
    }

    /// Where this device stands in its account's device group (no network).
    pub async fn v2_status(&self) -> ClientResult<V2Status> {
        if !self.config.v2_publish {
            return Ok(V2Status::Off);
        }
        self.load_device_keys().await?;
        let status = {
            let st = self.state.borrow();
            st.v2.as_ref().map(|keys| {
                let devices = keys.table.registered().count();
                let current = keys.table.keys.current();
                let current_x = current.map(|k| account_x_public(&k.seed));
                V2Status::Member {
                    group_id: keys.group_id,
                    devices,
                    key_created_s: current.map_or(0, |k| k.created),
                    next_rotation_s: keys
                        .table
                        .keys
                        .next_rotation(&keys.device_id, devices as u32)
                        .unwrap_or(0),
                    published: current_x.is_some() && current_x == keys.published,
                }
            })
        };
        Ok(match status {
            Some(member) => member,
            None if self.flag(KEY_UNLINKED).await? => V2Status::Unlinked,
            None => V2Status::NotYet,
        })
    }

    /// Founds the device group if the account has none, rotates the account key when due,
    /// forgets keys past retention, and publishes the current key. Does nothing for a client
    /// that does not publish, and nothing on the network when all is up to date.
    pub async fn maintain_v2(&self) -> ClientResult<V2Status> {
        if !self.config.v2_publish {
            return Ok(V2Status::Off);
        }
        self.load_device_keys().await?;
        if self.state.borrow().v2.is_none() {
            if self.flag(KEY_UNLINKED).await? {
                return Ok(V2Status::Unlinked);
            }
            if self.account_has_group().await? {
                self.store.put(KEY_UNLINKED, vec![1]).await?;
                return Ok(V2Status::Unlinked);
            }
            self.found_group();
            self.save_device_keys().await?;
            self.push_group().await?;
        }
        let others = self
            .state
            .borrow()
            .v2
            .as_ref()
            .is_some_and(|k| k.table.registered().count() > 1);
        let local = self.clock.now_ms();
        let read_due = self
            .state
            .borrow()
            .v2_group_read_ms
            .is_none_or(|t| local >= t + GROUP_READ_INTERVAL_MS);
        if others && read_due {
            // Other devices' rotations and joins: merged before deciding to rotate.
            self.read_device_group().await?;
        }
        let now = self.now_s();
        let (rotate, pruned) = {
            let mut st = self.state.borrow_mut();
            let keys = st.v2.as_mut().expect("founded or loaded above");
            let devices = keys.table.registered().count() as u32;
            let due = keys
                .table
                .keys
                .next_rotation(&keys.device_id, devices)
                .is_none_or(|t| now >= t);
            (due, keys.table.keys.prune(now))
        };
        if rotate {
            let mut seed = [0u8; 32];
            self.rng.borrow_mut().fill_bytes(&mut seed);
            let mut st = self.state.borrow_mut();
            let keys = st.v2.as_mut().expect("founded or loaded above");
            keys.table.keys.create(seed, now);
        }
        let (device_rotated, device_pruned) = self.rotate_device_key(now);
        let rotate = rotate || device_rotated;
        if rotate || pruned > 0 || device_pruned {
            // Saved before anything leaves: a crash after the push must not lose the key
            // that the group (and soon senders) hold. A pruned key's secret is gone from the
            // stored state from here on.
            self.save_device_keys().await?;
        }
        if rotate {
            self.push_group().await?;
        }
        self.publish_current().await?;
        self.v2_status().await
    }

    /// Rotates this device's keys when a week old (a new record, seqno + 1, in the next push)
    /// and forgets retired ones past 30 days: (rotated, so the group must hear of it; some
    /// retired key was forgotten).
    fn rotate_device_key(&self, now: u64) -> (bool, bool) {
        let mut st = self.state.borrow_mut();
        let Some(keys) = st.v2.as_mut() else {
            return (false, false);
        };
        let before = keys.retired.len();
        keys.retired
            .retain(|(_, at)| now < at.saturating_add(DEVICE_KEY_RETENTION_S));
        let pruned = keys.retired.len() != before;
        let Some(own) = keys.own_record().cloned() else {
            return (false, pruned);
        };
        let made = u64::try_from(own.timestamp).unwrap_or(0);
        if now < made.saturating_add(DEVICE_KEY_ROTATION_S) {
            return (false, pruned);
        }
        let mut seed = Zeroizing::new([0u8; 32]);
        self.rng.borrow_mut().fill_bytes(seed.as_mut());
        let record = DeviceRecord::new(
            own.seqno + 1,
            now as i64,
            &KemKeys::device(&seed),
            &own.description,
            &own.kind,
            device_version(),
        );
        let old = core::mem::replace(&mut keys.device_seed, seed);
        keys.retired.insert(0, (old, now));
        if let Some(row) = keys.table.rows.get_mut(&keys.device_id) {
            row.record = Some(record);
        }
        (true, pruned)
    }

    /// Whether the account already has a device group this device is not in: a `G` message
    /// in namespace 21, or a −21 record (which a device of this build writes only once it
    /// founded or joined a group).
    async fn account_has_group(&self) -> ClientResult<bool> {
        let own = self.identity.session_id();
        if !self.retrieve_all(&own, NAMESPACE_DEVICES).await?.is_empty() {
            return Ok(true);
        }
        let published = self.retrieve_all(&own, NAMESPACE_OUTBOX).await?;
        Ok(published
            .iter()
            .any(|data| record::parse(&own, data).is_ok()))
    }

    /// A new group with this device alone and a first account key.
    fn found_group(&self) {
        let now = self.now_s();
        let mut rng = self.rng.borrow_mut();
        let mut device_id = [0u8; 32];
        rng.fill_bytes(&mut device_id);
        let mut device_seed = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(device_seed.as_mut());
        let mut account_seed = [0u8; 32];
        rng.fill_bytes(&mut account_seed);
        let group_id = group_message::new_group_id(now, &mut *rng);
        drop(rng);
        let record = DeviceRecord::new(
            1,
            now as i64,
            &KemKeys::device(&device_seed),
            &self.config.device_description,
            &self.config.device_kind,
            device_version(),
        );
        let mut ring = AccountKeyRing::default();
        ring.create(account_seed, now);
        self.state.borrow_mut().v2 = Some(DeviceKeys {
            device_id,
            device_seed,
            retired: Vec::new(),
            group_id,
            table: DeviceTable::founding(device_id, record, ring),
            published: None,
            superseded: Vec::new(),
            expanded: Vec::new(),
        });
    }

    /// Seals the group's payload to every Registered device and stores it at namespace 21, then
    /// deletes the group messages it supersedes (those this device read; never one it could
    /// not read).
    async fn push_group(&self) -> ClientResult<()> {
        // What is there now is merged first, and so superseded by this push.
        let _ = self.read_device_group().await;
        let data = {
            let st = self.state.borrow();
            let keys = st.v2.as_ref().expect("a member pushes");
            let current = keys
                .table
                .keys
                .current()
                .expect("a member holds a current key");
            let link_x = account_x_public(&current.seed);
            let members: Vec<(&[u8; 32], KemPublic)> = keys
                .table
                .registered()
                .filter_map(|(_, r)| Some((&r.x, r.kem_public().ok()?)))
                .collect();
            let recipients: Vec<Recipient<'_>> =
                members.iter().map(|(x, m)| Recipient { x, m }).collect();
            let kicked = keys.table.kicked();
            let header = Header {
                group_id: &keys.group_id,
                link_x: &link_x,
                kicked: &kicked,
            };
            group_message::seal(
                &self.identity,
                &header,
                &keys.table.payload(),
                &recipients,
                &mut *self.rng.borrow_mut(),
            )
        };
        let own = self.identity.session_id();
        let now = self.network_now_ms();
        let (pushed, _, _) = self
            .store_message(&own, NAMESPACE_DEVICES, &data, now, PUBLISHED_TTL_MS)
            .await?;
        let old: Vec<String> = {
            let mut st = self.state.borrow_mut();
            let keys = st.v2.as_mut().expect("a member pushes");
            let mut old = core::mem::replace(&mut keys.superseded, vec![pushed.clone()]);
            old.retain(|h| *h != pushed);
            old.sort();
            old.dedup();
            old
        };
        // A message not deleted now is deleted by the next push, or expires.
        self.delete_own(old).await;
        Ok(())
    }

    /// Publishes the current account key at −21 unless it is the one published already.
    async fn publish_current(&self) -> ClientResult<()> {
        let (data, x) = {
            let st = self.state.borrow();
            let Some(keys) = st.v2.as_ref() else {
                return Ok(());
            };
            let Some(current) = keys.table.keys.current() else {
                return Ok(());
            };
            if keys.published == Some(account_x_public(&current.seed)) {
                return Ok(());
            }
            let account = KemKeys::account(&current.seed);
            let data = record::encode(&self.identity, &account, &mut *self.rng.borrow_mut());
            (data, *account.x_public())
        };
        let own = self.identity.session_id();
        let now = self.network_now_ms();
        self.store_message(&own, NAMESPACE_OUTBOX, &data, now, PUBLISHED_TTL_MS)
            .await?;
        if let Some(keys) = self.state.borrow_mut().v2.as_mut() {
            keys.published = Some(x);
        }
        self.save_device_keys().await
    }

    /// Every message `account` holds in `namespace` (one page: these namespaces hold a few).
    /// Signed where the namespace needs it (only our own account's are).
    async fn retrieve_all(
        &self,
        account: &SessionId,
        namespace: Namespace,
    ) -> ClientResult<Vec<Vec<u8>>> {
        self.ready().await?;
        let account = AccountId::from(*account);
        let mut swarm = self.swarm_of(&account);
        crate::order::shuffle(&mut swarm, &mut *self.rng.borrow_mut());
        let identity = &self.identity;
        let make = |now: u64, _: &ManifestNode| {
            let request =
                Request::Retrieve(RetrieveParams::new(&account, namespace, String::new(), now));
            if namespace.retrieve_needs_auth() {
                request.signed_by(identity)
            } else {
                request
            }
        };
        let (_, reply) = self.call(swarm, Some(&account), &make).await?;
        let page: RetrieveResponse = reply.parse().ok_or(crate::Error::Malformed(
            "retrieve reply has the wrong shape",
        ))?;
        // The node's word for hashes is not needed: whoever reads the bytes checks their
        // signatures.
        Ok(page
            .messages
            .iter()
            .filter_map(|m| crypto::b64_decode(&m.data).ok())
            .collect())
    }

    /// What the cache says of `peer`, fetching its −21 record first when the plan says so.
    async fn cached_keys(&self, peer: &SessionId) -> ClientResult<Option<Cached>> {
        let row = match self.store.get(&peer_key(peer)).await? {
            Some(bytes) => decode_cached(&bytes),
            None => None,
        };
        let now = self.now_s();
        let refresh = match send_plan(row.as_ref(), now) {
            SendPlan::FetchFirst => true,
            SendPlan::Pfs { refetch, .. } => refetch,
            SendPlan::Fallback => false,
        };
        if !refresh {
            return Ok(row);
        }
        // A failed fetch (an unreachable swarm) leaves the row as it was: no NAK for what
        // was never answered.
        let Ok(records) = self.retrieve_all(peer, NAMESPACE_OUTBOX).await else {
            return Ok(row);
        };
        let refs: Vec<&[u8]> = records.iter().map(Vec::as_slice).collect();
        let mut row = row.unwrap_or(Cached {
            found: None,
            nak_at: None,
        });
        match record::newest_valid(peer, &refs) {
            Some(keys) => {
                row.found = Some((keys, now));
                row.nak_at = None;
            }
            None => row.nak_at = Some(now),
        }
        self.store.put(&peer_key(peer), encode_cached(&row)).await?;
        Ok(Some(row))
    }

    /// Seals `content` for `to`: v2 with forward secrecy when `to` publishes keys (ours: the
    /// account's current key), else v1, or v2 without forward secrecy where v1 is no longer
    /// sent (`v2_only`).
    pub(in crate::client) async fn seal_direct(
        &self,
        to: &SessionId,
        content: &[u8],
        sent_ms: u64,
    ) -> ClientResult<(Vec<u8>, Protocol)> {
        if *to == self.identity.session_id() {
            self.load_device_keys().await?;
            let own = self
                .state
                .borrow()
                .v2
                .as_ref()
                .and_then(|k| k.table.keys.current())
                .map(|c| KemKeys::account(&c.seed));
            if let Some(account) = own {
                let keys = PublishedKeys::new(*account.x_public(), account.m_public())?;
                let data = dm::encrypt_pfs(
                    &self.identity,
                    to,
                    &keys,
                    content,
                    &mut *self.rng.borrow_mut(),
                );
                return Ok((data, Protocol::V2Pfs));
            }
        } else {
            let row = self.cached_keys(to).await?;
            if let SendPlan::Pfs { keys, .. } = send_plan(row.as_ref(), self.now_s()) {
                let data = dm::encrypt_pfs(
                    &self.identity,
                    to,
                    keys,
                    content,
                    &mut *self.rng.borrow_mut(),
                );
                return Ok((data, Protocol::V2Pfs));
            }
        }
        if self.config.v2_only {
            let data = dm::encrypt_nopfs(&self.identity, to, content, &mut *self.rng.borrow_mut());
            return Ok((data, Protocol::V2NoPfs));
        }
        self.seal_v1(to, content, sent_ms)
    }

    /// Opens a stored direct message of either version.
    pub(in crate::client) async fn open_direct(
        &self,
        data: &[u8],
    ) -> ClientResult<(Received, Protocol)> {
        if data.first() != Some(&0) {
            return self.open_v1(data);
        }
        self.load_device_keys().await?;
        let mut opened = self.open_v2(data);
        // Sealed to an account key another device made since we last read the group (§3.2
        // step 6): read it once, then try again.
        if matches!(opened, Err(dm::OpenError::NoKey)) && self.read_device_group().await? > 0 {
            opened = self.open_v2(data);
        }
        let opened = opened.map_err(|_| crate::Error::Malformed("v2 message does not open"))?;
        let content = Content::decode(opened.content.as_slice())
            .map_err(|_| crate::Error::Malformed("not a Content message"))?;
        let content_bytes = opened.content.to_vec();
        // v2 has no envelope: the send time is the signed one (CORE-J requires it).
        let sent_ms = content
            .sig_timestamp
            .ok_or(crate::Error::Malformed("v2 content without sigTimestamp"))?;
        let protocol = match opened.protection {
            Protection::Pfs => Protocol::V2Pfs,
            Protection::NoPfs => Protocol::V2NoPfs,
        };
        Ok((
            Received {
                sender: opened.sender,
                sent_ms,
                content,
                content_bytes,
            },
            protocol,
        ))
    }

    fn open_v2(&self, data: &[u8]) -> Result<dm::Opened, dm::OpenError> {
        let mut st = self.state.borrow_mut();
        let refs: Vec<&KemKeys> = match st.v2.as_mut() {
            Some(keys) => keys.account_keys().iter().collect(),
            None => Vec::new(),
        };
        dm::decrypt(&self.identity, &refs, data)
    }

    /// Reads the device group's `G` messages and merges what this device can open; returns
    /// how many changed its view.
    pub async fn read_device_group(&self) -> ClientResult<usize> {
        self.load_device_keys().await?;
        if self.state.borrow().v2.is_none() {
            return Ok(0);
        }
        self.state.borrow_mut().v2_group_read_ms = Some(self.clock.now_ms());
        let own = self.identity.session_id();
        let account = AccountId::from(own);
        let messages = self.retrieve_all(&own, NAMESPACE_DEVICES).await?;
        let now = self.now_s() as i64;
        let mut merged = 0;
        for data in messages {
            let hash = crate::rpc::message_hash(&account, NAMESPACE_DEVICES, &data);
            let Ok(outer) = group_message::read_outer(&self.identity, &data) else {
                continue;
            };
            let mut st = self.state.borrow_mut();
            let Some(keys) = st.v2.as_mut() else { break };
            if outer.group_id != keys.group_id {
                continue;
            }
            let held = keys.device_keys();
            let held: Vec<&KemKeys> = held.iter().collect();
            match outer.open(&self.identity, &keys.device_id, &held) {
                Ok(Opened::Member(payload)) => {
                    keys.superseded.push(hash);
                    if keys.table.merge(&payload, now).changed {
                        merged += 1;
                    }
                }
                Ok(Opened::Removed) => {
                    // Removed from the group: our device keys open nothing new. The account
                    // keys held stay until retention (old messages still open).
                    if let Some(row) = keys.table.rows.get_mut(&keys.device_id) {
                        row.state = DeviceState::Kicked;
                    }
                    merged += 1;
                }
                _ => {}
            }
        }
        if merged > 0 {
            self.save_device_keys().await?;
        }
        Ok(merged)
    }

    /// The group's devices (after reading the group).
    pub async fn devices(&self) -> ClientResult<Vec<DeviceInfo>> {
        self.read_device_group().await?;
        let st = self.state.borrow();
        let Some(keys) = st.v2.as_ref() else {
            return Ok(Vec::new());
        };
        Ok(keys
            .table
            .rows
            .iter()
            .map(|(id, row)| {
                let r = row.record.as_ref();
                DeviceInfo {
                    id: *id,
                    state: row.state,
                    description: r.map(|r| r.description.clone()).unwrap_or_default(),
                    kind: r.map(|r| r.kind.clone()).unwrap_or_default(),
                    version: r.map_or(0, |r| r.version),
                    at: r.map_or(row.gone_at.unwrap_or(0), |r| r.timestamp),
                    this_device: *id == keys.device_id,
                }
            })
            .collect())
    }

    /// Asks to join the account's device group (this device holds the account seed but is not
    /// in the group): a link request sealed to the group's current `link_x`, kept for 10
    /// minutes. Returns the emoji the other device must show too.
    pub async fn link_device(&self) -> ClientResult<LinkStarted> {
        let own = self.identity.session_id();
        // The newest group message names the group and the key requests are sealed to.
        let newest = self
            .retrieve_all(&own, NAMESPACE_DEVICES)
            .await?
            .iter()
            .filter_map(|d| group_message::read_outer(&self.identity, d).ok())
            .max_by_key(|o| group_message::group_created_s(&o.group_id))
            .ok_or(crate::Error::Malformed(
                "this account has no device group to join",
            ))?;
        let now = self.now_s();
        let mut device_id = [0u8; 32];
        let mut seed = Zeroizing::new([0u8; 32]);
        {
            let mut rng = self.rng.borrow_mut();
            rng.fill_bytes(&mut device_id);
            rng.fill_bytes(seed.as_mut());
        }
        let record = DeviceRecord::new(
            1,
            now as i64,
            &KemKeys::device(&seed),
            &self.config.device_description,
            &self.config.device_kind,
            device_version(),
        );
        let plaintext = link::request_plaintext(&self.identity, &device_id, &record);
        let sealed = link::seal(
            &self.identity,
            &newest.link_x,
            &plaintext,
            &mut *self.rng.borrow_mut(),
        )?;
        let mut w = bencode::Writer::new();
        w.dict()
            .key(b"G")
            .bytes(&newest.group_id)
            .key(b"I")
            .bytes(&device_id)
            .key(b"S")
            .bytes(seed.as_ref())
            .key(b"q")
            .bytes(&plaintext)
            .end();
        self.store
            .put(KEY_LINKING, Zeroizing::new(w.finish()).to_vec())
            .await?;
        self.store_message(
            &own,
            NAMESPACE_DEVICES,
            &sealed,
            self.network_now_ms(),
            LINK_REQUEST_TTL_MS,
        )
        .await?;
        Ok(LinkStarted {
            emoji: link::emoji_text(&link::sas(&plaintext)[..7]),
            group_id: newest.group_id,
        })
    }

    /// Whether the group accepted this device's link request: a readable `G` message of the
    /// group asked lists this device with the keys it asked with. Then this device is a member
    /// (the caller has had its user confirm the emoji). One look; call again to wait.
    pub async fn link_accepted(&self) -> ClientResult<bool> {
        let Some(linking) = self.store.get(KEY_LINKING).await?.filter(|v| !v.is_empty()) else {
            return Ok(false);
        };
        let linking = Zeroizing::new(linking);
        let Ok(Item::Dict(d)) = bencode::parse(&linking) else {
            return Err(crate::Error::Malformed("stored link request").into());
        };
        let bad = || crate::Error::Malformed("stored link request");
        let group_id: GroupId = d
            .bytes(b"G")
            .and_then(|b| b.try_into().ok())
            .ok_or_else(bad)?;
        let device_id: DeviceId = d
            .bytes(b"I")
            .and_then(|b| b.try_into().ok())
            .ok_or_else(bad)?;
        let seed: [u8; 32] = d
            .bytes(b"S")
            .and_then(|b| b.try_into().ok())
            .ok_or_else(bad)?;
        let device = KemKeys::device(&seed);
        let own = self.identity.session_id();
        let now = self.now_s() as i64;
        for data in self.retrieve_all(&own, NAMESPACE_DEVICES).await? {
            let Ok(outer) = group_message::read_outer(&self.identity, &data) else {
                continue;
            };
            if outer.group_id != group_id {
                continue;
            }
            let Ok(Opened::Member(payload)) = outer.open(&self.identity, &device_id, &[&device])
            else {
                continue;
            };
            let listed = payload.devices.iter().any(|(id, e)| {
                *id == device_id
                    && matches!(e, crate::v2::devices::Entry::Record(r) if r.x == *device.x_public())
            });
            if !listed {
                continue;
            }
            let mut table = DeviceTable {
                own: device_id,
                keys: AccountKeyRing::new(payload.keys.clone()),
                ..DeviceTable::default()
            };
            table.merge(&payload, now);
            let published = table.keys.current().map(|c| account_x_public(&c.seed));
            {
                let mut st = self.state.borrow_mut();
                st.v2 = Some(DeviceKeys {
                    device_id,
                    device_seed: Zeroizing::new(seed),
                    retired: Vec::new(),
                    group_id,
                    table,
                    published,
                    superseded: Vec::new(),
                    expanded: Vec::new(),
                });
                st.v2_loaded = true;
            }
            self.save_device_keys().await?;
            self.store.put(KEY_UNLINKED, Vec::new()).await?;
            self.store.put(KEY_LINKING, Vec::new()).await?;
            return Ok(true);
        }
        Ok(false)
    }

    /// The link requests waiting in the group's namespace (not our own, not from devices that
    /// left or were removed), each with its emoji check.
    pub async fn link_requests(&self) -> ClientResult<Vec<LinkRequestInfo>> {
        Ok(self
            .pending_requests()
            .await?
            .into_iter()
            .map(|r| LinkRequestInfo {
                id: r.device,
                description: r.record.description.clone(),
                kind: r.record.kind.clone(),
                at: r.record.timestamp,
                emoji: link::emoji_text(&link::sas(&r.plaintext)[..7]),
            })
            .collect())
    }

    async fn pending_requests(&self) -> ClientResult<Vec<link::LinkRequest>> {
        self.load_device_keys().await?;
        if self.state.borrow().v2.is_none() {
            return Ok(Vec::new());
        }
        let own = self.identity.session_id();
        let messages = self.retrieve_all(&own, NAMESPACE_DEVICES).await?;
        let now = self.now_s() as i64;
        let mut st = self.state.borrow_mut();
        let Some(keys) = st.v2.as_mut() else {
            return Ok(Vec::new());
        };
        let own_device = keys.device_id;
        let account_keys = keys.account_keys();
        let opened: Vec<link::LinkRequest> = messages
            .iter()
            .filter_map(|data| link::open(&self.identity, &own_device, account_keys, data).ok())
            .collect();
        let mut found: Vec<link::LinkRequest> = Vec::new();
        for request in opened {
            if request.expired(now) {
                continue;
            }
            // Devices that left or were removed cannot ask; a member's request counts only
            // when newer than the record the group holds (e.g. a restored backup).
            let settled = keys.table.rows.get(&request.device).is_some_and(|r| {
                r.state >= DeviceState::Left
                    || r.record
                        .as_ref()
                        .is_some_and(|held| held.timestamp >= request.record.timestamp)
            });
            if settled {
                continue;
            }
            // A newer request from the same device supersedes the older.
            match found.iter_mut().find(|f| f.device == request.device) {
                Some(f) if f.record.timestamp < request.record.timestamp => *f = request,
                Some(_) => {}
                None => found.push(request),
            }
        }
        Ok(found)
    }

    /// Accepts the pending request of `device` (the user compared the emoji): it becomes a
    /// member in the next group message, pushed now.
    pub async fn accept_device(&self, device: &DeviceId) -> ClientResult<()> {
        let request = self
            .pending_requests()
            .await?
            .into_iter()
            .find(|r| r.device == *device)
            .ok_or(crate::Error::Malformed("no such link request"))?;
        let accepted = {
            let mut st = self.state.borrow_mut();
            let keys = st.v2.as_mut().expect("pending requests need a group");
            keys.table.accept(request.device, request.record)
        };
        if !accepted {
            return Err(crate::Error::Malformed("that device left or was removed").into());
        }
        self.save_device_keys().await?;
        self.push_group().await
    }

    /// Removes `device` from the group: its tombstone, a new account key in the same step
    /// (so it reads nothing sent from now on), pushed and published.
    pub async fn remove_device(&self, device: &DeviceId) -> ClientResult<()> {
        self.read_device_group().await?;
        let now = self.now_s();
        let mut seed = [0u8; 32];
        self.rng.borrow_mut().fill_bytes(&mut seed);
        {
            let mut st = self.state.borrow_mut();
            let Some(keys) = st.v2.as_mut() else {
                return Err(crate::Error::Malformed("this device is in no group").into());
            };
            if !keys.table.remove(device, now as i64) {
                return Err(crate::Error::Malformed("no such device in the group").into());
            }
            keys.table.keys.create(seed, now);
        }
        self.save_device_keys().await?;
        self.push_group().await?;
        self.publish_current().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v2::account::{ACCOUNT_KEY_RETENTION_S, AccountKey};

    fn state_with(keys: Vec<AccountKey>) -> DeviceKeys {
        let record = DeviceRecord::new(1, 1, &KemKeys::device(&[4; 32]), "", "c", 0);
        DeviceKeys {
            device_id: [1; 32],
            device_seed: Zeroizing::new([4; 32]),
            retired: vec![(Zeroizing::new([5; 32]), 77)],
            group_id: [2; 8],
            table: DeviceTable::founding([1; 32], record, AccountKeyRing::new(keys)),
            published: Some([3; 32]),
            superseded: Vec::new(),
            expanded: Vec::new(),
        }
    }

    fn holds(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    /// A transport that is never reached: these tests touch only the client's state.
    struct Offline;
    impl Transport for Offline {
        async fn post(
            &self,
            _: &str,
            _: Vec<u8>,
        ) -> Result<crate::client::HttpResponse, crate::client::TransportError> {
            Err(crate::client::TransportError::Connect)
        }
        async fn get(
            &self,
            _: &str,
        ) -> Result<crate::client::HttpResponse, crate::client::TransportError> {
            Err(crate::client::TransportError::Connect)
        }
    }
    struct Never;
    impl Clock for Never {
        fn now_ms(&self) -> u64 {
            0
        }
        async fn sleep(&self, _: u64) {}
    }

    #[test]
    fn device_keys_rotate_weekly_and_retired_ones_go_after_thirty_days() {
        use rand_core::SeedableRng as _;
        let client = Client::new(
            crate::keys::Identity::generate(&mut rand_chacha::ChaCha20Rng::seed_from_u64(1)),
            crate::client::ClientConfig::new(crate::client::NetworkConfig {
                seeds: Vec::new(),
                operator_key: [0; 32],
            }),
            Offline,
            Never,
            crate::client::MemoryStore::new(),
            rand_chacha::ChaCha20Rng::seed_from_u64(2),
        );
        let mut state = state_with(vec![AccountKey {
            seed: [9; 32],
            created: 1,
            rotated: None,
        }]);
        state.retired.clear();
        client.state.borrow_mut().v2 = Some(state);
        // The record was made at 1: not yet a week.
        assert_eq!(
            client.rotate_device_key(1 + DEVICE_KEY_ROTATION_S - 1),
            (false, false)
        );
        let week = 1 + DEVICE_KEY_ROTATION_S;
        assert_eq!(client.rotate_device_key(week), (true, false));
        {
            let st = client.state.borrow();
            let keys = st.v2.as_ref().unwrap();
            assert_ne!(*keys.device_seed, [4; 32]);
            assert_eq!(
                *keys.retired[0].0, [4; 32],
                "the old key opens older group messages"
            );
            let own = keys.own_record().unwrap();
            assert_eq!((own.seqno, own.timestamp), (2, week as i64));
            assert_eq!(&own.x, keys.device_keys()[0].x_public());
            let back = DeviceKeys::decode(&keys.encode()).unwrap();
            assert_eq!(back.retired.len(), 1);
            assert_eq!(back.table, keys.table);
        }
        // Thirty days after retiring it, the old key is forgotten (and its secret with it).
        // (A week later it rotated again; nothing yet old enough to go.)
        let later = week + DEVICE_KEY_RETENTION_S;
        assert_eq!(client.rotate_device_key(later - 1), (true, false));
        assert_eq!(client.rotate_device_key(later), (false, true));
        let st = client.state.borrow();
        let keys = st.v2.as_ref().unwrap();
        assert_eq!(keys.retired.len(), 1, "only the key retired a second ago");
        assert!(!holds(&keys.encode(), &[4; 32]));
    }

    #[test]
    fn the_stored_state_round_trips_and_drops_a_key_past_retention() {
        let old = AccountKey {
            seed: [0xa1; 32],
            created: 100,
            rotated: Some(1000),
        };
        let current = AccountKey {
            seed: [0xb2; 32],
            created: 1000,
            rotated: None,
        };
        let mut state = state_with(vec![old.clone(), current.clone()]);
        let stored = state.encode();
        let back = DeviceKeys::decode(&stored).expect("round trip");
        assert_eq!(back.table, state.table);
        assert_eq!(
            (back.group_id, back.published),
            (state.group_id, state.published)
        );
        assert!(holds(&stored, &old.seed), "kept while within retention");

        // What `maintain_v2` does when the retention has passed: prune, then save.
        assert_eq!(state.table.keys.prune(1000 + ACCOUNT_KEY_RETENTION_S), 1);
        let stored = state.encode();
        assert!(
            !holds(&stored, &old.seed),
            "the retired secret is gone from the state"
        );
        assert!(holds(&stored, &current.seed));
        assert!(DeviceKeys::decode(b"d1:Gi1ee").is_none());
    }
}
