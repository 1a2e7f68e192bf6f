//! murmur-app: the browser client. `main` only mounts the app; see `app.rs`.
//!
//! The screens need the browser (IndexedDB, fetch), so they are built for wasm32 only; the plain
//! models they use live in the library (`murmur_app::onboarding`) and are tested natively.
#![forbid(unsafe_code)]

#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod components;
#[cfg(target_arch = "wasm32")]
mod pages;
#[cfg(target_arch = "wasm32")]
mod runtime;

#[cfg(target_arch = "wasm32")]
use murmur_app::platform;

#[cfg(target_arch = "wasm32")]
fn main() {
    platform::links::link_messages();
    leptos::mount::mount_to_body(app::App);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("murmur-app runs in a browser: build it with `trunk build` (see README).");
    std::process::exit(2);
}
