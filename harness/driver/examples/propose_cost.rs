//! What one client write costs the stage 6 reference leader, in CPU, as a function of how many
//! entries each follower has not acknowledged yet (the "gap") and of `max_entries_per_append`.
//!
//! ```text
//! cargo run --release -p driver --example propose_cost -- GAP MAX [WRITES]
//! ```
//!
//! A leader of three in-process nodes takes WRITES `SET`s in turns of 64 (as the driver's
//! loop does); after each turn its outputs are drained (and dropped), and each follower
//! acknowledges up to GAP entries behind the leader's last. Prints the time per write; run it
//! under `/usr/bin/time` or `perf stat` for CPU time on a loaded machine.

use std::time::Instant;

use harness::service::kv::KvOp;
use harness::service::{Request, Service};
use harness::{Config, Node, Persist, Rng};

fn main() {
    let args: Vec<u64> = std::env::args().skip(1).map(|a| a.parse().expect("a number")).collect();
    let (gap, max) = (args[0], args[1] as usize);
    let writes = args.get(2).copied().unwrap_or(20_000);
    let config =
        Config { election_timeout: 10, heartbeat_interval: 3, max_entries_per_append: max };
    let mut nodes: Vec<kv::KvNode> = (1..=3)
        .map(|id| {
            let peers = (1..=3).filter(|&p| p != id).collect();
            kv::KvNode::new(id, peers, config.clone(), Rng::new(id))
        })
        .collect();
    let leader = elect(&mut nodes);
    let mut node = nodes.swap_remove(leader);
    node.config.snapshot_every = driver::stage6::SNAPSHOT_EVERY;
    let term = node.status().term;
    let mut seq = 0;
    let mut turn = |node: &mut kv::KvNode, count: u64, ack: bool| {
        for _ in 0..count {
            seq += 1;
            let op = KvOp::Put { key: format!("key:{:012}", seq % 100_000), value: "xxx".into() };
            node.request(Request { client: seq % 800 + 1, seq, op });
        }
        drop(node.take_persist());
        drop(node.take_messages());
        drop(node.take_replies());
        if ack {
            let last = node.status().last_log_index;
            let me = node.id();
            for follower in [1, 2, 3].into_iter().filter(|&p| p != me) {
                let reply = data_structures::AppendEntriesReply {
                    term,
                    success: true,
                    match_index: last.saturating_sub(gap),
                    conflict: None,
                };
                let message = data_structures::Message::AppendEntriesReply(reply);
                node.step(follower, kv::Message::Raft(message));
            }
            drop(node.take_messages());
            drop(node.take_replies());
        }
    };
    turn(&mut node, gap, false);
    let started = Instant::now();
    for _ in 0..writes / 64 {
        turn(&mut node, 64, true);
    }
    let took = started.elapsed();
    println!(
        "gap {gap}, max_entries_per_append {max}: {:.1} µs per write (wall), {} writes",
        took.as_secs_f64() * 1e6 / (writes / 64 * 64) as f64,
        writes / 64 * 64
    );
}

/// Runs the three nodes, every message delivered at once, until one leads; its place.
fn elect(nodes: &mut [kv::KvNode]) -> usize {
    for _ in 0..1000 {
        for node in nodes.iter_mut() {
            node.tick();
        }
        loop {
            let mut envelopes = Vec::new();
            for node in nodes.iter_mut() {
                drop(node.take_persist());
                envelopes.extend(node.take_messages());
            }
            if envelopes.is_empty() {
                break;
            }
            for envelope in envelopes {
                nodes[envelope.to as usize - 1].step(envelope.from, envelope.message);
            }
        }
        if let Some(at) = nodes.iter().position(|node| node.is_leader()) {
            return at;
        }
    }
    panic!("no leader")
}
