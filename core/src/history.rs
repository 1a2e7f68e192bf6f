//! Chat history on the device (DESIGN.md §2 `app`): conversations and their messages, kept in a
//! client [`Store`] — sealed by a `vault::VaultStore` when the user keeps history, in memory
//! for a temporary session. Sans-IO like the rest of core; the app drives it.
//!
//! Layout (logical record names; the vault turns them into keyed hashes):
//! - `history.index`: the conversations (peer, name, last message, unread, timer, blocked);
//! - `history.<peer>.<page>`: a page of at most [`PAGE_SIZE`] messages, oldest first, so a
//!   conversation of 10,000 messages opens by reading its last page, not all of them.

use serde::{Deserialize, Serialize};

use crate::client::platform::{Store, StoreError};

/// Messages per stored page.
pub const PAGE_SIZE: usize = 200;
const INDEX: &str = "history.index";
/// Network time of the last poll that reached the network.
const CAUGHT_UP: &str = "history.caught_up_ms";

/// Where an outgoing message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Delivery {
    /// Being sent.
    Sending,
    /// A swarm member acknowledged it.
    Sent,
    /// Sending failed; the user may retry.
    Failed,
    /// Received from the peer.
    Received,
}

/// One message in a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRecord {
    /// The message hash once known; a local id while sending.
    pub id: String,
    pub outgoing: bool,
    pub text: String,
    pub sent_ms: u64,
    pub delivery: Delivery,
    /// When a disappearing message is deleted here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_ms: Option<u64>,
    /// A message sent from this device: its sync copy's hash in our own swarm, which "delete
    /// for everyone" deletes there (added after the first release: older records have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_hash: Option<String>,
}

/// What the network said of a message that went out: its hash (which becomes its id), the
/// signed time written in it (Session's key for a message, named by "delete for everyone"),
/// and its sync copy's hash in our own swarm.
#[derive(Debug, Clone, Copy)]
pub struct Delivered<'a> {
    pub hash: &'a str,
    pub sent_ms: u64,
    pub sync_hash: Option<&'a str>,
}

/// A conversation as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    /// The peer's Session ID (hex).
    pub peer: String,
    /// A local name the user gave the contact.
    #[serde(default)]
    pub name: Option<String>,
    pub last_text: String,
    pub last_ms: u64,
    pub unread: u32,
    /// Disappearing-message timer for new messages, seconds.
    #[serde(default)]
    pub disappear_after_s: Option<u32>,
    #[serde(default)]
    pub blocked: bool,
    /// No notifications, and not counted in the tab's title (added after the first release:
    /// an older index has no such field and reads as not muted).
    #[serde(default)]
    pub muted: bool,
    /// Kept out of the main list; a message received moves it back, unless it is muted.
    #[serde(default)]
    pub archived: bool,
    /// Pages stored (the last one may be partly full).
    pub pages: u32,
    /// Messages stored in all pages.
    pub messages: u64,
    /// The earliest time one of its disappearing messages is due, so [`History::expire`]
    /// reads only the conversations that have something to delete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_expiry_ms: Option<u64>,
}

impl Conversation {
    fn empty(peer: &str) -> Self {
        Self {
            peer: peer.to_string(),
            name: None,
            last_text: String::new(),
            last_ms: 0,
            unread: 0,
            disappear_after_s: None,
            blocked: false,
            muted: false,
            archived: false,
            pages: 0,
            messages: 0,
            next_expiry_ms: None,
        }
    }
}

/// A conversation's newest message matching a search, and the page it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub peer: String,
    pub page: u32,
    pub message: MessageRecord,
}

/// Why the history could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HistoryError {
    #[error("storage failed: {}", .0.0)]
    Store(StoreError),
    #[error("a history record is damaged")]
    Damaged,
    #[error("no such conversation")]
    NoConversation,
    #[error("no such message")]
    NoMessage,
}

impl From<StoreError> for HistoryError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

type Result<T> = core::result::Result<T, HistoryError>;

fn page_name(peer: &str, page: u32) -> String {
    format!("history.{peer}.{page}")
}

/// The history kept in a store.
#[derive(Debug)]
pub struct History<S> {
    store: S,
    /// Held by every change, from its first read to its last write: each change reads the
    /// index (or a page), awaits the store, and writes it back, so two interleaved changes (the
    /// poll loop filing messages while the user mutes a chat) would otherwise write over each
    /// other, and the stale index could lose count of a page just written.
    changing: futures_util::lock::Mutex<()>,
}

impl<S: Store> History<S> {
    pub fn new(store: S) -> Self {
        Self {
            store,
            changing: futures_util::lock::Mutex::new(()),
        }
    }

    async fn read<T: for<'de> Deserialize<'de>>(&self, name: &str) -> Result<Option<T>> {
        match self.store.get(name).await? {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|_| HistoryError::Damaged),
        }
    }

    async fn write<T: Serialize>(&self, name: &str, value: &T) -> Result<()> {
        let bytes = serde_json::to_vec(value).map_err(|_| HistoryError::Damaged)?;
        self.store.put(name, bytes).await?;
        Ok(())
    }

    /// The conversations, most recent first.
    pub async fn conversations(&self) -> Result<Vec<Conversation>> {
        let mut list: Vec<Conversation> = self.read(INDEX).await?.unwrap_or_default();
        crate::order::by_key(&mut list, |c| u64::MAX - c.last_ms);
        Ok(list)
    }

    async fn update<T>(&self, peer: &str, f: impl FnOnce(&mut Conversation) -> T) -> Result<T> {
        let _turn = self.changing.lock().await;
        let mut list: Vec<Conversation> = self.read(INDEX).await?.unwrap_or_default();
        let conv = list
            .iter_mut()
            .find(|c| c.peer == peer)
            .ok_or(HistoryError::NoConversation)?;
        let out = f(conv);
        self.write(INDEX, &list).await?;
        Ok(out)
    }

    /// Network time of the last successful poll, if any was recorded.
    pub async fn caught_up_ms(&self) -> Result<Option<u64>> {
        self.read(CAUGHT_UP).await
    }

    /// Records a successful poll at network time `now_ms`.
    pub async fn set_caught_up_ms(&self, now_ms: u64) -> Result<()> {
        self.write(CAUGHT_UP, &now_ms).await
    }

    /// The conversation with `peer`, if there is one.
    pub async fn get(&self, peer: &str) -> Result<Option<Conversation>> {
        let list: Vec<Conversation> = self.read(INDEX).await?.unwrap_or_default();
        Ok(list.into_iter().find(|c| c.peer == peer))
    }

    /// The conversation with `peer`, created empty if there is none.
    pub async fn open(&self, peer: &str) -> Result<Conversation> {
        let _turn = self.changing.lock().await;
        let mut list: Vec<Conversation> = self.read(INDEX).await?.unwrap_or_default();
        if let Some(c) = list.iter().find(|c| c.peer == peer) {
            return Ok(c.clone());
        }
        let conv = Conversation::empty(peer);
        list.push(conv.clone());
        self.write(INDEX, &list).await?;
        Ok(conv)
    }

    /// Adds a message at the end of the conversation with `peer` (created if needed). A
    /// message whose id is already stored is ignored, so a re-delivered message shows once.
    pub async fn append(&self, peer: &str, message: MessageRecord) -> Result<bool> {
        let changed = self.append_all(vec![(peer.to_string(), message)]).await?;
        Ok(!changed.is_empty())
    }

    /// Adds `(peer, message)` pairs in order, as [`History::append`] does one, but a whole
    /// poll's worth with one read and one write of the index and of each page touched — a
    /// catch-up of thousands of messages must not cost four sealed records per message.
    /// Returns the peers whose conversations gained a message, in first-seen order.
    pub async fn append_all(&self, batch: Vec<(String, MessageRecord)>) -> Result<Vec<String>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let _turn = self.changing.lock().await;
        let mut list: Vec<Conversation> = self.read(INDEX).await?.unwrap_or_default();
        // The last page of each conversation touched, as (page number, messages, dirty).
        let mut pages: std::collections::HashMap<String, (u32, Vec<MessageRecord>, bool)> =
            std::collections::HashMap::new();
        let mut written: Vec<(String, u32, Vec<MessageRecord>)> = Vec::new();
        let mut changed: Vec<String> = Vec::new();
        for (peer, message) in batch {
            let at = match list.iter().position(|c| c.peer == peer) {
                Some(at) => at,
                None => {
                    list.push(Conversation::empty(&peer));
                    list.len() - 1
                }
            };
            let conv = &mut list[at];
            if !pages.contains_key(&peer) {
                let last = conv.pages.saturating_sub(1);
                let page = if conv.pages == 0 {
                    Vec::new()
                } else {
                    self.read(&page_name(&peer, last))
                        .await?
                        .unwrap_or_default()
                };
                pages.insert(peer.clone(), (last, page, false));
            }
            let Some((page_no, page, dirty)) = pages.get_mut(&peer) else {
                continue;
            };
            if page.iter().any(|m| m.id == message.id) {
                continue;
            }
            if conv.pages == 0 || page.len() >= PAGE_SIZE {
                // The full page is done: keep it for writing if it changed, start the next.
                if *dirty {
                    written.push((peer.clone(), *page_no, std::mem::take(page)));
                }
                page.clear();
                conv.pages += 1;
                *page_no = conv.pages - 1;
            }
            conv.messages += 1;
            conv.last_text.clone_from(&message.text);
            conv.last_ms = message.sent_ms;
            if !message.outgoing {
                conv.unread += 1;
                // As other messengers do: news brings an archived conversation back, unless
                // the user also muted it.
                conv.archived &= conv.muted;
            }
            if let Some(due) = message.expires_ms {
                conv.next_expiry_ms = Some(conv.next_expiry_ms.map_or(due, |d| d.min(due)));
            }
            page.push(message);
            *dirty = true;
            if !changed.contains(&peer) {
                changed.push(peer);
            }
        }
        for (peer, (page_no, page, dirty)) in pages {
            if dirty {
                written.push((peer, page_no, page));
            }
        }
        if changed.is_empty() {
            return Ok(changed);
        }
        // Pages first, then the index that counts them: a crash in between leaves pages the
        // index does not reach yet, never an index pointing at missing pages.
        for (peer, page_no, page) in &written {
            self.write(&page_name(peer, *page_no), page).await?;
        }
        self.write(INDEX, &list).await?;
        Ok(changed)
    }

    /// Page `page` of the conversation (0 = oldest); the last page is `pages - 1`.
    pub async fn page(&self, peer: &str, page: u32) -> Result<Vec<MessageRecord>> {
        Ok(self.read(&page_name(peer, page)).await?.unwrap_or_default())
    }

    /// Sets the delivery state (and, once sent, the hash, signed time and sync copy) of
    /// message `id`, in the last pages.
    pub async fn set_delivery(
        &self,
        peer: &str,
        id: &str,
        delivery: Delivery,
        delivered: Option<Delivered<'_>>,
    ) -> Result<()> {
        let _turn = self.changing.lock().await;
        let Some(conv) = self.get(peer).await? else {
            return Ok(());
        };
        // Outgoing messages in flight are recent: look at the last two pages.
        for page_no in (conv.pages.saturating_sub(2)..conv.pages).rev() {
            let name = page_name(peer, page_no);
            let mut page: Vec<MessageRecord> = self.read(&name).await?.unwrap_or_default();
            if let Some(m) = page.iter_mut().find(|m| m.id == id) {
                m.delivery = delivery;
                if let Some(d) = delivered {
                    m.id = d.hash.to_string();
                    m.sent_ms = d.sent_ms;
                    m.sync_hash = d.sync_hash.map(str::to_string);
                }
                return self.write(&name, &page).await;
            }
        }
        Ok(())
    }

    /// Marks the conversation read.
    pub async fn mark_read(&self, peer: &str) -> Result<()> {
        self.update(peer, |c| c.unread = 0).await
    }

    /// Names the contact locally.
    pub async fn rename(&self, peer: &str, name: Option<String>) -> Result<()> {
        self.update(peer, |c| c.name = name).await
    }

    /// Blocks or unblocks the contact (the app drops messages from a blocked peer).
    pub async fn set_blocked(&self, peer: &str, blocked: bool) -> Result<()> {
        self.update(peer, |c| c.blocked = blocked).await
    }

    /// Mutes or unmutes the conversation.
    pub async fn set_muted(&self, peer: &str, muted: bool) -> Result<()> {
        self.update(peer, |c| c.muted = muted).await
    }

    /// Archives the conversation or brings it back to the main list.
    pub async fn set_archived(&self, peer: &str, archived: bool) -> Result<()> {
        self.update(peer, |c| c.archived = archived).await
    }

    /// Deletes the conversation's messages on this device ("delete for me"): each page is
    /// overwritten empty, so no text is left in the store. The conversation leaves the list,
    /// unless the contact is blocked: the block is kept (and stays in the blocked list).
    pub async fn delete_conversation(&self, peer: &str) -> Result<()> {
        let _turn = self.changing.lock().await;
        let mut list: Vec<Conversation> = self.read(INDEX).await?.unwrap_or_default();
        let at = list
            .iter()
            .position(|c| c.peer == peer)
            .ok_or(HistoryError::NoConversation)?;
        for page_no in 0..list[at].pages {
            self.write(&page_name(peer, page_no), &Vec::<MessageRecord>::new())
                .await?;
        }
        if list[at].blocked {
            let kept = Conversation {
                name: list[at].name.take(),
                disappear_after_s: list[at].disappear_after_s,
                blocked: true,
                ..Conversation::empty(peer)
            };
            list[at] = kept;
        } else {
            list.remove(at);
        }
        self.write(INDEX, &list).await
    }

    /// Deletes the newest message of the conversation that `matches` ("delete for everyone":
    /// ours when we asked, theirs when they did) and returns it. Its page is written without
    /// it, so no record keeps its text; the list's preview and counts follow. `None`: no
    /// message matched (it was never here, or is gone already).
    pub async fn remove_message(
        &self,
        peer: &str,
        matches: &dyn Fn(&MessageRecord) -> bool,
    ) -> Result<Option<MessageRecord>> {
        let _turn = self.changing.lock().await;
        let mut list: Vec<Conversation> = self.read(INDEX).await?.unwrap_or_default();
        let Some(conv) = list.iter_mut().find(|c| c.peer == peer) else {
            return Ok(None);
        };
        for page_no in (0..conv.pages).rev() {
            let name = page_name(peer, page_no);
            let mut page: Vec<MessageRecord> = self.read(&name).await?.unwrap_or_default();
            let Some(at) = page.iter().rposition(matches) else {
                continue;
            };
            let removed = page.remove(at);
            self.write(&name, &page).await?;
            conv.messages = conv.messages.saturating_sub(1);
            conv.unread = conv
                .unread
                .min(u32::try_from(conv.messages).unwrap_or(u32::MAX));
            if page_no + 1 == conv.pages && at == page.len() {
                // It was the newest: the list shows the one before it (or nothing).
                conv.last_text = match page.last() {
                    Some(m) => m.text.clone(),
                    None if page_no > 0 => self
                        .read::<Vec<MessageRecord>>(&page_name(peer, page_no - 1))
                        .await?
                        .and_then(|p| p.last().map(|m| m.text.clone()))
                        .unwrap_or_default(),
                    None => String::new(),
                };
            }
            self.write(INDEX, &list).await?;
            return Ok(Some(removed));
        }
        Ok(None)
    }

    /// Sets the disappearing timer for new messages.
    pub async fn set_timer(&self, peer: &str, seconds: Option<u32>) -> Result<()> {
        self.update(peer, |c| c.disappear_after_s = seconds).await
    }

    /// Searches the messages on this device: for each conversation (most recent first) its
    /// newest message whose text contains `query`, ASCII letters matched in either case (other
    /// letters as typed). There is no index at rest: every page is read (decrypted, in a
    /// vault) and scanned. A blank query finds nothing.
    pub async fn search(&self, query: &str) -> Result<Vec<Found>> {
        let query = query.trim().to_ascii_lowercase();
        let mut found = Vec::new();
        if query.is_empty() {
            return Ok(found);
        }
        for conv in self.conversations().await? {
            'pages: for page in (0..conv.pages).rev() {
                let messages: Vec<MessageRecord> = self
                    .read(&page_name(&conv.peer, page))
                    .await?
                    .unwrap_or_default();
                for message in messages.into_iter().rev() {
                    if message.text.to_ascii_lowercase().contains(&query) {
                        found.push(Found {
                            peer: conv.peer.clone(),
                            page,
                            message,
                        });
                        break 'pages;
                    }
                }
            }
        }
        Ok(found)
    }

    /// Deletes every message whose time is up at `now_ms`; returns how many went. Only the
    /// conversations with a message due are read.
    pub async fn expire(&self, now_ms: u64) -> Result<usize> {
        let _turn = self.changing.lock().await;
        let mut list: Vec<Conversation> = self.read(INDEX).await?.unwrap_or_default();
        let mut removed = 0;
        let mut touched = false;
        for conv in list
            .iter_mut()
            .filter(|c| c.next_expiry_ms.is_some_and(|due| due <= now_ms))
        {
            touched = true;
            let mut next: Option<u64> = None;
            let mut last: Option<MessageRecord> = None;
            for page_no in 0..conv.pages {
                let name = page_name(&conv.peer, page_no);
                let mut page: Vec<MessageRecord> = self.read(&name).await?.unwrap_or_default();
                let before = page.len();
                page.retain(|m| m.expires_ms.is_none_or(|e| e > now_ms));
                if page.len() != before {
                    self.write(&name, &page).await?;
                    let gone = before - page.len();
                    removed += gone;
                    conv.messages = conv.messages.saturating_sub(gone as u64);
                }
                for due in page.iter().filter_map(|m| m.expires_ms) {
                    next = Some(next.map_or(due, |d| d.min(due)));
                }
                if let Some(m) = page.last() {
                    last = Some(m.clone());
                }
            }
            conv.next_expiry_ms = next;
            // The list must not keep showing the text of a message that has gone.
            conv.last_text = last.map(|m| m.text).unwrap_or_default();
            conv.unread = conv
                .unread
                .min(u32::try_from(conv.messages).unwrap_or(u32::MAX));
        }
        if touched {
            self.write(INDEX, &list).await?;
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::MemoryStore;
    use crate::test_util::{block_on, one_turn};

    fn msg(id: &str, outgoing: bool, sent_ms: u64) -> MessageRecord {
        MessageRecord {
            id: id.into(),
            outgoing,
            text: format!("text {id}"),
            sent_ms,
            delivery: if outgoing {
                Delivery::Sending
            } else {
                Delivery::Received
            },
            expires_ms: None,
            sync_hash: None,
        }
    }

    fn sent(hash: &str, sent_ms: u64) -> Delivered<'_> {
        Delivered {
            hash,
            sent_ms,
            sync_hash: None,
        }
    }

    /// A store whose every read and write waits a turn, as IndexedDB's do, so changes made at
    /// once interleave at each step.
    struct TakingTurnsStore(MemoryStore);

    impl Store for TakingTurnsStore {
        async fn get(
            &self,
            key: &str,
        ) -> core::result::Result<Option<Vec<u8>>, crate::client::StoreError> {
            one_turn().await;
            self.0.get(key).await
        }
        async fn put(
            &self,
            key: &str,
            value: Vec<u8>,
        ) -> core::result::Result<(), crate::client::StoreError> {
            one_turn().await;
            self.0.put(key, value).await
        }
    }

    #[test]
    fn changes_made_at_once_take_turns_and_none_is_lost() {
        use futures_util::future::join3;
        let h = History::new(TakingTurnsStore(MemoryStore::new()));
        block_on(h.append("a", msg("1", true, 1))).unwrap();
        // The poll loop files a message while the user mutes the chat and a send completes.
        let (filed, muted, delivered) = block_on(join3(
            h.append("a", msg("2", false, 2)),
            h.set_muted("a", true),
            h.set_delivery("a", "1", Delivery::Sent, Some(sent("hash-1", 1))),
        ));
        assert!(filed.unwrap());
        muted.unwrap();
        delivered.unwrap();
        let c = block_on(h.get("a")).unwrap().unwrap();
        assert!(c.muted, "the mute was not written over");
        assert_eq!(
            (c.messages, c.unread, c.last_text.as_str()),
            (2, 1, "text 2")
        );
        let page = block_on(h.page("a", 0)).unwrap();
        let states: Vec<(&str, Delivery)> =
            page.iter().map(|m| (m.id.as_str(), m.delivery)).collect();
        assert_eq!(
            states,
            [("hash-1", Delivery::Sent), ("2", Delivery::Received)]
        );
    }

    #[test]
    fn conversations_page_their_messages_and_count_unread() {
        let h = History::new(MemoryStore::new());
        for i in 0..450u64 {
            assert!(block_on(h.append("peer-a", msg(&i.to_string(), i % 2 == 0, i))).unwrap());
        }
        block_on(h.append("peer-b", msg("b0", false, 1_000))).unwrap();
        // Re-delivery shows once.
        assert!(!block_on(h.append("peer-b", msg("b0", false, 1_000))).unwrap());
        let list = block_on(h.conversations()).unwrap();
        assert_eq!(list[0].peer, "peer-b", "most recent first");
        let a = &list[1];
        assert_eq!((a.pages, a.messages, a.unread), (3, 450, 225));
        assert_eq!(a.last_text, "text 449");
        assert_eq!(block_on(h.page("peer-a", 0)).unwrap().len(), PAGE_SIZE);
        let last = block_on(h.page("peer-a", 2)).unwrap();
        assert_eq!(last.len(), 50);
        assert_eq!(last[49].id, "449");
        block_on(h.mark_read("peer-a")).unwrap();
        assert_eq!(block_on(h.open("peer-a")).unwrap().unread, 0);
    }

    #[test]
    fn a_batch_files_like_single_appends_with_one_index_write() {
        let batch: Vec<(String, MessageRecord)> = (0..450u64)
            .map(|i| {
                let peer = if i % 3 == 0 { "peer-b" } else { "peer-a" };
                (peer.to_string(), msg(&i.to_string(), i % 2 == 0, i))
            })
            .collect();
        let one_by_one = History::new(MemoryStore::new());
        for (peer, m) in batch.clone() {
            block_on(one_by_one.append(&peer, m)).unwrap();
        }
        let store = MemoryStore::new();
        let batched = History::new(&store);
        // A message already there is skipped, also inside the batch.
        block_on(batched.append("peer-a", msg("1", false, 1))).unwrap();
        let mut with_repeat = batch.clone();
        with_repeat.push(("peer-a".into(), msg("449", true, 449)));
        let changed = block_on(batched.append_all(with_repeat)).unwrap();
        assert_eq!(changed, ["peer-b", "peer-a"], "first-seen order");
        assert_eq!(
            block_on(batched.conversations()).unwrap(),
            block_on(one_by_one.conversations()).unwrap()
        );
        for peer in ["peer-a", "peer-b"] {
            let conv = block_on(batched.open(peer)).unwrap();
            for page in 0..conv.pages {
                assert_eq!(
                    block_on(batched.page(peer, page)).unwrap(),
                    block_on(one_by_one.page(peer, page)).unwrap(),
                    "{peer} page {page}"
                );
            }
        }
        // Recent messages again (the client's seen-set catches older re-deliveries): nothing
        // new, nothing written.
        let before = block_on(store.get(INDEX)).unwrap();
        let recent = batch[batch.len() - 10..].to_vec();
        assert!(block_on(batched.append_all(recent)).unwrap().is_empty());
        assert_eq!(block_on(store.get(INDEX)).unwrap(), before);
    }

    #[test]
    fn delivery_states_move_and_the_hash_replaces_the_local_id() {
        let h = History::new(MemoryStore::new());
        block_on(h.append("p", msg("local-1", true, 5))).unwrap();
        block_on(h.set_delivery("p", "local-1", Delivery::Failed, None)).unwrap();
        assert_eq!(
            block_on(h.page("p", 0)).unwrap()[0].delivery,
            Delivery::Failed
        );
        let delivered = Delivered {
            sync_hash: Some("SYNC"),
            ..sent("HASH", 7)
        };
        block_on(h.set_delivery("p", "local-1", Delivery::Sent, Some(delivered))).unwrap();
        let m = &block_on(h.page("p", 0)).unwrap()[0];
        assert_eq!((m.id.as_str(), m.delivery), ("HASH", Delivery::Sent));
        // The signed time and the sync copy, which "delete for everyone" names.
        assert_eq!((m.sent_ms, m.sync_hash.as_deref()), (7, Some("SYNC")));
        // Once the hash is the id, the swarm's copy of the same message is not added again.
        assert!(!block_on(h.append("p", msg("HASH", true, 5))).unwrap());
        // A late state change for a conversation that is gone creates nothing.
        block_on(h.set_delivery("gone", "x", Delivery::Sent, None)).unwrap();
        assert!(block_on(h.get("gone")).unwrap().is_none());
    }

    #[test]
    fn disappearing_messages_go_on_time_and_settings_stick() {
        let h = History::new(MemoryStore::new());
        let mut gone = msg("gone", false, 10);
        gone.expires_ms = Some(1_000);
        block_on(h.append("p", gone)).unwrap();
        block_on(h.append("p", msg("kept", false, 20))).unwrap();
        let mut last = msg("last", false, 30);
        last.expires_ms = Some(2_000);
        block_on(h.append("p", last)).unwrap();
        assert_eq!(block_on(h.open("p")).unwrap().next_expiry_ms, Some(1_000));
        assert_eq!(block_on(h.expire(999)).unwrap(), 0);
        assert_eq!(block_on(h.expire(1_000)).unwrap(), 1);
        assert_eq!(block_on(h.open("p")).unwrap().next_expiry_ms, Some(2_000));
        assert_eq!(block_on(h.expire(2_000)).unwrap(), 1);
        let page = block_on(h.page("p", 0)).unwrap();
        assert_eq!(
            page.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
            ["kept"]
        );
        // The list shows the last message left, never the text of one that went.
        let c = block_on(h.open("p")).unwrap();
        assert_eq!(
            (c.last_text.as_str(), c.next_expiry_ms),
            ("text kept", None)
        );
        block_on(h.set_timer("p", Some(300))).unwrap();
        block_on(h.rename("p", Some("Alice".into()))).unwrap();
        block_on(h.set_blocked("p", true)).unwrap();
        let c = block_on(h.open("p")).unwrap();
        assert_eq!(
            (
                c.disappear_after_s,
                c.name.as_deref(),
                c.blocked,
                c.messages
            ),
            (Some(300), Some("Alice"), true, 1)
        );
        assert_eq!(
            block_on(h.mark_read("nobody")).unwrap_err(),
            HistoryError::NoConversation
        );
    }

    /// Existing users keep their history: an index as the version before mute and archive
    /// wrote it (these exact bytes) reads, neither muted nor archived, and keeps its fields.
    #[test]
    fn an_index_from_the_previous_version_reads_unmuted_and_unarchived() {
        let store = MemoryStore::new();
        let old = br#"[{"peer":"p","name":"Alice","last_text":"hi","last_ms":7,"unread":1,"disappear_after_s":300,"blocked":true,"pages":1,"messages":1}]"#;
        block_on(store.put(INDEX, old.to_vec())).unwrap();
        let h = History::new(&store);
        let c = block_on(h.get("p")).unwrap().unwrap();
        assert_eq!(
            (c.name.as_deref(), c.unread, c.disappear_after_s, c.blocked),
            (Some("Alice"), 1, Some(300), true)
        );
        assert!(!c.muted && !c.archived);
        // Written again, it keeps everything it had.
        block_on(h.set_muted("p", true)).unwrap();
        let c = block_on(h.get("p")).unwrap().unwrap();
        assert!(c.muted && c.blocked && c.name.as_deref() == Some("Alice"));
    }

    /// A page as the version before "delete for everyone" wrote it (these exact bytes) reads
    /// with no sync copy, and a message of it can still be deleted.
    #[test]
    fn a_page_from_the_previous_version_reads_and_its_messages_delete() {
        let store = MemoryStore::new();
        let index =
            br#"[{"peer":"p","last_text":"two","last_ms":2,"unread":0,"pages":1,"messages":2}]"#;
        let page = br#"[{"id":"H1","outgoing":true,"text":"one","sent_ms":1,"delivery":"Sent"},{"id":"H2","outgoing":false,"text":"two","sent_ms":2,"delivery":"Received"}]"#;
        block_on(store.put(INDEX, index.to_vec())).unwrap();
        block_on(store.put(&page_name("p", 0), page.to_vec())).unwrap();
        let h = History::new(&store);
        let read = block_on(h.page("p", 0)).unwrap();
        assert_eq!(read.len(), 2);
        assert!(read.iter().all(|m| m.sync_hash.is_none()));
        let gone = block_on(h.remove_message("p", &|m| m.id == "H2")).unwrap();
        assert_eq!(gone.map(|m| m.text).as_deref(), Some("two"));
        let c = block_on(h.get("p")).unwrap().unwrap();
        assert_eq!((c.messages, c.last_text.as_str()), (1, "one"));
    }

    /// "Delete for everyone" takes out one message: its page is written without it (no record
    /// keeps its text), the counts follow, and the list shows the message before it, also when
    /// that is on the page before. Asking again, or for a conversation that is not here,
    /// finds nothing and changes nothing.
    #[test]
    fn removing_a_message_leaves_no_text_and_the_list_follows() {
        let store = MemoryStore::new();
        let h = History::new(&store);
        for i in 0..=(PAGE_SIZE as u64) {
            block_on(h.append("p", msg(&i.to_string(), false, i))).unwrap();
        }
        let newest = PAGE_SIZE.to_string();
        // The newest is alone on page 1: after it goes, the preview is page 0's last.
        let gone = block_on(h.remove_message("p", &|m| m.id == newest)).unwrap();
        assert_eq!(gone.map(|m| m.sent_ms), Some(PAGE_SIZE as u64));
        let c = block_on(h.get("p")).unwrap().unwrap();
        assert_eq!(c.messages, PAGE_SIZE as u64);
        assert_eq!(c.last_text, format!("text {}", PAGE_SIZE - 1));
        assert_eq!(c.unread, PAGE_SIZE as u32);
        // One in the middle: the preview stays.
        assert!(
            block_on(h.remove_message("p", &|m| m.sent_ms == 5))
                .unwrap()
                .is_some()
        );
        let c = block_on(h.get("p")).unwrap().unwrap();
        assert_eq!(c.last_text, format!("text {}", PAGE_SIZE - 1));
        assert_eq!(block_on(h.page("p", 0)).unwrap().len(), PAGE_SIZE - 1);
        for key in store.keys() {
            let bytes = block_on(store.get(&key)).unwrap().unwrap();
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains("\"text 5\""), "{key} keeps the deleted text");
            assert!(!text.contains(&format!("\"text {newest}\"")));
        }
        let before: Vec<_> = store
            .keys()
            .into_iter()
            .map(|k| block_on(store.get(&k)).unwrap())
            .collect();
        assert!(
            block_on(h.remove_message("p", &|m| m.sent_ms == 5))
                .unwrap()
                .is_none()
        );
        assert!(
            block_on(h.remove_message("nobody", &|_| true))
                .unwrap()
                .is_none()
        );
        let after: Vec<_> = store
            .keys()
            .into_iter()
            .map(|k| block_on(store.get(&k)).unwrap())
            .collect();
        assert_eq!(before, after, "nothing written");
    }

    #[test]
    fn news_unarchives_unless_muted_and_delete_leaves_no_text() {
        let store = MemoryStore::new();
        let h = History::new(&store);
        block_on(h.append("p", msg("1", false, 1))).unwrap();
        block_on(h.set_archived("p", true)).unwrap();
        // Our own message does not bring it back; theirs does.
        block_on(h.append("p", msg("2", true, 2))).unwrap();
        assert!(block_on(h.get("p")).unwrap().unwrap().archived);
        block_on(h.append("p", msg("3", false, 3))).unwrap();
        assert!(!block_on(h.get("p")).unwrap().unwrap().archived);
        block_on(h.set_archived("p", true)).unwrap();
        block_on(h.set_muted("p", true)).unwrap();
        block_on(h.append("p", msg("4", false, 4))).unwrap();
        let c = block_on(h.get("p")).unwrap().unwrap();
        assert!(c.archived && c.muted && c.unread == 3);

        // Delete: gone from the list, and no record holds its text.
        for i in 5..(PAGE_SIZE as u64 + 10) {
            block_on(h.append("p", msg(&i.to_string(), false, i))).unwrap();
        }
        block_on(h.append("q", msg("q1", false, 1))).unwrap();
        block_on(h.delete_conversation("p")).unwrap();
        let list = block_on(h.conversations()).unwrap();
        assert_eq!(
            list.iter().map(|c| c.peer.as_str()).collect::<Vec<_>>(),
            ["q"]
        );
        for key in store.keys() {
            let bytes = block_on(store.get(&key)).unwrap().unwrap();
            let text = String::from_utf8_lossy(&bytes);
            // p's messages say "text <number>"; q's says "text q1".
            let of_p = text
                .match_indices("\"text ")
                .any(|(at, m)| text[at + m.len()..].starts_with(|c: char| c.is_ascii_digit()));
            assert!(!of_p, "{key}: {text}");
            assert!(!text.contains("\"peer\":\"p\""), "{key}");
        }
        assert_eq!(block_on(h.page("q", 0)).unwrap().len(), 1);
        assert_eq!(
            block_on(h.delete_conversation("p")).unwrap_err(),
            HistoryError::NoConversation
        );
        // A new message starts the conversation afresh.
        block_on(h.append("p", msg("new", false, 9))).unwrap();
        let c = block_on(h.get("p")).unwrap().unwrap();
        assert_eq!((c.pages, c.messages, c.unread), (1, 1, 1));
        assert_eq!(block_on(h.page("p", 0)).unwrap()[0].id, "new");

        // A blocked contact's conversation is emptied, but the block stays.
        block_on(h.set_blocked("q", true)).unwrap();
        block_on(h.delete_conversation("q")).unwrap();
        let q = block_on(h.get("q")).unwrap().unwrap();
        assert!(q.blocked);
        assert_eq!((q.messages, q.pages, q.last_text.as_str()), (0, 0, ""));
        assert!(block_on(h.page("q", 0)).unwrap().is_empty());
    }

    #[test]
    fn search_finds_each_conversations_newest_match_on_its_page() {
        let h = History::new(MemoryStore::new());
        for i in 0..450u64 {
            block_on(h.append("a", msg(&i.to_string(), false, i))).unwrap();
        }
        block_on(h.append("b", msg("b0", false, 1_000))).unwrap();
        // "text 12" is in 12 and 120..129: the newest, 129, is on page 0.
        let found = block_on(h.search("TEXT 12")).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].peer.as_str(), found[0].page), ("a", 0));
        assert_eq!(found[0].message.id, "129");
        let found = block_on(h.search(" 44")).unwrap();
        assert_eq!((found[0].message.id.as_str(), found[0].page), ("449", 2));
        // Most recent conversation first; a conversation without a match is left out.
        let found = block_on(h.search("text")).unwrap();
        let peers: Vec<&str> = found.iter().map(|f| f.peer.as_str()).collect();
        assert_eq!(peers, ["b", "a"]);
        assert!(block_on(h.search("nowhere")).unwrap().is_empty());
        assert!(block_on(h.search("  ")).unwrap().is_empty());
    }

    #[test]
    fn a_damaged_index_is_an_error_and_is_not_overwritten() {
        let store = MemoryStore::new();
        block_on(store.put(INDEX, b"{not json".to_vec())).unwrap();
        let h = History::new(&store);
        assert_eq!(
            block_on(h.conversations()).unwrap_err(),
            HistoryError::Damaged
        );
        assert_eq!(
            block_on(h.append("p", msg("x", false, 1))).unwrap_err(),
            HistoryError::Damaged
        );
        assert_eq!(
            block_on(store.get(INDEX)).unwrap().as_deref(),
            Some(b"{not json".as_slice())
        );
    }
}
