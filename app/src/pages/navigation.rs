//! Which part of the messenger shows (the conversation list, a chat, the new-chat form or
//! settings) and the browser history entries that let Back, and a phone's back gesture, step
//! through them. On a wide screen the list stays beside the others; on a phone one part
//! shows at a time (the stylesheet reads `data-showing`).

use leptos::prelude::*;
use murmur_app::platform::page;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Showing {
    List,
    Chat,
    NewChat,
    Settings,
}

impl Showing {
    /// The name kept in the history entry and in `data-showing`.
    pub fn kind(self) -> &'static str {
        match self {
            Self::List => "list",
            Self::Chat => "chat",
            Self::NewChat => "new-chat",
            Self::Settings => "settings",
        }
    }

    fn from_kind(kind: &str) -> Self {
        [Self::Chat, Self::NewChat, Self::Settings]
            .into_iter()
            .find(|s| s.kind() == kind)
            .unwrap_or(Self::List)
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Navigation {
    pub showing: RwSignal<Showing>,
    /// The conversation being looked at: `None` unless a chat shows, so nothing is marked read
    /// or kept from notifying while settings or the list cover it.
    pub selected: RwSignal<Option<String>>,
    /// The chat to show when the chat screen comes back (Forward, or Back from settings).
    last_peer: StoredValue<Option<String>>,
    /// How many history entries the app added before the current one: Back leaves the app
    /// when this is 0, so the app's own Back buttons only go back through entries it added.
    depth: StoredValue<u32>,
}

impl Navigation {
    /// Starts at the list, following the browser's Back and Forward while the caller is mounted.
    pub fn new() -> Self {
        let nav = Self {
            showing: RwSignal::new(Showing::List),
            selected: RwSignal::new(None),
            last_peer: StoredValue::new(None),
            depth: StoredValue::new(0),
        };
        let listener = page::on_screen_change(move |state| {
            let state = state.unwrap_or_default();
            let (kind, depth) = state.split_once(' ').unwrap_or(("list", "0"));
            nav.depth.set_value(depth.parse().unwrap_or(0));
            nav.show(Showing::from_kind(kind));
        });
        on_cleanup(move || listener.remove());
        nav
    }

    /// Shows `next` in a new history entry; from the new-chat form, in its entry instead (a
    /// chat started there goes Back to the list, not to the form).
    pub fn go(self, next: Showing) {
        let now = self.showing.get_untracked();
        if now == next {
            return;
        }
        let mut depth = self.depth.get_value();
        if now == Showing::NewChat && depth > 0 {
            page::replace_screen(&format!("{} {depth}", next.kind()));
        } else {
            depth += 1;
            page::push_screen(&format!("{} {depth}", next.kind()));
        }
        self.depth.set_value(depth);
        self.show(next);
    }

    /// Opens the chat with `peer` (another chat is swapped in place, without a history entry).
    pub fn open_chat(self, peer: String) {
        self.last_peer.set_value(Some(peer.clone()));
        if self.showing.get_untracked() == Showing::Chat {
            self.selected.set(Some(peer));
        } else {
            self.go(Showing::Chat);
        }
    }

    /// The app's own Back: the browser's when the app added the entry, else the list.
    pub fn back(self) {
        if self.depth.get_value() > 0 {
            page::go_back();
        } else {
            self.show(Showing::List);
        }
    }

    /// Leaves the chat for good (it was deleted) for the list; no history entry brings it back.
    pub fn close_chat(self) {
        self.last_peer.set_value(None);
        self.show(Showing::List);
    }

    /// Opens `part`, or goes back from it when it shows (the top bar's Settings button).
    pub fn toggle(self, part: Showing) {
        if self.showing.get_untracked() == part {
            self.back();
        } else {
            self.go(part);
        }
    }

    fn show(self, next: Showing) {
        let peer = self.last_peer.get_value();
        let next = if next == Showing::Chat && peer.is_none() {
            Showing::List
        } else {
            next
        };
        self.showing.set(next);
        self.selected
            .set(if next == Showing::Chat { peer } else { None });
    }
}
