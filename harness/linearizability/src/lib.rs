//! A linearizability checker: is a recorded history of concurrent operations explained by some
//! order of a sequential service?
//!
//! # What linearizability is
//!
//! A concurrent object is *linearizable* (Herlihy & Wing, "Linearizability: A Correctness
//! Condition for Concurrent Objects", TOPLAS 1990) when every operation appears to take effect
//! at one instant between its call and its return, and the outputs are those of a sequential
//! object that performed the operations in the order of those instants. Two rules follow:
//!
//! - **real-time order**: if `a` returned before `b` was called, `a` comes before `b`;
//! - **sequential legality**: replaying the operations in that order on the sequential model
//!   gives exactly the outputs the clients saw.
//!
//! Operations that overlap in time may be placed in either order. A replicated key-value
//! service (the Raft dissertation, §6) promises linearizability: a read that misses an
//! acknowledged write (a stale read), a write applied twice, a value that was never written,
//! all break it.
//!
//! # The algorithm
//!
//! - **Wing & Gong's search** (J. M. Wing and C. Gong, "Testing and Verifying Concurrent
//!   Objects", JPDC 1993): depth-first search over the order of operations. At each point, any
//!   operation whose call comes before the earliest return among the operations not yet placed
//!   may be placed next, if the model gives the output it returned; when none works, undo the
//!   last choice.
//! - **Lowe's memoization** (G. Lowe, "Testing for Linearizability", Concurrency and
//!   Computation: Practice and Experience, 2017): the search reaches the same (set of placed
//!   operations, model state) by many orders; a cache of those pairs cuts every repeat. The
//!   set is a bitset, of which each cache entry keeps a word or two, plus the state.
//! - **P-compositionality** (A. Horn and D. Kroening, "Faster Linearizability Checking via
//!   P-Compositionality", FORTE 2015): a history is linearizable if and only if each
//!   independent sub-history is (for a key-value store: each key's operations). The search is
//!   exponential in concurrency, so checking per key is the difference between instant and
//!   hopeless. A model says how to split in [`Model::partition`].
//!
//! The same design as Porcupine (A. Athalye, the Go checker used by the MIT 6.5840 lab and
//! etcd's tests), with four differences: when the budget runs out the answer is
//! [`Verdict::Unknown`], never a pass; an operation with an unknown outcome may be left out
//! (rather than placed at the end), and the cache skips a configuration when an earlier one
//! had the same known operations and state with a *subset* of the unknown ones placed (it
//! could do everything the new one can); a read that fits is placed at once, with no other
//! order tried there (a partial-order reduction, [`Model::is_read_only`]); and the failure
//! names the partition, the longest prefix and the operations that cannot follow it.
//!
//! And one step before the search, for histories no search can reject in time: an operation
//! that fits in no state the operations called before it returned could leave, in any order
//! (a read of a value nobody wrote: Elle's "garbage read"), makes its partition not
//! linearizable at once ([`Model::never_fits`]); the search then only looks for a prefix
//! after which that operation must come, so the evidence has the usual form and names it.
//!
//! How the search is laid out (for a reader of `search.rs` and `cache.rs`): the calls and
//! returns of one partition form doubly linked lists in time order (reads' calls, other
//! calls, returns); placing an operation unlinks its events and undoing it links them back (Knuth's dancing links), so the
//! search allocates nothing per step. The set of placed operations is one bitset mutated in
//! place, with a Zobrist hash (one random word per operation, XORed in and out) kept beside
//! it; the cache stores its copies of those bitsets in one flat arena of words, entries
//! chained by index, and of each set only the words after its full ones (operations are
//! numbered in call order, so a set is "all called before some time, and a few more"): a word
//! or two per entry whatever the history's length, plus the model's state, and nothing is
//! allocated per entry but what the state holds.
//!
//! What it costs: the search is exponential in the number of operations that overlap in time
//! *within one partition* (that is what the problem is: NP-complete, Gibbons & Korach 1997),
//! and a non-linearizable history costs more than a linearizable one, because every order
//! must fail before the answer is "no". Many unknown outcomes make it worse still: each may
//! take effect at any later point. `examples/checker_bench.rs` measures it.
//!
//! # Unknown outcomes
//!
//! A client that gave up (timed out, lost its connection) does not know whether its operation
//! took effect. Record it with [`Outcome::Unknown`]: the checker lets it take effect at any
//! instant after its call, or never, and checks no output for it. It is never *required*.
//!
//! # Determinism and the budget
//!
//! The search counts steps (one per operation tried, and one per backtrack) and stops after
//! [`Budget`] steps with [`Verdict::Unknown`]. Steps, not seconds: the verdict for a history and
//! a budget is the same on every machine, every run. No clocks, threads or hash-order
//! iteration are involved in any result.
//!
//! # Times
//!
//! Times are plain `u64`s in any unit (simulated ticks, nanoseconds). An operation that returned
//! at `t` must come before every operation called strictly after `t`; an operation called at
//! exactly `t` overlaps it (so an order that is only known to a tick never causes a false
//! alarm).
//!
//! # Calling it from outside the course
//!
//! ```
//! use linearizability::{check, Budget, Operation, Outcome, Verdict};
//! use linearizability::kv::{KvModel, Op, Reply};
//!
//! let put = |value: &str| Op::Put { key: "x".into(), value: value.into() };
//! let get = || Op::Get { key: "x".into() };
//! let history = vec![
//!     // client 1 writes "1" during [0, 10]
//!     Operation { client: 1, call: 0, input: put("1"), outcome: Outcome::Returned { at: 10, output: Reply::Ok } },
//!     // client 2 reads during [5, 6]: overlaps the write, so either answer is fine
//!     Operation { client: 2, call: 5, input: get(), outcome: Outcome::Returned { at: 6, output: Reply::Value(None) } },
//!     // client 2 reads again after the write returned: must see it
//!     Operation { client: 2, call: 11, input: get(), outcome: Outcome::Returned { at: 12, output: Reply::Value(Some("1".into())) } },
//! ];
//! let verdict = check(&KvModel, &history, Budget::default());
//! assert_eq!(verdict, Verdict::Linearizable);
//! verdict.assert_linearizable(); // panics with the evidence otherwise
//! ```
//!
//! Your own service: implement [`Model`] (an initial state and a step function; optionally a
//! partition), record each operation's client, call time, input and outcome, and call
//! [`check`]. [`register`] is a second example of a model.

mod bitset;
mod cache;
mod evidence;
pub mod kv;
mod quick;
pub mod register;
mod search;

pub use evidence::{Evidence, OperationReport};

use std::fmt;

/// When an operation ended: it returned `output` at time `at`, or its client gave up (unknown
/// outcome: it may have taken effect at any moment after its call, or never).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome<O> {
    /// The client received `output` at time `at` (`at >= call`).
    Returned {
        /// The time of the return, in the same unit as [`Operation::call`].
        at: u64,
        /// What the service answered.
        output: O,
    },
    /// The client never learned the result: the operation may have taken effect at any instant
    /// after its call, or never.
    Unknown,
}

/// One operation of a history: who called it, when, with what, and how it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation<I, O> {
    /// The client that called it (only shown in reports; order comes from the times).
    pub client: u64,
    /// The time of the call.
    pub call: u64,
    /// What was asked.
    pub input: I,
    /// What was answered, and when; or unknown.
    pub outcome: Outcome<O>,
}

impl<I, O> Operation<I, O> {
    /// The time of the return, `None` for an unknown outcome (a return at +infinity).
    pub fn returned_at(&self) -> Option<u64> {
        match self.outcome {
            Outcome::Returned { at, .. } => Some(at),
            Outcome::Unknown => None,
        }
    }

    /// The output, `None` for an unknown outcome.
    pub fn output(&self) -> Option<&O> {
        match &self.outcome {
            Outcome::Returned { output, .. } => Some(output),
            Outcome::Unknown => None,
        }
    }
}

/// A sequential specification: what a correct service, doing one operation at a time, answers.
pub trait Model {
    /// The service's state. It is cached (Lowe's memoization), so keep it small: with
    /// [`Model::partition`] it only needs to hold one partition's part (e.g. one key).
    type State: Clone + Eq + std::hash::Hash + std::fmt::Debug;
    /// What a client asks.
    type Input: Clone + std::fmt::Debug;
    /// What the service answers.
    type Output: Clone + PartialEq + std::fmt::Debug;

    /// The state before any operation.
    fn init(&self) -> Self::State;

    /// The state after `input` and the output a correct sequential service gives.
    fn step(&self, state: &Self::State, input: &Self::Input) -> (Self::State, Self::Output);

    /// Whether an operation with this input, having returned `output` (`None`: its outcome is
    /// unknown), leaves the state unchanged in every state where it fits: a read, a failed
    /// compare-and-set. Default: `false`, which is always correct.
    ///
    /// Why it helps: a read that fits now can be placed now, and the search need not try any
    /// other order here (moving a read earlier, to a point where it fits, keeps every
    /// linearization one), so reads stop multiplying the orders searched; and a read whose
    /// outcome is unknown is never placed at all. Saying `true` of an operation that can change
    /// the state makes verdicts wrong.
    fn is_read_only(&self, input: &Self::Input, output: Option<&Self::Output>) -> bool {
        let _ = (input, output);
        false
    }

    /// An operation of `partition` (its index in `history`) that returned and gives its output
    /// in no state the operations before it could leave, in any order: no linearization can
    /// place it, so the partition is not linearizable, and the search need not try every order
    /// of what came before to find that out (with many clients and unknown outcomes it could
    /// not). `None` when none is found. Then the search only looks for a linearizable prefix
    /// after which that operation must come next, for the evidence.
    ///
    /// The default follows the states reachable by the partition's operations called before
    /// the operation returned, in any order and any number of times, up to 64 states: enough
    /// for a register of a few values, while a model whose operations keep building new
    /// states (appends) goes past it and is left to the search. Override it with a check that
    /// knows the model (the key-value model looks for a producer of the value read) or with
    /// `None`. Saying `Some` of an operation that some linearization places makes verdicts
    /// wrong: the check must only over-approximate what could happen.
    fn never_fits(
        &self,
        history: &[Operation<Self::Input, Self::Output>],
        partition: &[usize],
    ) -> Option<usize>
    where
        Self: Sized,
    {
        quick::never_fits(self, history, partition)
    }

    /// Independent sub-histories (P-compositionality), as lists of indexes into the history;
    /// default: one. Each is checked alone, from [`Model::init`]; every index should appear in
    /// exactly one list, and the lists should come in a deterministic order (it decides which
    /// failing partition is reported).
    fn partition(&self, history: &[Operation<Self::Input, Self::Output>]) -> Vec<Vec<usize>> {
        vec![(0..history.len()).collect()]
    }

    /// A name for one partition in reports, e.g. `key "x"`; default: `None` (the checker says
    /// "partition i of n").
    fn partition_name(
        &self,
        history: &[Operation<Self::Input, Self::Output>],
        partition: &[usize],
    ) -> Option<String> {
        let _ = (history, partition);
        None
    }

    /// One operation in words, for reports; `output` is `None` for an unknown outcome.
    fn describe(&self, input: &Self::Input, output: Option<&Self::Output>) -> String {
        match output {
            Some(output) => format!("{input:?} -> {output:?}"),
            None => format!("{input:?} -> ?"),
        }
    }
}

/// How many steps the search may take, in all partitions together, before it answers
/// [`Verdict::Unknown`]. A step is one operation tried or taken back; it is a count, not a
/// clock, so the verdict never depends on the machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Budget(pub u64);

impl Budget {
    /// The default: ten million steps. It decides every history of this crate's tests and
    /// every outside history in `tests/data` with room to spare (the largest needs about
    /// 160,000). Spending it all takes a few seconds for the register model and up to a
    /// minute for a key-value history full of long appended values, whose state is cloned and
    /// hashed at every step (`examples/checker_bench.rs`, README.md).
    pub const DEFAULT: Budget = Budget(10_000_000);
}

impl Default for Budget {
    /// [`Budget::DEFAULT`]: ten million steps.
    fn default() -> Self {
        Budget::DEFAULT
    }
}

/// The answer of [`check`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Some order of the operations respects real time and the model: the history is
    /// linearizable.
    Linearizable,
    /// No such order exists; the evidence shows the partition, the longest linearizable prefix
    /// found and the operations that cannot all be placed after it.
    NotLinearizable(Evidence),
    /// The budget ran out before a verdict. Not a pass: a test must fail on it.
    Unknown {
        /// Steps taken (equal to `budget`).
        steps: u64,
        /// The budget that ran out.
        budget: u64,
        /// The partition being searched when it ran out, e.g. `key "x"`.
        partition: String,
        /// How many operations that partition holds.
        operations: usize,
    },
}

impl Verdict {
    /// Whether the verdict is [`Verdict::Linearizable`].
    pub fn is_linearizable(&self) -> bool {
        matches!(self, Verdict::Linearizable)
    }

    /// Panics unless the verdict is [`Verdict::Linearizable`], with the evidence or the
    /// budget's advice as the message. `Unknown` fails too: a history not checked is not a pass.
    #[track_caller]
    pub fn assert_linearizable(&self) {
        if !self.is_linearizable() {
            panic!("{self}");
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Linearizable => write!(f, "linearizable"),
            Verdict::NotLinearizable(evidence) => write!(f, "{evidence}"),
            Verdict::Unknown { steps, budget, partition, operations } => write!(
                f,
                "linearizability unknown: the search took its whole budget of {budget} steps \
                 ({steps} taken) in {partition} ({operations} operations) without a verdict. \
                 This is not a pass. The search is deterministic: the same history with \
                 Budget({budget}) stops here on every machine. A larger budget, e.g. \
                 Budget({}), lets it search further (time grows with steps); a shorter history \
                 or fewer concurrent clients per partition makes the search smaller.",
                budget.saturating_mul(10)
            ),
        }
    }
}

/// Checks whether `history` is linearizable with respect to `model`, within `budget` steps.
///
/// The history is a plain list of operations in any order. Each partition of
/// [`Model::partition`] is searched alone, in the model's order; the first partition that is
/// not linearizable is reported, and a budget that runs out gives [`Verdict::Unknown`].
///
/// # Panics
///
/// If an operation returned before it was called, or a partition names an index out of range.
pub fn check<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    budget: Budget,
) -> Verdict {
    check_with_stats(model, history, budget).0
}

/// What a check cost: for benches and for choosing a budget.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Steps taken, in all partitions (one per operation tried or taken back).
    pub steps: u64,
    /// The largest cache (entries) any one partition's search held.
    pub peak_cache_entries: usize,
    /// Bytes of bitsets in that cache (states not counted).
    pub peak_cache_bitset_bytes: usize,
    /// Partitions searched.
    pub partitions: usize,
}

/// [`check`], and what it cost.
pub fn check_with_stats<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    budget: Budget,
) -> (Verdict, Stats) {
    let (verdict, stats, _) = search_partitions(model, history, budget);
    (verdict, stats)
}

/// [`check`], and for a linearizable history the order it found: for each partition of
/// [`Model::partition`] (in its order), the indexes of the operations in the order they take
/// effect. An operation with an unknown outcome that is not in the order never took effect.
/// Any other verdict comes back as the error. For pictures of a history (the course's trace
/// page numbers each operation by its place here).
///
/// ```
/// use linearizability::{linearize, Budget, Operation, Outcome};
/// use linearizability::kv::{KvModel, Op, Reply};
///
/// let op = |client, call, at, input, output| Operation {
///     client, call, input, outcome: Outcome::Returned { at, output },
/// };
/// let history = vec![
///     // a read that overlaps a write and sees it: the write must take effect first
///     op(1, 0, 10, Op::Get { key: "x".into() }, Reply::Value(Some("1".into()))),
///     op(2, 2, 8, Op::Put { key: "x".into(), value: "1".into() }, Reply::Ok),
/// ];
/// let order = linearize(&KvModel, &history, Budget::default()).expect("linearizable");
/// assert_eq!(order, vec![vec![1, 0]]);
/// ```
pub fn linearize<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    budget: Budget,
) -> Result<Vec<Vec<usize>>, Verdict> {
    match search_partitions(model, history, budget) {
        (Verdict::Linearizable, _, orders) => Ok(orders),
        (verdict, _, _) => Err(verdict),
    }
}

/// Searches every partition in turn, until one fails; the verdict, the cost, and the order
/// found for each partition searched.
fn search_partitions<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    budget: Budget,
) -> (Verdict, Stats, Vec<Vec<usize>>) {
    validate(history);
    let partitions = model.partition(history);
    let mut stats = Stats::default();
    let mut orders = Vec::with_capacity(partitions.len());
    let count = partitions.len();
    for (number, partition) in partitions.iter().enumerate() {
        let remaining = budget.0 - stats.steps;
        let never_fits = model.never_fits(history, partition);
        let result = search::search(model, history, partition, remaining, never_fits);
        stats.steps += result.steps;
        stats.partitions += 1;
        if result.peak_cache_entries > stats.peak_cache_entries {
            stats.peak_cache_entries = result.peak_cache_entries;
            stats.peak_cache_bitset_bytes = result.peak_cache_bitset_bytes;
        }
        let name = || {
            model
                .partition_name(history, partition)
                .unwrap_or_else(|| format!("partition {} of {count}", number + 1))
        };
        match result.outcome {
            search::SearchOutcome::Linearizable { order } => orders.push(order),
            search::SearchOutcome::Stuck { prefix } => {
                let evidence = evidence::explain(model, history, partition, &prefix, name());
                return (Verdict::NotLinearizable(evidence), stats, orders);
            }
            search::SearchOutcome::OutOfBudget => {
                let verdict = Verdict::Unknown {
                    steps: stats.steps,
                    budget: budget.0,
                    partition: name(),
                    operations: partition.len(),
                };
                return (verdict, stats, orders);
            }
        }
    }
    (Verdict::Linearizable, stats, orders)
}

/// Refuses a history no real run can produce: a return before its call.
fn validate<I: fmt::Debug, O: fmt::Debug>(history: &[Operation<I, O>]) {
    for (index, op) in history.iter().enumerate() {
        if let Some(at) = op.returned_at() {
            assert!(
                at >= op.call,
                "operation #{index} (client {}, {:?}) returned at {at}, before its call at {}",
                op.client,
                op.input,
                op.call
            );
        }
    }
}
