//! The interface between the harness and a Raft node: a sans-IO state machine.
//!
//! # The contract
//!
//! A node is a pure state machine. It never reads a clock, starts a thread, opens a socket or
//! draws from global randomness. The harness drives it:
//!
//! - **Inputs**: [`Node::tick`] (one unit of simulated time passed), [`Node::step`] (a message
//!   arrived), and, for nodes that replicate, [`Replicate::propose`] (a client command).
//! - **Outputs**, drained after every input, in this order:
//!   1. [`Persist::take_persist`]: writes the node needs on stable storage. The harness
//!      writes it *before* it sends anything, so a message never depends on state that a crash
//!      could lose (§5.1: servers respond to RPCs only after updating stable storage);
//!   2. [`Node::take_messages`]: messages to send;
//!   3. [`Replicate::take_committed`]: newly committed entries to apply, in index order.
//! - **Observation**: [`Node::status`] and [`Node::log_entry`], read by the safety checks. They
//!   must not change the node.
//!
//! Randomness (the election timeout, §5.2) comes only from the [`Rng`] handed in at
//! construction, so a run is fixed by its seed.
//!
//! # Entries without a client command
//!
//! A leader may append entries that carry no client command, such as the no-op it appends at
//! the start of its term (§8), which lets it commit the entries of earlier terms at once
//! (§5.4.2: only entries of the current term are committed by counting replicas). The harness
//! sees logs of [`Node::Command`]s only, so represent such an entry in your own command type
//! (`enum Command { Noop, Put(..) }`, or `Option<C>`): [`Node::log_entry`] returns it and
//! [`Replicate::take_committed`] hands it out like any other entry, in index order, so the
//! applied indexes stay gapless; the state machine does nothing with it. The checks treat it as
//! any entry, and [`Cluster::one`](crate::Cluster::one) compares commands, so a no-op never
//! passes for a client's command.
//!
//! The harness knows nothing of a stage's types: the message and command types are associated
//! types, so a learner's own design, any stage, or another library can be driven unchanged.
//! The traits are split by capability so that no stage has to pretend: a stage 2 node
//! implements [`Node`] (and [`Persist`], to survive a crash), stage 3 adds [`Replicate`].

use std::fmt::{Debug, Display};

use serde::{Deserialize, Serialize};

use crate::rng::Rng;

/// A node's id. Ids are small, distinct and chosen by the harness (1, 2, 3, ...).
pub type NodeId = u64;
/// A term number (§5.1).
pub type Term = u64;
/// A log index; the first entry has index 1, index 0 is the empty prefix (Figure 2).
pub type Index = u64;

/// Timing settings, in ticks.
///
/// §5.6: broadcast time ≪ election timeout ≪ time between failures. With messages delayed
/// by a few ticks, a heartbeat every few ticks and a timeout of tens of ticks keeps that order.
///
/// The defaults (timeout 20, heartbeat 4) against the default delays of 1 to 3 ticks (a round
/// trip of 2 to 6): a timeout is 5 round trips, the low end of the paper's order of magnitude.
/// Measured with the stage 2 reference over 2,000 seeds (`cargo run --release -p
/// election-solution --example split_votes`), the share of election rounds that elect no
/// leader (split votes, or a candidate overtaken by a later term) is 3.8% for a fresh 5-node
/// cluster, 14% for its re-election after the leader crashed, and 40% in the hardest case,
/// 7 nodes of which only 4 are connected (the leader needs all 4 votes). A larger timeout
/// splits less (30: 1.8%, 7.8%, 28%; 40: 0.9%, 6.1%, 23%) but every round then waits longer,
/// so an election takes *more* ticks, not fewer (mean ticks to a leader, counted from the
/// start for a fresh cluster and from the crash for a re-election: 20 → 28, 34, 45; 30 →
/// 39, 45, 55; 40 → 50, 57, 67), and tests that wait for elections run longer. So the
/// defaults stay: a failed round costs one more timeout, which the tests' bounds allow for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// T: every election timeout is drawn uniformly from `[T, 2T)` ticks (§5.2).
    pub election_timeout: u64,
    /// A leader sends heartbeats every this many ticks; must be well below `election_timeout`.
    pub heartbeat_interval: u64,
    /// The most log entries one AppendEntries carries (§5.3): a follower far behind is
    /// repaired in batches, so no single message grows with the log.
    pub max_entries_per_append: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config { election_timeout: 20, heartbeat_interval: 4, max_entries_per_append: 64 }
    }
}

/// A node's role (§5.1, Figure 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Role {
    /// Passive: answers leaders and candidates.
    Follower,
    /// Trying to become leader for its term.
    Candidate,
    /// Handles client requests and replicates its log.
    Leader,
}

/// What the safety checks read from a node after every event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// `current_term` (Figure 2).
    pub term: Term,
    /// The node's role.
    pub role: Role,
    /// `voted_for` in the current term (Figure 2).
    pub voted_for: Option<NodeId>,
    /// `commit_index` (Figure 2): 0 for a node that does not replicate.
    pub commit_index: Index,
    /// The index of the last entry in the log (0 if the log is empty).
    pub last_log_index: Index,
    /// The last index compacted into a snapshot (§7), 0 for a node without one. The entries
    /// through it are gone: [`Node::log_entry`] returns `None` for them, and the checks take
    /// them from what the cluster saw committed.
    pub snapshot_index: Index,
}

/// A message on its way: who sends it, to whom, and what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope<M> {
    /// The sender.
    pub from: NodeId,
    /// The receiver.
    pub to: NodeId,
    /// The message.
    pub message: M,
}

/// A committed entry, handed out once, in index order, to be applied to the state machine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied<C> {
    /// Its log index.
    pub index: Index,
    /// The term in which a leader created it.
    pub term: Term,
    /// The client's command.
    pub command: C,
}

/// A proposal went to a node that is not the leader.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotLeader {
    /// The leader this node last heard from in its current term, if any: where to retry.
    pub leader_hint: Option<NodeId>,
}

/// A Raft node as the harness drives it: elections, terms and messages. Every stage.
pub trait Node {
    /// The messages nodes exchange. `Display` is a one-line summary for timelines.
    type Message: Clone + Debug + Display + Serialize + 'static;
    /// A client command stored in log entries. (`'static` so that the checks can recognize a
    /// `String` and hash it without serde_json.)
    type Command: Clone + Debug + PartialEq + Serialize + 'static;

    /// A fresh node: term 0, no vote, empty log, follower. `peers` are the other nodes' ids.
    fn new(id: NodeId, peers: Vec<NodeId>, config: Config, rng: Rng) -> Self;

    /// This node's id.
    fn id(&self) -> NodeId;

    /// One tick of simulated time passed.
    fn tick(&mut self);

    /// A message from `from` arrived.
    fn step(&mut self, from: NodeId, message: Self::Message);

    /// Messages to send, in the order they were produced; drained.
    fn take_messages(&mut self) -> Vec<Envelope<Self::Message>>;

    /// Term, role, vote and indexes, for the checks.
    fn status(&self) -> Status;

    /// The term and command of the entry at `index`, or `None` if `index` is 0 or past the end.
    fn log_entry(&self, index: Index) -> Option<(Term, &Self::Command)>;
}

/// A node that accepts client commands and replicates them (stage 3 on).
pub trait Replicate: Node {
    /// Appends `command` to the leader's log: `Ok((index, term))` where it will be committed if
    /// this node stays leader, or `Err(NotLeader)` if this node is not the leader (§5.3).
    fn propose(&mut self, command: Self::Command) -> Result<(Index, Term), NotLeader>;

    /// Entries committed since the last call, in index order, each exactly once; drained.
    /// Entries without a client command (a leader's no-op, §8) are handed out too, so that the
    /// indexes stay gapless (see the module documentation).
    fn take_committed(&mut self) -> Vec<Applied<Self::Command>>;
}

/// A node that survives a crash: it says what to write to stable storage, and restarts from
/// what its storage holds.
///
/// Writes are changes, not copies (§5.1): "term 4, voted for n2", "truncate the log from index
/// 7", "append these 3 entries". A write costs what it carries, so persisting stays cheap
/// however long the log grows. A node whose state is small may still write it whole: its
/// `Write` is then its `State`, and `apply_write` replaces one with the other.
pub trait Persist: Node {
    /// Everything Figure 2 calls persistent state (`current_term`, `voted_for`, `log`), as
    /// stable storage holds it. `Default` is a blank disk.
    type State: Clone + Debug + Default + Serialize;

    /// One write to stable storage: a change to [`Persist::State`].
    type Write: Clone + Debug + Serialize;

    /// The writes this node needs carried out since the last call, in order; drained.
    ///
    /// The harness carries them out on the node's simulated disk ([`Persist::apply_write`])
    /// before it sends any of the node's messages, so no message depends on state a crash
    /// could lose (§5.1: servers respond to RPCs only after updating stable storage).
    fn take_persist(&mut self) -> Vec<Self::Write>;

    /// Carries out `write` on `state`: what the storage engine does with a write.
    fn apply_write(state: &mut Self::State, write: Self::Write);

    /// A node restarted after a crash from the last state written to its disk: volatile state
    /// (role, `commit_index`, leader state, timers) starts afresh (Figure 2).
    fn restart(
        id: NodeId,
        peers: Vec<NodeId>,
        config: Config,
        rng: Rng,
        state: Self::State,
    ) -> Self;
}

/// A snapshot on its way to the state machine: the state after applying every entry through
/// `index`, which the state machine loads instead of those entries (§7).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The last index the snapshot covers (Figure 13's `lastIncludedIndex`).
    pub index: Index,
    /// The term of the entry at `index` (`lastIncludedTerm`).
    pub term: Term,
    /// The state machine's state as of `index`, as the service encoded it.
    pub data: Vec<u8>,
}

/// A node that compacts its log into snapshots (§7; stage 5 on).
///
/// The service (here, the cluster, on behalf of each node's state machine) decides when: it
/// calls [`Compact::compact`] with the state machine's state after an index the node handed
/// out. The node keeps those bytes as its snapshot, drops its log through that index, writes
/// the snapshot to stable storage ([`Persist::take_persist`]), and sends it to a follower that
/// needs entries it no longer holds (InstallSnapshot, Figure 13).
///
/// A snapshot reaches a state machine through [`Compact::take_snapshot`], drained after every
/// input *before* [`Replicate::take_committed`]: one installed from the leader, or after a
/// restart the node's own, so that the state machine loads it and the entries that follow
/// apply on top of it.
pub trait Compact: Replicate {
    /// The state machine applied every entry through `index`, and `snapshot` is its state:
    /// keep it and drop the log through `index` (§7). Ignored if `index` is at or before the
    /// node's snapshot (an out-of-date request), or past the last entry it handed out.
    fn compact(&mut self, index: Index, snapshot: Vec<u8>);

    /// A snapshot the state machine must load before the next committed entries, if there is
    /// one since the last call; drained. Every entry after it is then handed out by
    /// [`Replicate::take_committed`], and none at or before it ever again.
    fn take_snapshot(&mut self) -> Option<Snapshot>;
}
