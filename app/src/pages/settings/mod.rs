//! Settings, shown over the messenger: who you are, the onion path, notifications, auto-lock,
//! passphrase, recovery phrase, and logging out.

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use murmur_app::onboarding::passphrase_problem;
use murmur_app::session::{Session, storage_is_persistent};
use murmur_app::settings::NotificationMode;
use murmur_core::vault::{UnlockError, VaultError};

use crate::components::confirm::ConfirmAction;
use crate::components::password_field::PasswordField;
use crate::components::phrase::PhraseGrid;
use crate::components::session_id::ShareSessionId;
use crate::components::short_id;
use murmur_app::platform::notify;

/// Auto-lock choices: label and minutes (0 = never).
const AUTOLOCK: [(&str, u32); 4] = [
    ("after 5 minutes", 5),
    ("after 15 minutes", 15),
    ("after 1 hour", 60),
    ("never", 0),
];

fn unlock_message(e: &VaultError) -> String {
    match e {
        VaultError::Unlock(UnlockError::WrongPassphrase) => "Wrong passphrase.".into(),
        other => format!("Failed: {other}"),
    }
}

#[component]
pub fn SettingsPanel(
    session: StoredValue<Rc<Session>, LocalStorage>,
    on_logout: Callback<()>,
) -> impl IntoView {
    let own_id = session.with_value(|s| s.messenger.client.identity().session_id().to_string());
    let kept = session.with_value(|s| s.is_kept());

    let path = RwSignal::new(Vec::<(String, String)>::new());
    let settings = RwSignal::new(session.with_value(|s| s.settings()));
    let persistent = RwSignal::new(None::<bool>);
    spawn_local(async move {
        let s = session.get_value();
        if s.is_kept() {
            persistent.set(Some(storage_is_persistent().await));
        }
        if let Ok(p) = s.messenger.client.current_path().await {
            path.set(
                p.hops
                    .iter()
                    .map(|h| (short_id(&h.ed25519), h.url.clone()))
                    .collect(),
            );
        }
    });
    let save = move |next: murmur_app::settings::Settings| {
        settings.set(next.clone());
        spawn_local(async move {
            let _ = session.get_value().save_settings(next).await;
        });
    };
    let set_autolock = move |value: String| {
        let mut next = settings.get_untracked();
        next.autolock_minutes = value.parse::<u32>().ok().filter(|m| *m > 0);
        save(next);
    };
    // Turning notifications on asks the browser (this runs in the change event, a user
    // gesture); if it refuses, the mode stays off and the user is told why.
    let notify_status = RwSignal::new(None::<&'static str>);
    let set_notifications = move |value: String| {
        let mode = NotificationMode::from_key(&value);
        spawn_local(async move {
            let granted = mode == NotificationMode::Off
                || notify::permitted()
                || notify::request_permission().await;
            let mut next = settings.get_untracked();
            if granted {
                next.notifications = mode;
                notify_status.set(None);
            } else {
                next.notifications = NotificationMode::Off;
                notify_status.set(Some(
                    "This browser blocks notifications for Murmur; allow them in the site settings.",
                ));
            }
            save(next);
        });
    };

    // Change passphrase.
    let (old, new, again) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    let change_status = RwSignal::new(None::<String>);
    let change = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Some(problem) = passphrase_problem(&new.get(), &again.get()) {
            change_status.set(Some(problem.into()));
            return;
        }
        change_status.set(Some("Changing…".into()));
        let (o, n) = (old.get(), new.get());
        spawn_local(async move {
            match session.get_value().change_passphrase(&o, &n).await {
                Ok(()) => {
                    for field in [old, new, again] {
                        field.set(String::new());
                    }
                    change_status.set(Some("Passphrase changed.".into()));
                }
                Err(e) => change_status.set(Some(unlock_message(&e))),
            }
        });
    };

    // Recovery phrase: behind the passphrase when history is kept, behind a click otherwise.
    let phrase = RwSignal::new(None::<String>);
    let phrase_pass = RwSignal::new(String::new());
    let phrase_error = RwSignal::new(None::<String>);
    let reveal = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let pass = phrase_pass.get();
        spawn_local(async move {
            let s = session.get_value();
            let allowed = if s.is_kept() {
                s.check_passphrase(&pass).await
            } else {
                Ok(())
            };
            match allowed {
                Ok(()) => {
                    phrase_pass.set(String::new());
                    phrase_error.set(None);
                    phrase.set(Some(s.recovery_phrase()));
                }
                Err(e) => phrase_error.set(Some(unlock_message(&e))),
            }
        });
    };

    view! {
        <section class="panel" aria-label="Settings">
            <h2>"Your Session ID"</h2>
            <ShareSessionId session_id=own_id />
            <h2>"Onion path"</h2>
            <ol class="path" aria-label="Current onion path">
                {move || path.get().into_iter().enumerate().map(|(i, (id, url))| view! {
                    <li>
                        <span class="hop-role">{if i == 0 { "Guard" } else { "Relay" }}</span>
                        <code>{id}</code>
                        <span class="muted">{url}</span>
                    </li>
                }).collect_view()}
                <li><span class="hop-role">"Swarm"</span><span class="muted">"destination"</span></li>
            </ol>
            <h2>"Notifications"</h2>
            <label>
                "Notify me of new messages "
                <select on:change=move |ev| set_notifications(event_target_value(&ev))
                    prop:value=move || settings.get().notifications.key()>
                    {NotificationMode::ALL.iter().map(|(mode, label)| {
                        let selected = move || settings.get().notifications == *mode;
                        view! { <option value=mode.key() selected=selected>{*label}</option> }
                    }).collect_view()}
                </select>
            </label>
            <p class="status" role="status">{move || notify_status.get()}</p>
            {kept.then(|| view! {
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
                <h2>"Change passphrase"</h2>
                <form on:submit=change>
                    <PasswordField id="old-passphrase" label="Current passphrase" value=old
                        autocomplete="current-password" />
                    <PasswordField id="changed-passphrase" label="New passphrase" value=new
                        autocomplete="new-password" />
                    <PasswordField id="changed-again" label="New passphrase again" value=again
                        autocomplete="new-password" />
                    <p class="status" role="status">{move || change_status.get()}</p>
                    <div class="actions"><button type="submit" class="secondary">"Change passphrase"</button></div>
                </form>
            })}
            <h2>"Recovery phrase"</h2>
            {move || match phrase.get() {
                Some(words) => view! {
                    <PhraseGrid phrase=words />
                    <button class="secondary" on:click=move |_| phrase.set(None)>"Hide"</button>
                }.into_any(),
                None => view! {
                    <form on:submit=reveal>
                        {kept.then(|| view! {
                            <PasswordField id="phrase-passphrase" label="Passphrase" value=phrase_pass
                                autocomplete="current-password" />
                        })}
                        <p class="error" role="alert">{move || phrase_error.get()}</p>
                        <div class="actions"><button type="submit" class="secondary">"Show recovery phrase"</button></div>
                    </form>
                }.into_any(),
            }}
            <h2>"Log out"</h2>
            <ConfirmAction ask="Log out" ask_class="danger"
                warning="Logging out erases this account and its history from this browser."
                cancel="Cancel" confirm="Log out and erase" on_confirm=on_logout />
        </section>
    }
}
