//! The root component: which screen is showing.
//!
//! Start: load `config.json`; a kept profile on this device → unlock, else welcome. Create or
//! restore → choose where history lives → chat. Logout wipes the origin and returns to welcome.

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use murmur_app::config;
use murmur_app::session::{Session, wipe_origin};
use murmur_core::Identity;
use murmur_core::client::NetworkConfig;

use crate::pages::{
    chat::ChatPage, create::CreatePage, restore::RestorePage, storage::StoragePage,
    unlock::UnlockPage, welcome::WelcomePage,
};

/// The screens of the app.
#[derive(Clone)]
pub enum Screen {
    Loading,
    /// The deployment cannot be used (config.json missing or empty); the reason is shown.
    Unavailable(String),
    Welcome,
    Create,
    Restore,
    ChooseStorage(Box<Identity>),
    Unlock,
    Chat(Rc<Session>),
}

#[component]
pub fn App() -> impl IntoView {
    let screen = RwSignal::new_local(Screen::Loading);
    let network = StoredValue::new(None::<NetworkConfig>);
    spawn_local(async move {
        match config::load().await {
            Ok(config) => {
                network.set_value(Some(config));
                let kept = Session::kept_profile_exists().await.unwrap_or(false);
                screen.set(if kept {
                    Screen::Unlock
                } else {
                    Screen::Welcome
                });
            }
            Err(e) => screen.set(Screen::Unavailable(e.to_string())),
        }
    });
    let go = move |s: Screen| screen.set(s);
    let chosen = Callback::new(move |id: Identity| go(Screen::ChooseStorage(Box::new(id))));
    let logout = Callback::new(move |()| {
        screen.set(Screen::Loading);
        spawn_local(async move {
            // The session (and its database connection) is gone once the screen changed.
            let _ = wipe_origin().await;
            screen.set(Screen::Welcome);
        });
    });
    view! {
        <main class="shell">
            {move || {
                let net = network.get_value();
                match screen.get() {
                    Screen::Loading => view! { <p class="status" aria-live="polite">"Loading…"</p> }.into_any(),
                    Screen::Unavailable(why) => view! {
                        <section class="card" aria-labelledby="unavailable-title">
                            <h1 id="unavailable-title">"Murmur is not available"</h1>
                            <p>{why}</p>
                        </section>
                    }.into_any(),
                    Screen::Welcome => view! {
                        <WelcomePage
                            on_create=Callback::new(move |_| go(Screen::Create))
                            on_restore=Callback::new(move |_| go(Screen::Restore))
                        />
                    }.into_any(),
                    Screen::Create => view! {
                        <CreatePage on_done=chosen on_back=Callback::new(move |_| go(Screen::Welcome)) />
                    }.into_any(),
                    Screen::Restore => view! {
                        <RestorePage on_done=chosen on_back=Callback::new(move |_| go(Screen::Welcome)) />
                    }.into_any(),
                    Screen::ChooseStorage(identity) => match net {
                        Some(net) => view! {
                            <StoragePage identity=*identity network=net
                                on_session=Callback::new(move |s: Rc<Session>| go(Screen::Chat(s))) />
                        }.into_any(),
                        None => ().into_any(),
                    },
                    Screen::Unlock => match net {
                        Some(net) => view! {
                            <UnlockPage network=net
                                on_session=Callback::new(move |s: Rc<Session>| go(Screen::Chat(s)))
                                on_forget=logout />
                        }.into_any(),
                        None => ().into_any(),
                    },
                    Screen::Chat(session) => view! {
                        <ChatPage session on_logout=logout
                            on_lock=Callback::new(move |()| go(Screen::Unlock)) />
                    }.into_any(),
                }
            }}
        </main>
    }
}
