//! The checker's bench: histories of 1,000 and 10,000 operations from 10 and 50 clients,
//! linearizable and not, for the key-value model (10 keys, checked per key) and for one
//! register (no partitions: the hard case). Prints the verdict, steps, CPU time, operations
//! per second and the largest cache.
//!
//! ```sh
//! cargo run --release -p linearizability --example checker_bench
//! cargo run --release -p linearizability --example checker_bench -- --repeat 5 --only kv-10000
//! cargo run --release -p linearizability --example checker_bench -- --write target/checker-histories
//! ```
//!
//! - `--repeat N`: check each history N times and report the median CPU time.
//! - `--only TEXT`: only the histories whose name contains TEXT (e.g. `register-1000-50-no`).
//! - `--write DIR`: also write each history to `DIR/NAME.txt` (one operation a line, tab
//!   separated: client, call, return or `?`, operation, key, two arguments, output; `-` is an
//!   absent value, `s:x` the value `x`), the form `/tmp/porcupine-cmp` reads to time Porcupine
//!   on the same histories.
//!
//! The histories come from `tests/support` (a sequential run with random overlapping
//! intervals, seeded, 5 % unknown outcomes); "no" is the same history with one read from the
//! middle on given a value never written. Steps are exact and the same on every machine; CPU
//! time is this thread's (`/proc/thread-self/schedstat`, Linux), so the load of other
//! processes does not count, though a busy machine still slows caches.

#[path = "../tests/support/mod.rs"]
mod support;

use std::fmt::Write as _;

use linearizability::kv::{KvModel, Op, Reply};
use linearizability::register::{Op as RegOp, RegisterModel, Reply as RegReply};
use linearizability::{Budget, Model, Operation, Outcome, Verdict, check_with_stats};
use support::{Shape, kv_history, register_history};

/// The command line.
struct Options {
    repeat: usize,
    only: Option<String>,
    write: Option<String>,
}

fn options() -> Options {
    let mut options = Options { repeat: 1, only: None, write: None };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--repeat" => options.repeat = value().parse().expect("--repeat N"),
            "--only" => options.only = Some(value()),
            "--write" => options.write = Some(value()),
            other => panic!("unknown argument {other:?} (--repeat N, --only TEXT, --write DIR)"),
        }
    }
    options
}

fn main() {
    let options = options();
    if let Some(dir) = &options.write {
        std::fs::create_dir_all(dir).expect("create the --write directory");
    }
    println!(
        "{:<22} | {:<16} {:>10} {:>10} {:>11} {:>9} {:>10}",
        "history", "verdict", "steps", "cpu ms", "ops/s", "cache", "bitsets KB"
    );
    for &ops in &[1_000, 10_000] {
        for &clients in &[10, 50] {
            let shape = Shape { ops, clients, keys: 10, max_duration: 10, unknown_percent: 5 };
            let history = kv_history(1, shape);
            let bad = corrupt(history.clone(), |op| match op {
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
            for (linear, history) in [("yes", &history), ("no", &bad)] {
                let name = format!("kv-{ops}-{clients}-{linear}");
                run(&options, &name, &KvModel, history, kv_line);
            }
        }
    }
    for &ops in &[1_000, 10_000] {
        for &clients in &[10, 50] {
            let shape = Shape { ops, clients, keys: 1, max_duration: 10, unknown_percent: 5 };
            let history = register_history(1, shape);
            let bad = corrupt(history.clone(), |op| match op {
                Operation {
                    input: RegOp::Read, outcome: Outcome::Returned { output, .. }, ..
                } => {
                    *output = RegReply::Value(Some(42));
                    true
                }
                _ => false,
            });
            for (linear, history) in [("yes", &history), ("no", &bad)] {
                let name = format!("register-{ops}-{clients}-{linear}");
                run(&options, &name, &RegisterModel, history, register_line);
            }
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
    options: &Options,
    name: &str,
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    line: fn(&Operation<M::Input, M::Output>) -> String,
) {
    if options.only.as_ref().is_some_and(|only| !name.contains(only.as_str())) {
        return;
    }
    if let Some(dir) = &options.write {
        let text: String = history.iter().map(|op| line(op) + "\n").collect();
        std::fs::write(format!("{dir}/{name}.txt"), text).expect("write the history");
    }
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..options.repeat {
        // The CPU clock moves in scheduler ticks: a quick check is repeated until 20 ms have
        // gone by, and the time divided.
        let start = thread_cpu_ns();
        let mut runs = 0;
        while runs == 0 || thread_cpu_ns() - start < 20_000_000 {
            last = Some(check_with_stats(model, history, Budget::default()));
            runs += 1;
        }
        times.push((thread_cpu_ns() - start) / runs);
    }
    let (verdict, stats) = last.expect("--repeat is at least 1");
    times.sort_unstable();
    let cpu = times[times.len() / 2] as f64 / 1e9;
    let verdict = match verdict {
        Verdict::Linearizable => "linearizable".to_string(),
        Verdict::NotLinearizable(_) => "not".to_string(),
        Verdict::Unknown { .. } => "UNKNOWN (budget)".to_string(),
    };
    println!(
        "{:<22} | {:<16} {:>10} {:>10.1} {:>11.0} {:>9} {:>10}",
        name,
        verdict,
        stats.steps,
        cpu * 1000.0,
        history.len() as f64 / cpu.max(1e-9),
        stats.peak_cache_entries,
        stats.peak_cache_bitset_bytes / 1024,
    );
}

/// This thread's CPU time in nanoseconds (Linux: the first field of its schedstat).
fn thread_cpu_ns() -> u64 {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    text.split_whitespace().next().and_then(|field| field.parse().ok()).unwrap_or(0)
}

/// A value as the `--write` files hold it: `-` absent, `s:x` present.
fn value(value: Option<&str>) -> String {
    value.map_or("-".to_string(), |value| format!("s:{value}"))
}

/// The start of a `--write` line: client, call, return (`?` if unknown).
fn timing<I, O>(op: &Operation<I, O>) -> String {
    let ret = op.returned_at().map_or("?".to_string(), |at| at.to_string());
    format!("{}\t{}\t{ret}", op.client, op.call)
}

fn kv_line(op: &Operation<Op, Reply>) -> String {
    let mut line = timing(op);
    let _ = match &op.input {
        Op::Get { key } => write!(line, "\tget\t{key}\t\t"),
        Op::Put { key, value } => write!(line, "\tput\t{key}\t{value}\t"),
        Op::Append { key, value } => write!(line, "\tappend\t{key}\t{value}\t"),
        Op::Delete { key } => write!(line, "\tdelete\t{key}\t\t"),
        Op::Cas { key, expected, new } => {
            write!(line, "\tcas\t{key}\t{}\t{new}", self::value(expected.as_deref()))
        }
    };
    let output = match op.output() {
        None => "?".to_string(),
        Some(Reply::Value(found)) => self::value(found.as_deref()),
        Some(Reply::Ok) => "ok".to_string(),
        Some(Reply::Cas(done)) => done.to_string(),
    };
    line + "\t" + &output
}

fn register_line(op: &Operation<RegOp, RegReply>) -> String {
    let mut line = timing(op);
    let _ = match &op.input {
        RegOp::Read => write!(line, "\tread\tr\t\t"),
        RegOp::Write(new) => write!(line, "\twrite\tr\t{new}\t"),
        RegOp::Cas { expected, new } => {
            write!(line, "\tcas\tr\t{}\t{new}", value(expected.map(|v| v.to_string()).as_deref()))
        }
    };
    let output = match op.output() {
        None => "?".to_string(),
        Some(RegReply::Value(found)) => value(found.map(|v| v.to_string()).as_deref()),
        Some(RegReply::Ok) => "ok".to_string(),
        Some(RegReply::Cas(done)) => done.to_string(),
    };
    line + "\t" + &output
}
