//! The limits that nodes, relays and clients tune together, in one table (`docs/protocol.md`
//! lists them). A limit that two sides must agree on — a body a relay accepts and a client
//! sends, a wait a relay outlasts — is one constant here, used by both.
//!
//! Some are not enforced yet: they are the numbers the next pieces of work (waiting retrieve,
//! per-account quotas, the file server, connection caps) build on, written down once so their
//! relationships are checked at compile time below instead of rediscovered later. Each says so.
//!
//! Protocol constants of Session's storage RPC (message size, TTLs, signature windows, batch
//! size) stay in [`crate::rpc`], beside the rules that use them.

/// Largest onion request body a node accepts (10 MiB + framing, Session's attachment bound).
pub const MAX_ONION_BODY: usize = 10 * 1024 * 1024 + 4096;
/// Largest `/storage_rpc/v1` body: a batch of 20 maximal stores in base64, plus JSON.
pub const STORAGE_RPC_MAX_BODY: usize = 3 * 1024 * 1024;
/// Largest node-to-node write a node reads: a forwarded client store (at most
/// [`STORAGE_RPC_MAX_BODY`]) or one handoff batch (cut to [`HANDOFF_BATCH_BYTES`]).
pub const PEER_MAX_BODY: usize = 4 * 1024 * 1024;
/// The message data one handoff request carries at most (base64 and JSON come on top).
pub const HANDOFF_BATCH_BYTES: usize = 2 * 1024 * 1024;
/// Largest catch-up page request (a swarm id and a cursor, or the local ids of up to a page of
/// messages: 500 ids of up to 19 digits).
pub const PEER_PAGE_REQUEST_MAX_BODY: usize = 16 * 1024;
/// Largest `/json_rpc` request (`get_n_service_nodes` with its field list).
pub const JSON_RPC_MAX_BODY: usize = 64 * 1024;
/// Largest answer a node or client reads from any call it makes (a relay's next hop, a peer,
/// a seed, a client's guard): an attachment in base64 inside an encrypted onion reply fits.
pub const MAX_REPLY_BYTES: usize = 16 * 1024 * 1024;
/// Onion bodies over 1 MiB a node handles at once (not enforced yet: the file server work).
pub const LARGE_BODIES_AT_ONCE: usize = 8;

/// Distinct swarm members whose signed acknowledgement a client needs before it calls a
/// message stored (the whole swarm, if it is smaller). The trade-off: one is what Session
/// takes, and one lying member then makes a dropped message look stored; every extra one
/// tolerates one more liar but fails sends while that many members are down. Two, with swarms
/// of three or more, survives one liar and one dead member at once.
pub const MIN_STORE_ACKS: usize = 2;

/// How long a relay waits for the next hop's answer (Session: 30 s).
pub const RELAY_TIMEOUT_MS: u64 = 30_000;
/// How long a client waits for an answer through a 3-hop path: a relay's own timeout plus
/// a margin, so the relay's "Request time out" arrives before the client gives up.
pub const CLIENT_REQUEST_TIMEOUT_MS: u64 = RELAY_TIMEOUT_MS + 5_000;
/// How long a client waits to connect to a node.
pub const CLIENT_CONNECT_TIMEOUT_MS: u64 = 5_000;
/// How long a node waits for a peer's answer to a catch-up or handoff request.
pub const PEER_TIMEOUT_MS: u64 = 10_000;
/// How long a node waits for a peer to take a forwarded write (the node's default;
/// `replication.forward_timeout_ms` overrides it).
pub const FORWARD_TIMEOUT_MS: u64 = 5_000;

/// Longest a waiting retrieve (`wait_retrieve`) is held before it answers empty; clients ask
/// for this long. Below [`RELAY_TIMEOUT_MS`], so no relay gives up on a waiting request.
pub const MAX_RETRIEVE_WAIT_MS: u64 = 25_000;
/// How long a node gives a client to send a request's headers; the same timer closes a
/// kept-alive connection idle that long (hyper runs one timer for both). A held request (a
/// waiting retrieve) is not idle: the timer runs only while the node waits for a request.
pub const HEADER_READ_TIMEOUT_MS: u64 = 10_000;
/// How long a node gives a client to send a whole request body: a 10 MiB onion body at
/// 1.5 Mbit/s fits.
pub const BODY_READ_TIMEOUT_MS: u64 = 60_000;
/// How long a node keeps an idle pooled connection to another node: shorter than the other
/// side's idle timeout, so the caller closes first and never sends into a closing socket.
pub const OUTBOUND_IDLE_MS: u64 = 5_000;

/// Waiting retrieves one account may hold on one node (the default of
/// `http.waiters_per_account`; more get 429): a few devices and tabs, each waiting at one
/// member at a time.
pub const WAITERS_PER_ACCOUNT: usize = 4;
/// Waiting retrieves one node holds in all (the default of `http.max_waiters`; more get 503).
pub const WAITERS_PER_NODE: usize = 10_000;
/// Open connections one node accepts (the default of `http.max_connections`); at least the
/// waiter cap, since every waiter holds one.
pub const MAX_CONNECTIONS: usize = 12_000;

/// Bytes one account may hold on one node (the default of `storage.account_max_bytes`):
/// with the node's own cap, one account cannot fill its swarm and lock every other account
/// there out for a TTL.
pub const ACCOUNT_QUOTA_BYTES: u64 = 100 * 1024 * 1024;
/// Messages one account may hold on one node (the default of `storage.account_max_count`).
pub const ACCOUNT_QUOTA_MESSAGES: u64 = 20_000;

/// Most encrypted bytes in one upload to a file server, one part of a file: what Session's
/// largest regular file (10,218,286 bytes) encrypts to. Larger files go in several parts.
pub const FILE_PART_BYTES: usize = 10_223_616;
/// Largest file a Murmur client sends (Session's limit is 10 MB, one part).
pub const MAX_ATTACHMENT_BYTES: u64 = 100_000_000;

// The relationships the table promises.
const _: () = assert!(MAX_RETRIEVE_WAIT_MS < RELAY_TIMEOUT_MS);
const _: () = assert!(OUTBOUND_IDLE_MS < HEADER_READ_TIMEOUT_MS);
// A forwarded write and a handoff batch (base64 data, with one maximal message over the
// batch size, plus JSON) fit in what a peer reads.
const _: () = assert!(PEER_MAX_BODY > STORAGE_RPC_MAX_BODY + 64 * 1024);
const _: () = assert!(
    (HANDOFF_BATCH_BYTES + crate::rpc::MAX_MESSAGE_BYTES) / 3 * 4 + 512 * 1024 < PEER_MAX_BODY
);
const _: () = assert!(MAX_CONNECTIONS >= WAITERS_PER_NODE);
const _: () = assert!(CLIENT_REQUEST_TIMEOUT_MS > RELAY_TIMEOUT_MS);
// A part and its onion layers fit in what a relay takes; a part coming back fits in a reply.
const _: () = assert!(FILE_PART_BYTES + 16 * 1024 < MAX_ONION_BODY);
const _: () = assert!(MAX_REPLY_BYTES > FILE_PART_BYTES + 4096);
