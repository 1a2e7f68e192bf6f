//! Swarms: which group of nodes holds an account's messages (SESSION-PROTOCOL.md §2.1).
//!
//! The 32 key bytes after the prefix are read as four big-endian u64s and XORed into a point of
//! the 64-bit "swarm space". The account belongs to the swarm whose id is nearest on that ring,
//! with wrapping distances, and a tie goes to the left (lower, or via wraparound the highest) id.

/// A swarm's id: its position in the swarm space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SwarmId(pub u64);

/// The id nodes use for "not in any swarm".
pub const INVALID_SWARM_ID: SwarmId = SwarmId(u64::MAX);

/// The swarm-space position of a 32-byte public key (without its 05/03 prefix).
pub fn swarm_space(pubkey: &[u8; 32]) -> u64 {
    pubkey.chunks_exact(8).fold(0u64, |acc, chunk| {
        let mut be = [0u8; 8];
        be.copy_from_slice(chunk);
        acc ^ u64::from_be_bytes(be)
    })
}

/// The swarm among `swarms` (any order, duplicates allowed) responsible for swarm-space
/// position `space`; `None` when there are no swarms.
pub fn swarm_for(space: u64, swarms: &[SwarmId]) -> Option<SwarmId> {
    let mut ids: Vec<u64> = swarms.iter().map(|s| s.0).collect();
    crate::order::dedup_sorted(&mut ids);
    let first = *ids.first()?;
    let last = *ids.last()?;
    let right_index = ids.partition_point(|&id| id < space);
    let right = ids.get(right_index).copied().unwrap_or(first);
    let left = if right_index == 0 {
        last
    } else {
        ids[right_index - 1]
    };
    let dright = right.wrapping_sub(space);
    let dleft = space.wrapping_sub(left);
    Some(SwarmId(if dright < dleft { right } else { left }))
}
