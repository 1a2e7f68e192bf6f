//! The conversation list: name (or short ID), last message, unread badge. Archived
//! conversations show instead of the others while "Archived" is pressed (the stylesheet
//! hides the rest, and the button when nothing is archived).

use leptos::prelude::*;
use murmur_core::history::Conversation;

use crate::components::{pressed, short_id};

/// The label of a conversation: the local name, else the short Session ID.
pub fn label(c: &Conversation) -> String {
    c.name.clone().unwrap_or_else(|| short_id(&c.peer))
}

#[component]
pub fn ConversationList(
    conversations: Signal<Vec<Conversation>>,
    selected: RwSignal<Option<String>>,
    on_open: Callback<String>,
) -> impl IntoView {
    let archive = RwSignal::new(false);
    view! {
        <ul class="conversations" class:archive=move || {
            // With nothing archived any more, the list goes back to the chats.
            let any = conversations.with(|list| list.iter().any(|c| c.archived));
            if !any && archive.get_untracked() {
                archive.set(false);
            }
            archive.get()
        }>
            <For each=move || conversations.get()
                key=|c| (c.peer.clone(), c.last_ms, c.unread, c.name.clone(), c.blocked, c.muted, c.archived, c.last_text.clone())
                let:c>
                {
                    let peer = c.peer.clone();
                    let is_open = Memo::new(move |_| selected.get().as_deref() == Some(peer.as_str()));
                    let peer_for_click = c.peer.clone();
                    view! {
                        <li class:archived=c.archived>
                            <button class="conversation"
                                class:active=move || is_open.get()
                                aria-current=move || is_open.get().then_some("true")
                                on:click=move |_| on_open.run(peer_for_click.clone())>
                                <span class="name" dir="auto">{label(&c)}{c.blocked.then_some(" (blocked)")}{c.muted.then_some(" (muted)")}</span>
                                <span class="last" dir="auto">{c.last_text.clone()}</span>
                                {(c.unread > 0).then(|| view! {
                                    <span class="unread" aria-label=format!("{} unread", c.unread)>{c.unread}</span>
                                })}
                            </button>
                        </li>
                    }
                }
            </For>
        </ul>
        <button class="link archived-toggle" aria-pressed=move || pressed(archive.get())
            on:click=move |_| archive.update(|a| *a = !*a)>"Archived"</button>
    }
}
