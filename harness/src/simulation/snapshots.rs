//! Snapshots in the cluster (§7): a state machine beside every node, compaction on the
//! service's behalf, and the snapshots nodes hand their state machines.
//!
//! With [`Cluster::compact_every`], the cluster plays the service of §7 (Figure 12):
//! after every event it applies what each node handed out to a [`Machine`] of that node's, and
//! once a node's machine is `every` entries past the node's snapshot it asks the node to
//! compact ([`Compact::compact`]) with the machine's state as the snapshot's bytes. A snapshot
//! a node hands out ([`Compact::take_snapshot`]: installed from the leader, or its own after a
//! restart) replaces that node's machine, once the checks have compared it with the cluster's
//! register of applied commands ([`crate::checks`]).

use crate::cluster::{Cluster, guarded};
use crate::machine::Machine;
use crate::node::{Compact, Index, Node, NodeId, Persist, Snapshot};
use crate::trace::Event;
use crate::watchdog::Call;

/// The [`Compact`] calls the cluster makes, and when it asks for a snapshot.
pub(crate) struct SnapshotHooks<N: Node> {
    take: fn(&mut N) -> Option<Snapshot>,
    compact: fn(&mut N, Index, Vec<u8>),
    /// Ask a node to compact once its machine is this many entries past its snapshot; 0: never.
    every: u64,
    /// True while the cluster handles the event a compaction request is: no request inside it.
    compacting: bool,
}

impl<N: Compact> Cluster<N> {
    /// From now on, run a state machine beside every node, hand it the snapshots nodes take
    /// out, and ask each node to compact its log every `every` applied entries (§7). With
    /// `every = 0` the cluster never asks (a test asks with [`compact`](Cluster::compact)), but
    /// snapshots a node installs still reach its state machine and are checked.
    ///
    /// Call it before the first proposal: the state machines start empty, and a node's first
    /// apply must then be index 1.
    pub fn compact_every(&mut self, every: u64) {
        self.track_applied();
        self.checks.track_machines();
        let hooks =
            SnapshotHooks { take: N::take_snapshot, compact: N::compact, every, compacting: false };
        self.hooks.snapshots = Some(hooks);
    }

    /// For a service that keeps its own state machine and decides itself when to compact
    /// ([`crate::service`]): from now on, drain and check the snapshots nodes hand out (§7),
    /// without running the cluster's own machines (their bytes are the service's) and without
    /// ever asking a node to compact. A service applies what it commits itself, so from now on
    /// every node must also have handed out everything through its `commit_index` after each
    /// event ([`Checks::require_applied_through_commit`](crate::checks::Checks::require_applied_through_commit)).
    pub fn service_snapshots(&mut self) {
        self.track_applied();
        self.checks.require_applied_through_commit();
        let hooks = SnapshotHooks {
            take: N::take_snapshot,
            compact: N::compact,
            every: 0,
            compacting: false,
        };
        self.hooks.snapshots = Some(hooks);
    }

    /// Asks node `id` now to compact its log through everything its state machine applied,
    /// with that state as the snapshot (§7). Needs [`compact_every`](Cluster::compact_every).
    pub fn compact(&mut self, id: NodeId) {
        if self.hooks.snapshots.is_none() {
            self.fail(&format!(
                "compact(n{id}): this cluster runs no state machines; call \
                 cluster.compact_every(k) first (k = 0: only when the test asks)"
            ));
        }
        if !self.is_up(id) {
            self.fail(&format!("compact(n{id}): n{id} is crashed"));
        }
        self.request_compaction(id);
    }

    /// The snapshot state of node `id`'s state machine: the index it applied through and its
    /// digest. Needs [`compact_every`](Cluster::compact_every): without state machines it fails
    /// the test, naming the call, instead of reading an empty machine.
    pub fn machine(&self, id: NodeId) -> Machine {
        if self.hooks.snapshots.is_none() {
            self.fail(&format!(
                "machine(n{id}): this cluster runs no state machines, so every one would read \
                 empty: call cluster.compact_every(k) before the first proposal (k = 0: \
                 compact only when the test asks)"
            ));
        }
        self.checks.machine(id)
    }
}

impl<N: Persist> Cluster<N> {
    /// The size of what node `id`'s stable storage holds, in bytes of JSON: bounded when
    /// snapshots are taken (§7), growing with the log when they are not. 0 before its first
    /// write. Needs [`with_disks`](Cluster::with_disks): a cluster without disks fails the test,
    /// naming the call, instead of reading 0.
    pub fn persisted_bytes(&self, id: NodeId) -> usize {
        match self.hooks.disks.as_ref() {
            Some(disks) => disks.size(id),
            None => self.fail(&format!(
                "persisted_bytes(n{id}): this cluster keeps no disks, so every size would read \
                 0: build it with .with_disks()"
            )),
        }
    }
}

impl<N: Node> Cluster<N> {
    /// The snapshot node `id` hands its state machine after an event, if snapshots are on.
    pub(crate) fn drain_snapshot(&mut self, id: NodeId) -> Option<Snapshot> {
        let take = self.hooks.snapshots.as_ref()?.take;
        let node = self.slots[id as usize - 1].node.as_mut().expect("live");
        match guarded(&self.watch, id, Call::TakeSnapshot, || take(node)) {
            Ok(snapshot) => snapshot,
            Err(panic) => self.node_panicked(id, "take_snapshot()", panic),
        }
    }

    /// After an event of node `id`: asks it to compact if its machine is `every` entries past
    /// its snapshot.
    pub(crate) fn maybe_compact(&mut self, id: NodeId) {
        let Some(hooks) = self.hooks.snapshots.as_ref() else { return };
        if hooks.every == 0 || hooks.compacting {
            return;
        }
        let applied = self.checks.machine(id).index;
        if applied >= self.slot(id).status.snapshot_index + hooks.every {
            self.request_compaction(id);
        }
    }

    /// Asks node `id` to compact through what its machine applied: an event of its own, traced,
    /// whose outputs (the snapshot's writes) are drained and checked as any event's.
    fn request_compaction(&mut self, id: NodeId) {
        let Some(hooks) = self.hooks.snapshots.as_mut() else { return };
        let compact = hooks.compact;
        hooks.compacting = true;
        let machine = self.checks.machine(id);
        let term = self.slot(id).status.term;
        self.trace.push(self.now, Event::Compact { node: id, term, index: machine.index });
        let node = self.slots[id as usize - 1].node.as_mut().expect("live");
        let data = machine.encode();
        if let Err(panic) =
            guarded(&self.watch, id, Call::Compact, || compact(node, machine.index, data))
        {
            self.node_panicked(id, "compact()", panic);
        }
        self.after_event(id);
        if let Some(hooks) = self.hooks.snapshots.as_mut() {
            hooks.compacting = false;
        }
    }
}
