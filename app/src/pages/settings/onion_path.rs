//! The onion path this session's requests take now: guard, relay, then the swarm.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::SharedSession;
use crate::components::short_id;

#[component]
pub fn OnionPath(session: SharedSession) -> impl IntoView {
    let path = RwSignal::new(Vec::<(String, String)>::new());
    spawn_local(async move {
        if let Ok(p) = session.get_value().messenger.client.current_path().await {
            path.set(
                p.hops
                    .iter()
                    .map(|h| (short_id(&h.ed25519), h.url.clone()))
                    .collect(),
            );
        }
    });
    view! {
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
    }
}
