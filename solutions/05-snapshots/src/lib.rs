//! Stage 5: snapshots and log compaction (§7, Figure 13).
//!
//! The stage 4 [`RaftNode`] elects, replicates, persists and survives crashes, but its log
//! grows forever. Here it compacts: the state machine's state after an index replaces the log
//! through it, a leader sends its snapshot to a follower that needs entries it no longer has,
//! and a restarted node starts from its snapshot.
//!
//! # The node contract
//!
//! As in stage 4, plus [`harness::Compact`]: the service calls [`harness::Compact::compact`]
//! with its state after an index the node handed out; after every input the outputs are drained
//! in this order: [`harness::Persist::take_persist`], [`harness::Node::take_messages`],
//! [`harness::Compact::take_snapshot`] (a snapshot the state machine must load first), then
//! [`harness::Replicate::take_committed`].
//!
//! # Where things are
//!
//! - [`node`], [`election`] (stage 2), [`replication`] (stage 3) and [`persistence`] (stage 4):
//!   **the references, included by path**. Stage 1's log already knows where a snapshot ends
//!   (`Log::snapshot_index`, `Log::start_after`), and the given code calls this stage's
//!   functions where a snapshot comes in: `node.rs` dispatches InstallSnapshot,
//!   `send_append_entries` calls `send_snapshot` when the entries are gone, `take_persist`
//!   calls `snapshot_write`;
//! - [`snapshot`]: yours: compaction, InstallSnapshot on both sides, the snapshot's write, and
//!   handing the snapshot to the state machine.

// ANCHOR: references
#[path = "../../../solutions/02-election/src/node.rs"]
pub mod node;

#[path = "../../../solutions/02-election/src/election.rs"]
pub mod election;

#[path = "../../../solutions/03-replication/src/replication.rs"]
pub mod replication;

#[path = "../../../solutions/04-safety/src/persistence.rs"]
pub mod persistence;
// ANCHOR_END: references

pub mod snapshot;

pub use node::RaftNode;
