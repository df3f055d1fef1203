//! Snapshots and log compaction (§7, Figure 13).
//!
//! A log that grows forever fills the disk, and a server that was away long is repaired one
//! entry at a time. So each server, independently, compacts: the state machine's state after
//! index `i` replaces the log through `i` (§7). Three things follow.
//!
//! - **Compaction on request** (`compact`): the service says "I applied everything through
//!   `i`, here is my state"; the node keeps those bytes as its snapshot and its log starts after
//!   `i` (stage 1's `Log::start_after`). An out-of-date request changes nothing.
//! - **InstallSnapshot** (Figure 13): a leader whose follower needs an entry it compacted away
//!   sends its snapshot instead (`send_snapshot`, called by stage 3's `send_append_entries`);
//!   the follower keeps what it can of its log, and its state machine loads the snapshot
//!   (`handle_install_snapshot`); the leader then counts the follower as holding everything
//!   through it (`handle_install_snapshot_reply`).
//! - **Stable storage and restart**: the snapshot is persistent state, written before anything
//!   that depends on it is sent (`snapshot_write`, called by stage 4's `take_persist`); after a
//!   restart the node's commit index starts at its snapshot (stage 1's `State::restore`), and
//!   the state machine gets the snapshot before any entry (`take_snapshot`).
//!
//! Invariants: `last_applied <= commit_index`; the snapshot covers only applied (so committed)
//! entries; neither the snapshot index, `commit_index` nor `last_applied` ever goes back while
//! the node is up; and no entry at or before the snapshot is ever handed out again.

// Stage 1's types, as a prelude: `InstallSnapshot`, `Message`, `Role`, `StorageWrite`, ...
use data_structures::*;
use harness::{Compact, Snapshot};

use crate::node::RaftNode;

impl Compact for RaftNode {
    /// The service applied every entry through `index` and its state is `snapshot` (§7): keep
    /// the bytes as this node's snapshot and start the log after `index`. Ignored if `index` is
    /// at or before the current snapshot (an out-of-date request: the log never grows a
    /// compacted prefix back), or past `last_applied` (the service cannot have applied it).
    fn compact(&mut self, index: Index, snapshot: Vec<u8>) {
        // TODO: refuse an out-of-date index (at or before the snapshot) or one past last_applied;
        //       otherwise start the log after `index` (stage 1's Log::start_after, with the term
        //       there) and keep `snapshot` as this node's snapshot.
        todo!(
            "compact({index}, {} bytes): ignore unless snapshot_index < {index} <= last_applied; \
             start the log after {index}; keep the bytes (§7)",
            snapshot.len()
        )
    }

    /// The snapshot, if the state machine has not loaded it: the log starts after an index
    /// past `last_applied`, after an InstallSnapshot or a restart. The state machine loads it
    /// in place of every entry through its index, so `last_applied` moves there, and
    /// `take_committed` hands out the entries after it.
    fn take_snapshot(&mut self) -> Option<Snapshot> {
        // TODO: if the log's snapshot is past last_applied, move last_applied to it and hand the
        //       snapshot out (index, term, data); otherwise None.
        todo!(
            "take_snapshot: Some(snapshot) if snapshot_index > last_applied (then last_applied = \
             snapshot_index), else None (§7)"
        )
    }
}

#[allow(dead_code, reason = "a stub does not call the rules it leads to; the solution does")]
impl RaftNode {
    /// Sends follower `to` this leader's snapshot (Figure 13, whole, in one message): its
    /// `next_index` is at or before the snapshot's last index, so the entries it needs are gone
    /// from the log (§7).
    pub(crate) fn send_snapshot(&mut self, to: NodeId) {
        // TODO: send `to` an InstallSnapshot with this term, this id, the log's snapshot index and
        //       term, and the snapshot's bytes.
        todo!(
            "send_snapshot(to {to}): InstallSnapshot with the snapshot's index, term, bytes (Figure 13)"
        )
    }

    /// Answers an InstallSnapshot of the current term (Figure 13, receiver rules).
    ///
    /// Its sender leads this term: follow it and restart the election timer, as for an
    /// AppendEntries (§5.2). A snapshot at or before `commit_index` brings nothing new (every
    /// entry in it is committed here already, some maybe applied): it is ignored, or the state
    /// machine would go back. Otherwise the log starts after it, keeping the entries that
    /// follow its last entry if this log holds that entry (rules 6-7, `Log::start_after`), the
    /// snapshot replaces this node's, and `commit_index` moves to its last index;
    /// `take_snapshot` then hands it to the state machine. Either way the reply says that this
    /// node holds everything through the snapshot's last index.
    pub(crate) fn handle_install_snapshot(&mut self, from: NodeId, request: InstallSnapshot) {
        // TODO: follow the sender and restart the election timer; ignore a snapshot at or before
        //       commit_index; else start the log after it (Log::start_after), keep its bytes,
        //       move commit_index there; reply with the request's last_included_index.
        todo!(
            "handle_install_snapshot(from {from}, through {}): follow, reset the timer; if past \
             commit_index: start the log after it, keep the bytes, commit_index = its index; \
             reply (Figure 13)",
            request.last_included_index
        )
    }

    /// A follower holds everything through `reply.last_included_index`: `match_index` moves
    /// there (never back: replies arrive late and duplicated), `next_index` just after it, and
    /// the entries after the snapshot, if any, follow at once.
    pub(crate) fn handle_install_snapshot_reply(
        &mut self,
        from: NodeId,
        reply: InstallSnapshotReply,
    ) {
        // TODO: as leader, raise match_index (never lower) to the reply's last_included_index,
        //       next_index past it, and send the entries after it if there are any.
        todo!(
            "handle_install_snapshot_reply(from {from}, through {}): match_index up, next_index \
             after it, send what follows (Figure 13, §5.3)",
            reply.last_included_index
        )
    }

    /// The write that puts a new snapshot on stable storage, for `take_persist` (§7): if the
    /// log starts after a later snapshot than the stored one, that snapshot, its last index and
    /// term. Written before the log's own writes, as it drops a prefix of the stored log.
    pub(crate) fn snapshot_write(&self) -> Option<StorageWrite> {
        // TODO: if the log's snapshot index is past the stored one (self.persisted.log), a
        //       StorageWrite::Snapshot with the index, term and bytes; otherwise None.
        todo!(
            "snapshot_write: StorageWrite::Snapshot if the log's snapshot is newer than the \
             stored one, else None (§7)"
        )
    }
}
