//! The search itself: Wing & Gong's backtracking with Lowe's memoization, over one partition.
//!
//! The history is laid out as a doubly linked list of call and return events in time order
//! (calls before returns at equal times: those operations overlap). Walking the list from its
//! head, every call met before the first return belongs to an operation that may take effect
//! next. Placing ("lifting") an operation unlinks its call and return; undoing it links them
//! back, in the reverse order, so the list is restored exactly (Knuth's dancing links).
//!
//! An operation with an unknown outcome has no return event: it never blocks anything, so it
//! may be placed at any point after its call, or left out. The search is done when every
//! operation that did return has been placed.

use crate::bitset::Bitset;
use crate::cache::{Cache, zobrist_keys};
use crate::{Model, Operation, Outcome};

/// How a partition's search ended.
pub(crate) enum SearchOutcome {
    /// Every returned operation was placed. `order`: the operations placed (history indexes),
    /// in the order they take effect; an unknown outcome left out of it never took effect.
    Linearizable { order: Vec<usize> },
    /// No order works. `prefix`: the longest sequence of operations (history indexes, in
    /// linearization order) the search managed to place.
    Stuck { prefix: Vec<usize> },
    /// The step budget ran out first.
    OutOfBudget,
}

/// A search's outcome and cost.
pub(crate) struct SearchResult {
    pub(crate) outcome: SearchOutcome,
    pub(crate) steps: u64,
    pub(crate) peak_cache_entries: usize,
    pub(crate) peak_cache_bitset_bytes: usize,
}

/// One event of the list: the call or the return of operation `op` (a partition-local number).
#[derive(Clone, Copy)]
struct Event {
    op: usize,
    is_call: bool,
}

/// The events in time order, as a circular doubly linked list through a head sentinel.
struct EventList {
    events: Vec<Event>,
    /// `next[e]`, `prev[e]` for each event `e`; index `events.len()` is the head sentinel.
    next: Vec<usize>,
    prev: Vec<usize>,
    /// For each operation: its call event and, if it returned, its return event.
    call_of: Vec<usize>,
    return_of: Vec<Option<usize>>,
}

impl EventList {
    /// The list for the operations `partition` of `history`, in time order.
    fn new<I, O>(history: &[Operation<I, O>], partition: &[usize]) -> Self {
        // (time, 0 for a call / 1 for a return, op): calls before returns at equal times.
        let mut keyed: Vec<(u64, u8, usize)> = Vec::with_capacity(partition.len() * 2);
        for (op, &index) in partition.iter().enumerate() {
            let operation = &history[index];
            keyed.push((operation.call, 0, op));
            if let Some(at) = operation.returned_at() {
                keyed.push((at, 1, op));
            }
        }
        keyed.sort_unstable();
        let count = keyed.len();
        let head = count;
        let mut list = EventList {
            events: Vec::with_capacity(count),
            next: (1..=count + 1).map(|n| n % (count + 1)).collect(),
            prev: (0..=count).map(|n| (n + count) % (count + 1)).collect(),
            call_of: vec![0; partition.len()],
            return_of: vec![None; partition.len()],
        };
        for (event, &(_, kind, op)) in keyed.iter().enumerate() {
            let is_call = kind == 0;
            list.events.push(Event { op, is_call });
            if is_call {
                list.call_of[op] = event;
            } else {
                list.return_of[op] = Some(event);
            }
        }
        debug_assert_eq!(list.next[head], if count == 0 { head } else { 0 });
        list
    }

    fn head(&self) -> usize {
        self.events.len()
    }

    fn first(&self) -> usize {
        self.next[self.head()]
    }

    fn unlink(&mut self, event: usize) {
        let (prev, next) = (self.prev[event], self.next[event]);
        self.next[prev] = next;
        self.prev[next] = prev;
    }

    fn relink(&mut self, event: usize) {
        let (prev, next) = (self.prev[event], self.next[event]);
        self.next[prev] = event;
        self.prev[next] = event;
    }

    /// Takes operation `op` out of the list: it has been placed.
    fn lift(&mut self, op: usize) {
        self.unlink(self.call_of[op]);
        if let Some(ret) = self.return_of[op] {
            self.unlink(ret);
        }
    }

    /// Puts operation `op` back, undoing [`EventList::lift`] (reverse order of the unlinks).
    fn unlift(&mut self, op: usize) {
        if let Some(ret) = self.return_of[op] {
            self.relink(ret);
        }
        self.relink(self.call_of[op]);
    }
}

/// The operations placed so far: known-outcome ones and unknown-outcome ones in two bitsets
/// (the cache treats them differently), and the Zobrist hash of the known set.
struct Placed {
    known: Bitset,
    unknown: Bitset,
    known_hash: u64,
    /// Per operation: whether it returned (known outcome), and its bit in its set.
    returned: Vec<bool>,
    bit: Vec<usize>,
    zobrist: Vec<u64>,
}

impl Placed {
    fn new<I, O>(ops: &[&Operation<I, O>]) -> Self {
        let returned: Vec<bool> = ops.iter().map(|op| op.returned_at().is_some()).collect();
        let (mut known_count, mut unknown_count) = (0, 0);
        let bit = returned
            .iter()
            .map(|&known| {
                let counter = if known { &mut known_count } else { &mut unknown_count };
                *counter += 1;
                *counter - 1
            })
            .collect();
        Placed {
            known: Bitset::new(known_count),
            unknown: Bitset::new(unknown_count),
            known_hash: 0,
            returned,
            bit,
            zobrist: zobrist_keys(ops.len()),
        }
    }

    fn is_known(&self, op: usize) -> bool {
        self.returned[op]
    }

    fn known_count(&self) -> usize {
        self.returned.iter().filter(|&&known| known).count()
    }

    fn place(&mut self, op: usize) {
        if self.is_known(op) {
            self.known.set(self.bit[op]);
            self.known_hash ^= self.zobrist[op];
        } else {
            self.unknown.set(self.bit[op]);
        }
    }

    fn remove(&mut self, op: usize) {
        if self.is_known(op) {
            self.known.clear(self.bit[op]);
            self.known_hash ^= self.zobrist[op];
        } else {
            self.unknown.clear(self.bit[op]);
        }
    }

    /// Records this configuration (with `state`) in the cache; false if it was seen before.
    fn visit<S: Clone + Eq + std::hash::Hash>(&self, cache: &mut Cache<S>, state: &S) -> bool {
        cache.visit(self.known_hash, &self.known, &self.unknown, state)
    }
}

/// Searches one partition for a linearization, in at most `budget` steps.
pub(crate) fn search<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    partition: &[usize],
    budget: u64,
) -> SearchResult {
    let mut list = EventList::new(history, partition);
    let ops: Vec<&Operation<M::Input, M::Output>> =
        partition.iter().map(|&index| &history[index]).collect();
    let mut placed = Placed::new(&ops);
    // Returned operations not yet placed: when none is left, the rest (unknown outcomes) can
    // all be left out, so the history is linearizable.
    let mut must_place = placed.known_count();
    let mut cache = Cache::new(placed.known_count(), ops.len() - placed.known_count());
    let mut state = model.init();
    placed.visit(&mut cache, &state);
    // Placed operations in order, each with the state before it (to restore on undo).
    let mut stack: Vec<(usize, M::State)> = Vec::new();
    // The longest prefix placed so far (history indexes), and how many of its first entries
    // the stack still holds.
    let mut longest: Vec<usize> = Vec::new();
    let mut agree = 0;
    let mut steps = 0u64;
    let mut event = list.first();

    let outcome = loop {
        if must_place == 0 {
            let order = stack.iter().map(|&(op, _)| partition[op]).collect();
            break SearchOutcome::Linearizable { order };
        }
        if steps >= budget {
            break SearchOutcome::OutOfBudget;
        }
        steps += 1;
        let Event { op, is_call } = list.events[event];
        if is_call {
            // A candidate: try placing it now.
            let (after, output) = model.step(&state, &ops[op].input);
            let fits = match &ops[op].outcome {
                Outcome::Returned { output: seen, .. } => *seen == output,
                Outcome::Unknown => true,
            };
            if fits {
                placed.place(op);
                if placed.visit(&mut cache, &after) {
                    stack.push((op, std::mem::replace(&mut state, after)));
                    list.lift(op);
                    must_place -= usize::from(placed.is_known(op));
                    event = list.first();
                    continue;
                }
                placed.remove(op);
            }
            event = list.next[event];
        } else {
            // The earliest return among the operations left: every operation placed next must
            // have been called before it, and none leads anywhere. Undo the last choice.
            if stack.len() > longest.len() {
                // A new longest prefix: copy only what changed since the last one (the first
                // `agree` entries are still the same), so the copies cost O(pushes), not
                // O(depth) at each new maximum.
                longest.truncate(agree);
                longest.extend(stack[agree..].iter().map(|&(op, _)| partition[op]));
                agree = stack.len();
            }
            let Some((undone, before)) = stack.pop() else {
                break SearchOutcome::Stuck { prefix: longest };
            };
            agree = agree.min(stack.len());
            state = before;
            placed.remove(undone);
            list.unlift(undone);
            must_place += usize::from(placed.is_known(undone));
            event = list.next[list.call_of[undone]];
        }
    };
    SearchResult {
        outcome,
        steps,
        peak_cache_entries: cache.len(),
        peak_cache_bitset_bytes: cache.bitset_bytes(),
    }
}
