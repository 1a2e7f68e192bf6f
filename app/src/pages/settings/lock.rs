//! A kept profile: when it locks by itself, and whether the browser keeps its data.

use leptos::prelude::*;
use leptos::task::spawn_local;
use murmur_app::session::storage_is_persistent;
use murmur_app::settings::Settings;

/// Auto-lock choices: label and minutes (0 = never).
const AUTOLOCK: [(&str, u32); 4] = [
    ("after 5 minutes", 5),
    ("after 15 minutes", 15),
    ("after 1 hour", 60),
    ("never", 0),
];

#[component]
pub fn Lock(settings: RwSignal<Settings>, save: Callback<Settings>) -> impl IntoView {
    let persistent = RwSignal::new(None::<bool>);
    spawn_local(async move { persistent.set(Some(storage_is_persistent().await)) });
    let set_autolock = move |value: String| {
        let mut next = settings.get_untracked();
        next.autolock_minutes = value.parse::<u32>().ok().filter(|m| *m > 0);
        save.run(next);
    };
    view! {
        <h2>"Lock"</h2>
        <label>
            "Lock Murmur when idle "
            <select on:change=move |ev| set_autolock(event_target_value(&ev))>
                {AUTOLOCK.iter().map(|(label, minutes)| {
                    let selected = move || settings.get().autolock_minutes.unwrap_or(0) == *minutes;
                    view! { <option value=minutes.to_string() selected=selected>{*label}</option> }
                }).collect_view()}
            </select>
        </label>
        <p class="muted">{move || match persistent.get() {
            Some(true) => "Storage: this browser keeps Murmur's data even when space runs low.",
            Some(false) => "Storage: this browser may clear Murmur's data when space runs low; keep your recovery phrase.",
            None => "",
        }}</p>
    }
}
