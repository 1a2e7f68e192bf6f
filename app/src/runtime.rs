//! The background work of a signed-in session while the messenger is shown: following the
//! inbox live (waiting retrieves, renewed as each returns; a 2 s poll where the swarm holds no
//! waits; a 15 s poll once the tab has been hidden [`HIDDEN_LIVE_MS`]), deleting disappearing
//! messages when they are due, notifying of new messages as the settings allow, and locking a
//! kept profile after the chosen idle time. Pages read its signals; nothing here draws
//! anything.
//!
//! Everything stops when the component that started it unmounts (lock, logout): a wait in
//! flight is dropped at once, not left to run out.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use futures_util::future::{Either, select};
use leptos::prelude::*;
use leptos::task::spawn_local;
use murmur_app::platform::notify;
use murmur_app::platform::page::tab_hidden;
use murmur_app::platform::web::BrowserClock;
use murmur_app::session::Session;
use murmur_app::settings::NotificationMode;
use murmur_core::client::ClientError;
use murmur_core::client::Clock as _;
use murmur_core::error::ManifestError;
use murmur_core::history::Conversation;
use murmur_core::messenger::MessengerError;

use crate::components::conversation_list::label;

const POLL_VISIBLE_MS: u64 = 2_000;
const POLL_HIDDEN_MS: u64 = 15_000;
/// A tab hidden this long stops waiting and polls every [`POLL_HIDDEN_MS`] (one hidden poll
/// interval: a quick look at another tab keeps delivery live).
pub const HIDDEN_LIVE_MS: u64 = POLL_HIDDEN_MS;
/// How often a held wait or a sleep checks whether to stop (session ended, tab shown or
/// hidden long enough).
const WATCH_MS: u64 = 250;
const AUTOLOCK_CHECK_MS: u64 = 5_000;
const DAY_MS: u64 = 24 * 3600 * 1000;

/// What the messenger shows of the background work.
#[derive(Debug, Clone, Copy)]
pub struct Runtime {
    /// Bumped whenever the history changed (messages arrived or expired, the user acted).
    pub version: RwSignal<u64>,
    /// How the inbox is being followed (the header shows it).
    pub link: RwSignal<Link>,
    /// Days the user was away, when longer than the network keeps messages (dismissable).
    pub away_days: RwSignal<Option<u64>>,
    /// What is wrong with the network's manifest: stale (a warning) or expired (refused).
    pub network_problem: RwSignal<Option<String>>,
}

/// How the inbox is followed now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// The first poll has not answered yet.
    Connecting,
    /// A swarm member holds a wait: messages show as they are stored.
    Live,
    /// Polling: the tab is hidden, or the swarm holds no waits.
    Polling,
    /// The last step did not reach the network; trying again.
    Reconnecting,
}

impl Link {
    /// What the header says.
    pub fn label(self) -> &'static str {
        match self {
            Self::Connecting => "connecting…",
            Self::Live => "live",
            Self::Polling => "polling",
            Self::Reconnecting => "reconnecting…",
        }
    }
}

impl Runtime {
    /// Tells every reader of [`Self::version`] that the history changed.
    pub fn bump(self) {
        self.version.update(|v| *v += 1);
    }
}

/// What the messenger's screen holds that the background work reads: the conversation list
/// as last shown and the open conversation (no notification for the one being looked at).
#[derive(Debug, Clone, Copy)]
pub struct Shown {
    pub conversations: RwSignal<Vec<Conversation>>,
    pub selected: RwSignal<Option<String>>,
}

/// Starts the background work for `session`, for as long as the calling component is mounted;
/// `on_lock` runs when a kept profile has been idle for the chosen time.
pub fn start(
    session: StoredValue<Rc<Session>, LocalStorage>,
    shown: Shown,
    on_lock: Callback<()>,
) -> Runtime {
    let runtime = Runtime {
        version: RwSignal::new(0),
        link: RwSignal::new(Link::Connecting),
        away_days: RwSignal::new(None),
        network_problem: RwSignal::new(None),
    };
    let alive = Arc::new(AtomicBool::new(true));
    {
        let alive = alive.clone();
        on_cleanup(move || alive.store(false, Ordering::Relaxed));
    }
    spawn_local(poll_loop(session, shown, runtime, alive.clone()));
    if session.with_value(|s| s.is_kept()) {
        autolock(session, on_lock, alive);
    }
    runtime
}

/// How long the tab has been hidden, by the loop's own observations (`since` holds when it
/// was first seen hidden).
fn hidden_for(since: &Cell<Option<u64>>) -> u64 {
    let now = BrowserClock.now_ms();
    if tab_hidden() {
        let first_seen = since.get().unwrap_or(now);
        since.set(Some(first_seen));
        now.saturating_sub(first_seen)
    } else {
        since.set(None);
        0
    }
}

/// Resolves once `stop` says so, checking every [`WATCH_MS`].
async fn until(stop: impl Fn() -> bool) {
    while !stop() {
        BrowserClock.sleep(WATCH_MS).await;
    }
}

async fn poll_loop(
    session: StoredValue<Rc<Session>, LocalStorage>,
    shown: Shown,
    runtime: Runtime,
    alive: Arc<AtomicBool>,
) {
    // Before the first poll records a new time: was the user away longer than the TTL?
    if let Ok(Some(away)) = session.get_value().messenger.away_longer_than_ttl().await {
        runtime.away_days.set(Some(away / DAY_MS));
    }
    let hidden_since = Cell::new(None);
    let ended = || !alive.load(Ordering::Relaxed);
    // A full poll first (two members, merged), then live steps.
    let mut first = true;
    while !ended() {
        let s = session.get_value();
        let live = !first && hidden_for(&hidden_since) < HIDDEN_LIVE_MS;
        if live && runtime.link.get_untracked() != Link::Reconnecting {
            // A wait is being held (if the swarm holds none, the step says so at once).
            runtime.link.set(Link::Live);
        }
        // A held wait stops at once when the session ends or the tab has been hidden long
        // enough; the node lets it go at its bound.
        let step = Box::pin(s.messenger.follow(live));
        let stop = Box::pin(until(|| {
            ended() || (live && hidden_for(&hidden_since) >= HIDDEN_LIVE_MS)
        }));
        let followed = match select(step, stop).await {
            Either::Left((followed, _)) => followed,
            Either::Right(_) => continue,
        };
        runtime.network_problem.set(match &followed {
            Err(MessengerError::Client(
                e @ ClientError::Manifest(ManifestError::Expired { .. }),
            )) => Some(e.to_string()),
            _ => s.messenger.client.manifest_warning(),
        });
        let waited = matches!(followed, Ok((_, true)));
        let reached = followed.is_ok();
        runtime.link.set(match &followed {
            Ok((_, true)) => Link::Live,
            Ok(_) => Link::Polling,
            Err(_) => Link::Reconnecting,
        });
        if let Ok((changed, _)) = followed
            && !changed.is_empty()
        {
            // As soon as the message lands, before anything else is redrawn.
            notify_new(
                &s,
                &changed,
                shown.conversations.get_untracked(),
                shown.selected.get_untracked(),
            )
            .await;
            runtime.bump();
            // The redraw (queued by the bump) goes first; the next wait's onion is built after.
            BrowserClock.sleep(0).await;
        }
        // Disappearing messages go by a time enough nodes agree on, never one node's word.
        if let Some(now) = s.messenger.client.agreed_now_ms()
            && s.messenger.history.expire(now).await.unwrap_or(0) > 0
        {
            runtime.bump();
        }
        let was_first = std::mem::replace(&mut first, false);
        if waited || (was_first && reached) {
            continue;
        }
        // A poll: wait its interval, but go on at once when a hidden tab is shown again.
        let hidden = tab_hidden();
        let pause = if hidden {
            POLL_HIDDEN_MS
        } else {
            POLL_VISIBLE_MS
        };
        let started = BrowserClock.now_ms();
        drop(s);
        until(|| {
            ended()
                || (hidden && !tab_hidden())
                || BrowserClock.now_ms().saturating_sub(started) >= pause
        })
        .await;
    }
}

/// Locks after the chosen idle time; activity is a key press or a pointer press.
fn autolock(
    session: StoredValue<Rc<Session>, LocalStorage>,
    on_lock: Callback<()>,
    alive: Arc<AtomicBool>,
) {
    let last_active = Arc::new(AtomicU64::new(BrowserClock.now_ms()));
    for event in ["keydown", "pointerdown"] {
        let last_active = last_active.clone();
        let handle = window_event_listener_untyped(event, move |_| {
            last_active.store(BrowserClock.now_ms(), Ordering::Relaxed);
        });
        on_cleanup(move || handle.remove());
    }
    spawn_local(async move {
        while alive.load(Ordering::Relaxed) {
            let s = session.get_value();
            s.messenger.client.clock().sleep(AUTOLOCK_CHECK_MS).await;
            if let Some(minutes) = s.settings().autolock_minutes {
                let idle = BrowserClock
                    .now_ms()
                    .saturating_sub(last_active.load(Ordering::Relaxed));
                if alive.load(Ordering::Relaxed) && idle >= u64::from(minutes) * 60_000 {
                    on_lock.run(());
                    return;
                }
            }
        }
    });
}

/// Notifies of new incoming messages in `changed` conversations, unless they are muted or the
/// user is looking at that conversation in a visible tab. `before` is the list as it was
/// before the poll.
async fn notify_new(
    s: &Session,
    changed: &[String],
    before: Vec<Conversation>,
    open: Option<String>,
) {
    let mode = s.settings().notifications;
    if mode == NotificationMode::Off || !notify::permitted() {
        return;
    }
    let Ok(now) = s.messenger.history.conversations().await else {
        return;
    };
    let hidden = tab_hidden();
    for conv in now.iter().filter(|c| changed.contains(&c.peer)) {
        let unread_before = before
            .iter()
            .find(|b| b.peer == conv.peer)
            .map_or(0, |b| b.unread);
        let looking = !hidden && open.as_deref() == Some(conv.peer.as_str());
        if conv.unread > unread_before && !looking && !conv.muted {
            notify::new_message(mode, &conv.peer, &label(conv), &conv.last_text);
        }
    }
}
