//! Randomized runs in two phases, the way simulation testers run them.
//!
//! 1. **Safety**: a few thousand ticks of faults drawn from the seed (partitions, isolated
//!    nodes, one-way cuts, crashes and restarts, a lossy, duplicating, reordering network) with
//!    every safety check after every event. Nothing is required to make progress here. Some
//!    crashes land at the worst moments ([`Plan::worst_moment`]): right after a node changed
//!    its term or vote and its answer left, or right after a leader advanced its commit index;
//!    the node comes back after a delay drawn from the seed.
//!
//!    Each seed also draws its own *mix* of faults (swarm testing): which kinds it injects and
//!    how often each ([`FaultMix`]), whether the leader keeps being taken away
//!    ([`Plan::leader_churn`]), and whether clients find the leader ([`Plan::aim`]). A run
//!    that never partitions explores crashes more deeply, one that rarely heals keeps its
//!    partitions long, one with constant churn piles up entries of many terms that no leader
//!    committed, which is where Figure 8's schedules live: a new leader taking proposals while
//!    an old term's entries are still being acknowledged, then losing its place.
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
    /// Which faults this run injects, and how often each, when one happens.
    pub mix: FaultMix,
    /// The chance, each tick, that a leader is taken away: crashed (it comes back after a
    /// delay) or cut off (it keeps leading alone, taking proposals nobody stores, until it is
    /// connected again). 0 in about half of the runs.
    pub leader_churn: f64,
    /// Whether a proposal goes to a node that believes it leads (a stale one included), when
    /// there is one, rather than to any live node: most proposals then land in a log.
    pub aim: bool,
}

/// The weight of each kind of fault in a run: when a fault happens, it is of kind `k` with
/// probability `weight(k) / total`. A weight of 0 leaves that kind out of the run. Restarts
/// weigh as much as crashes, so that crashed nodes come back.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultMix {
    /// A node crashes (never more than a minority at once); also the weight of restarts.
    pub crash: u64,
    /// The network splits in two at random.
    pub partition: u64,
    /// One node is cut off from all others.
    pub isolate: u64,
    /// One link is cut, one way.
    pub cut: u64,
    /// Every link works again: a low weight keeps partitions long.
    pub heal: u64,
}

/// A fault of a [`FaultMix`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    Crash,
    Restart,
    Partition,
    Isolate,
    Cut,
    Heal,
}

impl FaultMix {
    /// Every kind, equally likely: the mix of the runs before swarm testing.
    pub fn even() -> Self {
        FaultMix { crash: 1, partition: 1, isolate: 1, cut: 1, heal: 1 }
    }

    /// A mix drawn from `rng`: crashes weigh 1 to 3; partitions, isolations and cuts are each
    /// left out of one run in three, else weigh 1 to 3; heals weigh 1 to 3.
    fn draw(rng: &mut Rng) -> Self {
        let maybe = |rng: &mut Rng| if rng.chance(1.0 / 3.0) { 0 } else { rng.range(1, 4) };
        let (partition, isolate, cut) = (maybe(rng), maybe(rng), maybe(rng));
        FaultMix { crash: rng.range(1, 4), partition, isolate, cut, heal: rng.range(1, 4) }
    }

    fn weights(&self) -> [(Fault, u64); 6] {
        [
            (Fault::Crash, self.crash),
            (Fault::Restart, self.crash),
            (Fault::Partition, self.partition),
            (Fault::Isolate, self.isolate),
            (Fault::Cut, self.cut),
            (Fault::Heal, self.heal),
        ]
    }

    fn pick(&self, rng: &mut Rng) -> Fault {
        rng.weighted(&self.weights()).unwrap_or(Fault::Heal)
    }

    /// `crash 2, partition 0, ...`, for the report's plan line.
    fn describe(&self) -> String {
        let FaultMix { crash, partition, isolate, cut, heal } = self;
        format!("crash {crash}, partition {partition}, isolate {isolate}, cut {cut}, heal {heal}")
    }
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
        // The swarm's draws come from a stream of their own: the settings above stay what they
        // were before swarm testing, seed by seed.
        let mut swarm = Rng::new(seed).fork(streams::FAULTS).fork(3);
        let mix = FaultMix::draw(&mut swarm);
        let leader_churn = if swarm.chance(0.5) { 0.0 } else { swarm.range(1, 11) as f64 / 200.0 };
        let aim = swarm.chance(0.5);
        Plan {
            nodes,
            safety_ticks,
            network,
            fault_rate,
            propose_rate,
            worst_moment,
            mix,
            leader_churn,
            aim,
        }
    }

    /// Adds the plan to the report's settings; `proposals`: whether this run proposes.
    fn note<N: crate::node::Node>(&self, cluster: &mut Cluster<N>, proposals: bool) {
        cluster.note("plan", self.describe(proposals));
    }

    /// The plan as the report's `plan` line says it; a run without proposals (elections)
    /// does not mention them.
    fn describe(&self, proposals: bool) -> String {
        let workload = if proposals {
            let to = if self.aim { " to a leader" } else { "" };
            format!(", a proposal{to} every ~{} ticks", (1.0 / self.propose_rate).round())
        } else {
            String::new()
        };
        let churn = if self.leader_churn > 0.0 {
            format!(", a leader taken away every ~{} ticks", (1.0 / self.leader_churn).round())
        } else {
            String::new()
        };
        format!(
            "chaos::Plan::from_seed: {} nodes, safety phase {} ticks with a fault every ~{} \
             ticks (weights: {}){churn}{workload} and a crash after {:.0}% of term, vote and \
             commit changes, then liveness on a reliable network",
            self.nodes,
            self.safety_ticks,
            (1.0 / self.fault_rate).round(),
            self.mix.describe(),
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
    let mut moments = WorstMoments::new(&cluster, plan.worst_moment, plan.leader_churn);
    for _ in 0..plan.safety_ticks {
        maybe_fault(&mut cluster, &mut faults, &plan);
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
    let mut moments = WorstMoments::new(&cluster, plan.worst_moment, plan.leader_churn);
    for tick in 0..plan.safety_ticks {
        maybe_fault(&mut cluster, &mut faults, &plan);
        maybe_propose(&mut cluster, &mut workload, &plan, tick);
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

/// With probability `plan.fault_rate`, one fault drawn from `rng` by the plan's mix; never
/// more than a minority crashed.
fn maybe_fault<N: Persist + 'static>(cluster: &mut Cluster<N>, rng: &mut Rng, plan: &Plan) {
    if !rng.chance(plan.fault_rate) {
        return;
    }
    let ids = cluster.ids();
    let pick = |rng: &mut Rng, from: &[NodeId]| from[rng.range(0, from.len() as u64) as usize];
    let up: Vec<NodeId> = ids.iter().copied().filter(|&id| cluster.is_up(id)).collect();
    let down: Vec<NodeId> = ids.iter().copied().filter(|&id| !cluster.is_up(id)).collect();
    match plan.mix.pick(rng) {
        Fault::Crash if down.len() < (ids.len() - 1) / 2 => cluster.crash(pick(rng, &up)),
        Fault::Crash | Fault::Restart if !down.is_empty() => cluster.restart(pick(rng, &down)),
        Fault::Partition => {
            let mut shuffled = ids.clone();
            for i in (1..shuffled.len()).rev() {
                shuffled.swap(i, rng.range(0, i as u64 + 1) as usize);
            }
            let split = rng.range(1, ids.len() as u64) as usize;
            cluster.partition(&[&shuffled[..split], &shuffled[split..]]);
        }
        Fault::Isolate => cluster.isolate(pick(rng, &ids)),
        Fault::Cut => {
            let from = pick(rng, &ids);
            let to = pick(rng, &ids);
            if from != to {
                cluster.cut(from, to);
            }
        }
        Fault::Crash | Fault::Restart | Fault::Heal => cluster.heal(),
    }
}

/// Crashes at the worst moments, leaders taken away, and the restarts and reconnections they
/// owe.
struct WorstMoments {
    rate: f64,
    rng: Rng,
    /// [`Plan::leader_churn`].
    churn: f64,
    /// Its own stream, so that the other draws stay where they were.
    churn_rng: Rng,
    /// Cut off here, with the tick of their reconnection.
    cut_off: Vec<(NodeId, u64)>,
    /// What each node had after the previous tick: `(term, voted_for, commit_index)`.
    seen: Vec<(Term, Option<NodeId>, Index)>,
    /// Crashed here, with the tick of their restart.
    down: Vec<(NodeId, u64)>,
}

impl WorstMoments {
    fn new<N: Persist>(cluster: &Cluster<N>, rate: f64, churn: f64) -> Self {
        // Its own stream: adding these draws leaves every other fault where it was.
        let rng = cluster.fork_rng(streams::FAULTS).fork(2);
        let churn_rng = cluster.fork_rng(streams::FAULTS).fork(4);
        let seen = cluster.ids().into_iter().map(|id| Self::of(cluster, id)).collect();
        WorstMoments { rate, rng, churn, churn_rng, cut_off: Vec::new(), seen, down: Vec::new() }
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
        let (due, later): (Vec<_>, Vec<_>) = self.cut_off.iter().partition(|&&(_, at)| at <= now);
        self.cut_off = later;
        for (id, _) in due {
            cluster.connect(id);
        }
        self.maybe_churn(cluster);
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

impl WorstMoments {
    /// With probability [`Plan::leader_churn`], the live leader of the highest term is taken
    /// away: crashed (never more than a minority down), or cut off from everyone; either way
    /// it is back after a delay of up to two election timeouts.
    fn maybe_churn<N: Persist + 'static>(&mut self, cluster: &mut Cluster<N>) {
        if !self.churn_rng.chance(self.churn) {
            return;
        }
        let ids = cluster.ids();
        let leaders = ids.iter().filter(|&&id| cluster.is_up(id));
        let leader = leaders
            .filter(|&&id| cluster.status(id).role == Role::Leader)
            .max_by_key(|&&id| cluster.status(id).term);
        let Some(&leader) = leader else { return };
        let timeout = cluster.config().election_timeout;
        let back = cluster.now() + self.churn_rng.range(1, 2 * timeout + 1);
        let down = ids.iter().filter(|&&id| !cluster.is_up(id)).count();
        if self.churn_rng.chance(0.5) && down < (ids.len() - 1) / 2 {
            cluster.crash(leader);
            self.down.push((leader, back));
        } else {
            cluster.isolate(leader);
            self.cut_off.push((leader, back));
        }
    }
}

/// With probability `plan.propose_rate`, a client proposes a fresh command to a random live
/// node; with [`Plan::aim`], to a random one of the live nodes that believe they lead, if any.
fn maybe_propose<N: Replicate>(cluster: &mut Cluster<N>, rng: &mut Rng, plan: &Plan, tick: u64)
where
    N::Command: From<String>,
{
    if !rng.chance(plan.propose_rate) {
        return;
    }
    let up: Vec<NodeId> = cluster.ids().into_iter().filter(|&id| cluster.is_up(id)).collect();
    let leaders: Vec<NodeId> =
        up.iter().copied().filter(|&id| cluster.status(id).role == Role::Leader).collect();
    let to = if plan.aim && !leaders.is_empty() { &leaders } else { &up };
    if let Some(&id) = to.get(rng.range(0, to.len() as u64) as usize) {
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
        assert_eq!(span(|p| p.mix.crash as f64), (1.0, 3.0), "crash weight");
        assert_eq!(span(|p| p.mix.partition as f64), (0.0, 3.0), "partition weight");
        assert_eq!(span(|p| p.mix.isolate as f64), (0.0, 3.0), "isolate weight");
        assert_eq!(span(|p| p.mix.cut as f64), (0.0, 3.0), "cut weight");
        assert_eq!(span(|p| p.mix.heal as f64), (1.0, 3.0), "heal weight");
        assert_eq!(span(|p| p.leader_churn), (0.0, 10.0 / 200.0), "leader_churn");
        let churning = plans.iter().filter(|p| p.leader_churn > 0.0).count();
        assert!((800..1_200).contains(&churning), "{churning} of 2,000 plans churn leaders");
        let aimed = plans.iter().filter(|p| p.aim).count();
        assert!((800..1_200).contains(&aimed), "{aimed} of 2,000 plans aim at leaders");
    }

    /// Swarm testing draws its settings from a stream of its own: the settings drawn before it
    /// (cluster size, network, rates) are the same, seed by seed, as they were without it.
    #[test]
    fn the_swarm_leaves_the_earlier_settings_of_a_seed_alone() {
        let plan = Plan::from_seed(4167);
        let network = (plan.network.max_delay, plan.network.loss, plan.network.duplicate);
        assert_eq!(
            (plan.nodes, plan.safety_ticks),
            (5, 2993),
            "seed 4167 (docs/03-replication.md)"
        );
        assert_eq!(network, (3, 0.03, 0.01), "seed 4167's network");
    }

    /// A fault of weight 0 never happens; the others happen about as often as they weigh.
    #[test]
    fn a_fault_mix_picks_by_weight() {
        let mix = FaultMix { crash: 2, partition: 0, isolate: 1, cut: 0, heal: 3 };
        let mut rng = Rng::new(7);
        let mut counts = [0u64; 6];
        for _ in 0..8_000 {
            let fault = mix.pick(&mut rng);
            let slot = mix.weights().iter().position(|&(kind, _)| kind == fault);
            counts[slot.expect("one of the six")] += 1;
        }
        // Weights 2, 2, 0, 1, 0, 3 of 8: 2,000, 2,000, 0, 1,000, 0 and 3,000 expected.
        assert_eq!((counts[2], counts[4]), (0, 0), "partitions and cuts weigh 0: {counts:?}");
        for (count, expected) in [(counts[0], 2_000), (counts[1], 2_000), (counts[3], 1_000)] {
            assert!(count.abs_diff(expected) < expected / 5, "{counts:?}");
        }
        assert!(counts[5].abs_diff(3_000) < 600, "{counts:?}");
        assert_eq!(FaultMix::even().weights().map(|(_, weight)| weight), [1; 6]);
    }

    #[test]
    fn only_a_run_with_proposals_mentions_them_in_its_plan() {
        for seed in 1..=20 {
            let plan = Plan::from_seed(seed);
            assert!(!plan.describe(false).contains("proposal"), "{}", plan.describe(false));
            assert!(
                plan.describe(true).contains(", a proposal every ~")
                    || plan.describe(true).contains(", a proposal to a leader every ~"),
                "{}",
                plan.describe(true)
            );
        }
    }
}
