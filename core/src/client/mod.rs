//! The client engine (DESIGN.md §2 `client`), built up piece by piece: sans-IO state that the
//! browser app and the native CLI drive through their own transports.
//!
//! - `path`: guards and three-hop onion paths, with Session's failure policy.

pub mod path;
