//! One page per file.
pub mod create;
pub mod ready;
pub mod restore;
pub mod welcome;
