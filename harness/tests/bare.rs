//! The benchmarks' yardstick: the bare loop makes the very calls a cluster makes on a network
//! where every message takes one tick, with and without disks, so that the ratio of their
//! speeds is what the harness costs and nothing else.

mod common;

use common::*;
use harness::bare::{Bare, one_tick};
use harness::{Cluster, Config, NodeId};
use pretty_assertions::assert_eq;
use rstest::rstest;

#[rstest]
fn the_bare_loop_runs_the_same_workload_as_the_cluster(
    #[values(3, 5)] nodes: usize,
    #[values(false, true)] disks: bool,
) {
    let config = Config { heartbeat_interval: 1, ..Config::default() };
    let mut bare = Bare::<Correct>::new(nodes, 7, config.clone(), 1);
    let mut cluster = Cluster::<Correct>::with_config(nodes, 7, config, one_tick());
    if disks {
        bare = bare.with_disks();
        cluster = cluster.with_disks();
    }
    cluster.track_applied();
    for i in 0..300 {
        let command = format!("command {i}");
        assert_eq!(bare.propose(1, command.clone()), cluster.propose(1, command), "tick {i}");
        bare.tick();
        cluster.tick();
    }
    assert!(bare.delivered() > 0, "the workload delivered nothing");
    assert_eq!(bare.delivered(), cluster.stats().total().delivered, "messages delivered");
    for id in 1..=nodes as NodeId {
        assert_eq!(bare.status(id), cluster.status(id), "n{id}'s status");
    }
    let last = cluster.status(1).last_log_index;
    let applied: usize = (1..=last).map(|index| cluster.committed_count(index).0).sum();
    assert!(applied > 0, "nothing applied");
    assert_eq!(bare.applied(), applied as u64, "entries applied, all nodes together");
    for id in (1..=nodes as NodeId).filter(|_| disks) {
        let written = cluster.persisted_bytes(id);
        assert!(written > 0, "n{id}'s disk in the cluster: {written} bytes");
        assert_eq!(bare.persisted_bytes(id), written, "n{id}'s disk in the bare loop");
    }
}
