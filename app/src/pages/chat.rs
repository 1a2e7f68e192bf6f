//! The messenger: conversations on the side; beside them (or, on a phone, instead of them) the
//! open conversation with its composer, the new-chat form or settings (`navigation`). While
//! this page is mounted the session's background work runs (`crate::runtime`: polling,
//! expiry, notifications, auto-lock).

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use murmur_app::session::Session;
use murmur_core::SessionId;
use murmur_core::client::ClientError;
use murmur_core::history::{Conversation, Delivery, Found, MessageRecord};
use murmur_core::messenger::MessengerError;

use crate::components::composer::Composer;
use crate::components::conversation_header::{ConversationHeader, HeaderChange};
use crate::components::conversation_list::ConversationList;
use crate::components::message_list::{MessageList, PageWindow};
use crate::components::new_chat::NewChatForm;
use crate::pages::navigation::{Navigation, Showing};
use crate::pages::settings::SettingsPanel;
use crate::runtime::{self, Link, Shown};
use murmur_app::platform::page::{local_day, local_hh_mm};
use murmur_app::platform::{copy_to_clipboard, notify, page};

#[component]
pub fn ChatPage(
    session: Rc<Session>,
    on_logout: Callback<()>,
    on_lock: Callback<()>,
) -> impl IntoView {
    let kept = session.is_kept();
    page::set_theme(session.settings().theme.attribute());
    let session = StoredValue::new_local(session);
    let conversations = RwSignal::new(Vec::<Conversation>::new());
    let nav = Navigation::new();
    let (showing, selected) = (nav.showing, nav.selected);
    let messages = RwSignal::new(Vec::<MessageRecord>::new());
    let window = RwSignal::new(PageWindow {
        first: None,
        pages: 0,
    });
    // The first message that was unread when the conversation was opened ("New messages"),
    // found by the first read after opening (`fresh`): what arrives while it is open is read.
    let first_unread = RwSignal::new(None::<String>);
    let fresh = StoredValue::new(false);
    // Why the last send failed, when it is something the user can act on.
    let send_problem = RwSignal::new(None::<&'static str>);
    let shown = Shown {
        conversations,
        selected,
    };
    let rt = runtime::start(session, shown, on_lock);
    let (version, link, away_days) = (rt.version, rt.link, rt.away_days);
    let network_problem = rt.network_problem;
    let operator_changed = session.with_value(|s| s.operator_changed.is_some());
    let bump = move || rt.bump();
    // The tab's title counts what is unread, as other messengers' do (set with each list read),
    // leaving out muted conversations.
    let show_list = move |list: Vec<Conversation>| {
        let unread: u32 = list
            .iter()
            .filter(|c| !c.blocked && !c.muted)
            .map(|c| c.unread)
            .sum();
        page::set_title(&if unread > 0 {
            format!("({unread}) Murmur")
        } else {
            "Murmur".into()
        });
        conversations.set(list);
    };
    on_cleanup(|| page::set_title("Murmur"));

    // A search's results, shown in place of the list while there are any, and the page of
    // the match in each result's conversation.
    let found = RwSignal::new(None::<Vec<Conversation>>);
    let found_at = StoredValue::new(Vec::<Found>::new());
    // "No messages found.", or why the search failed.
    let search_note = RwSignal::new(None::<String>);
    // The page to open the next conversation at (a search result's); else its newest.
    let jump = StoredValue::new(None::<u32>);

    // Opening another conversation shows its newest messages.
    Effect::new(move |_| {
        selected.track();
        window.update(|w| w.first = jump.try_update_value(Option::take).flatten());
        first_unread.set(None);
        fresh.set_value(true);
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
            show_list(list);
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
            // The separator goes above the oldest unread message, where it stays while the
            // conversation is open.
            let current = selected.get_untracked().as_ref() == Some(&peer);
            if current && fresh.get_value() && conv.unread > 0 {
                let oldest = shown
                    .iter()
                    .rev()
                    .filter(|m| !m.outgoing)
                    .nth(conv.unread as usize - 1);
                first_unread.set(oldest.map(|m| m.id.clone()));
            }
            if current {
                fresh.set_value(false);
            }
            messages.set(shown);
            // Marked read in a task of its own, queued behind the redraw `set` just asked for.
            if conv.unread > 0 {
                spawn_local(async move {
                    let s = session.get_value();
                    let history = &s.messenger.history;
                    if history.mark_read(&peer).await.is_ok()
                        && let Ok(list) = history.conversations().await
                    {
                        show_list(list);
                    }
                });
            }
        });
    });

    let start_chat = Callback::new(move |peer: String| {
        spawn_local(async move {
            let _ = session.get_value().messenger.history.open(&peer).await;
            nav.open_chat(peer);
            bump();
        });
    });
    let search = move |query: String| {
        spawn_local(async move {
            let s = session.get_value();
            let results = match s.messenger.history.search(&query).await {
                Ok(results) => results,
                Err(e) => {
                    search_note.set(Some(format!("Search failed: {e}")));
                    return;
                }
            };
            let list = conversations.get_untracked();
            let shown = results
                .iter()
                .filter_map(|f| {
                    let conv = list.iter().find(|c| c.peer == f.peer)?;
                    Some(Conversation {
                        last_text: f.message.text.clone(),
                        last_ms: f.message.sent_ms,
                        unread: 0,
                        archived: false,
                        ..conv.clone()
                    })
                })
                .collect();
            let searched = !query.trim().is_empty();
            search_note.set((searched && results.is_empty()).then(|| "No messages found.".into()));
            found_at.set_value(results);
            found.set(searched.then_some(shown));
        });
    };
    // The list shows a search's results while there are some. A result opens its
    // conversation at the page of the match, which is then shown.
    let listed = Signal::derive(move || found.get().unwrap_or_else(|| conversations.get()));
    let open_listed = Callback::new(move |peer: String| {
        let hit = found_at.with_value(|found| {
            let f = found.iter().find(|f| f.peer == peer)?;
            Some((f.page, f.message.id.clone()))
        });
        let Some((page, id)) = hit else {
            return nav.open_chat(peer);
        };
        jump.set_value(Some(page));
        if selected.get_untracked().as_ref() == Some(&peer) {
            window.update(|w| w.first = Some(page));
        }
        nav.open_chat(peer);
        page::reveal(&id);
    });
    // A click on a new-message notification.
    let clicks = notify::on_open_chat(move |peer| {
        if peer.parse::<SessionId>().is_ok() {
            nav.open_chat(peer);
        }
    });
    on_cleanup(move || clicks.remove());
    // Opened from a `#/chat/05…` link (the QR code in settings is one).
    if let Some(peer) = page::take_chat_link().filter(|p| p.parse::<SessionId>().is_ok()) {
        start_chat.run(peer);
    }

    let send = Callback::new(move |text: String| {
        let Some(peer) = selected.get() else { return };
        let Ok(to) = peer.parse::<SessionId>() else {
            return;
        };
        window.update(|w| w.first = None);
        spawn_local(async move {
            let s = session.get_value();
            let Ok(queued) = s.messenger.queue(&to, &text).await else {
                return;
            };
            // The message shows as "Sending" as soon as it is in the history.
            bump();
            send_problem.set(problem(&s.messenger.deliver_queued(queued).await));
            bump();
        });
    });
    let retry = Callback::new(move |(id, text): (String, String)| {
        let Some(peer) = selected.get() else { return };
        let Ok(to) = peer.parse::<SessionId>() else {
            return;
        };
        spawn_local(async move {
            send_problem.set(problem(
                &session.get_value().messenger.retry(&to, &id, &text).await,
            ));
            bump();
        });
    });

    // The message whose details and actions are shown (peer, message), until closed, and
    // whether the last delete failed.
    let acting = RwSignal::new(None::<(String, MessageRecord)>);
    let delete_failed = RwSignal::new(false);
    let copied = RwSignal::new(false);
    let show_actions = Callback::new(move |message: MessageRecord| {
        delete_failed.set(false);
        copied.set(false);
        acting.set(selected.get_untracked().map(|peer| (peer, message)));
    });
    // `everyone`: Session's unsend request too (ours only); else this device and our swarm.
    let delete = move |everyone: bool| {
        let Some((peer, message)) = acting.get_untracked() else {
            return;
        };
        spawn_local(async move {
            let messenger = &session.get_value().messenger;
            // Only the network can fail here (the message is shown): a fixed sentence, as the
            // error's own text would link every client error's wording.
            let done = match peer.parse::<SessionId>() {
                Ok(to) if everyone => messenger
                    .delete_for_everyone(&to, &message.id)
                    .await
                    .is_ok(),
                _ => messenger.delete_for_me(&peer, &message.id).await.is_ok(),
            };
            if done {
                acting.set(None);
            }
            delete_failed.set(!done);
            bump();
        });
    };

    // A change to a contact, from the open conversation's header or (unblocking) settings.
    let change_contact = move |peer: String, change: HeaderChange| {
        spawn_local(async move {
            let s = session.get_value();
            let history = &s.messenger.history;
            let _ = match change {
                HeaderChange::Rename(name) => history.rename(&peer, name).await,
                HeaderChange::Timer(seconds) => history.set_timer(&peer, seconds).await,
                HeaderChange::Blocked(blocked) => history.set_blocked(&peer, blocked).await,
                HeaderChange::Muted(muted) => history.set_muted(&peer, muted).await,
                HeaderChange::Archived(archived) => history.set_archived(&peer, archived).await,
                HeaderChange::Delete => {
                    nav.close_chat();
                    history.delete_conversation(&peer).await
                }
            };
            bump();
        });
    };
    let header_change = Callback::new(move |change: HeaderChange| {
        if let Some(peer) = selected.get() {
            change_contact(peer, change);
        }
    });
    let on_unblock =
        Callback::new(move |peer: String| change_contact(peer, HeaderChange::Blocked(false)));

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
    // Each conversation keeps what was typed in it and not sent, for this session (the
    // composer stays mounted from one conversation to the next).
    let draft = RwSignal::new(String::new());
    let drafts = StoredValue::new(Vec::<(String, String)>::new());
    Effect::new(move |left: Option<Option<String>>| {
        let peer = selected.get();
        drafts.update_value(|d| {
            if let Some(Some(left)) = left {
                d.retain(|(p, _)| *p != left);
                let text = draft.get_untracked();
                if !text.is_empty() {
                    d.push((left, text));
                }
            }
            let kept = d.iter().position(|(p, _)| Some(p) == peer.as_ref());
            draft.set(kept.map(|i| d.swap_remove(i).1).unwrap_or_default());
        });
        peer
    });

    view! {
        <div class="messenger" data-showing=move || showing.get().kind()>
            <header class="topbar">
                <strong>"Murmur"</strong>
                <span class="link-state" role="status" data-state=move || link.get().label()>
                    {move || link.get().label()}
                </span>
                <button class="secondary small" on:click=move |_| nav.toggle(Showing::Settings)>
                    "Settings"
                </button>
            </header>
            {(!kept).then(|| view! {
                <p class="banner" role="status">
                    "Temporary session: nothing is saved on this device. Logging out or closing the tab erases it all."
                </p>
            })}
            {operator_changed.then(|| view! {
                <p class="banner warn" role="alert">
                    "This site now names a different network operator key than the one this profile trusts. "
                    "Murmur keeps using the trusted one, so the network may be unreachable. "
                    "Accept the new key only if your operator announced a new network."
                    " "
                    <button class="link" on:click=move |_| {
                        spawn_local(async move {
                            if session.get_value().trust_new_operator().await.is_ok() {
                                on_lock.run(());
                            }
                        });
                    }>"Trust the new key and unlock again"</button>
                </p>
            })}
            {move || network_problem.get().map(|p| view! { <p class="banner warn" role="alert">{p}</p> })}
            {move || (link.get() == Link::Reconnecting).then(|| view! {
                <p class="banner warn" role="alert">"The network cannot be reached. Messages will be sent when it is back."</p>
            })}
            {move || away_days.get().map(|d| view! {
                <p class="banner warn" role="alert">
                    {format!("You were away for {d} days. The network keeps messages for 14 days, so some sent to you meanwhile may have expired unread.")}
                    " "
                    <button class="link" on:click=move |_| away_days.set(None)>"Dismiss"</button>
                </p>
            })}
            <div class="panes">
                <nav class="sidebar" aria-label="Conversations">
                    <header class="pane-head">
                        <h2>"Chats"</h2>
                        <button class="primary small" on:click=move |_| nav.go(Showing::NewChat)>"New chat"</button>
                    </header>
                    // Enter searches; emptying the field brings the list back.
                    <div class="search" role="search">
                        <input type="search" aria-label="Search messages" placeholder="Search messages (Enter)"
                            autocomplete="off"
                            on:input=move |ev| if event_target_value(&ev).is_empty() { search(String::new()) }
                            on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Enter" { search(event_target_value(&ev)) } />
                    </div>
                    {move || search_note.get().map(|note| view! {
                        <p class="muted empty" role="status">{note}</p>
                    })}
                    <ConversationList conversations=listed selected on_open=open_listed />
                </nav>
                {move || {
                    let (title, body) = match showing.get() {
                        Showing::Settings => ("Settings", view! { <SettingsPanel session on_logout conversations on_unblock /> }.into_any()),
                        Showing::NewChat => ("New chat", view! { <NewChatForm on_start=start_chat /> }.into_any()),
                        _ => return None,
                    };
                    Some(view! {
                        <section class="side-screen" aria-label=title>
                            <header class="pane-head">
                                <button class="secondary small" on:click=move |_| nav.back()>"Back"</button>
                                <h2>{title}</h2>
                            </header>
                            {body}
                        </section>
                    })
                }}
                <section class="conversation-view" aria-label="Conversation">
                    {move || match header.get() {
                        None => view! { <p class="muted empty">"Choose a conversation, or start one with a Session ID."</p> }.into_any(),
                        Some(conv) => view! { <ConversationHeader conv on_change=header_change on_back=Callback::new(move |()| nav.back()) /> }.into_any(),
                    }}
                    <MessageList messages window first_unread on_retry=retry on_more=show_actions />
                    {move || acting.get().filter(|a| selected.get().as_ref() == Some(&a.0)).map(|(_, m)| {
                        let ours = m.outgoing && m.delivery == Delivery::Sent;
                        // Still sending: it cannot be deleted until it is sent or has failed.
                        let settled = m.delivery != Delivery::Sending;
                        let when = format!("{} {}", local_day(m.sent_ms as f64), local_hh_mm(m.sent_ms as f64));
                        let text = m.text.clone();
                        view! {
                            <div class="banner message-actions" role="group" aria-label="Message">
                                <p dir="auto">{m.text}</p>
                                <dl>
                                    <dt>{match m.delivery { Delivery::Failed => "Not sent", Delivery::Sending => "Sending", Delivery::Received => "Received, sent", Delivery::Sent => "Sent" }}</dt><dd>{when}</dd>
                                    <dt>"ID"</dt><dd><code>{m.id}</code></dd>
                                    <dt>"Protection"</dt><dd>"Classic (Session v1): end-to-end encrypted, not forward secret"</dd>
                                </dl>
                                {move || delete_failed.get().then(|| view! { <p role="alert">"Could not delete it: the network did not take the request. Nothing was deleted; try again."</p> })}
                                <p role="status">{move || copied.get().then_some("Copied.")}</p>
                                <div class="actions">
                                    <button class="secondary" on:click=move |_| acting.set(None)>"Close"</button>
                                    <button class="secondary" on:click=move |_| copied.set(copy_to_clipboard(&text))>"Copy text"</button>
                                    {settled.then(|| view! { <button class="danger" on:click=move |_| delete(false)>"Delete for me"</button> })}
                                    {ours.then(|| view! { <button class="danger" on:click=move |_| delete(true)>"Delete for everyone"</button> })}
                                </div>
                            </div>
                        }
                    })}
                    {move || send_problem.get().map(|p| view! { <p class="banner warn" role="alert">{p}</p> })}
                    {move || composer_state.get().map(|blocked| if blocked {
                        view! { <p class="banner" role="status">"You blocked this contact. Unblock to send and receive messages."</p> }.into_any()
                    } else {
                        view! { <Composer on_send=send draft /> }.into_any()
                    })}
                </section>
            </div>
        </div>
    }
}

/// What to tell the user about a failed send beyond "Failed": a full mailbox is worth
/// saying (waiting helps, retrying now does not).
fn problem(sent: &Result<String, MessengerError>) -> Option<&'static str> {
    match sent {
        Err(MessengerError::Client(ClientError::MailboxFull)) => {
            Some("Their mailbox is full; try later.")
        }
        _ => None,
    }
}
