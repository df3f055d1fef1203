//! How fast the simulator runs, checks on: `cargo run --release -p harness --example bench`.
//!
//! Drives the harness's toy node (a fixed leader that replicates and commits, from the
//! harness's tests) with a proposal every tick and a heartbeat every tick, and reports
//! simulated message deliveries and ticks per second of wall time: for 5 nodes, for 3 to 9
//! nodes, and as the log grows. Wall time is measured here only; the simulation never reads it.

#[path = "../tests/common/mod.rs"]
#[allow(missing_docs, unreachable_pub)]
mod common;

use std::time::Instant;

use common::Correct;
use harness::{Cluster, Config, NetworkConfig};

/// One measurement: ticks run, messages delivered, seconds.
struct Sample {
    ticks: u64,
    delivered: u64,
    seconds: f64,
}

impl Sample {
    fn line(&self, label: &str, log: u64) -> String {
        format!(
            "{label:<24} {:>10.0} deliveries/s {:>9.0} ticks/s   ({} deliveries, {} ticks, log {log}, {:.2}s)",
            self.delivered as f64 / self.seconds,
            self.ticks as f64 / self.seconds,
            self.delivered,
            self.ticks,
            self.seconds
        )
    }
}

fn cluster(nodes: usize) -> Cluster<Correct> {
    let config = Config { election_timeout: 20, heartbeat_interval: 1, ..Config::default() };
    let mut cluster = Cluster::with_config(nodes, 1, config, NetworkConfig::reliable());
    cluster.track_applied();
    cluster
}

/// Runs `ticks` ticks, proposing one command per tick to the leader.
fn run(cluster: &mut Cluster<Correct>, ticks: u64) -> Sample {
    let before = cluster.stats().total().delivered;
    let start = Instant::now();
    for i in 0..ticks {
        let _ = cluster.propose(1, format!("command {i}"));
        cluster.tick();
    }
    let seconds = start.elapsed().as_secs_f64();
    Sample { ticks, delivered: cluster.stats().total().delivered - before, seconds }
}

fn main() {
    let ticks: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(20_000);
    println!("5 nodes under load (a proposal and a heartbeat every tick, checks on):");
    let mut five = cluster(5);
    let sample = run(&mut five, ticks);
    println!("  {}", sample.line("5 nodes", five.status(1).last_log_index));
    print!("{}", five.stats());

    println!("\ncluster size:");
    for nodes in [3, 5, 7, 9] {
        let mut c = cluster(nodes);
        let sample = run(&mut c, ticks / 2);
        println!("  {}", sample.line(&format!("{nodes} nodes"), c.status(1).last_log_index));
    }

    println!("\ngrowing log (5 nodes; each row runs {} more ticks):", ticks / 2);
    let mut growing = cluster(5);
    for _ in 0..6 {
        let sample = run(&mut growing, ticks / 2);
        let log = growing.status(1).last_log_index;
        println!("  {}", sample.line("", log));
    }
    growing.check_logs();

    println!("\nwith disks (the toy's take_persist clones its whole log, as Persist asks):");
    let mut disks = cluster(5).with_disks();
    for _ in 0..3 {
        let sample = run(&mut disks, ticks / 10);
        let log = disks.status(1).last_log_index;
        println!("  {}", sample.line("5 nodes, disks", log));
    }
}
