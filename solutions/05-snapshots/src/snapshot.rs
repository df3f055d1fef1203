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
        let log = &self.state.log;
        if index <= log.snapshot_index() || index > self.state.last_applied {
            return;
        }
        let term = log.term_at(index).expect("an applied entry after the snapshot is in the log");
        self.state.log.start_after(index, term);
        self.state.snapshot = snapshot;
    }

    /// The snapshot, if the state machine has not loaded it: the log starts after an index
    /// past `last_applied`, after an InstallSnapshot or a restart. The state machine loads it
    /// in place of every entry through its index, so `last_applied` moves there, and
    /// `take_committed` hands out the entries after it.
    fn take_snapshot(&mut self) -> Option<Snapshot> {
        let log = &self.state.log;
        if self.state.last_applied >= log.snapshot_index() {
            return None;
        }
        self.state.last_applied = log.snapshot_index();
        let data = self.state.snapshot.clone();
        Some(Snapshot { index: log.snapshot_index(), term: log.snapshot_term(), data })
    }
}

#[allow(dead_code, reason = "a stub does not call the rules it leads to; the solution does")]
impl RaftNode {
    /// Sends follower `to` this leader's snapshot (Figure 13, whole, in one message): its
    /// `next_index` is at or before the snapshot's last index, so the entries it needs are gone
    /// from the log (§7).
    pub(crate) fn send_snapshot(&mut self, to: NodeId) {
        let log = &self.state.log;
        let request = InstallSnapshot {
            term: self.state.current_term,
            leader_id: self.state.id,
            last_included_index: log.snapshot_index(),
            last_included_term: log.snapshot_term(),
            data: self.state.snapshot.clone(),
        };
        self.send(to, Message::InstallSnapshot(request));
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
        let (id, term) = (self.state.id, self.state.current_term);
        self.state.become_follower(term, Some(request.leader_id)).unwrap_or_else(|error| {
            panic!("node {id} cannot follow node {from} in term {term}: {error:?} (§5.2)")
        });
        self.reset_election_timer();
        let index = request.last_included_index;
        if index > self.state.commit_index {
            self.state.log.start_after(index, request.last_included_term);
            self.state.snapshot = request.data;
            self.state.commit_index = index;
        }
        let reply = InstallSnapshotReply { term, last_included_index: index };
        self.send(from, Message::InstallSnapshotReply(reply));
    }

    /// A follower holds everything through `reply.last_included_index`: `match_index` moves
    /// there (never back: replies arrive late and duplicated), `next_index` just after it, and
    /// the entries after the snapshot, if any, follow at once.
    pub(crate) fn handle_install_snapshot_reply(
        &mut self,
        from: NodeId,
        reply: InstallSnapshotReply,
    ) {
        let last_index = self.state.log.last_index();
        let Role::Leader { next_index, match_index } = &mut self.state.role else {
            return;
        };
        let (Some(next), Some(matched)) = (next_index.get_mut(&from), match_index.get_mut(&from))
        else {
            return;
        };
        *matched = (*matched).max(reply.last_included_index);
        *next = (*next).max(*matched + 1);
        // No commit can follow: the snapshot holds only entries this leader committed already.
        if *next <= last_index {
            self.send_append_entries(from);
        }
    }

    /// The write that puts a new snapshot on stable storage, for `take_persist` (§7): if the
    /// log starts after a later snapshot than the stored one, that snapshot, its last index and
    /// term. Written before the log's own writes, as it drops a prefix of the stored log.
    pub(crate) fn snapshot_write(&self) -> Option<StorageWrite> {
        let log = &self.state.log;
        (log.snapshot_index() > self.persisted.log.snapshot_index()).then(|| {
            StorageWrite::Snapshot {
                last_included_index: log.snapshot_index(),
                last_included_term: log.snapshot_term(),
                data: self.state.snapshot.clone(),
            }
        })
    }
}
