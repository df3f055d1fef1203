//! Randomized runs in two phases, the way simulation testers run them.
//!
//! 1. **Safety**: a few thousand ticks of faults drawn from the seed (partitions, isolated
//!    nodes, one-way cuts, crashes and restarts, a lossy, duplicating, reordering network) with
//!    every safety check after every event. Nothing is required to make progress here. Some
//!    crashes land at the worst moments ([`Plan::worst_moment`]): right after a node changed
//!    its term or vote and its answer left, or right after a leader advanced its commit index;
//!    the node comes back after a delay drawn from the seed.
//! 2. **Liveness**: every fault healed, every node restarted, the network reliable; now the
//!    cluster must elect a leader (§5.2) and, if it replicates, commit a command on every node
//!    within a bound.
//!
//! A run keeps no timeline while it runs: most runs pass, and nobody reads the timeline of a
//! run that passed. One that fails runs its seed again with the timeline on, which prints the
//! report the first run would have printed, byte for byte (same seed, same run), and the replay
//! command. A node that fails the first time and not the second is not deterministic, and the
//! report says so. (`RAFT_TRACE` and the determinism check keep every event from the start.)
//!
//! A stage's randomized test is one line per seed:
//!
//! ```ignore
//! for seed in harness::seeds() {
//!     harness::chaos::elections::<RaftNode>(seed);
//! }
//! ```

use std::panic::{self, AssertUnwindSafe};

use crate::cluster::{Cluster, panic_text, streams};
use crate::network::NetworkConfig;
use crate::node::{Compact, Config, Index, Node, NodeId, Persist, Replicate, Role, Term};
use crate::report;
use crate::rng::Rng;
use crate::trace::{self, QuietFailure};

/// The settings of one randomized run, all derived from its seed.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// Cluster size: 3 or 5.
    pub nodes: usize,
    /// Ticks of the safety phase.
    pub safety_ticks: u64,
    /// The network during the safety phase.
    pub network: NetworkConfig,
    /// The chance, each tick, that a fault happens.
    pub fault_rate: f64,
    /// The chance, each tick, that a client proposes a command (replicating nodes only).
    pub propose_rate: f64,
    /// The chance that a node crashes right after it changed its term or vote (its answer
    /// already sent), or, as leader, advanced its commit index: random crashes rarely land
    /// between "voted" and "the candidate counted the vote", where a forgotten vote does harm.
    pub worst_moment: f64,
}

impl Plan {
    /// The plan for `seed`, drawn from the faults stream.
    pub fn from_seed(seed: u64) -> Self {
        let mut rng = Rng::new(seed).fork(streams::FAULTS).fork(0);
        let nodes = if rng.chance(0.5) { 3 } else { 5 };
        let network = NetworkConfig {
            min_delay: 1,
            max_delay: rng.range(2, 8),
            loss: rng.range(0, 21) as f64 / 100.0,
            duplicate: rng.range(0, 11) as f64 / 100.0,
            reorder: rng.range(0, 21) as f64 / 100.0,
            max_hold_back: None,
        };
        let safety_ticks = rng.range(1_000, 3_001);
        let fault_rate = rng.range(5, 31) as f64 / 1_000.0;
        let propose_rate = rng.range(5, 31) as f64 / 100.0;
        let worst_moment = rng.range(2, 11) as f64 / 100.0;
        Plan { nodes, safety_ticks, network, fault_rate, propose_rate, worst_moment }
    }

    /// Adds the plan to the report's settings; `proposals`: whether this run proposes.
    fn note<N: crate::node::Node>(&self, cluster: &mut Cluster<N>, proposals: bool) {
        cluster.note("plan", self.describe(proposals));
    }

    /// The plan as the report's `plan` line says it; a run without proposals (elections)
    /// does not mention them.
    fn describe(&self, proposals: bool) -> String {
        let workload = if proposals {
            format!(", a proposal every ~{} ticks", (1.0 / self.propose_rate).round())
        } else {
            String::new()
        };
        format!(
            "chaos::Plan::from_seed: {} nodes, safety phase {} ticks with a fault every ~{} \
             ticks{workload} and a crash after {:.0}% of term, vote and commit changes, then \
             liveness on a reliable network",
            self.nodes,
            self.safety_ticks,
            (1.0 / self.fault_rate).round(),
            self.worst_moment * 100.0
        )
    }
}

/// A randomized election run (§5.2) for `seed`: safety with faults, then a leader must be
/// elected. Returns the cluster, for more assertions (its timeline starts where the run ended).
pub fn elections<N: Persist + 'static>(seed: u64) -> Cluster<N> {
    quietly(seed, || elections_run(seed))
}

fn elections_run<N: Persist + 'static>(seed: u64) -> Cluster<N> {
    let plan = Plan::from_seed(seed);
    let mut cluster = start::<N>(seed, &plan, false);
    let mut faults = cluster.fork_rng(streams::FAULTS).fork(1);
    let mut moments = WorstMoments::new(&cluster, plan.worst_moment);
    for _ in 0..plan.safety_ticks {
        maybe_fault(&mut cluster, &mut faults, plan.fault_rate);
        cluster.tick();
        moments.after_tick(&mut cluster);
    }
    recover(&mut cluster);
    cluster.check_one_leader();
    cluster.check_logs();
    cluster
}

/// A randomized replication run (§5.3, §5.4) for `seed`: safety with faults and client
/// proposals, then a leader must be elected and a new command applied on every node. Returns
/// the cluster, for more assertions (its timeline starts where the run ended).
pub fn replication<N: Replicate + Persist + 'static>(seed: u64) -> Cluster<N>
where
    N::Command: From<String>,
{
    quietly(seed, || replication_with(seed, |_| {}))
}

/// A randomized run with snapshots (§7) for `seed`: [`replication`]'s, with a state machine
/// beside every node and every node asked to compact every `k` applied entries, `k` drawn
/// from the seed in `1..=20`, so that snapshots land at random points among the faults and
/// followers that fell behind are repaired by InstallSnapshot.
pub fn snapshots<N: Compact + Persist + 'static>(seed: u64) -> Cluster<N>
where
    N::Command: From<String>,
{
    quietly(seed, || {
        replication_with(seed, |cluster| {
            let every = cluster.fork_rng(streams::FAULTS).fork(2).range(1, 21);
            let note = format!("every node compacts every {every} applied entries");
            cluster.note("snapshots", note);
            cluster.compact_every(every);
        })
    })
}

/// Runs `run`, the randomized run of `seed`, quietly (no timeline, no message kept for one:
/// [`trace::quiet_from_now`]); if it fails, runs it again with the timeline on, which fails
/// the same way and prints the report. If the second run passes, the node is not
/// deterministic: that is the failure.
fn quietly<N: Node>(seed: u64, run: impl Fn() -> Cluster<N>) -> Cluster<N> {
    if report::trace_path().is_some() || trace::keeping_all() {
        return run();
    }
    trace::quiet_from_now(true);
    let attempt = panic::catch_unwind(AssertUnwindSafe(&run));
    trace::quiet_from_now(false);
    let first = match attempt {
        Ok(mut cluster) => {
            cluster.trace.set_quiet(false);
            return cluster;
        }
        Err(payload) => match payload.downcast::<QuietFailure>() {
            Ok(failure) => format!("at tick {}: {}", failure.tick, failure.why),
            Err(payload) => format!("with a panic: {}", panic_text(payload)),
        },
    };
    drop(run());
    panic!(
        "harness: the randomized run of seed {seed} failed {first}\n\nbut the same seed run \
         again, to show its timeline, passed: the node is not deterministic, so this failure \
         can be neither shown nor replayed. Does a node read a clock, iterate a HashMap, keep \
         state in a static, or use randomness other than the Rng it was given? \
         (harness::check_determinism runs a scenario twice and shows where the runs part.)\n\n  \
         seed:     {seed}\n  replay:   {}",
        report::replay_command(seed)
    )
}

/// [`replication`], with `setup` run on the cluster before the first tick.
fn replication_with<N: Replicate + Persist + 'static>(
    seed: u64,
    setup: impl FnOnce(&mut Cluster<N>),
) -> Cluster<N>
where
    N::Command: From<String>,
{
    let plan = Plan::from_seed(seed);
    let mut cluster = start::<N>(seed, &plan, true);
    setup(&mut cluster);
    cluster.track_applied();
    let mut faults = cluster.fork_rng(streams::FAULTS).fork(1);
    let mut workload = cluster.fork_rng(streams::WORKLOAD);
    let mut moments = WorstMoments::new(&cluster, plan.worst_moment);
    for tick in 0..plan.safety_ticks {
        maybe_fault(&mut cluster, &mut faults, plan.fault_rate);
        maybe_propose(&mut cluster, &mut workload, plan.propose_rate, tick);
        cluster.tick();
        moments.after_tick(&mut cluster);
    }
    recover(&mut cluster);
    cluster.check_one_leader();
    let everyone = cluster.ids().len();
    cluster.one(N::Command::from(format!("liveness-{seed}")), everyone, true);
    cluster.check_logs();
    cluster
}

fn start<N: Persist + 'static>(seed: u64, plan: &Plan, proposals: bool) -> Cluster<N> {
    let network = plan.network.clone();
    let mut cluster =
        Cluster::with_config(plan.nodes, seed, Config::default(), network).with_disks();
    plan.note(&mut cluster, proposals);
    cluster
}

/// Liveness phase: heal the network, restart every crashed node, make the network reliable.
fn recover<N: Persist + 'static>(cluster: &mut Cluster<N>) {
    cluster.heal();
    cluster.set_network(NetworkConfig::reliable());
    for id in cluster.ids() {
        if !cluster.is_up(id) {
            cluster.restart(id);
        }
    }
}

/// With probability `rate`, one fault drawn from `rng`; never more than a minority crashed.
fn maybe_fault<N: Persist + 'static>(cluster: &mut Cluster<N>, rng: &mut Rng, rate: f64) {
    if !rng.chance(rate) {
        return;
    }
    let ids = cluster.ids();
    let pick = |rng: &mut Rng, from: &[NodeId]| from[rng.range(0, from.len() as u64) as usize];
    let up: Vec<NodeId> = ids.iter().copied().filter(|&id| cluster.is_up(id)).collect();
    let down: Vec<NodeId> = ids.iter().copied().filter(|&id| !cluster.is_up(id)).collect();
    match rng.range(0, 6) {
        0 if down.len() < (ids.len() - 1) / 2 => cluster.crash(pick(rng, &up)),
        0 | 1 if !down.is_empty() => cluster.restart(pick(rng, &down)),
        2 => {
            let mut shuffled = ids.clone();
            for i in (1..shuffled.len()).rev() {
                shuffled.swap(i, rng.range(0, i as u64 + 1) as usize);
            }
            let split = rng.range(1, ids.len() as u64) as usize;
            cluster.partition(&[&shuffled[..split], &shuffled[split..]]);
        }
        3 => cluster.isolate(pick(rng, &ids)),
        4 => {
            let from = pick(rng, &ids);
            let to = pick(rng, &ids);
            if from != to {
                cluster.cut(from, to);
            }
        }
        _ => cluster.heal(),
    }
}

/// Crashes at the worst moments, and the restarts they owe.
struct WorstMoments {
    rate: f64,
    rng: Rng,
    /// What each node had after the previous tick: `(term, voted_for, commit_index)`.
    seen: Vec<(Term, Option<NodeId>, Index)>,
    /// Crashed here, with the tick of their restart.
    down: Vec<(NodeId, u64)>,
}

impl WorstMoments {
    fn new<N: Persist>(cluster: &Cluster<N>, rate: f64) -> Self {
        // Its own stream: adding these draws leaves every other fault where it was.
        let rng = cluster.fork_rng(streams::FAULTS).fork(2);
        let seen = cluster.ids().into_iter().map(|id| Self::of(cluster, id)).collect();
        WorstMoments { rate, rng, seen, down: Vec::new() }
    }

    fn of<N: Persist>(cluster: &Cluster<N>, id: NodeId) -> (Term, Option<NodeId>, Index) {
        let status = cluster.status(id);
        (status.term, status.voted_for, status.commit_index)
    }

    /// After a tick: restarts what is due; crashes, with probability `rate`, each node that
    /// changed its term or vote in the tick, and each leader that advanced its commit index,
    /// never more than a minority at once.
    fn after_tick<N: Persist + 'static>(&mut self, cluster: &mut Cluster<N>) {
        let now = cluster.now();
        let (due, later): (Vec<_>, Vec<_>) = self.down.iter().partition(|&&(_, at)| at <= now);
        self.down = later;
        for (id, _) in due {
            if !cluster.is_up(id) {
                cluster.restart(id);
            }
        }
        let ids = cluster.ids();
        let mut down = ids.iter().filter(|&&id| !cluster.is_up(id)).count();
        for &id in &ids {
            let before = self.seen[id as usize - 1];
            let after = Self::of(cluster, id);
            self.seen[id as usize - 1] = after;
            let changed_vote = (before.0, before.1) != (after.0, after.1);
            let leader = cluster.status(id).role == Role::Leader;
            let committed = leader && after.2 > before.2;
            let minority = down < (ids.len() - 1) / 2;
            if cluster.is_up(id)
                && (changed_vote || committed)
                && minority
                && self.rng.chance(self.rate)
            {
                cluster.crash(id);
                down += 1;
                let timeout = cluster.config().election_timeout;
                let back = now + self.rng.range(1, 2 * timeout + 1);
                self.down.push((id, back));
            }
        }
    }
}

/// With probability `rate`, a client proposes a fresh command to a random live node.
fn maybe_propose<N: Replicate>(cluster: &mut Cluster<N>, rng: &mut Rng, rate: f64, tick: u64)
where
    N::Command: From<String>,
{
    if !rng.chance(rate) {
        return;
    }
    let up: Vec<NodeId> = cluster.ids().into_iter().filter(|&id| cluster.is_up(id)).collect();
    if let Some(&id) = up.get(rng.range(0, up.len() as u64) as usize) {
        let _ = cluster.propose(id, N::Command::from(format!("c{tick}")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every setting of a plan stays in the range the module documents, and a few thousand
    /// seeds reach both ends of each (so a run of many seeds covers them all).
    #[test]
    fn plans_stay_in_their_ranges_and_reach_both_ends() {
        let plans: Vec<Plan> = (1..=2_000).map(Plan::from_seed).collect();
        let span = |value: fn(&Plan) -> f64| {
            let values = plans.iter().map(value);
            let low = values.clone().fold(f64::INFINITY, f64::min);
            (low, values.fold(f64::NEG_INFINITY, f64::max))
        };
        assert_eq!(span(|p| p.nodes as f64), (3.0, 5.0), "nodes");
        assert!(plans.iter().all(|p| p.nodes == 3 || p.nodes == 5), "nodes");
        assert_eq!(span(|p| p.network.max_delay as f64), (2.0, 7.0), "max_delay");
        assert_eq!(span(|p| p.network.loss), (0.0, 20.0 / 100.0), "loss");
        assert_eq!(span(|p| p.network.duplicate), (0.0, 10.0 / 100.0), "duplicate");
        assert_eq!(span(|p| p.network.reorder), (0.0, 20.0 / 100.0), "reorder");
        assert_eq!(span(|p| p.fault_rate), (5.0 / 1_000.0, 30.0 / 1_000.0), "fault_rate");
        assert_eq!(span(|p| p.propose_rate), (5.0 / 100.0, 30.0 / 100.0), "propose_rate");
        assert_eq!(span(|p| p.worst_moment), (2.0 / 100.0, 10.0 / 100.0), "worst_moment");
        let (shortest, longest) = span(|p| p.safety_ticks as f64);
        assert!((1_000.0..1_050.0).contains(&shortest), "shortest safety phase {shortest}");
        assert!((2_950.0..=3_000.0).contains(&longest), "longest safety phase {longest}");
    }

    #[test]
    fn only_a_run_with_proposals_mentions_them_in_its_plan() {
        for seed in 1..=20 {
            let plan = Plan::from_seed(seed);
            assert!(!plan.describe(false).contains("proposal"), "{}", plan.describe(false));
            assert!(
                plan.describe(true).contains(", a proposal every ~"),
                "{}",
                plan.describe(true)
            );
        }
    }
}
