//! The messenger: conversations on the side, the open conversation with its composer, and a
//! settings panel. While this page is mounted it polls (every 2 s while the tab is visible,
//! every 15 s when hidden), deletes disappearing messages when due, notifies of new messages
//! as the settings allow, and locks a kept profile after the chosen idle time.

use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use leptos::prelude::*;
use leptos::task::spawn_local;
use murmur_app::platform::web::BrowserClock;
use murmur_app::session::Session;
use murmur_core::SessionId;
use murmur_core::client::{Clock as _, MAX_TEXT_BYTES, parse_recipient};
use murmur_core::history::{Conversation, MessageRecord};

use crate::components::conversation_header::{ConversationHeader, HeaderChange};
use crate::components::conversation_list::{ConversationList, label};
use crate::components::message_list::{MessageList, PageWindow};
use crate::pages::settings::SettingsPanel;
use murmur_app::platform::notify;
use murmur_app::platform::page::tab_hidden;

const POLL_VISIBLE_MS: u64 = 2_000;
const POLL_HIDDEN_MS: u64 = 15_000;
const AUTOLOCK_CHECK_MS: u64 = 5_000;

fn days(ms: u64) -> u64 {
    ms / (24 * 3600 * 1000)
}

#[component]
pub fn ChatPage(
    session: Rc<Session>,
    on_logout: Callback<()>,
    on_lock: Callback<()>,
) -> impl IntoView {
    let kept = session.is_kept();
    let session = StoredValue::new_local(session);
    let version = RwSignal::new(0u64);
    let conversations = RwSignal::new(Vec::<Conversation>::new());
    let selected = RwSignal::new(None::<String>);
    let messages = RwSignal::new(Vec::<MessageRecord>::new());
    let window = RwSignal::new(PageWindow {
        first: None,
        pages: 0,
    });
    let network_ok = RwSignal::new(true);
    let away_days = RwSignal::new(None::<u64>);
    let show_settings = RwSignal::new(false);
    let bump = move || version.update(|v| *v += 1);

    // Poll while mounted.
    let alive = Arc::new(AtomicBool::new(true));
    {
        let alive = alive.clone();
        spawn_local(async move {
            // Before the first poll records a new time: was the user away longer than the TTL?
            if let Ok(Some(away)) = session.get_value().messenger.away_longer_than_ttl().await {
                away_days.set(Some(days(away)));
            }
            while alive.load(Ordering::Relaxed) {
                let s = session.get_value();
                match s.messenger.poll().await {
                    Ok(changed) => {
                        network_ok.set(true);
                        if !changed.is_empty() {
                            notify_new(
                                &s,
                                &changed,
                                conversations.get_untracked(),
                                selected.get_untracked(),
                            )
                            .await;
                            bump();
                        }
                    }
                    Err(_) => network_ok.set(false),
                }
                let now = s.messenger.client.network_now_ms();
                if s.messenger.history.expire(now).await.unwrap_or(0) > 0 {
                    bump();
                }
                let wait = if tab_hidden() {
                    POLL_HIDDEN_MS
                } else {
                    POLL_VISIBLE_MS
                };
                s.messenger.client.clock().sleep(wait).await;
            }
        });
    }
    {
        let alive = alive.clone();
        on_cleanup(move || alive.store(false, Ordering::Relaxed));
    }

    // Opening another conversation shows its newest messages.
    Effect::new(move |_| {
        selected.track();
        window.update(|w| w.first = None);
    });

    // Reload the list and the open conversation whenever something changed.
    Effect::new(move |_| {
        version.get();
        let peer = selected.get();
        let first = window.get().first;
        spawn_local(async move {
            let s = session.get_value();
            let history = &s.messenger.history;
            let Ok(list) = history.conversations().await else {
                return;
            };
            // The open conversation comes from the list just read: one index read, not two.
            let conv = peer
                .as_ref()
                .and_then(|p| list.iter().find(|c| &c.peer == p).cloned());
            conversations.set(list);
            let (Some(peer), Some(conv)) = (peer, conv) else {
                messages.set(Vec::new());
                return;
            };
            let shown_window = PageWindow {
                first,
                pages: conv.pages,
            };
            let mut shown = Vec::new();
            for page in shown_window.range() {
                shown.extend(history.page(&peer, page).await.unwrap_or_default());
            }
            if window.get_untracked() != shown_window {
                window.set(shown_window);
            }
            messages.set(shown);
            if conv.unread > 0
                && history.mark_read(&peer).await.is_ok()
                && let Ok(list) = history.conversations().await
            {
                conversations.set(list);
            }
        });
    });

    // New chat: a Session ID checked as it is typed.
    let new_peer = RwSignal::new(String::new());
    let new_peer_problem = Memo::new(move |_| {
        let text = new_peer.get();
        if text.trim().is_empty() {
            None
        } else {
            parse_recipient(&text).err().map(|e| e.to_string())
        }
    });
    let start_chat = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Ok(id) = parse_recipient(&new_peer.get()) {
            let peer = id.to_string();
            spawn_local(async move {
                let _ = session.get_value().messenger.history.open(&peer).await;
                new_peer.set(String::new());
                selected.set(Some(peer));
                bump();
            });
        }
    };

    // Sending.
    let draft = RwSignal::new(String::new());
    // Checked as it is typed: a text past the limit is never sent (the network would refuse
    // it) and stays in the composer to be shortened.
    let too_long = Memo::new(move |_| draft.with(|d| d.len() > MAX_TEXT_BYTES));
    let send = move || {
        let text = draft.get();
        let Some(peer) = selected.get() else { return };
        if text.trim().is_empty() || too_long.get() {
            return;
        }
        let Ok(to) = peer.parse::<SessionId>() else {
            return;
        };
        draft.set(String::new());
        window.update(|w| w.first = None);
        spawn_local(async move {
            let s = session.get_value();
            let Ok(queued) = s.messenger.queue(&to, &text).await else {
                return;
            };
            // The message shows as "Sending" as soon as it is in the history.
            bump();
            let _ = s.messenger.deliver_queued(queued).await;
            bump();
        });
    };
    let retry = Callback::new(move |(id, text): (String, String)| {
        let Some(peer) = selected.get() else { return };
        let Ok(to) = peer.parse::<SessionId>() else {
            return;
        };
        spawn_local(async move {
            let _ = session.get_value().messenger.retry(&to, &id, &text).await;
            bump();
        });
    });

    let header_change = Callback::new(move |change: HeaderChange| {
        let Some(peer) = selected.get() else { return };
        spawn_local(async move {
            let s = session.get_value();
            let history = &s.messenger.history;
            let _ = match change {
                HeaderChange::Rename(name) => history.rename(&peer, name).await,
                HeaderChange::Timer(seconds) => history.set_timer(&peer, seconds).await,
                HeaderChange::Blocked(blocked) => history.set_blocked(&peer, blocked).await,
            };
            bump();
        });
    });

    // Auto-lock: a kept profile locks after the chosen idle time (activity = key or pointer).
    if kept {
        let last_active = Arc::new(AtomicU64::new(BrowserClock.now_ms()));
        for event in ["keydown", "pointerdown"] {
            let last_active = last_active.clone();
            let handle = window_event_listener_untyped(event, move |_| {
                last_active.store(BrowserClock.now_ms(), Ordering::Relaxed);
            });
            on_cleanup(move || handle.remove());
        }
        let alive = alive.clone();
        spawn_local(async move {
            while alive.load(Ordering::Relaxed) {
                let s = session.get_value();
                s.messenger.client.clock().sleep(AUTOLOCK_CHECK_MS).await;
                if let Some(minutes) = s.settings().autolock_minutes {
                    let idle =
                        (BrowserClock.now_ms()).saturating_sub(last_active.load(Ordering::Relaxed));
                    if alive.load(Ordering::Relaxed) && idle >= u64::from(minutes) * 60_000 {
                        on_lock.run(());
                        return;
                    }
                }
            }
        });
    }

    // What the header and composer show, as memos: a new message must not rebuild them (the
    // rename field or the composer would lose what is being typed, and the focus).
    let header = Memo::new(move |_| {
        let peer = selected.get()?;
        let c = conversations.with(|list| list.iter().find(|c| c.peer == peer).cloned())?;
        Some(Conversation {
            last_text: String::new(),
            last_ms: 0,
            unread: 0,
            pages: 0,
            messages: 0,
            next_expiry_ms: None,
            ..c
        })
    });
    let composer_state = Memo::new(move |_| header.with(|h| h.as_ref().map(|c| c.blocked)));

    view! {
        <div class="messenger">
            <header class="topbar">
                <strong>"Murmur"</strong>
                <button class="secondary small" on:click=move |_| show_settings.set(!show_settings.get())
                    aria-expanded=move || show_settings.get().to_string()>
                    "Settings"
                </button>
            </header>
            {(!kept).then(|| view! {
                <p class="banner" role="status">
                    "Temporary session: nothing is saved on this device. Logging out or closing the tab erases it all."
                </p>
            })}
            {move || (!network_ok.get()).then(|| view! {
                <p class="banner warn" role="alert">"The network cannot be reached. Messages will be sent when it is back."</p>
            })}
            {move || away_days.get().map(|d| view! {
                <p class="banner warn" role="alert">
                    {format!("You were away for {d} days. The network keeps messages for 14 days, so some sent to you meanwhile may have expired unread.")}
                    " "
                    <button class="link" on:click=move |_| away_days.set(None)>"Dismiss"</button>
                </p>
            })}
            {move || show_settings.get().then(|| view! { <SettingsPanel session on_logout /> })}
            <div class="panes">
                <nav class="sidebar" aria-label="Conversations">
                    <form class="new-chat" on:submit=start_chat>
                        <label for="new-peer">"New chat"</label>
                        <input id="new-peer" placeholder="Paste a Session ID (05…)" autocomplete="off"
                            spellcheck="false" aria-describedby="new-peer-status"
                            prop:value=move || new_peer.get()
                            on:input=move |ev| new_peer.set(event_target_value(&ev)) />
                        <p id="new-peer-status" class="error" aria-live="polite">{move || new_peer_problem.get()}</p>
                        <button type="submit" class="primary small"
                            disabled=move || new_peer.get().trim().is_empty() || new_peer_problem.get().is_some()>
                            "Start chat"
                        </button>
                    </form>
                    <ConversationList conversations selected />
                </nav>
                <section class="conversation-view" aria-label="Conversation">
                    {move || match header.get() {
                        None => view! { <p class="muted empty">"Choose a conversation, or start one with a Session ID."</p> }.into_any(),
                        Some(conv) => view! { <ConversationHeader conv on_change=header_change /> }.into_any(),
                    }}
                    <MessageList messages window on_retry=retry />
                    {move || composer_state.get().map(|blocked| if blocked {
                        view! { <p class="banner" role="status">"You blocked this contact. Unblock to send and receive messages."</p> }.into_any()
                    } else {
                        view! {
                            <form class="composer" on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); send(); }>
                                <label for="composer" class="visually-hidden">"Message"</label>
                                <textarea id="composer" rows="2" placeholder="Message"
                                    prop:value=move || draft.get()
                                    on:input=move |ev| draft.set(event_target_value(&ev))
                                    on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                                        if ev.key() == "Enter" && !ev.shift_key() {
                                            ev.prevent_default();
                                            send();
                                        }
                                    }></textarea>
                                <button type="submit" class="primary" prop:disabled=move || too_long.get()>"Send"</button>
                                {move || too_long.get().then(|| view! {
                                    <p class="error" role="alert">{format!("This message is too long to send: at most {} KB of text.", MAX_TEXT_BYTES / 1000)}</p>
                                })}
                            </form>
                        }.into_any()
                    })}
                </section>
            </div>
        </div>
    }
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
    if mode == murmur_app::settings::NotificationMode::Off || !notify::permitted() {
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
