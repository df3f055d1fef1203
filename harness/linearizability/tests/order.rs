//! The order `linearize` hands back is a linearization: every operation that returned is in it
//! once, replaying it on the model gives the outputs the clients saw, and it respects real
//! time (an operation that returned before another was called comes first).

mod support;

use linearizability::kv::KvModel;
use linearizability::{Budget, Model, Operation, Verdict, linearize};
use support::{Shape, kv_history};

/// Checks that `orders` (one per partition) linearize `history`; says what is wrong otherwise.
fn assert_linearization<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    orders: &[Vec<usize>],
    what: &str,
) {
    let mut seen = vec![false; history.len()];
    for order in orders {
        let mut state = model.init();
        for (place, &index) in order.iter().enumerate() {
            assert!(!seen[index], "{what}: operation #{index} placed twice");
            seen[index] = true;
            let op = &history[index];
            let (after, output) = model.step(&state, &op.input);
            if let Some(returned) = op.output() {
                assert_eq!(
                    *returned, output,
                    "{what}: #{index}, placed {place}, answers otherwise"
                );
            }
            state = after;
            for &later in &order[place + 1..] {
                let returned = history[later].returned_at();
                assert!(
                    returned.is_none_or(|at| at >= op.call),
                    "{what}: #{later} returned at {returned:?}, before #{index} was called at {}, \
                     yet comes after it",
                    op.call
                );
            }
        }
    }
    for (index, op) in history.iter().enumerate() {
        assert!(
            seen[index] || op.returned_at().is_none(),
            "{what}: #{index} returned but is in no order"
        );
    }
}

/// Generated histories, with and without unknown outcomes: the order found is a linearization.
#[test]
fn the_order_found_is_a_linearization() {
    for seed in 0..40 {
        for unknown_percent in [0, 15] {
            let shape = Shape { ops: 300, clients: 8, keys: 3, max_duration: 8, unknown_percent };
            let history = kv_history(seed, shape);
            let orders = linearize(&KvModel, &history, Budget::default())
                .unwrap_or_else(|verdict| panic!("seed {seed}: {verdict}"));
            assert_eq!(orders.len(), 3, "seed {seed}: one order per key");
            assert_linearization(&KvModel, &history, &orders, &format!("seed {seed}"));
        }
    }
}

/// A history that is not linearizable gives the verdict `check` gives, as the error.
#[test]
fn a_history_that_is_not_linearizable_gives_its_verdict() {
    use linearizability::kv::{Op, Reply};
    use linearizability::{Outcome, check};
    let op = |call, at, input, output| Operation {
        client: 1,
        call,
        input,
        outcome: Outcome::Returned { at, output },
    };
    // A write, then a read after it that misses it: a stale read.
    let history = vec![
        op(0, 1, Op::Put { key: "x".into(), value: "1".into() }, Reply::Ok),
        op(2, 3, Op::Get { key: "x".into() }, Reply::Value(None)),
    ];
    let error = linearize(&KvModel, &history, Budget::default()).expect_err("a stale read");
    assert!(matches!(error, Verdict::NotLinearizable(_)), "{error}");
    assert_eq!(error, check(&KvModel, &history, Budget::default()));
}
