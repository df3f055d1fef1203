//! The step budget: deterministic (same steps, same verdict, every run), never a pass when it
//! runs out, and its message says what a larger one would do.

mod support;

use linearizability::register::{Op, RegisterModel, Reply};
use linearizability::{Budget, Operation, Outcome, Verdict, check, check_with_stats};
use support::{SearchOnly, Shape, register_history};

fn busy_history() -> Vec<Operation<Op, Reply>> {
    let shape = Shape { ops: 400, clients: 10, keys: 1, max_duration: 10, unknown_percent: 10 };
    register_history(7, shape)
}

/// The same history and budget give the same steps and verdict every time.
#[test]
fn steps_are_the_same_every_run() {
    let history = busy_history();
    let first = check_with_stats(&RegisterModel, &history, Budget::default());
    for _ in 0..3 {
        assert_eq!(check_with_stats(&RegisterModel, &history, Budget::default()), first);
    }
    assert_eq!(first.0, Verdict::Linearizable, "{}", first.0);
    assert!(first.1.steps > 400, "{:?}", first.1);
}

/// Exactly the steps it needs decide the history; one fewer gives Unknown, with the steps
/// taken equal to the budget, on every run.
#[test]
fn one_step_short_is_unknown() {
    let history = busy_history();
    let needed = check_with_stats(&RegisterModel, &history, Budget::default()).1.steps;
    assert_eq!(check(&RegisterModel, &history, Budget(needed)), Verdict::Linearizable);
    let short = check(&RegisterModel, &history, Budget(needed - 1));
    let expected = Verdict::Unknown {
        steps: needed - 1,
        budget: needed - 1,
        partition: "partition 1 of 1".into(),
        operations: history.len(),
    };
    assert_eq!(short, expected);
    assert_eq!(check(&RegisterModel, &history, Budget(needed - 1)), expected);
}

/// A non-linearizable history that runs out of budget is Unknown too, never a verdict either way
/// (the search alone: the read of 42 is refuted before any search otherwise,
/// `tests/never_fits.rs`).
#[test]
fn exhausted_budget_on_a_bad_history_is_unknown() {
    let shape = Shape { ops: 120, clients: 5, keys: 1, max_duration: 10, unknown_percent: 10 };
    let mut history = register_history(7, shape);
    history.push(Operation {
        client: 99,
        call: 100_000,
        input: Op::Read,
        outcome: Outcome::Returned { at: 100_001, output: Reply::Value(Some(42)) },
    });
    let model = SearchOnly(RegisterModel);
    let (verdict, stats) = check_with_stats(&model, &history, Budget::default());
    assert!(matches!(verdict, Verdict::NotLinearizable(_)), "{verdict}");
    let short = check(&model, &history, Budget(stats.steps - 1));
    assert!(matches!(short, Verdict::Unknown { .. }), "{short}");
}

/// Unknown is not a pass: `assert_linearizable` fails on it, saying what to do.
#[test]
#[should_panic(expected = "This is not a pass")]
fn unknown_fails_assert_linearizable() {
    check(&RegisterModel, &busy_history(), Budget(10)).assert_linearizable();
}

/// The message names the budget, the partition, and a larger budget to try.
#[test]
fn unknown_says_what_a_larger_budget_would_do() {
    let text = check(&RegisterModel, &busy_history(), Budget(10)).to_string();
    for part in
        ["budget of 10 steps", "partition 1 of 1", "400 operations", "Budget(100)", "not a pass"]
    {
        assert!(text.contains(part), "missing {part:?} in: {text}");
    }
}

/// The budget counts every partition's steps together.
#[test]
fn budget_is_shared_by_partitions() {
    use linearizability::kv::{KvModel, Op as KvOp, Reply as KvReply};
    let op = |key: &str, call| Operation {
        client: 1,
        call,
        input: KvOp::Get { key: key.into() },
        outcome: Outcome::Returned { at: call + 1, output: KvReply::Value(None) },
    };
    let history = [op("a", 0), op("b", 0)];
    let (verdict, stats) = check_with_stats(&KvModel, &history, Budget(2));
    assert_eq!((verdict, stats.steps, stats.partitions), (Verdict::Linearizable, 2, 2));
    match check(&KvModel, &history, Budget(1)) {
        Verdict::Unknown { steps: 1, partition, .. } => assert_eq!(partition, "key \"b\""),
        other => panic!("expected Unknown in key b, got {other}"),
    }
}

/// The default budget is documented as ten million steps.
#[test]
fn default_budget_is_ten_million_steps() {
    assert_eq!(Budget::default(), Budget(10_000_000));
}

/// Lowe's cache collapses the orders of concurrent operations that reach the same state:
/// eight overlapping writes of one value, then a read of a value never written, is rejected
/// after a few hundred (set, state) pairs, not the 8! = 40,320 orders a search without the
/// cache walks through (the search alone: no refutation before it).
#[test]
fn memoization_collapses_orders_of_concurrent_writes() {
    let mut history: Vec<Operation<Op, Reply>> = (0..8)
        .map(|client| Operation {
            client,
            call: 0,
            input: Op::Write(1),
            outcome: Outcome::Returned { at: 10, output: Reply::Ok },
        })
        .collect();
    history.push(Operation {
        client: 8,
        call: 20,
        input: Op::Read,
        outcome: Outcome::Returned { at: 21, output: Reply::Value(Some(2)) },
    });
    let (verdict, stats) =
        check_with_stats(&SearchOnly(RegisterModel), &history, Budget::default());
    assert!(matches!(verdict, Verdict::NotLinearizable(_)), "{verdict}");
    assert!(stats.steps < 3_000, "{} steps: is the cache consulted?", stats.steps);
    assert_eq!(stats.peak_cache_entries, 256, "one entry per subset of the 8 writes");
    assert_eq!(
        stats.peak_cache_bitset_bytes,
        255 * 8,
        "one 64-bit word per entry (9 known ops), none for the empty set"
    );
}

/// Reads that fit are placed as soon as they may, with no other order tried
/// ([`linearizability::Model::is_read_only`]): twelve overlapping reads of one value, then a
/// read of a value never written, is rejected after one configuration per read, not one per
/// subset of the reads (4,096) as when each read's placement is a choice (the search alone).
#[test]
fn reads_that_fit_do_not_multiply_the_orders_searched() {
    let mut history: Vec<Operation<Op, Reply>> = (0..12)
        .map(|client| Operation {
            client,
            call: 0,
            input: Op::Read,
            outcome: Outcome::Returned { at: 10, output: Reply::Value(None) },
        })
        .collect();
    history.push(Operation {
        client: 12,
        call: 20,
        input: Op::Read,
        outcome: Outcome::Returned { at: 21, output: Reply::Value(Some(2)) },
    });
    let (verdict, stats) =
        check_with_stats(&SearchOnly(RegisterModel), &history, Budget::default());
    assert!(matches!(verdict, Verdict::NotLinearizable(_)), "{verdict}");
    assert_eq!(stats.peak_cache_entries, 13, "the empty set, then one entry per read placed");
    assert!(stats.steps < 40, "{} steps: is each read that fits placed at once?", stats.steps);
}

/// The cache keeps of each set of placed operations only the words past those that are full
/// (operations are numbered in call order and placed roughly in it), so its memory per entry
/// does not grow with the history: 3,000 operations would be 376 bytes a set in full.
#[test]
fn cache_memory_per_entry_does_not_grow_with_the_history() {
    let shape = Shape { ops: 3_000, clients: 5, keys: 1, max_duration: 10, unknown_percent: 0 };
    let history = register_history(3, shape);
    let (verdict, stats) = check_with_stats(&RegisterModel, &history, Budget::default());
    assert_eq!(verdict, Verdict::Linearizable, "{verdict}");
    let per_entry = stats.peak_cache_bitset_bytes / stats.peak_cache_entries;
    assert!(per_entry <= 16, "{per_entry} bytes of bitset per cache entry: {stats:?}");
}
