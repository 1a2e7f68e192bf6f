//! Create an account: show the new Session ID and its QR code, then the recovery phrase behind
//! a reveal step, then ask for two of its words back before going on.

use leptos::prelude::*;
use murmur_core::Identity;

use crate::components::{phrase::PhraseGrid, session_id::ShareSessionId};
use murmur_app::onboarding::{CONFIRM_POSITIONS, NewAccount};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Hidden,
    Revealed,
    Confirm,
}

#[component]
pub fn CreatePage(on_done: Callback<Identity>, on_back: Callback<()>) -> impl IntoView {
    let account = StoredValue::new(NewAccount::generate());
    let session_id = account.with_value(|a| a.identity.session_id().to_string());
    let step = RwSignal::new(Step::Hidden);
    let answers = [RwSignal::new(String::new()), RwSignal::new(String::new())];
    let error = RwSignal::new(false);

    let confirm = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let ok = account.with_value(|a| a.confirms([&answers[0].get(), &answers[1].get()]));
        if ok {
            on_done.run(account.with_value(|a| a.identity.clone()));
        } else {
            error.set(true);
        }
    };

    view! {
        <section class="card" aria-labelledby="create-title">
            <h1 id="create-title">"Your new account"</h1>
            <p>"This is your Session ID. Share it with people so they can message you."</p>
            <ShareSessionId session_id />
            <h2>"Recovery phrase"</h2>
            <p>
                "These 13 words are the only way back into your account. Write them down and keep "
                "them somewhere safe; anyone who has them can read your messages."
            </p>
            {move || match step.get() {
                Step::Hidden => view! {
                    <button class="primary" on:click=move |_| step.set(Step::Revealed)>
                        "Reveal recovery phrase"
                    </button>
                }.into_any(),
                Step::Revealed => view! {
                    {match account.with_value(NewAccount::phrase) {
                        Ok(phrase) => view! { <PhraseGrid phrase /> }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    }}
                    <button class="primary" on:click=move |_| step.set(Step::Confirm)>
                        "I have written it down"
                    </button>
                }.into_any(),
                Step::Confirm => view! {
                    <form class="confirm" on:submit=confirm>
                        <p>"Type two of the words to check you have them."</p>
                        {CONFIRM_POSITIONS.iter().zip(answers).map(|(pos, answer)| {
                            let id = format!("confirm-word-{pos}");
                            view! {
                                <label for=id.clone()>{format!("Word {pos}")}</label>
                                <input id=id type="text" autocomplete="off" autocapitalize="none"
                                    spellcheck="false" required
                                    prop:value=move || answer.get()
                                    on:input=move |ev| { error.set(false); answer.set(event_target_value(&ev)); } />
                            }
                        }).collect_view()}
                        <p class="error" role="alert">
                            {move || error.get().then_some("Those words do not match. Check your copy of the phrase.")}
                        </p>
                        <div class="actions">
                            <button type="button" class="secondary" on:click=move |_| step.set(Step::Revealed)>
                                "Show the phrase again"
                            </button>
                            <button type="submit" class="primary">"Confirm"</button>
                        </div>
                    </form>
                }.into_any(),
            }}
            <button class="link" on:click=move |_| on_back.run(())>"Back"</button>
        </section>
    }
}
