//! Stage 2: leader election (§5.1, §5.2, §5.4.1).
//!
//! A [`RaftNode`] that elects a leader and keeps it with heartbeats, built on the stage 1 types
//! ([`data_structures::State`], [`data_structures::Log`], [`data_structures::Message`]).
//!
//! # The node contract
//!
//! The node is a pure state machine (sans-IO): it never reads a clock, starts a thread, opens a
//! socket or draws from global randomness. Whoever runs it (the course's simulated cluster, a
//! test, a real server) does this, one input at a time:
//!
//! - **Inputs**: [`harness::Node::tick`] says one unit of time passed; [`harness::Node::step`]
//!   hands it a message that arrived from another node.
//! - **Outputs**, drained after every input, in this order:
//!   1. [`harness::Persist::take_persist`]: `current_term`, `voted_for` and the log, if they
//!      changed; written to stable storage *before* anything is sent (§5.1: a server answers an
//!      RPC only after updating its stable storage);
//!   2. [`harness::Node::take_messages`]: the messages to send.
//!
//! The only randomness, the election timeout (§5.2), comes from the [`harness::Rng`] handed in
//! at construction, so the same seed gives the same run.
//!
//! # Where things are
//!
//! - [`node`]: the node's fields and the dispatch of every message (given), and the term
//!   guards of §5.1, `check_term` (yours);
//! - [`election`]: the election rules, what you write in this stage.
//!
//! Stage 2 does not replicate: the leader's AppendEntries carry no entries (heartbeats, §5.2).
//! Replication is stage 3.

pub mod election;
pub mod heartbeat;
pub mod node;

// Stable storage: given in stages 2 and 3, yours in stage 4, so the file is the stage 4
// reference, included here by path (written once, design contract 2).
#[path = "../../../solutions/04-safety/src/persistence.rs"]
pub mod persistence;

// Snapshots come in stage 5: the hooks the given code calls, doing nothing until then (given
// code, kept beside stage 4's persistence.rs).
#[path = "../../../solutions/04-safety/src/without_snapshots.rs"]
mod without_snapshots;

pub use node::RaftNode;
