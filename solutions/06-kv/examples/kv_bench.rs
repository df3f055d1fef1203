//! How fast is the stage 6 reference, and what does an operation cost in messages?
//! `cargo run --release -p kv-solution --example kv_bench [-- <ops> <seeds>]` (defaults: 20,000
//! operations per fixed workload, 200 seeds of the randomized run).
//!
//! Fixed workloads, no fault, a reliable network and client link, 5 servers with disks and
//! every check on, 10 clients calling one operation after another on 10 keys (the first seed):
//! a mix of every kind (`random_op`: 40 % reads), puts only, gets only. Then the randomized
//! run of `tests/random.rs` ([`chaos::kv`]) over seeds `1..=<seeds>`: faults, retries,
//! elections and repairs included. For each it prints the operations completed, the simulated
//! ticks they took (operations per tick: the service's speed on the simulated clock, the same
//! on every machine), the wall and CPU seconds (operations per second: the simulator's speed on
//! this machine, which varies with its load; CPU time from `/proc/self/stat` where there is
//! one), and the messages between servers per operation, by kind. Wall time is read here only;
//! the simulation never reads it.

use std::time::Instant;

use harness::service::chaos;
use harness::service::clients::{ClientLink, Clients};
use harness::service::kv::{KvOp, KvOutput, random_op};
use harness::{Cluster, Config, MessageStats, NetworkConfig, Rng};
use kv::KvNode;

/// What one workload did.
struct Measured {
    ops: u64,
    reads: u64,
    ticks: u64,
    wall: f64,
    cpu: Option<f64>,
    stats: MessageStats,
}

fn main() {
    let mut args = std::env::args().skip(1).map(|arg| arg.parse::<u64>().ok());
    let ops = args.next().flatten().unwrap_or(20_000);
    let seeds = args.next().flatten().unwrap_or(200);
    println!(
        "{:<34} {:>7} {:>6} {:>7} {:>8} {:>8} {:>9} {:>8}  messages per op, by kind",
        "workload", "ops", "reads", "ticks", "ops/tick", "ops/s", "ops/cpu-s", "msgs/op"
    );
    let mixed = |rng: &mut Rng, client, n| random_op(rng, 10, client, n);
    report("mixed (5 servers, 10 clients)", fixed(ops, mixed));
    let writes = |rng: &mut Rng, client, n| {
        let key = format!("k{}", rng.range(0, 10));
        KvOp::Put { key, value: format!("{client}.{n}") }
    };
    report("puts only", fixed(ops, writes));
    let reads = |rng: &mut Rng, _, _| KvOp::Get { key: format!("k{}", rng.range(0, 10)) };
    report("gets only", fixed(ops, reads));
    report(&format!("randomized runs (seeds 1..={seeds})"), randomized(seeds));
}

/// 10 clients share `ops` operations drawn by `op(rng, client, n)`, with no fault.
fn fixed(ops: u64, op: impl Fn(&mut Rng, u64, u64) -> KvOp) -> Measured {
    let (wall, cpu) = (Instant::now(), cpu_seconds());
    let network = NetworkConfig::reliable();
    let mut cluster = Cluster::<KvNode>::with_config(5, 1, Config::default(), network).with_disks();
    cluster.service_snapshots();
    let mut kv = Clients::new(&cluster, 10, ClientLink::reliable());
    let mut workload = Rng::new(1);
    for n in 0..ops {
        let client = n % 10 + 1;
        kv.submit(client, op(&mut workload, client, n));
    }
    assert!(kv.run_until_idle(&mut cluster, 100 * ops), "the workload did not complete");
    kv.check_linearizable(&cluster);
    measured(&cluster, &kv, wall, cpu)
}

/// The randomized runs of seeds `1..=seeds`, added up.
fn randomized(seeds: u64) -> Measured {
    let (wall, cpu) = (Instant::now(), cpu_seconds());
    let mut total: Option<Measured> = None;
    for seed in 1..=seeds {
        let compact = |node: &mut KvNode, every| node.config.snapshot_every = every;
        let (cluster, kv) = chaos::kv(seed, compact, |node: &KvNode| node.store.clone());
        let run = measured(&cluster, &kv, wall, cpu);
        total = Some(match total {
            None => run,
            Some(sum) => Measured {
                ops: sum.ops + run.ops,
                reads: sum.reads + run.reads,
                ticks: sum.ticks + run.ticks,
                wall: run.wall,
                cpu: run.cpu,
                stats: merged(sum.stats, &run.stats),
            },
        });
    }
    total.expect("at least one seed")
}

/// The message counts of `a` and `b` added up, kind by kind.
fn merged(mut a: MessageStats, b: &MessageStats) -> MessageStats {
    for (kind, stats) in &b.kinds {
        a.kind_mut(kind).add(stats);
    }
    a
}

fn measured(
    cluster: &Cluster<KvNode>,
    kv: &Clients<KvOp, KvOutput>,
    wall: Instant,
    cpu: Option<f64>,
) -> Measured {
    let records = kv.history().records();
    Measured {
        ops: kv.history().completed() as u64,
        reads: records.iter().filter(|r| r.op.is_read() && r.returned.is_some()).count() as u64,
        ticks: cluster.now(),
        wall: wall.elapsed().as_secs_f64(),
        cpu: cpu.zip(cpu_seconds()).map(|(start, now)| now - start),
        stats: cluster.stats().clone(),
    }
}

fn report(name: &str, m: Measured) {
    let per_op = |count: u64| count as f64 / m.ops as f64;
    let kinds: Vec<String> = m
        .stats
        .kinds
        .iter()
        .map(|(kind, stats)| format!("{kind} {:.2}", per_op(stats.sent)))
        .collect();
    let cpu = m.cpu.map_or("-".to_string(), |cpu| format!("{:.0}", m.ops as f64 / cpu));
    println!(
        "{name:<34} {:>7} {:>6} {:>7} {:>8.2} {:>8.0} {cpu:>9} {:>8.1}  {}",
        m.ops,
        m.reads,
        m.ticks,
        m.ops as f64 / m.ticks as f64,
        m.ops as f64 / m.wall,
        per_op(m.stats.total().sent),
        kinds.join(", ")
    );
}

/// This process's user and system CPU seconds so far, from `/proc/self/stat` (fields 14 and
/// 15, in clock ticks of 1/100 s on Linux); `None` elsewhere.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}
