//! One page per file.
pub mod chat;
pub mod create;
pub mod navigation;
pub mod restore;
pub mod settings;
pub mod storage;
pub mod unlock;
pub mod welcome;
