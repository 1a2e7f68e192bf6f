//! Applying one checked write to this node's own store, and signing this node's result.
//!
//! Nothing here forwards, checks signatures or reads the clock: a [`Write`] has passed every
//! rule already (`rpc::check` for a client's request, the same checks for a peer's), and what
//! comes back is this node's own entry for the reply's `swarm` map. Clients' writes are
//! coordinated across the swarm by `rpc`; peers' writes arrive at `replication`, and both call
//! [`apply`].

use murmur_core::crypto;
use murmur_core::rpc::AccountId;
use murmur_core::rpc::Namespace;
use murmur_core::rpc::response::{
    DeleteNodeResult, ExpireAllNodeResult, ExpireNodeResult, FailedEntry, RevokeNodeResult,
    StoreNodeResult, node_sig,
};
use murmur_core::rpc::rules;
use serde::Serialize;

use crate::identity::NodeIdentity;
use crate::storage::{ExpireMode, Storage, StorageError, StoreOutcome, StoredMessage};

/// A write that passed every check.
#[derive(Debug, Clone)]
pub enum Write {
    Store(StoredMessage),
    /// `now_ms`: when it is applied, from which its hashes are remembered as deleted.
    Delete {
        account: AccountId,
        hashes: Vec<String>,
        now_ms: u64,
    },
    DeleteAll {
        account: AccountId,
        namespace: Namespace,
        timestamp: u64,
    },
    DeleteBefore {
        account: AccountId,
        namespace: Namespace,
        before: u64,
    },
    /// `expiry` already clamped to the longest TTL from now.
    Expire {
        account: AccountId,
        hashes: Vec<String>,
        expiry: u64,
        mode: ExpireMode,
        now_ms: u64,
    },
    ExpireAll {
        account: AccountId,
        namespace: Namespace,
        expiry: u64,
    },
    /// A group owner's revocation (or, `unrevoke`, restoration) of member tokens; `signed`
    /// is the owner's request as JSON, kept for swarm peers that missed it.
    Revoke {
        account: AccountId,
        tokens: Vec<[u8; 36]>,
        unrevoke: bool,
        timestamp: u64,
        signed: String,
    },
}

/// This node's signed result for a write.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Applied {
    Store(StoreNodeResult),
    Delete(DeleteNodeResult),
    Expire(ExpireNodeResult),
    ExpireAll(ExpireAllNodeResult),
    Revoke(RevokeNodeResult),
}

/// Stores `msgs` in one transaction ([`Storage::store_all`]) and signs each result: the
/// group commit of a peer's batch of forwarded stores.
pub fn apply_stores(
    storage: &Storage,
    identity: &NodeIdentity,
    msgs: &[&StoredMessage],
) -> Vec<Result<Applied, StorageError>> {
    storage
        .store_all(msgs)
        .into_iter()
        .zip(msgs)
        .map(|(outcome, msg)| Ok(store_result(identity, msg, outcome?)))
        .collect()
}

/// This node's signed result for a store.
pub fn store_result(
    identity: &NodeIdentity,
    msg: &StoredMessage,
    outcome: StoreOutcome,
) -> Applied {
    let (expiry, already) = match outcome {
        StoreOutcome::Stored { expiry } => (expiry, false),
        StoreOutcome::Already { expiry } => (expiry, true),
        // It was here, and its owner deleted it: the store is answered as a duplicate.
        StoreOutcome::Deleted => (msg.expiry, true),
    };
    Applied::Store(StoreNodeResult {
        hash: msg.hash.clone(),
        signature: crypto::b64_encode(&identity.sign(&node_sig::store(&msg.hash))),
        expiry,
        already,
    })
}

/// Applies `write` to `storage` and signs the result with `identity`'s key.
pub fn apply(
    storage: &Storage,
    identity: &NodeIdentity,
    write: &Write,
) -> Result<Applied, StorageError> {
    let sign = |message: &[u8]| crypto::b64_encode(&identity.sign(message));
    Ok(match write {
        Write::Store(msg) => store_result(
            identity,
            msg,
            storage.store(msg, msg.namespace.is_public_outbox())?,
        ),
        Write::Delete {
            account,
            hashes,
            now_ms,
        } => {
            let deleted = storage.delete(account, hashes, *now_ms)?;
            let signature = sign(&node_sig::delete(&account.to_hex(), hashes, &deleted));
            Applied::Delete(DeleteNodeResult { deleted, signature })
        }
        Write::DeleteAll {
            account,
            namespace,
            timestamp,
        } => {
            let deleted = storage.delete_all(account, *namespace)?;
            let signature = sign(&node_sig::delete_all(
                &account.to_hex(),
                *timestamp,
                &deleted,
            ));
            Applied::Delete(DeleteNodeResult { deleted, signature })
        }
        Write::DeleteBefore {
            account,
            namespace,
            before,
        } => {
            let deleted = storage.delete_before(account, *namespace, *before)?;
            let signature = sign(&node_sig::delete_before(
                &account.to_hex(),
                *before,
                &deleted,
            ));
            Applied::Delete(DeleteNodeResult { deleted, signature })
        }
        Write::Expire {
            account,
            hashes,
            expiry,
            mode,
            now_ms,
        } => {
            let (updated, unchanged) = storage.expire(account, hashes, *expiry, *mode, *now_ms)?;
            let signature = sign(&node_sig::expire(
                &account.to_hex(),
                *expiry,
                hashes,
                &updated,
                &unchanged,
            ));
            Applied::Expire(ExpireNodeResult {
                updated,
                expiry: *expiry,
                signature,
                unchanged: (*mode != ExpireMode::Set).then_some(unchanged),
            })
        }
        Write::ExpireAll {
            account,
            namespace,
            expiry,
        } => {
            let updated = storage.expire_all(account, *namespace, *expiry)?;
            let signature = sign(&node_sig::expire_all(&account.to_hex(), *expiry, &updated));
            Applied::ExpireAll(ExpireAllNodeResult { updated, signature })
        }
        Write::Revoke {
            account,
            tokens,
            unrevoke,
            timestamp,
            signed,
        } => {
            storage.change_subaccounts(account, tokens, !unrevoke, *timestamp, Some(signed))?;
            let signature = sign(&node_sig::revoke(&account.to_hex(), *timestamp, tokens));
            Applied::Revoke(RevokeNodeResult { signature })
        }
    })
}

/// A storage failure as this node's entry: the status it answers with and the failure entry
/// (the detail goes to the log, never to the client).
pub fn failure(e: &StorageError) -> (u16, FailedEntry) {
    match e {
        StorageError::Full => (507, FailedEntry::refused(507, "storage full")),
        StorageError::AccountFull => (507, FailedEntry::refused(507, rules::MAILBOX_FULL)),
        StorageError::DiskFull => {
            tracing::error!("disk full: refusing writes until space is freed");
            (507, FailedEntry::refused(507, "disk full"))
        }
        StorageError::Db(e) => {
            tracing::error!(error = %e, "database error");
            (500, FailedEntry::refused(500, "internal error"))
        }
    }
}
