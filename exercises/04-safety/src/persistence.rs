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
        // TODO: compare term and vote, then the log (first_difference), with self.persisted; return
        //       HardState, then self.snapshot_write() if it is Some (None until stage 5), then
        //       TruncateLog / AppendLog, as needed, applying each to self.persisted as you go.
        todo!(
            "take_persist: the writes that bring self.persisted (the disk) up to the state: term \
             and vote, snapshot_write() (§7, stage 5), truncation, new entries (§5.1, Figure 2)"
        )
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
        // TODO: rebuild the node from `state` (stage 1's State::restore, RaftNode::with_state):
        //       persistent state back, volatile state afresh.
        todo!(
            "restart node {id} (peers {peers:?}) from its disk (term {}, vote {:?}, {} entries): \
             persistent state back, the rest afresh; {config:?} and {rng:?} as for a new node \
             (Figure 2)",
            state.current_term,
            state.voted_for,
            state.log.last_index()
        )
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
    // TODO: walk back from the end of the shorter log while the terms differ (Log Matching).
    todo!(
        "first_difference: where a log of {} entries differs from the stored {} (§5.3)",
        new.last_index(),
        stored.last_index()
    )
}
