//! The colour theme: as the system (the default), light or dark. Applied at once, and each
//! time the profile is opened.

use leptos::prelude::*;
use murmur_app::settings::{Choice as _, Settings, Theme};

#[component]
pub fn Appearance(settings: RwSignal<Settings>, save: Callback<Settings>) -> impl IntoView {
    let set_theme = move |value: String| {
        let mut next = settings.get_untracked();
        next.theme = Theme::from_key(&value);
        murmur_app::platform::page::set_theme(next.theme.attribute());
        save.run(next);
    };
    view! {
        <h2>"Appearance"</h2>
        <label>
            "Theme "
            <select on:change=move |ev| set_theme(event_target_value(&ev))
                prop:value=move || settings.get().theme.key()>
                {Theme::ALL.iter().map(|&(theme, key, label)| {
                    let selected = move || settings.get().theme == theme;
                    view! { <option value=key selected=selected>{label}</option> }
                }).collect_view()}
            </select>
        </label>
    }
}
