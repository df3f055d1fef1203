//! One loop turn's messages, coalesced per peer before they are sent.
//!
//! The stage 3 reference sends every follower an AppendEntries on every proposal (§5.3): from
//! the follower's `next_index`, which moves only when a reply comes back. A leader that takes
//! 800 pipelined requests in one loop turn therefore produces 800 AppendEntries per follower,
//! all from the same `next_index`, each carrying the same first entries and a few more than the
//! one before. Sent as they are, they cost the leader the encoding of every copy and the
//! followers the decoding; the leader's turn and the followers' grow so long that heartbeats
//! arrive late and followers start elections (measured: 8 elections in 20,000 SETs of
//! `redis-benchmark -c 50 -P 16` before this module).
//!
//! A message may be dropped at any time without harm to safety: Raft is built for a network
//! that loses messages (§5.3). So the driver drops each message that a *later message of the
//! same turn to the same peer* makes useless ([`supersedes`]); the later one does all the
//! earlier one would have done:
//!
//! - an AppendEntries of the same term from the same `prev_log_index`, with at least as many
//!   entries: the leader's log only grows within its term, so the later one's entries start
//!   with the earlier one's, and its `leader_commit` is at least as high;
//! - a successful AppendEntries reply of the same term with a `match_index` at least as high:
//!   the leader keeps the highest `match_index` it hears (§5.3);
//! - a ReadIndex check, or its answer, of the same term with a round at least as high: an
//!   answer to a round confirms every earlier round of its term (§6.4);
//! - the same snapshot (§7): the reference sends a follower whose entries were compacted away
//!   the whole snapshot on every proposal and heartbeat. [`Resends`] also holds back a
//!   snapshot sent to the same peer less than [`SNAPSHOT_RESEND`] ago, in any turn: sending
//!   megabytes again before the first copy could arrive only delays it.
//!
//! Every other message (votes, refusals) goes as it is. The node is unchanged: this
//! is the driver's choice of what to put on the wire, as a network that lost those messages
//! would have.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use harness::{Envelope, Index, NodeId, Term};

/// How long the same snapshot is not sent again to the same peer.
pub const SNAPSHOT_RESEND: Duration = Duration::from_secs(1);

/// The snapshots sent lately, per peer: to hold back copies across turns.
#[derive(Debug, Default)]
pub struct Resends {
    sent: BTreeMap<NodeId, (Kind, Instant)>,
}

impl Resends {
    /// True if `message` (of kind `kind`, to `to`) should go now; remembers it if it is a
    /// snapshot that goes.
    pub fn allow(&mut self, to: NodeId, kind: Kind, now: Instant) -> bool {
        if !matches!(kind, Kind::Snapshot { .. }) {
            return true;
        }
        match self.sent.get(&to) {
            Some(&(sent, at)) if sent == kind && now.duration_since(at) < SNAPSHOT_RESEND => false,
            _ => {
                self.sent.insert(to, (kind, now));
                true
            }
        }
    }
}

/// What coalescing needs to know of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A leader's AppendEntries (§5.3).
    Append {
        /// The leader's term.
        term: Term,
        /// The index of the entry before the new ones.
        prev_log_index: Index,
        /// How many entries it carries.
        entries: usize,
    },
    /// A follower's successful answer to an AppendEntries.
    Appended {
        /// The follower's term.
        term: Term,
        /// The last index the request covered.
        match_index: Index,
    },
    /// A leader's ReadIndex check (§6.4).
    ReadCheck {
        /// The leader's term.
        term: Term,
        /// The check's round.
        round: u64,
    },
    /// A follower's answer to a ReadIndex check.
    ReadCheckReply {
        /// The term of the check.
        term: Term,
        /// The round answered.
        round: u64,
    },
    /// A leader's snapshot (§7): megabytes, sent whole.
    Snapshot {
        /// The leader's term.
        term: Term,
        /// The snapshot's last index.
        last_included_index: Index,
    },
    /// Anything else: always sent.
    Other,
}

/// True if `later`, sent after `earlier` to the same peer in the same turn, does everything
/// `earlier` would do, so `earlier` need not be sent.
pub fn supersedes(later: Kind, earlier: Kind) -> bool {
    match (later, earlier) {
        (
            Kind::Append { term, prev_log_index, entries },
            Kind::Append { term: t, prev_log_index: p, entries: e },
        ) => term == t && prev_log_index == p && entries >= e,
        (Kind::Appended { term, match_index }, Kind::Appended { term: t, match_index: m }) => {
            term == t && match_index >= m
        }
        (
            Kind::Snapshot { term, last_included_index },
            Kind::Snapshot { term: t, last_included_index: i },
        ) => term == t && last_included_index == i,
        (Kind::ReadCheck { term, round }, Kind::ReadCheck { term: t, round: r })
        | (Kind::ReadCheckReply { term, round }, Kind::ReadCheckReply { term: t, round: r }) => {
            term == t && round >= r
        }
        _ => false,
    }
}

/// `messages` without those a later message to the same peer supersedes, in their order.
/// Linear: each message is compared with the nearest later kept message of its kind to its
/// peer (each relation of [`supersedes`] is transitive).
pub fn coalesce<M>(messages: Vec<Envelope<M>>, kind: impl Fn(&M) -> Kind) -> Vec<Envelope<M>> {
    if messages.len() < 2 {
        return messages;
    }
    // The nearest later kept message of each (peer, kind) seen so far, walking backwards.
    let mut latest: Vec<(NodeId, std::mem::Discriminant<Kind>, Kind)> = Vec::new();
    let mut kept = Vec::with_capacity(messages.len());
    for envelope in messages.into_iter().rev() {
        let this = kind(&envelope.message);
        if this == Kind::Other {
            kept.push(envelope);
            continue;
        }
        let slot = (envelope.to, std::mem::discriminant(&this));
        match latest.iter_mut().find(|(to, tag, _)| (*to, *tag) == slot) {
            Some((_, _, later)) if supersedes(*later, this) => continue,
            Some((_, _, later)) => *later = this,
            None => latest.push((slot.0, slot.1, this)),
        }
        kept.push(envelope);
    }
    kept.reverse();
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to(to: NodeId, kind: Kind) -> Envelope<Kind> {
        Envelope { from: 1, to, message: kind }
    }

    fn append(term: Term, prev_log_index: Index, entries: usize) -> Kind {
        Kind::Append { term, prev_log_index, entries }
    }

    /// 800 proposals in one turn: one AppendEntries per follower is left, the last (§5.3).
    #[test]
    fn appends_from_the_same_next_index_leave_the_last_per_peer() {
        let mut messages = Vec::new();
        for n in 1..=800 {
            messages.push(to(2, append(3, 10, n.min(64))));
            messages.push(to(3, append(3, 7, n.min(64))));
        }
        let kept: Vec<Kind> = coalesce(messages, |k| *k).into_iter().map(|e| e.message).collect();
        assert_eq!(kept, vec![append(3, 10, 64), append(3, 7, 64)]);
    }

    /// What a later message does not cover is kept: another term, another `prev_log_index`
    /// (the leader moved `next_index` on a reply in between), fewer entries, another peer,
    /// votes and refusals.
    #[test]
    fn messages_that_are_not_covered_are_kept_in_order() {
        let messages = vec![
            to(2, append(3, 10, 5)),
            to(2, Kind::Other),
            to(2, append(3, 12, 3)),
            to(2, append(4, 12, 3)),
            to(3, append(4, 12, 1)),
            to(2, append(4, 12, 2)),
        ];
        let kept = coalesce(messages.clone(), |k| *k);
        assert_eq!(kept, messages);
    }

    /// A snapshot goes once per turn, and not again to that peer within [`SNAPSHOT_RESEND`]
    /// unless it is another one (§7).
    #[test]
    fn a_snapshot_goes_once_then_waits_before_it_is_sent_again() {
        let snapshot = Kind::Snapshot { term: 2, last_included_index: 100 };
        let messages = vec![to(2, snapshot), to(3, snapshot), to(2, snapshot)];
        let kept: Vec<NodeId> = coalesce(messages, |k| *k).into_iter().map(|e| e.to).collect();
        assert_eq!(kept, vec![3, 2]);
        let (mut resends, start) = (Resends::default(), Instant::now());
        assert!(resends.allow(2, snapshot, start));
        assert!(!resends.allow(2, snapshot, start + SNAPSHOT_RESEND / 2), "again too soon");
        assert!(resends.allow(3, snapshot, start), "another peer");
        let newer = Kind::Snapshot { term: 2, last_included_index: 200 };
        assert!(resends.allow(2, newer, start + SNAPSHOT_RESEND / 2), "a newer snapshot");
        assert!(resends.allow(2, newer, start + SNAPSHOT_RESEND * 2), "after the wait");
        assert!(resends.allow(2, append(2, 5, 1), start), "not a snapshot");
    }

    /// A follower's successful replies: the highest `match_index` of a term is enough; reads'
    /// rounds: the highest of a term confirms the others (§6.4).
    #[test]
    fn replies_and_read_checks_keep_the_highest_of_their_term() {
        let messages = vec![
            to(1, Kind::Appended { term: 2, match_index: 5 }),
            to(1, Kind::ReadCheckReply { term: 2, round: 1 }),
            to(1, Kind::Appended { term: 2, match_index: 9 }),
            to(1, Kind::ReadCheckReply { term: 2, round: 3 }),
            to(3, Kind::ReadCheck { term: 2, round: 4 }),
            to(3, Kind::ReadCheck { term: 2, round: 5 }),
        ];
        let kept: Vec<Kind> = coalesce(messages, |k| *k).into_iter().map(|e| e.message).collect();
        assert_eq!(
            kept,
            vec![
                Kind::Appended { term: 2, match_index: 9 },
                Kind::ReadCheckReply { term: 2, round: 3 },
                Kind::ReadCheck { term: 2, round: 5 },
            ]
        );
    }
}
