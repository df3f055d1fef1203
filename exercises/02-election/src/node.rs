//! The node: its state, the term guards and the dispatch of every message (§5.1).
//!
//! Mostly given: the plumbing between the harness's traits and the election rules in
//! [`crate::election`]. Read it to see when each of your functions is called. In stage 2 one
//! function here is yours: `check_term`, the rules for all servers that every message passes
//! first. Stages 3 on include this file of the stage 2 reference as it is, as given code.

use std::mem;

use data_structures::{Command, Index, Message, NodeId, PersistentState, Role, State, Term};
use harness::{Config, Envelope, Node, Rng, Status};

/// A Raft server that takes part in elections (§5.1, §5.2).
///
/// Driven by the harness through [`Node`] and [`harness::Persist`]: inputs are [`Node::tick`] and
/// [`Node::step`]; after each input, [`harness::Persist::take_persist`] says what to write to stable
/// storage and [`Node::take_messages`] what to send, in that order (see the crate doc).
///
/// Invariants: `peers` is sorted and does not hold this node's id; `election_timeout` lies in
/// `[T, 2T)` where `T = config.election_timeout` (§5.2).
#[derive(Clone, Debug)]
#[allow(dead_code, reason = "the election rules read these fields; their stubs do not yet")]
pub struct RaftNode {
    /// Term, vote, log and role (Figure 2), from stage 1.
    pub(crate) state: State,
    /// The other servers' ids, sorted, so that broadcasts go out in a fixed order.
    pub(crate) peers: Vec<NodeId>,
    /// The election timeout base T and the heartbeat interval, in ticks.
    pub(crate) config: Config,
    /// The only source of randomness: the election timeouts (§5.2).
    pub(crate) rng: Rng,
    /// Ticks since the election timer was last reset.
    pub(crate) election_elapsed: u64,
    /// Ticks without hearing from a leader (or granting a vote) after which a follower or a
    /// candidate starts an election; drawn anew in `[T, 2T)` at every reset (§5.2).
    pub(crate) election_timeout: u64,
    /// Ticks since the leader last broadcast heartbeats.
    pub(crate) heartbeat_elapsed: u64,
    /// Messages produced and not yet taken by [`Node::take_messages`].
    pub(crate) outbox: Vec<Envelope<Message>>,
    /// What stable storage holds: the persistent state as of the last writes handed out by
    /// `take_persist` (or restored from), to compare the current state with (see
    /// `crate::persistence`).
    pub(crate) persisted: PersistentState,
}

impl RaftNode {
    /// A node with `state`, of which `persisted` is already on stable storage.
    pub(crate) fn with_state(
        state: State,
        mut peers: Vec<NodeId>,
        config: Config,
        rng: Rng,
        persisted: PersistentState,
    ) -> Self {
        peers.sort_unstable();
        peers.dedup();
        assert!(
            !peers.contains(&state.id),
            "node {} is listed among its own peers {peers:?}",
            state.id
        );
        let mut node = RaftNode {
            state,
            peers,
            config,
            rng,
            election_elapsed: 0,
            election_timeout: 0,
            heartbeat_elapsed: 0,
            outbox: Vec::new(),
            persisted,
        };
        // Every node starts as a follower with a fresh random timeout (§5.2).
        node.reset_election_timer();
        node
    }

    /// The node's whole state (term, vote, log, role), for tests and debugging.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Queues `message` for `to`.
    #[allow(dead_code, reason = "the election rules send; their stubs do not yet")]
    pub(crate) fn send(&mut self, to: NodeId, message: Message) {
        self.outbox.push(Envelope { from: self.state.id, to, message });
    }

    /// Queues `message` for every peer, in id order.
    #[allow(dead_code, reason = "the election rules broadcast; their stubs do not yet")]
    pub(crate) fn broadcast(&mut self, message: Message) {
        let from = self.state.id;
        let envelopes =
            self.peers.iter().map(|&to| Envelope { from, to, message: message.clone() });
        self.outbox.extend(envelopes);
    }

    /// The rules for all servers (§5.1), applied before any message is handled: returns
    /// whether the message is of the current term and should be handled.
    ///
    /// - A newer term: adopt it, clear the vote and become a follower (`State::observe_term`),
    ///   then handle the message in the new term.
    /// - An older term: the sender is out of date. A request is rejected with the current
    ///   term, so that the sender learns it and steps down; a reply answers a request this
    ///   node sent in an earlier term, and is dropped (a stale vote must not count, §5.2).
    fn check_term(&mut self, from: NodeId, message: &Message) -> bool {
        // TODO: compare `message.term()` with `current_term`: adopt a newer term (stage 1's
        //       `State::observe_term`) and handle the message; answer a stale request with a
        //       refusal carrying `current_term`; drop a stale reply.
        todo!(
            "check_term(from {from}, {message}): newer term -> observe it and handle; stale \
             request -> refuse with current_term; stale reply -> drop (§5.1)"
        )
    }
}

impl Node for RaftNode {
    type Message = Message;
    type Command = Command;

    fn new(id: NodeId, peers: Vec<NodeId>, config: Config, rng: Rng) -> Self {
        RaftNode::with_state(State::new(id), peers, config, rng, PersistentState::default())
    }

    fn id(&self) -> NodeId {
        self.state.id
    }

    /// Followers and candidates count towards an election; a leader towards its next
    /// heartbeat (§5.2).
    fn tick(&mut self) {
        match self.state.role {
            Role::Follower { .. } | Role::Candidate { .. } => self.tick_election(),
            Role::Leader { .. } => self.tick_heartbeat(),
        }
    }

    fn step(&mut self, from: NodeId, message: Message) {
        if !self.check_term(from, &message) {
            return;
        }
        // From here on, `message.term() == current_term`.
        match message {
            // A candidate of this term asks for this node's vote (§5.2, §5.4.1).
            Message::RequestVote(request) => self.handle_request_vote(from, request),
            // A vote for this node's candidacy in this term, or a refusal (§5.2).
            Message::RequestVoteReply(reply) => self.handle_request_vote_reply(from, reply),
            // The leader of this term: a heartbeat (§5.2); stage 3 adds entries (§5.3).
            Message::AppendEntries(request) => self.handle_append_entries(from, request),
            // A follower answers this leader's heartbeat; stage 3 uses it (§5.3).
            Message::AppendEntriesReply(reply) => self.handle_append_entries_reply(from, reply),
            // The leader of this term sends its snapshot; stage 5 (§7).
            Message::InstallSnapshot(request) => self.handle_install_snapshot(from, request),
            // A follower installed this leader's snapshot; stage 5 (§7).
            Message::InstallSnapshotReply(reply) => {
                self.handle_install_snapshot_reply(from, reply);
            }
        }
    }

    fn take_messages(&mut self) -> Vec<Envelope<Message>> {
        mem::take(&mut self.outbox)
    }

    fn status(&self) -> Status {
        let role = match self.state.role {
            Role::Follower { .. } => harness::Role::Follower,
            Role::Candidate { .. } => harness::Role::Candidate,
            Role::Leader { .. } => harness::Role::Leader,
        };
        Status {
            term: self.state.current_term,
            role,
            voted_for: self.state.voted_for,
            commit_index: self.state.commit_index,
            last_log_index: self.state.log.last_index(),
            snapshot_index: self.state.log.snapshot_index(),
        }
    }

    fn log_entry(&self, index: Index) -> Option<(Term, &Command)> {
        self.state.log.entry(index).map(|entry| (entry.term, &entry.command))
    }
}
