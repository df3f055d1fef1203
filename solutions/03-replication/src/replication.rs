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
        if !matches!(self.state.role, Role::Leader { .. }) {
            return Err(NotLeader { leader_hint: self.state.leader() });
        }
        let term = self.state.current_term;
        let index = self.state.log.append(term, command);
        // Alone in its cluster, the leader's own copy is already a majority.
        self.maybe_commit();
        self.broadcast_append_entries();
        Ok((index, term))
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
        let mut applied = Vec::new();
        while self.state.last_applied < self.state.commit_index {
            let index = self.state.last_applied + 1;
            let entry = self.state.log.entry(index).unwrap_or_else(|| {
                let (id, log) = (self.state.id, &self.state.log);
                if index <= log.snapshot_index() {
                    panic!(
                        "node {id}: entry {index} is in the snapshot (through {}): the state \
                         machine loads the snapshot first, which moves last_applied past it \
                         (take_snapshot, §7)",
                        log.snapshot_index()
                    )
                }
                panic!(
                    "node {id}: commit_index {} is past the last log index {} (Figure 2)",
                    self.state.commit_index,
                    log.last_index()
                )
            });
            applied.push(Applied { index, term: entry.term, command: entry.command.clone() });
            self.state.last_applied = index;
        }
        applied
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
        let Role::Leader { next_index, .. } = &self.state.role else {
            return;
        };
        let next = next_index[&to];
        // The entries this follower needs were compacted into the snapshot: it gets the
        // snapshot instead (§7, stage 5; never before, as no log is compacted).
        if next <= self.state.log.snapshot_index() {
            return self.send_snapshot(to);
        }
        let prev_log_index = next - 1;
        let (id, log) = (self.state.id, &self.state.log);
        let (Some(prev_log_term), Some(entries)) =
            (log.term_at(prev_log_index), log.entries_from(next))
        else {
            let (last, snapshot) = (log.last_index(), log.snapshot_index());
            if next <= snapshot + 1 {
                panic!(
                    "node {id}: next_index {next} of node {to} needs entries compacted into the \
                     snapshot through {snapshot}: send the snapshot instead (§7)"
                )
            }
            panic!(
                "node {id}: next_index {next} of node {to} is past the log's end {last} + 1 (§5.3)"
            )
        };
        // A batch at a time: a follower far behind is repaired over several messages.
        let batch = entries.len().min(self.config.max_entries_per_append);
        let request = AppendEntries {
            term: self.state.current_term,
            leader_id: id,
            prev_log_index,
            prev_log_term,
            entries: entries[..batch].to_vec(),
            leader_commit: self.state.commit_index,
        };
        self.send(to, Message::AppendEntries(request));
    }

    /// Answers an AppendEntries of the current term (Figure 2, AppendEntries receiver rules):
    /// its sender leads this term, so this node follows it and restarts its election timer,
    /// whether or not the entries fit (§5.2). If the log holds the entry before the new ones
    /// (the consistency check), the entries are stored, conflicting ones replaced (stage 1's
    /// `Log::append_entries`), and the commit index moves to `min(leader_commit, index of the
    /// last new entry)`. Otherwise the reply says where this log parts from the leader's.
    pub(crate) fn handle_append_entries(&mut self, from: NodeId, request: AppendEntries) {
        let (id, term) = (self.state.id, self.state.current_term);
        assert!(
            !matches!(self.state.role, Role::Leader { .. }),
            "node {id} is leader of term {term} and got AppendEntries of the same term from \
             node {from}: two leaders in one term (Election Safety, §5.2)"
        );
        // "If AppendEntries RPC received from new leader: convert to follower" (Figure 2).
        self.state.become_follower(term, Some(request.leader_id)).unwrap_or_else(|error| {
            panic!("node {id} cannot follow node {from} in term {term}: {error:?} (§5.2)")
        });
        // Even when the check fails: the leader is alive and repairing this log.
        self.reset_election_timer();
        let (prev_log_index, prev_log_term) = (request.prev_log_index, request.prev_log_term);
        let reply =
            match self.state.log.append_entries(prev_log_index, prev_log_term, &request.entries) {
                Ok(match_index) => {
                    // Receiver rule 5: the last *new* entry, not the log's end, which may hold
                    // entries of an old leader that this request did not vouch for.
                    let commit = request.leader_commit.min(match_index);
                    if commit > self.state.commit_index {
                        self.state.commit_index = commit;
                    }
                    AppendEntriesReply { term, success: true, match_index, conflict: None }
                }
                Err(_) => {
                    let conflict = Some(self.conflict(prev_log_index));
                    AppendEntriesReply {
                        term,
                        success: false,
                        match_index: prev_log_index,
                        conflict,
                    }
                }
            };
        self.send(from, Message::AppendEntriesReply(reply));
    }

    /// Where this log parts from the leader's, for a refused AppendEntries whose previous entry
    /// was `prev_log_index` (§5.3, the optimization in its last paragraphs): the term of this
    /// log's entry there and the first index this log holds of that term; or, if the log ends
    /// before `prev_log_index`, no term and the index just past its end.
    pub(crate) fn conflict(&self, prev_log_index: Index) -> Conflict {
        let log = &self.state.log;
        let Some(term) = log.term_at(prev_log_index) else {
            return Conflict { term: None, first_index: log.last_index() + 1 };
        };
        // Walk back over the whole run of `term`: the leader skips all of it in one step.
        let mut first_index = prev_log_index;
        while first_index > 1 && log.term_at(first_index - 1) == Some(term) {
            first_index -= 1;
        }
        Conflict { term: Some(term), first_index }
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
        // A follower or candidate of this term sent no AppendEntries in it: nothing to update.
        let log = &self.state.log;
        let Role::Leader { next_index, match_index } = &mut self.state.role else {
            return;
        };
        let (Some(next), Some(matched)) = (next_index.get_mut(&from), match_index.get_mut(&from))
        else {
            return;
        };
        if reply.success {
            *matched = (*matched).max(reply.match_index);
            *next = (*next).max(*matched + 1);
            self.maybe_commit();
            return;
        }
        // The refused request was sent from `next_index`, so its previous entry was
        // `next_index - 1`; any other refusal answers an older request.
        if reply.match_index + 1 != *next {
            return;
        }
        let hinted = match reply.conflict {
            // The follower's log ends early: resume where it ends.
            Some(Conflict { term: None, first_index }) => first_index,
            // Skip the follower's whole run of the conflicting term, unless this leader holds
            // entries of that term too: then resume just after its own last one.
            Some(Conflict { term: Some(term), first_index }) => {
                last_index_of_term(log, term, reply.match_index).map_or(first_index, |i| i + 1)
            }
            // No hint: one entry back, as in Figure 2.
            None => reply.match_index,
        };
        // Always back (so that every refusal makes progress), never at or below what the
        // follower is known to hold.
        *next = hinted.min(reply.match_index).max(*matched + 1);
        self.send_append_entries(from);
    }

    /// The leader's commit rule (§5.3, §5.4.2; Figure 2, Rules for Leaders): the largest index
    /// `N` stored on a majority of the servers (the leader counted once, with its whole log)
    /// becomes `commit_index`, but only if the entry at `N` is of the current term. An entry of
    /// an earlier term is committed only indirectly, by an entry of the current term after it
    /// (Figure 8).
    pub(crate) fn maybe_commit(&mut self) {
        let Role::Leader { match_index, .. } = &self.state.role else {
            return;
        };
        let mut stored: Vec<Index> = match_index.values().copied().collect();
        stored.push(self.state.log.last_index());
        // Largest first: the (n/2 + 1)-th largest index is stored on a majority of n servers.
        stored.sort_unstable_by(|a, b| b.cmp(a));
        let majority = stored[stored.len() / 2];
        let current = self.state.log.term_at(majority) == Some(self.state.current_term);
        if majority > self.state.commit_index && current {
            self.state.commit_index = majority;
        }
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
