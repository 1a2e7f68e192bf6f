//! A destructive action behind a second click: the button, then a warning with "cancel" and
//! "confirm".

use leptos::prelude::*;

#[component]
pub fn ConfirmAction(
    /// The first button's text and class (e.g. `"danger"`, `"link"`).
    ask: &'static str,
    ask_class: &'static str,
    /// What will happen, shown with the two buttons.
    warning: &'static str,
    cancel: &'static str,
    confirm: &'static str,
    on_confirm: Callback<()>,
) -> impl IntoView {
    let asking = RwSignal::new(false);
    move || {
        if asking.get() {
            view! {
                <p>{warning}</p>
                <div class="actions">
                    <button class="secondary" on:click=move |_| asking.set(false)>{cancel}</button>
                    <button class="danger" on:click=move |_| on_confirm.run(())>{confirm}</button>
                </div>
            }
            .into_any()
        } else {
            view! { <button class=ask_class on:click=move |_| asking.set(true)>{ask}</button> }
                .into_any()
        }
    }
}
