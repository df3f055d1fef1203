//! Snapshots come in stage 5 (§7). Until then a node compacts nothing, so it never has a
//! snapshot to send, to install or to persist: these are the places where the given code of
//! stages 2–4 reaches for one, doing nothing. Stage 5's `snapshot.rs` takes this file's place.
//!
//! Given code in stages 2, 3 and 4 (stages 2 and 3 include this file by path).

use data_structures::{InstallSnapshot, InstallSnapshotReply, NodeId, StorageWrite};

use crate::node::RaftNode;

impl RaftNode {
    /// A leader's snapshot. No node before stage 5 sends one; if one arrives anyway, it is
    /// dropped: without compaction, every entry the leader has can be sent as an entry.
    pub(crate) fn handle_install_snapshot(&mut self, _from: NodeId, _request: InstallSnapshot) {}

    /// A follower installed this leader's snapshot. No node before stage 5 sends one.
    pub(crate) fn handle_install_snapshot_reply(
        &mut self,
        _from: NodeId,
        _reply: InstallSnapshotReply,
    ) {
    }

    /// Sends `to` the snapshot instead of entries it compacted away. Never called before stage
    /// 5: a log that was never compacted still holds every entry a follower can need.
    #[allow(dead_code, reason = "stage 2 sends no entries; stages 3 and 4 call it")]
    pub(crate) fn send_snapshot(&mut self, _to: NodeId) {}

    /// The write that puts a new snapshot on stable storage, for `take_persist`: none before
    /// stage 5.
    #[allow(dead_code, reason = "stage 4's take_persist calls it; its stub does not yet")]
    pub(crate) fn snapshot_write(&self) -> Option<StorageWrite> {
        None
    }
}
