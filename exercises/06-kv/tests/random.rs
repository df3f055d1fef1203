//! Randomized runs of the key-value service over many seeds (dissertation §6).
//!
//! Each seed is one run of [`harness::service::chaos::kv`], in two phases. The safety phase:
//! writers call random operations and readers read, mostly one hot key, phase after phase,
//! while servers crash and restart, partitions come and go, the leader is cut off alone while
//! clients still reach it, the network loses, duplicates and reorders messages, and the client
//! link loses requests and replies; every check runs after every event. The liveness phase:
//! the network heals, every server is up, every operation a client is still waiting for must
//! complete, and a client reads every key. Then the whole history is checked for
//! linearizability, and every server's store (map and sessions) compared with the others'.
//! Each seed draws its own mix of keys, clients, losses and faults (the report's `plan` line).
//!
//! `cargo test -p kv --test random` runs a few seeds; `RAFT_SEEDS=1000` runs a thousand;
//! `RAFT_SEED=42` replays one (a failure report prints the exact command).

use harness::seeds;
use harness::service::chaos;
use kv::KvNode;

/// Crashes, partitions, a deposed leader still reachable, a lossy network and lost replies
/// never make the service answer what a single map would not, every server's store ends the
/// same, and the service completes every operation once the faults stop (§6, §5.4.3).
#[test]
fn random_faults_keep_the_service_linearizable() {
    for seed in seeds() {
        let compact = |node: &mut KvNode, every| node.config.snapshot_every = every;
        let (_, kv) = chaos::kv(seed, compact, |node: &KvNode| node.store.clone());
        assert!(kv.history().completed() > 0, "seed {seed}: nothing completed");
    }
}
