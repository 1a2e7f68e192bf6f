//! The messenger: conversations on the side, the open conversation with its composer, and a
//! settings panel. Polling runs while this page is mounted: every 2 s while the tab is
//! visible, every 15 s when hidden.

use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use leptos::prelude::*;
use leptos::task::spawn_local;
use murmur_app::session::Session;
use murmur_core::SessionId;
use murmur_core::client::{Clock as _, parse_recipient};
use murmur_core::history::{Conversation, Delivery, MessageRecord};

use crate::components::short_id;
use crate::pages::settings::SettingsPanel;

const POLL_VISIBLE_MS: u64 = 2_000;
const POLL_HIDDEN_MS: u64 = 15_000;
const AUTOLOCK_CHECK_MS: u64 = 5_000;

/// Disappearing-message choices: label and seconds.
const TIMERS: [(&str, Option<u32>); 6] = [
    ("Off", None),
    ("5 minutes", Some(300)),
    ("1 hour", Some(3_600)),
    ("1 day", Some(86_400)),
    ("1 week", Some(604_800)),
    ("2 weeks", Some(1_209_600)),
];

fn day_of(ms: u64) -> String {
    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64))
        .to_date_string()
        .into()
}

fn time_of(ms: u64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    format!("{:02}:{:02}", d.get_hours(), d.get_minutes())
}

fn tab_hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.hidden())
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
    let network_ok = RwSignal::new(true);
    let show_settings = RwSignal::new(false);
    let bump = move || version.update(|v| *v += 1);

    // Poll while mounted.
    let alive = Arc::new(AtomicBool::new(true));
    {
        let alive = alive.clone();
        spawn_local(async move {
            while alive.load(Ordering::Relaxed) {
                let s = session.get_value();
                match s.messenger.poll().await {
                    Ok(changed) => {
                        network_ok.set(true);
                        if !changed.is_empty() {
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

    // Reload the list and the open conversation whenever something changed.
    Effect::new(move |_| {
        version.get();
        let peer = selected.get();
        spawn_local(async move {
            let s = session.get_value();
            let history = &s.messenger.history;
            if let Ok(list) = history.conversations().await {
                conversations.set(list);
            }
            let Some(peer) = peer else {
                messages.set(Vec::new());
                return;
            };
            let Ok(conv) = history.open(&peer).await else {
                return;
            };
            // The last two pages: up to 400 messages rendered, older ones stay on disk.
            let mut shown = Vec::new();
            for page in conv.pages.saturating_sub(2)..conv.pages {
                shown.extend(history.page(&peer, page).await.unwrap_or_default());
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
    let send = move || {
        let text = draft.get();
        let Some(peer) = selected.get() else { return };
        if text.trim().is_empty() {
            return;
        }
        let Ok(to) = peer.parse::<SessionId>() else {
            return;
        };
        draft.set(String::new());
        spawn_local(async move {
            let s = session.get_value();
            let sending = s.messenger.send(&to, &text);
            // The message shows as "Sending" as soon as it is in the history.
            bump();
            let _ = sending.await;
            bump();
        });
    };
    let retry = move |id: String, text: String| {
        let Some(peer) = selected.get() else { return };
        let Ok(to) = peer.parse::<SessionId>() else {
            return;
        };
        spawn_local(async move {
            let _ = session.get_value().messenger.retry(&to, &id, &text).await;
            bump();
        });
    };

    let set_timer = move |value: String| {
        let Some(peer) = selected.get() else { return };
        let seconds = value.parse::<u32>().ok();
        spawn_local(async move {
            let _ = session
                .get_value()
                .messenger
                .history
                .set_timer(&peer, seconds)
                .await;
            bump();
        });
    };

    // Auto-lock: a kept profile locks after the chosen idle time (activity = key or pointer).
    if kept {
        let last_active = Arc::new(std::sync::atomic::AtomicU64::new(js_sys::Date::now() as u64));
        for event in ["keydown", "pointerdown"] {
            let last_active = last_active.clone();
            let handle = window_event_listener_untyped(event, move |_| {
                last_active.store(js_sys::Date::now() as u64, Ordering::Relaxed);
            });
            on_cleanup(move || handle.remove());
        }
        let alive = alive.clone();
        spawn_local(async move {
            while alive.load(Ordering::Relaxed) {
                let s = session.get_value();
                s.messenger.client.clock().sleep(AUTOLOCK_CHECK_MS).await;
                if let Some(minutes) = s.autolock_minutes().await {
                    let idle = (js_sys::Date::now() as u64)
                        .saturating_sub(last_active.load(Ordering::Relaxed));
                    if alive.load(Ordering::Relaxed) && idle >= u64::from(minutes) * 60_000 {
                        on_lock.run(());
                        return;
                    }
                }
            }
        });
    }

    let selected_conv = move || {
        let peer = selected.get()?;
        conversations.get().into_iter().find(|c| c.peer == peer)
    };

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
                    <ul class="conversations">
                        <For each=move || conversations.get() key=|c| (c.peer.clone(), c.last_ms, c.unread, c.name.clone()) let:c>
                            {
                                let peer = c.peer.clone();
                                let peer_for_click = peer.clone();
                                let label = c.name.clone().unwrap_or_else(|| short_id(&c.peer));
                                view! {
                                    <li>
                                        <button class="conversation"
                                            class:active=move || selected.get().as_deref() == Some(peer.as_str())
                                            on:click=move |_| selected.set(Some(peer_for_click.clone()))>
                                            <span class="name">{label}</span>
                                            <span class="last">{c.last_text.clone()}</span>
                                            {(c.unread > 0).then(|| view! {
                                                <span class="unread" aria-label=format!("{} unread", c.unread)>{c.unread}</span>
                                            })}
                                        </button>
                                    </li>
                                }
                            }
                        </For>
                    </ul>
                </nav>
                <section class="conversation-view" aria-label="Conversation">
                    {move || match selected_conv() {
                        None => view! { <p class="muted empty">"Choose a conversation, or start one with a Session ID."</p> }.into_any(),
                        Some(conv) => {
                            let timer_value = conv.disappear_after_s.map(|s| s.to_string()).unwrap_or_default();
                            view! {
                                <header class="conversation-header">
                                    <code data-testid="peer-id">{conv.peer.clone()}</code>
                                    <label>
                                        "Disappearing messages "
                                        <select on:change=move |ev| set_timer(event_target_value(&ev))>
                                            {TIMERS.iter().map(|(label, secs)| {
                                                let v = secs.map(|s| s.to_string()).unwrap_or_default();
                                                let is = v == timer_value;
                                                view! { <option value=v selected=is>{*label}</option> }
                                            }).collect_view()}
                                        </select>
                                    </label>
                                </header>
                            }.into_any()
                        }
                    }}
                    <ol class="messages" aria-live="polite">
                        {move || {
                            let mut last_day = String::new();
                            messages.get().into_iter().map(|m| {
                                let day = day_of(m.sent_ms);
                                let separator = (day != last_day).then(|| view! { <li class="day">{day.clone()}</li> });
                                last_day = day;
                                let (id, text) = (m.id.clone(), m.text.clone());
                                let state = match m.delivery {
                                    Delivery::Sending => Some("Sending…"),
                                    Delivery::Sent => Some("Sent"),
                                    Delivery::Failed => Some("Failed"),
                                    Delivery::Received => None,
                                };
                                view! {
                                    {separator}
                                    <li class="message" class:out=m.outgoing class:in=!m.outgoing>
                                        <p class="text">{m.text.clone()}</p>
                                        <span class="meta">
                                            {time_of(m.sent_ms)}
                                            {state.map(|s| view! { " · " {s} })}
                                            {(m.delivery == Delivery::Failed).then(|| view! {
                                                " "
                                                <button class="link" on:click=move |_| retry(id.clone(), text.clone())>"Retry"</button>
                                            })}
                                        </span>
                                    </li>
                                }
                            }).collect_view()
                        }}
                    </ol>
                    {move || selected.get().is_some().then(|| view! {
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
                            <button type="submit" class="primary">"Send"</button>
                        </form>
                    })}
                </section>
            </div>
        </div>
    }
}
