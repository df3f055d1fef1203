//! A deterministic simulated Raft cluster for testing sans-IO Raft nodes.
//!
//! Everything here is driven by one `u64` seed and simulated ticks: no wall clock, no threads,
//! no global randomness. Same seed, same run, byte for byte.
//!
//! The harness knows nothing of any stage's types. A node plugs in through the traits in
//! [`node`]: [`Node`] (elections: every stage), [`Replicate`] (proposals and committed
//! entries: stage 3 on) and [`Persist`] (crash and restart: state to persist).

pub mod node;
pub mod rng;

pub use node::{
    Applied, Config, Envelope, Index, Node, NodeId, NotLeader, Persist, Replicate, Role, Status,
    Term,
};
pub use rng::Rng;
