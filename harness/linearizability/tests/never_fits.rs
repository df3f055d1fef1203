//! The refutation before the search ([`Model::never_fits`]): an operation that fits in no state
//! the operations called before it returned could leave, in any order, is not linearizable at
//! once, with evidence naming it; and nothing else is refuted (each case both ways, and small
//! histories against the brute-force oracle).

mod support;

use linearizability::kv::{KvModel, Op as KvOp, Reply as KvReply};
use linearizability::register::{Op, RegisterModel, Reply};
use linearizability::{
    Budget, Evidence, Model, Operation, Outcome, Verdict, check, check_with_stats,
};
use support::{Rng, SearchOnly, Shape, kv_history, oracle, register_history};

type RegOp = Operation<Op, Reply>;

fn done(client: u64, call: u64, ret: u64, input: Op, output: Reply) -> RegOp {
    Operation { client, call, input, outcome: Outcome::Returned { at: ret, output } }
}

fn gave_up(client: u64, call: u64, input: Op) -> RegOp {
    Operation { client, call, input, outcome: Outcome::Unknown }
}

fn read(client: u64, call: u64, ret: u64, value: i64) -> RegOp {
    done(client, call, ret, Op::Read, Reply::Value(Some(value)))
}

/// What the register's check says of the whole history (one partition).
fn never_fits(history: &[RegOp]) -> Option<usize> {
    RegisterModel.never_fits(history, &(0..history.len()).collect::<Vec<_>>())
}

/// The evidence, failing unless the history is rejected.
fn evidence<M: Model>(model: &M, history: &[Operation<M::Input, M::Output>]) -> Evidence {
    match check(model, history, Budget::default()) {
        Verdict::NotLinearizable(evidence) => evidence,
        other => panic!("expected NotLinearizable, got {other}"),
    }
}

/// The evidence names operation `index` among those that cannot be placed, with a model answer
/// that is not the one it returned; and its prefix replays on the model with every output
/// seen, in an order that keeps real time.
fn assert_names<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    evidence: &Evidence,
    index: usize,
) {
    let named = evidence.cannot_place.iter().find(|op| op.index == index);
    assert!(named.is_some_and(|op| !op.fits), "#{index} not named as unfit:\n{evidence}");
    let mut state = model.init();
    for (position, report) in evidence.prefix.iter().enumerate() {
        let op = &history[report.index];
        let (after, output) = model.step(&state, &op.input);
        assert!(op.output().is_none_or(|seen| *seen == output), "#{}: {evidence}", report.index);
        for later in &evidence.prefix[position + 1..] {
            // A later one must not have returned before this one was called.
            let later = history[later.index].returned_at();
            assert!(later.is_none_or(|at| at >= op.call), "real time: {evidence}");
        }
        state = after;
    }
}

/// A busy register history (10 clients, one in ten giving up) with one read from the middle on
/// answering 42, a value no operation writes (they write 0 to 4).
fn busy_history_reading_42() -> (Vec<RegOp>, usize) {
    let shape = Shape { ops: 600, clients: 10, keys: 1, max_duration: 10, unknown_percent: 10 };
    let mut history = register_history(5, shape);
    let middle = history.len() / 2;
    let bad = (middle..history.len())
        .find(|&i| matches!(history[i].input, Op::Read) && history[i].output().is_some())
        .expect("a read to corrupt");
    let Outcome::Returned { output, .. } = &mut history[bad].outcome else { unreachable!() };
    *output = Reply::Value(Some(42));
    (history, bad)
}

/// The bench's hard case, small: the search alone must walk every order of the operations before
/// the read, with the unknown outcomes at every point, and runs out of a budget of 300,000
/// steps; the check finds the read at once, and the search only looks for a prefix after which
/// it must come: a verdict in a few thousand steps, naming the read.
#[test]
fn a_read_of_a_value_never_written_is_refuted_before_the_search() {
    let (history, bad) = busy_history_reading_42();
    assert_eq!(never_fits(&history), Some(bad));
    let budget = Budget(300_000);
    let search_only = check(&SearchOnly(RegisterModel), &history, budget);
    assert!(matches!(search_only, Verdict::Unknown { .. }), "{search_only}");
    let (verdict, stats) = check_with_stats(&RegisterModel, &history, budget);
    let Verdict::NotLinearizable(evidence) = verdict else { panic!("{verdict}") };
    assert!(stats.steps < 20_000, "{} steps: the search walked every order", stats.steps);
    assert_names(&RegisterModel, &history, &evidence, bad);
}

/// A read at the very start that fits nowhere is refuted with no step at all.
#[test]
fn a_refutation_at_the_start_needs_no_steps() {
    let history = [read(1, 0, 2, 3), done(2, 5, 6, Op::Write(3), Reply::Ok)];
    let (verdict, stats) = check_with_stats(&RegisterModel, &history, Budget(0));
    let Verdict::NotLinearizable(evidence) = verdict else { panic!("{verdict}") };
    assert_eq!(stats.steps, 0);
    assert!(evidence.prefix.is_empty(), "{evidence}");
    assert_names(&RegisterModel, &history, &evidence, 0);
}

/// The write of 3 is called after the read returned: refuted. Called while the read was pending
/// (equal times overlap), it explains the read: linearizable, and nothing refuted.
#[test]
fn a_write_counts_only_if_called_before_the_read_returned() {
    let late = [
        done(1, 0, 2, Op::Write(1), Reply::Ok),
        read(2, 3, 5, 3),
        done(1, 6, 8, Op::Write(3), Reply::Ok),
    ];
    assert_eq!(never_fits(&late), Some(1));
    assert_names(&RegisterModel, &late, &evidence(&RegisterModel, &late), 1);
    let overlapping = [
        done(1, 0, 2, Op::Write(1), Reply::Ok),
        read(2, 3, 5, 3),
        done(1, 5, 8, Op::Write(3), Reply::Ok),
    ];
    assert_eq!(never_fits(&overlapping), None);
    assert_eq!(check(&RegisterModel, &overlapping, Budget::default()), Verdict::Linearizable);
}

/// A write whose client gave up may have taken effect: it explains a read of its value.
#[test]
fn an_unknown_write_explains_a_read() {
    let history = [gave_up(1, 0, Op::Write(3)), read(2, 4, 5, 3)];
    assert_eq!(never_fits(&history), None);
    assert_eq!(check(&RegisterModel, &history, Budget::default()), Verdict::Linearizable);
}

/// States reached through several operations count: 1 written (outcome unknown), then a
/// compare-and-set 1 -> 2 (unknown too) explains a read of 2. The same compare-and-set
/// answering `false` changed nothing, so nothing can have left 2: refuted.
#[test]
fn chains_of_operations_are_followed_and_failed_ones_leave_nothing() {
    let cas = Op::Cas { expected: Some(1), new: 2 };
    let chain = [gave_up(1, 0, Op::Write(1)), gave_up(2, 1, cas.clone()), read(3, 5, 6, 2)];
    assert_eq!(never_fits(&chain), None);
    assert_eq!(check(&RegisterModel, &chain, Budget::default()), Verdict::Linearizable);
    let failed =
        [gave_up(1, 0, Op::Write(1)), done(2, 1, 3, cas, Reply::Cas(false)), read(3, 5, 6, 2)];
    assert_eq!(never_fits(&failed), Some(2));
    assert_names(&RegisterModel, &failed, &evidence(&RegisterModel, &failed), 2);
}

/// A compare-and-set that answered `true` needs its expected value: none written, refuted; and
/// the evidence names the compare-and-set, the earliest to return of those that fit nowhere.
#[test]
fn a_compare_and_set_that_succeeded_needs_its_expected_value() {
    let history = [
        done(1, 0, 2, Op::Write(1), Reply::Ok),
        done(2, 3, 4, Op::Cas { expected: Some(3), new: 4 }, Reply::Cas(true)),
        read(3, 5, 6, 4),
    ];
    assert_eq!(never_fits(&history), Some(1));
    assert_names(&RegisterModel, &history, &evidence(&RegisterModel, &history), 1);
}

/// And it leaves its new value only where it fits: with no 3 ever written, the compare-and-set
/// 3 -> 2 that answered `true` (returning last) cannot explain the read of 2 that returned
/// first, so the read is what the check names.
#[test]
fn a_returned_operation_leaves_a_state_only_where_its_output_fits() {
    let history = [
        done(1, 0, 2, Op::Write(1), Reply::Ok),
        done(2, 1, 10, Op::Cas { expected: Some(3), new: 2 }, Reply::Cas(true)),
        read(3, 5, 6, 2),
    ];
    assert_eq!(never_fits(&history), Some(2));
    assert_names(&RegisterModel, &history, &evidence(&RegisterModel, &history), 2);
}

fn kv(client: u64, call: u64, ret: u64, input: KvOp, output: KvReply) -> Operation<KvOp, KvReply> {
    Operation { client, call, input, outcome: Outcome::Returned { at: ret, output } }
}

fn get(key: &str) -> KvOp {
    KvOp::Get { key: key.into() }
}

fn got(value: &str) -> KvReply {
    KvReply::Value(Some(value.into()))
}

fn append(key: &str, value: &str) -> KvOp {
    KvOp::Append { key: key.into(), value: value.into() }
}

fn kv_never_fits(history: &[Operation<KvOp, KvReply>]) -> Option<usize> {
    KvModel.partition(history).iter().find_map(|partition| KvModel.never_fits(history, partition))
}

/// The key-value model's check: a get needs a put of its value, a compare-and-set to it, or an
/// append of a suffix of it, on that key, called before the get returned. "a;b;" is explained
/// by appends (even of unknown outcome); "c;" is put only on another key: refuted, named.
#[test]
fn a_get_needs_a_producer_of_its_value_on_its_key() {
    let appended = [
        kv(1, 0, 2, append("x", "a;"), KvReply::Ok),
        Operation { client: 2, call: 1, input: append("x", "b;"), outcome: Outcome::Unknown },
        kv(3, 4, 5, get("x"), got("a;b;")),
    ];
    assert_eq!(kv_never_fits(&appended), None);
    assert_eq!(check(&KvModel, &appended, Budget::default()), Verdict::Linearizable);
    let other_key = [
        kv(1, 0, 2, KvOp::Put { key: "y".into(), value: "c;".into() }, KvReply::Ok),
        kv(2, 3, 4, get("x"), got("c;")),
    ];
    assert_eq!(kv_never_fits(&other_key), Some(1));
    assert_names(&KvModel, &other_key, &evidence(&KvModel, &other_key), 1);
}

/// The bench's key-value case, small: a get from the middle on answering a value never
/// written is refuted, named, in few steps.
#[test]
fn a_kv_get_of_a_value_never_written_is_refuted() {
    let shape = Shape { ops: 600, clients: 10, keys: 2, max_duration: 10, unknown_percent: 10 };
    let mut history = kv_history(5, shape);
    let bad = (history.len() / 2..history.len())
        .find(|&i| history[i].input.is_read() && history[i].output().is_some())
        .expect("a get to corrupt");
    let Outcome::Returned { output, .. } = &mut history[bad].outcome else { unreachable!() };
    *output = got("never written");
    assert_eq!(kv_never_fits(&history), Some(bad));
    let evidence = evidence(&KvModel, &history);
    assert_names(&KvModel, &history, &evidence, bad);
}

/// Never a refutation of a linearizable history: small generated histories, each with one
/// output changed at random (to another value, often one that some operation does write), are
/// refuted by the check only when the brute-force oracle rejects them too; and the check does
/// refute some.
#[test]
fn the_check_refutes_only_what_the_oracle_rejects() {
    let mut refuted = 0;
    for seed in 0..400 {
        let mut rng = Rng::new(seed);
        let shape = Shape { ops: 8, clients: 3, keys: 1, max_duration: 6, unknown_percent: 20 };
        let mut history = register_history(seed, shape);
        let index = rng.range(0, history.len() as u64) as usize;
        if let Outcome::Returned { output, .. } = &mut history[index].outcome {
            *output = match output {
                Reply::Value(_) => Reply::Value(Some(rng.range(0, 7) as i64)),
                Reply::Cas(done) => Reply::Cas(!*done),
                Reply::Ok => Reply::Ok,
            };
        }
        if let Some(index) = never_fits(&history) {
            refuted += 1;
            assert!(
                !oracle(&RegisterModel, &history),
                "seed {seed}: #{index} refuted\n{history:#?}"
            );
        }
        let mut history = kv_history(seed, Shape { keys: 2, ..shape });
        let written: Vec<String> = history
            .iter()
            .filter_map(|op| match &op.input {
                KvOp::Put { value, .. } | KvOp::Append { value, .. } => Some(value.clone()),
                KvOp::Cas { new, .. } => Some(new.clone()),
                _ => None,
            })
            .chain(["never written".to_string()])
            .collect();
        if let Outcome::Returned { output: KvReply::Value(value), .. } = &mut history[index].outcome
        {
            *value = Some(rng.pick(&written).clone());
        }
        if let Some(index) = kv_never_fits(&history) {
            refuted += 1;
            assert!(!oracle(&KvModel, &history), "seed {seed}: kv #{index} refuted\n{history:#?}");
        }
    }
    assert!(refuted > 50, "only {refuted} refuted");
}

/// A counter whose increment answers the new value: a model of your own gets the default check.
struct Counter;

impl Model for Counter {
    type State = u64;
    type Input = &'static str;
    type Output = u64;

    fn init(&self) -> u64 {
        0
    }

    fn step(&self, state: &u64, input: &&'static str) -> (u64, u64) {
        match *input {
            "increment" => (state + 1, state + 1),
            _ => (*state, *state),
        }
    }

    fn is_read_only(&self, input: &&'static str, _output: Option<&u64>) -> bool {
        *input == "read"
    }
}

/// The default check follows a returned operation only where it gives the output it returned:
/// one increment that answered 1 leaves 1 and nothing more, so a read of 2 fits nowhere (not
/// "1, 2, 3, ... up to the cap, give up"); with a second increment of unknown outcome, 2 is
/// reachable and nothing is refuted.
#[test]
fn the_default_check_follows_returned_operations_only_where_they_fit() {
    let op = |client, call, ret, input, output| Operation {
        client,
        call,
        input,
        outcome: Outcome::Returned { at: ret, output },
    };
    let once = [op(1, 0, 10, "increment", 1), op(2, 2, 3, "read", 2)];
    let all = [0, 1];
    assert_eq!(Counter.never_fits(&once, &all), Some(1));
    assert_names(&Counter, &once, &evidence(&Counter, &once), 1);
    let twice = [
        op(1, 0, 10, "increment", 1),
        op(2, 2, 3, "read", 2),
        Operation { client: 3, call: 0, input: "increment", outcome: Outcome::Unknown },
    ];
    assert_eq!(Counter.never_fits(&twice, &[0, 1, 2]), None);
    assert_eq!(check(&Counter, &twice, Budget::default()), Verdict::Linearizable);
}
