//! What `src/replication.rs` promises while a node leads, checked after every input.
//!
//! The module states, for every peer `p` of a leader, `match_index[p] < next_index[p] <=
//! last_index + 1`, and that neither `commit_index` nor `match_index[p]` ever decreases while
//! the node leads (Figure 2: `matchIndex` "increases monotonically"). Replies arrive late,
//! duplicated and reordered (§5.3, §5.5), so a reply handler that lets a stale reply move
//! `match_index` back, or `next_index` to or below `match_index`, can end a test with the
//! right numbers and still break a promise on the way; the harness cannot see it (it reads
//! terms, logs and commit indexes, not a leader's bookkeeping).
//!
//! And `maybe_commit` promises that a leader moves `commit_index` only to an entry of its own
//! term (§5.4.2). A leader that looks at the wrong entry (its last one, the one a reply just
//! covered) loses data only in a Figure 8 schedule, which randomized runs reach once in
//! hundreds of seeds; the commit itself, seen here, happens in almost every run.
//!
//! [`Checked`] wraps a node so that every input a cluster gives it (a tick, a message, a
//! proposal) is followed by [`Leading::check`]; a broken promise panics inside the node's
//! call, and the harness reports it with the seed, the replay command and the timeline, like
//! any panic in a node. The cluster tests and the randomized runs of stages 3 and 4 name their
//! node type through it:
//!
//! ```ignore
//! type RaftNode = leading::Checked<replication::RaftNode>;
//! ```
//!
//! (Stage 4's tests include this file by path: one check, written once.)

use std::fmt;

use data_structures::{Index, NodeId, Role, State, Term};
use harness::{Applied, Config, Envelope, Node, NotLeader, Persist, Replicate, Rng, Status};

/// A node whose whole state the checks can read (`RaftNode::state`).
pub trait Inspect {
    /// The node's term, log, commit index and role, with the leader's `next_index` and
    /// `match_index`.
    fn whole_state(&self) -> &State;
}

/// The input a node was given, named in a broken promise's message.
#[derive(Clone, Copy, Debug)]
pub enum Input {
    /// `tick()`.
    Tick,
    /// `step(from, message)`.
    Step(NodeId),
    /// `propose(command)`.
    Propose,
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Input::Tick => write!(f, "tick()"),
            Input::Step(from) => write!(f, "step(from n{from}, the message received)"),
            Input::Propose => write!(f, "propose()"),
        }
    }
}

/// What a node had after its previous input: its `commit_index`, and, if it led, its term
/// and every peer's `match_index` (kept in a buffer that is reused, as this runs after every
/// event of every randomized run).
#[derive(Clone, Debug, Default)]
pub struct Leading {
    commit_index: Index,
    leading: Option<Term>,
    matched: Vec<(NodeId, Index)>,
}

impl Leading {
    /// Checks `state`, just after `input`, against the invariants of `src/replication.rs` and
    /// the commit rule, and, if it led the same term before the input, against what it had
    /// then; remembers it.
    /// The error names the node, the input, the field, both values and the rule.
    pub fn check(&mut self, state: &State, input: Input) -> Result<(), String> {
        let commit_before = std::mem::replace(&mut self.commit_index, state.commit_index);
        let Role::Leader { next_index, match_index } = &state.role else {
            self.leading = None;
            return Ok(());
        };
        let (id, term, last) = (state.id, state.current_term, state.log.last_index());
        let broken = |what: String| {
            format!(
                "n{id}, leader of term {term}, after {input}: {what} (the invariants of \
                 replication.rs; §5.3, Figure 2: replies arrive late, duplicated and reordered, \
                 and none may move the leader's bookkeeping back)"
            )
        };
        for (&peer, &next) in next_index {
            let matched = match_index.get(&peer).copied().unwrap_or(0);
            if matched >= next || next > last + 1 {
                return Err(broken(format!(
                    "match_index[n{peer}] {matched} < next_index[n{peer}] {next} <= last_index \
                     {last} + 1 does not hold"
                )));
            }
        }
        let commit = state.commit_index;
        if commit < commit_before {
            return Err(broken(format!("commit_index went down from {commit_before} to {commit}")));
        }
        if commit > commit_before && state.log.term_at(commit) != Some(term) {
            let at = state.log.term_at(commit).map_or("unknown".to_string(), |t| t.to_string());
            return Err(format!(
                "n{id}, leader of term {term}, after {input}: commit_index moved from \
                 {commit_before} to {commit}, but the entry at {commit} is of term {at}: a \
                 leader commits by counting replicas only an entry of its own term, and the \
                 entries before it with it; it looks at the entry at N, the largest index a \
                 majority stores, not at its last entry or the one a reply covered (§5.4.2, \
                 Figure 8; Figure 2, Rules for Leaders)"
            ));
        }
        if self.leading == Some(term) {
            for &(peer, before) in &self.matched {
                let after = match_index.get(&peer).copied().unwrap_or(0);
                if after < before {
                    return Err(broken(format!(
                        "match_index[n{peer}] went down from {before} to {after}"
                    )));
                }
            }
        }
        self.leading = Some(term);
        self.matched.clear();
        self.matched.extend(match_index.iter().map(|(&peer, &index)| (peer, index)));
        Ok(())
    }
}

/// Node `N`, with [`Leading::check`] after every input. It is the node in every other way: it
/// implements the harness's traits by calling the node's, and derefs to it.
#[derive(Clone, Debug)]
pub struct Checked<N> {
    node: N,
    leading: Leading,
}

impl<N: Inspect> Checked<N> {
    fn watching(node: N) -> Self {
        Checked { node, leading: Leading::default() }
    }

    /// Panics, inside the node's call, if a promise broke: the harness reports it.
    fn check(&mut self, input: Input) {
        if let Err(broken) = self.leading.check(self.node.whole_state(), input) {
            panic!("{broken}");
        }
    }
}

impl<N> std::ops::Deref for Checked<N> {
    type Target = N;
    fn deref(&self) -> &N {
        &self.node
    }
}

impl<N: Node + Inspect> Node for Checked<N> {
    type Message = N::Message;
    type Command = N::Command;

    fn new(id: NodeId, peers: Vec<NodeId>, config: Config, rng: Rng) -> Self {
        Checked::watching(N::new(id, peers, config, rng))
    }
    fn id(&self) -> NodeId {
        self.node.id()
    }
    fn tick(&mut self) {
        self.node.tick();
        self.check(Input::Tick);
    }
    fn step(&mut self, from: NodeId, message: Self::Message) {
        self.node.step(from, message);
        self.check(Input::Step(from));
    }
    fn take_messages(&mut self) -> Vec<Envelope<Self::Message>> {
        self.node.take_messages()
    }
    fn status(&self) -> Status {
        self.node.status()
    }
    fn log_entry(&self, index: Index) -> Option<(Term, &Self::Command)> {
        self.node.log_entry(index)
    }
}

impl<N: Replicate + Inspect> Replicate for Checked<N> {
    fn propose(&mut self, command: Self::Command) -> Result<(Index, Term), NotLeader> {
        let result = self.node.propose(command);
        self.check(Input::Propose);
        result
    }
    fn take_committed(&mut self) -> Vec<Applied<Self::Command>> {
        self.node.take_committed()
    }
}

impl<N: Persist + Inspect> Persist for Checked<N> {
    type State = N::State;
    type Write = N::Write;

    fn take_persist(&mut self) -> Vec<Self::Write> {
        self.node.take_persist()
    }
    fn apply_write(state: &mut Self::State, write: Self::Write) {
        N::apply_write(state, write);
    }
    fn restart(
        id: NodeId,
        peers: Vec<NodeId>,
        config: Config,
        rng: Rng,
        state: Self::State,
    ) -> Self {
        // Leader state is volatile (Figure 2): a restarted node promises nothing of before.
        Checked::watching(N::restart(id, peers, config, rng, state))
    }
}
