//! Randomized runs of the key-value service over many seeds (dissertation §6).
//!
//! Each seed is one run in two phases. The safety phase: clients call random operations on a
//! few keys while servers crash and restart, partitions come and go, the network loses,
//! duplicates and reorders messages, and the client link loses requests and replies; every
//! check runs after every event. The liveness phase: the network heals, every server is up,
//! and every operation a client is still waiting for must complete. Then the whole history is
//! checked for linearizability.
//!
//! `cargo test -p kv --test random` runs a few seeds; `RAFT_SEEDS=1000` runs a thousand;
//! `RAFT_SEED=42` replays one (a failure report prints the exact command).

use harness::service::clients::{ClientLink, Clients};
use harness::service::kv::{KvOp, KvOutput, random_op};
use harness::{Cluster, Config, NetworkConfig, NodeId, Rng, seeds};
use kv::KvNode;

/// One randomized run of `seed`; returns the cluster and its clients, history checked.
fn run(seed: u64) -> (Cluster<KvNode>, Clients<KvOp, KvOutput>) {
    let network = NetworkConfig::unreliable();
    let cluster = Cluster::<KvNode>::with_config(5, seed, Config::default(), network);
    let mut cluster = cluster.with_disks();
    cluster.service_snapshots();
    // Compaction every few entries, so that snapshots are taken, sent and restored often.
    let mut faults = cluster.fork_rng(2);
    let every = faults.range(4, 20);
    cluster.note("snapshot_every", every.to_string());
    for id in cluster.ids() {
        cluster.with_node(id, |node| node.config.snapshot_every = every);
    }
    // Six clients call every kind of operation; three only read, as monitors do, and stay with
    // whichever server answers them.
    let mut kv = Clients::new(&cluster, 9, ClientLink::unreliable());
    let mut workload = cluster.fork_rng(3);
    for client in 1..=6 {
        for n in 0..25 {
            kv.submit(client, random_op(&mut workload, 3, client, n));
        }
    }
    for client in 7..=9 {
        for _ in 0..40 {
            let key = format!("k{}", workload.range(0, 3));
            kv.submit(client, KvOp::Get { key });
        }
    }
    for _ in 0..30 {
        fault(&mut cluster, &mut faults, every);
        // Long enough for a new leader to be elected and serve while an old one is cut off.
        let ticks = faults.range(10, 80);
        kv.run_for(&mut cluster, ticks);
    }
    cluster.heal();
    for id in cluster.ids() {
        if !cluster.is_up(id) {
            restart(&mut cluster, id, every);
        }
    }
    let done = kv.run_until_idle(&mut cluster, 10_000);
    cluster.ensure(done, || {
        format!(
            "liveness: with the network healed and every server up, the clients' operations did \
             not all complete within 10,000 ticks ({} of {} returned; {:?})",
            kv.history().completed(),
            kv.history().records().len(),
            kv.counts()
        )
    });
    cluster.check_logs();
    check_stores_agree(&mut cluster);
    kv.check_linearizable(&cluster);
    (cluster, kv)
}

/// Once every server applied the same entries, every store holds the same map and the same
/// sessions (§5.4.3: every state machine goes through the same states, snapshots included).
fn check_stores_agree(cluster: &mut Cluster<KvNode>) {
    let agreed = cluster.run_until(500, |c| {
        let applied: Vec<u64> = c.ids().iter().map(|&id| c.node(id).state().last_applied).collect();
        applied.iter().all(|&index| index == applied[0])
    });
    cluster
        .ensure(agreed, || "the servers did not all apply the same index within 500 ticks".into());
    let first = cluster.node(1).store.clone();
    for id in cluster.ids() {
        let store = &cluster.node(id).store;
        cluster.ensure(*store == first, || {
            let index = cluster.node(id).state().last_applied;
            format!(
                "State Machine Safety (§5.4.3) violated: n1 and n{id} applied through index \
                 {index} but hold different stores (a snapshot must hold the map and the \
                 sessions, §6.3, §7):\n  n1:  {first:?}\n  n{id}: {store:?}"
            )
        });
    }
}

/// Restarts server `id` from its disk, compacting every `every` entries as before.
fn restart(cluster: &mut Cluster<KvNode>, id: NodeId, every: u64) {
    cluster.restart(id);
    cluster.with_node(id, |node| node.config.snapshot_every = every);
}

/// One random fault: a crash (never more than two servers down), a restart, a partition, the
/// leader cut off alone, or a heal.
fn fault(cluster: &mut Cluster<KvNode>, rng: &mut Rng, every: u64) {
    let ids = cluster.ids();
    let id = ids[rng.range(0, ids.len() as u64) as usize];
    let down = ids.iter().filter(|&&id| !cluster.is_up(id)).count();
    match rng.range(0, 5) {
        0 if cluster.is_up(id) && down < 2 => cluster.crash(id),
        0 | 1 => {
            let crashed: Vec<NodeId> =
                ids.iter().copied().filter(|&id| !cluster.is_up(id)).collect();
            if let Some(&id) = crashed.first() {
                restart(cluster, id, every);
            }
        }
        2 => {
            let (mut left, mut right) = (Vec::new(), Vec::new());
            for id in ids {
                if rng.chance(0.5) { left.push(id) } else { right.push(id) }
            }
            cluster.partition(&[&left, &right]);
        }
        // The leader alone on one side (the lab's disconnect(leader)): it leads on, stale,
        // while the others elect a new one.
        3 => {
            if let Some((leader, _)) = cluster.leaders().into_iter().max_by_key(|&(_, term)| term) {
                let others: Vec<NodeId> = ids.into_iter().filter(|&id| id != leader).collect();
                cluster.partition(&[&[leader], &others]);
            }
        }
        _ => cluster.heal(),
    }
}

/// Crashes, partitions, a lossy network and lost replies never make the service answer what a
/// single map would not, and it completes every operation once the faults stop (§6).
#[test]
fn random_faults_keep_the_service_linearizable() {
    for seed in seeds() {
        let (_, kv) = run(seed);
        assert!(kv.history().completed() > 0, "seed {seed}: nothing completed");
    }
}
