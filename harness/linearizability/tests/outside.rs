//! Outside histories with known verdicts (see `tests/data/README.md`): Jepsen's etcd register
//! histories (read, write, compare-and-set; timed-out operations have unknown outcomes) and
//! key-value histories of get, put and append from the MIT 6.824 lab, both as shipped with
//! Porcupine. The checker must agree on every one and never say Unknown with the default budget.

use linearizability::kv::{KvModel, Op, Reply};
use linearizability::register::{Op as RegOp, RegisterModel, Reply as RegReply};
use linearizability::{Budget, Model, Operation, Outcome, Verdict, check_with_stats};

fn data(name: &str) -> String {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// Builds a history from (process, call or return) events in file order; the line number is
/// the time. An operation still open at the end has an unknown outcome.
struct Recorder<I, O> {
    history: Vec<Operation<I, O>>,
    open: std::collections::BTreeMap<u64, usize>,
}

impl<I, O> Recorder<I, O> {
    fn new() -> Self {
        Recorder { history: Vec::new(), open: Default::default() }
    }

    fn call(&mut self, process: u64, time: u64, input: I) {
        let index = self.history.len();
        self.history.push(Operation {
            client: process,
            call: time,
            input,
            outcome: Outcome::Unknown,
        });
        assert!(self.open.insert(process, index).is_none(), "process {process} called twice");
    }

    /// The process's open operation ends: `Some(output)` at `time`, or `None`: it timed out.
    fn end(&mut self, process: u64, time: u64, output: Option<O>) {
        let index =
            self.open.remove(&process).unwrap_or_else(|| panic!("process {process}: no call"));
        if let Some(output) = output {
            self.history[index].outcome = Outcome::Returned { at: time, output };
        }
    }
}

/// Jepsen's etcd log: `INFO  jepsen.util - <process>\t:<type>\t:<f>\t<value>`. A `:fail`ed
/// compare-and-set returned false; a timed-out read (`:fail :read :timed-out`) or an `:info`
/// (timed-out write or cas) has an unknown outcome.
fn parse_jepsen_etcd(text: &str) -> Vec<Operation<RegOp, RegReply>> {
    let mut recorder = Recorder::new();
    for (time, line) in text.lines().enumerate() {
        let time = time as u64;
        let Some(rest) = line.strip_prefix("INFO  jepsen.util - ") else { continue };
        let fields: Vec<&str> = rest.split('\t').collect();
        let [process, kind, f, value] = fields[..] else { panic!("line {time}: {line}") };
        let process: u64 = process.parse().unwrap();
        let number = |s: &str| s.parse::<i64>().unwrap_or_else(|_| panic!("line {time}: {s}"));
        let pair = || {
            let inner = value.trim_start_matches('[').trim_end_matches(']');
            let (a, b) = inner.split_once(' ').unwrap();
            (number(a), number(b))
        };
        match (kind, f) {
            (":invoke", ":read") => recorder.call(process, time, RegOp::Read),
            (":invoke", ":write") => recorder.call(process, time, RegOp::Write(number(value))),
            (":invoke", ":cas") => {
                let (expected, new) = pair();
                recorder.call(process, time, RegOp::Cas { expected: Some(expected), new });
            }
            (":ok", ":read") => {
                let read = if value == "nil" { None } else { Some(number(value)) };
                recorder.end(process, time, Some(RegReply::Value(read)));
            }
            (":ok", ":write") => recorder.end(process, time, Some(RegReply::Ok)),
            (":ok", ":cas") => recorder.end(process, time, Some(RegReply::Cas(true))),
            (":fail", ":cas") => recorder.end(process, time, Some(RegReply::Cas(false))),
            (":fail", ":read") | (":info", _) => recorder.end(process, time, None),
            other => panic!("line {time}: unexpected {other:?}"),
        }
    }
    recorder.history
}

/// Porcupine's KV histories: `{:process P, :type :invoke|:ok, :f :get|:put|:append, :key "K",
/// :value "V"|nil}`.
fn parse_kv(text: &str) -> Vec<Operation<Op, Reply>> {
    let mut recorder = Recorder::new();
    for (time, line) in text.lines().enumerate() {
        let time = time as u64;
        let field = |name: &str| {
            let start = line.find(name).unwrap_or_else(|| panic!("line {time}: no {name}"));
            let rest = &line[start + name.len()..];
            let end = rest.find([',', '}']).unwrap();
            &rest[..end]
        };
        let process: u64 = field(":process ").parse().unwrap();
        let key = field(":key ").trim_matches('"').to_string();
        let value =
            line[line.find(":value ").unwrap() + 7..line.len() - 1].trim_matches('"').to_string();
        match (field(":type "), field(":f ")) {
            (":invoke", ":get") => recorder.call(process, time, Op::Get { key }),
            (":invoke", ":put") => recorder.call(process, time, Op::Put { key, value }),
            (":invoke", ":append") => recorder.call(process, time, Op::Append { key, value }),
            (":ok", ":get") => recorder.end(process, time, Some(Reply::Value(Some(value)))),
            (":ok", ":put" | ":append") => recorder.end(process, time, Some(Reply::Ok)),
            other => panic!("line {time}: unexpected {other:?}"),
        }
    }
    recorder.history
}

/// The lab's store answers `""` for a key never written; ours answers "absent". This model is
/// ours with that one difference.
struct LabKv;

impl Model for LabKv {
    type State = <KvModel as Model>::State;
    type Input = Op;
    type Output = Reply;

    fn init(&self) -> Self::State {
        KvModel.init()
    }

    fn step(&self, state: &Self::State, input: &Op) -> (Self::State, Reply) {
        match KvModel.step(state, input) {
            (next, Reply::Value(None)) => (next, Reply::Value(Some(String::new()))),
            other => other,
        }
    }

    fn is_read_only(&self, input: &Op, output: Option<&Reply>) -> bool {
        KvModel.is_read_only(input, output)
    }

    fn partition(&self, history: &[Operation<Op, Reply>]) -> Vec<Vec<usize>> {
        KvModel.partition(history)
    }

    fn partition_name(
        &self,
        history: &[Operation<Op, Reply>],
        partition: &[usize],
    ) -> Option<String> {
        KvModel.partition_name(history, partition)
    }
}

fn expect<M: Model>(
    model: &M,
    name: &str,
    history: &[Operation<M::Input, M::Output>],
    linearizable: bool,
) {
    let (verdict, stats) = check_with_stats(model, history, Budget::default());
    println!("{name}: {} ops, {} steps, {}", history.len(), stats.steps, verdict.is_linearizable());
    match (&verdict, linearizable) {
        (Verdict::Linearizable, true) | (Verdict::NotLinearizable(_), false) => {}
        _ => panic!("{name}: expected linearizable = {linearizable}, got {verdict}"),
    }
}

/// Jepsen's etcd histories: the checker agrees with Knossos and Porcupine on every one.
#[test]
fn jepsen_etcd_histories_get_their_known_verdicts() {
    for (name, linearizable) in
        [("etcd_000.log", false), ("etcd_002.log", true), ("etcd_005.log", true)]
    {
        let history = parse_jepsen_etcd(&data(name));
        expect(&RegisterModel, name, &history, linearizable);
    }
}

/// The lab's key-value histories: the same.
#[test]
fn lab_kv_histories_get_their_known_verdicts() {
    for (name, linearizable) in [("c01-ok.txt", true), ("c01-bad.txt", false)] {
        let history = parse_kv(&data(name));
        expect(&LabKv, name, &history, linearizable);
    }
}

/// The parser read what the files hold: counts of operations and unknown outcomes.
#[test]
fn outside_histories_parse_completely() {
    let etcd = parse_jepsen_etcd(&data("etcd_000.log"));
    let unknown = etcd.iter().filter(|op| op.outcome == Outcome::Unknown).count();
    assert_eq!((etcd.len(), unknown), (85, 16), "etcd_000.log: 85 invokes, 16 :info");
    let kv = parse_kv(&data("c01-bad.txt"));
    assert_eq!(kv.len(), 38);
}
