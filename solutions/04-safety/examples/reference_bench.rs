//! How fast the course's reference node runs in the simulator, checks on:
//! `cargo run --release -p safety-solution --example reference_bench [ticks]`.
//!
//! Drives the reference `RaftNode` (stages 2–4: elections, replication, persistence by
//! change) with a client proposal to the leader every tick, and reports commands committed,
//! messages delivered and ticks per second of wall time, and messages per committed command:
//! for 5 nodes, for 3 to 9 nodes, and with and without disks as the log grows to 60,000
//! entries. Wall time is read here only; the simulation never reads it. The toy node's
//! numbers come from `cargo run --release -p harness --example bench`.
//!
//! Then what the harness costs this node: the same node, the same workload, once in a bare
//! loop (`harness::bare::Bare`: one thread, first in first out, no checks, no trace, no
//! statistics) and once through the harness with every check on, both with every message
//! taking one tick, so that the two runs make the very same calls (checked: the same messages
//! delivered, the same leader state). The ratio is the harness's speed over the bare loop's,
//! the median of 3 runs, for 3 to 9 nodes and as the log grows, without disks and then with
//! both carrying out every write on a simulated disk (`-- 20000 ratio`: only this).

use std::time::Instant;

use harness::bare::{Bare, one_tick};
use harness::{Cluster, Config, NetworkConfig, NodeId, Role};
use safety::RaftNode;

/// One measurement over a window of ticks.
struct Sample {
    ticks: u64,
    committed: u64,
    delivered: u64,
    sent: u64,
    seconds: f64,
}

impl Sample {
    fn line(&self, label: &str, log: u64) -> String {
        format!(
            "{label:<22} {:>9.0} commits/s {:>10.0} deliveries/s {:>8.0} ticks/s {:>5.1} msgs/commit  (log {log}, {:.2}s)",
            self.committed as f64 / self.seconds,
            self.delivered as f64 / self.seconds,
            self.ticks as f64 / self.seconds,
            self.sent as f64 / self.committed.max(1) as f64,
            self.seconds
        )
    }
}

/// A cluster of `nodes` with a leader elected, on a reliable network.
fn cluster(nodes: usize, disks: bool) -> (Cluster<RaftNode>, NodeId) {
    let mut cluster =
        Cluster::<RaftNode>::with_config(nodes, 1, Config::default(), NetworkConfig::reliable());
    if disks {
        cluster = cluster.with_disks();
    }
    cluster.track_applied();
    let leader = cluster.check_one_leader();
    (cluster, leader)
}

/// Runs `ticks` ticks, proposing one command per tick to `leader`.
fn run(cluster: &mut Cluster<RaftNode>, leader: NodeId, ticks: u64) -> Sample {
    let (committed, delivered, sent) = counts(cluster, leader);
    let start = Instant::now();
    for i in 0..ticks {
        let _ = cluster.propose(leader, format!("command {i}"));
        cluster.tick();
    }
    let seconds = start.elapsed().as_secs_f64();
    let (committed_now, delivered_now, sent_now) = counts(cluster, leader);
    Sample {
        ticks,
        committed: committed_now - committed,
        delivered: delivered_now - delivered,
        sent: sent_now - sent,
        seconds,
    }
}

fn counts(cluster: &Cluster<RaftNode>, leader: NodeId) -> (u64, u64, u64) {
    let total = cluster.stats().total();
    (cluster.status(leader).commit_index, total.delivered, total.sent)
}

/// The bare loop's and the harness's seconds for `ticks` ticks after an election and `prefill`
/// untimed ticks, and the messages each delivered in the timed part (the same, or the bench is
/// wrong); with `disks`, both carry out every node's writes on a simulated disk.
fn compare(nodes: usize, prefill: u64, ticks: u64, disks: bool) -> (f64, f64, u64) {
    let mut bare = Bare::<RaftNode>::new(nodes, 1, Config::default(), 1);
    let mut cluster = Cluster::<RaftNode>::with_config(nodes, 1, Config::default(), one_tick());
    if disks {
        bare = bare.with_disks();
        cluster = cluster.with_disks();
    }
    cluster.track_applied();
    let leads = |status: harness::Status| status.role == Role::Leader;
    let ids = 1..=nodes as NodeId;
    let leader = loop {
        bare.tick();
        cluster.tick();
        if let Some(id) = ids.clone().find(|&id| leads(bare.status(id))) {
            break id;
        }
        assert!(cluster.now() < 1_000, "no leader after 1,000 ticks");
    };
    assert_eq!(cluster.status(leader).role, Role::Leader, "same workload");
    for i in 0..prefill {
        let _ = bare.propose(leader, format!("command {i}"));
        bare.tick();
        let _ = cluster.propose(leader, format!("command {i}"));
        cluster.tick();
    }
    let (bare_before, harness_before) = (bare.delivered(), cluster.stats().total().delivered);
    let start = Instant::now();
    for i in prefill..prefill + ticks {
        let _ = bare.propose(leader, format!("command {i}"));
        bare.tick();
    }
    let bare_seconds = start.elapsed().as_secs_f64();
    let start = Instant::now();
    for i in prefill..prefill + ticks {
        let _ = cluster.propose(leader, format!("command {i}"));
        cluster.tick();
    }
    let harness_seconds = start.elapsed().as_secs_f64();
    let delivered = bare.delivered() - bare_before;
    assert_eq!(delivered, cluster.stats().total().delivered - harness_before, "same workload");
    assert_eq!(bare.status(leader), cluster.status(leader), "same workload");
    (bare_seconds, harness_seconds, delivered)
}

fn main() {
    let ticks: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(20_000);
    if std::env::args().nth(2).as_deref() != Some("ratio") {
        speed(ticks);
    }
    harness::bare::print_ratios("no disks", ticks / 2, |n, p, t| compare(n, p, t, false));
    println!();
    harness::bare::print_ratios("both with disks", ticks / 2, |n, p, t| compare(n, p, t, true));
}

/// The reference's own speed through the harness: 5 nodes, 3 to 9 nodes, a growing log.
fn speed(ticks: u64) {
    println!("5 nodes, a proposal every tick, checks on, no disks:");
    let (mut five, leader) = cluster(5, false);
    let sample = run(&mut five, leader, ticks);
    println!("  {}", sample.line("5 nodes", five.status(leader).last_log_index));
    print!("{}", five.stats());

    println!("\ncluster size ({} ticks each):", ticks / 2);
    for nodes in [3, 5, 7, 9] {
        let (mut c, leader) = cluster(nodes, false);
        let sample = run(&mut c, leader, ticks / 2);
        println!("  {}", sample.line(&format!("{nodes} nodes"), c.status(leader).last_log_index));
    }

    println!("\ngrowing log to 60,000 entries, 5 nodes, without and with disks:");
    for disks in [false, true] {
        let (mut c, leader) = cluster(5, disks);
        let label = if disks { "with disks" } else { "without disks" };
        for _ in 0..6 {
            let sample = run(&mut c, leader, 10_000);
            println!("  {}", sample.line(label, c.status(leader).last_log_index));
        }
        c.check_logs();
    }
}
