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

use crate::components::session_id::ShareSessionId;

const POLL_VISIBLE_MS: u64 = 2_000;
const POLL_HIDDEN_MS: u64 = 15_000;

/// Disappearing-message choices: label and seconds.
const TIMERS: [(&str, Option<u32>); 6] = [
    ("Off", None),
    ("5 minutes", Some(300)),
    ("1 hour", Some(3_600)),
    ("1 day", Some(86_400)),
    ("1 week", Some(604_800)),
    ("2 weeks", Some(1_209_600)),
];

fn short_id(id: &str) -> String {
    format!(
        "{}…{}",
        &id[..8.min(id.len())],
        &id[id.len().saturating_sub(4)..]
    )
}

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
pub fn ChatPage(session: Rc<Session>, on_logout: Callback<()>) -> impl IntoView {
    let own_id = session.messenger.client.identity().session_id().to_string();
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
    on_cleanup(move || alive.store(false, Ordering::Relaxed));

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

    let path = RwSignal::new(Vec::<(String, String)>::new());
    let open_settings = move |_| {
        show_settings.set(!show_settings.get());
        spawn_local(async move {
            if let Ok(p) = session.get_value().messenger.client.current_path().await {
                path.set(
                    p.hops
                        .iter()
                        .map(|h| (short_id(&h.ed25519), h.url.clone()))
                        .collect(),
                );
            }
        });
    };
    let confirm_logout = RwSignal::new(false);

    let selected_conv = move || {
        let peer = selected.get()?;
        conversations.get().into_iter().find(|c| c.peer == peer)
    };

    view! {
        <div class="messenger">
            <header class="topbar">
                <strong>"Murmur"</strong>
                <button class="secondary small" on:click=open_settings aria-expanded=move || show_settings.get().to_string()>
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
            {move || show_settings.get().then(|| view! {
                <section class="panel" aria-label="Settings">
                    <h2>"Your Session ID"</h2>
                    <ShareSessionId session_id=own_id.clone() />
                    <h2>"Onion path"</h2>
                    <ol class="path" aria-label="Current onion path">
                        {move || path.get().into_iter().enumerate().map(|(i, (id, url))| view! {
                            <li>
                                <span class="hop-role">{if i == 0 { "Guard" } else { "Relay" }}</span>
                                <code>{id}</code>
                                <span class="muted">{url}</span>
                            </li>
                        }).collect_view()}
                        <li><span class="hop-role">"Swarm"</span><span class="muted">"destination"</span></li>
                    </ol>
                    <h2>"Log out"</h2>
                    {move || if confirm_logout.get() {
                        view! {
                            <p>"Logging out erases this account and its history from this browser."</p>
                            <div class="actions">
                                <button class="secondary" on:click=move |_| confirm_logout.set(false)>"Cancel"</button>
                                <button class="danger" on:click=move |_| on_logout.run(())>"Log out and erase"</button>
                            </div>
                        }.into_any()
                    } else {
                        view! { <button class="danger" on:click=move |_| confirm_logout.set(true)>"Log out"</button> }.into_any()
                    }}
                </section>
            })}
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
