//! What a chat app does with the client engine and the history (DESIGN.md §2): send with
//! visible states (sending → sent, or failed and retryable), file what a poll brings into the
//! right conversation, honour blocks and disappearing timers. The browser app runs this; it is
//! here, sans-IO, so it is tested natively against a real devnet.

use rand_core::CryptoRng;

use crate::SessionId;
use crate::client::platform::{Clock, Store, Transport};
use crate::client::{Client, ClientError, Incoming, Step};
use crate::history::{Delivered, Delivery, History, HistoryError, MessageRecord};
use crate::rpc::TTL_MAXIMUM_MS;

/// How often a successful poll is recorded (one sealed write per minute, not per poll).
const CAUGHT_UP_EVERY_MS: u64 = 60_000;

/// How long the user was away if it was longer than the network keeps messages (14 days):
/// messages sent to them before `now_ms - TTL` may have expired unseen. `previous` is the
/// network time of their last successful poll.
pub fn away_longer_than_ttl(previous: Option<u64>, now_ms: u64) -> Option<u64> {
    let away = now_ms.saturating_sub(previous?);
    (away > TTL_MAXIMUM_MS).then_some(away)
}

/// Why a messenger operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessengerError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    History(#[from] HistoryError),
}

type Result<T> = core::result::Result<T, MessengerError>;

/// A message filed as `Sending`, not yet sent (see [`Messenger::queue`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    peer: SessionId,
    id: String,
    text: String,
    timer: Option<u32>,
}

/// A client and its history, for one identity.
#[derive(Debug)]
pub struct Messenger<T, C, S, R, H> {
    pub client: Client<T, C, S, R>,
    pub history: History<H>,
    next_local: std::cell::Cell<u64>,
    /// When a successful poll was last recorded (network ms; 0: not this session).
    caught_up_saved: std::cell::Cell<u64>,
}

impl<T: Transport, C: Clock, S: Store, R: CryptoRng, H: Store> Messenger<T, C, S, R, H> {
    pub fn new(client: Client<T, C, S, R>, history: History<H>) -> Self {
        Self {
            client,
            history,
            next_local: std::cell::Cell::new(0),
            caught_up_saved: std::cell::Cell::new(0),
        }
    }

    /// Sends `text` to `peer` with the conversation's disappearing timer. The message is in
    /// the history as `Sending` before the network is touched, and ends `Sent` (its id then the
    /// message hash) or `Failed`. Returns the message's final id. A caller that shows the
    /// history calls [`Self::queue`] and [`Self::deliver_queued`] instead, refreshing between.
    pub async fn send(&self, peer: &SessionId, text: &str) -> Result<String> {
        let queued = self.queue(peer, text).await?;
        self.deliver_queued(queued).await
    }

    /// The first half of [`Self::send`]: files `text` in `peer`'s conversation as `Sending`.
    pub async fn queue(&self, peer: &SessionId, text: &str) -> Result<Queued> {
        let peer_hex = peer.to_string();
        let conv = self.history.open(&peer_hex).await?;
        let n = self.next_local.get();
        self.next_local.set(n + 1);
        let local_id = format!("local-{}-{n}", self.client.network_now_ms());
        let now = self.client.network_now_ms();
        self.history
            .append(
                &peer_hex,
                MessageRecord {
                    id: local_id.clone(),
                    outgoing: true,
                    text: text.to_string(),
                    sent_ms: now,
                    delivery: Delivery::Sending,
                    expires_ms: conv.disappear_after_s.map(|s| now + u64::from(s) * 1000),
                    sync_hash: None,
                },
            )
            .await?;
        Ok(Queued {
            peer: *peer,
            id: local_id,
            text: text.to_string(),
            timer: conv.disappear_after_s,
        })
    }

    /// The second half of [`Self::send`]: sends a queued message; it ends `Sent` or `Failed`.
    pub async fn deliver_queued(&self, queued: Queued) -> Result<String> {
        let Queued {
            peer,
            id,
            text,
            timer,
        } = queued;
        self.deliver(&peer.to_string(), &peer, &id, &text, timer)
            .await
    }

    /// Sends a `Failed` message again.
    pub async fn retry(&self, peer: &SessionId, id: &str, text: &str) -> Result<String> {
        let peer_hex = peer.to_string();
        let timer = self.history.open(&peer_hex).await?.disappear_after_s;
        self.history
            .set_delivery(&peer_hex, id, Delivery::Sending, None)
            .await?;
        self.deliver(&peer_hex, peer, id, text, timer).await
    }

    async fn deliver(
        &self,
        peer_hex: &str,
        peer: &SessionId,
        id: &str,
        text: &str,
        timer: Option<u32>,
    ) -> Result<String> {
        match self.client.send_text(peer, text, timer).await {
            Ok(sent) => {
                let delivered = Delivered {
                    hash: &sent.hash,
                    sent_ms: sent.sent_ms,
                    sync_hash: sent.sync_hash.as_deref(),
                };
                self.history
                    .set_delivery(peer_hex, id, Delivery::Sent, Some(delivered))
                    .await?;
                Ok(sent.hash)
            }
            Err(e) => {
                self.history
                    .set_delivery(peer_hex, id, Delivery::Failed, None)
                    .await?;
                Err(e.into())
            }
        }
    }

    /// How long the user was away, if longer than messages live: call before the first poll
    /// of a session (which records a new time).
    pub async fn away_longer_than_ttl(&self) -> Result<Option<u64>> {
        let previous = self.history.caught_up_ms().await?;
        self.client.ready().await?;
        Ok(away_longer_than_ttl(previous, self.client.network_now_ms()))
    }

    /// Polls once and files new messages; returns the peers whose conversations changed.
    /// Messages from blocked peers are dropped; our own sync copies (sent from another device)
    /// join their conversation as outgoing.
    pub async fn poll(&self) -> Result<Vec<String>> {
        let incoming = self.client.poll().await?;
        self.take(incoming).await
    }

    /// One step of following: with `live`, a waiting retrieve where the swarm holds them
    /// ([`Client::live`]), else a poll; files what came as [`Self::poll`] does. Returns the
    /// conversations that changed and whether the step waited (take the next one at once) or
    /// polled (sleep the poll interval first).
    pub async fn follow(&self, live: bool) -> Result<(Vec<String>, bool)> {
        let (incoming, waited) = match self.client.follow(live).await? {
            Step::Waited(m) => (m, true),
            Step::Polled(m) => (m, false),
        };
        Ok((self.take(incoming).await?, waited))
    }

    /// Files `incoming` (from a poll or a wait); returns the peers whose conversations changed.
    async fn take(&self, incoming: Vec<Incoming>) -> Result<Vec<String>> {
        let now = self.client.network_now_ms();
        if now.saturating_sub(self.caught_up_saved.get()) >= CAUGHT_UP_EVERY_MS {
            self.history.set_caught_up_ms(now).await?;
            self.caught_up_saved.set(now);
        }
        if incoming.is_empty() {
            return Ok(Vec::new());
        }
        let own = self.client.identity().session_id();
        // Read once per poll, not once per message.
        let blocked: Vec<String> = self
            .history
            .conversations()
            .await?
            .into_iter()
            .filter(|c| c.blocked)
            .map(|c| c.peer)
            .collect();
        #[cfg(feature = "message-extras")]
        let (incoming, unsent) = self.take_extras(&own, &blocked, incoming).await?;
        let filed = incoming
            .into_iter()
            .filter_map(|m| Self::file(&own, &blocked, m))
            .collect();
        // One batch: a catch-up of thousands costs one index write, not one per message.
        #[cfg_attr(not(feature = "message-extras"), allow(unused_mut))]
        let mut changed = self.history.append_all(filed).await?;
        #[cfg(feature = "message-extras")]
        for peer in unsent {
            if !changed.contains(&peer) {
                changed.push(peer);
            }
        }
        Ok(changed)
    }

    /// Of `incoming`, acts on what is not a message to show: an unsend request ("delete for
    /// everyone") deletes the message it names from its conversation here and from our swarm
    /// (the reader already dropped one naming someone else's message); other controls
    /// (a request's acceptance, receipts, typing) and reactions are not shown here, so they
    /// are not filed as empty messages. Returns the messages left and the conversations an
    /// unsend changed.
    #[cfg(feature = "message-extras")]
    async fn take_extras(
        &self,
        own: &SessionId,
        blocked: &[String],
        incoming: Vec<Incoming>,
    ) -> Result<(Vec<Incoming>, Vec<String>)> {
        let mut messages = Vec::with_capacity(incoming.len());
        let mut changed = Vec::new();
        for m in incoming {
            if let Some(target) = m.extras.unsend {
                // The message may have come in this same batch (sent and taken back while we
                // were away): it is never filed. Its author is the request's sender (checked).
                if let Some(at) = messages
                    .iter()
                    .position(|n: &Incoming| n.from == target.author && n.sent_ms == target.sent_ms)
                {
                    let gone = messages.remove(at);
                    self.client.delete_from_own_swarm(vec![gone.hash]).await;
                    continue;
                }
                // Theirs names a message of their conversation. Ours (from another device of
                // the account) carries no recipient, as in Session: any conversation's.
                let peers = if m.from == *own {
                    self.history
                        .conversations()
                        .await?
                        .into_iter()
                        .map(|c| c.peer)
                        .collect()
                } else if blocked.contains(&m.from.to_string()) {
                    Vec::new()
                } else {
                    vec![m.from.to_string()]
                };
                let ours = target.author == *own;
                for peer in peers {
                    let gone = self
                        .history
                        .remove_message(&peer, &|r| {
                            r.outgoing == ours && r.sent_ms == target.sent_ms
                        })
                        .await?;
                    if let Some(gone) = gone {
                        // Received, or filed from a sync copy: its id is its hash in our
                        // swarm; sent from here: its sync copy is.
                        let hashes = std::iter::once(gone.id).chain(gone.sync_hash).collect();
                        self.client.delete_from_own_swarm(hashes).await;
                        changed.push(peer);
                        break;
                    }
                }
                continue;
            }
            if m.extras.is_control() || (m.extras.reaction.is_some() && m.text.is_empty()) {
                continue;
            }
            messages.push(m);
        }
        Ok((messages, changed))
    }

    /// "Delete for everyone" of our sent message `id` in `peer`'s conversation: Session's
    /// unsend request goes to them (and our other devices), our sync copy leaves our swarm,
    /// and the message leaves the history here. If the request cannot be sent, nothing is
    /// deleted and the error says why.
    #[cfg(feature = "message-extras")]
    pub async fn delete_for_everyone(&self, peer: &SessionId, id: &str) -> Result<()> {
        let peer_hex = peer.to_string();
        let own = self.client.identity().session_id();
        let Some(message) = self.find_sent(&peer_hex, id).await? else {
            return Err(HistoryError::NoMessage.into());
        };
        let target = crate::message::extras::MessageRef {
            sent_ms: message.sent_ms,
            author: own,
        };
        self.client
            .unsend(peer, target, message.sync_hash.into_iter().collect())
            .await?;
        self.history
            .remove_message(&peer_hex, &|m| m.outgoing && m.id == id)
            .await?;
        Ok(())
    }

    /// "Delete for me": message `id` (sent, received or failed) leaves `peer`'s conversation
    /// here and our swarm (a received one, or our sync copy of a sent one), so no device of
    /// ours restored later reads it again; the other side keeps theirs.
    pub async fn delete_for_me(&self, peer: &str, id: &str) -> Result<()> {
        let Some(gone) = self.history.remove_message(peer, &|m| m.id == id).await? else {
            return Err(HistoryError::NoMessage.into());
        };
        // A message that failed to send is in no swarm.
        if gone.delivery != Delivery::Failed {
            self.client
                .delete_from_own_swarm(std::iter::once(gone.id).chain(gone.sync_hash).collect())
                .await;
        }
        Ok(())
    }

    /// Our sent message `id` in `peer`'s conversation, newest pages first.
    #[cfg(feature = "message-extras")]
    async fn find_sent(&self, peer: &str, id: &str) -> Result<Option<MessageRecord>> {
        let pages = self.history.get(peer).await?.map_or(0, |c| c.pages);
        for page_no in (0..pages).rev() {
            if let Some(m) = self
                .history
                .page(peer, page_no)
                .await?
                .into_iter()
                .find(|m| m.outgoing && m.id == id && m.delivery == Delivery::Sent)
            {
                return Ok(Some(m));
            }
        }
        Ok(None)
    }

    /// The conversation and record an incoming message belongs to, or `None` to drop it.
    fn file(own: &SessionId, blocked: &[String], m: Incoming) -> Option<(String, MessageRecord)> {
        let (peer, outgoing) = match m.sync_target {
            Some(target) if m.from == *own => (target.to_string(), true),
            None if m.from != *own => (m.from.to_string(), false),
            // A sync copy without a target, or a message from ourselves to ourselves.
            _ => return None,
        };
        // Blocked, or nothing to show (e.g. what is left of a forged control message).
        if !outgoing && blocked.contains(&peer) || m.text.is_empty() && m.attachments.is_empty() {
            return None;
        }
        let expires_ms = m.disappear_after_s.map(|_| m.expires_ms);
        let record = MessageRecord {
            id: m.hash,
            outgoing,
            text: m.text,
            sent_ms: m.sent_ms,
            delivery: if outgoing {
                Delivery::Sent
            } else {
                Delivery::Received
            },
            expires_ms,
            sync_hash: None,
        };
        Some((peer, record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn away_is_reported_only_past_the_ttl() {
        let day = 24 * 3600 * 1000;
        assert_eq!(away_longer_than_ttl(None, 100 * day), None, "never polled");
        assert_eq!(
            away_longer_than_ttl(Some(day), 15 * day),
            None,
            "exactly 14 days"
        );
        assert_eq!(
            away_longer_than_ttl(Some(day), 15 * day + 1),
            Some(14 * day + 1)
        );
        assert_eq!(
            away_longer_than_ttl(Some(20 * day), day),
            None,
            "clock went back"
        );
    }
}
