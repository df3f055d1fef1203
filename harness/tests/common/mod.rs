//! A toy replicated node for the harness's own tests, with switchable bugs.
//!
//! Not Raft: node 1 is the leader of term 1, forever; the others follow. The leader appends
//! proposals, sends every follower the entries past what it acknowledged on each heartbeat,
//! and commits what a majority holds. That is enough to exercise every check, and simple
//! enough to be obviously right when `BUG` is [`CORRECT`]. Each other `BUG` breaks one rule.

#![allow(dead_code)]

use std::fmt;

use harness::{
    Applied, Compact, Config, Envelope, Index, Node, NodeId, NotLeader, Persist, Replicate, Rng,
    Role, Snapshot, Status, Term,
};
use serde::Serialize;

/// No bug.
pub const CORRECT: u8 = 0;
/// Every node leads term 1.
pub const TWO_LEADERS: u8 = 1;
/// Node 2 applies a different command than the one in its log.
pub const DIVERGENT_APPLY: u8 = 2;
/// Node 2's commit_index goes back down once it reaches 2.
pub const COMMIT_DOWN: u8 = 3;
/// Node 3 jumps to term 5 at tick 30, then back to term 4.
pub const TERM_DOWN: u8 = 4;
/// Node 2 stores a different command than the leader sent.
pub const LOG_MISMATCH: u8 = 5;
/// Node 2 panics when a message arrives.
pub const PANICS: u8 = 6;
/// Node 2 sends 5,000 messages every tick.
pub const FLOODS: u8 = 7;
/// Node 3 never stores entries and declares itself leader of term 2 at tick 200.
pub const INCOMPLETE_LEADER: u8 = 8;
/// Nothing is ever persisted: a restarted node forgets its term.
pub const FORGETS: u8 = 9;
/// Node 2 applies index 2 twice.
pub const APPLIES_TWICE: u8 = 10;
/// Node 2 rewrites the command of its entry at index 2 in place (same term) at tick 150.
pub const REWRITES_IN_PLACE: u8 = 11;
/// As [`LOG_MISMATCH`], but only the first node 2 built on this thread after [`arm_flaky`]:
/// a node that keeps state in a static, so the same seed runs differently the second time.
pub const FLAKY: u8 = 12;
/// Node 2 applies what it commits but hands none of it out (`take_committed` answers nothing),
/// as a service whose state machine the harness then never sees.
pub const HANDS_OUT_NOTHING: u8 = 13;

thread_local! {
    static FLAKY_ARMED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The next node 2 of a [`FLAKY`] toy built on this thread stores wrong commands.
pub fn arm_flaky() {
    FLAKY_ARMED.with(|armed| armed.set(true));
}

/// The toy's messages.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Message {
    /// Entries after `prev`, and the leader's commit index.
    Append { term: Term, prev: Index, entries: Vec<String>, commit: Index },
    /// The follower holds the leader's log up to `matched`.
    Ack { term: Term, matched: Index },
    /// Noise, for the flooding bug.
    Noise,
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::Append { term, prev, entries, commit } => {
                write!(f, "Append t{term} prev {prev} +{} commit {commit}", entries.len())
            }
            Message::Ack { term, matched } => write!(f, "Ack t{term} match {matched}"),
            Message::Noise => write!(f, "Noise"),
        }
    }
}

/// What the toy persists: its term, vote and log (Figure 2).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Saved {
    pub term: Term,
    pub voted_for: Option<NodeId>,
    pub log: Vec<(Term, String)>,
}

/// One write of the toy: its term and vote, and its log from index `from + 1` on (the entries
/// before are on disk already). The change, not the whole log: randomized runs send most
/// proposals to the leader (`chaos::Plan::aim`), logs grow to hundreds of entries, and a
/// whole-log write per entry made the harness's own seed loops quadratic in the log.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Write {
    pub term: Term,
    pub voted_for: Option<NodeId>,
    pub from: usize,
    pub entries: Vec<(Term, String)>,
}

/// The toy node; `BUG` picks the bug.
#[derive(Debug)]
pub struct Toy<const BUG: u8> {
    id: NodeId,
    peers: Vec<NodeId>,
    config: Config,
    term: Term,
    /// The toy's leader votes for itself as it takes office; followers never vote.
    voted_for: Option<NodeId>,
    role: Role,
    log: Vec<(Term, String)>,
    commit_index: Index,
    last_applied: Index,
    match_index: Vec<Index>,
    ticks: u64,
    outbox: Vec<Envelope<Message>>,
    dirty: bool,
    /// The log's first `persisted` entries are on disk as they are.
    persisted: usize,
    /// Stores a different command than the leader sent ([`LOG_MISMATCH`], [`FLAKY`]).
    mismatches: bool,
}

impl<const BUG: u8> Toy<BUG> {
    fn leads(&self) -> bool {
        self.role == Role::Leader
    }

    fn send(&mut self, to: NodeId, message: Message) {
        self.outbox.push(Envelope { from: self.id, to, message });
    }

    fn broadcast_append(&mut self) {
        for peer in self.peers.clone() {
            let prev = self.match_index[peer as usize - 1];
            let entries = self.log[prev as usize..].iter().map(|(_, c)| c.clone()).collect();
            let message =
                Message::Append { term: self.term, prev, entries, commit: self.commit_index };
            self.send(peer, message);
        }
    }

    fn maybe_commit(&mut self) {
        let mut matched: Vec<Index> = self.match_index.clone();
        matched[self.id as usize - 1] = self.log.len() as Index;
        matched.sort_unstable();
        let majority = matched[(matched.len() - 1) / 2];
        self.commit_index = self.commit_index.max(majority);
    }

    fn handle_append(&mut self, from: NodeId, prev: Index, entries: Vec<String>, commit: Index) {
        if BUG == INCOMPLETE_LEADER && self.id == 3 {
            return;
        }
        if prev > self.log.len() as Index {
            let matched = self.log.len() as Index;
            self.send(from, Message::Ack { term: self.term, matched });
            return;
        }
        for (offset, command) in entries.into_iter().enumerate() {
            let index = prev as usize + offset;
            if index == self.log.len() {
                let command = if self.mismatches { format!("{command}!") } else { command };
                self.log.push((self.term, command));
                self.dirty = true;
            }
        }
        let matched = self.log.len() as Index;
        let commit = commit.min(matched);
        self.commit_index = self.commit_index.max(commit);
        if BUG == COMMIT_DOWN && self.id == 2 && self.commit_index >= 3 {
            self.commit_index = 1;
        }
        self.send(from, Message::Ack { term: self.term, matched });
    }
}

impl<const BUG: u8> Toy<BUG> {
    /// Sets the term directly, for tests that reach in with `Cluster::with_node`.
    pub fn set_term(&mut self, term: Term) {
        self.term = term;
    }
}

impl<const BUG: u8> Node for Toy<BUG> {
    type Message = Message;
    type Command = String;

    fn new(id: NodeId, peers: Vec<NodeId>, config: Config, _rng: Rng) -> Self {
        let size = peers.len() + 1;
        let mismatches = id == 2
            && (BUG == LOG_MISMATCH
                || BUG == FLAKY && FLAKY_ARMED.with(|armed| armed.replace(false)));
        Toy {
            id,
            peers,
            config,
            term: 0,
            voted_for: None,
            role: Role::Follower,
            log: Vec::new(),
            commit_index: 0,
            last_applied: 0,
            match_index: vec![0; size],
            ticks: 0,
            outbox: Vec::new(),
            dirty: false,
            persisted: 0,
            mismatches,
        }
    }

    fn id(&self) -> NodeId {
        self.id
    }

    fn tick(&mut self) {
        self.ticks += 1;
        if self.id == 1 || BUG == TWO_LEADERS {
            if !self.leads() {
                self.term = self.term.max(1);
                self.role = Role::Leader;
                self.voted_for = Some(self.id);
                self.dirty = true;
            }
            if self.ticks % self.config.heartbeat_interval == 0 {
                self.broadcast_append();
            }
        }
        if BUG == TERM_DOWN && self.id == 3 && self.ticks == 30 {
            self.term = 5;
        }
        if BUG == TERM_DOWN && self.id == 3 && self.ticks == 31 {
            self.term = 4;
        }
        if BUG == FLOODS && self.id == 2 {
            for _ in 0..5_000 {
                self.send(1, Message::Noise);
            }
        }
        if BUG == REWRITES_IN_PLACE && self.id == 2 && self.ticks == 150 && self.log.len() >= 2 {
            self.log[1].1.push('?');
            self.persisted = self.persisted.min(1);
            self.dirty = true;
        }
        if BUG == INCOMPLETE_LEADER && self.id == 3 && self.ticks == 200 {
            self.term = 2;
            self.role = Role::Leader;
            self.voted_for = Some(self.id);
        }
    }

    fn step(&mut self, from: NodeId, message: Message) {
        if BUG == PANICS && self.id == 2 {
            todo!("handle_append_entries (§5.3)");
        }
        match message {
            Message::Append { term, prev, entries, commit } => {
                if term >= self.term && !self.leads() {
                    self.dirty |= term != self.term;
                    self.term = term;
                    self.handle_append(from, prev, entries, commit);
                }
            }
            Message::Ack { matched, .. } => {
                if self.leads() {
                    let slot = &mut self.match_index[from as usize - 1];
                    *slot = (*slot).max(matched);
                    self.maybe_commit();
                }
            }
            Message::Noise => {}
        }
    }

    fn take_messages(&mut self) -> Vec<Envelope<Message>> {
        std::mem::take(&mut self.outbox)
    }

    fn status(&self) -> Status {
        let last_log_index = self.log.len() as Index;
        Status {
            term: self.term,
            role: self.role,
            voted_for: self.voted_for,
            commit_index: self.commit_index,
            last_log_index,
            snapshot_index: 0,
        }
    }

    fn log_entry(&self, index: Index) -> Option<(Term, &String)> {
        let (term, command) = self.log.get((index as usize).checked_sub(1)?)?;
        Some((*term, command))
    }
}

impl<const BUG: u8> Replicate for Toy<BUG> {
    fn propose(&mut self, command: String) -> Result<(Index, Term), NotLeader> {
        if !self.leads() {
            return Err(NotLeader { leader_hint: Some(1) });
        }
        self.log.push((self.term, command));
        self.dirty = true;
        Ok((self.log.len() as Index, self.term))
    }

    fn take_committed(&mut self) -> Vec<Applied<String>> {
        let mut applied = Vec::new();
        while self.last_applied < self.commit_index {
            self.last_applied += 1;
            let index = self.last_applied;
            let (term, mut command) = self.log[index as usize - 1].clone();
            if BUG == DIVERGENT_APPLY && self.id == 2 {
                command = format!("not {command}");
            }
            applied.push(Applied { index, term, command });
        }
        if BUG == APPLIES_TWICE && self.id == 2 && applied.iter().any(|a| a.index == 2) {
            let (term, command) = self.log[1].clone();
            applied.push(Applied { index: 2, term, command });
        }
        if BUG == HANDS_OUT_NOTHING && self.id == 2 {
            applied.clear();
        }
        applied
    }
}

/// The toy never compacts and never installs a snapshot: enough for a cluster that runs state
/// machines beside it (`compact_every(0)`), or checks it as a service
/// ([`harness::Cluster::service_snapshots`]).
impl<const BUG: u8> Compact for Toy<BUG> {
    fn compact(&mut self, _: Index, _: Vec<u8>) {}

    fn take_snapshot(&mut self) -> Option<Snapshot> {
        None
    }
}

impl<const BUG: u8> Persist for Toy<BUG> {
    type State = Saved;
    /// The toy writes what changed (its log from the first entry not on disk as it is).
    type Write = Write;

    fn take_persist(&mut self) -> Vec<Write> {
        if BUG == FORGETS || !std::mem::take(&mut self.dirty) {
            return Vec::new();
        }
        let from = std::mem::replace(&mut self.persisted, self.log.len());
        let entries = self.log[from..].to_vec();
        vec![Write { term: self.term, voted_for: self.voted_for, from, entries }]
    }

    fn apply_write(state: &mut Saved, write: Write) {
        (state.term, state.voted_for) = (write.term, write.voted_for);
        state.log.truncate(write.from);
        state.log.extend(write.entries);
    }

    fn restart(id: NodeId, peers: Vec<NodeId>, config: Config, rng: Rng, state: Saved) -> Self {
        let mut node = Self::new(id, peers, config, rng);
        node.term = state.term;
        node.voted_for = state.voted_for;
        node.log = state.log;
        node.persisted = node.log.len();
        node
    }
}

/// The correct toy.
pub type Correct = Toy<CORRECT>;

/// Runs `f`, expecting it to panic; returns the panic message.
pub fn failure_of(f: impl FnOnce()) -> String {
    let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .expect_err("expected a failure report, but the run passed");
    if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else if let Some(text) = payload.downcast_ref::<&str>() {
        text.to_string()
    } else {
        "(no text)".to_string()
    }
}
