//! A client that gets one command committed, as the classic lab's `one()` does, one step at a
//! time so that several can run side by side on the simulated clock.
//!
//! The lab's `one(cmd, expected, retry)` loops for 10 seconds: it offers the command to every
//! connected server in turn, starting after the one it tried last, until one accepts it as
//! leader (§5.3: only the leader takes client requests; §8: clients retry elsewhere); then it
//! waits up to 2 seconds for `expected` servers to apply that command at that index. If they
//! do not, it tries again (a new leader may have dropped the entry, §5.4.2), or fails if
//! `retry` is off; if no server accepted, it sleeps and tries again.
//!
//! Here a second is two maximal election timeouts (`2 * 2 * election_timeout` ticks): the whole
//! attempt starts no later than 10 of them after the first poll, each agreement window lasts 2,
//! and a round in which nobody accepts is followed by `heartbeat_interval` ticks of waiting.
//! [`Client::poll`] takes one step without running the clock; [`Cluster::run_clients`] ticks
//! once per round and polls every client; [`Cluster::one`] is one client.

use std::fmt::Debug;

use crate::cluster::Cluster;
use crate::node::{Index, NodeId, Replicate};

/// One command on its way to being committed (the lab's `one()` as a state machine).
#[derive(Clone, Debug)]
pub struct Client<C> {
    command: C,
    expected: usize,
    retry: bool,
    /// The lab's `starts`: the node tried last, counted from 0; moved on before each try.
    starts: usize,
    phase: Phase,
    /// The tick of the first poll: the attempt's bound runs from it.
    started: Option<u64>,
}

/// Where a client is.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Phase {
    /// About to offer the command to every connected node in turn.
    Propose,
    /// Node `by` accepted it at `index` at tick `at`; waiting until tick `until` for agreement.
    Agree { index: Index, by: NodeId, at: u64, until: u64 },
    /// Nobody accepted: trying again at tick `until`.
    Backoff { until: u64 },
    /// Finished: committed at this index, or failed with this report text.
    Done(Result<Index, String>),
}

impl<C: Clone + Debug + PartialEq> Client<C> {
    /// A client that wants `command` applied by at least `expected` nodes (and by at least one)
    /// at one index; with `retry` off, one agreement window that passes without it fails.
    pub fn new(command: C, expected: usize, retry: bool) -> Self {
        Client { command, expected, retry, starts: 0, phase: Phase::Propose, started: None }
    }

    /// The command this client submits.
    pub fn command(&self) -> &C {
        &self.command
    }

    /// One step at the cluster's current tick, without running the clock: offer the command
    /// (to every connected node in turn, until one accepts), or look whether enough nodes
    /// applied it ([`Cluster::committed_count`]), or wait. `Some(Ok(index))` once `expected`
    /// nodes applied the command at `index`; `Some(Err(why))` once the client gives up, `why`
    /// being the text for [`Cluster::fail`]; `None` while it needs time to pass. A finished
    /// client returns the same outcome again.
    pub fn poll<N: Replicate<Command = C>>(
        &mut self,
        cluster: &mut Cluster<N>,
    ) -> Option<Result<Index, String>> {
        let now = cluster.now();
        let timeout = 2 * cluster.config().election_timeout;
        let started = *self.started.get_or_insert(now);
        loop {
            match self.phase.clone() {
                Phase::Done(outcome) => return Some(outcome),
                Phase::Propose if now >= started + 10 * timeout => {
                    self.phase = Phase::Done(Err(format!(
                        "one({:?}): not applied by {} nodes at one index within {} ticks (10 \
                         election timeouts of at most {timeout} ticks), retrying across leaders",
                        self.command,
                        self.expected,
                        10 * timeout
                    )));
                }
                Phase::Propose => match self.offer(cluster) {
                    Some((index, by)) => {
                        let until = now + 2 * timeout;
                        self.phase = Phase::Agree { index, by, at: now, until };
                    }
                    None => {
                        let until = now + cluster.config().heartbeat_interval.max(1);
                        self.phase = Phase::Backoff { until };
                        return None;
                    }
                },
                Phase::Agree { index, by, at, until } => {
                    let (count, found) = cluster.committed_count(index);
                    // A command found at `index` was applied by some node: the lab's `nd > 0`.
                    let agreed = found.as_ref() == Some(&self.command);
                    if agreed && count >= self.expected {
                        self.phase = Phase::Done(Ok(index));
                    } else if now < until {
                        return None;
                    } else if self.retry {
                        self.phase = Phase::Propose;
                    } else {
                        let there = match &found {
                            Some(command) if !agreed => {
                                format!(", and {command:?} was applied there")
                            }
                            _ => String::new(),
                        };
                        self.phase = Phase::Done(Err(format!(
                            "one({:?}): no agreement within {} ticks, retry off: n{by} accepted \
                             it at index {index} at tick {at}, and {} of the expected {} nodes \
                             applied it there{there}",
                            self.command,
                            2 * timeout,
                            if agreed { count } else { 0 },
                            self.expected
                        )));
                    }
                }
                Phase::Backoff { until } if now < until => return None,
                Phase::Backoff { .. } => self.phase = Phase::Propose,
            }
        }
    }

    /// Offers the command to every connected node in turn, starting after the one tried last
    /// (the lab's rotating `starts`); the first that accepts gives the index.
    fn offer<N: Replicate<Command = C>>(
        &mut self,
        cluster: &mut Cluster<N>,
    ) -> Option<(Index, NodeId)> {
        let nodes = cluster.ids().len();
        for _ in 0..nodes {
            self.starts = (self.starts + 1) % nodes;
            let id = self.starts as NodeId + 1;
            if cluster.is_connected(id) {
                if let Ok((index, _)) = cluster.propose(id, self.command.clone()) {
                    return Some((index, id));
                }
            }
        }
        None
    }
}
