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
use crate::v2::devices::message::{self as group_message, GroupId, Header, Opened, Recipient};
use crate::v2::devices::table::DeviceTable;
use crate::v2::devices::{DeviceId, DeviceRecord, Payload};
use crate::v2::dm::{self, Protection};
use crate::v2::keys::{KemKeys, KemPublic, MLKEM_PUBLIC};
use crate::v2::record::{self, PublishedKeys};

/// −21 records and `G` messages are kept this long (the most a private namespace allows).
const PUBLISHED_TTL_MS: u64 = 30 * 24 * 3600 * 1000;

const KEY_DEVICE: &str = "v2.device";
/// Set when the account has a device group elsewhere: this device waits to be linked.
const KEY_UNLINKED: &str = "v2.unlinked";

/// This device's v2 state: its device ID and keys, and its group.
pub(in crate::client) struct DeviceKeys {
    device_id: DeviceId,
    device_seed: Zeroizing<[u8; 32]>,
    group_id: GroupId,
    table: DeviceTable,
    /// The X25519 half of the account key last published at −21.
    published: Option<[u8; 32]>,
}

impl core::fmt::Debug for DeviceKeys {
    // IDs and secrets stay out of logs.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DeviceKeys").finish_non_exhaustive()
    }
}

impl DeviceKeys {
    fn device_keys(&self) -> KemKeys {
        KemKeys::device(&self.device_seed)
    }

    /// `d 1:G <group id> 1:I <device id> 1:P <payload> 1:S <device seed> [1:p <published X>] e`.
    fn encode(&self) -> Zeroizing<Vec<u8>> {
        let mut w = bencode::Writer::new();
        w.dict()
            .key(b"G")
            .bytes(&self.group_id)
            .key(b"I")
            .bytes(&self.device_id)
            .key(b"P")
            .bytes(&self.table.payload().encode())
            .key(b"S")
            .bytes(self.device_seed.as_ref());
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
        Some(Self {
            device_id,
            device_seed: Zeroizing::new(d.bytes(b"S")?.try_into().ok()?),
            group_id: d.bytes(b"G")?.try_into().ok()?,
            table,
            published: d.bytes(b"p").and_then(|p| p.try_into().ok()),
        })
    }
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
                let current_x = current.map(|k| *KemKeys::account(&k.seed).x_public());
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
            None if self.store.get(KEY_UNLINKED).await?.is_some() => V2Status::Unlinked,
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
            if self.store.get(KEY_UNLINKED).await?.is_some() {
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
        if rotate || pruned > 0 {
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
            group_id,
            table: DeviceTable::founding(device_id, record, ring),
            published: None,
        });
    }

    /// Seals the group's payload to every Registered device and stores it at namespace 21.
    async fn push_group(&self) -> ClientResult<()> {
        let data = {
            let st = self.state.borrow();
            let keys = st.v2.as_ref().expect("a member pushes");
            let current = keys
                .table
                .keys
                .current()
                .expect("a member holds a current key");
            let link_x = *KemKeys::account(&current.seed).x_public();
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
        self.store_message(&own, NAMESPACE_DEVICES, &data, now, PUBLISHED_TTL_MS)
            .await?;
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
            let account = KemKeys::account(&current.seed);
            if keys.published == Some(*account.x_public()) {
                return Ok(());
            }
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
        content: &Content,
        sent_ms: u64,
    ) -> ClientResult<(Vec<u8>, Protocol)> {
        let bytes = Zeroizing::new(content.encode_to_vec());
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
                    &bytes,
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
                    &bytes,
                    &mut *self.rng.borrow_mut(),
                );
                return Ok((data, Protocol::V2Pfs));
            }
        }
        if self.config.v2_only {
            let data = dm::encrypt_nopfs(&self.identity, to, &bytes, &mut *self.rng.borrow_mut());
            return Ok((data, Protocol::V2NoPfs));
        }
        let data = crate::message::encode_direct_message(
            &self.identity,
            to,
            content,
            sent_ms,
            &mut *self.rng.borrow_mut(),
        )?;
        Ok((data, Protocol::V1))
    }

    /// Opens a stored direct message of either version.
    pub(in crate::client) async fn open_direct(
        &self,
        data: &[u8],
    ) -> ClientResult<(Received, Protocol)> {
        if data.first() != Some(&0) {
            let received = crate::message::decode_direct_message(&self.identity, data)?;
            return Ok((received, Protocol::V1));
        }
        self.load_device_keys().await?;
        let held: Vec<KemKeys> = self
            .state
            .borrow()
            .v2
            .as_ref()
            .map(|k| k.table.keys.decryption_keys())
            .unwrap_or_default();
        let refs: Vec<&KemKeys> = held.iter().collect();
        let opened = dm::decrypt(&self.identity, &refs, data)
            .map_err(|_| crate::Error::Malformed("v2 message does not open"))?;
        let content = Content::decode(opened.content.as_slice())
            .map_err(|_| crate::Error::Malformed("not a Content message"))?;
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
            },
            protocol,
        ))
    }

    /// Reads the device group's `G` messages and merges what this device can open; returns
    /// how many changed its view.
    pub async fn read_device_group(&self) -> ClientResult<usize> {
        self.load_device_keys().await?;
        if self.state.borrow().v2.is_none() {
            return Ok(0);
        }
        let own = self.identity.session_id();
        let messages = self.retrieve_all(&own, NAMESPACE_DEVICES).await?;
        let now = self.now_s() as i64;
        let mut merged = 0;
        for data in messages {
            let Ok(outer) = group_message::read_outer(&self.identity, &data) else {
                continue;
            };
            let mut st = self.state.borrow_mut();
            let Some(keys) = st.v2.as_mut() else { break };
            if outer.group_id != keys.group_id {
                continue;
            }
            let device = keys.device_keys();
            let opened = outer.open(&self.identity, &keys.device_id, &[&device]);
            if let Ok(Opened::Member(payload)) = opened
                && keys.table.merge(&payload, now).changed
            {
                merged += 1;
            }
        }
        if merged > 0 {
            self.save_device_keys().await?;
        }
        Ok(merged)
    }
}
