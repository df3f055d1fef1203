//! Message statistics as the classic lab counts them: per kind (requests and replies apart)
//! and per receiving node, with bytes.

mod common;

use common::*;
use harness::stats::KindStats;
use harness::{Cluster, Config, NetworkConfig};
use pretty_assertions::assert_eq;

/// For every kind, the counts per receiving node add up to the cluster-wide counts, whatever
/// the network lost, duplicated or dropped on the way.
#[test]
fn counts_per_node_add_up_to_the_counts_per_kind() {
    for seed in 1..=5 {
        let network = NetworkConfig::unreliable();
        let mut cluster = Cluster::<Correct>::with_config(5, seed, Config::default(), network);
        cluster.count_bytes();
        cluster.track_applied();
        cluster.run_for(50);
        cluster.isolate(4);
        cluster.crash(5);
        cluster.run_for(100);
        let stats = cluster.stats();
        for (kind, total) in &stats.kinds {
            let mut sum = KindStats::default();
            for id in cluster.ids() {
                sum.add(&stats.to_node(id).kind(kind));
            }
            assert_eq!(&sum, total, "seed {seed}, kind {kind}");
        }
        assert!(stats.total().dropped > 0 && stats.total().duplicated > 0, "seed {seed}");
    }
}

/// `received_by(id, kind)` is what node `id` stepped: the toy's leader n1 receives the
/// replies (`Ack`), its followers the requests (`Append`), and an isolated node nothing.
#[test]
fn received_by_counts_what_each_node_stepped() {
    let mut cluster = Cluster::<Correct>::new(3, 1);
    cluster.run_for(40);
    cluster.isolate(3);
    let before = cluster.stats().received_by(3, "Append");
    cluster.run_for(40);
    let stats = cluster.stats();

    assert_eq!(stats.received_by(1, "Ack"), stats.kind("Ack").delivered);
    assert_eq!(stats.received_by(1, "Append"), 0);
    assert_eq!(stats.received_by(2, "Ack") + stats.received_by(3, "Ack"), 0);
    assert_eq!(stats.received_by(2, "Append") + before, stats.kind("Append").delivered);
    assert_eq!(stats.received_by(3, "Append"), before, "n3 is isolated");
    assert!(stats.to_node(3).kind("Append").dropped >= 10, "{}", stats.to_node(3));
}

/// Bytes per committed byte, as the lab bounds it, can be read directly: every follower got
/// every committed command at least once, so the appends to each weigh at least as much as the
/// commands, and the total is well above twice that in a three-node cluster.
#[test]
fn bytes_per_committed_byte_can_be_read() {
    let mut cluster = Cluster::<Correct>::new(3, 1);
    cluster.count_bytes();
    let command = "x".repeat(1_000);
    let mut committed = 0;
    for _ in 0..10 {
        cluster.one(command.clone(), 3, true);
        committed += command.len() as u64 + 2;
    }
    let stats = cluster.stats();
    for id in [2, 3] {
        let appends = stats.to_node(id).kind("Append").bytes();
        assert!(appends >= committed, "n{id}: {appends} bytes of appends for {committed}");
    }
    let ratio = stats.total().bytes() as f64 / committed as f64;
    assert!((2.0..4.0).contains(&ratio), "{ratio:.2} bytes per committed byte:\n{stats}");
}

/// Bytes are measured only in a cluster that asked for them (`count_bytes`), and asking
/// changes nothing else: the same run, the same trace, the same counts.
#[test]
fn bytes_are_counted_only_when_asked_and_change_nothing_else() {
    let run = |count: bool| {
        let network = NetworkConfig::unreliable();
        let mut cluster = Cluster::<Correct>::with_config(3, 4, Config::default(), network);
        cluster.keep_whole_trace();
        if count {
            cluster.count_bytes();
        }
        cluster.run_for(200);
        (cluster.stats().clone(), cluster.trace_json(None))
    };
    let ((counted, counted_trace), (plain, plain_trace)) = (run(true), run(false));
    assert_eq!(plain.total().bytes_if_counted(), None);
    assert!(counted.total().bytes() > 0);
    assert!(plain.to_string().contains("        -\n"), "{plain}");
    assert_eq!(counted_trace, plain_trace);
    let without_bytes = |stats: &harness::MessageStats| -> Vec<(String, u64, u64, u64, u64)> {
        let counts = stats.kinds.iter();
        counts.map(|(k, c)| (k.clone(), c.sent, c.delivered, c.dropped, c.duplicated)).collect()
    };
    assert_eq!(without_bytes(&counted), without_bytes(&plain));
}

/// Unknown kinds and nodes count zero.
#[test]
fn unknown_kinds_and_nodes_count_zero() {
    let cluster = Cluster::<Correct>::new(3, 1);
    assert_eq!(cluster.stats().kind("RequestVote"), KindStats::default());
    assert_eq!(cluster.stats().received_by(9, "Append"), 0);
    assert!(cluster.stats().to_node(0).kinds.is_empty());
}

/// `kind_mut` finds a kind by the first word of a summary, creating it once.
#[test]
fn kind_mut_counts_by_the_first_word_of_the_summary() {
    let mut stats = harness::MessageStats::default();
    stats.kind_mut("Append t1 prev 0 +1 commit 0").sent += 1;
    stats.kind_mut("Append t2 prev 1 +0 commit 1").sent += 1;
    assert_eq!(stats.kind("Append").sent, 2);
    assert_eq!(stats.kinds.len(), 1);
}

/// In JSON, the counts per node are a map from node id to kind to counts.
#[test]
fn counts_per_node_serialize_by_node_id() {
    let mut cluster = Cluster::<Correct>::new(3, 1);
    cluster.run_for(20);
    let json = serde_json::to_value(cluster.stats()).expect("stats serialize");
    let acks_to_n1 = &json["to_node"]["1"]["Ack"]["delivered"];
    assert_eq!(acks_to_n1.as_u64(), Some(cluster.stats().received_by(1, "Ack")), "{json}");
    assert!(json["to_node"]["2"]["Append"]["sent"].as_u64() > Some(0), "{json}");
}
