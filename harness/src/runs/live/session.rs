//! One live run: the cluster, the actions recorded so far, and what the page is sent.
//!
//! A [`Session`] is deterministic like any cluster: it reads no clock and draws nothing of its
//! own. The server ([`super::server`]) decides *when* to tick it (the page's speed), which
//! changes nothing in the run; every action is recorded with the tick it happened at, so
//! [`Session::replay`] of the seed and the actions gives the same trace, byte for byte.
//!
//! An action happens "at tick t" when the cluster's clock reads t: after tick t's events,
//! before tick t + 1. A replay applies it there, in the order recorded.

use std::panic::{self, AssertUnwindSafe};

use serde::Serialize;
use serde_json::{Value, json};

use super::action::{Action, Recorded, format_actions};
use super::stage::Stage;
use crate::cluster::{Cluster, panic_text};
use crate::logbook::LogChange;
use crate::network::NetworkConfig;
use crate::node::{Node, NodeId, Role};

/// How many servers the page shows, as in the Raft visualization: five.
pub const NODES: usize = 5;

/// A live run.
pub struct Session<N: Node> {
    stage: Stage<N>,
    cluster: Cluster<N>,
    /// Every action of this run, in order; those from `applied` on are the future after a
    /// time travel (replayed as the clock reaches them, dropped at the first new action).
    actions: Vec<Recorded>,
    applied: usize,
    /// The rule the run broke (or the node's panic), once it has: the clock stops.
    failure: Option<String>,
    /// The log changes of the failing event, which the checks saw before the logbook did: the
    /// entry that broke a rule is the one the page must show.
    failing_logs: Vec<LogChange>,
    /// Bumped whenever the run is computed again (time travel): the page starts over.
    generation: u64,
    /// The furthest tick computed along these actions (how far the time slider reaches).
    furthest: u64,
    /// The commands handed out so far: `v1`, `v2`, ...
    requests: u64,
}

impl<N: Node> Session<N> {
    /// A fresh run of [`NODES`] servers of `stage` with `seed`, at tick 0.
    pub fn new(stage: Stage<N>, seed: u64) -> Self {
        let mut cluster = stage.cluster(NODES, seed);
        cluster.set_replay(|seed| format!("{} --seed {seed}", stage.command()));
        Session {
            stage,
            cluster,
            actions: Vec::new(),
            applied: 0,
            failure: None,
            failing_logs: Vec::new(),
            generation: 0,
            furthest: 0,
            requests: 0,
        }
    }

    /// The run of `seed` with `actions`, computed up to the end of tick `until` (the actions
    /// at `until` included): the same run, event for event, as the one that recorded them.
    pub fn replay(stage: Stage<N>, seed: u64, actions: Vec<Recorded>, until: u64) -> Self {
        let mut session = Session::new(stage, seed);
        session.actions = actions;
        session.apply_due();
        while session.cluster.now() < until && session.failure.is_none() {
            session.tick();
        }
        session
    }

    /// The cluster, to look at.
    pub fn cluster(&self) -> &Cluster<N> {
        &self.cluster
    }

    /// The stage it runs.
    pub fn stage(&self) -> &Stage<N> {
        &self.stage
    }

    /// The actions recorded so far, the future after a time travel included.
    pub fn actions(&self) -> &[Recorded] {
        &self.actions
    }

    /// The rule the run broke, if it did.
    pub fn failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }

    /// The furthest tick computed along the current actions.
    pub fn furthest(&self) -> u64 {
        self.furthest
    }

    /// Runs one tick, then the recorded actions due at its end; false (and nothing done) once
    /// the run has failed.
    pub fn tick(&mut self) -> bool {
        if self.failure.is_some() {
            return false;
        }
        self.guard(|cluster| cluster.tick());
        self.apply_due();
        self.furthest = self.furthest.max(self.cluster.now());
        self.failure.is_none()
    }

    /// Applies the recorded actions due now (those of a future kept after a time travel).
    fn apply_due(&mut self) {
        while let Some(next) = self.actions.get(self.applied) {
            if next.tick != self.cluster.now() || self.failure.is_some() {
                break;
            }
            let action = next.action.clone();
            self.applied += 1;
            // Checked when it was recorded, against this very state: it applies again.
            let _ = self.apply(&action);
        }
    }

    /// Carries out `action` now and records it, or says why not (nothing is then changed or
    /// recorded). A new action after a time travel drops the old future.
    pub fn act(&mut self, action: Action) -> Result<(), String> {
        if let Some(why) = &self.failure {
            return Err(format!(
                "the run stopped at a broken rule ({}); travel back to change it, or save it",
                first_line(why)
            ));
        }
        self.check(&action)?;
        self.actions.truncate(self.applied);
        self.furthest = self.cluster.now();
        self.actions.push(Recorded { tick: self.cluster.now(), action: action.clone() });
        self.applied += 1;
        self.apply(&action)
    }

    /// The leader a request goes to when the page names none: the one a majority follows,
    /// else any live leader.
    pub fn leader(&self) -> Option<NodeId> {
        let cluster = &self.cluster;
        cluster.majority_leader().or_else(|| cluster.leaders().last().map(|&(id, _)| id))
    }

    /// The next client command: `v1`, `v2`, ... (counted over this run's requests).
    pub fn next_command(&mut self) -> String {
        let used = self.actions[..self.applied]
            .iter()
            .filter(|r| matches!(r.action, Action::Request { .. }))
            .count() as u64;
        self.requests = self.requests.max(used) + 1;
        format!("v{}", self.requests)
    }

    /// Computes the run again from its seed up to the end of tick `tick` (at most as far as
    /// it was computed), keeping the recorded actions after it as its future.
    pub fn travel(&mut self, tick: u64) {
        let tick = tick.min(self.furthest);
        let (stage, seed) = (self.stage.clone(), self.cluster.seed());
        let actions = std::mem::take(&mut self.actions);
        let (generation, furthest) = (self.generation + 1, self.furthest);
        *self = Session::replay(stage, seed, actions, tick);
        self.generation = generation;
        self.furthest = furthest.max(self.cluster.now());
    }

    /// Refuses what the cluster cannot do: an unknown server, crashing a crashed one,
    /// restarting one that is up, an ability the stage lacks, settings out of range.
    fn check(&self, action: &Action) -> Result<(), String> {
        let cluster = &self.cluster;
        let known = |node: NodeId| {
            if (1..=NODES as NodeId).contains(&node) {
                Ok(())
            } else {
                Err(format!("there is no server n{node}: the servers are n1 to n{NODES}"))
            }
        };
        match action {
            Action::Crash { node } => {
                known(*node)?;
                if !cluster.is_up(*node) {
                    return Err(format!("n{node} is already down"));
                }
            }
            Action::Restart { node } => {
                known(*node)?;
                if cluster.is_up(*node) {
                    return Err(format!("n{node} is up: crash it first"));
                }
                if !self.stage.restarts() {
                    return Err(format!(
                        "stage {} nodes keep nothing on disk, so a crashed one stays down \
                         (stage 4 on restart)",
                        self.stage.number
                    ));
                }
            }
            Action::Request { node, command } => {
                known(*node)?;
                if !self.stage.takes_requests() {
                    return Err(format!(
                        "stage {} nodes take no client requests (stage 3 on do)",
                        self.stage.number
                    ));
                }
                if !cluster.is_up(*node) {
                    return Err(format!("n{node} is down: it cannot take a request"));
                }
                let plain = |c: char| c.is_ascii_alphanumeric() || "-_.:=".contains(c);
                if command.is_empty() || command.len() > 40 || !command.chars().all(plain) {
                    return Err(format!(
                        "the command {command:?} must be 1 to 40 letters, digits or -_.:= \
                         (the replay command carries it)"
                    ));
                }
            }
            Action::Isolate { node } | Action::Connect { node } => known(*node)?,
            Action::Partition { groups } => {
                let mut seen = Vec::new();
                for &node in groups.iter().flatten() {
                    known(node)?;
                    if seen.contains(&node) {
                        return Err(format!("n{node} is in two groups"));
                    }
                    seen.push(node);
                }
                if groups.iter().filter(|g| !g.is_empty()).count() < 2 {
                    return Err("a partition needs two groups or more".to_string());
                }
            }
            Action::Heal => {}
            Action::Network { loss_percent, min_delay, max_delay } => {
                if *loss_percent > 100
                    || *min_delay < 1
                    || max_delay < min_delay
                    || *max_delay > 100
                {
                    return Err(format!(
                        "network loss {loss_percent}% delay {min_delay}..{max_delay}: loss is \
                         0 to 100, delays 1 <= low <= high <= 100"
                    ));
                }
            }
        }
        Ok(())
    }

    /// Carries out a checked action on the cluster, under the guard.
    fn apply(&mut self, action: &Action) -> Result<(), String> {
        let stage = self.stage.clone();
        let mut outcome = Ok(());
        self.guard(|cluster| {
            outcome = match action {
                Action::Crash { node } => {
                    cluster.crash(*node);
                    Ok(())
                }
                Action::Restart { node } => stage.restart(cluster, *node),
                Action::Request { node, command } => {
                    stage.propose(cluster, *node, command.clone()).map(|_| ())
                }
                Action::Isolate { node } => {
                    cluster.isolate(*node);
                    Ok(())
                }
                Action::Connect { node } => {
                    cluster.connect(*node);
                    Ok(())
                }
                Action::Partition { groups } => {
                    let groups: Vec<&[NodeId]> = groups.iter().map(Vec::as_slice).collect();
                    cluster.partition(&groups);
                    Ok(())
                }
                Action::Heal => {
                    cluster.heal();
                    Ok(())
                }
                Action::Network { loss_percent, min_delay, max_delay } => {
                    cluster.set_network(NetworkConfig {
                        loss: f64::from(*loss_percent) / 100.0,
                        min_delay: *min_delay,
                        max_delay: *max_delay,
                        ..NetworkConfig::reliable()
                    });
                    Ok(())
                }
            };
        });
        match &self.failure {
            Some(why) => Err(format!("the run broke a rule: {}", first_line(why))),
            // A request refused by a follower is part of the run, not an error of the input.
            None => outcome.map_err(|why| {
                if matches!(action, Action::Request { .. }) {
                    format!("recorded, but refused: {why}")
                } else {
                    why
                }
            }),
        }
    }

    /// Runs `f` on the cluster; a failure (a broken rule, a node's panic, a budget) is kept as
    /// the run's end instead of ending the process. Its report was printed by the panic hook.
    fn guard(&mut self, f: impl FnOnce(&mut Cluster<N>)) {
        let cluster = &mut self.cluster;
        if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| f(cluster))) {
            self.failure = Some(why_of(&panic_text(payload)));
            self.failing_logs = self.cluster.unrecorded_log_changes();
        }
    }

    /// The run as the trace file holds it (`RAFT_TRACE`'s format, which the trace page
    /// opens), with the broken rule if there is one.
    pub fn trace_json(&self) -> String {
        let (seed, trace, failure) =
            (self.cluster.seed(), self.cluster.trace(), self.failure.as_deref());
        crate::report::trace_file_json_with(seed, trace, failure, &self.failing_logs)
    }

    /// The command that computes this run again, up to now, and writes its trace to `path`.
    pub fn replay_command(&self, path: &str) -> String {
        let actions = format_actions(&self.actions[..self.applied]);
        let actions =
            if actions.is_empty() { String::new() } else { format!(" --actions '{actions}'") };
        format!(
            "{} --seed {}{actions} --until {} --trace {path}",
            self.stage.command(),
            self.cluster.seed(),
            self.cluster.now()
        )
    }

    /// What the page is sent for a poll: the run's settings, the events and log changes from
    /// `events` and `logs` on (all of them if `generation` is not this run's), and the state
    /// the events do not carry (links, network settings).
    pub fn update(&self, generation: u64, events: usize, logs: usize) -> Value {
        let (events, logs) = if generation == self.generation { (events, logs) } else { (0, 0) };
        let trace = self.cluster.trace();
        let all = trace.all().unwrap_or_default();
        let recorded = trace.logbook.as_ref().map_or(&[][..], |book| &book.changes[..]);
        let changes: Vec<&LogChange> = recorded.iter().chain(&self.failing_logs).collect();
        let config = self.cluster.config();
        let network = self.cluster.network();
        let nodes: Vec<NodeView> = self.cluster.ids().into_iter().map(|id| self.view(id)).collect();
        json!({
            "generation": self.generation,
            "seed": self.cluster.seed(),
            "title": self.stage.title(),
            "stage": self.stage.number,
            "can": {
                "request": self.stage.takes_requests(),
                "restart": self.stage.restarts(),
                "snapshots": self.stage.compacts(),
            },
            "config": {
                "election_timeout": config.election_timeout,
                "heartbeat_interval": config.heartbeat_interval,
            },
            "network": {
                "loss_percent": (network.loss * 100.0).round() as u32,
                "min_delay": network.min_delay,
                "max_delay": network.max_delay,
            },
            "tick": self.cluster.now(),
            "furthest": self.furthest,
            "failure": self.failure,
            "events_from": events.min(all.len()),
            "events": &all[events.min(all.len())..],
            "logs_from": logs.min(changes.len()),
            "logs": &changes[logs.min(changes.len())..],
            "nodes": nodes,
            "actions": self.actions.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "applied": self.applied,
        })
    }

    fn view(&self, id: NodeId) -> NodeView {
        let status = self.cluster.status(id);
        NodeView {
            id,
            up: self.cluster.is_up(id),
            connected: self.cluster.is_connected(id),
            role: status.role,
            term: status.term,
            voted_for: status.voted_for,
            commit_index: status.commit_index,
            last_log_index: status.last_log_index,
            snapshot_index: status.snapshot_index,
        }
    }
}

/// A server as the page's poll reports it, at the latest tick.
#[derive(Serialize)]
struct NodeView {
    id: NodeId,
    up: bool,
    connected: bool,
    role: Role,
    term: u64,
    voted_for: Option<NodeId>,
    commit_index: u64,
    last_log_index: u64,
    snapshot_index: u64,
}

/// The rule a failure report names: its first line after `harness: `, else the text.
fn why_of(report: &str) -> String {
    let line = report.lines().find(|line| !line.trim().is_empty()).unwrap_or(report);
    line.trim().strip_prefix("harness: ").unwrap_or(line.trim()).to_string()
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}

/// The words of a command [`Session::replay_command`] wrote, as a shell splits them (it quotes
/// with `'` only, around the actions): for tests and tools that run it without a shell.
pub fn command_words(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in command.chars() {
        match c {
            '\'' => quoted = !quoted,
            ' ' if !quoted => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            _ => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}
