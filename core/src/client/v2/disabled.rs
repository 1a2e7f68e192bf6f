//! A client built without protocol v2 (the web app, for now): v1 to everyone, no device group;
//! a v2 message does not open as v1 and is skipped like any other that does not open.

use rand_core::CryptoRng;

use super::{Protocol, V2Status};
use crate::client::engine::Client;
use crate::client::error::ClientResult;
use crate::client::platform::{Clock, Store, Transport};
use crate::keys::SessionId;
use crate::message::Received;

impl<T: Transport, C: Clock, S: Store, R: CryptoRng> Client<T, C, S, R> {
    pub async fn v2_status(&self) -> ClientResult<V2Status> {
        Ok(V2Status::Off)
    }

    pub async fn maintain_v2(&self) -> ClientResult<V2Status> {
        Ok(V2Status::Off)
    }

    pub async fn read_device_group(&self) -> ClientResult<usize> {
        Ok(0)
    }

    pub(in crate::client) async fn seal_direct(
        &self,
        to: &SessionId,
        content: &[u8],
        sent_ms: u64,
    ) -> ClientResult<(Vec<u8>, Protocol)> {
        self.seal_v1(to, content, sent_ms)
    }

    pub(in crate::client) async fn open_direct(
        &self,
        data: &[u8],
    ) -> ClientResult<(Received, Protocol)> {
        self.open_v1(data)
    }
}
