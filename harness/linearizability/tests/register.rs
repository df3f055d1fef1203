//! The register model (read, write, compare-and-set) and the checker's real-time rule on it.

use linearizability::register::{Op, RegisterModel, Reply};
use linearizability::{Budget, Model, Operation, Outcome, Verdict, check};

fn op(client: u64, call: u64, ret: u64, input: Op, output: Reply) -> Operation<Op, Reply> {
    Operation { client, call, input, outcome: Outcome::Returned { at: ret, output } }
}

/// The model's answers, one by one.
#[test]
fn register_steps() {
    let m = RegisterModel;
    assert_eq!(m.step(&None, &Op::Read), (None, Reply::Value(None)));
    assert_eq!(m.step(&None, &Op::Write(3)), (Some(3), Reply::Ok));
    assert_eq!(
        m.step(&Some(3), &Op::Cas { expected: Some(3), new: 4 }),
        (Some(4), Reply::Cas(true))
    );
    assert_eq!(
        m.step(&Some(3), &Op::Cas { expected: Some(2), new: 4 }),
        (Some(3), Reply::Cas(false))
    );
    assert_eq!(m.step(&None, &Op::Cas { expected: None, new: 1 }), (Some(1), Reply::Cas(true)));
    assert_eq!(m.step(&Some(1), &Op::Cas { expected: None, new: 2 }), (Some(1), Reply::Cas(false)));
}

/// Two reads inside one long write may see new then old? No: once a read saw the new value,
/// a read that starts after it returned cannot see the old one.
#[test]
fn reads_inside_a_write_must_not_go_back() {
    let ok = [
        op(0, 0, 100, Op::Write(1), Reply::Ok),
        op(1, 25, 75, Op::Read, Reply::Value(Some(1))),
        op(2, 30, 60, Op::Read, Reply::Value(None)),
    ];
    assert_eq!(check(&RegisterModel, &ok, Budget::default()), Verdict::Linearizable);
    let bad = [
        op(0, 0, 100, Op::Write(1), Reply::Ok),
        op(1, 10, 30, Op::Read, Reply::Value(Some(1))),
        op(2, 40, 90, Op::Read, Reply::Value(None)),
    ];
    assert!(!check(&RegisterModel, &bad, Budget::default()).is_linearizable());
}

/// Equal times overlap: a read called at the very tick a write returned may still miss it
/// (the order within a tick is unknown), but one called a tick later may not.
#[test]
fn equal_times_overlap() {
    let same_tick =
        [op(0, 0, 5, Op::Write(1), Reply::Ok), op(1, 5, 6, Op::Read, Reply::Value(None))];
    assert_eq!(check(&RegisterModel, &same_tick, Budget::default()), Verdict::Linearizable);
    let next_tick =
        [op(0, 0, 5, Op::Write(1), Reply::Ok), op(1, 6, 6, Op::Read, Reply::Value(None))];
    assert!(!check(&RegisterModel, &next_tick, Budget::default()).is_linearizable());
}

/// A successful compare-and-set needs the value it expected at its instant.
#[test]
fn cas_success_needs_the_expected_value() {
    let history = [
        op(0, 0, 1, Op::Write(1), Reply::Ok),
        op(0, 2, 3, Op::Write(2), Reply::Ok),
        op(1, 4, 5, Op::Cas { expected: Some(1), new: 3 }, Reply::Cas(true)),
    ];
    let verdict = check(&RegisterModel, &history, Budget::default());
    let Verdict::NotLinearizable(evidence) = &verdict else { panic!("{verdict}") };
    assert_eq!(evidence.partition, "partition 1 of 1");
    assert_eq!(evidence.state_after_prefix, "Some(2)");
    assert!(!evidence.cannot_place[0].fits);
}

/// A return before its call is not a history: the checker says so rather than guess.
#[test]
#[should_panic(expected = "returned at 3, before its call at 5")]
fn return_before_call_is_refused() {
    check(&RegisterModel, &[op(7, 5, 3, Op::Read, Reply::Value(None))], Budget::default());
}

/// When several orders reach the same length, the evidence shows the first one the search
/// found (operations in call order), so the message is the same on every run and reads in
/// time order: here write 1, write 2, then the read of 3 that nothing explains.
#[test]
fn evidence_shows_the_first_longest_prefix() {
    let history = [
        op(0, 0, 10, Op::Write(1), Reply::Ok),
        op(1, 0, 10, Op::Write(2), Reply::Ok),
        op(2, 20, 21, Op::Read, Reply::Value(Some(3))),
    ];
    let verdict = check(&RegisterModel, &history, Budget::default());
    let Verdict::NotLinearizable(evidence) = &verdict else { panic!("{verdict}") };
    let order: Vec<usize> = evidence.prefix.iter().map(|op| op.index).collect();
    assert_eq!(order, [0, 1], "{evidence}");
    assert_eq!(evidence.state_after_prefix, "Some(2)", "{evidence}");
}
