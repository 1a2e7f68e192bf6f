//! Whether and how new messages are notified. Turning notifications on asks the browser (in
//! the change event, a user gesture); if it refuses, the mode stays off and the user is told
//! why.

use leptos::prelude::*;
use leptos::task::spawn_local;
use murmur_app::platform::notify;
use murmur_app::settings::{Choice as _, NotificationMode, Settings};

#[component]
pub fn Notifications(settings: RwSignal<Settings>, save: Callback<Settings>) -> impl IntoView {
    let status = RwSignal::new(None::<&'static str>);
    let set_mode = move |value: String| {
        let mode = NotificationMode::from_key(&value);
        spawn_local(async move {
            let granted = mode == NotificationMode::Off
                || notify::permitted()
                || notify::request_permission().await;
            let mut next = settings.get_untracked();
            if granted {
                next.notifications = mode;
                status.set(None);
            } else {
                next.notifications = NotificationMode::Off;
                status.set(Some(
                    "This browser blocks notifications for Murmur; allow them in the site settings.",
                ));
            }
            save.run(next);
        });
    };
    view! {
        <h2>"Notifications"</h2>
        <label>
            "Notify me of new messages "
            <select on:change=move |ev| set_mode(event_target_value(&ev))
                prop:value=move || settings.get().notifications.key()>
                {NotificationMode::ALL.iter().map(|&(mode, key, label)| {
                    let selected = move || settings.get().notifications == mode;
                    view! { <option value=key selected=selected>{label}</option> }
                }).collect_view()}
            </select>
        </label>
        <p class="status" role="status">{move || status.get()}</p>
    }
}
