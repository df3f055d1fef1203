//! A leader's no-op (§8): entries that carry no client command raise no false alarm, in
//! randomized runs and in `one()`.
//!
//! `NoopLeader` is a toy in the style of `tests/common`: node 1 always leads, but it starts a
//! new term each time it takes office (at its first tick, and again after every restart) and
//! appends a no-op in that term. Like Raft, it commits by counting replicas only entries of
//! its current term (§5.4.2), so the no-op is what lets it commit what earlier terms left.

use std::fmt;

use harness::{
    Applied, Cluster, Config, Envelope, Index, Node, NodeId, NotLeader, Persist, Replicate, Rng,
    Role, Status, Term, chaos,
};
use pretty_assertions::assert_eq;
use serde::Serialize;

/// A log entry's command: the leader's no-op, or a client's.
#[derive(Clone, Debug, PartialEq, Serialize)]
enum Command {
    Noop,
    Client(String),
}

impl From<String> for Command {
    fn from(text: String) -> Self {
        Command::Client(text)
    }
}

fn client(text: &str) -> Command {
    Command::Client(text.to_string())
}

/// The toy's messages: entries carry their terms.
#[derive(Clone, Debug, Serialize)]
enum Message {
    Append { term: Term, prev: Index, entries: Vec<(Term, Command)>, commit: Index },
    Ack { term: Term, matched: Index },
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::Append { term, prev, entries, commit } => {
                write!(f, "Append t{term} prev {prev} +{} commit {commit}", entries.len())
            }
            Message::Ack { term, matched } => write!(f, "Ack t{term} match {matched}"),
        }
    }
}

/// What it persists (Figure 2).
#[derive(Clone, Debug, Default, Serialize)]
struct Saved {
    term: Term,
    voted_for: Option<NodeId>,
    log: Vec<(Term, Command)>,
}

/// One write: term, vote, and the log from index `from + 1` on, the entries before being on
/// disk already (the change, not the whole log: see `tests/common`'s `Write`).
#[derive(Clone, Debug, Serialize)]
struct Write {
    term: Term,
    voted_for: Option<NodeId>,
    from: usize,
    entries: Vec<(Term, Command)>,
}

#[derive(Debug)]
struct NoopLeader {
    id: NodeId,
    peers: Vec<NodeId>,
    config: Config,
    term: Term,
    voted_for: Option<NodeId>,
    role: Role,
    log: Vec<(Term, Command)>,
    commit_index: Index,
    last_applied: Index,
    match_index: Vec<Index>,
    ticks: u64,
    outbox: Vec<Envelope<Message>>,
    dirty: bool,
    /// The log's first `persisted` entries are on disk as they are (it only ever appends).
    persisted: usize,
}

impl NoopLeader {
    /// Node 1 takes office in a new term and appends its no-op (§8).
    fn take_office(&mut self) {
        self.term += 1;
        self.voted_for = Some(self.id);
        self.role = Role::Leader;
        self.log.push((self.term, Command::Noop));
        self.dirty = true;
    }

    fn broadcast(&mut self) {
        for peer in self.peers.clone() {
            let prev = self.match_index[peer as usize - 1];
            let entries = self.log[prev as usize..].to_vec();
            let (term, commit) = (self.term, self.commit_index);
            let message = Message::Append { term, prev, entries, commit };
            self.outbox.push(Envelope { from: self.id, to: peer, message });
        }
    }

    /// The highest index a majority holds, if its entry is of the current term (§5.4.2).
    fn advance_commit(&mut self) {
        let mut matched = self.match_index.clone();
        matched[self.id as usize - 1] = self.log.len() as Index;
        matched.sort_unstable();
        let majority = matched[(matched.len() - 1) / 2];
        if majority > self.commit_index && self.log[majority as usize - 1].0 == self.term {
            self.commit_index = majority;
        }
    }
}

impl Node for NoopLeader {
    type Message = Message;
    type Command = Command;

    fn new(id: NodeId, peers: Vec<NodeId>, config: Config, _rng: Rng) -> Self {
        let size = peers.len() + 1;
        NoopLeader {
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
        }
    }

    fn id(&self) -> NodeId {
        self.id
    }

    fn tick(&mut self) {
        self.ticks += 1;
        if self.id == 1 {
            if self.role != Role::Leader {
                self.take_office();
            }
            if self.ticks % self.config.heartbeat_interval == 0 {
                self.broadcast();
            }
        }
    }

    fn step(&mut self, from: NodeId, message: Message) {
        match message {
            Message::Append { term, prev, entries, commit } if term >= self.term => {
                if term > self.term {
                    (self.term, self.voted_for, self.dirty) = (term, None, true);
                }
                // A follower's log is always a prefix of node 1's: append what is new.
                if prev <= self.log.len() as Index {
                    for (offset, entry) in entries.into_iter().enumerate() {
                        if prev as usize + offset == self.log.len() {
                            self.log.push(entry);
                            self.dirty = true;
                        }
                    }
                    self.commit_index = self.commit_index.max(commit.min(self.log.len() as Index));
                }
                let (term, matched) = (self.term, self.log.len() as Index);
                self.outbox.push(Envelope {
                    from: self.id,
                    to: from,
                    message: Message::Ack { term, matched },
                });
            }
            Message::Ack { matched, .. } if self.role == Role::Leader => {
                let slot = &mut self.match_index[from as usize - 1];
                *slot = (*slot).max(matched);
                self.advance_commit();
            }
            _ => {}
        }
    }

    fn take_messages(&mut self) -> Vec<Envelope<Message>> {
        std::mem::take(&mut self.outbox)
    }

    fn status(&self) -> Status {
        Status {
            term: self.term,
            role: self.role,
            voted_for: self.voted_for,
            commit_index: self.commit_index,
            last_log_index: self.log.len() as Index,
            snapshot_index: 0,
        }
    }

    fn log_entry(&self, index: Index) -> Option<(Term, &Command)> {
        let (term, command) = self.log.get((index as usize).checked_sub(1)?)?;
        Some((*term, command))
    }
}

impl Replicate for NoopLeader {
    fn propose(&mut self, command: Command) -> Result<(Index, Term), NotLeader> {
        if self.role != Role::Leader {
            return Err(NotLeader { leader_hint: Some(1) });
        }
        self.log.push((self.term, command));
        self.dirty = true;
        Ok((self.log.len() as Index, self.term))
    }

    /// Every committed entry, the no-ops included, in index order (see `harness::node`).
    fn take_committed(&mut self) -> Vec<Applied<Command>> {
        let mut applied = Vec::new();
        while self.last_applied < self.commit_index {
            self.last_applied += 1;
            let (term, command) = self.log[self.last_applied as usize - 1].clone();
            applied.push(Applied { index: self.last_applied, term, command });
        }
        applied
    }
}

impl Persist for NoopLeader {
    type State = Saved;
    /// It writes what changed: its term, vote and new entries.
    type Write = Write;

    fn take_persist(&mut self) -> Vec<Write> {
        if !std::mem::take(&mut self.dirty) {
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
        (node.term, node.voted_for, node.log) = (state.term, state.voted_for, state.log);
        node.persisted = node.log.len();
        node
    }
}

/// `one` returns the index of the client's command, not of the no-op before it; the no-ops
/// are applied like any entry, gapless, and counted by `committed_count` as what they are.
#[test]
fn one_returns_the_client_commands_index_past_the_noops() {
    for seed in 1..=5 {
        let mut cluster = Cluster::<NoopLeader>::new(3, seed).with_disks();
        assert_eq!(cluster.one(client("a"), 3, false), 2, "index 1 is n1's no-op of term 1");
        assert_eq!(cluster.committed_count(1), (3, Some(Command::Noop)));
        cluster.crash(1);
        cluster.restart(1);
        assert_eq!(cluster.one(client("b"), 3, false), 4, "index 3 is n1's no-op of term 2");
        assert_eq!(cluster.committed_count(3), (3, Some(Command::Noop)));
        assert_eq!(cluster.status(2).term, 2);
        cluster.check_logs();
    }
}

/// A proposal made before the leader crashed, and never committed, is committed by the
/// leader's no-op in its next term (§5.4.2, §8): the no-op is why the leader may.
#[test]
fn noop_commits_what_an_earlier_term_left() {
    let mut cluster = Cluster::<NoopLeader>::new(3, 1).with_disks();
    cluster.one(client("a"), 3, false);
    cluster.cut(1, 2);
    cluster.cut(1, 3);
    let (index, _) = cluster.propose(1, client("left over")).expect("n1 leads");
    cluster.run_for(20);
    assert_eq!(cluster.committed_count(index).0, 0, "n1 is cut off: nothing commits");
    cluster.crash(1);
    cluster.heal();
    cluster.restart(1);
    assert!(
        cluster.run_until(100, |c| c.committed_count(index + 1).0 == 3),
        "the no-op of term 2 commits"
    );
    assert_eq!(cluster.committed_count(index), (3, Some(client("left over"))));
}

/// Randomized runs (partitions, crashes and restarts of the leader, lossy networks) with a
/// no-op at the start of each term raise no false alarm.
#[test]
fn noop_leader_passes_randomized_runs() {
    let stress = std::env::var("RAFT_SEED").is_ok() || std::env::var("RAFT_SEEDS").is_ok();
    let seeds = if stress { harness::seeds() } else { (1..=30).collect() };
    for seed in seeds {
        let cluster = chaos::replication::<NoopLeader>(seed);
        assert_eq!(cluster.committed_count(1).1, Some(Command::Noop), "seed {seed}");
    }
}
