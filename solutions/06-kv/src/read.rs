//! Reads without the log: ReadIndex (dissertation §6.4).
//!
//! The simple correct read goes through the log like a write: the leader answers once the
//! read's entry is applied. It costs a log entry, a disk write on a majority and a round of
//! AppendEntries per read. ReadIndex keeps the round and drops the rest:
//!
//! 1. The leader must know the latest committed index. A new leader may not (§5.4.2: it
//!    commits earlier terms' entries only through one of its own), so it first commits its
//!    no-op (§8); until then its reads wait.
//! 2. It records its `commit_index` as the read's **read index**.
//! 3. It checks that it still leads: it starts a round (`ReadIndex { term, round }` to every
//!    follower), and waits until a majority, itself included, answered a round at least as
//!    recent. A follower answers only if it knows no newer term: then no newer leader was
//!    elected with its vote before it answered, and a majority's answers, all sent after the
//!    read arrived, leave no majority to have elected one before it (§5.2). A deposed leader
//!    cut off from the others gets no majority, and never answers from its stale store.
//! 4. It waits until its store applied the read index, then answers from the store.
//!
//! The read is then linearizable: every write that completed before it arrived is at or
//! before the read index, and the store answers as of an index committed while it waited.
//! Nothing goes in the log.
//!
//! A round may be lost: while reads wait, the leader starts a new round every heartbeat
//! interval. An answer to any round at or after a read's own confirms it.

use harness::service::kv::KvOp;
use harness::service::{ClientId, Request};
use harness::{Index, NodeId, Term};

use crate::message::{Message, ReadIndex};
use crate::service::KvNode;

/// A read waiting at the leader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingRead {
    /// The client that asked and its sequence number.
    pub client: ClientId,
    /// The request's sequence number.
    pub seq: u64,
    /// The key read.
    pub key: String,
    /// The leader's term when it took the read.
    pub term: Term,
    /// The first round started after the read arrived: answers to it or later confirm it.
    pub round: u64,
    /// The read index: the leader's `commit_index` once it has committed an entry of its
    /// term; `None` until then.
    pub read_index: Option<Index>,
}

impl KvNode {
    /// Takes a read at the leader (§6.4): records it with the read index, if the leader has
    /// committed an entry of its term already, and starts a leadership round for it.
    pub fn start_read(&mut self, request: Request<KvOp>) {
        let Request { client, seq, op } = request;
        let key = op.key().to_string();
        let term = self.raft.state.current_term;
        let read_index = self.committed_in_term().then_some(self.raft.state.commit_index);
        let round = self.start_round();
        self.reads.push(PendingRead { client, seq, key, term, round, read_index });
    }

    /// True once the leader's log holds a committed entry of its own term (§5.4.2, §8): then
    /// its `commit_index` is at least every index committed by any leader before.
    pub fn committed_in_term(&self) -> bool {
        let state = &self.raft.state;
        state.log.term_at(state.commit_index) == Some(state.current_term)
    }

    /// Starts a new leadership round: sends `ReadIndex { term, round }` to every follower and
    /// returns the round. The acks of an earlier term are forgotten.
    pub fn start_round(&mut self) -> u64 {
        let term = self.raft.state.current_term;
        if self.read_term != term {
            self.read_term = term;
            self.read_round = 0;
            self.acks.clear();
        }
        self.read_round += 1;
        self.read_elapsed = 0;
        let check = ReadIndex { term, round: self.read_round };
        for peer in self.raft.peers.clone() {
            self.send(peer, Message::ReadIndex(check));
        }
        self.read_round
    }

    /// A follower answers a leadership round if it knows no newer term than the leader's
    /// (§6.4); otherwise it stays silent, and the leader learns the newer term from Raft's own
    /// messages.
    pub fn handle_read_index(&mut self, from: NodeId, check: ReadIndex) {
        if self.raft.state.current_term <= check.term {
            self.send(from, Message::ReadIndexReply(check));
        }
    }

    /// The leader records a follower's answer to a round of its current term; the highest
    /// round each follower answered is what counts (answers arrive late, out of order, twice).
    pub fn handle_read_index_reply(&mut self, from: NodeId, check: ReadIndex) {
        if !self.is_leader() || check.term != self.raft.state.current_term {
            return;
        }
        if check.term == self.read_term {
            let acked = self.acks.entry(from).or_insert(0);
            *acked = (*acked).max(check.round);
        }
    }

    /// True if a majority, this leader included, answered round `round` or a later one.
    pub fn confirmed(&self, round: u64) -> bool {
        let answered = self.acks.values().filter(|&&acked| acked >= round).count();
        let cluster = self.raft.peers.len() + 1;
        answered + 1 > cluster / 2
    }

    /// Answers every waiting read that can be (§6.4): a read without a read index gets one
    /// once the leader committed an entry of its term; a read whose round a majority confirmed
    /// and whose read index the store applied gets the store's value. The others keep waiting.
    pub fn maybe_answer_reads(&mut self) {
        if !self.is_leader() {
            return;
        }
        let committed = self.committed_in_term().then_some(self.raft.state.commit_index);
        let last_applied = self.raft.state.last_applied;
        let mut waiting = Vec::new();
        for mut read in std::mem::take(&mut self.reads) {
            read.read_index = read.read_index.or(committed);
            match read.read_index {
                Some(index) if self.confirmed(read.round) && last_applied >= index => {
                    let value = self.store.get(&read.key).cloned();
                    let output = harness::service::kv::KvOutput::Value(value);
                    self.answer(read.client, read.seq, harness::service::Answer::Done(output));
                }
                _ => waiting.push(read),
            }
        }
        self.reads = waiting;
    }

    /// One tick: while reads wait at this leader, a new round every heartbeat interval, in
    /// case an earlier one was lost. (Given.)
    pub(crate) fn tick_reads(&mut self) {
        if self.reads.is_empty() || !self.is_leader() {
            return;
        }
        self.read_elapsed += 1;
        if self.read_elapsed >= self.raft.config.heartbeat_interval {
            self.start_round();
        }
    }

    /// Queues a service message for `to`. (Given.)
    pub(crate) fn send(&mut self, to: NodeId, message: Message) {
        let from = self.raft.state.id;
        self.outbox.push(harness::Envelope { from, to, message });
    }
}
