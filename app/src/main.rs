//! murmur-app: the browser client. `main` only mounts the app; see `app.rs`.
#![forbid(unsafe_code)]

mod app;
mod components;
mod onboarding;
mod pages;

use murmur_app::platform;

fn main() {
    leptos::mount::mount_to_body(app::App);
}
