//! A labelled password input bound to a signal.

use leptos::prelude::*;

/// `<label>` + `<input type="password">` writing each keystroke to `value`.
#[component]
pub fn PasswordField(
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    /// `current-password` (unlocking) or `new-password` (choosing one), for password managers.
    autocomplete: &'static str,
    #[prop(optional)] autofocus: bool,
    /// Runs on each keystroke before `value` changes (e.g. to clear a stale error).
    #[prop(optional)]
    on_input: Option<Callback<()>>,
) -> impl IntoView {
    view! {
        <label for=id>{label}</label>
        <input id=id type="password" autocomplete=autocomplete autofocus=autofocus
            prop:value=move || value.get()
            on:input=move |ev| {
                if let Some(f) = on_input {
                    f.run(());
                }
                value.set(event_target_value(&ev));
            } />
    }
}
