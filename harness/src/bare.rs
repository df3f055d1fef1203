//! The yardstick of the benchmarks: the same nodes in a bare loop, with none of the harness.
//!
//! One thread, every message delivered a fixed number of ticks after it was sent, first sent
//! first delivered, no checks, no trace, no statistics, no faults. A node sees exactly the
//! calls a [`Cluster`](crate::Cluster) would make on a network with that fixed delay
//! (`NetworkConfig { min_delay: d, max_delay: d, .. }`, nothing lost): the same `tick`s and
//! `step`s in the same order, the same outputs drained, its timers drawn from the same
//! stream. So the two run the same workload, and the ratio of their speeds is what the
//! harness costs (`cargo run --release -p harness --example bench`).

use std::collections::VecDeque;

use crate::cluster::streams;
use crate::network::NetworkConfig;
use crate::node::{Config, Envelope, Index, NodeId, NotLeader, Replicate, Status, Term};
use crate::rng::Rng;

/// `nodes` nodes, a FIFO queue of messages and a clock.
pub struct Bare<N: Replicate> {
    nodes: Vec<N>,
    now: u64,
    delay: u64,
    queue: VecDeque<(u64, Envelope<N::Message>)>,
    delivered: u64,
    applied: u64,
}

impl<N: Replicate> Bare<N> {
    /// Nodes `1..=nodes`, built as [`Cluster::with_config`](crate::Cluster::with_config)
    /// builds them from `seed`; every message takes `delay` ticks (at least 1).
    pub fn new(nodes: usize, seed: u64, config: Config, delay: u64) -> Self {
        let root = Rng::new(seed);
        let ids: Vec<NodeId> = (1..=nodes as NodeId).collect();
        let nodes = ids
            .iter()
            .map(|&id| {
                let peers = ids.iter().copied().filter(|&peer| peer != id).collect();
                let rng = root.fork(streams::NODES).fork(id).fork(0);
                N::new(id, peers, config.clone(), rng)
            })
            .collect();
        let (queue, delay) = (VecDeque::new(), delay.max(1));
        let mut bare = Bare { nodes, now: 0, delay, queue, delivered: 0, applied: 0 };
        for index in 0..bare.nodes.len() {
            bare.drain(index);
        }
        bare
    }

    /// One tick: every node ticks, then the messages due now are delivered.
    pub fn tick(&mut self) {
        self.now += 1;
        for index in 0..self.nodes.len() {
            self.nodes[index].tick();
            self.drain(index);
        }
        while self.queue.front().is_some_and(|(at, _)| *at <= self.now) {
            let (_, Envelope { from, to, message }) = self.queue.pop_front().expect("checked");
            self.delivered += 1;
            let index = to as usize - 1;
            self.nodes[index].step(from, message);
            self.drain(index);
        }
    }

    /// A client hands `command` to node `id`.
    pub fn propose(&mut self, id: NodeId, command: N::Command) -> Result<(Index, Term), NotLeader> {
        let index = id as usize - 1;
        let result = self.nodes[index].propose(command);
        self.drain(index);
        result
    }

    /// Node `id`'s status.
    pub fn status(&self, id: NodeId) -> Status {
        self.nodes[id as usize - 1].status()
    }

    /// Messages delivered so far.
    pub fn delivered(&self) -> u64 {
        self.delivered
    }

    /// Entries handed out by `take_committed` so far, all nodes together.
    pub fn applied(&self) -> u64 {
        self.applied
    }

    fn drain(&mut self, index: usize) {
        let at = self.now + self.delay;
        let node = &mut self.nodes[index];
        self.queue.extend(node.take_messages().into_iter().map(|envelope| (at, envelope)));
        self.applied += node.take_committed().len() as u64;
    }
}

/// The network a [`Cluster`](crate::Cluster) needs to make exactly the calls a [`Bare`] loop
/// with `delay` 1 makes: every message takes one tick, nothing is lost.
pub fn one_tick() -> NetworkConfig {
    NetworkConfig { min_delay: 1, max_delay: 1, ..NetworkConfig::reliable() }
}

/// What the benchmarks print: for 3, 5, 7 and 9 nodes, then for 5 nodes after a log of 20,000
/// and 60,000 entries, the median of three runs of `compare(nodes, prefill, ticks)`, which
/// returns the bare loop's and the harness's seconds and the messages each delivered. Wall
/// time is the caller's: this module never reads a clock.
pub fn print_ratios(ticks: u64, mut compare: impl FnMut(usize, u64, u64) -> (f64, f64, u64)) {
    println!(
        "the harness against a bare loop (same node, same calls, every message 1 tick; \
         ratio = harness speed / bare speed, median of 3):"
    );
    let cases = [(3, 0), (5, 0), (7, 0), (9, 0), (5, 20_000), (5, 60_000)];
    for (nodes, prefill) in cases {
        let mut runs: Vec<(f64, f64, u64)> =
            (0..3).map(|_| compare(nodes, prefill, ticks)).collect();
        runs.sort_by(|a, b| (a.1 / a.0).total_cmp(&(b.1 / b.0)));
        let (bare, harness, delivered) = runs[1];
        println!(
            "  {nodes} nodes, log {prefill:>6}..{:<6} bare {:>10.0} deliveries/s   harness \
             {:>10.0} deliveries/s   ratio {:.2}",
            prefill + ticks,
            delivered as f64 / bare,
            delivered as f64 / harness,
            bare / harness
        );
    }
}
