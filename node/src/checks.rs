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

/// Whether a group's member token is revoked (the node's revocation list).
pub type Revoked<'a> = &'a dyn Fn(&AccountId, &[u8; 36]) -> bool;

/// What a request needs: the account's own signature, or a member token (for group accounts)
/// that carries `required` and is not revoked (or `unrevocable`: a revoked member may still
/// read there).
struct Access<'a> {
    required: u8,
    unrevocable: bool,
    revoked: Revoked<'a>,
}

fn authenticate(
    account: &AccountId,
    auth: &Auth,
    request: &Request,
    access: &Access<'_>,
) -> Result<(), Refusal> {
    let message = request
        .signed_message()
        .expect("only signed methods are authenticated");
    let refuse = |malformed| Refusal::unauthorized(request.method(), malformed);
    let token = auth::presented_token(auth).map_err(|_| refuse(true))?;
    if let Some(token) = token
        && !access.unrevocable
        && (access.revoked)(account, &token)
    {
        return Err(refuse(false));
    }
    auth::verify_with(account, auth, &message, access.required)
        .map_err(|e| refuse(matches!(e, murmur_core::Error::Malformed(_))))
}

/// Checks `request` as this node would before acting on it, in Session's order. `sender`
/// sets the signature window (a peer forwarding a client's write gets a little more).
pub fn check(
    topology: &Topology,
    request: &Request,
    now_ms: u64,
    sender: Sender,
    revoked: Revoked<'_>,
) -> Result<Checked, Reply> {
    use murmur_core::groups::auth::{FLAG_DELETE, FLAG_READ, FLAG_WRITE};
    let access = |required| Access {
        required,
        unrevocable: false,
        revoked,
    };
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
                // Storing into a public outbox replaces what is there: delete too.
                let required = if p.namespace.is_public_outbox() {
                    FLAG_WRITE | FLAG_DELETE
                } else {
                    FLAG_WRITE
                };
                authenticate(&account, &p.auth, request, &access(required)).map_err(refused)?;
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
                let read = Access {
                    unrevocable: p.namespace.is_unrevocable(),
                    ..access(FLAG_READ)
                };
                authenticate(&account, &p.auth, request, &read).map_err(refused)?;
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
            authenticate(&account, &p.auth, request, &access(FLAG_DELETE)).map_err(refused)?;
            Checked::Write(Write::Delete {
                account,
                hashes: p.messages.clone(),
                now_ms,
            })
        }
        Request::DeleteAll(p) => {
            let account = account_of(&p.pubkey)?;
            check_swarm(topology, &account, now_ms)?;
            rules::check_window(p.timestamp, now_ms, sender).map_err(refused)?;
            authenticate(&account, &p.auth, request, &access(FLAG_DELETE)).map_err(refused)?;
            Checked::Write(Write::DeleteAll {
                account,
                namespace: p.namespace,
                timestamp: p.timestamp,
            })
        }
        Request::DeleteBefore(p) => {
            let account = account_of(&p.pubkey)?;
            check_swarm(topology, &account, now_ms)?;
            authenticate(&account, &p.auth, request, &access(FLAG_DELETE)).map_err(refused)?;
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
            // A member needs write; shortening needs delete too, and without delete the
            // node only ever extends (SESSION-GROUPS.md §2).
            let required = if p.shorten {
                FLAG_WRITE | FLAG_DELETE
            } else {
                FLAG_WRITE
            };
            authenticate(&account, &p.auth, request, &access(required)).map_err(refused)?;
            let token_deletes = auth::presented_token(&p.auth)
                .ok()
                .flatten()
                .is_none_or(|t| t[1] & FLAG_DELETE != 0);
            let mode = if p.shorten {
                ExpireMode::Shorten
            } else if p.extend || !token_deletes {
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
            authenticate(
                &account,
                &p.auth,
                request,
                &access(FLAG_WRITE | FLAG_DELETE),
            )
            .map_err(refused)?;
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
            authenticate(&account, &p.auth, request, &access(FLAG_READ)).map_err(refused)?;
            Checked::GetExpiries {
                account,
                hashes: p.messages.clone(),
            }
        }
        Request::Revoke {
            params: p,
            unrevoke,
        } => Checked::Write(check_revoke(
            topology,
            request,
            p,
            *unrevoke,
            now_ms,
            Window::Signature(sender),
        )?),
        Request::GetSwarm(p) => Checked::GetSwarm(account_of(&p.pubkey)?),
        Request::Info => Checked::Info,
        Request::Batch(_) | Request::Sequence(_) | Request::WaitRetrieve(_) => {
            return Err(refused(Refusal::bad(
                "invalid request: batches cannot nest",
            )));
        }
    })
}

/// How a revocation's signed time is held against the node's clock.
#[derive(Clone, Copy)]
enum Window {
    /// Within the signature window of a request just made (a client's, or a peer's forward).
    Signature(Sender),
    /// Any time up to now (and a forward's tolerance ahead): a change the owner made while
    /// this node was away, read from a peer's log at catch-up.
    NotAhead,
}

/// Checks a `revoke_subaccount` / `unrevoke_subaccount` request `p`: tokens, swarm, time, and
/// the group's own signature (a member token cannot revoke).
fn check_revoke(
    topology: &Topology,
    request: &Request,
    p: &murmur_core::rpc::RevokeParams,
    unrevoke: bool,
    now_ms: u64,
    window: Window,
) -> Result<Write, Reply> {
    let refused = Refusal::into_reply;
    let account = rules::parse_account(&p.pubkey).map_err(refused)?;
    if account.prefix() != 0x03 {
        return Err(refused(Refusal::bad(
            "invalid request: only group accounts have subaccounts",
        )));
    }
    if p.tokens.is_empty() || p.tokens.len() > crate::storage::REVOKED_MAX {
        return Err(refused(Refusal::bad(
            "invalid request: 1 to 50 tokens at a time",
        )));
    }
    let tokens = p
        .tokens
        .iter()
        .map(|t| auth::decode_token(t))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| refused(Refusal::bad("invalid request: a token is not 36 bytes")))?;
    check_swarm(topology, &account, now_ms)?;
    match window {
        Window::Signature(sender) => rules::check_window(p.timestamp, now_ms, sender),
        Window::NotAhead if p.timestamp > now_ms + rpc::FORWARDED_SIGNATURE_TOLERANCE_MS => {
            Err(Refusal::clock())
        }
        Window::NotAhead => Ok(()),
    }
    .map_err(refused)?;
    if p.auth.subaccount.is_some() {
        return Err(refused(Refusal::unauthorized(request.method(), false)));
    }
    let access = Access {
        required: 0,
        unrevocable: false,
        revoked: &|_, _| false,
    };
    authenticate(&account, &p.auth, request, &access).map_err(refused)?;
    Ok(Write::Revoke {
        account,
        tokens,
        unrevoke,
        timestamp: p.timestamp,
        signed: request.to_json().to_string(),
    })
}

/// Checks a subaccount change read from a swarm peer's log at catch-up: only a
/// `revoke_subaccount` / `unrevoke_subaccount` request, for this swarm, signed by the group,
/// made at any time up to now. A peer cannot forge one, only show what the owner signed.
pub fn check_logged_change(
    topology: &Topology,
    request: &Request,
    now_ms: u64,
) -> Result<Write, Reply> {
    match request {
        Request::Revoke { params, unrevoke } => check_revoke(
            topology,
            request,
            params,
            *unrevoke,
            now_ms,
            Window::NotAhead,
        ),
        _ => Err(Refusal::into_reply(Refusal::bad(
            "invalid request: not a subaccount change",
        ))),
    }
}
