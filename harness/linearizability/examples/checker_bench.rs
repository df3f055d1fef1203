//! The checker's bench: histories of 1,000 and 10,000 operations from 10 and 50 clients,
//! linearizable and not, for the key-value model (10 keys, checked per key) and for one
//! register (no partitions: the hard case). Prints operations per second, steps, and the
//! largest cache.
//!
//! ```sh
//! cargo run --release -p linearizability --example checker_bench
//! ```
//!
//! The histories come from `tests/support` (a sequential run with random overlapping
//! intervals, seeded); "not" is the same history with one read in the middle given a value
//! never written. Times are wall-clock and vary by machine; steps do not.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Instant;

use linearizability::kv::{KvModel, Op, Reply};
use linearizability::register::{Op as RegOp, RegisterModel, Reply as RegReply};
use linearizability::{Budget, Model, Operation, Outcome, Verdict, check_with_stats};
use support::{Shape, kv_history, register_history};

fn main() {
    println!(
        "{:<9} {:>6} {:>7} {:>5} {:>6} | {:<16} {:>10} {:>11} {:>9} {:>12} {:>8}",
        "model",
        "ops",
        "clients",
        "keys",
        "linear",
        "verdict",
        "steps",
        "ops/s",
        "ms",
        "cache",
        "bitsets"
    );
    for &ops in &[1_000, 10_000] {
        for &clients in &[10, 50] {
            let shape = Shape { ops, clients, keys: 10, max_duration: 10, unknown_percent: 5 };
            let history = kv_history(1, shape);
            run("kv", &KvModel, &history, shape, true);
            let bad = corrupt(history, |op| match op {
                Operation {
                    input: Op::Get { .. },
                    outcome: Outcome::Returned { output, .. },
                    ..
                } => {
                    *output = Reply::Value(Some("never written".into()));
                    true
                }
                _ => false,
            });
            run("kv", &KvModel, &bad, shape, false);
        }
    }
    for &ops in &[1_000, 10_000] {
        for &clients in &[10, 50] {
            let shape = Shape { ops, clients, keys: 1, max_duration: 10, unknown_percent: 5 };
            let history = register_history(1, shape);
            run("register", &RegisterModel, &history, shape, true);
            let bad = corrupt(history, |op| match op {
                Operation {
                    input: RegOp::Read, outcome: Outcome::Returned { output, .. }, ..
                } => {
                    *output = RegReply::Value(Some(42));
                    true
                }
                _ => false,
            });
            run("register", &RegisterModel, &bad, shape, false);
        }
    }
}

/// The history with the first operation from the middle on that `change` accepts changed.
fn corrupt<I, O>(
    mut history: Vec<Operation<I, O>>,
    mut change: impl FnMut(&mut Operation<I, O>) -> bool,
) -> Vec<Operation<I, O>> {
    let middle = history.len() / 2;
    let found = history[middle..].iter_mut().any(&mut change);
    assert!(found, "nothing to corrupt");
    history
}

fn run<M: Model>(
    name: &str,
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    shape: Shape,
    linearizable: bool,
) {
    let start = Instant::now();
    let (verdict, stats) = check_with_stats(model, history, Budget::default());
    let elapsed = start.elapsed().as_secs_f64();
    let verdict = match verdict {
        Verdict::Linearizable => "linearizable".to_string(),
        Verdict::NotLinearizable(_) => "not".to_string(),
        Verdict::Unknown { .. } => "UNKNOWN (budget)".to_string(),
    };
    println!(
        "{:<9} {:>6} {:>7} {:>5} {:>6} | {:<16} {:>10} {:>11.0} {:>9.1} {:>12} {:>7}K",
        name,
        history.len(),
        shape.clients,
        shape.keys,
        if linearizable { "yes" } else { "no" },
        verdict,
        stats.steps,
        history.len() as f64 / elapsed,
        elapsed * 1000.0,
        stats.peak_cache_entries,
        stats.peak_cache_bitset_bytes / 1024,
    );
}
