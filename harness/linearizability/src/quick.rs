//! A refutation before the search: an operation that fits in no state the operations before it
//! could leave, whatever their order (the classic "read of a value nobody wrote").
//!
//! The search proves a history not linearizable by trying every order of the operations that
//! may come before the one that fails; with many clients and unknown outcomes that is more
//! than any budget (README.md, Bench). This check looks at each returned operation `x` alone,
//! with an over-approximation of the states it could see: cheap, and when it finds an `x`
//! that fits none of them, no search is needed to know the answer.

use std::collections::HashSet;

use crate::{Model, Operation, Outcome};

/// How many states [`never_fits`] follows before it gives up (a model whose operations build
/// ever new states, like appends, reaches it at once; a register of a few values never does).
pub(crate) const STATE_CAP: usize = 64;

/// An operation of `partition` (a history index) that fits in no state reachable before it, or
/// `None`; the generic check behind [`Model::never_fits`].
///
/// For each operation `x` that returned, in order of return: the set `R` of states reachable
/// from [`Model::init`] by applying, any number of times and in any order, the operations of
/// the partition called no later than `x` returned that may change the state (an unknown
/// outcome in any state; a returned one only where it gives the output it returned). If `x`
/// gives its output in no state of `R`, it is the answer.
///
/// Why that is sound: in any linearization, every operation placed before `x` took effect
/// before `x`, so before `x` returned, so it was called no later than that; each of them gave
/// its output where it was placed (or has an unknown outcome), and one that is read-only for
/// its output ([`Model::is_read_only`]) left the state as it was. So the state in which `x`
/// takes effect is reached from the initial state by a chain of such operations: it is in
/// `R`, and `x` fits there. `R` ignores that each operation takes effect at most once and
/// in real-time order: it only holds more states than the truth, never fewer.
///
/// Cost: at most [`STATE_CAP`] states, each given each operation once, plus one step per
/// returned operation and state; past the cap the check gives up (`None`: the search decides).
pub(crate) fn never_fits<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    partition: &[usize],
) -> Option<usize> {
    let mut writers: Vec<usize> = partition
        .iter()
        .copied()
        .filter(|&index| {
            let op = &history[index];
            !model.is_read_only(&op.input, op.output())
        })
        .collect();
    writers.sort_by_key(|&index| (history[index].call, index));
    let mut checked: Vec<(u64, usize)> = partition
        .iter()
        .filter_map(|&index| history[index].returned_at().map(|at| (at, index)))
        .collect();
    checked.sort_unstable();

    let mut closure = Closure { states: Vec::new(), seen: HashSet::new(), applied: Vec::new() };
    closure.add(model.init());
    let mut available = 0;
    for (at, index) in checked {
        while available < writers.len() && history[writers[available]].call <= at {
            available += 1;
        }
        if !closure.saturate(model, history, &writers[..available]) {
            return None;
        }
        let op = &history[index];
        let output = op.output().expect("only returned operations are checked");
        if !closure.states.iter().any(|state| model.step(state, &op.input).1 == *output) {
            return Some(index);
        }
    }
    None
}

/// The states reached so far, and for each how many of the writers (in call order) have
/// been applied to it.
struct Closure<S> {
    states: Vec<S>,
    seen: HashSet<S>,
    applied: Vec<usize>,
}

impl<S: Clone + Eq + std::hash::Hash> Closure<S> {
    fn add(&mut self, state: S) {
        if self.seen.insert(state.clone()) {
            self.states.push(state);
            self.applied.push(0);
        }
    }

    /// Applies every writer to every state until nothing new comes; false if the states
    /// outgrow [`STATE_CAP`]. Only `states` (a vector) is walked, so the result and its
    /// order never depend on the set's hashing.
    fn saturate<M: Model<State = S>>(
        &mut self,
        model: &M,
        history: &[Operation<M::Input, M::Output>],
        writers: &[usize],
    ) -> bool {
        let mut at = 0;
        while at < self.states.len() {
            while self.applied[at] < writers.len() {
                let op = &history[writers[self.applied[at]]];
                self.applied[at] += 1;
                let (after, output) = model.step(&self.states[at], &op.input);
                let fits = match &op.outcome {
                    Outcome::Returned { output: seen, .. } => *seen == output,
                    Outcome::Unknown => true,
                };
                if fits {
                    self.add(after);
                    if self.states.len() > STATE_CAP {
                        return false;
                    }
                }
            }
            at += 1;
        }
        true
    }
}
