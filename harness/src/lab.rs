//! The classic lab's helpers: find the leader, agree on terms, commit a command.
//!
//! The classic lab tests (initial election, re-election, agreement, failures, rejoin, backup,
//! Figure 8, churn) are written with a handful of helpers; these are the same helpers over the
//! simulated cluster, with bounds in election timeouts instead of seconds.

use std::collections::BTreeSet;

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
    pub fn committed_count(&self, index: Index) -> (usize, Option<N::Command>) {
        self.checks.applied_at(index, &self.ids())
    }

    /// Like the classic lab's `one()`: proposes `command` to the leader (trying every live
    /// node in turn, across leader changes) until `expected` live nodes applied it at one
    /// index, and returns that index; fails with the report after 20 maximal election timeouts.
    pub fn submit(&mut self, command: N::Command, expected: usize) -> Index {
        let timeout = 2 * self.config.election_timeout;
        let deadline = self.now + 10 * timeout;
        let mut next = 0;
        while self.now < deadline {
            if let Some(index) = self.propose_anywhere(&command, &mut next) {
                let applied = |cluster: &Self| {
                    let (count, found) = cluster.committed_count(index);
                    count >= expected && found.as_ref() == Some(&command)
                };
                if self.run_until(timeout, applied) {
                    return index;
                }
            } else {
                self.run_for(self.config.heartbeat_interval.max(1));
            }
        }
        self.fail(&format!(
            "submit({command:?}): not applied by {expected} live nodes within {} ticks",
            10 * timeout
        ))
    }

    fn propose_anywhere(&mut self, command: &N::Command, next: &mut usize) -> Option<Index> {
        let ids = self.ids();
        for offset in 0..ids.len() {
            let id = ids[(*next + offset) % ids.len()];
            if self.is_up(id) {
                if let Ok((index, _)) = self.propose(id, command.clone()) {
                    *next = (*next + offset) % ids.len();
                    return Some(index);
                }
            }
        }
        None
    }
}
