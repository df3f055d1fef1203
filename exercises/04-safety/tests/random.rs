//! Randomized runs with crashes over many seeds (§5.1, §5.4).
//!
//! Each seed is one run in two phases (see `harness::chaos`): a safety phase with client
//! proposals, partitions, one-way cuts, crashes and restarts on a lossy, duplicating,
//! reordering network, with every safety check after every event, including the restart check
//! (a node must come back with exactly the term, vote and log it had when it crashed); then a
//! liveness phase in which the healed cluster must commit again.
//!
//! `cargo test -p safety --test random` runs a few seeds; `RAFT_SEEDS=1000` runs a thousand;
//! `RAFT_SEED=42` replays one (a failure report prints the exact command).

use harness::{chaos, seeds};

#[path = "../../03-replication/tests/leading/mod.rs"]
mod leading;

/// The stage's node, with the invariants `replication.rs` states checked after every input
/// (stage 3's `tests/leading/mod.rs`).
type RaftNode = leading::Checked<safety::RaftNode>;

impl leading::Inspect for safety::RaftNode {
    fn whole_state(&self) -> &data_structures::State {
        self.state()
    }
}

/// Crashes and restarts never cost a committed entry (State Machine Safety, §5.4.3), and no
/// node comes back with less than it promised (§5.1).
#[test]
fn crashes_and_restarts_stay_safe_and_recover() {
    for seed in seeds() {
        chaos::replication::<RaftNode>(seed);
    }
}
