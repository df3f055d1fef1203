//! How a cluster fails: it gathers the report ([`crate::report`]) and panics with it.
//!
//! Every failure, a broken rule, a node's panic, an exhausted budget or a helper that gives
//! up, goes through [`Cluster::fail`], so every one carries the replay command, the seed and
//! settings, the timeline and the state of every node. (A randomized run that keeps no
//! timeline unwinds instead, and runs its seed again to print that report: [`crate::chaos`].)

use crate::checks::Violation;
use crate::cluster::{Cluster, guarded};
use crate::node::{Index, Node, NodeId};
use crate::report::{self, Report};
use crate::trace::{Event, QuietFailure};
use crate::watchdog::Call;

impl<N: Node> Cluster<N> {
    /// Sets the command a failure report (and the watchdog) prints to replay this run, for
    /// runners that are not `cargo test`: `replay(seed)` is called once, with this run's seed.
    /// The default is the `cargo test` line of the running test
    /// ([`report::replay_command`]).
    ///
    /// ```ignore
    /// cluster.set_replay(|seed| format!("cargo run --example scenario -- --seed {seed}"));
    /// ```
    pub fn set_replay(&mut self, replay: impl FnOnce(u64) -> String) {
        let command = replay(self.seed);
        self.watch.set_replay(command.clone());
        self.replay = Some(command);
    }

    /// Panics with the full failure report: seed, replay command, `why`, timeline, state.
    pub fn fail(&self, why: &str) -> ! {
        self.fail_with(why, None)
    }

    /// A test's own assertion: unless `condition` holds, fails with the full report and the
    /// text `why` builds (only built when it fails), so that the learner gets the seed, the
    /// replay command and the timeline, not a bare `assertion failed`.
    pub fn ensure(&self, condition: bool, why: impl FnOnce() -> String) {
        if !condition {
            self.fail(&why());
        }
    }

    /// A story's check that its schedule was reached (see [`Cluster::story_step`]): unless
    /// `happened` holds, fails with the full report and "the test's story did not happen: "
    /// followed by the text `what` builds (only built when it fails).
    pub fn ensure_story(&self, happened: bool, what: impl FnOnce() -> String) {
        self.ensure(happened, || format!("the test's story did not happen: {}", what()));
    }

    pub(crate) fn fail_violation(&self, violation: &Violation) -> ! {
        let diff = report::log_diff(violation, |id, upto| self.log_lines(id, upto));
        self.fail_with(&violation.to_string(), diff)
    }

    pub(crate) fn fail_budget(&self, why: &str) -> ! {
        self.fail_with(&format!("Budget exceeded: {why}"), None)
    }

    pub(crate) fn node_panicked(&self, id: NodeId, call: &str, message: String) -> ! {
        self.fail_with(&format!("n{id} panicked in {call}: {message}"), None)
    }

    pub(crate) fn fail_with(&self, why: &str, diff: Option<String>) -> ! {
        if self.trace.is_quiet() {
            // No timeline to show: the run replays its seed to print the report.
            let failure = QuietFailure { why: why.to_string(), tick: self.now };
            std::panic::resume_unwind(Box::new(failure));
        }
        self.write_summaries();
        let text = report::render(&self.report(why, diff));
        self.write_failed_trace(why);
        panic!("{text}")
    }

    /// Writes the summaries of the messages in the recent events, which the report shows and
    /// which were not written when sent (see [`crate::trace::Summary`]): each is a call of its
    /// sender's `Display`, so it runs under the watchdog.
    fn write_summaries(&self) {
        for record in self.trace.kept() {
            let (Event::Send { from, message, .. }
            | Event::Receive { from, message, .. }
            | Event::Drop { from, message, .. }
            | Event::Duplicate { from, message, .. }) = &record.event
            else {
                continue;
            };
            let _ = guarded(&self.watch, *from, Call::Display, || message.len());
        }
    }

    /// A node's log up to `upto` as one line per entry, or why it cannot be read.
    pub(crate) fn log_lines(&self, id: NodeId, upto: Index) -> Vec<String> {
        let Some(node) = self.slot(id).node.as_ref() else {
            return vec![format!("(n{id} is crashed)")];
        };
        let first = upto.saturating_sub(report::DIFF_ENTRIES as u64 - 1).max(1);
        let snapshot_index = self.slot(id).status.snapshot_index;
        let lines = guarded(&self.watch, id, Call::LogEntry, || {
            (first..=upto)
                .map(|index| match node.log_entry(index) {
                    Some((term, command)) => format!("{index:>5}  t{term:<4} {command:?}"),
                    None if index <= snapshot_index => format!("{index:>5}  (in the snapshot)"),
                    None => format!("{index:>5}  (none)"),
                })
                .collect()
        });
        lines.unwrap_or_else(|panic| vec![format!("(n{id}'s log_entry panicked: {panic})")])
    }

    pub(crate) fn report(&self, why: &str, diff: Option<String>) -> Report {
        let mut settings = vec![
            ("nodes".to_string(), format!("{} (ids 1..={})", self.size, self.size)),
            (
                "config".to_string(),
                format!(
                    "election_timeout {} (timeouts drawn from [{}, {})), heartbeat_interval {}",
                    self.config.election_timeout,
                    self.config.election_timeout,
                    2 * self.config.election_timeout,
                    self.config.heartbeat_interval
                ),
            ),
            ("network".to_string(), self.network.config.to_string()),
            (
                "streams".to_string(),
                "Rng::new(seed).fork(1) network, fork(2) faults, fork(3) workload, \
                 fork(100).fork(id).fork(life) node timers"
                    .to_string(),
            ),
        ];
        if !self.network.faults.is_empty() {
            let faults: Vec<String> = self.network.faults.iter().map(|f| f.to_string()).collect();
            settings.push(("faults".to_string(), faults.join("; ")));
        }
        settings.extend(self.notes.iter().cloned());
        // Only the nodes built so far: a report can come from inside `new()` of node 2.
        let built = self.slots.len() as NodeId;
        let rows = (1..=built).map(|id| self.state_row(id)).collect();
        let replay = self.replay.clone();
        Report {
            seed: self.seed,
            replay: replay.unwrap_or_else(|| report::replay_command(self.seed)),
            why: why.to_string(),
            now: self.now,
            events: self.trace.count(),
            settings,
            nodes: self.slots.len(),
            recent: self.trace.kept().cloned().collect(),
            rows,
            diff,
        }
    }

    pub(crate) fn state_row(&self, id: NodeId) -> report::Row {
        let slot = self.slot(id);
        let disk = self.hooks.disks.as_ref().map(|disks| disks.describe(id));
        report::Row {
            id,
            up: slot.node.is_some(),
            connected: self.is_connected(id),
            status: slot.status.clone(),
            last_applied: self.checks.last_applied(id),
            disk,
        }
    }
}
