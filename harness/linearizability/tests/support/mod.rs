//! Histories for the tests and the bench: a real sequential run of the model, with random
//! overlapping intervals around each operation's instant, so every generated history is
//! linearizable by construction. Also a brute-force oracle for small histories.
//!
//! Deterministic: a seeded SplitMix64 of our own, no clock, no thread.

#![allow(dead_code)] // each test file uses a different part

use linearizability::kv::{KvModel, Op, Reply};
use linearizability::register::{Op as RegOp, RegisterModel, Reply as RegReply};
use linearizability::{Model, Operation, Outcome};

/// A seeded pseudo-random generator (SplitMix64): same seed, same stream, on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `low..high` (`low` if empty).
    pub fn range(&mut self, low: u64, high: u64) -> u64 {
        if high <= low { low } else { low + self.next_u64() % (high - low) }
    }

    /// True with probability `percent` / 100.
    pub fn percent(&mut self, percent: u64) -> bool {
        self.range(0, 100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() as u64) as usize]
    }
}

/// The shape of a generated history.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub ops: usize,
    pub clients: u64,
    pub keys: u64,
    /// Longest operation, in ticks (calls and returns are whole ticks).
    pub max_duration: u64,
    /// Percent of operations whose client gives up (unknown outcome).
    pub unknown_percent: u64,
}

/// One timed operation before outputs are known: its instant `point` (in thousandths of a
/// tick, distinct) decides the sequential order; `None`: an unknown op that never took effect.
struct Timed<I> {
    client: u64,
    call: u64,
    ret: u64,
    point: Option<u64>,
    unknown: bool,
    input: I,
}

/// Generates calls and returns for `shape.ops` operations from `shape.clients` sequential
/// clients, with inputs from `input(rng, client, n)`; then runs them through `model` in the
/// order of their instants to fill in the outputs.
fn generate<M: Model>(
    model: &M,
    seed: u64,
    shape: Shape,
    mut input: impl FnMut(&mut Rng, &M::State, u64, usize) -> M::Input,
) -> Vec<Operation<M::Input, M::Output>> {
    let mut rng = Rng::new(seed);
    let mut free_at: Vec<u64> = (0..shape.clients).map(|_| rng.range(0, 3)).collect();
    let mut timed: Vec<Timed<()>> = Vec::with_capacity(shape.ops);
    for _ in 0..shape.ops {
        // The client that is free first calls next: clients stay sequential and busy.
        let client = (0..shape.clients).min_by_key(|&c| (free_at[c as usize], c)).unwrap();
        let call = free_at[client as usize];
        let ret = call + rng.range(0, shape.max_duration + 1);
        let unknown = rng.percent(shape.unknown_percent);
        let point = if !unknown {
            Some(rng.range(call * 1000, ret * 1000 + 1))
        } else if rng.percent(50) {
            // Took effect, perhaps long after the client gave up.
            Some(rng.range(call * 1000, (ret + 4 * shape.max_duration) * 1000 + 1))
        } else {
            None
        };
        free_at[client as usize] = ret + rng.range(1, 3);
        timed.push(Timed { client, call, ret, point, unknown, input: () });
    }
    // The sequential run: operations in the order of their instants (ties by number).
    let mut order: Vec<usize> = (0..timed.len()).filter(|&i| timed[i].point.is_some()).collect();
    order.sort_by_key(|&i| (timed[i].point, i));
    let mut inputs: Vec<Option<M::Input>> = (0..timed.len()).map(|_| None).collect();
    let mut outputs: Vec<Option<M::Output>> = (0..timed.len()).map(|_| None).collect();
    let mut state = model.init();
    for &i in &order {
        let op = input(&mut rng, &state, timed[i].client, i);
        let (next, output) = model.step(&state, &op);
        state = next;
        inputs[i] = Some(op);
        outputs[i] = Some(output);
    }
    timed
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let op = inputs[i].take().unwrap_or_else(|| input(&mut rng, &state, t.client, i));
            let outcome = match (&t.unknown, outputs[i].take()) {
                (false, Some(output)) => Outcome::Returned { at: t.ret, output },
                _ => Outcome::Unknown,
            };
            Operation { client: t.client, call: t.call, input: op, outcome }
        })
        .collect()
}

/// A key-value history: gets, puts, appends, deletes and compare-and-sets over `shape.keys`
/// keys, every written value unique (so a corrupted one is never explained by another write).
pub fn kv_history(seed: u64, shape: Shape) -> Vec<Operation<Op, Reply>> {
    generate(&KvModel, seed, shape, |rng, state, client, n| {
        let key = format!("k{}", rng.range(0, shape.keys));
        let value = format!("c{client}.{n};");
        match rng.range(0, 10) {
            0..=3 => Op::Get { key },
            4 | 5 => Op::Put { key, value },
            6 | 7 => Op::Append { key, value },
            8 => Op::Delete { key },
            _ => {
                // Half the time the value it holds now (succeeds), else an absent/other one.
                let expected = if rng.percent(50) { state.get(&key).cloned() } else { None };
                Op::Cas { key, expected, new: value }
            }
        }
    })
}

/// A single-register history: reads, writes and compare-and-sets of small numbers (values
/// repeat, as in Jepsen's etcd test, which makes the search harder).
pub fn register_history(seed: u64, shape: Shape) -> Vec<Operation<RegOp, RegReply>> {
    generate(&RegisterModel, seed, shape, |rng, state, _client, _n| match rng.range(0, 10) {
        0..=4 => RegOp::Read,
        5..=7 => RegOp::Write(rng.range(0, 5) as i64),
        _ => {
            let expected = if rng.percent(50) { *state } else { Some(rng.range(0, 5) as i64) };
            RegOp::Cas { expected, new: rng.range(0, 5) as i64 }
        }
    })
}

/// Brute force: is there an order of the operations that respects real time and the model,
/// leaving out any unknown ones it likes? Exponential: only for a handful of operations.
pub fn oracle<M: Model>(model: &M, history: &[Operation<M::Input, M::Output>]) -> bool {
    let mut placed = vec![false; history.len()];
    oracle_from(model, history, &mut placed, &model.init())
}

fn oracle_from<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    placed: &mut [bool],
    state: &M::State,
) -> bool {
    let all_known_placed =
        (0..history.len()).all(|i| placed[i] || history[i].returned_at().is_none());
    if all_known_placed {
        return true;
    }
    for next in 0..history.len() {
        if placed[next] {
            continue;
        }
        // `next` may go now unless some op not yet placed returned strictly before its call.
        let blocked = (0..history.len()).any(|other| {
            !placed[other]
                && other != next
                && history[other].returned_at().is_some_and(|at| at < history[next].call)
        });
        if blocked {
            continue;
        }
        let (after, output) = model.step(state, &history[next].input);
        if history[next].output().is_some_and(|seen| *seen != output) {
            continue;
        }
        placed[next] = true;
        let found = oracle_from(model, history, placed, &after);
        placed[next] = false;
        if found {
            return true;
        }
    }
    false
}

/// `M` with no refutation before the search ([`Model::never_fits`] says `None`): for tests of
/// the search itself, which must walk every order to reject a history.
pub struct SearchOnly<M>(pub M);

impl<M: Model> Model for SearchOnly<M> {
    type State = M::State;
    type Input = M::Input;
    type Output = M::Output;

    fn init(&self) -> M::State {
        self.0.init()
    }

    fn step(&self, state: &M::State, input: &M::Input) -> (M::State, M::Output) {
        self.0.step(state, input)
    }

    fn is_read_only(&self, input: &M::Input, output: Option<&M::Output>) -> bool {
        self.0.is_read_only(input, output)
    }

    fn never_fits(
        &self,
        _history: &[Operation<M::Input, M::Output>],
        _partition: &[usize],
    ) -> Option<usize> {
        None
    }

    fn partition(&self, history: &[Operation<M::Input, M::Output>]) -> Vec<Vec<usize>> {
        self.0.partition(history)
    }

    fn partition_name(
        &self,
        history: &[Operation<M::Input, M::Output>],
        partition: &[usize],
    ) -> Option<String> {
        self.0.partition_name(history, partition)
    }

    fn describe(&self, input: &M::Input, output: Option<&M::Output>) -> String {
        self.0.describe(input, output)
    }
}
