//! Stage 3: log replication (§5.3) and commitment (§5.4.2).
//!
//! The stage 2 [`RaftNode`] elects a leader; here the leader accepts client commands, copies
//! them to every follower's log, decides when an entry is committed, and every node hands its
//! committed entries to the state machine, in order, each once.
//!
//! # The node contract
//!
//! The node is a pure state machine (sans-IO): no clock, thread, socket or global randomness.
//! Whoever runs it does this, one input at a time:
//!
//! - **Inputs**: [`harness::Node::tick`] (one unit of time passed), [`harness::Node::step`] (a
//!   message arrived), [`harness::Replicate::propose`] (a client command, for the leader).
//! - **Outputs**, drained after every input, in this order:
//!   1. [`harness::Persist::take_persist`]: `current_term`, `voted_for` and the log, if they
//!      changed, written to stable storage before anything is sent (§5.1);
//!   2. [`harness::Node::take_messages`]: the messages to send;
//!   3. [`harness::Replicate::take_committed`]: the entries committed since the last call, to
//!      apply to the state machine (Figure 2, "Rules for Servers").
//!
//! # Where things are
//!
//! - [`node`] and [`election`]: **the stage 2 reference, included by path** (the files
//!   `solutions/02-election/src/node.rs` and `election.rs`), so stage 3 starts from exactly the
//!   code stage 2 ends with and no copy can drift. The node's fields, the dispatch of every
//!   message, the term guards and the election rules live there;
//! - [`replication`]: what you write in this stage. It takes the place of stage 2's
//!   `heartbeat.rs`: the same `broadcast_append_entries`, `handle_append_entries` and
//!   `handle_append_entries_reply`, now carrying entries, plus proposing, committing and
//!   applying.

// ANCHOR: references
#[path = "../../../solutions/02-election/src/node.rs"]
pub mod node;

#[path = "../../../solutions/02-election/src/election.rs"]
pub mod election;
// ANCHOR_END: references

// Stable storage: given here, yours in stage 4, whose reference this is.
#[path = "../../../solutions/04-safety/src/persistence.rs"]
pub mod persistence;

pub mod replication;

// Snapshots come in stage 5: the hooks the given code calls, doing nothing until then (given
// code, kept beside stage 4's persistence.rs).
#[path = "../../../solutions/04-safety/src/without_snapshots.rs"]
mod without_snapshots;

pub use node::RaftNode;
