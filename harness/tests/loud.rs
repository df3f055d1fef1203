//! What a cluster does not keep unless asked fails loudly when read, naming the call to make.
//!
//! Byte counts, what nodes applied, state machines, disks and whole traces are off by default
//! (each costs a run something). A test that reads one of them without asking must not get 0 or
//! nothing, or it passes whatever the node does: an outside port of the classic lab's byte test
//! read the byte count of a cluster that never counted bytes, and bounded 0.

mod common;

use common::*;
use harness::Cluster;
use harness::stats::KindStats;
use rstest::rstest;

/// A cluster of the toy that ran a while, with a command committed, asking for nothing.
fn plain() -> Cluster<Correct> {
    let mut cluster = Cluster::<Correct>::new(3, 1);
    cluster.run_for(40);
    cluster
}

/// Every byte count of a cluster that does not count bytes fails, naming `count_bytes()`:
/// per kind, in total, per node; the table shows `-` and the other counts read as usual.
#[rstest]
#[case::a_kind(|c: &Cluster<Correct>| c.stats().kind("Append").bytes())]
#[case::a_kind_never_sent(|c: &Cluster<Correct>| c.stats().kind("Nothing").bytes())]
#[case::the_total(|c: &Cluster<Correct>| c.stats().total().bytes())]
#[case::to_a_node(|c: &Cluster<Correct>| c.stats().to_node(2).kind("Append").bytes())]
#[case::from_the_map(|c: &Cluster<Correct>| c.stats().kinds["Append"].bytes())]
fn bytes_not_counted_fail_when_read(#[case] read: fn(&Cluster<Correct>) -> u64) {
    let cluster = plain();
    let failure = failure_of(|| {
        let _ = read(&cluster);
    });
    assert!(failure.contains("call cluster.count_bytes() before the run"), "{failure}");
    assert!(cluster.stats().total().sent > 0, "the other counts are kept");
    assert!(!cluster.stats().bytes_counted());
    assert_eq!(cluster.stats().total().bytes_if_counted(), None);
}

/// In a cluster that counts bytes, every byte count reads, 0 for a kind never sent; and sums
/// of counts keep their bytes.
#[test]
fn bytes_counted_read_everywhere() {
    let mut cluster = Cluster::<Correct>::new(3, 1);
    cluster.count_bytes();
    cluster.run_for(40);
    let stats = cluster.stats();
    assert!(stats.bytes_counted());
    assert!(stats.kind("Append").bytes() > 0);
    assert_eq!(stats.kind("Nothing").bytes(), 0);
    let mut sum = KindStats::default();
    for id in cluster.ids() {
        sum.add(&stats.to_node(id).total());
    }
    assert_eq!(sum.bytes(), stats.total().bytes(), "bytes per node add up");
}

/// `committed_count` in a cluster that does not track what nodes apply fails, naming
/// `track_applied()`, instead of counting 0; once tracked it counts.
#[test]
fn committed_count_without_tracking_fails() {
    let cluster = plain();
    let failure = failure_of(|| {
        let _ = cluster.committed_count(1);
    });
    assert!(failure.contains("call cluster.track_applied() before the run"), "{failure}");
    let mut cluster = Cluster::<Correct>::new(3, 1);
    cluster.track_applied();
    cluster.run_for(40);
    let _ = cluster.committed_count(1);
}

/// `machine(id)` in a cluster that runs no state machines fails, naming `compact_every`.
#[test]
fn machine_without_state_machines_fails() {
    let cluster = plain();
    let failure = failure_of(|| {
        let _ = cluster.machine(1);
    });
    assert!(failure.contains("call cluster.compact_every(k)"), "{failure}");
    let mut cluster = Cluster::<Correct>::new(3, 1);
    cluster.compact_every(0);
    cluster.one("x".to_string(), 3, false);
    assert!(cluster.machine(1).index >= 1, "n1's state machine applied the command");
}

/// `persisted_bytes(id)` in a cluster, or a bare loop, without disks fails, naming
/// `with_disks()`; with them, a disk written to reads its size.
#[test]
fn persisted_bytes_without_disks_fails() {
    let cluster = plain();
    let failure = failure_of(|| {
        let _ = cluster.persisted_bytes(1);
    });
    assert!(failure.contains("build it with .with_disks()"), "{failure}");
    let bare = harness::bare::Bare::<Correct>::new(3, 1, Default::default(), 1);
    let failure = failure_of(|| {
        let _ = bare.persisted_bytes(1);
    });
    assert!(failure.contains("build it with .with_disks()"), "{failure}");
    let mut cluster = Cluster::<Correct>::new(3, 1).with_disks();
    cluster.one("x".to_string(), 3, false);
    assert!(cluster.persisted_bytes(1) > 0);
}

/// `trace_json` of a cluster that keeps only its last events fails, naming
/// `keep_whole_trace()`.
#[test]
fn trace_json_without_the_whole_trace_fails() {
    let cluster = plain();
    let failure = failure_of(|| {
        let _ = cluster.trace_json(None);
    });
    assert!(
        failure.contains("call cluster.keep_whole_trace() right after building it"),
        "{failure}"
    );
    let mut cluster = Cluster::<Correct>::new(3, 1);
    cluster.keep_whole_trace();
    cluster.run_for(40);
    assert!(cluster.trace_json(None).contains("\"events\""));
}
