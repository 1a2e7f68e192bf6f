//! The background work of a signed-in session while the messenger is shown: polling (every 2 s
//! while the tab is visible, every 15 s when hidden), deleting disappearing messages when they
//! are due, notifying of new messages as the settings allow, and locking a kept profile after
//! the chosen idle time. Pages read its signals; nothing here draws anything.
//!
//! Everything stops when the component that started it unmounts (lock, logout).

use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

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
const AUTOLOCK_CHECK_MS: u64 = 5_000;
const DAY_MS: u64 = 24 * 3600 * 1000;

/// What the messenger shows of the background work.
#[derive(Debug, Clone, Copy)]
pub struct Runtime {
    /// Bumped whenever the history changed (messages arrived or expired, the user acted).
    pub version: RwSignal<u64>,
    /// Whether the last poll reached the network.
    pub network_ok: RwSignal<bool>,
    /// Days the user was away, when longer than the network keeps messages (dismissable).
    pub away_days: RwSignal<Option<u64>>,
    /// What is wrong with the network's manifest: stale (a warning) or expired (refused).
    pub network_problem: RwSignal<Option<String>>,
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
        network_ok: RwSignal::new(true),
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
    while alive.load(Ordering::Relaxed) {
        let s = session.get_value();
        let polled = s.messenger.poll().await;
        runtime.network_problem.set(match &polled {
            Err(MessengerError::Client(
                e @ ClientError::Manifest(ManifestError::Expired { .. }),
            )) => Some(e.to_string()),
            _ => s.messenger.client.manifest_warning(),
        });
        match polled {
            Ok(changed) => {
                runtime.network_ok.set(true);
                if !changed.is_empty() {
                    notify_new(
                        &s,
                        &changed,
                        shown.conversations.get_untracked(),
                        shown.selected.get_untracked(),
                    )
                    .await;
                    runtime.bump();
                }
            }
            Err(_) => runtime.network_ok.set(false),
        }
        // Disappearing messages go by a time enough nodes agree on, never one node's word.
        if let Some(now) = s.messenger.client.agreed_now_ms()
            && s.messenger.history.expire(now).await.unwrap_or(0) > 0
        {
            runtime.bump();
        }
        let wait = if tab_hidden() {
            POLL_HIDDEN_MS
        } else {
            POLL_VISIBLE_MS
        };
        s.messenger.client.clock().sleep(wait).await;
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

/// Notifies of new incoming messages in `changed` conversations, unless the user is looking
/// at that conversation in a visible tab. `before` is the list as it was before the poll.
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
        if conv.unread > unread_before && !looking {
            notify::new_message(mode, &label(conv), &conv.last_text);
        }
    }
}
