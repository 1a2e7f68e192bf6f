//! Protocol v2 in the client (SESSION-V2.md; docs/protocol.md "Protocol v2: when a device
//! publishes"): this device's keys and its account's device group, the −21 record that
//! publishes the account keys, the cache of other accounts' published keys, and the choice of
//! v1 or v2 for each message.
//!
//! A device that may publish (a kept profile, a CLI home; never a temporary session) founds
//! the account's device group on its first use of the network, unless the account already has
//! one (a `G` message in namespace 21, or a −21 record this device did not write): then it
//! must be linked from a device of that group instead. A member rotates the account key on
//! its schedule, publishes each new key at −21 and forgets keys past retention.

//!
//! The implementation (`enabled`) is behind the `v2-client` feature, which the CLI turns on.
//! The web app leaves it off for now: it costs ~41 KB gzip of wasm (ML-KEM, SHA-3, the device
//! group), past the bundle's budget. Built without it (`disabled`), a client sends v1 to
//! everyone, and a v2 message is one more that does not open.

#[cfg(not(feature = "v2-client"))]
mod disabled;
#[cfg(feature = "v2-client")]
mod enabled;

#[cfg(feature = "v2-client")]
pub(super) use enabled::DeviceKeys;
#[cfg(feature = "v2-client")]
pub use enabled::{DeviceInfo, LinkRequestInfo, LinkStarted};

use rand_core::CryptoRng;

use super::engine::Client;
use super::error::ClientResult;
use super::platform::{Clock, Store, Transport};
use crate::keys::SessionId;
use crate::message::Received;
use crate::rpc::Namespace;
use crate::v2::devices::message::GroupId;

/// v1, with or without v2 built in: sealed to the recipient's long-term key, and opened.
impl<T: Transport, C: Clock, S: Store, R: CryptoRng> Client<T, C, S, R> {
    fn seal_v1(
        &self,
        to: &SessionId,
        content: &[u8],
        sent_ms: u64,
    ) -> ClientResult<(Vec<u8>, Protocol)> {
        let data = crate::message::encode_direct_bytes(
            &self.identity,
            to,
            content,
            sent_ms,
            &mut *self.rng.borrow_mut(),
        )?;
        Ok((data, Protocol::V1))
    }

    fn open_v1(&self, data: &[u8]) -> ClientResult<(Received, Protocol)> {
        let received = crate::message::decode_direct_message(&self.identity, data)?;
        Ok((received, Protocol::V1))
    }
}

/// Where an account publishes its keys: one message, readable by anyone.
pub const NAMESPACE_OUTBOX: Namespace = Namespace(crate::v2::record::NAMESPACE as i16);
/// The account's device group: only the account reads and writes it.
pub const NAMESPACE_DEVICES: Namespace = Namespace(crate::v2::devices::NAMESPACE as i16);
/// This device's kind in its record (`c`: a CLI; a browser says `w`).
pub const KIND_CLI: &str = "c";
pub const KIND_WEB: &str = "w";

/// How a message was (or will be) protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// v1: sealed to the recipient's long-term key.
    V1,
    /// v2 with forward secrecy and post-quantum protection.
    V2Pfs,
    /// v2 to the long-term key: post-quantum framing, no forward secrecy.
    V2NoPfs,
}

impl Protocol {
    /// The name scripts see (`murmur inbox --json`'s `"protocol"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "v1",
            Self::V2Pfs => "v2",
            Self::V2NoPfs => "v2-nopfs",
        }
    }
}

/// What this device knows of its place in the account's device group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum V2Status {
    /// This client does not publish (a temporary session).
    Off,
    /// Not on the network yet: nothing founded or found.
    NotYet,
    /// The account has a device group elsewhere: link this device from one of its devices.
    Unlinked,
    /// A member of the group.
    Member {
        group_id: GroupId,
        devices: usize,
        /// When the current account key was made, and when this device will rotate it
        /// (unix seconds).
        key_created_s: u64,
        next_rotation_s: u64,
        /// Whether the current key is the one published at −21.
        published: bool,
    },
}
