//! Stable storage (§5.1, Figure 2): what a node writes, when, and how it comes back.
//!
//! Figure 2 calls `current_term`, `voted_for` and the log *persistent state*: "updated on
//! stable storage before responding to RPCs". A server that forgets its vote in a crash can
//! vote twice in one term and elect two leaders (§5.2); one that forgets entries it
//! acknowledged can make a leader count a replica that no longer exists, and lose a committed
//! entry (§5.3, §5.4).
//!
//! The node never writes a disk itself (it is sans-IO): after every input, whoever runs it
//! takes the writes with `take_persist`, carries them out, and only then sends the node's
//! messages. So every change reported in the same input as a reply reaches the disk before the
//! reply leaves. Writes are changes, not copies ([`StorageWrite`]): a new term and vote, a
//! truncated log, appended entries; so a write costs what it carries however long the log.
//!
//! Stages 2 and 3 include this file as given code; stage 4 is where you write it.

// Stage 1's types, as a prelude: `Log`, `PersistentState`, `State`, `StorageWrite`, ...
use data_structures::*;
use harness::{Config, Persist, Rng};

use crate::node::RaftNode;

impl Persist for RaftNode {
    type State = PersistentState;
    type Write = StorageWrite;

    /// The writes that bring stable storage (`self.persisted`) up to the node's state, in
    /// order: the term and vote if either changed; a new snapshot, `self.snapshot_write()`
    /// (stage 5, §7: always `None` before, so no test of stage 4 needs it; stage 5's do, when
    /// it builds on your code); the log from the first index where it differs from the stored
    /// log (a truncation if the stored log goes on past it, then the new entries). Nothing if
    /// nothing changed. Each write is applied to `self.persisted` as it is made (so the log's
    /// writes are computed against the stored log as the snapshot write left it), which
    /// always mirrors the disk.
    fn take_persist(&mut self) -> Vec<StorageWrite> {
        let mut writes = Vec::new();
        let (state, stored) = (&self.state, &self.persisted);
        if (state.current_term, state.voted_for) != (stored.current_term, stored.voted_for) {
            let (current_term, voted_for) = (state.current_term, state.voted_for);
            record(
                &mut self.persisted,
                &mut writes,
                StorageWrite::HardState { current_term, voted_for },
            );
        }
        // Stage 5: a new snapshot is written before the log, whose stored prefix it drops (§7).
        if let Some(write) = self.snapshot_write() {
            record(&mut self.persisted, &mut writes, write);
        }
        let (state, stored) = (&self.state, &self.persisted);
        let from = first_difference(&stored.log, &state.log);
        if from <= stored.log.last_index() {
            record(&mut self.persisted, &mut writes, StorageWrite::TruncateLog { from });
        }
        if let Some(entries) = state.log.entries_from(from).filter(|entries| !entries.is_empty()) {
            let write = StorageWrite::AppendLog { entries: entries.to_vec() };
            record(&mut self.persisted, &mut writes, write);
        }
        writes
    }

    /// The storage engine: carries out one write (stage 1's `PersistentState::apply`).
    fn apply_write(state: &mut PersistentState, write: StorageWrite) {
        state.apply(write);
    }

    /// A node restarted after a crash from what its disk holds: `current_term`, `voted_for`
    /// and the log come back; everything else (role, `commit_index`, `last_applied`, leader
    /// state, timers) starts afresh, as for a new follower (Figure 2).
    fn restart(
        id: NodeId,
        peers: Vec<NodeId>,
        config: Config,
        rng: Rng,
        state: PersistentState,
    ) -> Self {
        RaftNode::with_state(State::restore(id, state.clone()), peers, config, rng, state)
    }
}

/// Carries out `write` on `persisted`, the node's mirror of its disk, and queues it for the
/// disk itself.
#[allow(dead_code, reason = "a stub does not call it yet; the solution does")]
fn record(persisted: &mut PersistentState, writes: &mut Vec<StorageWrite>, write: StorageWrite) {
    persisted.apply(write.clone());
    writes.push(write);
}

/// The first index at which log `new` differs from log `stored` (their last index + 1 if one
/// is a prefix of the other), found from the end of the shorter one.
///
/// Walking back, the first index where both hold an entry of the same term ends the search:
/// by Log Matching (§5.3), two entries with the same index and term are preceded by identical
/// entries. So the cost is the length of the change, not of the log.
pub fn first_difference(stored: &Log, new: &Log) -> Index {
    let mut index = stored.last_index().min(new.last_index());
    while index > 0 && stored.term_at(index) != new.term_at(index) {
        index -= 1;
    }
    index + 1
}
