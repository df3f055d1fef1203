//! The service node: a Raft node, a store, and the clients' requests in between (§6.2, §8).
//!
//! A [`KvNode`] wraps the stage 5 [`RaftNode`]. It takes a client's write, proposes it as a
//! log entry, and answers once that very entry is applied; it answers a read without the log
//! ([`crate::read`]). It applies the committed entries to its [`Store`] itself, loads the
//! snapshots its Raft node hands out, and compacts its log into a snapshot of the store every
//! [`KvConfig::snapshot_every`] entries (§7).
//!
//! # After every input
//!
//! The plumbing is given: every input (`tick`, `step`, `request`, `register`) ends in
//! `after_input`, which calls your functions in this order (each only when it has something to
//! work on):
//!
//! 1. compaction, if `snapshot_every` entries were applied since the last snapshot (§7), and
//!    `maybe_append_noop`: a new leader's first entry (§8);
//! 2. the snapshot and the committed entries the Raft node hands out: the snapshot replaces
//!    the store, and `apply_entries` applies the entries and answers the writes waiting for
//!    them;
//! 3. `maybe_step_down`: a node that no longer leads answers every request it holds;
//! 4. `maybe_answer_reads` ([`crate::read`]);
//! 5. the Raft node's messages go out with the service's own (`take_messages`).
//!
//! # Waiting for an entry (§6.2)
//!
//! A write proposed at `(index, term)` is answered when the entry at `index` is applied: if
//! that entry has `term`, it is the write's (Log Matching, §5.3) and the store's answer goes
//! back; if it has another term, another leader's entry took the place and the write was lost:
//! the answer is "not leader", and the client retries elsewhere. The same happens to every
//! waiting write when the node stops leading: it cannot know if its entries will commit. A
//! retried write may then be applied twice in the log; the sessions apply it once.
//!
//! # Registering a client (§6.3)
//!
//! A client's registration goes through the log as well, as an [`crate::Entry::Register`], and
//! waits for its entry like a write (`pending`, with the client's nonce and sequence number
//! 0): once applied, it is answered [`Answer::Registered`] with the entry's index, the client's
//! id. A registration retried after "not leader" or a timeout may be applied twice, opening two
//! sessions; the client uses the id of the first answer it gets, and the other session, never
//! used, is the least recently used and is evicted in time. Harmless, so registrations need no
//! sessions of their own.

use std::collections::BTreeMap;
use std::mem;

use harness::service::kv::{KvOp, KvOutput};
use harness::service::{Answer, ClientId, Reply, Request, Service};
use harness::{
    Applied, Compact, Config, Envelope, Index, Node, NodeId, NotLeader, Persist, Replicate, Rng,
    Snapshot, Status, Term,
};

use crate::message::Message;
use crate::read::PendingRead;
use crate::store::{KvError, Store};
use crate::{PersistentState, RaftNode, StorageWrite};

/// The service's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KvConfig {
    /// Compact the log once this many applied entries follow the snapshot (§7).
    pub snapshot_every: u64,
    /// The most client sessions the store keeps (§6.3).
    pub max_sessions: usize,
}

impl Default for KvConfig {
    fn default() -> Self {
        KvConfig { snapshot_every: 64, max_sessions: crate::store::DEFAULT_MAX_SESSIONS }
    }
}

/// A write (or a registration) waiting for its entry to be applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingWrite {
    /// The term of the entry proposed for it.
    pub term: Term,
    /// The client that asked (for a registration: the client's nonce).
    pub client: ClientId,
    /// The request's sequence number (0 for a registration).
    pub seq: u64,
}

/// What a client is told of the store's answer to its request: [`Answer::Done`] with the
/// output; [`Answer::SessionExpired`] if the client has no session (it re-registers, and the
/// request's outcome stays unknown to it, §6.3); [`Answer::Refused`], with the reason, for any
/// other refusal (it changed nothing).
pub fn to_answer(result: Result<KvOutput, KvError>) -> Answer<KvOutput> {
    match result {
        Ok(output) => Answer::Done(output),
        Err(KvError::SessionExpired { .. }) => Answer::SessionExpired,
        Err(error) => Answer::Refused(error.to_string()),
    }
}

/// A server of the replicated key-value service.
///
/// Driven by the harness through [`Node`], [`Replicate`], [`Persist`], [`Compact`] and
/// [`Service`]: inputs are `tick`, `step` and [`Service::request`]; after each input the
/// harness drains `take_persist`, `take_messages`, `take_snapshot`, `take_committed` and
/// [`Service::take_replies`], in that order.
#[derive(Clone, Debug)]
pub struct KvNode {
    /// The Raft node of stage 5, unchanged.
    pub raft: RaftNode,
    /// The state machine: what every entry applied so far made.
    pub store: Store,
    /// The service's settings.
    pub config: KvConfig,
    /// Writes waiting for their entry, by log index.
    pub pending: BTreeMap<Index, PendingWrite>,
    /// Reads waiting for their leadership check or for the store to catch up (§6.4).
    pub reads: Vec<PendingRead>,
    /// The last ReadIndex round this leader started in `read_term`.
    pub read_round: u64,
    /// The term of `read_round` and `acks`.
    pub read_term: Term,
    /// Per follower, the highest round of `read_term` it confirmed.
    pub acks: BTreeMap<NodeId, u64>,
    /// Ticks since this leader last started a round with reads waiting.
    pub read_elapsed: u64,
    /// The term in which this node, as leader, last appended its no-op (§8).
    pub noop_term: Term,
    /// Answers not yet taken by [`Service::take_replies`].
    pub replies: Vec<Reply<KvOutput>>,
    /// Messages of the service's own (ReadIndex) not yet taken.
    pub outbox: Vec<Envelope<Message>>,
    /// Entries applied, and the snapshot loaded, since the harness last took them.
    applied: Vec<Applied<String>>,
    loaded: Option<Snapshot>,
}

impl KvNode {
    /// A service node around `raft`, with an empty store.
    fn around(raft: RaftNode) -> Self {
        let config = KvConfig::default();
        KvNode {
            raft,
            store: Store::new(config.max_sessions),
            config,
            pending: BTreeMap::new(),
            reads: Vec::new(),
            read_round: 0,
            read_term: 0,
            acks: BTreeMap::new(),
            read_elapsed: 0,
            noop_term: 0,
            replies: Vec::new(),
            outbox: Vec::new(),
            applied: Vec::new(),
            loaded: None,
        }
    }

    /// The Raft node's whole state (term, vote, log, role, commit and apply indexes).
    pub fn state(&self) -> &data_structures::State {
        &self.raft.state
    }

    /// The Raft node's state, to change: for tests that set up a situation directly.
    pub fn state_mut(&mut self) -> &mut data_structures::State {
        &mut self.raft.state
    }

    /// True if this node leads its current term.
    pub fn is_leader(&self) -> bool {
        matches!(self.raft.state.role, data_structures::Role::Leader { .. })
    }

    /// The leader this node knows of in its term: itself, the leader it follows, or none.
    pub fn leader_hint(&self) -> Option<NodeId> {
        if self.is_leader() { Some(self.raft.state.id) } else { self.raft.state.leader() }
    }

    /// Queues the answer `answer` to client `client`'s request `seq`.
    pub fn answer(&mut self, client: ClientId, seq: u64, answer: Answer<KvOutput>) {
        self.replies.push(Reply { client, seq, answer });
    }

    /// Queues "not leader", with the leader this node knows, for `client`'s request `seq`.
    pub fn not_leader(&mut self, client: ClientId, seq: u64) {
        let leader_hint = self.leader_hint().filter(|&hint| hint != self.raft.state.id);
        self.answer(client, seq, Answer::NotLeader { leader_hint });
    }

    /// Everything that follows an input, in the order of the module documentation.
    fn after_input(&mut self) {
        // What earlier inputs applied, first: the harness saw those entries committed.
        self.maybe_compact();
        self.maybe_append_noop();
        if let Some(snapshot) = self.raft.take_snapshot() {
            self.store = Store::restore(&snapshot.data);
            self.loaded = Some(snapshot);
        }
        let entries = self.raft.take_committed();
        if !entries.is_empty() {
            self.apply_entries(&entries);
            self.applied.extend(entries);
        }
        if !self.pending.is_empty() || !self.reads.is_empty() {
            self.maybe_step_down();
        }
        if !self.reads.is_empty() {
            self.maybe_answer_reads();
        }
    }

    /// Compacts the log into a snapshot of the store once `snapshot_every` applied entries
    /// follow the last snapshot (§7): the store has applied everything through
    /// `last_applied`, so its bytes are the state as of that index.
    fn maybe_compact(&mut self) {
        let state = &self.raft.state;
        if state.last_applied >= state.log.snapshot_index() + self.config.snapshot_every {
            let index = state.last_applied;
            self.raft.compact(index, self.store.snapshot());
        }
    }

    /// A client's request (§6.2): a write goes through the log, a read does not (§6.4).
    ///
    /// An op over the size limits is refused at once ([`Store::validate`]) and changes
    /// nothing. A node that does not lead answers "not leader" with the leader it knows. A
    /// `Get` is a read: `start_read`. Any other op is a write: the leader proposes it as an
    /// [`crate::Entry::Request`] and waits for the entry at that index (`pending`), unless the same
    /// request already waits there (a retry that reached the same leader).
    pub fn handle_request(&mut self, request: Request<KvOp>) {
        // TODO: refuse an op that fails Store::validate (Answer::Refused with the error's text);
        //       a node that does not lead: not_leader; a Get: start_read; else propose
        //       Entry::Request(request).encode() and remember a PendingWrite at its index (unless
        //       the same (client, seq) already waits).
        todo!(
            "handle_request(c{}#{} {}): refuse, redirect, read, or propose and wait (§6.2)",
            request.client,
            request.seq,
            request.op
        )
    }

    /// A client's registration (§6.3): a node that does not lead answers "not leader" with the
    /// leader it knows; the leader proposes an [`crate::Entry::Register`] and waits for the
    /// entry at that index (`pending`, as client `nonce`'s request 0), unless the same
    /// registration already waits there (a retry that reached the same leader).
    pub fn handle_register(&mut self, nonce: ClientId) {
        // TODO: a node that does not lead: not_leader(nonce, 0); else, unless a PendingWrite of
        //       (nonce, 0) already waits, propose Entry::Register.encode() and remember a
        //       PendingWrite { term, client: nonce, seq: 0 } at its index.
        todo!("handle_register(nonce {nonce}): redirect, or propose a registration and wait (§6.3)")
    }

    /// Applies committed `entries` to the store, in order, and answers the writes waiting for
    /// them (§6.2). A registration opens a session whose id is the entry's index
    /// (`Store::register`); a client's request is applied through its session
    /// (`Store::apply`, told to the client by [`to_answer`]); a no-op changes nothing. A write
    /// waiting at an entry's index gets the store's answer if the entry has the term it was
    /// proposed in (it is that write's entry), or "not leader" if another leader's entry took
    /// its place.
    pub fn apply_entries(&mut self, entries: &[Applied<String>]) {
        // TODO: for each entry: decode it (Entry::decode); a Register opens a session
        //       (self.store.register: Answer::Registered with the id it returns); a Request goes
        //       through self.store.apply (to_answer turns the result into an Answer); then a
        //       PendingWrite at its index gets that answer if its term is the entry's term, else
        //       not_leader.
        todo!(
            "apply_entries({} entries): apply in order; answer the write waiting at each index if \
             the entry's term is its term, else not leader (§6.2, §6.3)",
            entries.len()
        )
    }

    /// A node that no longer leads, or leads a newer term than a waiting request was taken
    /// in, answers that request "not leader" (§6.2): writes (their entries may or may not
    /// commit; the client retries and the sessions apply it once) and reads (the leadership
    /// check they wait for can no longer succeed).
    pub fn maybe_step_down(&mut self) {
        // TODO: every PendingWrite and PendingRead whose term is not the current term, or all of
        //       them if this node does not lead, leaves its list and gets not_leader.
        todo!(
            "maybe_step_down: {} writes and {} reads wait; not leader of their term -> answer \
             not leader (§6.2)",
            self.pending.len(),
            self.reads.len()
        )
    }

    /// A node that leads a term in which it has not appended its no-op yet appends one now
    /// (§8): until an entry of its own term commits, it cannot know which entries are
    /// committed (§5.4.2), and it must know before it answers a read (§6.4).
    pub fn maybe_append_noop(&mut self) {
        // TODO: a leader whose noop_term is not its current term proposes Entry::Noop.encode()
        //       and sets noop_term.
        todo!(
            "maybe_append_noop: a leader of term {} without its no-op proposes one (§8)",
            self.raft.state.current_term
        )
    }
}

impl Node for KvNode {
    type Message = Message;
    type Command = String;

    fn new(id: NodeId, peers: Vec<NodeId>, config: Config, rng: Rng) -> Self {
        let mut node = KvNode::around(RaftNode::new(id, peers, config, rng));
        node.after_input();
        node
    }

    fn id(&self) -> NodeId {
        self.raft.id()
    }

    fn tick(&mut self) {
        self.raft.tick();
        self.tick_reads();
        self.after_input();
    }

    fn step(&mut self, from: NodeId, message: Message) {
        match message {
            Message::Raft(message) => self.raft.step(from, message),
            Message::ReadIndex(check) => self.handle_read_index(from, check),
            Message::ReadIndexReply(check) => self.handle_read_index_reply(from, check),
        }
        self.after_input();
    }

    /// The service's own messages first (a reply must not wait behind a batch of entries),
    /// then the Raft node's.
    fn take_messages(&mut self) -> Vec<Envelope<Message>> {
        let mut messages = mem::take(&mut self.outbox);
        let raft = self.raft.take_messages().into_iter();
        messages.extend(raft.map(|Envelope { from, to, message }| Envelope {
            from,
            to,
            message: Message::Raft(message),
        }));
        messages
    }

    fn status(&self) -> Status {
        self.raft.status()
    }

    fn log_entry(&self, index: Index) -> Option<(Term, &String)> {
        self.raft.log_entry(index)
    }
}

impl Replicate for KvNode {
    /// A raw command to the Raft node (the harness's `one()`); clients use [`Service::request`].
    fn propose(&mut self, command: String) -> Result<(Index, Term), NotLeader> {
        let result = self.raft.propose(command);
        self.after_input();
        result
    }

    /// What the store applied since the last call, for the harness's checks.
    fn take_committed(&mut self) -> Vec<Applied<String>> {
        mem::take(&mut self.applied)
    }
}

impl Persist for KvNode {
    type State = PersistentState;
    type Write = StorageWrite;

    fn take_persist(&mut self) -> Vec<StorageWrite> {
        self.raft.take_persist()
    }

    fn apply_write(state: &mut PersistentState, write: StorageWrite) {
        RaftNode::apply_write(state, write);
    }

    /// The Raft node restarts from its disk; the store starts empty and is rebuilt from the
    /// snapshot and the entries after it as they commit again (§7).
    fn restart(
        id: NodeId,
        peers: Vec<NodeId>,
        config: Config,
        rng: Rng,
        state: PersistentState,
    ) -> Self {
        let mut node = KvNode::around(RaftNode::restart(id, peers, config, rng, state));
        node.after_input();
        node
    }
}

impl Compact for KvNode {
    /// The service compacts on its own (`snapshot_every`); a request from outside is passed
    /// on, with the store's state, if it is for what the store applied.
    fn compact(&mut self, index: Index, _: Vec<u8>) {
        if index == self.raft.state.last_applied {
            self.raft.compact(index, self.store.snapshot());
        }
    }

    /// The snapshot the store loaded since the last call, for the harness's checks.
    fn take_snapshot(&mut self) -> Option<Snapshot> {
        self.loaded.take()
    }
}

impl Service for KvNode {
    type Op = KvOp;
    type Output = KvOutput;

    fn request(&mut self, request: Request<KvOp>) {
        self.handle_request(request);
        self.after_input();
    }

    fn register(&mut self, nonce: ClientId) {
        self.handle_register(nonce);
        self.after_input();
    }

    fn take_replies(&mut self) -> Vec<Reply<KvOutput>> {
        mem::take(&mut self.replies)
    }
}
