//! Live delivery: [`Client::live`] is one step of following the inbox with waiting retrieves
//! (`wait_retrieve`, `docs/protocol.md`), falling back to plain polling where nodes do not
//! hold waits.
//!
//! One wait covers every namespace the client follows in a swarm (today the DM namespace of
//! its own account; groups and protocol v2 add targets in the same request). Each step waits
//! at the next member of the swarm in turn, so a member that withholds messages delays them
//! by at most one wait: the next step asks another member, whose `last_hash` brings them.
//! A member the manifest does not name as `waiting_retrieve`-capable, one that refused a
//! wait, and one that answered "nothing" long before the wait was up (a node that does not
//! hold, or a liar making the client spin) is not asked to wait for [`DEMOTED_MS`]; with no
//! member left to wait at, a step is a plain [`Client::poll`] and the caller sleeps its poll
//! interval before the next.

use rand_core::CryptoRng;

use super::engine::Client;
use super::error::{ClientError, ClientResult};
use super::messaging::{Incoming, NAMESPACE_DM};
use super::platform::{Clock, Store, Transport};
use crate::limits::MAX_RETRIEVE_WAIT_MS;
use crate::network::{CAPABILITY_WAITING_RETRIEVE, ManifestNode};
use crate::rpc::response::RetrieveResponse;
use crate::rpc::{AccountId, Request, RetrieveParams, WaitRetrieveParams};

/// How long a member that would not hold a wait is polled instead.
pub const DEMOTED_MS: u64 = 10 * 60 * 1000;
/// How long each wait asks the node to hold it.
pub const LIVE_WAIT_MS: u64 = MAX_RETRIEVE_WAIT_MS;

/// What one step of following did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A member held a wait until messages arrived or the wait ended: take the next step at
    /// once.
    Waited(Vec<Incoming>),
    /// No member holds waits now: the messages of a plain poll. Sleep the poll interval
    /// before the next step.
    Polled(Vec<Incoming>),
}

impl Step {
    /// The messages the step brought.
    pub fn messages(self) -> Vec<Incoming> {
        match self {
            Self::Waited(m) | Self::Polled(m) => m,
        }
    }
}

/// Who is asked to wait next, and who is not asked for now.
#[derive(Debug, Default)]
pub(super) struct LiveState {
    turn: usize,
    /// Member (Ed25519 hex) → local time until which it is polled, not waited at.
    demoted: Vec<(String, u64)>,
}

impl LiveState {
    fn demote(&mut self, node: &str, until_ms: u64) {
        self.demoted.retain(|(n, _)| n != node);
        self.demoted.push((node.to_string(), until_ms));
    }

    fn is_demoted(&self, node: &str, now_ms: u64) -> bool {
        self.demoted
            .iter()
            .any(|(n, until)| n == node && *until > now_ms)
    }
}

impl<T: Transport, C: Clock, S: Store, R: CryptoRng> Client<T, C, S, R> {
    /// One step of following the inbox: a waiting retrieve at the next member of our swarm
    /// that holds waits, else a plain poll. Messages are verified and handed out once, as
    /// [`Client::poll`] does.
    pub async fn live(&self) -> ClientResult<Step> {
        self.follow(true).await
    }

    /// [`Client::live`] when `wait`, else a plain poll (a hidden tab), through one call site
    /// of the poll (the browser build stays small).
    pub async fn follow(&self, wait: bool) -> ClientResult<Step> {
        let waited = if wait { self.wait_step().await? } else { None };
        Ok(match waited {
            Some(messages) => Step::Waited(messages),
            None => Step::Polled(self.poll().await?),
        })
    }

    /// A waiting retrieve at the next member that holds waits; `None` when none does (the
    /// caller polls).
    async fn wait_step(&self) -> ClientResult<Option<Vec<Incoming>>> {
        self.ready().await?;
        // Rotating and publishing keys is due whether or not anything is sent.
        let _ = self.maintain_v2().await;
        let account = AccountId::from(self.identity.session_id());
        let local_now = self.clock.now_ms();
        let members: Vec<ManifestNode> = {
            let st = self.state.borrow();
            self.swarm_of(&account)
                .into_iter()
                .filter(|n| {
                    n.has_capability(CAPABILITY_WAITING_RETRIEVE)
                        && !st.live.is_demoted(&n.ed25519, local_now)
                })
                .collect()
        };
        if members.is_empty() {
            return Ok(None);
        }
        // This step's member first, the rest as fallback.
        let mut candidates = members;
        let turn = self.state.borrow().live.turn % candidates.len();
        candidates.rotate_left(turn);
        let last_hashes = self.last_hashes(&candidates).await?;
        let asked = std::cell::RefCell::new(Vec::<String>::new());
        let identity = &self.identity;
        let make = |now: u64, node: &ManifestNode| {
            asked.borrow_mut().push(node.ed25519.clone());
            let retrieve = RetrieveParams::new(
                &account,
                NAMESPACE_DM,
                last_hashes.get(&node.ed25519).cloned().unwrap_or_default(),
                now,
            );
            let Request::Retrieve(signed) = Request::Retrieve(retrieve).signed_by(identity) else {
                unreachable!("a retrieve signs as a retrieve")
            };
            Request::WaitRetrieve(WaitRetrieveParams {
                requests: vec![signed],
                wait_ms: LIVE_WAIT_MS,
            })
        };
        let result = self.call(candidates.clone(), Some(&account), &make).await;
        let until = local_now.saturating_add(DEMOTED_MS);
        let (node, reply) = match result {
            Ok(answer) => answer,
            Err(ClientError::Refused { .. } | ClientError::MailboxFull) => {
                // Every member refused to wait (an older build, or its bounds): poll them.
                {
                    let mut st = self.state.borrow_mut();
                    for n in &candidates {
                        st.live.demote(&n.ed25519, until);
                    }
                }
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let page = reply
            .only_result()
            .filter(|r| r.status == 200)
            .and_then(|r| r.parse::<RetrieveResponse>());
        {
            let mut st = self.state.borrow_mut();
            // Those asked before the one that answered refused or could not be reached.
            for n in asked.borrow().iter().filter(|n| **n != node.ed25519) {
                st.live.demote(n, until);
            }
        }
        let Some(page) = page else {
            self.state.borrow_mut().live.demote(&node.ed25519, until);
            return Err(crate::Error::Malformed("wait reply has the wrong shape").into());
        };
        let held_ms = self.clock.now_ms().saturating_sub(local_now);
        if page.messages.is_empty() && held_ms < LIVE_WAIT_MS / 2 {
            // "Nothing" long before the wait was up: this member does not hold waits.
            self.state.borrow_mut().live.demote(&node.ed25519, until);
        }
        if !page.more {
            // The next step waits at the next member; with more to read, here again.
            self.state.borrow_mut().live.turn = turn + 1;
        }
        let mut fresh = Vec::new();
        let mut marked = false;
        self.take_page(&node, &account, &page, &mut fresh, &mut marked)
            .await?;
        Ok(Some(self.hand_out(fresh, marked).await?))
    }
}
