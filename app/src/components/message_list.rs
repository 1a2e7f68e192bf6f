//! The open conversation's messages: a window of at most two stored pages (400 messages), so
//! a conversation of any length renders the same number of elements. "Earlier messages" and
//! "Later messages" move the window a page at a time; "Jump to latest", shown when scrolled up
//! more than a screen or paged back, returns to the newest.

use leptos::html::Ol;
use leptos::prelude::*;
use murmur_app::platform::page::{clicked_row, local_day, local_hh_mm};
use murmur_core::history::{Delivery, MessageRecord};

/// Pages rendered at once.
pub const WINDOW_PAGES: u32 = 2;

/// Which pages are shown: `None` follows the newest; `Some(first)` is a fixed window the
/// user paged back to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageWindow {
    pub first: Option<u32>,
    pub pages: u32,
}

impl PageWindow {
    /// The page numbers to read.
    pub fn range(self) -> std::ops::Range<u32> {
        let first = self
            .first
            .unwrap_or(self.pages.saturating_sub(WINDOW_PAGES))
            .min(self.pages.saturating_sub(1));
        first..(first + WINDOW_PAGES).min(self.pages)
    }
}

/// One row of the list: a message, and the day it opens when it is the first of that day.
/// Rows are keyed, so a message arriving adds one row and a delivery change redraws one:
/// the other rows of the window stay as they are.
#[derive(Debug, Clone)]
struct Row {
    day: Option<String>,
    /// The first message that was unread when the conversation was opened.
    first_unread: bool,
    message: MessageRecord,
}

/// The window's messages as rows.
fn rows(messages: Vec<MessageRecord>, first_unread: Option<String>) -> Vec<Row> {
    let mut last_day = String::new();
    messages
        .into_iter()
        .map(|message| {
            let day = local_day(message.sent_ms as f64);
            let opens = (day != last_day).then(|| day.clone());
            last_day = day;
            Row {
                day: opens,
                first_unread: first_unread.as_ref() == Some(&message.id),
                message,
            }
        })
        .collect()
}

impl Row {
    /// What a row shows that can change: anything else is the same message drawn the same.
    fn key(&self) -> (String, Delivery, Option<u64>, Option<String>, bool) {
        let m = &self.message;
        (
            m.id.clone(),
            m.delivery,
            m.expires_ms,
            self.day.clone(),
            self.first_unread,
        )
    }

    fn view(self, on_retry: Callback<(String, String)>) -> impl IntoView {
        let m = self.message;
        let (id, text) = (m.id.clone(), m.text.clone());
        let state = match m.delivery {
            Delivery::Sending => Some("Sending…"),
            Delivery::Sent => Some("Sent"),
            Delivery::Failed => Some("Failed"),
            Delivery::Received => None,
        };
        view! {
            {self.day.map(|day| view! { <li class="day">{day}</li> })}
            {self.first_unread.then(|| view! { <li class="day unread-mark" role="separator">"New messages"</li> })}
            <li class="message" class:out=m.outgoing class:in=!m.outgoing data-id=m.id>
                <p class="text" dir="auto">{m.text}</p>
                <span class="meta">
                    {local_hh_mm(m.sent_ms as f64)}
                    {m.expires_ms.is_some().then_some(" · ⏱")}
                    {state.map(|s| view! { " · " {s} })}
                    {(m.delivery == Delivery::Failed).then(|| view! {
                        " "
                        <button class="link" on:click=move |_| on_retry.run((id.clone(), text.clone()))>"Retry"</button>
                    })}
                    // Details and actions: static markup (a row builds no more for it), one
                    // listener on the list serves every row's (see `MessageList`).
                    " " <button class="link" data-more="">"More"</button>
                </span>
            </li>
        }
    }
}

#[component]
pub fn MessageList(
    messages: RwSignal<Vec<MessageRecord>>,
    window: RwSignal<PageWindow>,
    first_unread: RwSignal<Option<String>>,
    on_retry: Callback<(String, String)>,
    /// Shows a message's details and actions.
    on_more: Callback<MessageRecord>,
) -> impl IntoView {
    let list = NodeRef::<Ol>::new();
    // Following the newest: keep the view at the bottom as messages arrive.
    Effect::new(move |_| {
        messages.track();
        if window.get_untracked().first.is_none()
            && let Some(el) = list.get_untracked()
        {
            request_animation_frame(move || el.set_scroll_top(el.scroll_height()));
        }
    });
    let earlier = move |_| {
        window.update(|w| {
            let start = w.range().start;
            w.first = Some(start.saturating_sub(1));
        });
        if let Some(el) = list.get_untracked() {
            el.set_scroll_top(0);
        }
    };
    // Scrolled up by more than a screen, or paged back: offer the way down to the newest.
    let away = RwSignal::new(false);
    let on_scroll = move |_| {
        if let Some(el) = list.get_untracked() {
            let below = el.scroll_height() - el.scroll_top() - el.client_height();
            away.set(below > el.client_height());
        }
    };
    let latest = move |_| {
        away.set(false);
        window.update(|w| w.first = None);
        if let Some(el) = list.get_untracked() {
            el.set_scroll_top(el.scroll_height());
        }
    };
    let later = move |_| {
        window.update(|w| {
            let next = w.range().start + 1;
            w.first = (next + WINDOW_PAGES < w.pages).then_some(next);
        });
    };
    // A row's More: the message is found by the row's `data-id`.
    let on_click = move |ev: leptos::ev::MouseEvent| {
        let Some(id) = clicked_row(&ev, "data-more") else {
            return;
        };
        if let Some(m) = messages.with_untracked(|all| all.iter().find(|m| m.id == id).cloned()) {
            on_more.run(m);
        }
    };
    view! {
        <ol class="messages" node_ref=list aria-live="polite" tabindex="0" aria-label="Messages"
            on:scroll=on_scroll on:click=on_click>
            {move || (window.get().range().start > 0).then(|| view! {
                <li class="paging"><button class="secondary small" on:click=earlier>"Earlier messages"</button></li>
            })}
            <For each=move || rows(messages.get(), first_unread.get()) key=Row::key let:row>
                {row.view(on_retry)}
            </For>
            {move || (window.get().first.is_some()).then(|| view! {
                <li class="paging"><button class="secondary small" on:click=later>"Later messages"</button></li>
            })}
            {move || (away.get() || window.get().first.is_some()).then(|| view! {
                <li class="jump"><button class="primary small" on:click=latest>"Jump to latest"</button></li>
            })}
        </ol>
    }
}
