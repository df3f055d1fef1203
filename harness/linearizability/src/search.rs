//! The search itself: Wing & Gong's backtracking with Lowe's memoization, over one partition.
//!
//! The operations not yet placed are kept in time-ordered linked lists ([`Lists`]). At each
//! configuration (operations placed, model state), the candidates are the operations called
//! no later than the earliest return left; the search tries them reads first (a read that
//! fits is placed at once, with no alternative tried), then the others, returned or of
//! unknown outcome, in call order ([`Class`]). A candidate that gives the output
//! its client saw, and leads to a configuration the cache has not seen, is placed; when no
//! candidate is left, the last choice is undone.
//!
//! An operation with an unknown outcome has no return: it never bounds the candidates, so it
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

/// The two kinds of candidates, in the order the search tries them at each configuration.
///
/// - `Read`: a returned operation that leaves the state unchanged wherever it fits
///   ([`Model::is_read_only`]). If one fits now, it is placed now and nothing else is tried
///   here: any linearization from this point stays one when that read moves to the front (it
///   may go now, since nothing left returned before its call; it changes no state, so taking it
///   out of its later place changes no output). A partial-order reduction: the reads of a
///   history no longer multiply the orders searched.
/// - `Write`: every other operation, returned or of unknown outcome, in call order. These are
///   the real choices. (Trying unknown outcomes after the returned writes looks natural, since
///   they are never required, but measured worse: an unknown write that never took effect then
///   stays a candidate to the end and is tried again at every backtrack; in call order the
///   search places it early where it is harmless, e.g. overwritten, and it is gone. 23,462
///   steps instead of over 10,000,000 on the bench's 10,000-operation, 10-client history.)
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Class {
    Read = 0,
    Write = 1,
}

impl Class {
    /// The class tried after this one at the same configuration.
    fn after(self) -> Option<Class> {
        match self {
            Class::Read => Some(Class::Write),
            Class::Write => None,
        }
    }
}

/// The list of returns (its head comes after the call lists' heads).
const RETURNS: usize = 2;

/// The operations not yet placed, as three circular doubly linked lists sorted by time: the
/// calls of each [`Class`], and the returns of the returned operations. Node `op` is the call
/// of operation `op` (a partition-local number), node `count + op` its return, and node
/// `2 * count + list` the head of list `list`.
///
/// An operation may be placed next when it was called no later than the earliest return left
/// (at equal times, a call comes first: the two overlap); since each call list is sorted,
/// its candidates are a prefix of it. Placing ("lifting") an operation unlinks its call and
/// return; undoing it links them back in reverse order, so the lists are restored exactly
/// (Knuth's dancing links) and the search allocates nothing per step.
struct Lists {
    count: usize,
    /// The time of each call and return node.
    time: Vec<u64>,
    next: Vec<usize>,
    prev: Vec<usize>,
    /// Each operation's class; `None` for one never worth placing (an unknown outcome that
    /// changes no state).
    class: Vec<Option<Class>>,
    returned: Vec<bool>,
}

impl Lists {
    fn new<M: Model>(model: &M, ops: &[&Operation<M::Input, M::Output>]) -> Self {
        let count = ops.len();
        let nodes = 2 * count + RETURNS + 1;
        let mut lists = Lists {
            count,
            time: vec![0; 2 * count],
            next: (0..nodes).collect(),
            prev: (0..nodes).collect(),
            class: Vec::with_capacity(count),
            returned: Vec::with_capacity(count),
        };
        let mut members: [Vec<(u64, usize)>; RETURNS + 1] = Default::default();
        for (op, operation) in ops.iter().enumerate() {
            let class = match operation.returned_at() {
                Some(_) if model.is_read_only(&operation.input, operation.output()) => {
                    Some(Class::Read)
                }
                Some(_) => Some(Class::Write),
                None if model.is_read_only(&operation.input, None) => None,
                None => Some(Class::Write),
            };
            lists.time[op] = operation.call;
            if let Some(class) = class {
                members[class as usize].push((operation.call, op));
            }
            if let Some(at) = operation.returned_at() {
                lists.time[count + op] = at;
                members[RETURNS].push((at, count + op));
            }
            lists.class.push(class);
            lists.returned.push(operation.returned_at().is_some());
        }
        for (list, mut nodes) in members.into_iter().enumerate() {
            nodes.sort_unstable();
            let head = lists.head(list);
            for (_, node) in nodes {
                // Append `node` at the end (just before the head).
                let last = lists.prev[head];
                lists.next[last] = node;
                lists.prev[node] = last;
                lists.next[node] = head;
                lists.prev[head] = node;
            }
        }
        lists
    }

    fn head(&self, list: usize) -> usize {
        2 * self.count + list
    }

    /// The earliest return left, `u64::MAX` if none.
    fn bound(&self) -> u64 {
        let first = self.next[self.head(RETURNS)];
        if first == self.head(RETURNS) { u64::MAX } else { self.time[first] }
    }

    /// The first candidate at or after `node` in `class`'s list, or in the lists of the
    /// classes after it; `None` when there is none (the configuration is exhausted).
    fn candidate(&self, mut class: Class, mut node: usize) -> Option<(Class, usize)> {
        let bound = self.bound();
        loop {
            if node != self.head(class as usize) && self.time[node] <= bound {
                return Some((class, node));
            }
            class = class.after()?;
            node = self.next[self.head(class as usize)];
        }
    }

    /// The first candidate of the configuration, reads first.
    fn first_candidate(&self) -> Option<(Class, usize)> {
        self.candidate(Class::Read, self.next[self.head(Class::Read as usize)])
    }

    fn unlink(&mut self, node: usize) {
        let (prev, next) = (self.prev[node], self.next[node]);
        self.next[prev] = next;
        self.prev[next] = prev;
    }

    fn relink(&mut self, node: usize) {
        let (prev, next) = (self.prev[node], self.next[node]);
        self.next[prev] = node;
        self.prev[next] = node;
    }

    /// Takes operation `op` out of the lists: it has been placed.
    fn lift(&mut self, op: usize) {
        self.unlink(op);
        if self.returned[op] {
            self.unlink(self.count + op);
        }
    }

    /// Puts operation `op` back, undoing [`Lists::lift`] (reverse order of the unlinks).
    fn unlift(&mut self, op: usize) {
        if self.returned[op] {
            self.relink(self.count + op);
        }
        self.relink(op);
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
        // Bits in call order, so that the sets the cache keeps compress well (`cache::window`).
        let mut by_call: Vec<usize> = (0..ops.len()).collect();
        by_call.sort_by_key(|&op| (ops[op].call, op));
        let (mut known_count, mut unknown_count) = (0, 0);
        let mut bit = vec![0; ops.len()];
        for op in by_call {
            let counter = if returned[op] { &mut known_count } else { &mut unknown_count };
            bit[op] = *counter;
            *counter += 1;
        }
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

/// One placed operation: the state before it (restored on undo), and whether it was a read
/// placed without alternatives (undoing it undoes its parent's choice too).
struct Frame<S> {
    op: usize,
    before: S,
    forced: bool,
}

/// Makes `longest` the stack's operations (history indexes) if the stack is longer: copies only
/// what changed since the last one (its first `agree` entries are still the same), so the
/// copies cost O(pushes), not O(depth) at each new maximum.
fn keep_longest<S>(
    longest: &mut Vec<usize>,
    agree: &mut usize,
    stack: &[Frame<S>],
    partition: &[usize],
) {
    if stack.len() > longest.len() {
        longest.truncate(*agree);
        longest.extend(stack[*agree..].iter().map(|frame| partition[frame.op]));
        *agree = stack.len();
    }
}

/// Searches one partition for a linearization, in at most `budget` steps.
///
/// A step is one candidate tried (the model applied to it) or one backtrack.
///
/// `never_fits`: an operation (history index) [`Model::never_fits`] found no state for, so no
/// linearization exists. The search then only looks for evidence: it stops, `Stuck`, at the
/// first configuration where that operation is among the candidates (so the evidence names it
/// among those that cannot be placed, with what the model says there); if the search runs
/// out of candidates first, the partition fails earlier, with the usual evidence; if it runs
/// out of budget first, it is `Stuck` with the longest prefix found (the verdict is known).
pub(crate) fn search<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    partition: &[usize],
    budget: u64,
    never_fits: Option<usize>,
) -> SearchResult {
    let ops: Vec<&Operation<M::Input, M::Output>> =
        partition.iter().map(|&index| &history[index]).collect();
    let never_fits = never_fits.map(|index| {
        partition
            .iter()
            .position(|&at| at == index)
            .expect("never_fits names an op of the partition")
    });
    let mut lists = Lists::new(model, &ops);
    let mut placed = Placed::new(&ops);
    // Returned operations not yet placed: when none is left, the rest (unknown outcomes) can
    // all be left out, so the history is linearizable.
    let mut must_place = placed.known_count();
    let mut cache = Cache::new(ops.len() - placed.known_count());
    let mut state = model.init();
    placed.visit(&mut cache, &state);
    let mut stack: Vec<Frame<M::State>> = Vec::new();
    // The longest prefix placed so far (history indexes), and how many of its first entries
    // the stack still holds.
    let mut longest: Vec<usize> = Vec::new();
    let mut agree = 0;
    let mut steps = 0u64;
    // The next candidate to try at the current configuration; `None`: backtrack.
    let mut cursor = lists.first_candidate();

    let outcome = 'search: loop {
        if must_place == 0 {
            let order = stack.iter().map(|frame| partition[frame.op]).collect();
            break SearchOutcome::Linearizable { order };
        }
        if let Some(doomed) = never_fits
            && lists.time[doomed] <= lists.bound()
        {
            // The operation that fits nowhere is a candidate here: the evidence.
            let prefix = stack.iter().map(|frame| partition[frame.op]).collect();
            break SearchOutcome::Stuck { prefix };
        }
        if steps >= budget {
            if never_fits.is_some() {
                keep_longest(&mut longest, &mut agree, &stack, partition);
                break SearchOutcome::Stuck { prefix: longest };
            }
            break SearchOutcome::OutOfBudget;
        }
        steps += 1;
        let Some((class, op)) = cursor else {
            // No candidate leads anywhere from here: undo the last choice.
            keep_longest(&mut longest, &mut agree, &stack, partition);
            loop {
                let Some(frame) = stack.pop() else {
                    break 'search SearchOutcome::Stuck { prefix: longest };
                };
                agree = agree.min(stack.len());
                state = frame.before;
                placed.remove(frame.op);
                lists.unlift(frame.op);
                must_place += usize::from(placed.is_known(frame.op));
                if !frame.forced {
                    let class = lists.class[frame.op].expect("only listed operations are placed");
                    cursor = lists.candidate(class, lists.next[frame.op]);
                    break;
                }
            }
            continue;
        };
        let (after, output) = model.step(&state, &ops[op].input);
        let fits = match &ops[op].outcome {
            Outcome::Returned { output: seen, .. } => *seen == output,
            Outcome::Unknown => true,
        };
        if fits {
            placed.place(op);
            if placed.visit(&mut cache, &after) {
                let before = std::mem::replace(&mut state, after);
                stack.push(Frame { op, before, forced: class == Class::Read });
                lists.lift(op);
                must_place -= usize::from(placed.is_known(op));
                cursor = lists.first_candidate();
                continue;
            }
            placed.remove(op);
            if class == Class::Read {
                // This configuration with the read placed was searched before, and it is as
                // good as this one: nothing new here.
                cursor = None;
                continue;
            }
        }
        cursor = lists.candidate(class, lists.next[op]);
    };
    SearchResult {
        outcome,
        steps,
        peak_cache_entries: cache.len(),
        peak_cache_bitset_bytes: cache.bitset_bytes(),
    }
}
