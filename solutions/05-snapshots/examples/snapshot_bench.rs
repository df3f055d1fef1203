//! Does compaction keep a long run flat? `cargo run --release -p snapshots-solution --example
//! snapshot_bench [entries] [every]` (defaults: 100,000 entries, a snapshot every 1,000).
//!
//! Drives the stage 5 reference `RaftNode` in a 5-node cluster with disks and every check on,
//! a client proposal to the leader every tick, every node compacting its log every `every`
//! applied entries (§7). Every 10 % of the run it prints what the nodes hold (the most entries
//! any node keeps in its log, the most bytes any node keeps on disk), the process's resident
//! memory (which includes the harness's own registers: they keep one small record per index,
//! by design, to check every index ever committed), and the commits per second of wall time in
//! that stretch. The last line compares the last 1,000 entries' throughput with the first
//! 1,000's (a 1,000-entry run). Wall time is read here only; the simulation never reads it.

use std::time::Instant;

use harness::{Cluster, Config, NetworkConfig, NodeId};
use snapshots::RaftNode;

fn main() {
    let mut args = std::env::args().skip(1).map(|arg| arg.parse::<u64>().ok());
    let entries = args.next().flatten().unwrap_or(100_000);
    let every = args.next().flatten().unwrap_or(1_000);
    let mut cluster =
        Cluster::<RaftNode>::with_config(5, 1, Config::default(), NetworkConfig::reliable())
            .with_disks();
    cluster.compact_every(every);
    let leader = cluster.check_one_leader();
    println!(
        "5 nodes, disks, checks on, a proposal every tick, a snapshot every {every} entries, \
         {entries} entries\n"
    );
    println!(
        "{:>9} {:>16} {:>16} {:>12} {:>12}",
        "committed", "log entries held", "disk bytes (max)", "RSS MiB", "commits/s"
    );
    let first = throughput(&mut cluster, leader, 1_000);
    report(&cluster, commit_index(&cluster, leader), first);
    while commit_index(&cluster, leader) < entries {
        let count = (entries / 10).max(1).min(entries - commit_index(&cluster, leader));
        let rate = throughput(&mut cluster, leader, count);
        report(&cluster, commit_index(&cluster, leader), rate);
    }
    let last = throughput(&mut cluster, leader, 1_000);
    println!(
        "\nthroughput: the first 1,000 entries {first:.0} commits/s, 1,000 more after {} entries \
         {last:.0} commits/s ({:+.0} %)",
        commit_index(&cluster, leader) - 1_000,
        (last / first - 1.0) * 100.0
    );
}

/// Proposes one command per tick to `leader` until `count` more entries are committed;
/// returns commits per second of wall time.
fn throughput(cluster: &mut Cluster<RaftNode>, leader: NodeId, count: u64) -> f64 {
    let start_index = commit_index(cluster, leader);
    let start = Instant::now();
    let mut i = 0;
    while commit_index(cluster, leader) < start_index + count {
        let _ = cluster.propose(leader, format!("command {start_index}-{i}"));
        cluster.tick();
        i += 1;
        assert!(i < 10 * count + 1_000, "the cluster stopped committing");
    }
    count as f64 / start.elapsed().as_secs_f64()
}

fn commit_index(cluster: &Cluster<RaftNode>, leader: NodeId) -> u64 {
    cluster.status(leader).commit_index
}

fn report(cluster: &Cluster<RaftNode>, committed: u64, rate: f64) {
    let held = cluster
        .ids()
        .into_iter()
        .map(|id| cluster.status(id).last_log_index - cluster.status(id).snapshot_index)
        .max()
        .unwrap_or(0);
    let disk = cluster.ids().into_iter().map(|id| cluster.persisted_bytes(id)).max().unwrap_or(0);
    println!("{committed:>9} {held:>16} {disk:>16} {:>12.1} {rate:>12.0}", rss_mib());
}

/// The process's resident memory, from `/proc/self/status` (0 where there is none).
fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse::<f64>().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}
