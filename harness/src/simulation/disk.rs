//! Simulated stable storage: the writes each node handed to [`Persist::take_persist`], carried
//! out with [`Persist::apply_write`] and kept across crashes so that [`Persist::restart`] can bring the node back (Figure 2: persistent state is
//! "updated on stable storage before responding to RPCs").
//!
//! A crash loses everything else: the node's volatile state and the messages on their way to it.

use crate::node::{Config, NodeId, Persist};
use crate::rng::Rng;

/// The stable storage of every node, for nodes that implement [`Persist`].
pub(crate) trait Disks<N> {
    /// Writes what the node has to persist, if anything; true if it wrote.
    fn write(&mut self, id: NodeId, node: &mut N) -> bool;
    /// A node restarted from its disk (a fresh node if nothing was ever written).
    fn restart(&self, id: NodeId, peers: Vec<NodeId>, config: Config, rng: Rng) -> N;
    /// A one-line view of the disk, for the state table.
    fn describe(&self, id: NodeId) -> String;
    /// The size of what the disk holds, in bytes of JSON (0 before the first write).
    fn size(&self, id: NodeId) -> usize;
}

/// The disks of a cluster of `N`s: one slot per node.
pub(crate) struct DiskStore<N: Persist> {
    /// `states[id - 1]`: what node `id`'s writes built, `None` before its first write.
    pub(crate) states: Vec<Option<N::State>>,
}

impl<N: Persist> Disks<N> for DiskStore<N> {
    fn write(&mut self, id: NodeId, node: &mut N) -> bool {
        let writes = node.take_persist();
        if writes.is_empty() {
            return false;
        }
        let state = self.states[id as usize - 1].get_or_insert_with(N::State::default);
        for write in writes {
            N::apply_write(state, write);
        }
        true
    }

    fn restart(&self, id: NodeId, peers: Vec<NodeId>, config: Config, rng: Rng) -> N {
        match &self.states[id as usize - 1] {
            Some(state) => N::restart(id, peers, config, rng, state.clone()),
            None => N::new(id, peers, config, rng),
        }
    }

    fn size(&self, id: NodeId) -> usize {
        self.states[id as usize - 1].as_ref().map_or(0, |state| {
            serde_json::to_vec(state).expect("a persistent state serializes to JSON").len()
        })
    }

    fn describe(&self, id: NodeId) -> String {
        match &self.states[id as usize - 1] {
            Some(state) => format!("{state:?}"),
            None => "(empty)".to_string(),
        }
    }
}
