//! Everything one running node shares between its handlers and background tasks.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Config;
use crate::identity::NodeIdentity;
use crate::metrics::Metrics;
use crate::network::Network;
use crate::peer::Caller;
use crate::ratelimit::RateLimiter;
use crate::storage::Storage;

/// One node's state.
#[derive(Debug)]
pub struct Node {
    pub config: Config,
    pub identity: NodeIdentity,
    pub storage: Arc<Storage>,
    /// Clients' stores, committed in groups.
    pub commits: crate::commit::GroupCommit,
    pub network: Network,
    pub metrics: Metrics,
    pub limiter: RateLimiter,
    pub clock: Arc<Clock>,
    /// Keep-alive connection pool for relaying onion requests and talking to peers.
    pub http: reqwest::Client,
    /// The queues of writes being forwarded to each swarm peer.
    pub forwarder: crate::replication::Forwarder,
}

impl Node {
    /// What sending a signed peer request takes (key, clock, HTTP client).
    pub fn caller(&self) -> Caller<'_> {
        Caller {
            signer: &self.identity,
            clock: &self.clock,
            http: &self.http,
        }
    }
}

/// The state as handlers hold it.
pub type SharedNode = Arc<Node>;
