//! Protocol v2 (`../shared/protocol/SESSION-V2.md`): forward-secret, post-quantum direct
//! messages. [`keys`] expands account and device keys, [`record`] is the signed −21 record that
//! publishes an account's keys, [`dm`] seals and opens messages.

pub mod account;
pub mod devices;
pub mod dm;
pub mod keys;
pub mod record;
pub mod xeddsa;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod tests;
