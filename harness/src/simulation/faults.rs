//! Faults injected on purpose: crashes and restarts, cut links, partitions, network settings.
//!
//! Raft must stay safe whatever the network and the machines do (§5.1: servers crash, RPCs
//! are lost; §5.4, §5.5), and make progress once a majority can talk again (§5.2). These are
//! the cluster's switches for all of it; each change is recorded in the trace.

use crate::cluster::{Cluster, guarded};
use crate::disk::DiskStore;
use crate::network::{MessageFault, NetworkConfig};
use crate::node::{Node, NodeId, Persist};
use crate::trace::Event;
use crate::watchdog::Call;

impl<N: Node> Cluster<N> {
    /// True if `id` is up and not isolated by [`isolate`](Cluster::isolate) or left out of
    /// every group by [`partition`](Cluster::partition).
    pub fn is_connected(&self, id: NodeId) -> bool {
        self.is_up(id) && !self.isolated.contains(&id)
    }

    /// Node `id` crashes: its volatile state and the messages in flight to it are lost. What
    /// it wrote to its disk stays (see [`restart`](Cluster::restart)).
    pub fn crash(&mut self, id: NodeId) {
        if !self.is_up(id) {
            self.fail(&format!("crash(n{id}): n{id} is already crashed"));
        }
        self.checks.crashed(id, &self.slots[id as usize - 1].status);
        let slot = &mut self.slots[id as usize - 1];
        slot.node = None;
        slot.life += 1;
        self.trace.push(self.now, Event::Crash { node: id });
    }

    /// Node `id` can no longer send or receive (every link to and from it is cut).
    pub fn isolate(&mut self, id: NodeId) {
        self.slot(id);
        self.network.links.isolate(id);
        self.isolated.insert(id);
        self.network_changed(format!("isolate n{id}"));
    }

    /// The classic lab's `disconnect(i)`: the same as [`isolate`](Cluster::isolate).
    pub fn disconnect(&mut self, id: NodeId) {
        self.isolate(id);
    }

    /// The classic lab's `connect(i)`, which undoes [`isolate`](Cluster::isolate) or
    /// [`disconnect`](Cluster::disconnect): reopens the links, both ways, between `id` and
    /// every node that is itself connected, that is, not cut off by `isolate`/`disconnect` or
    /// left out of every group of a [`partition`](Cluster::partition). A crashed node counts as
    /// connected here: a crash does not cut links in this harness (the lab's crash does), so
    /// it is reachable again once restarted. After a partition, `connect` joins `id` to the
    /// connected nodes of every group, as the lab's would. One-way [`cut`](Cluster::cut)s
    /// between other nodes stay.
    pub fn connect(&mut self, id: NodeId) {
        self.slot(id);
        self.isolated.remove(&id);
        for other in self.ids() {
            if other != id && !self.isolated.contains(&other) {
                self.network.links.open(id, other);
                self.network.links.open(other, id);
            }
        }
        self.network_changed(format!("connect n{id}"));
    }

    /// Splits the network: nodes talk only within their group; a node in no group is isolated.
    pub fn partition(&mut self, groups: &[&[NodeId]]) {
        self.network.links.partition(groups);
        self.isolated =
            self.ids().into_iter().filter(|id| !groups.iter().any(|g| g.contains(id))).collect();
        let text: Vec<String> = groups
            .iter()
            .map(|group| group.iter().map(|id| format!("n{id}")).collect::<Vec<_>>().join(" "))
            .map(|group| format!("{{{group}}}"))
            .collect();
        self.network_changed(format!("partition {}", text.join(" | ")));
    }

    /// Messages from `from` to `to` are dropped; the other direction still works.
    pub fn cut(&mut self, from: NodeId, to: NodeId) {
        self.slot(from);
        self.slot(to);
        self.network.links.cut(from, to);
        self.network_changed(format!("cut n{from} → n{to}"));
    }

    /// Every link works again.
    pub fn heal(&mut self) {
        self.network.links.heal();
        self.isolated.clear();
        self.network_changed("heal".to_string());
    }

    /// New delay, loss, duplication and reordering settings, from now on.
    pub fn set_network(&mut self, network: NetworkConfig) {
        let change = format!("{network}");
        self.network.config = network;
        self.network_changed(change);
    }

    /// From now on, messages that `fault.matches` get its extra loss and delay, on top of the
    /// network settings (the lab's "long reordering": replies late, heartbeats on time).
    /// Replaces a fault of the same name; faults of other names add up. Shown in the trace and
    /// in the report's settings.
    pub fn set_message_fault(&mut self, fault: MessageFault<N::Message>) {
        let faults = &mut self.network.faults;
        match faults.iter_mut().find(|set| set.name == fault.name) {
            Some(set) => *set = fault,
            None => faults.push(fault),
        }
        self.network_changed(format!("message fault {fault}"));
    }

    /// Removes every [`MessageFault`]: messages travel by the network settings alone again.
    pub fn clear_message_faults(&mut self) {
        self.network.faults.clear();
        self.network_changed("clear message faults".to_string());
    }

    /// The current network settings.
    pub fn network(&self) -> &NetworkConfig {
        &self.network.config
    }

    pub(crate) fn network_changed(&mut self, change: String) {
        self.trace.push(self.now, Event::Network { change });
    }
}

impl<N: Persist + 'static> Cluster<N> {
    /// Gives every node a simulated disk: after every event the cluster writes the node's
    /// `take_persist()` to it, before sending the node's messages. Needed for
    /// [`restart`](Cluster::restart); call it right after building the cluster.
    pub fn with_disks(mut self) -> Self {
        if self.hooks.disks.is_none() {
            let states = (0..self.slots.len()).map(|_| None).collect();
            self.hooks.disks = Some(Box::new(DiskStore::<N> { states }));
            for id in self.ids() {
                if self.is_up(id) {
                    self.after_event(id);
                }
            }
        }
        self
    }

    /// Restarts crashed node `id` from the last state written to its disk: persistent state
    /// (`current_term`, `voted_for`, `log`) survives, volatile state starts afresh (Figure 2).
    ///
    /// The restarted node must report the term, vote and log it had when it crashed, or the
    /// run fails with "Persistent state survives a restart" (§5.1, Figure 2), naming the field
    /// that came back wrong and both values.
    pub fn restart(&mut self, id: NodeId) {
        if self.is_up(id) {
            self.fail(&format!("restart(n{id}): n{id} is up; crash it first"));
        }
        let Some(disks) = self.hooks.disks.as_ref() else {
            self.fail(&format!(
                "restart(n{id}): this cluster has no disks; build it with \
                 Cluster::new(..).with_disks() so that nodes persist their state"
            ))
        };
        let life = self.slot(id).life + 1;
        let (peers, config, rng) = (self.peers(id), self.config.clone(), self.node_rng(id, life));
        let restarted =
            guarded(&self.watch, id, Call::Restart, || disks.restart(id, peers, config, rng));
        let node = match restarted {
            Ok(node) => node,
            Err(panic) => self.node_panicked(id, "restart()", panic),
        };
        let status = match guarded(&self.watch, id, Call::Status, || node.status()) {
            Ok(status) => status,
            Err(panic) => self.node_panicked(id, "status()", panic),
        };
        self.checks.restarted(id);
        self.trace.push(self.now, Event::Restart { node: id, term: status.term });
        let slot = &mut self.slots[id as usize - 1];
        slot.node = Some(node);
        slot.life = life;
        slot.status = status;
        self.check_restart(id);
        self.after_event(id);
    }

    /// Compares restarted node `id` with the node that crashed ([`crate::persistence`]).
    fn check_restart(&mut self, id: NodeId) {
        let slot = &self.slots[id as usize - 1];
        let (node, status) = (slot.node.as_ref().expect("just restarted"), &slot.status);
        let checks = &mut self.checks;
        match guarded(&self.watch, id, Call::LogEntry, || checks.check_restart(id, node, status)) {
            Ok(Ok(())) => {}
            Ok(Err(violation)) => self.fail_violation(&violation),
            Err(panic) => self.node_panicked(id, "log_entry() (read by the checks)", panic),
        }
    }
}
