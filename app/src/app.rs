//! The root component: which screen is showing.
//!
//! Start: load `config.json`; a kept profile on this device → unlock, else welcome. Create or
//! restore → choose where history lives → chat. Logout wipes the origin and returns to welcome
//! (or says what it could not erase). A kept profile is used by one tab at a time: another tab
//! that unlocks it is told so and may take over (`platform::tabs`).

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use murmur_app::config;
use murmur_app::platform::pwa;
use murmur_app::platform::tabs::{self, ActiveTab};
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
    /// Unlocked, but another tab is using the profile.
    OtherTab(Rc<Session>),
    Chat(Rc<Session>),
    /// Logout could not erase everything; the reason is shown.
    LogoutFailed(String),
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
    // Create and restore need the recovery word list, fetched on the way there.
    let welcome_error = RwSignal::new(None::<String>);
    let onboard = move |s: Screen| {
        spawn_local(async move {
            match murmur_app::platform::page::load_wordlist().await {
                Ok(()) => {
                    welcome_error.set(None);
                    go(s);
                }
                Err(why) => welcome_error.set(Some(why)),
            }
        });
    };
    let chosen = Callback::new(move |id: Identity| go(Screen::ChooseStorage(Box::new(id))));
    // The lock of the tab using the kept profile; dropped when it stops using it.
    let active_tab = StoredValue::new_local(None::<ActiveTab>);
    let lock = Callback::new(move |()| {
        active_tab.set_value(None);
        go(Screen::Unlock);
    });
    // A newly deployed version of the app waits (the service worker says so).
    let update_ready = RwSignal::new(false);
    let worker_registered = StoredValue::new(false);
    // A session opened: a kept profile goes to the chat only with the tab lock.
    let open = Callback::new(move |(session, take_over): (Rc<Session>, bool)| {
        if !session.is_kept() {
            go(Screen::Chat(session));
            return;
        }
        // Only a kept profile installs the app for offline starts; a temporary session never.
        if !worker_registered.get_value() {
            worker_registered.set_value(true);
            pwa::register_worker(move || update_ready.set(true));
        }
        spawn_local(async move {
            // Another tab took over: this one locks.
            match tabs::claim(take_over, move || lock.run(())).await {
                Ok(Some(tab)) => {
                    active_tab.set_value(Some(tab));
                    go(Screen::Chat(session));
                }
                Ok(None) => go(Screen::OtherTab(session)),
                // No lock to be had: better one tab too many than none.
                Err(_) => go(Screen::Chat(session)),
            }
        });
    });
    let on_session = Callback::new(move |s: Rc<Session>| open.run((s, false)));
    let logout = Callback::new(move |()| {
        active_tab.set_value(None);
        murmur_app::platform::page::set_theme(None);
        screen.set(Screen::Loading);
        spawn_local(async move {
            // The session (and its database connection) is gone once the screen changed.
            match wipe_origin().await {
                Ok(()) => screen.set(Screen::Welcome),
                Err(why) => screen.set(Screen::LogoutFailed(why)),
            }
        });
    });
    view! {
        {move || update_ready.get().then(|| view! {
            <p class="banner update" role="status">
                "A new version of Murmur is available. "
                <button class="link" on:click=|_| pwa::apply_update()>"Reload"</button>
            </p>
        })}
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
                            on_create=Callback::new(move |_| onboard(Screen::Create))
                            on_restore=Callback::new(move |_| onboard(Screen::Restore))
                            error=welcome_error.read_only()
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
                            <StoragePage identity=*identity network=net on_session />
                        }.into_any(),
                        None => ().into_any(),
                    },
                    Screen::Unlock => match net {
                        Some(net) => view! {
                            <UnlockPage network=net on_session on_forget=logout />
                        }.into_any(),
                        None => ().into_any(),
                    },
                    Screen::OtherTab(session) => view! {
                        <section class="card" aria-labelledby="other-tab-title">
                            <h1 id="other-tab-title">"Murmur is open in another tab"</h1>
                            <p>"One tab at a time uses this profile. Using it here locks the other tab."</p>
                            <button class="primary" on:click=move |_| open.run((session.clone(), true))>
                                "Use it here"
                            </button>
                        </section>
                    }.into_any(),
                    Screen::Chat(session) => view! {
                        <ChatPage session on_logout=logout on_lock=lock />
                    }.into_any(),
                    Screen::LogoutFailed(why) => view! {
                        <section class="card" aria-labelledby="logout-failed-title">
                            <h1 id="logout-failed-title">"Logging out did not erase everything"</h1>
                            <p>{why}</p>
                            <button class="primary" on:click=move |_| logout.run(())>"Try again"</button>
                        </section>
                    }.into_any(),
                }
            }}
        </main>
    }
}
