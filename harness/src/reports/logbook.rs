//! The logbook: every change to every node's log, kept beside the events of a whole trace.
//!
//! Events carry message summaries, not log entries, so a trace alone cannot say what each
//! node's log held at each moment. The trace page ([`crate::page`]) shows exactly that, so a
//! cluster that keeps its whole trace (`RAFT_TRACE`, [`Cluster::keep_whole_trace`]) also keeps
//! a logbook: after every event, each change to the node's log, as "from index `from` on, the
//! log is now these entries". The trace file carries it as `logs`, beside `events`.
//!
//! The logbook only reads (`status`, `log_entry`, the observation half of the node contract)
//! after the checks have run; it adds no event and draws no randomness, so a run and its
//! events are the same with or without it. Like the checks' shadow logs, it compares from the
//! tail back to the first entry it already knows: a node that rewrites an entry in the middle
//! of an unchanged tail is caught by the checks' rescans, not shown here.

use serde::Serialize;

use crate::cluster::{Cluster, guarded};
use crate::node::{Index, Node, NodeId, Term};
use crate::watchdog::Call;

/// One change to one node's log.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LogChange {
    /// How many events of the trace happened before the change: it belongs to the event
    /// numbered `event - 1` (counting from 0) or one of the events just before it.
    pub event: u64,
    /// The node.
    pub node: NodeId,
    /// The first index that changed: entries from here on are replaced by `entries`.
    pub from: Index,
    /// The new entries at `from`, `from + 1`, ...: term and command (`Debug`).
    pub entries: Vec<(Term, String)>,
}

/// Every node's log as last seen, and the changes so far.
#[derive(Debug, Default)]
pub struct Logbook {
    /// Per node (index `id - 1`): term and command of each entry.
    logs: Vec<Vec<(Term, String)>>,
    /// Every change, in order.
    pub(crate) changes: Vec<LogChange>,
    /// The cluster size.
    pub(crate) nodes: usize,
}

impl<N: Node> Cluster<N> {
    /// Keeps every event from now on (and the log changes), as `RAFT_TRACE` does, so that
    /// [`Cluster::trace_json`] holds the whole run: for runners that want the trace page
    /// without the environment variable (the course's `cargo run -- demo`). Call it right
    /// after building the cluster.
    pub fn keep_whole_trace(&mut self) {
        self.trace.keep_all();
    }

    /// The trace as the `RAFT_TRACE` file holds it: `{"seed", "failure", "nodes", "events",
    /// "logs"}` (see `docs/harness.md`), for [`crate::page::render`]. Needs
    /// [`keep_whole_trace`](Cluster::keep_whole_trace) (or `RAFT_TRACE`): a cluster that keeps
    /// only its last events and no log changes fails the test, naming the call, rather than
    /// hand out a trace with most of the run missing.
    pub fn trace_json(&self, failure: Option<&str>) -> String {
        if !self.trace.keeps_all() {
            self.fail(&format!(
                "trace_json(): this cluster keeps only its last {} events and no log changes: \
                 call cluster.keep_whole_trace() right after building it",
                crate::trace::RECENT
            ));
        }
        crate::report::trace_file_json(self.seed, &self.trace, failure)
    }

    /// Notes what changed in node `id`'s log since its last event, if the trace keeps a
    /// logbook. Called after the checks, so every entry it reads was read by them too.
    pub(crate) fn record_log(&mut self, id: NodeId) {
        let Some(book) = self.trace.logbook.as_mut() else { return };
        if book.logs.len() < self.size {
            book.logs.resize(self.size, Vec::new());
            book.nodes = self.size;
        }
        let Some(change) = self.log_change(id) else { return };
        let book = self.trace.logbook.as_mut().expect("checked above");
        let log = &mut book.logs[id as usize - 1];
        log.truncate(change.from as usize - 1);
        // Entries the node only ever held inside a snapshot (§7): known by index only.
        log.resize(change.from as usize - 1, (0, "(in a snapshot)".to_string()));
        log.extend(change.entries.iter().cloned());
        book.changes.push(change);
    }

    /// Writes the trace to `RAFT_TRACE` at a failure, with the log changes of the failing
    /// event: the checks fail before [`Cluster::record_log`] runs, and the entry that broke a
    /// rule is the one the page must show.
    pub(crate) fn write_failed_trace(&self, why: &str) {
        let last = self.unrecorded_log_changes();
        crate::report::write_trace_with(self.seed, &self.trace, Some(why), &last);
    }

    /// The log changes the logbook has not recorded yet: at a failure, those of the failing
    /// event (the live page's trace carries them too, [`crate::live`]).
    pub(crate) fn unrecorded_log_changes(&self) -> Vec<LogChange> {
        (1..=self.slots.len() as NodeId).filter_map(|id| self.log_change(id)).collect()
    }

    /// What changed in node `id`'s log since the logbook last saw it, if anything (and if the
    /// trace keeps a logbook and the node is up).
    fn log_change(&self, id: NodeId) -> Option<LogChange> {
        let book = self.trace.logbook.as_ref()?;
        let node = self.slots.get(id as usize - 1)?.node.as_ref()?;
        let status = &self.slots[id as usize - 1].status;
        let (last, snapshot_index) = (status.last_log_index, status.snapshot_index);
        let empty = Vec::new();
        let known = book.logs.get(id as usize - 1).unwrap_or(&empty);
        let read = guarded(&self.watch, id, Call::LogEntry, || {
            let entry = |index: Index| {
                node.log_entry(index).map(|(term, command)| (term, format!("{command:?}")))
            };
            // Walk back from the shorter end while the entries differ, never into the snapshot
            // (§7), whose entries the node no longer holds.
            let mut from = last.min(known.len() as Index).max(snapshot_index) + 1;
            while from > snapshot_index + 1
                && entry(from - 1).as_ref() != known.get(from as usize - 2)
            {
                from -= 1;
            }
            let entries: Option<Vec<(Term, String)>> = (from..=last).map(entry).collect();
            (from, entries)
        });
        // A log_entry that panics or misses an entry it claims is the checks' to report.
        let Ok((from, Some(entries))) = read else { return None };
        if entries.is_empty() && from as usize > known.len() {
            return None;
        }
        Some(LogChange { event: self.trace.count(), node: id, from, entries })
    }
}
