//! The simulated cluster: nodes, a network, a clock, and the checks after every event.
//!
//! A [`Cluster`] owns `nodes` nodes with ids `1..=nodes`. Time moves only in [`Cluster::tick`]:
//! every live node gets one `tick()`, then every message due at this tick is delivered. After
//! each input to a node (a tick, a message, a proposal, a restart) the cluster drains the
//! node's outputs in the order of the node contract ([`crate::node`]), records what changed in
//! the trace, and runs the safety checks ([`crate::checks`]). The first broken rule, node panic
//! or exhausted budget ends the test with a failure report ([`crate::report`]).
//!
//! This module is the core: the slots, the clock, message delivery, and the drain-and-check
//! after every event. The rest of `Cluster`'s methods live with their concept: faults
//! (`faults.rs`), the classic lab's helpers (`lab.rs`, [`crate::client`]), and failure reports
//! (`reports/failure.rs`).

use std::any::Any;
use std::cell::OnceCell;
use std::collections::BTreeSet;
use std::panic::{self, AssertUnwindSafe};

use crate::checks::Checks;
use crate::disk::Disks;
use crate::network::{Fate, InFlight, Network, NetworkConfig};
use crate::node::{
    Applied, Config, Envelope, Index, Node, NodeId, NotLeader, Replicate, Role, Snapshot, Status,
    Term,
};
use crate::report;
use crate::rng::Rng;
use crate::snapshots::SnapshotHooks;
use crate::stats::{MessageStats, Tally, first_word, json_len};
use crate::trace::{Event, Sent, Summary, Trace};
use crate::watchdog::{Call, Watch};

/// Stream numbers for [`Rng::fork`]: each kind of choice draws from its own stream.
pub mod streams {
    /// Delays, losses, duplicates.
    pub const NETWORK: u64 = 1;
    /// Which faults a randomized run injects, and when.
    pub const FAULTS: u64 = 2;
    /// Which commands a randomized run proposes, and where.
    pub const WORKLOAD: u64 = 3;
    /// Node timers: `fork(NODES).fork(id).fork(life)`.
    pub const NODES: u64 = 100;
}

/// Limits that turn a runaway node or test into a clear failure instead of a hang.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Budgets {
    /// The most messages one node may send in answer to one input.
    pub messages_per_event: usize,
    /// The most messages the network may deliver in one tick.
    pub deliveries_per_tick: usize,
    /// The most messages in flight at once.
    pub in_flight: usize,
    /// The most ticks one cluster may run, whatever the test asks.
    pub ticks: u64,
}

impl Default for Budgets {
    fn default() -> Self {
        Budgets {
            messages_per_event: 1_000,
            deliveries_per_tick: 100_000,
            in_flight: 1_000_000,
            ticks: 1_000_000,
        }
    }
}

/// One node's place in the cluster.
pub(crate) struct Slot<N> {
    /// `None` while crashed.
    pub(crate) node: Option<N>,
    /// Bumped at every crash and restart: messages addressed to an earlier life are lost.
    pub(crate) life: u64,
    /// The status read after the node's last event (its last status, once crashed).
    pub(crate) status: Status,
}

/// [`Replicate::take_committed`], for a cluster whose nodes replicate.
type TakeCommitted<N> = fn(&mut N) -> Vec<Applied<<N as Node>::Command>>;

/// What the cluster calls on a node beyond [`Node`], set up by the capability's methods.
pub(crate) struct Hooks<N: Node> {
    pub(crate) committed: Option<TakeCommitted<N>>,
    pub(crate) disks: Option<Box<dyn Disks<N>>>,
    pub(crate) snapshots: Option<SnapshotHooks<N>>,
}

/// A simulated cluster of `N` nodes. See the crate documentation for the whole API.
///
/// Inputs: [`tick`](Cluster::tick), [`run_for`](Cluster::run_for),
/// [`run_until`](Cluster::run_until), [`propose`](Cluster::propose), [`one`](Cluster::one),
/// [`run_clients`](Cluster::run_clients), [`deliver`](Cluster::deliver),
/// [`with_node`](Cluster::with_node). Faults: [`crash`](Cluster::crash),
/// [`restart`](Cluster::restart), [`isolate`](Cluster::isolate) /
/// [`disconnect`](Cluster::disconnect), [`connect`](Cluster::connect),
/// [`partition`](Cluster::partition), [`cut`](Cluster::cut), [`heal`](Cluster::heal),
/// [`set_network`](Cluster::set_network), [`set_message_fault`](Cluster::set_message_fault).
/// Checks: [`check_one_leader`](Cluster::check_one_leader),
/// [`check_no_leader`](Cluster::check_no_leader), [`check_terms`](Cluster::check_terms), and
/// the safety checks after every event.
pub struct Cluster<N: Node> {
    pub(crate) seed: u64,
    pub(crate) size: usize,
    pub(crate) root: Rng,
    pub(crate) config: Config,
    pub(crate) now: u64,
    pub(crate) slots: Vec<Slot<N>>,
    pub(crate) isolated: BTreeSet<NodeId>,
    pub(crate) network: Network<N::Message>,
    pub(crate) checks: Checks<N::Command>,
    pub(crate) trace: Trace,
    /// The message counts, per kind id; [`stats`](Cluster::stats) names them.
    pub(crate) tally: Tally,
    /// The counts as [`MessageStats`], built when read; emptied at every count.
    pub(crate) stats: OnceCell<MessageStats>,
    /// A buffer the kinds of messages are written into ([`first_word`]).
    pub(crate) text: String,
    pub(crate) hooks: Hooks<N>,
    pub(crate) budgets: Budgets,
    pub(crate) notes: Vec<(String, String)>,
    pub(crate) events: u64,
    /// The event count at which the next full rescan of one node's log is due.
    pub(crate) next_rescan: u64,
    pub(crate) rescans: u64,
    /// The replay command set by [`set_replay`](Cluster::set_replay), if any.
    pub(crate) replay: Option<String>,
    /// Tells the watchdog which node call the cluster is in ([`crate::watchdog`]).
    pub(crate) watch: Watch,
}

/// How often (in events) one node's log shadow is rebuilt from scratch, at least: a log of
/// length L is rescanned after 4 L events at the earliest, so rescans cost O(1) per event.
const RESCAN_EVERY: u64 = 1024;

impl<N: Node> Cluster<N> {
    /// A cluster of `nodes` nodes (ids `1..=nodes`) with [`Config::default`] and a reliable
    /// network (delays of 1 to 3 ticks); every random choice follows from `seed`.
    pub fn new(nodes: usize, seed: u64) -> Self {
        Self::with_config(nodes, seed, Config::default(), NetworkConfig::reliable())
    }

    /// A cluster with the given timing and network settings.
    pub fn with_config(nodes: usize, seed: u64, config: Config, network: NetworkConfig) -> Self {
        assert!(nodes >= 1, "a cluster needs at least one node, got {nodes}");
        let root = Rng::new(seed);
        let mut cluster = Cluster {
            seed,
            size: nodes,
            network: Network::new(nodes, network, root.fork(streams::NETWORK)),
            root,
            config,
            now: 0,
            slots: Vec::with_capacity(nodes),
            isolated: BTreeSet::new(),
            checks: Checks::new(nodes),
            trace: Trace::new(),
            tally: Tally::default(),
            stats: OnceCell::new(),
            text: String::new(),
            hooks: Hooks { committed: None, disks: None, snapshots: None },
            budgets: Budgets::default(),
            notes: Vec::new(),
            events: 0,
            next_rescan: RESCAN_EVERY,
            rescans: 0,
            replay: None,
            watch: Watch::new(seed),
        };
        if report::trace_path().is_some() || crate::trace::keeping_all() {
            cluster.trace.keep_all();
        } else if crate::trace::quieting() {
            cluster.trace.set_quiet(true);
        }
        for id in 1..=nodes as NodeId {
            cluster.start(id);
        }
        cluster
    }

    fn start(&mut self, id: NodeId) {
        let (peers, config, rng) = (self.peers(id), self.config.clone(), self.node_rng(id, 0));
        let node = match guarded(&self.watch, id, Call::New, || N::new(id, peers, config, rng)) {
            Ok(node) => node,
            Err(message) => self.node_panicked(id, "new()", message),
        };
        let status = Status {
            term: 0,
            role: Role::Follower,
            voted_for: None,
            commit_index: 0,
            last_log_index: 0,
            snapshot_index: 0,
        };
        self.slots.push(Slot { node: Some(node), life: 0, status });
        self.after_event(id);
    }

    /// The seed every random choice of this run follows from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Simulated time: the number of ticks run so far.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// The node ids, `1..=nodes`.
    pub fn ids(&self) -> Vec<NodeId> {
        (1..=self.size as NodeId).collect()
    }

    /// The timing settings the nodes were built with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Node `id`, for assertions; fails the test if it is crashed.
    pub fn node(&self, id: NodeId) -> &N {
        match self.slot(id).node.as_ref() {
            Some(node) => node,
            None => self.fail(&format!("node(n{id}): n{id} is crashed")),
        }
    }

    /// True unless node `id` is crashed.
    pub fn is_up(&self, id: NodeId) -> bool {
        self.slot(id).node.is_some()
    }

    /// Node `id`'s status after its last event (its last one before it crashed, if it did).
    pub fn status(&self, id: NodeId) -> Status {
        self.slot(id).status.clone()
    }

    /// The message counts so far.
    pub fn stats(&self) -> &MessageStats {
        self.stats.get_or_init(|| self.tally.stats())
    }

    /// The trace so far.
    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// Changes the budgets (see [`Budgets`]).
    pub fn set_budgets(&mut self, budgets: Budgets) {
        self.budgets = budgets;
    }

    /// Adds a line to the report's settings, e.g. a fault schedule derived from the seed.
    pub fn note(&mut self, name: &str, value: impl Into<String>) {
        self.notes.push((name.to_string(), value.into()));
    }

    /// An independent generator for `stream` (see [`streams`]), derived from the seed.
    pub fn fork_rng(&self, stream: u64) -> Rng {
        self.root.fork(stream)
    }

    pub(crate) fn node_rng(&self, id: NodeId, life: u64) -> Rng {
        self.root.fork(streams::NODES).fork(id).fork(life)
    }

    pub(crate) fn peers(&self, id: NodeId) -> Vec<NodeId> {
        self.ids().into_iter().filter(|&peer| peer != id).collect()
    }

    pub(crate) fn slot(&self, id: NodeId) -> &Slot<N> {
        match self.slots.get((id as usize).wrapping_sub(1)) {
            Some(slot) => slot,
            None => self.fail(&format!("there is no node n{id}: ids are 1..={}", self.slots.len())),
        }
    }

    /// One tick: every live node ticks, then the messages due now are delivered, each event
    /// followed by the checks.
    pub fn tick(&mut self) {
        self.now += 1;
        self.watch.set_tick(self.now);
        if self.now > self.budgets.ticks {
            self.fail_budget(&format!(
                "tick budget: the cluster ran {} ticks (Budgets::ticks); a test that waits for \
                 a condition should use run_until with a bound",
                self.budgets.ticks
            ));
        }
        for id in 1..=self.size as NodeId {
            if let Some(node) = self.slots[id as usize - 1].node.as_mut() {
                if let Err(message) = guarded(&self.watch, id, Call::Tick, || node.tick()) {
                    self.node_panicked(id, "tick()", message);
                }
                self.after_event(id);
            }
        }
        // With `min_delay: 0` a message sent while delivering may be due now too: deliver until
        // nothing is. With `min_delay >= 1` the second round finds nothing.
        let mut delivered = 0;
        loop {
            let mut due = self.network.take_due(self.now);
            if due.is_empty() {
                break;
            }
            delivered += due.len();
            if delivered > self.budgets.deliveries_per_tick {
                self.fail_budget(&format!(
                    "delivery budget: {delivered} messages due at tick {} \
                     (Budgets::deliveries_per_tick is {})",
                    self.now, self.budgets.deliveries_per_tick
                ));
            }
            for message in due.drain(..) {
                self.arrive(message);
            }
            self.network.recycle(due);
        }
    }

    /// Runs `ticks` ticks.
    pub fn run_for(&mut self, ticks: u64) {
        for _ in 0..ticks {
            self.tick();
        }
    }

    /// Ticks until `condition` holds (checked first, then after every tick), at most
    /// `max_ticks` ticks; true if it held.
    pub fn run_until(&mut self, max_ticks: u64, mut condition: impl FnMut(&Self) -> bool) -> bool {
        if condition(self) {
            return true;
        }
        for _ in 0..max_ticks {
            self.tick();
            if condition(self) {
                return true;
            }
        }
        false
    }

    /// One step of a story, a test built to reach one schedule ([`crate::seeds::story_seeds`]):
    /// runs until `condition` holds, as [`Cluster::run_until`] does, at most `max_ticks` ticks;
    /// if it never does, fails with the full report, which names `step` ("the test's story did
    /// not happen: `step` within `max_ticks` ticks"). A story that does not happen as told tests
    /// nothing, so it must not pass: the report says the schedule was not reached, not that a
    /// rule broke.
    ///
    /// ```ignore
    /// cluster.story_step("the disconnected follower times out", 4 * timeout, |c| {
    ///     c.status(behind).term > old_term
    /// });
    /// ```
    pub fn story_step(&mut self, step: &str, max_ticks: u64, condition: impl FnMut(&Self) -> bool) {
        let reached = self.run_until(max_ticks, condition);
        self.ensure_story(reached, || format!("{step} within {max_ticks} ticks"));
    }

    /// A message from the network reaches its receiver, unless the receiver crashed since it
    /// was sent or the link was cut while it travelled.
    fn arrive(&mut self, message: InFlight<N::Message>) {
        let InFlight { from, to, life, message, kind } = message;
        let slot = &self.slots[to as usize - 1];
        let reason = if slot.node.is_none() || slot.life != life {
            Some("crashed")
        } else if !self.network.links.is_open(from, to) {
            Some("cut")
        } else {
            None
        };
        if let Some(reason) = reason {
            self.stats.take();
            let (all, to_node) = self.tally.both_mut(to, kind);
            (all.dropped, to_node.dropped) = (all.dropped + 1, to_node.dropped + 1);
            let summary = Sent::summary(&message);
            self.trace.push(self.now, Event::Drop { from, to, message: summary, reason });
            return;
        }
        self.stats.take();
        let (all, to_node) = self.tally.both_mut(to, kind);
        (all.delivered, to_node.delivered) = (all.delivered + 1, to_node.delivered + 1);
        let summary = Sent::summary(&message);
        self.step(to, from, Sent::into_message(message), summary);
    }

    /// Node `to` steps `message` from `from`: traced, then drained and checked.
    fn step(&mut self, to: NodeId, from: NodeId, message: N::Message, summary: Summary) {
        let term = self.slots[to as usize - 1].status.term;
        self.trace.push(self.now, Event::Receive { from, to, term, message: summary });
        let node = self.slots[to as usize - 1].node.as_mut().expect("checked live by the caller");
        if let Err(panic) = guarded(&self.watch, to, Call::Step, || node.step(from, message)) {
            self.node_panicked(
                to,
                &format!("step(from n{from}, the last message received)"),
                panic,
            );
        }
        self.after_event(to);
    }

    /// Hands node `to` a message the test built, with the sender and term of its choice, as if
    /// it arrived from `from` now: traced as a receive, stepped, then drained and checked like
    /// any event. It never crossed the network, so [`stats`](Cluster::stats) does not count it.
    /// The etcd-style paper tests do this to one node; here the rest of the cluster runs on.
    /// Fails with the report if `to` is crashed or `from` is not another node.
    pub fn deliver(&mut self, to: NodeId, from: NodeId, message: N::Message) {
        let size = self.size as NodeId;
        let summary = match guarded(&self.watch, to, Call::Display, || message.to_string()) {
            Ok(text) => text,
            Err(panic) => self.node_panicked(to, "Display for the message", panic),
        };
        if !self.is_up(to) {
            self.fail(&format!("deliver(n{to}, n{from}, {summary}): n{to} is crashed"));
        }
        if from == to || !(1..=size).contains(&from) {
            self.fail(&format!(
                "deliver(n{to}, n{from}, {summary}): the sender must be another node in 1..={size}"
            ));
        }
        self.step(to, from, message, summary.into());
    }

    /// Runs `f` on node `id` itself, mutably, and returns what it returns: for a test that
    /// needs to reach inside one node (set a field, call a method of its own). Afterwards the
    /// cluster drains the node's outputs and runs the checks, as after any event. Traced as
    /// `with_node`. Fails with the report if `id` is crashed, or if `f` panics.
    pub fn with_node<R>(&mut self, id: NodeId, f: impl FnOnce(&mut N) -> R) -> R {
        let term = self.slot(id).status.term;
        let Some(node) = self.slots[id as usize - 1].node.as_mut() else {
            self.fail(&format!("with_node(n{id}): n{id} is crashed"))
        };
        self.trace.push(self.now, Event::WithNode { node: id, term });
        let result = match guarded(&self.watch, id, Call::WithNode, || f(node)) {
            Ok(result) => result,
            Err(panic) => self.node_panicked(id, "with_node()", panic),
        };
        self.after_event(id);
        result
    }

    /// Drains node `id`'s outputs in contract order (persist, messages, committed), records
    /// what changed, checks, then sends.
    pub(crate) fn after_event(&mut self, id: NodeId) {
        self.events += 1;
        let index = id as usize - 1;
        let node = self.slots[index].node.as_mut().expect("after_event on a live node");
        if let Some(disks) = self.hooks.disks.as_mut() {
            if let Err(panic) =
                guarded(&self.watch, id, Call::TakePersist, || disks.write(id, node))
            {
                self.node_panicked(id, "take_persist()", panic);
            }
        }
        let node = self.slots[index].node.as_mut().expect("live");
        let messages = match guarded(&self.watch, id, Call::TakeMessages, || node.take_messages()) {
            Ok(messages) => messages,
            Err(panic) => self.node_panicked(id, "take_messages()", panic),
        };
        let snapshot = self.drain_snapshot(id);
        let applied = self.drain_committed(id);
        let node = self.slots[index].node.as_ref().expect("live");
        let status = match guarded(&self.watch, id, Call::Status, || node.status()) {
            Ok(status) => status,
            Err(panic) => self.node_panicked(id, "status()", panic),
        };
        if let Some(snapshot) = &snapshot {
            let event = Event::Restore { node: id, term: status.term, index: snapshot.index };
            self.trace.push(self.now, event);
        }
        self.record_changes(id, &status, &applied);
        self.slots[index].status = status.clone();
        self.check(id, &status, snapshot.as_ref(), &applied);
        self.record_log(id);
        self.send_all(id, messages);
        self.maybe_compact(id);
        if self.events >= self.next_rescan {
            self.rescans += 1;
            let victim = self.rescans % self.size as u64 + 1;
            self.rescan(victim);
            let length = self.slots[victim as usize - 1].status.last_log_index;
            self.next_rescan = self.events + RESCAN_EVERY.max(4 * length);
        }
    }

    fn drain_committed(&mut self, id: NodeId) -> Vec<Applied<N::Command>> {
        let Some(take) = self.hooks.committed else { return Vec::new() };
        let node = self.slots[id as usize - 1].node.as_mut().expect("live");
        match guarded(&self.watch, id, Call::TakeCommitted, || take(node)) {
            Ok(applied) => applied,
            Err(panic) => self.node_panicked(id, "take_committed()", panic),
        }
    }

    fn record_changes(&mut self, id: NodeId, status: &Status, applied: &[Applied<N::Command>]) {
        let before = &self.slots[id as usize - 1].status;
        let (term, now, trace) = (status.term, self.now, &mut self.trace);
        if term != before.term {
            trace.push(now, Event::Term { node: id, term });
        }
        if status.role != before.role {
            trace.push(now, Event::Role { node: id, term, role: status.role });
        }
        if let Some(voted_for) = status.voted_for {
            if (before.term, before.voted_for) != (term, Some(voted_for)) {
                trace.push(now, Event::Vote { node: id, term, voted_for });
            }
        }
        if status.commit_index != before.commit_index {
            trace.push(now, Event::Commit { node: id, term, commit_index: status.commit_index });
        }
        if let (Some(first), Some(last)) = (applied.first(), applied.last()) {
            trace.push(now, Event::Apply { node: id, term, first: first.index, last: last.index });
        }
    }

    fn check(
        &mut self,
        id: NodeId,
        status: &Status,
        snapshot: Option<&Snapshot>,
        applied: &[Applied<N::Command>],
    ) {
        let node = self.slots[id as usize - 1].node.as_ref().expect("live");
        let checks = &mut self.checks;
        let result = guarded(&self.watch, id, Call::LogEntry, || {
            checks.observe(id, node, status)?;
            if let Some(snapshot) = snapshot {
                checks.observe_snapshot(id, status, snapshot)?;
            }
            checks.observe_applied(id, status, applied)
        });
        match result {
            Ok(Ok(())) => {}
            Ok(Err(violation)) => self.fail_violation(&violation),
            Err(panic) => self.node_panicked(id, "log_entry() (read by the checks)", panic),
        }
    }

    pub(crate) fn rescan(&mut self, id: NodeId) {
        let Some(node) = self.slots[id as usize - 1].node.as_ref() else { return };
        let status = &self.slots[id as usize - 1].status;
        let checks = &mut self.checks;
        match guarded(&self.watch, id, Call::LogEntry, || checks.rescan(id, node, status)) {
            Ok(Ok(())) => {}
            Ok(Err(violation)) => self.fail_violation(&violation),
            Err(panic) => self.node_panicked(id, "log_entry() (read by the checks)", panic),
        }
    }

    /// Rebuilds every live node's log shadow from scratch and checks it: the full scan that
    /// backs up the incremental one. Randomized runs call it at the end.
    pub fn check_logs(&mut self) {
        for id in self.ids() {
            self.rescan(id);
        }
    }

    fn send_all(&mut self, id: NodeId, messages: Vec<Envelope<N::Message>>) {
        if messages.len() > self.budgets.messages_per_event {
            self.fail_budget(&format!(
                "message budget: n{id} sent {} messages in answer to one event \
                 (Budgets::messages_per_event is {}); is it flooding?",
                messages.len(),
                self.budgets.messages_per_event
            ));
        }
        for envelope in messages {
            self.send(id, envelope);
        }
        if self.network.in_flight() > self.budgets.in_flight {
            self.fail_budget(&format!(
                "in-flight budget: {} messages in flight (Budgets::in_flight is {})",
                self.network.in_flight(),
                self.budgets.in_flight
            ));
        }
    }

    fn send(&mut self, id: NodeId, envelope: Envelope<N::Message>) {
        let Envelope { from, to, message } = envelope;
        let size = self.slots.len() as NodeId;
        if from != id || to == id || !(1..=size).contains(&to) {
            self.fail(&format!(
                "Node contract violated: n{id} sent a message from n{from} to n{to}; the sender \
                 must be the node itself and the receiver another node in 1..={size}"
            ));
        }
        // The kind now (the first word of the summary); the summary itself when it is read.
        let mut word = std::mem::take(&mut self.text);
        word.clear();
        match guarded(&self.watch, id, Call::Display, || first_word(&message, &mut word)) {
            Ok(Ok(())) => {}
            Ok(Err(_)) => self.node_panicked(
                id,
                "Display for the message",
                "a Display implementation returned an error unexpectedly: Error".to_string(),
            ),
            Err(panic) => self.node_panicked(id, "Display for the message", panic),
        }
        let kind = self.tally.kind(&word);
        self.text = word;
        let bytes = self.tally.count_bytes.then(|| json_len(&message));
        self.stats.take();
        let (all, to_node) = self.tally.both_mut(to, kind);
        all.count_sent(bytes);
        to_node.count_sent(bytes);
        let term = self.slots[id as usize - 1].status.term;
        let life = self.slots[to as usize - 1].life;
        let message = if self.trace.keeps_all() {
            // The whole trace is kept, so every summary will be read: write it now, under the
            // watchdog, and let the message go to its receiver without a copy.
            let watch = &self.watch;
            match guarded(watch, id, Call::Display, || Sent::written(message)) {
                Ok(sent) => sent,
                Err(panic) => self.node_panicked(id, "Display for the message", panic),
            }
        } else {
            Sent::new(message)
        };
        let summary = Sent::summary(&message);
        let flight = InFlight { from, to, life, message, kind };
        let now = self.now;
        let fate = self.network.send(now, flight);
        match fate {
            Fate::Queued { at } => {
                let deliver_at = Some(at);
                self.trace.push(now, Event::Send { from, term, to, message: summary, deliver_at });
            }
            Fate::Duplicated { at, again } => {
                let (all, to_node) = self.tally.both_mut(to, kind);
                (all.duplicated, to_node.duplicated) = (all.duplicated + 1, to_node.duplicated + 1);
                let (copy, deliver_at) = (summary.clone(), Some(at));
                self.trace.push(now, Event::Send { from, term, to, message: summary, deliver_at });
                self.trace.push(now, Event::Duplicate { from, to, message: copy, again });
            }
            Fate::Cut | Fate::Lost | Fate::Faulted { .. } => {
                let (all, to_node) = self.tally.both_mut(to, kind);
                (all.dropped, to_node.dropped) = (all.dropped + 1, to_node.dropped + 1);
                let reason = match fate {
                    Fate::Faulted { fault } => fault,
                    _ if self.network.links.is_open(from, to) => "loss",
                    _ => "cut",
                };
                self.trace.push(now, Event::Drop { from, to, message: summary, reason });
            }
        }
    }
}

impl<N: Replicate> Cluster<N> {
    /// From now on, drain and check the entries nodes apply (State Machine Safety, §5.4.3).
    /// [`propose`](Cluster::propose) and [`submit`](Cluster::submit) call it.
    pub fn track_applied(&mut self) {
        if self.hooks.committed.is_none() {
            self.hooks.committed = Some(N::take_committed);
        }
    }

    /// A client hands `command` to node `id`: `Ok((index, term))` if it leads (§5.3).
    pub fn propose(&mut self, id: NodeId, command: N::Command) -> Result<(Index, Term), NotLeader> {
        self.track_applied();
        // The command's text is for the timeline: a quiet trace (a randomized run) drops the
        // event unread, so it is not written there (it was 2 % of such a run).
        let text = if self.trace.is_quiet() { String::new() } else { format!("{command:?}") };
        let Some(node) =
            self.slots.get_mut((id as usize).wrapping_sub(1)).and_then(|s| s.node.as_mut())
        else {
            let text = format!("{command:?}");
            self.fail(&format!("propose(n{id}, {text}): n{id} is crashed or does not exist"))
        };
        let result = match guarded(&self.watch, id, Call::Propose, || node.propose(command)) {
            Ok(result) => result,
            Err(panic) => self.node_panicked(id, "propose()", panic),
        };
        let (index, term) = match &result {
            Ok((index, term)) => (Some(*index), *term),
            Err(_) => (None, self.slot(id).status.term),
        };
        self.trace.push(self.now, Event::Propose { node: id, term, command: text, index });
        self.after_event(id);
        result
    }
}

impl<N: Node> Drop for Cluster<N> {
    /// Writes the trace to `RAFT_TRACE`, if set, for runs that passed too.
    fn drop(&mut self) {
        if !std::thread::panicking() {
            report::write_trace(self.seed, &self.trace, None);
        }
    }
}

/// Runs `f`, a `call` into node `id`, turning a panic into its message, verbatim; `watch`
/// tells the watchdog, which ends the process if the call never returns.
pub(crate) fn guarded<R>(
    watch: &Watch,
    id: NodeId,
    call: Call,
    f: impl FnOnce() -> R,
) -> Result<R, String> {
    watch.enter(id, call);
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    watch.exit();
    result.map_err(panic_text)
}

/// A panic's message, verbatim.
pub(crate) fn panic_text(payload: Box<dyn Any + Send>) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text.to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "(a panic with a non-text payload)".to_string()
    }
}
