//! The leader's side of AppendEntries in stage 2: heartbeats (§5.2).
//!
//! A leader keeps its authority by sending every peer an AppendEntries at regular intervals;
//! in this stage they carry no entries. A follower that receives one knows who leads the term
//! and restarts its election timer.
//!
//! Stage 3 replaces this module with `replication.rs`: the same three functions, where the
//! AppendEntries carry log entries, the follower stores them and the leader tracks what each
//! follower holds (§5.3). [`crate::election`] calls them by these names in both stages.

// Stage 1's types, as a prelude: the RPC structs, `Message`, `Role`, `NodeId`.
use data_structures::*;

use crate::node::RaftNode;

#[allow(dead_code, reason = "a stub does not call the rules it leads to; the solution does")]
impl RaftNode {
    /// Sends every peer an AppendEntries; in this stage with no entries: a heartbeat (§5.2).
    /// It names this log's last entry as `prev_log_index`/`prev_log_term`, as a stage 3 leader
    /// would for a follower that is up to date, and the leader's `commit_index` as
    /// `leader_commit`.
    pub(crate) fn broadcast_append_entries(&mut self) {
        let request = AppendEntries {
            term: self.state.current_term,
            leader_id: self.state.id,
            prev_log_index: self.state.log.last_index(),
            prev_log_term: self.state.log.last_term(),
            entries: Vec::new(),
            leader_commit: self.state.commit_index,
        };
        self.broadcast(Message::AppendEntries(request));
    }

    /// Answers an AppendEntries of the current term (§5.2): its sender is the leader of this
    /// term, so a candidate gives up and a follower learns who leads, and the election timer
    /// restarts. The reply says whether this log matches the leader's at `prev_log_index`
    /// (§5.3); stage 2 stores no entries, so a success covers `prev_log_index` only.
    pub(crate) fn handle_append_entries(&mut self, from: NodeId, request: AppendEntries) {
        let (id, term) = (self.state.id, self.state.current_term);
        assert!(
            !matches!(self.state.role, Role::Leader { .. }),
            "node {id} is leader of term {term} and got AppendEntries of the same term from \
             node {from}: two leaders in one term (Election Safety, §5.2)"
        );
        // "If AppendEntries RPC received from new leader: convert to follower" (Figure 2).
        // Same term, so the vote this node cast in it is kept.
        self.state.become_follower(term, Some(request.leader_id)).unwrap_or_else(|error| {
            panic!("node {id} cannot follow node {from} in term {term}: {error:?} (§5.2)")
        });
        self.reset_election_timer();
        let success = self.state.log.matches(request.prev_log_index, request.prev_log_term);
        let match_index = request.prev_log_index;
        let reply = AppendEntriesReply { term, success, match_index, conflict: None };
        self.send(from, Message::AppendEntriesReply(reply));
    }

    /// Handles an AppendEntries reply of the current term. Stage 2 has nothing to do with it:
    /// the term guard (`check_term`) already applied the one rule that concerns it (a newer
    /// term makes a leader step down, §5.1). Stage 3 uses it to update `next_index` and
    /// `match_index` (§5.3).
    pub(crate) fn handle_append_entries_reply(&mut self, from: NodeId, reply: AppendEntriesReply) {
        // The term guard let only replies of the current term through.
        let term = self.state.current_term;
        assert_eq!(reply.term, term, "reply from node {from} of another term reached the handler");
    }
}
