//! Leader election (§5.2), the term rules it relies on (§5.1) and the election restriction
//! (§5.4.1).
//!
//! Figure 2's rules for elections, one function each. [`crate::node`] calls them: `tick` calls
//! `RaftNode::tick_election` or `RaftNode::tick_heartbeat`; `step` applies the term guards
//! (§5.1), then calls one `handle_*` per message kind with a message of the current term.
//!
//! The election timer is reset in exactly three places: when this node grants a vote, when it
//! hears from the current leader, and when it starts an election. Nowhere else: a node that
//! resets it on every message can be kept from ever starting an election by a stale or
//! disruptive peer.

// Stage 1's types, as a prelude: the RPC structs, `Message`, `Role`, `NodeId`.
use data_structures::*;

use crate::node::RaftNode;

#[allow(dead_code, reason = "a stub does not call the rules it leads to; the solution does")]
impl RaftNode {
    /// Restarts the election timer with a new timeout drawn uniformly from `[T, 2T)`, where
    /// `T = config.election_timeout` (§5.2: "election timeouts are chosen randomly from a fixed
    /// interval", so that split votes are rare and resolve quickly).
    pub(crate) fn reset_election_timer(&mut self) {
        // TODO: set election_elapsed to 0; draw election_timeout from [T, 2T) with self.rng.
        todo!("restart the election timer with a random timeout in [T, 2T) (§5.2)")
    }

    /// One tick as a follower or a candidate: if no leader was heard from (and no vote was
    /// granted) for `election_timeout` ticks, start an election (§5.2; Figure 2, Rules for
    /// Servers, Followers and Candidates).
    pub(crate) fn tick_election(&mut self) {
        // TODO: count the tick; once election_elapsed reaches election_timeout, start an election.
        todo!("count a tick; start an election once the election timeout elapsed (§5.2)")
    }

    /// One tick as a leader: every `config.heartbeat_interval` ticks, send heartbeats to keep
    /// followers from starting elections (§5.2).
    pub(crate) fn tick_heartbeat(&mut self) {
        // TODO: count the tick; every heartbeat_interval ticks, broadcast heartbeats.
        todo!("count a tick; broadcast heartbeats every heartbeat_interval ticks (§5.2)")
    }

    /// Starts an election (§5.2): increment `current_term`, vote for itself, reset the election
    /// timer and send RequestVote to every other server, with this log's last index and term
    /// (§5.4.1). A node with no peers has a majority on its own and wins at once.
    pub(crate) fn become_candidate(&mut self) {
        // TODO: new term and self-vote (State::become_candidate), reset the timer, send
        // RequestVote to every peer, and win at once if that is already a majority.
        todo!("start an election: new term, own vote, timer reset, RequestVote to all (§5.2)")
    }

    /// Answers a RequestVote of the current term (Figure 2, RequestVote receiver rules): grant
    /// the vote if this node has not voted in this term, or voted for this same candidate, and
    /// the candidate's log is at least as up-to-date as its own (§5.2, §5.4.1).
    pub(crate) fn handle_request_vote(&mut self, from: NodeId, request: RequestVote) {
        // TODO: grant at most one vote per term, only to an up-to-date candidate; reset
        // the timer only when granting; reply to `from`.
        todo!("answer {request:?} from node {from} (§5.2, §5.4.1)")
    }

    /// Counts a vote reply of the current term (§5.2): a candidate records a granted vote and
    /// becomes leader once it holds a majority. A follower or a leader of this term has no
    /// election to count it towards, and ignores it.
    pub(crate) fn handle_request_vote_reply(&mut self, from: NodeId, reply: RequestVoteReply) {
        // TODO: as a candidate, record a granted vote and see whether it is now a majority.
        todo!("count {reply:?} from node {from} towards this election (§5.2)")
    }

    /// A candidate that holds votes from a majority of the whole cluster, itself included,
    /// becomes leader (§5.2). Anything else does nothing.
    pub(crate) fn maybe_become_leader(&mut self) {
        // TODO: become leader if a candidate holds votes from a majority of the cluster.
        todo!("become leader if this candidate holds a majority of all votes (§5.2)")
    }

    /// Becomes leader of the current term (§5.2) and sends heartbeats at once, to establish
    /// its authority and stop other elections.
    pub(crate) fn become_leader(&mut self) {
        // TODO: State::become_leader with the peers, then heartbeats at once.
        todo!("become leader of the current term and send heartbeats at once (§5.2)")
    }
}
