//! The determinism self-check: the same seed must give the same trace, byte for byte.
//!
//! A node that reads a clock, iterates a `HashMap`, or draws from global randomness breaks
//! replay: a failure's seed would not reproduce it. This check runs a scenario twice and
//! compares every event.

use crate::cluster::Cluster;
use crate::node::Node;
use crate::trace::{self, Record};

/// True while [`check_determinism`] runs: clusters built now keep their whole trace (the
/// same as [`trace::keeping_all`], where the flag lives).
pub fn keeping_traces() -> bool {
    trace::keeping_all()
}

/// Runs `scenario` (which builds a cluster, runs it, and returns it) twice and panics, showing
/// the first event that differs, unless both runs have identical traces. Returns how many
/// events each run had.
pub fn check_determinism<N: Node>(scenario: impl Fn() -> Cluster<N>) -> usize {
    let first = record_events(&scenario);
    let second = record_events(&scenario);
    if let Some(at) = (0..first.len().max(second.len())).find(|&i| first.get(i) != second.get(i)) {
        panic!(
            "not deterministic: two runs of the same scenario differ at event {at}:\n  first:  \
             {:?}\n  second: {:?}\nDoes a node read a clock, iterate a HashMap, or use \
             randomness other than the Rng it was given?",
            first.get(at),
            second.get(at)
        );
    }
    first.len()
}

/// Runs `scenario` keeping every event from the start, as `RAFT_TRACE` does, and returns
/// them: for a test that looks at what a whole run did. A randomized run ([`crate::chaos`])
/// otherwise keeps no timeline while it runs.
pub fn record_events<N: Node>(scenario: impl FnOnce() -> Cluster<N>) -> Vec<Record> {
    /// Turns keeping every event off again when the scenario returns or fails.
    struct Keeping;
    impl Drop for Keeping {
        fn drop(&mut self) {
            trace::keep_all_from_now(false);
        }
    }
    trace::keep_all_from_now(true);
    let keeping = Keeping;
    let cluster = scenario();
    drop(keeping);
    cluster.trace().all().expect("the trace was kept").to_vec()
}
