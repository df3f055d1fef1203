//! Stage 6: a replicated key-value service (Raft dissertation §6, §8).
//!
//! The stage 5 [`RaftNode`] replicates and compacts a log; nothing uses it yet. Here it
//! becomes a service that clients use: a key-value store whose writes take effect exactly once
//! however often a client retries (sessions, §6.3), whose reads never touch the log
//! (ReadIndex, §6.4), and whose every run is checked for linearizability by the harness.
//!
//! # The node contract
//!
//! As in stage 5, plus [`harness::service::Service`]: [`harness::service::Service::request`]
//! is one more input, and [`harness::service::Service::take_replies`] one more output, drained
//! after the others. The service keeps its own state machine and compacts its own log.
//!
//! # Where things are
//!
//! - [`node`], [`election`], [`replication`], [`persistence`] and [`snapshot`]: **the
//!   references of stages 2 to 5, included by path**, unchanged;
//! - [`message`]: given: the messages between servers (Raft's, and the ReadIndex round) and
//!   what a log entry holds;
//! - [`store`]: yours: the key-value map and the sessions (§6.3);
//! - [`service`]: yours: the service node, its writes through the log (§6.2) and its no-op
//!   (§8); the plumbing around them is given;
//! - [`read`]: yours: reads without the log (§6.4).

#[path = "../../../solutions/02-election/src/node.rs"]
pub mod node;

#[path = "../../../solutions/02-election/src/election.rs"]
pub mod election;

#[path = "../../../solutions/03-replication/src/replication.rs"]
pub mod replication;

#[path = "../../../solutions/04-safety/src/persistence.rs"]
pub mod persistence;

#[path = "../../../solutions/05-snapshots/src/snapshot.rs"]
pub mod snapshot;

pub mod message;
pub mod read;
pub mod service;
pub mod store;

pub use data_structures::{PersistentState, StorageWrite};
pub use message::{Entry, Message, ReadIndex};
pub use node::RaftNode;
pub use read::PendingRead;
pub use service::{KvConfig, KvNode, PendingWrite, to_answer};
pub use store::{KvError, MAX_KEY_BYTES, MAX_VALUE_BYTES, Session, Store};
