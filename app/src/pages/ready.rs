//! The account is set up. (Chats arrive with the web-app issue; for now this shows who you are.)

use leptos::prelude::*;
use murmur_core::Identity;

use crate::components::session_id::ShareSessionId;

#[component]
pub fn ReadyPage(identity: Identity) -> impl IntoView {
    let session_id = identity.session_id().to_string();
    view! {
        <section class="card" aria-labelledby="ready-title">
            <h1 id="ready-title">"You're all set"</h1>
            <p>"Your account lives on this device. Your Session ID:"</p>
            <ShareSessionId session_id />
        </section>
    }
}
