//! The simulation: the world a node lives in, and what happens between its calls.
//!
//! The node contract ([`node`]); the [`cluster`] with its clock and [`network`]; crashes, disks
//! and partitions (`faults.rs`, `disk.rs`); a state machine beside each node ([`machine`],
//! `snapshots.rs`); the classic lab's helpers ([`client`], `lab.rs`); the seeded [`rng`]; and
//! stage 6's replicated [`service`] with its clients.

pub mod client;
pub mod cluster;
pub(crate) mod disk;
mod faults;
mod lab;
pub mod machine;
pub mod network;
pub mod node;
pub mod rng;
pub mod service;
pub(crate) mod snapshots;
