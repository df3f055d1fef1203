//! Randomized elections over many seeds (§5.1, §5.2).
//!
//! Each seed is one run in two phases (see `harness::chaos`): a safety phase of a few thousand
//! ticks with partitions, isolated nodes, one-way cuts, crashes and restarts on a lossy,
//! duplicating, reordering network, with Election Safety and the other checks after every
//! event; then a liveness phase with every fault healed, in which a leader must be elected.
//!
//! `cargo test -p election --test random` runs a few seeds; `RAFT_SEEDS=1000` runs a thousand;
//! `RAFT_SEED=42` replays one (a failure report prints the exact command).

use election::RaftNode;
use harness::{chaos, seeds};

/// At most one leader per term whatever the faults (Election Safety, §5.2), and a leader once
/// the faults heal (§5.2: "a leader will eventually be elected").
#[test]
fn elections_stay_safe_under_faults_and_recover() {
    for seed in seeds() {
        chaos::elections::<RaftNode>(seed);
    }
}
