//! The classic lab's helpers: find the leader, agree on terms, commit a command.
//!
//! The classic lab tests (initial election, re-election, agreement, failures, rejoin, backup,
//! Figure 8, churn) are written with a handful of helpers; these are the same helpers over the
//! simulated cluster, with bounds in election timeouts instead of seconds.

use std::collections::BTreeSet;

use crate::client::Client;
use crate::cluster::Cluster;
use crate::node::{Index, Node, NodeId, Replicate, Role, Term};

impl<N: Node> Cluster<N> {
    /// The live nodes that believe they lead, with their terms, by id.
    pub fn leaders(&self) -> Vec<(NodeId, Term)> {
        let live = self.ids().into_iter().filter(|&id| self.is_up(id));
        live.map(|id| (id, self.slot(id).status.clone()))
            .filter(|(_, status)| status.role == Role::Leader)
            .map(|(id, status)| (id, status.term))
            .collect()
    }

    /// How many live nodes (itself included) `id` can talk to both ways.
    fn reach(&self, id: NodeId) -> usize {
        let links = &self.network.links;
        let both_ways =
            |other: NodeId| other == id || (links.is_open(id, other) && links.is_open(other, id));
        self.ids().into_iter().filter(|&other| self.is_up(other) && both_ways(other)).count()
    }

    /// The leader of the highest term among the connected live leaders that reach a majority,
    /// if there is one.
    pub fn majority_leader(&self) -> Option<NodeId> {
        let majority = self.slots.len() / 2 + 1;
        let leaders = self.leaders().into_iter().filter(|&(id, _)| self.is_connected(id));
        let mut leaders: Vec<_> = leaders.filter(|&(id, _)| self.reach(id) >= majority).collect();
        leaders.sort_by_key(|&(id, term)| (term, id));
        leaders.last().map(|&(id, _)| id)
    }

    /// Runs up to 10 maximal election timeouts (`10 * 2 * election_timeout` ticks) until a
    /// connected leader that reaches a majority exists, and returns the one of the highest
    /// term; fails with the report if none appears (§5.2: "a leader will be elected").
    pub fn check_one_leader(&mut self) -> NodeId {
        let budget = 20 * self.config.election_timeout;
        if self.run_until(budget, |cluster| cluster.majority_leader().is_some()) {
            return self.majority_leader().expect("the condition just held");
        }
        self.fail(&format!(
            "expected one leader: no connected node reaching a majority led within {budget} \
             ticks (10 election timeouts of at most {} ticks)",
            2 * self.config.election_timeout
        ))
    }

    /// Fails unless no connected node (see [`is_connected`](Cluster::is_connected)) is leader.
    pub fn check_no_leader(&self) {
        let leaders: Vec<_> =
            self.leaders().into_iter().filter(|&(id, _)| self.is_connected(id)).collect();
        if !leaders.is_empty() {
            let list: Vec<String> =
                leaders.iter().map(|(id, term)| format!("n{id}@{term}")).collect();
            self.fail(&format!(
                "expected no leader among connected nodes, found {}",
                list.join(", ")
            ));
        }
    }

    /// Fails unless every connected node has the same term; returns it.
    pub fn check_terms(&self) -> Term {
        let connected: Vec<NodeId> =
            self.ids().into_iter().filter(|&id| self.is_connected(id)).collect();
        let terms: BTreeSet<Term> = connected.iter().map(|&id| self.slot(id).status.term).collect();
        if terms.len() > 1 {
            let list: Vec<String> = connected
                .iter()
                .map(|&id| format!("n{id}@{}", self.slot(id).status.term))
                .collect();
            self.fail(&format!("connected nodes disagree on the term: {}", list.join(", ")));
        }
        terms.into_iter().next().unwrap_or(0)
    }
}

impl<N: Replicate> Cluster<N> {
    /// How many nodes have applied index `index`, and the command applied there: the classic
    /// lab's `nCommitted`. Like the lab, it counts what every node applied, up or down: a node
    /// that applied `index` and then crashed still counts, and a restarted node counts from the
    /// start for everything it applied in an earlier life.
    ///
    /// Only a cluster that tracks what nodes apply knows ([`track_applied`](Cluster::track_applied);
    /// `propose`, `one` and `submit` call it): in any other, it fails the test, naming the
    /// call, instead of counting 0.
    pub fn committed_count(&self, index: Index) -> (usize, Option<N::Command>) {
        if self.hooks.committed.is_none() {
            self.fail(&format!(
                "committed_count({index}): this cluster does not track what its nodes apply, so \
                 every count would read 0: call cluster.track_applied() before the run \
                 (propose, one and submit call it)"
            ));
        }
        self.checks.applied_at(index, &self.ids())
    }

    /// The classic lab's `one(cmd, expected, retry)`: gets `command` applied by at least
    /// `expected` nodes (and at least one) at one index, and returns that index.
    ///
    /// It offers the command to every connected node in turn (up, and not cut off by
    /// [`isolate`](Cluster::isolate) or left out of a [`partition`](Cluster::partition)),
    /// starting after the one it tried last; the first that accepts as leader gives the index
    /// (§5.3). Then it waits an agreement window of 2 maximal election timeouts
    /// (`2 * 2 * election_timeout` ticks) for `expected` nodes to have applied that very command
    /// there ([`committed_count`](Cluster::committed_count), which counts crashed nodes too, as
    /// the lab does). If the window passes, it offers the command again (a new leader may have
    /// replaced the entry, §5.4.2), or, with `retry` off, fails with the report. If no node
    /// accepts, it waits `heartbeat_interval` ticks and tries again. Attempts start for at most
    /// 10 maximal election timeouts; then it fails with the report. See [`Client`] for one that
    /// runs beside others.
    pub fn one(&mut self, command: N::Command, expected: usize, retry: bool) -> Index {
        self.run_clients(&mut [Client::new(command, expected, retry)])[0]
    }

    /// Runs several [`Client`]s side by side on the simulated clock: each round polls every
    /// client that has not finished, in order, then ticks once, until all have their command
    /// committed; returns their indexes, in order. Fails with the report as soon as one client
    /// gives up.
    pub fn run_clients(&mut self, clients: &mut [Client<N::Command>]) -> Vec<Index> {
        let mut indexes: Vec<Option<Index>> = vec![None; clients.len()];
        loop {
            for (client, index) in clients.iter_mut().zip(&mut indexes) {
                if index.is_none() {
                    match client.poll(self) {
                        Some(Ok(committed)) => *index = Some(committed),
                        Some(Err(why)) => self.fail(&why),
                        None => {}
                    }
                }
            }
            if indexes.iter().all(Option::is_some) {
                return indexes.into_iter().flatten().collect();
            }
            self.tick();
        }
    }

    /// The same as [`one(command, expected, true)`](Cluster::one), under its earlier name; new
    /// tests should call `one`.
    pub fn submit(&mut self, command: N::Command, expected: usize) -> Index {
        self.one(command, expected, true)
    }
}
