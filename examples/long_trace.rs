//! A long randomized run of the latest reference (stage 5; it takes no snapshot here), traced, to measure the trace page on a big
//! trace: `cargo run --release --example long_trace -- 100000 target/long.json`, then
//! `cargo run -p harness --bin trace-page -- target/long.json` (docs/harness.md, "The trace
//! page": its load time).
//!
//! Five servers on an unreliable network (loss, duplicates, reordering), a crash, restart or
//! partition every 300 ticks, a proposal every 5 ticks, until the trace holds the asked-for
//! number of events.

use harness::{Cluster, Config, NetworkConfig, Rng};
use snapshots::RaftNode;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let events: u64 = args.first().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let path = args.get(1).cloned().unwrap_or_else(|| "target/long.json".to_string());
    let mut cluster =
        Cluster::<RaftNode>::with_config(5, 1, Config::default(), NetworkConfig::unreliable())
            .with_disks();
    cluster.keep_whole_trace();
    let mut rng = Rng::new(1).fork(7);
    let mut round = 0u64;
    while cluster.trace().count() < events {
        round += 1;
        cluster.run_for(5);
        let to = rng.range(1, 6);
        if cluster.is_up(to) {
            let _ = cluster.propose(to, format!("c{round}"));
        }
        if round % 60 == 0 {
            let id = rng.range(1, 6);
            match round / 60 % 4 {
                0 if cluster.ids().iter().all(|&i| cluster.is_up(i)) => cluster.crash(id),
                1 => {
                    for i in cluster.ids() {
                        if !cluster.is_up(i) {
                            cluster.restart(i);
                        }
                    }
                }
                2 => cluster.partition(&[
                    &[id],
                    &cluster.ids().into_iter().filter(|&i| i != id).collect::<Vec<_>>(),
                ]),
                _ => cluster.heal(),
            }
        }
    }
    std::fs::write(&path, cluster.trace_json(None)).expect("the trace is written");
    println!("{} events, {} ticks: {path}", cluster.trace().count(), cluster.now());
}
