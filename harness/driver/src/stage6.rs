//! The stage 6 service, hosted: a `KvNode` (sessions, ReadIndex reads, its own compaction),
//! driven through [`Hosted`]: the reference's, or with the `yours` feature the learner's own
//! (`exercises/06-kv`, `raft-server --yours`).
//!
//! The output order is the node contract's: writes, messages, then the snapshot and the
//! committed entries the store loaded and applied (drained here only to count them: the store
//! has already applied them), then the replies.

use data_structures::{PersistentState, StorageWrite};
use harness::service::Service;
use harness::service::kv::{KvOp, KvOutput};
use harness::{Compact, Config, Envelope, Node, NodeId, Persist, Replicate, Rng, Status};

use crate::coalesce::Kind;
use crate::service::{Hosted, Reply, Request};

/// The driver compacts every this many applied entries. Stage 6's default (64) suits the
/// simulator's short runs; here every snapshot is written whole (`snapshot` file, the store's
/// bytes as an array of numbers), so with 50,000 keys a snapshot every 64 entries stalled
/// `redis-benchmark -r 100000` (measured when the files were JSON: 2,000 SETs per second fell
/// to a standstill).
pub const SNAPSHOT_EVERY: u64 = 8192;

/// A stage 6 service node: what [`Stage6`] needs of it beyond the harness's traits. The
/// reference's `KvNode` and the exercise's have the same shape but are types of two crates,
/// so each gets these three lines.
pub trait KvService:
    Node<Command = String>
    + Persist<State = PersistentState, Write = StorageWrite>
    + Replicate
    + Compact
    + Service<Op = KvOp, Output = KvOutput>
    + Sized
{
    /// Sets how many applied entries the service compacts after.
    fn set_snapshot_every(&mut self, every: u64);
    /// The leader this node knows of in its term (itself if it leads).
    fn leader_hint(&self) -> Option<NodeId>;
    /// What [`crate::coalesce`] needs to know of `message`.
    fn kind(message: &Self::Message) -> Kind;
}

/// What coalescing needs to know of a Raft message (stages 1 to 5).
pub fn raft_kind(message: &data_structures::Message) -> Kind {
    use data_structures::Message as Raft;
    match message {
        Raft::AppendEntries(request) => Kind::Append {
            term: request.term,
            prev_log_index: request.prev_log_index,
            entries: request.entries.len(),
        },
        Raft::AppendEntriesReply(reply) if reply.success => {
            Kind::Appended { term: reply.term, match_index: reply.match_index }
        }
        Raft::InstallSnapshot(request) => {
            Kind::Snapshot { term: request.term, last_included_index: request.last_included_index }
        }
        _ => Kind::Other,
    }
}

impl KvService for kv::KvNode {
    fn set_snapshot_every(&mut self, every: u64) {
        self.config.snapshot_every = every;
    }

    fn leader_hint(&self) -> Option<NodeId> {
        kv::KvNode::leader_hint(self)
    }

    fn kind(message: &kv::Message) -> Kind {
        match message {
            kv::Message::Raft(message) => raft_kind(message),
            kv::Message::ReadIndex(c) => Kind::ReadCheck { term: c.term, round: c.round },
            kv::Message::ReadIndexReply(c) => Kind::ReadCheckReply { term: c.term, round: c.round },
        }
    }
}

/// The learner's own stage 6 (`exercises/06-kv`), for `raft-server --yours`.
#[cfg(feature = "yours")]
impl KvService for kv_yours::KvNode {
    fn set_snapshot_every(&mut self, every: u64) {
        self.config.snapshot_every = every;
    }

    fn leader_hint(&self) -> Option<NodeId> {
        kv_yours::KvNode::leader_hint(self)
    }

    fn kind(message: &kv_yours::Message) -> Kind {
        match message {
            kv_yours::Message::Raft(message) => raft_kind(message),
            kv_yours::Message::ReadIndex(c) => Kind::ReadCheck { term: c.term, round: c.round },
            kv_yours::Message::ReadIndexReply(c) => {
                Kind::ReadCheckReply { term: c.term, round: c.round }
            }
        }
    }
}

/// A stage 6 service node (the reference's by default) and the index its store applied
/// through.
pub struct Stage6<N = kv::KvNode> {
    node: N,
    applied: u64,
}

impl<N: KvService> Hosted for Stage6<N>
where
    N::Message: Clone + std::fmt::Debug + serde::Serialize + serde::de::DeserializeOwned + Send,
{
    type Node = N;
    type Message = N::Message;

    fn start(
        id: NodeId,
        peers: Vec<NodeId>,
        config: Config,
        rng: Rng,
        disk: Option<PersistentState>,
    ) -> Self {
        let mut node = match disk {
            Some(state) => N::restart(id, peers, config, rng, state),
            None => N::new(id, peers, config, rng),
        };
        node.set_snapshot_every(SNAPSHOT_EVERY);
        Stage6 { node, applied: 0 }
    }

    fn tick(&mut self) {
        self.node.tick();
    }

    fn step(&mut self, from: NodeId, message: N::Message) {
        self.node.step(from, message);
    }

    fn request(&mut self, request: Request) {
        self.node.request(request);
    }

    fn register(&mut self, nonce: harness::service::ClientId) {
        self.node.register(nonce);
    }

    fn take_persist(&mut self) -> Vec<StorageWrite> {
        self.node.take_persist()
    }

    fn take_messages(&mut self) -> Vec<Envelope<N::Message>> {
        self.node.take_messages()
    }

    fn take_replies(&mut self) -> Vec<Reply> {
        if let Some(snapshot) = self.node.take_snapshot() {
            self.applied = self.applied.max(snapshot.index);
        }
        if let Some(last) = self.node.take_committed().last() {
            self.applied = self.applied.max(last.index);
        }
        self.node.take_replies()
    }

    fn kind(message: &N::Message) -> Kind {
        N::kind(message)
    }

    fn status(&self) -> Status {
        self.node.status()
    }

    fn applied(&self) -> u64 {
        self.applied
    }

    fn leader(&self) -> Option<NodeId> {
        self.node.leader_hint()
    }
}
