//! Log replication (§5.3) and commitment (§5.4.2).
//!
//! The leader's side: [`Replicate::propose`] appends a client's command to the leader's log;
//! `send_append_entries` sends each follower the entries from its `next_index` on, on every
//! proposal and every heartbeat, so that a follower that fell behind is repaired without new
//! traffic; `handle_append_entries_reply` moves `match_index` and `next_index`, and
//! `maybe_commit` advances `commit_index` once a majority stores an entry of the current term.
//!
//! The follower's side: `handle_append_entries` runs the consistency check and stores the new
//! entries (stage 1's `Log::append_entries`), learns the leader's commit index, and on a
//! mismatch answers with a `conflict` hint so that the leader skips back a whole term at a time.
//!
//! Every node: [`Replicate::take_committed`] hands out the entries from `last_applied + 1` to
//! `commit_index`, in order, each once.
//!
//! Invariants, for every peer `p` of a leader: `match_index[p] < next_index[p] <=
//! last_index + 1`, and neither `commit_index` nor `match_index[p]` ever decreases while the
//! node leads.

// Stage 1's types, as a prelude: the RPC structs, `Message`, `Role`, `Log`, `Conflict`.
use data_structures::*;
use harness::{Applied, NotLeader, Replicate};

use crate::node::RaftNode;

impl Replicate for RaftNode {
    /// A client's command (§5.3): the leader appends it to its own log as a new entry of its
    /// current term, sends it to the followers at once, and returns where it will be
    /// committed if this node stays leader. Any other node refuses, naming the leader it
    /// knows, so that the client can retry there.
    fn propose(&mut self, command: Command) -> Result<(Index, Term), NotLeader> {
        // TODO: a non-leader refuses with its leader hint (State::leader); the leader appends the
        //       command in its current term, commits if alone, sends it to the followers.
        todo!(
            "propose({command:?}): leader appends in its term and sends; others answer NotLeader \
             with a hint (§5.3)"
        )
    }

    /// The entries committed since the last call, from `last_applied + 1` to `commit_index`,
    /// in index order, each exactly once (Figure 2, Rules for All Servers: `if commitIndex >
    /// lastApplied: increment lastApplied, apply log[lastApplied] to state machine`).
    ///
    /// From stage 5 on, entries at or before `log.snapshot_index()` are gone from the log: the
    /// state machine loads the snapshot first (`take_snapshot`, §7), which moves `last_applied`
    /// past them, so this function never needs them; an entry missing here is a bug to report
    /// with its numbers, never one to skip.
    fn take_committed(&mut self) -> Vec<Applied<Command>> {
        // TODO: hand out entries last_applied + 1 ..= commit_index, in order, moving last_applied.
        todo!(
            "take_committed: entries {}..={} in order, each once (Figure 2, Rules for Servers)",
            self.state.last_applied + 1,
            self.state.commit_index
        )
    }
}

#[allow(dead_code, reason = "a stub does not call the rules it leads to; the solution does")]
impl RaftNode {
    /// Sends every follower an AppendEntries from its own `next_index` (§5.3). Called when the
    /// node becomes leader, on every heartbeat and on every proposal.
    pub(crate) fn broadcast_append_entries(&mut self) {
        for peer in self.peers.clone() {
            self.send_append_entries(peer);
        }
    }

    /// Sends follower `to` the entries from its `next_index` on (at most
    /// `config.max_entries_per_append` of them), after the entry at `next_index - 1`, which
    /// the follower must hold for the new ones to be stored (the consistency check, §5.3),
    /// and the leader's `commit_index`. With nothing new to send, it is a heartbeat (§5.2).
    ///
    /// First, for stage 5: if `next_index <= log.snapshot_index()`, the entries the follower
    /// needs were compacted into a snapshot, and it gets the snapshot instead:
    /// `send_snapshot(to)`, then return (§7). Before stage 5 no log is compacted, the snapshot
    /// index stays 0 and `send_snapshot` does nothing, so no test of stages 3 and 4 needs
    /// this; stage 5's do, when it builds on your code (`cargo run -- carry 3 5`).
    pub(crate) fn send_append_entries(&mut self, to: NodeId) {
        // TODO: as leader, send `to` the entries from next_index[to] (at most
        //       config.max_entries_per_append), after prev = next_index[to] - 1 and its term, with
        //       commit_index; but if next_index[to] <= log.snapshot_index(), send_snapshot(to)
        //       instead (a no-op until stage 5).
        todo!(
            "send_append_entries(to {to}): entries from next_index, prev index and term, leader_commit (§5.3); the snapshot (send_snapshot) if next_index <= snapshot_index (§7)"
        )
    }

    /// Answers an AppendEntries of the current term (Figure 2, AppendEntries receiver rules):
    /// its sender leads this term, so this node follows it and restarts its election timer,
    /// whether or not the entries fit (§5.2). If the log holds the entry before the new ones
    /// (the consistency check), the entries are stored, conflicting ones replaced (stage 1's
    /// `Log::append_entries`), and the commit index moves to `min(leader_commit, index of the
    /// last new entry)`. Otherwise the reply says where this log parts from the leader's.
    pub(crate) fn handle_append_entries(&mut self, from: NodeId, request: AppendEntries) {
        // TODO: follow the sender and reset the timer (as in stage 2); store the entries with
        //       Log::append_entries; on success commit up to min(leader_commit, last new index);
        //       reply with match_index, or with the conflict hint on a refusal.
        todo!("handle_append_entries(from {from}, {request:?}): check, store, commit, reply (§5.3)")
    }

    /// Where this log parts from the leader's, for a refused AppendEntries whose previous entry
    /// was `prev_log_index` (§5.3, the optimization in its last paragraphs): the term of this
    /// log's entry there and the first index this log holds of that term; or, if the log ends
    /// before `prev_log_index`, no term and the index just past its end.
    pub(crate) fn conflict(&self, prev_log_index: Index) -> Conflict {
        // TODO: the term at prev_log_index and the first index of that term in this log; or, past
        //       the end, no term and last_index + 1.
        todo!(
            "conflict({prev_log_index}): the term there and where it starts, or where the log ends (§5.3)"
        )
    }

    /// Handles an AppendEntries reply of the current term (Figure 2, Rules for Leaders).
    ///
    /// On success, `match_index` becomes what *that request* covered (`reply.match_index`),
    /// never less than before (replies arrive late, reordered and duplicated), `next_index`
    /// follows it, and the commit index may advance. On a refusal of the request this leader
    /// last sent from `next_index`, `next_index` moves back with the follower's hint (a
    /// whole term at a time), never below `match_index + 1`, and the leader tries again at
    /// once. A refusal of an older request changes nothing.
    pub(crate) fn handle_append_entries_reply(&mut self, from: NodeId, reply: AppendEntriesReply) {
        // TODO: as leader: on success raise match_index (never lower it) and next_index, then
        //       maybe_commit; on a refusal of the request sent from next_index, move next_index
        //       back with the hint (never to or below match_index) and send again.
        todo!("handle_append_entries_reply(from {from}, {reply:?}): match_index, next_index (§5.3)")
    }

    /// The leader's commit rule (§5.3, §5.4.2; Figure 2, Rules for Leaders): the largest index
    /// `N` stored on a majority of the servers (the leader counted once, with its whole log)
    /// becomes `commit_index`, but only if the entry at `N` is of the current term. An entry of
    /// an earlier term is committed only indirectly, by an entry of the current term after it
    /// (Figure 8).
    pub(crate) fn maybe_commit(&mut self) {
        // TODO: as leader, find the largest index stored on a majority (itself included) and
        //       commit it if its entry is of the current term.
        todo!("maybe_commit: largest index on a majority, of the current term (§5.3, §5.4.2)")
    }
}

/// The index of the last entry of `term` in `log` at or before `upto`, if there is one: where
/// a leader that holds entries of a follower's conflicting term resumes (§5.3).
#[allow(dead_code, reason = "the reply handler's stub does not call it yet; the solution does")]
fn last_index_of_term(log: &Log, term: Term, upto: Index) -> Option<Index> {
    let mut index = upto.min(log.last_index());
    // Terms never decrease along a log: walk back past the later terms, then look.
    while index > 0 && log.term_at(index)? > term {
        index -= 1;
    }
    (index > 0 && log.term_at(index) == Some(term)).then_some(index)
}
