//! Randomized replication over many seeds (§5.3, §5.4).
//!
//! Each seed is one run in two phases (see `harness::chaos`): a safety phase of a few thousand
//! ticks with client proposals, partitions, isolated nodes, one-way cuts, crashes and restarts
//! on a lossy, duplicating, reordering network, with every safety check after every event (Log
//! Matching, Leader Completeness, State Machine Safety, ...); then a liveness phase with every
//! fault healed, in which a leader must be elected and a new command applied on every node.
//!
//! `cargo test -p replication --test random` runs a few seeds; `RAFT_SEEDS=1000` runs a
//! thousand; `RAFT_SEED=42` replays one (a failure report prints the exact command).

use harness::{chaos, seeds};

mod leading;

/// The stage's node, with the invariants `src/replication.rs` states checked after every input
/// (`tests/leading/mod.rs`).
type RaftNode = leading::Checked<replication::RaftNode>;

impl leading::Inspect for replication::RaftNode {
    fn whole_state(&self) -> &data_structures::State {
        self.state()
    }
}

/// No two nodes ever apply different commands at one index, whatever the faults (State Machine
/// Safety, §5.4.3), and once the faults heal the cluster commits again (§5.3).
#[test]
fn replication_stays_safe_under_faults_and_recovers() {
    for seed in seeds() {
        chaos::replication::<RaftNode>(seed);
    }
}
