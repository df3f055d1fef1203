//! The stage 6 service, hosted: the reference's `KvNode` (sessions, ReadIndex reads, its own
//! compaction), driven through [`Hosted`].
//!
//! The output order is the node contract's: writes, messages, then the snapshot and the
//! committed entries the store loaded and applied (drained here only to count them: the store
//! has already applied them), then the replies.

use harness::service::Service;
use harness::{Compact, Config, Envelope, Node, NodeId, Persist, Replicate, Rng, Status};
use kv::{KvNode, Message, PersistentState, StorageWrite};

use crate::coalesce::Kind;
use crate::service::{Hosted, Reply, Request};

/// The driver compacts every this many applied entries. Stage 6's default (64) suits the
/// simulator's short runs; here every snapshot is written whole (`snapshot` file, JSON, the
/// store's bytes as a JSON array of numbers), so with 50,000 keys a snapshot every 64 entries
/// stalled `redis-benchmark -r 100000` (measured: 2,000 SETs per second fell to a standstill).
pub const SNAPSHOT_EVERY: u64 = 8192;

/// The stage 6 reference and the index its store applied through.
pub struct Stage6 {
    node: KvNode,
    applied: u64,
}

impl Hosted for Stage6 {
    type Node = KvNode;
    type Message = Message;

    fn start(
        id: NodeId,
        peers: Vec<NodeId>,
        config: Config,
        rng: Rng,
        disk: Option<PersistentState>,
    ) -> Self {
        let mut node = match disk {
            Some(state) => KvNode::restart(id, peers, config, rng, state),
            None => KvNode::new(id, peers, config, rng),
        };
        node.config.snapshot_every = SNAPSHOT_EVERY;
        Stage6 { node, applied: 0 }
    }

    fn tick(&mut self) {
        self.node.tick();
    }

    fn step(&mut self, from: NodeId, message: Message) {
        self.node.step(from, message);
    }

    fn request(&mut self, request: Request) {
        self.node.request(request);
    }

    fn take_persist(&mut self) -> Vec<StorageWrite> {
        self.node.take_persist()
    }

    fn take_messages(&mut self) -> Vec<Envelope<Message>> {
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

    fn kind(message: &Message) -> Kind {
        use data_structures::Message as Raft;
        match message {
            Message::Raft(Raft::AppendEntries(request)) => Kind::Append {
                term: request.term,
                prev_log_index: request.prev_log_index,
                entries: request.entries.len(),
            },
            Message::Raft(Raft::AppendEntriesReply(reply)) if reply.success => {
                Kind::Appended { term: reply.term, match_index: reply.match_index }
            }
            Message::Raft(Raft::InstallSnapshot(request)) => Kind::Snapshot {
                term: request.term,
                last_included_index: request.last_included_index,
            },
            Message::ReadIndex(check) => Kind::ReadCheck { term: check.term, round: check.round },
            Message::ReadIndexReply(check) => {
                Kind::ReadCheckReply { term: check.term, round: check.round }
            }
            _ => Kind::Other,
        }
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
