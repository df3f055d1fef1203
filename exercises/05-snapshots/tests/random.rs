//! Randomized runs with snapshots, crashes and a faulty network over many seeds (§7).
//!
//! Each seed is one run in two phases (see `harness::chaos`): a safety phase with client
//! proposals, partitions, cuts, crashes and restarts on a lossy, duplicating, reordering
//! network, every node compacting its log every k applied entries (k drawn from the seed), and
//! every check after every event: the stage 4 checks, and the snapshot ones (a snapshot holds
//! committed entries only, is exactly the state after the commands applied through its index,
//! never goes back, survives a restart); then a liveness phase in which the healed cluster must
//! commit again, on every node, which repairs a follower far behind with InstallSnapshot.
//!
//! `cargo test -p snapshots --test random` runs a few seeds; `RAFT_SEEDS=1000` runs a
//! thousand; `RAFT_SEED=42` replays one (a failure report prints the exact command).

use harness::{chaos, seeds};
use snapshots::RaftNode;

/// Snapshots at random points never cost a committed entry or apply one twice, and a cluster
/// that compacts still repairs every follower.
#[test]
fn snapshots_at_random_points_stay_safe_and_recover() {
    for seed in seeds() {
        chaos::snapshots::<RaftNode>(seed);
    }
}
