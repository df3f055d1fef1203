//! Histories from a real sequential run with random overlapping intervals: accepted; then
//! corrupted one operation at a time: rejected. Small ones are compared with a brute-force
//! oracle both ways.

mod support;

use linearizability::kv::{KvModel, Op, Reply};
use linearizability::register::RegisterModel;
use linearizability::{Budget, Evidence, Model, Operation, Outcome, Verdict, check};
use support::{Rng, Shape, kv_history, oracle, register_history};

const KV: Shape = Shape { ops: 300, clients: 8, keys: 3, max_duration: 8, unknown_percent: 0 };

/// Every history generated from a sequential run is linearizable, with or without clients
/// that give up.
#[test]
fn generated_kv_histories_are_linearizable() {
    for seed in 0..40 {
        for unknown_percent in [0, 15] {
            let shape = Shape { unknown_percent, ..KV };
            let history = kv_history(seed, shape);
            let verdict = check(&KvModel, &history, Budget::default());
            assert_eq!(verdict, Verdict::Linearizable, "seed {seed}, {shape:?}: {verdict}");
        }
    }
}

/// The same for one register with repeated values and 6 concurrent clients (no partitions:
/// the whole history is one search).
#[test]
fn generated_register_histories_are_linearizable() {
    for seed in 0..40 {
        let shape = Shape { ops: 200, clients: 6, keys: 1, max_duration: 6, unknown_percent: 10 };
        let history = register_history(seed, shape);
        let verdict = check(&RegisterModel, &history, Budget::default());
        assert_eq!(verdict, Verdict::Linearizable, "seed {seed}: {verdict}");
    }
}

/// The unique token a write leaves in the store (puts, appends and compare-and-sets that set).
fn written_token(op: &Operation<Op, Reply>) -> Option<&str> {
    match (&op.input, op.output()) {
        (Op::Put { value, .. } | Op::Append { value, .. }, Some(Reply::Ok)) => Some(value),
        (Op::Cas { new, .. }, Some(Reply::Cas(true))) => Some(new),
        _ => None,
    }
}

/// Whether some completed get saw `token` (tokens start with `c` and end with `;`, and `c`
/// appears nowhere else, so a substring match is an exact one).
fn observed(history: &[Operation<Op, Reply>], token: &str) -> bool {
    history.iter().any(|op| matches!(op.output(), Some(Reply::Value(Some(v))) if v.contains(token)))
}

fn expect_rejected_at_key(history: &[Operation<Op, Reply>], index: usize, what: &str) {
    match check(&KvModel, history, Budget::default()) {
        Verdict::NotLinearizable(evidence) => {
            let key = history[index].input.key();
            assert_eq!(evidence.partition, format!("key {key:?}"), "{what}: {evidence}");
            assert_prefix_is_legal(history, &evidence, what);
        }
        other => panic!("{what}: expected NotLinearizable, got {other}"),
    }
}

/// The evidence's prefix is itself a linearization of its operations: same key, real-time
/// order kept, and every output the model's; and something is offered as unplaceable.
fn assert_prefix_is_legal(history: &[Operation<Op, Reply>], evidence: &Evidence, what: &str) {
    let mut state = KvModel.init();
    for (position, report) in evidence.prefix.iter().enumerate() {
        let op = &history[report.index];
        assert_eq!(format!("key {:?}", op.input.key()), evidence.partition, "{what}: {evidence}");
        for earlier in &evidence.prefix[..position] {
            let earlier = &history[earlier.index];
            assert!(
                op.returned_at().is_none_or(|at| at >= earlier.call),
                "{what}: #{} returned before an earlier one was called\n{evidence}",
                report.index
            );
        }
        let (next, output) = KvModel.step(&state, &op.input);
        assert!(
            op.output().is_none_or(|seen| *seen == output),
            "{what}: #{} does not fit\n{evidence}",
            report.index
        );
        state = next;
    }
    assert_eq!(evidence.state_after_prefix, format!("{state:?}"), "{what}");
    assert!(!evidence.cannot_place.is_empty(), "{what}: {evidence}");
}

/// Each get given a value never written, and each observed write given another value, is
/// caught, and the evidence names the corrupted operation's key.
#[test]
fn each_corrupted_operation_is_rejected() {
    let mut corrupted = 0;
    for seed in 0..3 {
        let history = kv_history(seed, KV);
        for index in 0..history.len() {
            let mut bad = history.clone();
            let op = &mut bad[index];
            let what = format!("seed {seed}, #{index} {:?}", op.input);
            match (&mut op.input, &mut op.outcome) {
                (Op::Get { .. }, Outcome::Returned { output, .. }) => {
                    *output = Reply::Value(Some("never written;".into()));
                }
                (input, _) => {
                    let Some(token) = written_token(&history[index]) else { continue };
                    if !observed(&history, token) {
                        continue; // nobody saw it: another value is as good
                    }
                    match input {
                        Op::Put { value, .. } | Op::Append { value, .. } => *value = "lost;".into(),
                        Op::Cas { new, .. } => *new = "lost;".into(),
                        _ => unreachable!(),
                    }
                }
            }
            expect_rejected_at_key(&bad, index, &what);
            corrupted += 1;
        }
    }
    assert!(corrupted > 400, "only {corrupted} corruptions tried: the generator changed?");
}

/// The ways to corrupt one operation of a small history.
fn corrupt(rng: &mut Rng, history: &mut Vec<Operation<Op, Reply>>) -> String {
    let index = rng.range(0, history.len() as u64) as usize;
    let written: Vec<Option<String>> = std::iter::once(None)
        .chain(history.iter().filter_map(written_token).map(|t| Some(t.to_string())))
        .collect();
    let op = &mut history[index];
    match (rng.range(0, 5), &mut op.outcome) {
        (0, Outcome::Returned { output: output @ Reply::Value(_), .. }) => {
            *output = Reply::Value(rng.pick(&written).clone());
            format!("#{index} reads another value")
        }
        (1, Outcome::Returned { output: Reply::Cas(done), .. }) => {
            *done = !*done;
            format!("#{index} cas answer flipped")
        }
        (2, _) => {
            let shift = rng.range(0, 13) as i64 - 6;
            let moved = |t: u64| (t as i64 + shift).max(0) as u64;
            let call = moved(op.call);
            if let Outcome::Returned { at, .. } = &mut op.outcome {
                *at = moved(*at).max(call);
            }
            op.call = call;
            format!("#{index} moved by {shift}")
        }
        (3, _) => {
            history.remove(index);
            format!("#{index} removed")
        }
        (_, outcome) => {
            *outcome = Outcome::Unknown;
            format!("#{index} outcome made unknown")
        }
    }
}

/// On small histories the checker agrees with a brute-force search over every order, both
/// ways, for each kind of corruption (and turning an outcome into unknown never breaks one).
#[test]
fn small_histories_agree_with_brute_force() {
    let shape = Shape { ops: 7, clients: 3, keys: 2, max_duration: 3, unknown_percent: 15 };
    let (mut accepted, mut rejected) = (0, 0);
    for seed in 0..600 {
        let mut history = kv_history(seed, shape);
        assert!(oracle(&KvModel, &history), "seed {seed}: generator made a bad history");
        let mut rng = Rng::new(seed ^ 0xC0FFEE);
        let what = corrupt(&mut rng, &mut history);
        let expected = oracle(&KvModel, &history);
        let verdict = check(&KvModel, &history, Budget::default());
        assert!(!matches!(verdict, Verdict::Unknown { .. }), "seed {seed}: {verdict}");
        assert_eq!(
            verdict.is_linearizable(),
            expected,
            "seed {seed}, {what}: brute force says {expected}, the checker says {verdict}\n{history:#?}"
        );
        if expected { accepted += 1 } else { rejected += 1 }
    }
    assert!(accepted > 100 && rejected > 50, "{accepted} accepted, {rejected} rejected");
}

/// Without partitions (one search over all keys) the verdict is the same: P-compositionality
/// (Horn & Kroening) is what lets the checker split, so splitting must never change an answer.
#[test]
fn partitioning_by_key_never_changes_the_verdict() {
    struct Unsplit;
    impl Model for Unsplit {
        type State = <KvModel as Model>::State;
        type Input = Op;
        type Output = Reply;
        fn init(&self) -> Self::State {
            KvModel.init()
        }
        fn step(&self, state: &Self::State, input: &Op) -> (Self::State, Reply) {
            KvModel.step(state, input)
        }
    }
    let shape = Shape { ops: 8, clients: 3, keys: 3, max_duration: 6, unknown_percent: 15 };
    for seed in 0..300 {
        let mut history = kv_history(seed, shape);
        corrupt(&mut Rng::new(seed), &mut history);
        let split = check(&KvModel, &history, Budget::default());
        let whole = check(&Unsplit, &history, Budget::default());
        assert_eq!(
            split.is_linearizable(),
            whole.is_linearizable(),
            "seed {seed}: {split} / {whole}"
        );
        assert_eq!(split.is_linearizable(), oracle(&KvModel, &history), "seed {seed}: {split}");
    }
}
