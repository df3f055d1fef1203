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
use crate::disk::{DiskStore, Disks};
use crate::network::NetworkConfig;
use crate::node::{Config, Envelope, Index, NodeId, NotLeader, Persist, Replicate, Status, Term};
use crate::rng::Rng;

/// `nodes` nodes, a FIFO queue of messages and a clock.
pub struct Bare<N: Replicate> {
    nodes: Vec<N>,
    now: u64,
    delay: u64,
    queue: VecDeque<(u64, Envelope<N::Message>)>,
    delivered: u64,
    applied: u64,
    /// Stable storage, when the nodes persist ([`Bare::with_disks`]).
    disks: Option<Box<dyn Disks<N>>>,
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
        let mut bare = Bare { nodes, now: 0, delay, queue, delivered: 0, applied: 0, disks: None };
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
        if let Some(disks) = self.disks.as_mut() {
            disks.write(index as NodeId + 1, node);
        }
        self.queue.extend(node.take_messages().into_iter().map(|envelope| (at, envelope)));
        self.applied += node.take_committed().len() as u64;
    }
}

impl<N: Replicate + Persist + 'static> Bare<N> {
    /// Every node's writes carried out on a simulated disk before its messages leave, as
    /// [`Cluster::with_disks`](crate::Cluster::with_disks) does: the same work a real node's
    /// storage does, so that the two compare a node that persists.
    pub fn with_disks(mut self) -> Self {
        let states = (0..self.nodes.len()).map(|_| None).collect();
        self.disks = Some(Box::new(DiskStore::<N> { states }));
        for index in 0..self.nodes.len() {
            self.drain(index);
        }
        self
    }

    /// The size of what node `id`'s disk holds, as
    /// [`Cluster::persisted_bytes`](crate::Cluster::persisted_bytes) measures it (0 before the
    /// node's first write). Without disks ([`Bare::with_disks`]) it panics, naming the call,
    /// instead of reading 0.
    pub fn persisted_bytes(&self, id: NodeId) -> usize {
        match self.disks.as_ref() {
            Some(disks) => disks.size(id),
            None => panic!(
                "persisted_bytes(n{id}): this bare loop keeps no disks, so every size would read \
                 0: build it with .with_disks()"
            ),
        }
    }
}

/// The network a [`Cluster`](crate::Cluster) needs to make exactly the calls a [`Bare`] loop
/// with `delay` 1 makes: every message takes one tick, nothing is lost.
pub fn one_tick() -> NetworkConfig {
    NetworkConfig { min_delay: 1, max_delay: 1, ..NetworkConfig::reliable() }
}

/// What the benchmarks print: for 3, 5, 7 and 9 nodes, then for 5 nodes after a log of 20,000
/// and 60,000 entries, the median of three runs of `compare(nodes, prefill, ticks)`, which
/// returns the bare loop's and the harness's seconds and the messages each delivered, under the
/// heading `what`; and what the harness adds per delivered message (its time less the bare
/// loop's, over the deliveries), which is what sets the ratio: a node that spends `n` times that
/// on each message of its own runs at `n / (n + 1)` of its bare speed. Wall time is the
/// caller's: this module never reads a clock.
pub fn print_ratios(
    what: &str,
    ticks: u64,
    mut compare: impl FnMut(usize, u64, u64) -> (f64, f64, u64),
) {
    println!(
        "the harness against a bare loop, {what} (same node, same calls, every message 1 tick; \
         ratio = harness speed / bare speed, median of 3; added = the harness's time per \
         delivery less the bare loop's):"
    );
    let cases = [(3, 0), (5, 0), (7, 0), (9, 0), (5, 20_000), (5, 60_000)];
    for (nodes, prefill) in cases {
        let mut runs: Vec<(f64, f64, u64)> =
            (0..3).map(|_| compare(nodes, prefill, ticks)).collect();
        runs.sort_by(|a, b| (a.1 / a.0).total_cmp(&(b.1 / b.0)));
        let (bare, harness, delivered) = runs[1];
        let per = |seconds: f64| seconds * 1e9 / delivered as f64;
        println!(
            "  {nodes} nodes, log {prefill:>6}..{:<6} bare {:>10.0} deliveries/s   harness \
             {:>10.0} deliveries/s   ratio {:.2}   node {:>4.0} ns + added {:>4.0} ns",
            prefill + ticks,
            delivered as f64 / bare,
            delivered as f64 / harness,
            bare / harness,
            per(bare),
            per(harness) - per(bare),
        );
    }
}
