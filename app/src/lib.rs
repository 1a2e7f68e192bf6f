//! murmur-app as a library: the browser platform the client engine runs on (`platform`) and
//! the runtime configuration (`config`).
//! The screens live in the binary (`main.rs`); the platform is a library so its wasm tests in
//! headless Chromium (`app/tests/`) can reach it.
#![forbid(unsafe_code)]

pub mod config;
pub mod onboarding;
pub mod platform;
#[cfg(target_arch = "wasm32")]
pub mod session;
pub mod settings;
