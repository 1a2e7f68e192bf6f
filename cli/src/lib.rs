//! murmur-cli as a library: the native platform for `murmur_core::client` and the layout of a
//! `murmur` home directory, and files on disk as uploads and downloads. The `murmur` binary is
//! built on it; so are the delivery tests.

pub mod contacts;
pub mod files;
pub mod home;
pub mod index;
pub mod platform;
pub mod settings;
