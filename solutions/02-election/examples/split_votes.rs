//! How often an election round fails at the timing defaults (§5.6):
//! `cargo run --release -p election-solution --example split_votes -- [seeds] [T] [delays]`.
//!
//! A round is a term in which a node that can reach a majority stands as candidate; it
//! fails if no leader is elected in that term (a split vote, or a candidate overtaken by a
//! later one's term). Two settings, each over `seeds` seeds (default 2000), on the reliable
//! network (delays of 1 to 3 ticks, or `1..=delays`):
//!
//! - 7 nodes of which only 4 are connected (n5, n6 and n7 cut off from the start): a leader
//!   needs every one of the 4 votes, the hardest case for split votes;
//! - 5 nodes, all connected: the first election, then a re-election after the leader crashes.
//!
//! It prints the failed-round rate, the rounds per election and the ticks until a leader
//! (mean and 99th percentile; from the start for a first election, from the crash for a
//! re-election), for `Config::default()`'s election timeout or `T`. Simulated time only; no
//! clock is read.

use election::RaftNode;
use harness::trace::Event;
use harness::{Cluster, Config, NetworkConfig, NodeId, Role};

/// What the elections of one setting came to.
#[derive(Default)]
struct Tally {
    rounds: u64,
    failed: u64,
    elections: u64,
    ticks: Vec<u64>,
}

impl Tally {
    fn line(&mut self, label: &str) -> String {
        self.ticks.sort_unstable();
        let mean = self.ticks.iter().sum::<u64>() as f64 / self.ticks.len().max(1) as f64;
        let p99 = self.ticks.get(self.ticks.len() * 99 / 100).copied().unwrap_or(0);
        format!(
            "{label:<34} {:>6} rounds  {:>5.1}% failed  {:.2} rounds/election  \
             ticks to a leader: mean {mean:.1}, p99 {p99}",
            self.rounds,
            100.0 * self.failed as f64 / self.rounds.max(1) as f64,
            self.rounds as f64 / self.elections.max(1) as f64,
        )
    }
}

/// The rounds among `voters` in the events after `from`, up to the first leader: each term in
/// which one of them stood, and whether a leader was elected in it. Adds them to `tally`.
fn count(
    cluster: &Cluster<RaftNode>,
    from: usize,
    voters: &[NodeId],
    start: u64,
    tally: &mut Tally,
) {
    let records = cluster.trace().all().expect("the whole trace is kept");
    let mut stood: Vec<u64> = Vec::new();
    let mut leader = None;
    for record in &records[from..] {
        match record.event {
            // A candidate votes for itself in each term it stands in (a candidate that times
            // out stands again without a role change).
            Event::Vote { node, term, voted_for }
                if node == voted_for && voters.contains(&node) && !stood.contains(&term) =>
            {
                stood.push(term);
            }
            Event::Role { term, role: Role::Leader, .. } => {
                leader = Some((term, record.tick));
                break;
            }
            _ => {}
        }
    }
    let (won, at) = leader.expect("a leader was elected");
    tally.rounds += stood.len() as u64;
    tally.failed += stood.iter().filter(|&&term| term != won).count() as u64;
    tally.elections += 1;
    tally.ticks.push(at - start);
}

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<u64>().expect("a number"));
    let seeds = args.next().unwrap_or(2000);
    let defaults = Config::default();
    let timeout = args.next().unwrap_or(defaults.election_timeout);
    let delays = args.next().unwrap_or(3);
    let config = Config { election_timeout: timeout, ..defaults };
    let network = NetworkConfig { max_delay: delays, ..NetworkConfig::reliable() };
    println!(
        "election timeout {timeout} (drawn from [{timeout}, {})), heartbeat {}, delays 1..={delays}, \
         {seeds} seeds",
        2 * timeout,
        config.heartbeat_interval
    );
    let bound = 200 * timeout;

    let mut minority_cut = Tally::default();
    let mut first = Tally::default();
    let mut again = Tally::default();
    for seed in 1..=seeds {
        let mut cluster =
            Cluster::<RaftNode>::with_config(7, seed, config.clone(), network.clone());
        cluster.keep_whole_trace();
        for id in 5..=7 {
            cluster.isolate(id);
        }
        let leads = |c: &Cluster<RaftNode>| (1..=4).any(|id| c.status(id).role == Role::Leader);
        assert!(cluster.run_until(bound, leads), "seed {seed}: no leader among n1..n4");
        count(&cluster, 0, &[1, 2, 3, 4], 0, &mut minority_cut);

        let mut cluster =
            Cluster::<RaftNode>::with_config(5, seed, config.clone(), network.clone());
        cluster.keep_whole_trace();
        let leads =
            |c: &Cluster<RaftNode>| c.ids().iter().any(|&id| c.status(id).role == Role::Leader);
        assert!(cluster.run_until(bound, leads), "seed {seed}: no first leader");
        count(&cluster, 0, &[1, 2, 3, 4, 5], 0, &mut first);
        let leader = cluster.ids().into_iter().find(|&id| cluster.status(id).role == Role::Leader);
        let leader = leader.expect("a leader");
        let from = cluster.trace().all().expect("kept").len();
        let start = cluster.now();
        cluster.crash(leader);
        let others: Vec<NodeId> = cluster.ids().into_iter().filter(|&id| id != leader).collect();
        let leads =
            |c: &Cluster<RaftNode>| others.iter().any(|&id| c.status(id).role == Role::Leader);
        assert!(cluster.run_until(bound, leads), "seed {seed}: no leader after the crash");
        let mut tally = Tally::default();
        count(&cluster, from, &others, 0, &mut tally);
        again.rounds += tally.rounds;
        again.failed += tally.failed;
        again.elections += 1;
        again.ticks.push(cluster.now() - start);
    }
    println!("  {}", minority_cut.line("7 nodes, 4 connected, first"));
    println!("  {}", first.line("5 nodes, first election"));
    println!("  {}", again.line("5 nodes, after the leader crashed"));
}
