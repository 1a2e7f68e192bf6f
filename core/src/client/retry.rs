//! The retry policy of one storage RPC, as a pure state machine: the driver (`engine`) makes
//! an attempt, names its [`Outcome`], and [`Retry::next`] says what to do about it. Nothing here
//! waits or does I/O, so every outcome is unit-tested below.
//!
//! The policy: a 200 is the answer; a refusal of the request itself (4xx but 429) is the
//! caller's error and is not retried; 421 means the swarm moved (refresh the manifest and ask the swarm it
//! assigns, at once);
//! 406 means our clock is off (learn the time, sign again at once); a path that failed before
//! reaching the destination is tried again after a backoff; a destination that is down,
//! answers 429/5xx or whose answer cannot be read moves on to the next swarm member.

use crate::rpc::response::Reply;
use crate::rpc::rules::{MAILBOX_FULL, NODE_WAITS_FULL, TOO_MANY_WAITS};

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The destination answered.
    Reply(Reply),
    /// The path failed before reaching the destination.
    PathFailed(&'static str),
    /// No usable answer came back (timeout, cut off, does not decrypt): a hop or the
    /// destination is at fault.
    Unreadable(&'static str),
    /// The last hop could not reach the destination.
    DestinationDown,
}

impl Outcome {
    /// A short description for the error a caller sees when every attempt failed.
    pub fn describe(&self) -> String {
        match self {
            Self::Reply(r) if r.status == 421 => "the swarm moved".into(),
            Self::Reply(r) if r.status == 406 => format!("clock refused: {}", r.reason()),
            Self::Reply(r) => format!("a swarm member answered {}", r.status),
            Self::PathFailed(why) | Self::Unreadable(why) => (*why).into(),
            Self::DestinationDown => "a swarm member is unreachable".into(),
        }
    }
}

/// What the driver does next; the reply travels with the action that needs it.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// The reply is the answer.
    Return(Reply),
    /// The node refused the request itself: give the refusal to the caller (the driver asks
    /// the other members first, since one member's refusal may be a lie).
    Refuse(Reply),
    /// 421: refresh the manifest and ask the swarm it assigns at once (the reply's own list
    /// is a node's word, not the operator's).
    FollowSwarm,
    /// 406: learn the network time from the same member and ask again at once.
    SyncClock,
    /// Ask again after `wait_ms`, at the next swarm member or the same one.
    Again { next_member: bool, wait_ms: u64 },
    /// Every attempt is spent; `last` describes the last outcome.
    GiveUp { last: String },
}

/// The attempts and backoff of one request.
#[derive(Debug, Clone)]
pub struct Retry {
    attempts: u32,
    max_attempts: u32,
    backoff_ms: u64,
    backoff_max_ms: u64,
}

impl Retry {
    /// A request allowed `max_attempts`, waiting `backoff_ms` after the first failure and
    /// doubling up to `backoff_max_ms`.
    pub fn new(max_attempts: u32, backoff_ms: u64, backoff_max_ms: u64) -> Self {
        Self {
            attempts: 0,
            max_attempts,
            backoff_ms,
            backoff_max_ms,
        }
    }

    /// Records an attempt's outcome and decides what comes next.
    pub fn next(&mut self, outcome: Outcome) -> Action {
        self.attempts += 1;
        let spent = self.attempts >= self.max_attempts;
        match outcome {
            // An answer, or a refusal of the request itself, ends the call even on the last
            // attempt; anything else then gives up.
            Outcome::Reply(r) if r.status == 200 => Action::Return(r),
            Outcome::Reply(r)
                if (400..500).contains(&r.status) && ![406, 421, 429].contains(&r.status) =>
            {
                Action::Refuse(r)
            }
            // The account is over its quota: trying again now will not help (a lying member
            // saying so moves on, like any refusal).
            Outcome::Reply(r) if r.status == 507 && r.reason() == MAILBOX_FULL => Action::Refuse(r),
            // A node that will not hold a wait now: the caller polls instead of retrying.
            Outcome::Reply(r)
                if (r.status == 429 && r.reason() == TOO_MANY_WAITS)
                    || (r.status == 503 && r.reason() == NODE_WAITS_FULL) =>
            {
                Action::Refuse(r)
            }
            other if spent => Action::GiveUp {
                last: other.describe(),
            },
            Outcome::Reply(r) if r.status == 421 => Action::FollowSwarm,
            Outcome::Reply(r) if r.status == 406 => Action::SyncClock,
            Outcome::PathFailed(_) => self.again(false),
            Outcome::Reply(_) | Outcome::DestinationDown | Outcome::Unreadable(_) => {
                self.again(true)
            }
        }
    }

    fn again(&mut self, next_member: bool) -> Action {
        let wait_ms = self.backoff_ms;
        self.backoff_ms = (self.backoff_ms * 2).min(self.backoff_max_ms);
        Action::Again {
            next_member,
            wait_ms,
        }
    }

    /// Attempts made so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16) -> Outcome {
        Outcome::Reply(Reply::text(status, "x"))
    }

    #[test]
    fn each_outcome_has_its_action() {
        let answer = |status| Reply::text(status, "x");
        let mut r = Retry::new(8, 100, 2_000);
        assert_eq!(r.next(reply(200)), Action::Return(answer(200)));
        assert_eq!(r.next(reply(421)), Action::FollowSwarm);
        assert_eq!(r.next(reply(406)), Action::SyncClock);
        for refused in [400, 401, 403, 404, 413] {
            assert_eq!(
                Retry::new(8, 1, 1).next(reply(refused)),
                Action::Refuse(answer(refused))
            );
        }
        // A full mailbox is a refusal; a full node (any other 507) is one member's trouble.
        let full = Reply::text(507, MAILBOX_FULL);
        assert_eq!(
            Retry::new(8, 1, 1).next(Outcome::Reply(full.clone())),
            Action::Refuse(full)
        );
        // So is a wait the node will not hold (the client polls instead).
        for held_no_more in [
            Reply::text(429, TOO_MANY_WAITS),
            Reply::text(503, NODE_WAITS_FULL),
        ] {
            assert_eq!(
                Retry::new(8, 1, 1).next(Outcome::Reply(held_no_more.clone())),
                Action::Refuse(held_no_more)
            );
        }
        let next = |wait_ms| Action::Again {
            next_member: true,
            wait_ms,
        };
        let mut r = Retry::new(8, 100, 2_000);
        assert_eq!(
            r.next(reply(429)),
            next(100),
            "rate limited: another member"
        );
        assert_eq!(r.next(reply(500)), next(200));
        assert_eq!(r.next(reply(507)), next(400));
        assert_eq!(r.next(Outcome::DestinationDown), next(800));
        assert_eq!(r.next(Outcome::Unreadable("cut off")), next(1_600));
        assert_eq!(
            r.next(Outcome::PathFailed("guard down")),
            Action::Again {
                next_member: false,
                wait_ms: 2_000
            },
            "the same member again over a new path; backoff capped"
        );
        assert_eq!(
            r.next(Outcome::PathFailed("guard down")),
            Action::Again {
                next_member: false,
                wait_ms: 2_000
            }
        );
        assert_eq!(r.attempts(), 7);
        assert_eq!(
            r.next(reply(503)),
            Action::GiveUp {
                last: "a swarm member answered 503".into()
            },
            "the eighth attempt was the last"
        );
    }

    #[test]
    fn a_last_attempt_gives_up_unless_it_answered() {
        for outcome in [reply(421), reply(406), reply(502), Outcome::DestinationDown] {
            let mut r = Retry::new(1, 100, 100);
            let last = outcome.describe();
            assert_eq!(r.next(outcome), Action::GiveUp { last });
        }
        assert!(matches!(
            Retry::new(1, 1, 1).next(reply(200)),
            Action::Return(_)
        ));
        assert!(matches!(
            Retry::new(1, 1, 1).next(reply(401)),
            Action::Refuse(_)
        ));
    }

    #[test]
    fn descriptions_name_what_failed() {
        assert_eq!(reply(421).describe(), "the swarm moved");
        assert_eq!(reply(406).describe(), "clock refused: x");
        assert_eq!(reply(503).describe(), "a swarm member answered 503");
        assert_eq!(
            Outcome::DestinationDown.describe(),
            "a swarm member is unreachable"
        );
    }
}
