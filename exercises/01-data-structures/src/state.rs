//! A server's state (Figure 2) and its role transitions (§5.1, §5.2, Figure 4).
//!
//! The role is an enum whose variants carry the data only that role has: the votes a candidate
//! collected, the leader's `next_index` and `match_index`. A follower cannot read a stale
//! `next_index` because it has none. (The heavier alternative, one type per role, turns an
//! illegal transition into a compile error; the enum keeps one `State` type a learner can
//! print and compare, and the transitions below return an error instead.)

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::encoding::DecodeError;
use crate::log::{Index, Log, LogEntry, NodeId, Term};

/// Figure 2's persistent state: what a server writes to stable storage before it answers an
/// RPC, and restarts from after a crash.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersistentState {
    /// The latest term this server has seen; 0 at first, only grows (§5.1).
    pub current_term: Term,
    /// The candidate that received this server's vote in `current_term`, if any (§5.2).
    /// Required on disk, `null` when there is none: a file that lost it is damaged, and read
    /// as "no vote" it would let the server vote twice in one term (serde reads a missing
    /// `Option` as `None` unless told otherwise).
    #[serde(deserialize_with = "Option::deserialize")]
    pub voted_for: Option<NodeId>,
    /// The log (§5.3), which may start after a snapshot (§7).
    pub log: Log,
    /// The snapshot: the state machine's state as of `log.snapshot_index()`, as the service
    /// encoded it (§7, stage 5). Empty without one, and then left out of the JSON, so a state
    /// without a snapshot encodes as it always did.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub snapshot: Vec<u8>,
}

impl PersistentState {
    /// The bytes to write to stable storage: this state as JSON (see [`crate::encoding`]).
    pub fn encode(&self) -> Vec<u8> {
        // TODO: serialize `self` to JSON bytes (serde_json::to_vec).
        todo!("PersistentState::encode: serialize self to JSON with serde_json::to_vec (Figure 2)")
    }

    /// The state that [`PersistentState::encode`] turned into `bytes`, or why they are not one.
    pub fn decode(bytes: &[u8]) -> Result<PersistentState, DecodeError> {
        // TODO: deserialize `bytes` from JSON (serde_json::from_slice); `?` turns its error into a
        //       DecodeError.
        todo!(
            "PersistentState::decode({} bytes): deserialize with serde_json::from_slice, errors as \
             DecodeError (Figure 2)",
            bytes.len()
        )
    }
}

/// One write to stable storage: a change to the persistent state, not a copy of it, so that a
/// write costs what it carries however long the log grows (§5.1; Figure 2: persistent state
/// is "updated on stable storage before responding to RPCs").
///
/// Used from stage 2 on, where the node's given code reports its writes; stage 4 is about
/// deciding them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StorageWrite {
    /// `current_term` and `voted_for`, written together: a new term clears the vote (§5.1).
    HardState {
        /// The new `current_term`.
        current_term: Term,
        /// The vote of that term, if any.
        voted_for: Option<NodeId>,
    },
    /// Drop the log's entries from index `from` on: a conflict was resolved (§5.3).
    TruncateLog {
        /// The first index dropped.
        from: Index,
    },
    /// Append `entries` at the end of the log.
    AppendLog {
        /// The new entries, in index order.
        entries: Vec<LogEntry>,
    },
    /// Keep this snapshot, and start the log after its last entry (§7, stage 5): the entries
    /// through it are dropped, those after it kept if the log holds that entry
    /// ([`Log::start_after`]).
    Snapshot {
        /// The last index the snapshot covers.
        last_included_index: Index,
        /// The term of the entry at that index.
        last_included_term: Term,
        /// The state machine's state as of that index.
        data: Vec<u8>,
    },
}

impl PersistentState {
    /// Carries out `write` on this state, as a storage engine would.
    pub fn apply(&mut self, write: StorageWrite) {
        match write {
            StorageWrite::HardState { current_term, voted_for } => {
                self.current_term = current_term;
                self.voted_for = voted_for;
            }
            StorageWrite::TruncateLog { from } => self.log.truncate_from(from),
            StorageWrite::AppendLog { entries } => self.log.extend(entries),
            StorageWrite::Snapshot { last_included_index, last_included_term, data } => {
                self.log.start_after(last_included_index, last_included_term);
                self.snapshot = data;
            }
        }
    }
}

// ANCHOR: role
/// What a server is doing now, with the data only that role has (§5.1, Figure 4).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// Answers requests from leaders and candidates.
    Follower {
        /// The leader of the current term, once heard from: where clients are redirected.
        leader: Option<NodeId>,
    },
    /// Asks for votes to become leader of the current term (§5.2).
    Candidate {
        /// The servers that granted their vote in the current term, itself included.
        votes: BTreeSet<NodeId>,
    },
    /// Replicates its log to the others (§5.3).
    Leader {
        /// For each other server, the index of the next entry to send it; starts at the
        /// leader's last index + 1.
        next_index: BTreeMap<NodeId, Index>,
        /// For each other server, the highest index known to be replicated on it; starts at 0.
        /// Invariant: `match_index < next_index`.
        match_index: BTreeMap<NodeId, Index>,
    },
}
// ANCHOR_END: role

impl Role {
    /// "follower", "candidate" or "leader".
    pub fn name(&self) -> &'static str {
        match self {
            Role::Follower { .. } => "follower",
            Role::Candidate { .. } => "candidate",
            Role::Leader { .. } => "leader",
        }
    }
}

/// A role transition that Figure 4 does not allow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TransitionError {
    /// The term asked for is older than `current_term`: terms never go back (§5.1).
    StaleTerm {
        /// The term asked for.
        term: Term,
        /// The server's current term.
        current_term: Term,
    },
    /// The server leads its `current_term`, and a leader keeps leading until it sees a higher
    /// term: it neither starts an election nor follows another server in its own term.
    AlreadyLeader,
    /// Only a candidate becomes leader (by winning an election).
    NotCandidate {
        /// The role the server has instead.
        role: &'static str,
    },
    /// A candidate becomes leader only with the votes of a majority of the cluster (§5.2).
    NoMajority {
        /// The votes the candidate holds, its own included.
        votes: usize,
        /// The number of servers in the cluster, the candidate included.
        cluster: usize,
    },
}

/// A server's whole state: Figure 2's persistent and volatile state, and its role.
///
/// Invariants: `last_applied <= commit_index`; `voted_for` refers to `current_term`;
/// a candidate has voted for itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// This server's id.
    pub id: NodeId,
    /// The latest term this server has seen (persistent).
    pub current_term: Term,
    /// Who got this server's vote in `current_term` (persistent).
    pub voted_for: Option<NodeId>,
    /// The log (persistent); it may start after a snapshot (§7).
    pub log: Log,
    /// The state machine's state as of `log.snapshot_index()`, empty without a snapshot
    /// (persistent; §7, stage 5).
    pub snapshot: Vec<u8>,
    /// The highest index known to be committed; starts at 0 (volatile).
    pub commit_index: Index,
    /// The highest index applied to the state machine; starts at 0 (volatile).
    pub last_applied: Index,
    /// The role and its data (volatile).
    pub role: Role,
}

impl State {
    /// A server starting for the first time: term 0, no vote, empty log, follower.
    pub fn new(id: NodeId) -> Self {
        State::restore(id, PersistentState::default())
    }

    /// A server restarting from what it persisted: the volatile state starts afresh.
    ///
    /// With a snapshot (§7), `commit_index` starts at its last index, which was committed
    /// before it was taken, and `last_applied` at 0: the state machine is empty until the
    /// snapshot is handed to it again (stage 5).
    pub fn restore(id: NodeId, persistent: PersistentState) -> Self {
        State {
            id,
            current_term: persistent.current_term,
            voted_for: persistent.voted_for,
            commit_index: persistent.log.snapshot_index(),
            log: persistent.log,
            snapshot: persistent.snapshot,
            last_applied: 0,
            role: Role::Follower { leader: None },
        }
    }

    /// A copy of the persistent part, to write to stable storage.
    pub fn persistent(&self) -> PersistentState {
        // TODO: copy the persistent fields of Figure 2 into a PersistentState.
        todo!(
            "persistent: copy current_term, voted_for, the log and the snapshot into a \
             PersistentState (Figure 2)"
        )
    }

    /// The rule for all servers (§5.1): "if RPC request or response contains term T >
    /// currentTerm: set currentTerm = T, convert to follower". The vote belonged to the old
    /// term, so it is cleared. Returns whether the term advanced.
    pub fn observe_term(&mut self, term: Term) -> bool {
        // TODO: if `term` is newer, adopt it, clear the vote, become a follower of nobody yet;
        //       return whether it was newer.
        todo!(
            "observe_term({term}): if {term} > current_term, adopt it, clear voted_for, become a \
             follower; return whether it did (§5.1)"
        )
    }

    /// Becomes a follower in `term`, of `leader` if known.
    ///
    /// A newer term is adopted and clears the vote; in the same term the vote stays (a
    /// candidate that steps down for this term's leader has still voted for itself, and must
    /// not vote again, §5.2). An older term is refused, and so is the same term for a leader,
    /// which steps down only for a higher term (Figure 4).
    pub fn become_follower(
        &mut self,
        term: Term,
        leader: Option<NodeId>,
    ) -> Result<(), TransitionError> {
        // TODO: refuse an older term, and the same term for a leader; adopt a newer term (clearing
        //       the vote); then follow `leader`.
        todo!(
            "become_follower({term}, {leader:?}): refuse a stale term or a leader's own term; a \
             newer term clears the vote; follow {leader:?} (§5.1, Figure 4)"
        )
    }

    /// Starts an election (§5.2): increments `current_term`, votes for itself and becomes a
    /// candidate holding its own vote. A leader refuses.
    pub fn become_candidate(&mut self) -> Result<(), TransitionError> {
        // TODO: refuse if leader; otherwise increment current_term, vote for yourself, become a
        //       candidate holding that vote.
        todo!(
            "become_candidate: refuse if leader; else current_term + 1, vote for self, candidate \
             with its own vote (§5.2)"
        )
    }

    /// A candidate that won its election, with the votes of a majority of the cluster made of
    /// itself and `peers` (the other servers), becomes leader (§5.2) and initializes, for each
    /// of `peers`, `next_index` to its last log index + 1 and `match_index` to 0 (Figure 2).
    pub fn become_leader(&mut self, peers: &[NodeId]) -> Result<(), TransitionError> {
        // TODO: refuse unless a candidate with a majority of peers + itself; set next_index to
        //       last_index + 1 and match_index to 0 for every peer.
        todo!(
            "become_leader({peers:?}): only a candidate with a majority; next_index = \
             last_index + 1, match_index = 0 per peer (Figure 2, §5.2)"
        )
    }

    /// The leader of the current term as far as this server knows.
    pub fn leader(&self) -> Option<NodeId> {
        match self.role {
            Role::Follower { leader } => leader,
            Role::Candidate { .. } => None,
            Role::Leader { .. } => Some(self.id),
        }
    }
}
