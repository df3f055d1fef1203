//! Operations whose client gave up: they may take effect at any instant after their call, or
//! never; they are never required, and never placed before their call.

use linearizability::kv::{KvModel, Op, Reply};
use linearizability::{Budget, Operation, Outcome, Verdict, check};

type KvOp = Operation<Op, Reply>;

fn done(client: u64, call: u64, ret: u64, input: Op, output: Reply) -> KvOp {
    Operation { client, call, input, outcome: Outcome::Returned { at: ret, output } }
}

fn gave_up(client: u64, call: u64, input: Op) -> KvOp {
    Operation { client, call, input, outcome: Outcome::Unknown }
}

fn put(value: &str) -> Op {
    Op::Put { key: "x".into(), value: value.into() }
}

fn get() -> Op {
    Op::Get { key: "x".into() }
}

fn value(v: Option<&str>) -> Reply {
    Reply::Value(v.map(str::to_string))
}

fn verdict(history: &[KvOp]) -> Verdict {
    check(&KvModel, history, Budget::default())
}

/// A write whose client gave up, seen by a later read: it took effect.
#[test]
fn unknown_write_that_took_effect_is_accepted() {
    let history = [gave_up(1, 0, put("1")), done(2, 10, 11, get(), value(Some("1")))];
    assert_eq!(verdict(&history), Verdict::Linearizable);
}

/// A write whose client gave up, never seen: it never took effect.
#[test]
fn unknown_write_that_never_took_effect_is_accepted() {
    let history = [gave_up(1, 0, put("1")), done(2, 10, 11, get(), value(None))];
    assert_eq!(verdict(&history), Verdict::Linearizable);
}

/// It may take effect long after its client gave up: absent at 5, present at 20.
#[test]
fn unknown_write_may_take_effect_late() {
    let history = [
        gave_up(1, 0, put("1")),
        done(2, 5, 6, get(), value(None)),
        done(2, 20, 21, get(), value(Some("1"))),
    ];
    assert_eq!(verdict(&history), Verdict::Linearizable);
}

/// Taking effect once means it stays: seen, then unseen, with nothing else written, is not
/// explained by any instant.
#[test]
fn unknown_write_seen_then_unseen_is_rejected() {
    let history = [
        gave_up(1, 0, put("1")),
        done(2, 5, 6, get(), value(Some("1"))),
        done(3, 10, 11, get(), value(None)),
    ];
    let Verdict::NotLinearizable(evidence) = verdict(&history) else {
        panic!("expected NotLinearizable: {}", verdict(&history));
    };
    assert_eq!(evidence.cannot_place.last().map(|op| op.index), Some(2), "{evidence}");
    assert!(evidence.to_string().contains("[0..?]"), "{evidence}");
}

/// An unknown write cannot take effect before its call.
#[test]
fn unknown_write_cannot_take_effect_before_its_call() {
    let history = [done(2, 0, 2, get(), value(Some("1"))), gave_up(1, 5, put("1"))];
    assert!(!verdict(&history).is_linearizable());
}

/// An unknown read checks nothing (its output is not known), and is never required.
#[test]
fn unknown_reads_are_never_required() {
    let history = [
        done(1, 0, 1, put("1"), Reply::Ok),
        gave_up(2, 2, get()),
        gave_up(3, 2, Op::Cas { key: "x".into(), expected: Some("9".into()), new: "2".into() }),
        done(1, 3, 4, get(), value(Some("1"))),
    ];
    assert_eq!(verdict(&history), Verdict::Linearizable);
}

/// A history of only unknown outcomes is linearizable (nothing to place), even with no budget.
#[test]
fn only_unknown_outcomes_need_no_steps() {
    let history = [gave_up(1, 0, put("1")), gave_up(2, 0, get())];
    assert_eq!(check(&KvModel, &history, Budget(0)), Verdict::Linearizable);
    assert_eq!(check(&KvModel, &[], Budget(0)), Verdict::Linearizable);
}
