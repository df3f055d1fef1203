//! The randomized run of a key-value service (stage 6), over many seeds (dissertation §6).
//!
//! One seed is one run in two phases, as [`crate::chaos`] runs the stages before:
//!
//! 1. **Safety**: phases of a few dozen ticks, each opened by a fault (a crash, a restart, a
//!    random partition, the leader cut off alone, a heal) and by new operations for the
//!    clients, so that clients keep calling while the faults come and go, not only at the
//!    start. Writers call every kind of operation; readers only read, mostly one hot key, and
//!    stay with whichever server answers them (as monitors do). The network between servers
//!    loses, duplicates and reorders; the client link loses requests and replies, so clients
//!    retry and servers see duplicates. Every check runs after every event.
//! 2. **Liveness**: the network heals, every server is up, every operation a client is still
//!    waiting for must complete, and then one client reads every key (Jepsen's final read: a
//!    write acknowledged but lost shows there). The whole history is checked for
//!    linearizability, and every server's state machine compared with the others'.
//!
//! Each seed draws its own mix (swarm testing, as [`crate::chaos::Plan`] does): how many keys
//! (one to four: a single hot key makes every operation conflict), how many writers and
//! readers, how lossy the client link is, how often each kind of fault comes, and whether the
//! leader keeps being cut off while clients talk to it. A mix that leaves a fault out explores
//! the others more deeply; the settings are printed in a failure report's `plan` line.
//!
//! ```ignore
//! for seed in harness::seeds() {
//!     let compact = |node: &mut KvNode, every| node.config.snapshot_every = every;
//!     harness::service::chaos::kv(seed, compact, |node: &KvNode| node.store.clone());
//! }
//! ```

use std::fmt::Debug;

use crate::cluster::Cluster;
use crate::network::NetworkConfig;
use crate::node::{Config, NodeId};
use crate::rng::Rng;
use crate::service::Service;
use crate::service::clients::{ClientLink, Clients};
use crate::service::kv::{KvOp, KvOutput, random_op};

/// The streams of [`Cluster::fork_rng`] this run draws from (the clients draw from
/// [`crate::service::clients::CLIENTS_STREAM`]).
mod streams {
    /// The plan.
    pub const PLAN: u64 = 5;
    /// The faults, phase by phase.
    pub const FAULTS: u64 = 6;
    /// The operations.
    pub const WORKLOAD: u64 = 7;
    /// The leader cut off and connected again, tick by tick.
    pub const CHURN: u64 = 8;
}

/// Every this many ticks, an idle writer calls again with probability 1/2, an idle reader
/// calls again.
const CALL_EVERY: u64 = 5;

/// The settings of one randomized run of a key-value service, all drawn from its seed.
#[derive(Clone, Debug, PartialEq)]
pub struct KvPlan {
    /// Servers compact their log every this many applied entries (4 to 19), so that
    /// snapshots are taken, sent and restored often.
    pub snapshot_every: u64,
    /// The keys the operations touch, `k0`, `k1`, ...: 1 to 4.
    pub keys: u64,
    /// Clients that call every kind of operation (ids `1..=writers`): 3 to 6.
    pub writers: u64,
    /// Clients that only read (the ids after the writers'): 1 to 4.
    pub readers: u64,
    /// The client link: loss 0 to 30 %, a timeout of 10 to 60 ticks.
    pub link: ClientLink,
    /// The network between servers.
    pub network: NetworkConfig,
    /// The phases of the safety phase: 30.
    pub phases: u64,
    /// The weight of each kind of fault when a phase opens.
    pub mix: KvFaults,
    /// The chance, each tick, that the leader of the highest term is cut off alone while the
    /// clients still reach it (it is connected again [`KvPlan::churn_back`] ticks later at
    /// most): 0 in a third of the runs, else 1/30 to 1/150.
    pub churn: f64,
    /// The most ticks a leader cut off by churn stays cut off: 10 to 99. Short, and it comes
    /// back to find its waiting writes' places taken; long, and its clients go on reading
    /// from it while a new leader takes writes.
    pub churn_back: u64,
}

/// The weight of each kind of fault at the start of a phase: kind `k` with probability
/// `weight(k) / total`; a weight of 0 leaves it out of the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KvFaults {
    /// A server crashes (never more than two of five at once); also the weight of restarts.
    pub crash: u64,
    /// The servers split in two at random.
    pub partition: u64,
    /// The leader of the highest term is cut off alone (the lab's `disconnect(leader)`): it
    /// leads on, stale, while the others elect a new leader and clients still reach it.
    pub leader: u64,
    /// Every link works again: a low weight keeps partitions long.
    pub heal: u64,
}

/// A fault of a [`KvFaults`] mix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    Crash,
    Restart,
    Partition,
    Leader,
    Heal,
}

impl KvFaults {
    fn weights(&self) -> [(Fault, u64); 5] {
        [
            (Fault::Crash, self.crash),
            (Fault::Restart, self.crash),
            (Fault::Partition, self.partition),
            (Fault::Leader, self.leader),
            (Fault::Heal, self.heal),
        ]
    }

    fn pick(&self, rng: &mut Rng) -> Fault {
        rng.weighted(&self.weights()).unwrap_or(Fault::Heal)
    }
}

impl KvPlan {
    /// The plan of `seed`.
    pub fn from_seed(seed: u64) -> Self {
        let mut rng = Rng::new(seed).fork(streams::PLAN);
        let maybe = |rng: &mut Rng| if rng.chance(1.0 / 3.0) { 0 } else { rng.range(1, 4) };
        let mix = KvFaults {
            crash: maybe(&mut rng),
            partition: maybe(&mut rng),
            leader: rng.range(1, 4),
            heal: rng.range(1, 4),
        };
        let loss = rng.range(0, 16) as f64 / 100.0;
        let link = ClientLink { loss, timeout: rng.range(20, 61), ..ClientLink::reliable() };
        let churn = if rng.chance(1.0 / 3.0) { 0.0 } else { 1.0 / rng.range(30, 151) as f64 };
        KvPlan {
            snapshot_every: rng.range(4, 20),
            keys: rng.range(1, 4),
            writers: rng.range(3, 7),
            readers: rng.range(1, 5),
            link,
            network: NetworkConfig::unreliable(),
            phases: 30,
            mix,
            churn,
            churn_back: rng.range(10, 100),
        }
    }

    /// The plan in one line, for the report.
    fn describe(&self) -> String {
        let KvFaults { crash, partition, leader, heal } = self.mix;
        format!(
            "service::chaos::KvPlan::from_seed: 5 servers compacting every {} entries, {} \
             writers and {} readers on {} key(s), {:.0}% of client requests and replies lost, clients giving up on a server after {} ticks, \
             {} phases with fault weights crash {crash}, partition {partition}, leader cut off \
             {leader}, heal {heal}, {}; then liveness and a final read of every key",
            self.snapshot_every,
            self.writers,
            self.readers,
            self.keys,
            self.link.loss * 100.0,
            self.link.timeout,
            self.phases,
            if self.churn > 0.0 {
                format!(
                    "the leader cut off every ~{:.0} ticks for up to {} ticks",
                    1.0 / self.churn,
                    self.churn_back
                )
            } else {
                "no leader churn".to_string()
            }
        )
    }
}

/// The randomized run of `seed` for any key-value service `N`. `compact_every(node, k)` sets
/// a node to compact every `k` applied entries (after its start and every restart);
/// `state(node)` is what every server must end up holding alike (its map and sessions).
/// Fails with the cluster's report if a check fails; returns the cluster and its clients.
pub fn kv<N, S>(
    seed: u64,
    compact_every: impl Fn(&mut N, u64),
    state: impl Fn(&N) -> S,
) -> (Cluster<N>, Clients<KvOp, KvOutput>)
where
    N: Service<Op = KvOp, Output = KvOutput> + 'static,
    S: PartialEq + Debug,
{
    let plan = KvPlan::from_seed(seed);
    let mut cluster =
        Cluster::<N>::with_config(5, seed, Config::default(), plan.network.clone()).with_disks();
    cluster.note("plan", plan.describe());
    cluster.service_snapshots();
    let every = plan.snapshot_every;
    let setup = |cluster: &mut Cluster<N>, id: NodeId| {
        cluster.with_node(id, |node| compact_every(node, every));
    };
    for id in cluster.ids() {
        setup(&mut cluster, id);
    }
    let clients = (plan.writers + plan.readers) as usize;
    let mut kv = Clients::new(&cluster, clients, plan.link.clone());
    let mut faults = cluster.fork_rng(streams::FAULTS);
    let mut churn = Churn::new(&plan, cluster.fork_rng(streams::CHURN));
    let mut workload = Workload::new(&plan, cluster.fork_rng(streams::WORKLOAD));
    for _ in 0..plan.phases {
        fault(&mut cluster, &mut faults, &plan.mix, &setup);
        // Long enough for a new leader to be elected and serve while an old one is cut off;
        // the clients keep calling all along.
        let ticks = faults.range(10, 80);
        for tick in 0..ticks {
            if tick % CALL_EVERY == 0 {
                workload.more(&mut kv);
            }
            churn.before_tick(&mut cluster);
            kv.tick(&mut cluster);
        }
    }
    cluster.heal();
    for id in cluster.ids() {
        if !cluster.is_up(id) {
            cluster.restart(id);
            setup(&mut cluster, id);
        }
    }
    kv.set_link(ClientLink { loss: 0.0, ..plan.link.clone() });
    complete(&mut cluster, &mut kv);
    for key in 0..plan.keys {
        kv.submit(1, KvOp::Get { key: format!("k{key}") });
    }
    complete(&mut cluster, &mut kv);
    cluster.check_logs();
    check_state_machines_agree(&mut cluster, state);
    kv.check_linearizable(&cluster);
    (cluster, kv)
}

/// Every operation the clients are waiting for completes within 10,000 ticks (liveness).
fn complete<N: Service<Op = KvOp, Output = KvOutput> + 'static>(
    cluster: &mut Cluster<N>,
    kv: &mut Clients<KvOp, KvOutput>,
) {
    let done = kv.run_until_idle(cluster, 10_000);
    cluster.ensure(done, || {
        format!(
            "liveness: with the network healed and every server up, the clients' operations did \
             not all complete within 10,000 ticks ({} of {} returned; {:?})",
            kv.history().completed(),
            kv.history().records().len(),
            kv.counts()
        )
    });
}

/// The operations of a run, handed out phase by phase.
struct Workload {
    plan: KvPlan,
    rng: Rng,
    /// Per client, how many operations it was handed: appended values are unique.
    handed: Vec<u64>,
}

impl Workload {
    fn new(plan: &KvPlan, rng: Rng) -> Self {
        let handed = vec![0; (plan.writers + plan.readers + 1) as usize];
        Workload { plan: plan.clone(), rng, handed }
    }

    /// New operations for the clients that have finished their earlier ones: half of the idle
    /// writers call an operation of any kind, every idle reader reads, the first key half the
    /// time (the hot key) and any key otherwise.
    fn more(&mut self, kv: &mut Clients<KvOp, KvOutput>) {
        let KvPlan { keys, writers, readers, .. } = self.plan;
        for client in 1..=writers {
            if kv.is_idle(client) && self.rng.chance(0.5) {
                let n = self.handed[client as usize];
                self.handed[client as usize] += 1;
                kv.submit(client, random_op(&mut self.rng, keys, client, n));
            }
        }
        for client in writers + 1..=writers + readers {
            if kv.is_idle(client) {
                let hot = self.rng.chance(0.5);
                let key = if hot { 0 } else { self.rng.range(0, keys) };
                kv.submit(client, KvOp::Get { key: format!("k{key}") });
            }
        }
    }
}

/// The leader taken away now and then ([`KvPlan::churn`]) and connected again later.
struct Churn {
    rate: f64,
    back: u64,
    rng: Rng,
    /// The leader cut off, and the tick it is connected again.
    cut_off: Option<(NodeId, u64)>,
}

impl Churn {
    fn new(plan: &KvPlan, rng: Rng) -> Self {
        Churn { rate: plan.churn, back: plan.churn_back, rng, cut_off: None }
    }

    /// Connects the leader cut off if its time is up; else, with probability `rate`, cuts off
    /// the live leader of the highest term, if there is one.
    fn before_tick<N: Service + 'static>(&mut self, cluster: &mut Cluster<N>) {
        if let Some((id, at)) = self.cut_off {
            if cluster.now() >= at {
                cluster.connect(id);
                self.cut_off = None;
            }
            return;
        }
        if !self.rng.chance(self.rate) {
            return;
        }
        let leaders = cluster.leaders().into_iter().filter(|&(id, _)| cluster.is_connected(id));
        if let Some((leader, _)) = leaders.max_by_key(|&(_, term)| term) {
            cluster.isolate(leader);
            let back = cluster.now() + self.rng.range(1, self.back + 1);
            self.cut_off = Some((leader, back));
        }
    }
}

/// One fault of `mix`, drawn from `rng`; `setup` runs on a restarted server.
fn fault<N: Service + 'static>(
    cluster: &mut Cluster<N>,
    rng: &mut Rng,
    mix: &KvFaults,
    setup: &impl Fn(&mut Cluster<N>, NodeId),
) {
    let ids = cluster.ids();
    let up: Vec<NodeId> = ids.iter().copied().filter(|&id| cluster.is_up(id)).collect();
    let down: Vec<NodeId> = ids.iter().copied().filter(|&id| !cluster.is_up(id)).collect();
    let pick = |rng: &mut Rng, from: &[NodeId]| from[rng.range(0, from.len() as u64) as usize];
    match mix.pick(rng) {
        Fault::Crash if down.len() < 2 => cluster.crash(pick(rng, &up)),
        Fault::Crash | Fault::Restart if !down.is_empty() => {
            let id = pick(rng, &down);
            cluster.restart(id);
            setup(cluster, id);
        }
        Fault::Partition => {
            let (mut left, mut right) = (Vec::new(), Vec::new());
            for id in ids {
                if rng.chance(0.5) { left.push(id) } else { right.push(id) }
            }
            cluster.partition(&[&left, &right]);
        }
        Fault::Leader => {
            if let Some((leader, _)) = cluster.leaders().into_iter().max_by_key(|&(_, term)| term) {
                let others: Vec<NodeId> = ids.into_iter().filter(|&id| id != leader).collect();
                cluster.partition(&[&[leader], &others]);
            }
        }
        Fault::Crash | Fault::Restart | Fault::Heal => cluster.heal(),
    }
}

/// Once every server committed the same index, every state machine holds the same state:
/// map and sessions (§5.4.3: every state machine goes through the same states, snapshots
/// included; §6.3: the sessions are part of it).
fn check_state_machines_agree<N: Service + 'static, S: PartialEq + Debug>(
    cluster: &mut Cluster<N>,
    state: impl Fn(&N) -> S,
) {
    let agreed = cluster.run_until(500, |c| {
        let committed: Vec<u64> = c.ids().iter().map(|&id| c.status(id).commit_index).collect();
        committed.iter().all(|&index| index == committed[0])
    });
    cluster
        .ensure(agreed, || "the servers did not all commit the same index within 500 ticks".into());
    let first = state(cluster.node(1));
    for id in cluster.ids() {
        let other = state(cluster.node(id));
        cluster.ensure(other == first, || {
            let index = cluster.status(id).commit_index;
            format!(
                "State Machine Safety (§5.4.3) violated: n1 and n{id} applied through index \
                 {index} but hold different state machines (a snapshot must hold the map and the \
                 sessions, §6.3, §7):\n  n1:  {first:?}\n  n{id}: {other:?}"
            )
        });
    }
}
