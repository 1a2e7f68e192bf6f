//! The root component: which screen is showing. Later issues add unlock and the chat screens.

use leptos::prelude::*;
use murmur_core::Identity;

use crate::pages::{
    create::CreatePage, ready::ReadyPage, restore::RestorePage, welcome::WelcomePage,
};

/// The screens of the app.
#[derive(Debug, Clone)]
pub enum Screen {
    Welcome,
    Create,
    Restore,
    Ready(Box<Identity>),
}

#[component]
pub fn App() -> impl IntoView {
    let screen = RwSignal::new(Screen::Welcome);
    let go = move |s: Screen| screen.set(s);
    view! {
        <main class="shell">
            {move || match screen.get() {
                Screen::Welcome => view! {
                    <WelcomePage
                        on_create=Callback::new(move |_| go(Screen::Create))
                        on_restore=Callback::new(move |_| go(Screen::Restore))
                    />
                }.into_any(),
                Screen::Create => view! {
                    <CreatePage
                        on_done=Callback::new(move |id| go(Screen::Ready(Box::new(id))))
                        on_back=Callback::new(move |_| go(Screen::Welcome))
                    />
                }.into_any(),
                Screen::Restore => view! {
                    <RestorePage
                        on_done=Callback::new(move |id| go(Screen::Ready(Box::new(id))))
                        on_back=Callback::new(move |_| go(Screen::Welcome))
                    />
                }.into_any(),
                Screen::Ready(identity) => view! { <ReadyPage identity=*identity /> }.into_any(),
            }}
        </main>
    }
}
