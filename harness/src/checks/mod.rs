//! The checks: what a run is judged by, after every event.
//!
//! Raft's safety rules ([`safety`]: Figure 3 and Figure 2's monotonic rules), persistent state
//! across a restart (`persistence.rs`), the same seed giving the same run ([`determinism`]), and
//! the [`watchdog`] that turns a node call that never returns into a failure.

pub mod determinism;
pub(crate) mod persistence;
pub mod safety;
pub mod watchdog;

pub use safety::{Checks, Violation, hash_command};
