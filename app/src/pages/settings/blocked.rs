//! Blocked contacts, each with Unblock: their later messages arrive again (those dropped while
//! they were blocked do not come back). The list is the chat page's, so it follows at once.

use leptos::prelude::*;
use murmur_core::history::Conversation;

use crate::components::conversation_list::label;

#[component]
pub fn Blocked(
    conversations: RwSignal<Vec<Conversation>>,
    on_unblock: Callback<String>,
) -> impl IntoView {
    view! {
        <h2>"Blocked contacts"</h2>
        {move || {
            let blocked: Vec<(String, String)> = conversations.with(|list| {
                list.iter().filter(|c| c.blocked).map(|c| (c.peer.clone(), label(c))).collect()
            });
            if blocked.is_empty() {
                return view! { <p class="muted">"You have blocked no one."</p> }.into_any();
            }
            view! {
                <ul class="blocked">
                    {blocked.into_iter().map(|(peer, name)| view! {
                        <li>
                            <span>{name.clone()}</span>
                            <button class="secondary small" aria-label=format!("Unblock {name}")
                                on:click=move |_| on_unblock.run(peer.clone())>"Unblock"</button>
                        </li>
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
    }
}
