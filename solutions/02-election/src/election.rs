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
        self.election_elapsed = 0;
        let base = self.config.election_timeout;
        // A fresh draw at every reset: two nodes that timed out together once will not again.
        self.election_timeout = self.rng.range(base, 2 * base);
    }

    /// One tick as a follower or a candidate: if no leader was heard from (and no vote was
    /// granted) for `election_timeout` ticks, start an election (§5.2; Figure 2, Rules for
    /// Servers, Followers and Candidates).
    pub(crate) fn tick_election(&mut self) {
        self.election_elapsed += 1;
        if self.election_elapsed >= self.election_timeout {
            // A follower becomes candidate; a candidate whose election timed out without a
            // winner (a split vote) starts a new one in a new term.
            self.become_candidate();
        }
    }

    /// One tick as a leader: every `config.heartbeat_interval` ticks, send heartbeats to keep
    /// followers from starting elections (§5.2).
    pub(crate) fn tick_heartbeat(&mut self) {
        self.heartbeat_elapsed += 1;
        if self.heartbeat_elapsed >= self.config.heartbeat_interval {
            self.heartbeat_elapsed = 0;
            self.broadcast_append_entries();
        }
    }

    /// Starts an election (§5.2): increment `current_term`, vote for itself, reset the election
    /// timer and send RequestVote to every other server, with this log's last index and term
    /// (§5.4.1). A node with no peers has a majority on its own and wins at once.
    pub(crate) fn become_candidate(&mut self) {
        let id = self.state.id;
        self.state
            .become_candidate()
            .unwrap_or_else(|error| panic!("node {id} cannot start an election: {error:?} (§5.2)"));
        self.reset_election_timer();
        let request = RequestVote {
            term: self.state.current_term,
            candidate_id: id,
            last_log_index: self.state.log.last_index(),
            last_log_term: self.state.log.last_term(),
        };
        self.broadcast(Message::RequestVote(request));
        // Its own vote may already be a majority (a one-node cluster).
        self.maybe_become_leader();
    }

    /// Answers a RequestVote of the current term (Figure 2, RequestVote receiver rules): grant
    /// the vote if this node has not voted in this term, or voted for this same candidate, and
    /// the candidate's log is at least as up-to-date as its own (§5.2, §5.4.1).
    pub(crate) fn handle_request_vote(&mut self, from: NodeId, request: RequestVote) {
        let candidate = request.candidate_id;
        // One vote per term, first come first served (§5.2). Granting the same candidate again
        // answers a duplicated request; it does not give a second vote.
        let can_vote = self.state.voted_for.is_none_or(|voted_for| voted_for == candidate);
        // The election restriction: never help elect a leader that lacks an entry this node
        // has, which might be committed (§5.4.1).
        let up_to_date =
            self.state.log.is_up_to_date(request.last_log_index, request.last_log_term);
        let vote_granted = can_vote && up_to_date;
        if vote_granted {
            self.state.voted_for = Some(candidate);
            // Granting a vote resets the timer (Figure 2): give the candidate time to win.
            self.reset_election_timer();
        }
        let reply = RequestVoteReply { term: self.state.current_term, vote_granted };
        self.send(from, Message::RequestVoteReply(reply));
    }

    /// Counts a vote reply of the current term (§5.2): a candidate records a granted vote and
    /// becomes leader once it holds a majority. A follower or a leader of this term has no
    /// election to count it towards, and ignores it.
    pub(crate) fn handle_request_vote_reply(&mut self, from: NodeId, reply: RequestVoteReply) {
        // A leader already won; a follower of this term lost or stepped down: late votes are
        // of no use to either.
        let Role::Candidate { votes } = &mut self.state.role else {
            return;
        };
        if reply.vote_granted {
            // A set: a duplicated reply counts once.
            votes.insert(from);
        }
        self.maybe_become_leader();
    }

    /// A candidate that holds votes from a majority of the whole cluster, itself included,
    /// becomes leader (§5.2). Anything else does nothing.
    pub(crate) fn maybe_become_leader(&mut self) {
        let Role::Candidate { votes } = &self.state.role else {
            return;
        };
        // A majority of all servers, not of those that answered: 2 of 3, 3 of 5, 1 of 1.
        let cluster_size = self.peers.len() + 1;
        if votes.len() > cluster_size / 2 {
            self.become_leader();
        }
    }

    /// Becomes leader of the current term (§5.2) and sends heartbeats at once, to establish
    /// its authority and stop other elections.
    pub(crate) fn become_leader(&mut self) {
        let (id, term) = (self.state.id, self.state.current_term);
        self.state.become_leader(&self.peers).unwrap_or_else(|error| {
            panic!("node {id} cannot become leader in term {term}: {error:?} (§5.2)")
        });
        self.heartbeat_elapsed = 0;
        self.broadcast_append_entries();
    }
}
