//! A key-value service on the stage 5 reference, for the driver until stage 6's service is in
//! the workspace: every operation, reads included, goes through the log; client sessions make
//! a retried request apply once (§6.3); the state machine compacts every
//! [`COMPACT_EVERY`] entries (§7).
//!
//! The requests that arrive in one loop turn travel in one log entry (a batch): one entry,
//! one AppendEntries per follower and one fsync for all of them, where the stage 5 node sends
//! an AppendEntries per proposal.
//!
//! Stage 6 does this properly (ReadIndex reads, §6.4); this is the plumbing's stand-in.

use std::collections::BTreeMap;

use harness::{Compact, Config, Envelope, Node, NodeId, Persist, Replicate, Rng, Role, Status};
use serde::{Deserialize, Serialize};
use snapshots::RaftNode;

use crate::service::{Answer, ClientId, Hosted, KvOp, KvOutput, Reply, Request};

/// The state machine asks for a snapshot every this many applied entries.
pub const COMPACT_EVERY: u64 = 1000;

/// How many recent outputs a session keeps: a pipelined connection has many requests in
/// flight, and a retried one must find its output.
pub const SESSION_WINDOW: u64 = 10_000;

/// The state machine: the store and the client sessions (each client's recent requests and
/// their outputs), all in the snapshot.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Machine {
    store: BTreeMap<String, String>,
    sessions: BTreeMap<ClientId, BTreeMap<u64, KvOutput>>,
}

impl Machine {
    /// Applies `request` once: a request seen before gets its remembered output; one older
    /// than the session's window is refused.
    fn apply(&mut self, request: &Request) -> Answer {
        let session = self.sessions.entry(request.client).or_default();
        if let Some(output) = session.get(&request.seq) {
            return Answer::Done(output.clone());
        }
        let newest = session.last_key_value().map_or(0, |(&seq, _)| seq);
        if request.seq + SESSION_WINDOW <= newest {
            let why = format!("request {} is older than the session keeps ({newest})", request.seq);
            return Answer::Refused(why);
        }
        let output = self.run(&request.op);
        let session = self.sessions.entry(request.client).or_default();
        session.insert(request.seq, output.clone());
        while session.len() as u64 > SESSION_WINDOW {
            session.pop_first();
        }
        Answer::Done(output)
    }

    fn run(&mut self, op: &KvOp) -> KvOutput {
        match op {
            KvOp::Get { key } => KvOutput::Value(self.store.get(key).cloned()),
            KvOp::Put { key, value } => {
                self.store.insert(key.clone(), value.clone());
                KvOutput::Ok
            }
            KvOp::Append { key, value } => {
                self.store.entry(key.clone()).or_default().push_str(value);
                KvOutput::Ok
            }
            KvOp::Delete { key } => {
                self.store.remove(key);
                KvOutput::Ok
            }
            KvOp::Cas { key, expected, new } => {
                let set = self.store.get(key) == expected.as_ref();
                if set {
                    self.store.insert(key.clone(), new.clone());
                }
                KvOutput::Cas(set)
            }
        }
    }
}

/// The stage 5 node with a state machine and the requests waiting for their entries.
pub struct KvOverLog {
    node: RaftNode,
    machine: Machine,
    /// The index the machine applied through.
    applied: u64,
    /// Requests proposed here, by the index of their entry: answered when it applies.
    pending: BTreeMap<u64, Vec<Request>>,
    /// Requests of this loop turn, proposed together as one entry before the writes are taken.
    queued: Vec<Request>,
    replies: Vec<Reply>,
    /// The term in which this node last proposed its no-op as leader.
    noop_term: u64,
}

impl KvOverLog {
    fn apply_committed(&mut self) {
        if let Some(snapshot) = self.node.take_snapshot() {
            self.machine = serde_json::from_slice(&snapshot.data).unwrap_or_default();
            self.applied = snapshot.index;
        }
        for entry in self.node.take_committed() {
            self.applied = entry.index;
            let pending = self.pending.remove(&entry.index);
            if entry.command.is_empty() {
                continue; // a leader's no-op (§8)
            }
            let Ok(batch) = serde_json::from_str::<Vec<Request>>(&entry.command) else { continue };
            let answers: Vec<Answer> =
                batch.iter().map(|request| self.machine.apply(request)).collect();
            let Some(waiting) = pending else { continue };
            if waiting == batch {
                for (request, answer) in waiting.into_iter().zip(answers) {
                    self.replies.push(Reply { client: request.client, seq: request.seq, answer });
                }
            } else {
                self.answer_not_leader(waiting);
            }
        }
        self.maybe_compact();
    }

    fn maybe_compact(&mut self) {
        if self.applied >= self.node.status().snapshot_index + COMPACT_EVERY {
            let data = serde_json::to_vec(&self.machine).expect("the store encodes");
            self.node.compact(self.applied, data);
        }
    }

    /// Requests waiting here while this node no longer leads: answered "not leader" (they may
    /// still commit under the next leader; the session applies a retry once).
    fn fail_pending_if_deposed(&mut self) {
        if self.node.status().role == Role::Leader || self.pending.is_empty() {
            return;
        }
        for (_, batch) in std::mem::take(&mut self.pending) {
            self.answer_not_leader(batch);
        }
    }

    fn answer_not_leader(&mut self, requests: Vec<Request>) {
        let answer = self.not_leader();
        for request in requests {
            let answer = answer.clone();
            self.replies.push(Reply { client: request.client, seq: request.seq, answer });
        }
    }

    /// Proposes the requests of this turn as one entry.
    fn propose_queued(&mut self) {
        if self.queued.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.queued);
        let command = serde_json::to_string(&batch).expect("requests encode");
        match self.node.propose(command) {
            Ok((index, _term)) => {
                self.pending.insert(index, batch);
            }
            Err(_) => self.answer_not_leader(batch),
        }
    }

    /// A leader commits entries of earlier terms only through one of its own (§5.4.2): propose
    /// an empty command at the start of each term it leads (§8).
    fn maybe_propose_noop(&mut self) {
        let status = self.node.status();
        if status.role == Role::Leader && self.noop_term != status.term {
            self.noop_term = status.term;
            let _ = self.node.propose(String::new());
        }
    }

    fn not_leader(&self) -> Answer {
        Answer::NotLeader { leader_hint: self.leader() }
    }
}

impl Hosted for KvOverLog {
    type Node = RaftNode;
    type Message = data_structures::Message;

    fn start(
        id: NodeId,
        peers: Vec<NodeId>,
        config: Config,
        rng: Rng,
        disk: Option<data_structures::PersistentState>,
    ) -> Self {
        let node = match disk {
            Some(state) => RaftNode::restart(id, peers, config, rng, state),
            None => RaftNode::new(id, peers, config, rng),
        };
        let (machine, applied) = (Machine::default(), 0);
        let (pending, queued, replies) = (BTreeMap::new(), Vec::new(), Vec::new());
        KvOverLog { node, machine, applied, pending, queued, replies, noop_term: 0 }
    }

    fn tick(&mut self) {
        self.node.tick();
        self.maybe_propose_noop();
    }

    fn step(&mut self, from: NodeId, message: Self::Message) {
        self.node.step(from, message);
        self.maybe_propose_noop();
    }

    fn request(&mut self, request: Request) {
        if self.node.status().role == Role::Leader {
            self.queued.push(request);
        } else {
            self.answer_not_leader(vec![request]);
        }
    }

    fn take_persist(&mut self) -> Vec<data_structures::StorageWrite> {
        self.propose_queued();
        self.node.take_persist()
    }

    fn take_messages(&mut self) -> Vec<Envelope<Self::Message>> {
        self.node.take_messages()
    }

    fn take_replies(&mut self) -> Vec<Reply> {
        self.apply_committed();
        self.fail_pending_if_deposed();
        std::mem::take(&mut self.replies)
    }

    fn status(&self) -> Status {
        self.node.status()
    }

    fn applied(&self) -> u64 {
        self.applied
    }

    fn leader(&self) -> Option<NodeId> {
        match &self.node.state().role {
            data_structures::Role::Leader { .. } => Some(self.node.id()),
            data_structures::Role::Follower { leader } => *leader,
            data_structures::Role::Candidate { .. } => None,
        }
    }
}
