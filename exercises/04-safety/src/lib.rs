//! Stage 4: safety: stable storage, crash recovery, and the properties that make Raft safe
//! (§5.1, §5.4, §5.5).
//!
//! The stage 3 [`RaftNode`] elects leaders and replicates their logs. Real servers crash and
//! restart, and a server that forgets what it promised (its vote, the entries it acknowledged)
//! breaks Raft as surely as a wrong rule. Here you decide what the node writes to stable
//! storage and how it comes back after a crash, and you turn Figure 3's safety properties into
//! checks you can run against any cluster.
//!
//! # The node contract
//!
//! As in stage 3: inputs `tick`, `step`, `propose`; after every input the outputs are drained
//! in this order: [`harness::Persist::take_persist`] (the writes, carried out before anything
//! is sent: §5.1), [`harness::Node::take_messages`], [`harness::Replicate::take_committed`].
//! After a crash, [`harness::Persist::restart`] brings the node back from what its writes left
//! on disk.
//!
//! # Where things are
//!
//! - [`node`], [`election`] (the stage 2 reference) and [`replication`] (the stage 3
//!   reference), **included by path**, so this stage starts from exactly the code those stages
//!   end with;
//! - [`persistence`]: yours: what to write to stable storage and when, and the restart;
//! - [`properties`]: yours: Election Safety, Log Matching, Leader Completeness and State
//!   Machine Safety (Figure 3) as checks over a snapshot of a cluster.

// ANCHOR: references
#[path = "../../../solutions/02-election/src/node.rs"]
pub mod node;

#[path = "../../../solutions/02-election/src/election.rs"]
pub mod election;

#[path = "../../../solutions/03-replication/src/replication.rs"]
pub mod replication;
// ANCHOR_END: references

pub mod persistence;
pub mod properties;

// Snapshots come in stage 5: the hooks the given code calls, doing nothing until then.
mod without_snapshots;

pub use node::RaftNode;
