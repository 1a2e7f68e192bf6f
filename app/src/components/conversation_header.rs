//! The open conversation's header: the contact's name (editable, kept only on this device),
//! the Session ID, the disappearing-message timer, mute, archive, delete and block.

use leptos::prelude::*;
use murmur_core::history::Conversation;

use crate::components::confirm::ConfirmAction;
use crate::components::pressed;

/// Disappearing-message choices: label and seconds.
pub const TIMERS: [(&str, Option<u32>); 6] = [
    ("Off", None),
    ("5 minutes", Some(300)),
    ("1 hour", Some(3_600)),
    ("1 day", Some(86_400)),
    ("1 week", Some(604_800)),
    ("2 weeks", Some(1_209_600)),
];

/// What the user changed in the header.
#[derive(Debug, Clone)]
pub enum HeaderChange {
    Rename(Option<String>),
    Timer(Option<u32>),
    Blocked(bool),
    Muted(bool),
    Archived(bool),
    /// Delete the conversation's messages on this device.
    Delete,
}

#[component]
pub fn ConversationHeader(
    conv: Conversation,
    on_change: Callback<HeaderChange>,
    on_back: Callback<()>,
) -> impl IntoView {
    let timer_value = conv
        .disappear_after_s
        .map(|s| s.to_string())
        .unwrap_or_default();
    let editing = RwSignal::new(false);
    let name = RwSignal::new(conv.name.clone().unwrap_or_default());
    let (blocked, muted, archived) = (conv.blocked, conv.muted, conv.archived);
    let save_name = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let n = name.get().trim().to_string();
        on_change.run(HeaderChange::Rename((!n.is_empty()).then_some(n)));
        editing.set(false);
    };
    let title = super::conversation_list::label(&conv);
    view! {
        <header class="conversation-header">
            <button class="secondary small phone-only" on:click=move |_| on_back.run(())>"Back"</button>
            <div class="who">
                {move || if editing.get() {
                    view! {
                        <form class="rename" on:submit=save_name>
                            <label for="contact-name" class="visually-hidden">"Contact name"</label>
                            <input id="contact-name" maxlength="64" autocomplete="off"
                                prop:value=move || name.get()
                                on:input=move |ev| name.set(event_target_value(&ev))
                                on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Escape" { editing.set(false) } />
                            <button type="submit" class="primary small">"Save"</button>
                        </form>
                    }.into_any()
                } else {
                    let title = title.clone();
                    view! {
                        <div class="title">
                            <h2 class="contact">{title}</h2>
                            <button class="link" on:click=move |_| editing.set(true)>"Rename"</button>
                        </div>
                    }.into_any()
                }}
                <code data-testid="peer-id">{conv.peer.clone()}</code>
            </div>
            <div class="controls">
                <label>
                    "Disappearing messages "
                    <select on:change=move |ev| on_change.run(HeaderChange::Timer(event_target_value(&ev).parse().ok()))>
                        {TIMERS.iter().map(|(label, secs)| {
                            let v = secs.map(|s| s.to_string()).unwrap_or_default();
                            let is = v == timer_value;
                            view! { <option value=v selected=is>{*label}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <button class="secondary small" aria-pressed=pressed(muted)
                    on:click=move |_| on_change.run(HeaderChange::Muted(!muted))>"Mute"</button>
                <button class="secondary small" aria-pressed=pressed(archived)
                    on:click=move |_| on_change.run(HeaderChange::Archived(!archived))>"Archive"</button>
                <ConfirmAction ask="Delete chat" ask_class="secondary small"
                    warning="Delete all its messages on this device?" cancel="Cancel" confirm="Delete"
                    on_confirm=Callback::new(move |()| on_change.run(HeaderChange::Delete)) />
                {if blocked {
                    view! { <button class="secondary small" on:click=move |_| on_change.run(HeaderChange::Blocked(false))>"Unblock"</button> }.into_any()
                } else {
                    view! {
                        <ConfirmAction ask="Block" ask_class="secondary small"
                            warning="Block? Their messages will be dropped." cancel="Cancel" confirm="Block"
                            on_confirm=Callback::new(move |()| on_change.run(HeaderChange::Blocked(true))) />
                    }.into_any()
                }}
            </div>
        </header>
    }
}
