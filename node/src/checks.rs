//! The checks a node makes before acting on a storage request: the rules of
//! `murmur_core::rpc::rules` in Session's fixed order, so the same bad request always gets the
//! same answer and is refused before anything is written — parameters (400), TTL (403), swarm
//! (421, from this node's manifest), clock (406), signature (401). A client's request
//! (`rpc`) and a peer's forwarded write (`replication`) pass the same checks; only the
//! signature window differs.

use murmur_core::rpc::response::Reply;
use murmur_core::rpc::rules::{self, Refusal, Sender};
use murmur_core::rpc::{self, AccountId, Auth, Namespace, Request, auth};

use crate::apply::Write;
use crate::network::Topology;
use crate::storage::{ExpireMode, StoredMessage};

/// A request that passed every check.
#[derive(Debug, Clone)]
pub enum Checked {
    Write(Write),
    Retrieve(Read),
    GetExpiries {
        account: AccountId,
        hashes: Vec<String>,
    },
    GetSwarm(AccountId),
    Info,
}

/// A retrieve that passed every check: what to read.
#[derive(Debug, Clone)]
pub struct Read {
    pub account: AccountId,
    pub namespace: Namespace,
    pub last_hash: String,
    pub max_count: usize,
    pub max_size: usize,
}

/// 421 unless this node's swarm holds `account`: the reply names the swarm that does.
fn check_swarm(topology: &Topology, account: &AccountId, now_ms: u64) -> Result<(), Reply> {
    if topology.owns(account) {
        Ok(())
    } else {
        Err(Reply::json(421, &topology.swarm_response(account, now_ms)))
    }
}

fn authenticate(account: &AccountId, auth: &Auth, request: &Request) -> Result<(), Refusal> {
    let message = request
        .signed_message()
        .expect("only signed methods are authenticated");
    auth::verify(account, auth, &message).map_err(|e| {
        Refusal::unauthorized(
            request.method(),
            matches!(e, murmur_core::Error::Malformed(_)),
        )
    })
}

/// Checks `request` as this node would before acting on it, in Session's order. `sender`
/// sets the signature window (a peer forwarding a client's write gets a little more).
pub fn check(
    topology: &Topology,
    request: &Request,
    now_ms: u64,
    sender: Sender,
) -> Result<Checked, Reply> {
    let refused = Refusal::into_reply;
    let account_of = |pubkey: &str| rules::parse_account(pubkey).map_err(refused);
    Ok(match request {
        Request::Store(p) => {
            let account = account_of(&p.pubkey)?;
            let data = rules::store_data(p).map_err(refused)?;
            let expiry = rules::store_expiry(p).map_err(refused)?;
            check_swarm(topology, &account, now_ms)?;
            rules::check_store_time(p.timestamp, expiry, now_ms).map_err(refused)?;
            if p.namespace.store_needs_auth() {
                rules::check_window(p.sig_timestamp(), now_ms, sender).map_err(refused)?;
                authenticate(&account, &p.auth, request).map_err(refused)?;
            }
            Checked::Write(Write::Store(StoredMessage {
                id: 0,
                hash: rpc::message_hash(&account, p.namespace, &data),
                account,
                namespace: p.namespace,
                timestamp: p.timestamp,
                expiry,
                data,
            }))
        }
        Request::Retrieve(p) => {
            let account = account_of(&p.pubkey)?;
            check_swarm(topology, &account, now_ms)?;
            if p.namespace.retrieve_needs_auth() {
                if p.auth.signature.is_none() {
                    return Err(refused(Refusal::unauthorized("retrieve", true)));
                }
                rules::check_window(p.timestamp, now_ms, sender).map_err(refused)?;
                authenticate(&account, &p.auth, request).map_err(refused)?;
            }
            let (max_count, max_size) = rules::retrieve_limits(p);
            Checked::Retrieve(Read {
                account,
                namespace: p.namespace,
                last_hash: p.last_hash.clone(),
                max_count,
                max_size,
            })
        }
        Request::Delete(p) => {
            let account = account_of(&p.pubkey)?;
            rules::check_hashes(&p.messages).map_err(refused)?;
            check_swarm(topology, &account, now_ms)?;
            authenticate(&account, &p.auth, request).map_err(refused)?;
            Checked::Write(Write::Delete {
                account,
                hashes: p.messages.clone(),
            })
        }
        Request::DeleteAll(p) => {
            let account = account_of(&p.pubkey)?;
            check_swarm(topology, &account, now_ms)?;
            rules::check_window(p.timestamp, now_ms, sender).map_err(refused)?;
            authenticate(&account, &p.auth, request).map_err(refused)?;
            Checked::Write(Write::DeleteAll {
                account,
                namespace: p.namespace,
                timestamp: p.timestamp,
            })
        }
        Request::DeleteBefore(p) => {
            let account = account_of(&p.pubkey)?;
            check_swarm(topology, &account, now_ms)?;
            authenticate(&account, &p.auth, request).map_err(refused)?;
            Checked::Write(Write::DeleteBefore {
                account,
                namespace: p.namespace,
                before: p.before,
            })
        }
        Request::Expire(p) => {
            let account = account_of(&p.pubkey)?;
            rules::check_hashes(&p.messages).map_err(refused)?;
            if p.shorten && p.extend {
                return Err(refused(Refusal::bad(
                    "invalid request: shorten and extend are exclusive",
                )));
            }
            check_swarm(topology, &account, now_ms)?;
            rules::check_new_expiry("expire", p.expiry, now_ms, sender).map_err(refused)?;
            authenticate(&account, &p.auth, request).map_err(refused)?;
            let mode = if p.shorten {
                ExpireMode::Shorten
            } else if p.extend {
                ExpireMode::Extend
            } else {
                ExpireMode::Set
            };
            Checked::Write(Write::Expire {
                account,
                hashes: p.messages.clone(),
                expiry: rules::clamp_expiry(p.expiry, now_ms),
                mode,
                now_ms,
            })
        }
        Request::ExpireAll(p) => {
            let account = account_of(&p.pubkey)?;
            check_swarm(topology, &account, now_ms)?;
            rules::check_new_expiry("expire_all", p.expiry, now_ms, sender).map_err(refused)?;
            authenticate(&account, &p.auth, request).map_err(refused)?;
            Checked::Write(Write::ExpireAll {
                account,
                namespace: p.namespace,
                expiry: rules::clamp_expiry(p.expiry, now_ms),
            })
        }
        Request::GetExpiries(p) => {
            let account = account_of(&p.pubkey)?;
            rules::check_hashes(&p.messages).map_err(refused)?;
            check_swarm(topology, &account, now_ms)?;
            rules::check_window(p.timestamp, now_ms, sender).map_err(refused)?;
            authenticate(&account, &p.auth, request).map_err(refused)?;
            Checked::GetExpiries {
                account,
                hashes: p.messages.clone(),
            }
        }
        Request::GetSwarm(p) => Checked::GetSwarm(account_of(&p.pubkey)?),
        Request::Info => Checked::Info,
        Request::Batch(_) | Request::Sequence(_) | Request::WaitRetrieve(_) => {
            return Err(refused(Refusal::bad(
                "invalid request: batches cannot nest",
            )));
        }
    })
}
