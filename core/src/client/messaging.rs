//! Sending and receiving direct messages (DESIGN.md §2 `client`, SESSION-PROTOCOL.md §5):
//! a v1 message stored in the recipient's swarm (namespace 0) plus a sync copy in the sender's
//! own swarm, acknowledged by [`MIN_STORE_ACKS`] members, and a signed `retrieve` poll of two
//! members with per-node `last_hash`, merged and deduplicated by hash.

use std::collections::{BTreeSet, HashMap};

use prost::Message as _;
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::engine::Client;
use super::error::{ClientError, ClientResult};
use super::platform::{Clock, Store, Transport};
use super::seen::KEY_SEEN;
use super::v2::Protocol;
use crate::SessionId;
use crate::crypto;
use crate::limits::MIN_STORE_ACKS;
use crate::message::{Attachment, Body, Content, Profile, Received, message_content};
use crate::network::ManifestNode;
use crate::rpc::response::{RetrieveResponse, StoreResponse};
use crate::rpc::rules::RETRIEVE_MAX_COUNT;
use crate::rpc::{
    AccountId, Namespace, Request, RetrieveParams, StoreParams, TTL_MAXIMUM_MS, TTL_MINIMUM_MS,
};

/// Namespace of direct messages (and their sync copies).
pub const NAMESPACE_DM: Namespace = Namespace(0);
/// Longest text a message may carry, in UTF-8 bytes. Padded, signed, sealed and wrapped, it
/// stays under the nodes' 76,800-byte limit on stored data; longer texts are refused before
/// anything is sent.
pub const MAX_TEXT_BYTES: usize = 60_000;
/// Most `retrieve` pages fetched in one poll.
const POLL_MAX_PAGES: usize = 20;
/// Swarm members each poll reads from and merges.
const POLL_MEMBERS: usize = 2;

/// A message the swarm accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The message hash (how nodes and clients name it).
    pub hash: String,
    /// The sent time written in the message (network time).
    pub sent_ms: u64,
    /// When the swarm will drop it.
    pub expiry_ms: u64,
    /// Swarm members whose signed acknowledgement verified.
    pub accepted_by: usize,
    /// Whether the sync copy reached the sender's own swarm.
    pub synced: bool,
    /// The sync copy's hash in our own swarm, when it got there.
    pub sync_hash: Option<String>,
    /// How the message was sealed.
    pub protocol: Protocol,
}

/// A direct message received and verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    pub hash: String,
    /// The sender (verified: the message is signed by this identity).
    pub from: SessionId,
    pub sent_ms: u64,
    pub text: String,
    /// The files it carries (checked: fetchable URLs, 32-byte keys, sizes in bounds).
    pub attachments: Vec<Attachment>,
    /// The sender's profile, when the message carries one.
    pub profile: Option<Profile>,
    /// For a sync copy of our own message: who it was sent to.
    pub sync_target: Option<SessionId>,
    /// The disappearing timer, if set.
    pub disappear_after_s: Option<u32>,
    /// When the swarm drops it.
    pub expires_ms: u64,
    /// How it was sealed (a group message: sealed under the group's key, shown as v1).
    pub protocol: Protocol,
    /// The group it was sent in (`03…`); `None` for a direct message.
    pub group: Option<AccountId>,
    /// A group notice (`text` says what the sender did: added, removed, renamed, left…),
    /// not a message someone wrote.
    pub notice: bool,
    /// A reply's quote, a reaction, an unsend request, a request's acceptance (core's
    /// `message-extras` feature).
    #[cfg(feature = "message-extras")]
    pub extras: crate::message::extras::Extras,
}

/// A message's text within [`MAX_TEXT_BYTES`].
fn check_text(body: &Body) -> ClientResult<()> {
    if body.text.len() > MAX_TEXT_BYTES {
        return Err(ClientError::TooLong {
            max: MAX_TEXT_BYTES,
        });
    }
    Ok(())
}

/// Parses a recipient, with a clear reason when it is not a Session ID.
pub fn parse_recipient(text: &str) -> ClientResult<SessionId> {
    text.parse().map_err(|e| match e {
        crate::Error::Malformed(why) => ClientError::InvalidRecipient(why),
        _ => ClientError::InvalidRecipient("not a Session ID"),
    })
}

/// The members of `swarm` whose acknowledgement in a store reply verifies (signed over
/// `hash`).
fn verified_signers(reply: &StoreResponse, hash: &str, swarm: &[ManifestNode]) -> BTreeSet<String> {
    let keys: Vec<[u8; 32]> = swarm
        .iter()
        .filter_map(|n| n.ed25519_bytes().ok())
        .collect();
    reply.verified_signers(hash, &keys)
}

/// Names a signed message by its sender and content, whatever envelope it came in.
fn content_key(received: &Received) -> String {
    let content = prost::Message::encode_to_vec(&received.content);
    let digest = crypto::blake2b_32(&[received.sender.as_bytes(), &content]);
    format!("content.{}", crypto::b64_encode_unpadded(&digest))
}

fn last_hash_key(node: &ManifestNode, namespace: Namespace) -> String {
    format!("last_hash.{}.{}", node.ed25519, namespace.0)
}

impl<T: Transport, C: Clock, S: Store, R: CryptoRng> Client<T, C, S, R> {
    /// Records `hash` (expiring at `expiry`) as seen; false if it already was.
    fn mark_seen(&self, hash: &str, expiry: u64) -> bool {
        self.state.borrow_mut().seen.mark(hash, expiry)
    }

    /// Saves the seen hashes, dropping the expired ones.
    pub(super) async fn save_seen(&self) -> ClientResult<()> {
        let now = self.network_now_ms();
        let bytes = self.state.borrow_mut().seen.pruned_bytes(now);
        self.store.put(KEY_SEEN, bytes).await?;
        Ok(())
    }

    /// Sends `text` to `to` as a v1 direct message. With `disappear_after_s`, the message
    /// carries the disappearing-message fields and the swarm keeps it exactly that long;
    /// otherwise for the configured TTL (14 days). Returns once [`MIN_STORE_ACKS`] swarm
    /// members' signed acknowledgements verified; the sync copy to our own swarm is best
    /// effort.
    pub async fn send_text(
        &self,
        to: &SessionId,
        text: &str,
        disappear_after_s: Option<u32>,
    ) -> ClientResult<Sent> {
        self.send_message(to, &Body::text(text), disappear_after_s)
            .await
    }

    /// [`Self::send_text`] for a whole message: text, attachments (uploaded already) and our
    /// profile.
    pub async fn send_message(
        &self,
        to: &SessionId,
        body: &Body,
        disappear_after_s: Option<u32>,
    ) -> ClientResult<Sent> {
        check_text(body)?;
        self.send_content(to, &self.message_for(body, disappear_after_s), &|_| {})
            .await
    }

    /// [`Self::send_message`] carrying a reply's quote, a reaction or an unsend request too
    /// (`crate::message::extras`).
    #[cfg(feature = "message-extras")]
    pub async fn send_with_extras(
        &self,
        to: &SessionId,
        body: &Body,
        extras: &crate::message::extras::Extras,
        disappear_after_s: Option<u32>,
    ) -> ClientResult<Sent> {
        check_text(body)?;
        self.send_content(to, &self.message_for(body, disappear_after_s), &|c| {
            extras.append_to(c);
        })
        .await
    }

    /// "Delete for everyone" of our message `target` sent to `to`: Session's unsend request
    /// goes to them (and, as a sync copy, to our other devices), and `own_copies` (the
    /// message's sync copy) leave our own swarm. The recipient deletes its copy when it reads
    /// the request; a request naming someone else's message is ignored by every reader.
    #[cfg(feature = "message-extras")]
    pub async fn unsend(
        &self,
        to: &SessionId,
        target: crate::message::extras::MessageRef,
        own_copies: Vec<String>,
    ) -> ClientResult<Sent> {
        if target.author != self.identity.session_id() {
            return Err(ClientError::Protocol(crate::Error::Malformed(
                "only one's own messages can be deleted for everyone",
            )));
        }
        let extras = crate::message::extras::Extras {
            unsend: Some(target),
            ..Default::default()
        };
        let sent = self
            .send_control(to, &extras, self.config.message_ttl_ms, true)
            .await?;
        self.delete_own(own_copies).await;
        Ok(sent)
    }

    /// Accepts `from`'s message request: Session's `messageRequestResponse` (approved) tells
    /// them, so their app stops showing the conversation as a request of theirs.
    #[cfg(feature = "message-extras")]
    pub async fn accept_request(&self, from: &SessionId) -> ClientResult<Sent> {
        let extras = crate::message::extras::Extras {
            request_accepted: true,
            ..Default::default()
        };
        self.send_control(from, &extras, self.config.message_ttl_ms, true)
            .await
    }

    /// Tells `to` we read their messages sent at `sent_ms` (Session's read receipt; sent only
    /// when the user turned read receipts on).
    #[cfg(feature = "message-extras")]
    pub async fn send_read_receipt(&self, to: &SessionId, sent_ms: Vec<u64>) -> ClientResult<Sent> {
        let extras = crate::message::extras::Extras {
            read: sent_ms,
            ..Default::default()
        };
        self.send_control(to, &extras, self.config.message_ttl_ms, false)
            .await
    }

    /// Tells `to` we started (or stopped) typing (Session's typing indicator; sent only when
    /// the user turned them on).
    #[cfg(feature = "message-extras")]
    pub async fn send_typing(&self, to: &SessionId, started: bool) -> ClientResult<Sent> {
        let extras = crate::message::extras::Extras {
            typing: Some(crate::message::extras::Typing {
                started,
                at_ms: self.network_now_ms(),
            }),
            ..Default::default()
        };
        // Worth nothing a minute later.
        self.send_control(to, &extras, 60_000, false).await
    }

    /// Sends `extras` that are not a message (an unsend request, a request's acceptance, a
    /// receipt, a typing indicator) as Session does: a `Content` without a `DataMessage`
    /// (Session's clients take a content with one as a message, and an empty message is
    /// dropped), kept `ttl_ms`; with `sync`, a copy goes to our own swarm for our other devices.
    #[cfg(feature = "message-extras")]
    async fn send_control(
        &self,
        to: &SessionId,
        extras: &crate::message::extras::Extras,
        ttl_ms: u64,
        sync: bool,
    ) -> ClientResult<Sent> {
        let control = |sent_ms| {
            let content = Content {
                sig_timestamp: Some(sent_ms),
                ..Default::default()
            };
            (content, ttl_ms, sync)
        };
        self.send_content(to, &control, &|c| extras.append_to(c))
            .await
    }

    /// Deletes `hashes` (messages received, or sync copies of ours) from our own swarm, best
    /// effort: what is not deleted now expires.
    pub async fn delete_from_own_swarm(&self, hashes: Vec<String>) {
        self.delete_own(hashes).await;
    }

    /// How a message with `body` is built at the send time it is given: its `Content` and how
    /// long the swarm keeps it (the disappearing timer, or the configured TTL).
    fn message_for(
        &self,
        body: &Body,
        disappear_after_s: Option<u32>,
    ) -> impl Fn(u64) -> (Content, u64, bool) {
        let ttl_ms = disappear_after_s
            .map_or(self.config.message_ttl_ms, |s| u64::from(s) * 1000)
            .clamp(TTL_MINIMUM_MS, TTL_MAXIMUM_MS);
        move |sent_ms| {
            let content = message_content(body, sent_ms, disappear_after_s);
            (content, ttl_ms, true)
        }
    }

    /// Builds the content (`build`, given the send time: the `Content`, its TTL, and whether
    /// our other devices get a copy), seals it (with `extend` adding to its bytes) to `to` and,
    /// if so, to ourselves (the sync copy, its `DataMessage` marked with its real recipient),
    /// and stores them. Both are `dyn`: one copy of this whole send path in the wasm,
    /// however many kinds of message call it.
    async fn send_content(
        &self,
        to: &SessionId,
        build: &dyn Fn(u64) -> (Content, u64, bool),
        extend: &dyn Fn(&mut Vec<u8>),
    ) -> ClientResult<Sent> {
        self.ready().await?;
        let sent_ms = self.network_now_ms();
        let (content, ttl_ms, sync_copy) = build(sent_ms);
        // Keys first (a device founding its group or rotating publishes before it sends).
        // A failure there costs this message nothing: it goes out in whatever protocol the
        // recipient's keys allow.
        let _ = self.maintain_v2().await;
        let mut bytes = Zeroizing::new(content.encode_to_vec());
        extend(&mut bytes);
        let (data, protocol) = self.seal_direct(to, &bytes, sent_ms).await?;
        let (hash, expiry_ms, accepted_by) = self
            .store_message(to, NAMESPACE_DM, &data, sent_ms, ttl_ms)
            .await?;

        // The sync copy: the same Content, marked with its real recipient, sealed to ourselves.
        let mut sync = content;
        if let Some(dm) = sync.data_message.as_mut() {
            dm.sync_target = Some(to.to_string());
        }
        let own = self.identity.session_id();
        let mut sync_bytes = Zeroizing::new(sync.encode_to_vec());
        extend(&mut sync_bytes);
        let copy = match sync_copy {
            true => Some(self.seal_direct(&own, &sync_bytes, sent_ms).await),
            false => None,
        };
        let sync_hash = match copy {
            Some(Ok((copy, _))) => {
                // This device has the message already: no poll or wait may return the copy,
                // and a wait held in our swarm answers the moment it is stored, before the
                // store's acknowledgement is back. So it is marked seen first (kept as long as
                // any swarm may keep it; if the store fails, nothing will hand it out anyway).
                let sync_hash =
                    crate::rpc::message_hash(&AccountId::from(own), NAMESPACE_DM, &copy);
                self.mark_seen(&sync_hash, sent_ms.saturating_add(TTL_MAXIMUM_MS));
                self.save_seen().await?;
                self.store_message(&own, NAMESPACE_DM, &copy, sent_ms, ttl_ms)
                    .await
                    .is_ok()
                    .then_some(sync_hash)
            }
            Some(Err(_)) | None => None,
        };
        Ok(Sent {
            hash,
            sent_ms,
            expiry_ms,
            accepted_by,
            synced: sync_hash.is_some(),
            sync_hash,
            protocol,
        })
    }

    /// Stores `data` in `to`'s swarm (at `namespace`; signed by us where the namespace needs
    /// it, so only in our own) until [`MIN_STORE_ACKS`] distinct members (the whole
    /// swarm, if it is smaller) have signed for it; returns (hash, expiry, verified
    /// acknowledgements). One member's word is not enough: a lying member signs and keeps
    /// nothing. So while too few have signed, the next member is asked to store the message
    /// too (the same store; members holding it already answer `already`).
    pub(super) async fn store_message(
        &self,
        to: &SessionId,
        namespace: Namespace,
        data: &[u8],
        sent_ms: u64,
        ttl_ms: u64,
    ) -> ClientResult<(String, u64, usize)> {
        let signed = namespace.store_needs_auth();
        let identity = &self.identity;
        let sign = |request: Request| {
            if signed {
                request.signed_by(identity)
            } else {
                request
            }
        };
        let account = AccountId::from(*to);
        self.store_at(&account, namespace, data, sent_ms, ttl_ms, &sign)
            .await
    }

    /// [`Self::store_message`] into any account (a group's too), each request signed by
    /// `sign` (or left unsigned by it).
    pub(super) async fn store_at(
        &self,
        account: &AccountId,
        namespace: Namespace,
        data: &[u8],
        sent_ms: u64,
        ttl_ms: u64,
        sign: &dyn Fn(Request) -> Request,
    ) -> ClientResult<(String, u64, usize)> {
        let account = *account;
        let hash = crate::rpc::message_hash(&account, namespace, data);
        let params = StoreParams::new(&account, namespace, data, sent_ms, ttl_ms);
        let mut replies: Vec<StoreResponse> = Vec::new();
        let mut asked: Vec<String> = Vec::new();
        loop {
            // A 421 may move the swarm (a newer manifest) during a call: the members, and the
            // acknowledgements that count, are always those the current manifest assigns.
            let swarm = self.swarm_of(&account);
            let needed = MIN_STORE_ACKS.min(swarm.len()).max(1);
            let signers = replies
                .iter()
                .flat_map(|r| verified_signers(r, &hash, &swarm))
                .collect::<BTreeSet<_>>();
            if signers.len() >= needed {
                return Ok((hash, sent_ms + ttl_ms, signers.len()));
            }
            let mut candidates = super::not_asked(&swarm, &asked);
            let too_few = || ClientError::Exhausted {
                attempts: asked.len() as u32,
                last: format!(
                    "{} of the {needed} swarm members needed acknowledged the message",
                    signers.len()
                ),
            };
            if candidates.is_empty() {
                return Err(too_few());
            }
            super::shuffle(&mut candidates, &mut *self.rng.borrow_mut());
            let store = |_: u64, _: &ManifestNode| sign(Request::Store(params.clone()));
            match self.call(candidates, Some(&account), &store).await {
                Ok((dest, reply)) => {
                    asked.push(dest.ed25519);
                    // A reply of the wrong shape is one member's fault: ask the next.
                    replies.extend(reply.parse::<StoreResponse>());
                }
                // Every remaining member failed.
                Err(e) if signers.is_empty() => return Err(e),
                Err(_) => return Err(too_few()),
            }
        }
    }

    /// Deletes `hashes` from our own swarm (superseded config or device-group messages), best
    /// effort: what is not deleted now expires.
    pub(super) async fn delete_own(&self, hashes: Vec<String>) {
        if hashes.is_empty() {
            return;
        }
        let account = AccountId::from(self.identity.session_id());
        let identity = &self.identity;
        let make = |_: u64, _: &ManifestNode| {
            Request::Delete(crate::rpc::DeleteParams::new(&account, hashes.clone()))
                .signed_by(identity)
        };
        let _ = self
            .call(self.swarm_of(&account), Some(&account), &make)
            .await;
    }

    /// Fetches new direct messages (and sync copies of messages we sent from another device)
    /// from [`POLL_MEMBERS`] members of our swarm, merged (others as fallback), so one member
    /// answering "nothing new" hides nothing; each message is verified, handed out once,
    /// oldest first.
    /// Messages that do not open or verify are skipped (and not fetched again).
    pub async fn poll(&self) -> ClientResult<Vec<Incoming>> {
        self.ready().await?;
        // Rotating and publishing keys is due whether or not anything is sent; a failure
        // there does not stop the poll.
        let _ = self.maintain_v2().await;
        let own = self.identity.session_id();
        let account = AccountId::from(own);
        let mut members = self.swarm_of(&account);
        super::shuffle(&mut members, &mut *self.rng.borrow_mut());
        let mut last_hashes = self.last_hashes(&members).await?;
        // Prefer a node polled before: its last_hash spares fetching everything again.
        crate::order::by_key(&mut members, |n| {
            u64::from(!last_hashes.contains_key(&n.ed25519))
        });

        let mut marked = false;
        let mut fresh = Vec::new();
        // Two members, merged: one lying member answering "nothing new" hides nothing.
        let mut answered: Vec<String> = Vec::new();
        for round in 0..POLL_MEMBERS {
            let candidates = super::not_asked(&members, &answered);
            if candidates.is_empty() {
                break;
            }
            let pages = self
                .poll_member(
                    candidates,
                    &account,
                    &mut last_hashes,
                    &mut fresh,
                    &mut marked,
                )
                .await;
            match pages {
                Ok(node) => answered.push(node),
                // The first member's failure is the poll's; a second one only means less
                // certainty this time.
                Err(e) if round == 0 => return Err(e),
                Err(_) => break,
            }
        }
        self.hand_out(fresh, marked).await
    }

    /// Saves the seen set if `marked` (it changed) and returns `fresh` oldest first.
    pub(super) async fn hand_out(
        &self,
        mut fresh: Vec<Incoming>,
        marked: bool,
    ) -> ClientResult<Vec<Incoming>> {
        if marked {
            self.save_seen().await?;
        }
        crate::order::by_key(&mut fresh, |m| m.sent_ms);
        Ok(fresh)
    }

    /// The `last_hash` of each of `members` that has one (read from the store once per member).
    pub(super) async fn last_hashes(
        &self,
        members: &[ManifestNode],
    ) -> ClientResult<HashMap<String, String>> {
        for node in members {
            if self.state.borrow().last_hashes.contains_key(&node.ed25519) {
                continue;
            }
            let stored = self.store.get(&last_hash_key(node, NAMESPACE_DM)).await?;
            self.state.borrow_mut().last_hashes.insert(
                node.ed25519.clone(),
                stored.map(|h| String::from_utf8_lossy(&h).into()),
            );
        }
        let st = self.state.borrow();
        Ok(members
            .iter()
            .filter_map(|n| Some((n.ed25519.clone(), st.last_hashes.get(&n.ed25519)?.clone()?)))
            .collect())
    }

    /// Takes one member's retrieve `page` of `account`'s DMs: each message verified and new
    /// to the seen set goes into `fresh` (`marked` says the seen set changed), and the
    /// member's `last_hash` moves to the page's end (saved).
    pub(super) async fn take_page(
        &self,
        node: &ManifestNode,
        account: &AccountId,
        page: &RetrieveResponse,
        fresh: &mut Vec<Incoming>,
        marked: &mut bool,
    ) -> ClientResult<()> {
        let own = self.identity.session_id();
        // A node's page is its word: its hashes, times and expirations are checked or
        // ignored, and a page longer than any node sends is cut.
        let now = self.network_now_ms();
        for m in page.messages.iter().take(RETRIEVE_MAX_COUNT) {
            let Ok(data) = crypto::b64_decode(&m.data) else {
                continue;
            };
            // A hash that is not the data's would mark the real message seen before an
            // honest member serves it.
            if crate::rpc::message_hash(account, NAMESPACE_DM, &data) != m.hash
                || self.state.borrow().seen.contains(&m.hash)
            {
                continue;
            }
            // What does not open is skipped, not remembered: only verified messages enter
            // the seen set, so junk cannot crowd real entries out of it.
            let Ok((received, protocol)) = self.open_direct(&data).await else {
                continue;
            };
            // The envelope around the signed content is not signed. A swarm member holding a
            // real message could re-wrap it (another hash) to have it shown again, or at
            // another time: an envelope time that is not the signed one is dropped, and a
            // signed content seen before is not handed out twice.
            // (A content without a message, a control, carries its time as `sigTimestamp`.)
            let signed_ms = match &received.content.data_message {
                Some(d) => d.timestamp,
                None => received.content.sig_timestamp,
            };
            if signed_ms.is_some_and(|t| t != received.sent_ms) {
                continue;
            }
            // Times come from the signed content, never the node's `expiration`: a message
            // is remembered as seen for as long as any swarm may keep it, refused once it is
            // older than that (a replay), and a disappearing one is due at its signed time
            // plus its timer.
            let kept_until = received.sent_ms.saturating_add(TTL_MAXIMUM_MS);
            if kept_until <= now {
                continue;
            }
            let timer = received.content.expiration_timer;
            let due = match timer {
                Some(s) => received
                    .sent_ms
                    .saturating_add((u64::from(s) * 1000).min(TTL_MAXIMUM_MS)),
                None => m.expiration.min(kept_until),
            };
            if timer.is_some() && due <= now {
                continue;
            }
            self.mark_seen(&m.hash, kept_until);
            *marked = true;
            if !self.mark_seen(&content_key(&received), kept_until) {
                continue;
            }
            // A group's invitation or promotion is taken by the groups client, not shown.
            #[cfg(feature = "groups-client")]
            if self
                .take_direct_control(&received.sender, received.sent_ms, &received.content_bytes)
                .await?
            {
                continue;
            }
            #[cfg(feature = "message-extras")]
            let extras = crate::message::extras::Extras::read(&received.content_bytes)
                .from_sender(&received.sender);
            // A content without a message is a control: with the feature, an unsend request or
            // a request's acceptance.
            #[cfg(feature = "message-extras")]
            let dm = match received.content.data_message {
                Some(dm) => dm,
                None if extras.is_control() => crate::message::DataMessage::default(),
                None => continue,
            };
            #[cfg(not(feature = "message-extras"))]
            let Some(dm) = received.content.data_message else {
                continue;
            };
            let sync_target = if received.sender == own {
                dm.sync_target.as_deref().and_then(|t| t.parse().ok())
            } else {
                None
            };
            let body = Body::read(&dm);
            fresh.push(Incoming {
                hash: m.hash.clone(),
                from: received.sender,
                sent_ms: received.sent_ms,
                text: body.text,
                attachments: body.attachments,
                profile: body.profile,
                sync_target,
                disappear_after_s: timer,
                expires_ms: due,
                protocol,
                group: None,
                notice: false,
                #[cfg(feature = "message-extras")]
                extras,
            });
        }
        if let Some(last) = page.messages.last() {
            self.state
                .borrow_mut()
                .last_hashes
                .insert(node.ed25519.clone(), Some(last.hash.clone()));
            self.store
                .put(
                    &last_hash_key(node, NAMESPACE_DM),
                    last.hash.clone().into_bytes(),
                )
                .await?;
        }
        Ok(())
    }

    /// Reads new pages from one of `candidates` (the others as fallback) into `fresh`,
    /// advancing that member's `last_hash`; returns the member that answered.
    async fn poll_member(
        &self,
        mut members: Vec<ManifestNode>,
        account: &AccountId,
        last_hashes: &mut HashMap<String, String>,
        fresh: &mut Vec<Incoming>,
        marked: &mut bool,
    ) -> ClientResult<String> {
        let mut answered = None;
        for _ in 0..POLL_MAX_PAGES {
            let hashes = last_hashes.clone();
            let identity = &self.identity;
            let make = move |now: u64, node: &ManifestNode| {
                Request::Retrieve(RetrieveParams::new(
                    account,
                    NAMESPACE_DM,
                    hashes.get(&node.ed25519).cloned().unwrap_or_default(),
                    now,
                ))
                .signed_by(identity)
            };
            let (node, reply) = self.call(members.clone(), Some(account), &make).await?;
            answered = Some(node.ed25519.clone());
            let page: RetrieveResponse = reply.parse().ok_or(crate::Error::Malformed(
                "retrieve reply has the wrong shape",
            ))?;
            self.take_page(&node, account, &page, fresh, marked).await?;
            if let Some(last) = page.messages.last() {
                last_hashes.insert(node.ed25519.clone(), last.hash.clone());
            }
            // Keep asking the node that answered while it has more.
            crate::order::by_key(&mut members, |n| u64::from(n.ed25519 != node.ed25519));
            if !page.more {
                break;
            }
        }
        answered.ok_or(ClientError::Exhausted {
            attempts: 0,
            last: "no swarm member answered".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Identity;
    use rand_core::SeedableRng as _;

    #[test]
    fn recipients_are_checked_with_a_reason() {
        let id = Identity::generate(&mut rand_chacha::ChaCha20Rng::seed_from_u64(3));
        let good = id.session_id().to_string();
        assert_eq!(parse_recipient(&good).unwrap(), id.session_id());
        for bad in ["", "05", &good[2..], &format!("15{}", &good[2..]), "hello"] {
            assert!(matches!(
                parse_recipient(bad),
                Err(ClientError::InvalidRecipient(_))
            ));
        }
    }

    #[test]
    fn only_signed_acks_of_swarm_members_count() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(4);
        let members: Vec<(Identity, ManifestNode)> = (0..3)
            .map(|i| {
                let id = Identity::generate(&mut rng);
                let node = ManifestNode::new(
                    hex::encode(id.ed25519_pubkey().to_bytes()),
                    hex::encode(id.x25519_pubkey()),
                    format!("http://127.0.0.1:{}", 9000 + i),
                    0,
                );
                (id, node)
            })
            .collect();
        let outsider = Identity::generate(&mut rng);
        let hash = "somehash";
        let sign = |id: &Identity, what: &str| {
            use ed25519_dalek::Signer as _;
            crypto::b64_encode(&id.ed25519_signing_key().sign(what.as_bytes()).to_bytes())
        };
        let mut swarm = serde_json::Map::new();
        // Good, wrong hash signed, wrong hash named, failed entry, outsider.
        swarm.insert(
            members[0].1.ed25519.clone(),
            serde_json::json!({"hash": hash, "signature": sign(&members[0].0, hash), "expiry": 1}),
        );
        swarm.insert(
            members[1].1.ed25519.clone(),
            serde_json::json!({"hash": hash, "signature": sign(&members[1].0, "other"), "expiry": 1}),
        );
        swarm.insert(
            members[2].1.ed25519.clone(),
            serde_json::json!({"failed": true, "code": 507}),
        );
        swarm.insert(
            hex::encode(outsider.ed25519_pubkey().to_bytes()),
            serde_json::json!({"hash": hash, "signature": sign(&outsider, hash), "expiry": 1}),
        );
        let body: StoreResponse =
            serde_json::from_value(serde_json::json!({ "swarm": swarm, "hash": hash, "t": 1 }))
                .unwrap();
        let nodes: Vec<ManifestNode> = members.into_iter().map(|(_, n)| n).collect();
        assert_eq!(verified_signers(&body, hash, &nodes).len(), 1);
        assert!(verified_signers(&body, "another", &nodes).is_empty());
        let empty: StoreResponse =
            serde_json::from_value(serde_json::json!({"swarm": {}, "t": 1})).unwrap();
        assert!(verified_signers(&empty, hash, &nodes).is_empty());
    }
}
