//! The safety properties of Raft (Figure 3), checked after every event in O(1) amortized.
//!
//! The checker never scans every log: it keeps a *shadow* of each node's log (the term and a
//! prefix hash per entry) and updates it from the tail after each event, walking back only as
//! far as the log changed. A prefix hash covers every entry up to its index, so comparing two
//! hashes compares two whole prefixes:
//!
//! - **Election Safety** (§5.2): a map term → leader.
//! - **Log Matching** (§5.3): a map (index, term) → prefix hash, over every entry any node ever
//!   held: two entries with the same index and term must have the same prefix.
//! - **Leader Completeness** (§5.4): a register of committed entries (index → term, prefix
//!   hash, the term it was committed in); a new leader's prefix at the last index committed in
//!   an earlier term must match it.
//! - **State Machine Safety** (§5.4.3): a register of applied commands (index → command); and a
//!   node's committed prefix must equal the register's.
//! - Figure 2's monotonic rules: `current_term` never decreases (across restarts too),
//!   `commit_index` never decreases while a node is up, `commit_index <= last_log_index`, and
//!   entries are applied once each, gapless, in order, and only once committed. A service
//!   ([`crate::service`]) also applies everything it committed before its next input, and hands
//!   it out: what it never hands out, State Machine Safety could never check.
//! - Snapshots (§7): a node's snapshot index never goes back, covers committed entries only,
//!   and the entries it replaced count as the committed ones; a snapshot handed to a state
//!   machine is the state after exactly the commands applied through its index (State Machine
//!   Safety through snapshots), never behind what the node applied; a state machine applies
//!   every index once, from its snapshot on ([`crate::machine`]).
//! - Figure 2's persistent state survives a restart: the same term, vote and log
//!   (`persistence.rs`), with the same snapshot. After a restart a node may apply again from any index up to one
//!   past the highest it ever applied (a state machine rebuilt from the log, or one kept on
//!   disk); from there on gapless and in order, and each re-applied entry is checked against
//!   the cluster-wide register again (State Machine Safety).

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io;
use std::mem;

use serde::Serialize;

use crate::machine::Machine;
use crate::node::{Applied, Index, Node, NodeId, Role, Snapshot, Status, Term};
use crate::persistence::{self, Image};

/// A broken rule: which, where in the paper, and the values that broke it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The property, named as in the paper (e.g. "Election Safety").
    pub rule: &'static str,
    /// Its section, e.g. "§5.2".
    pub section: &'static str,
    /// The nodes, terms and indexes involved.
    pub detail: String,
    /// Nodes whose logs the report should compare, up to `upto`.
    pub logs: Vec<NodeId>,
    /// The last index of interest in those logs.
    pub upto: Index,
}

impl Violation {
    pub(crate) fn new(rule: &'static str, section: &'static str, detail: String) -> Self {
        Violation { rule, section, detail, logs: Vec::new(), upto: 0 }
    }

    fn with_logs(mut self, logs: &[NodeId], upto: Index) -> Self {
        self.logs = logs.to_vec();
        self.upto = upto;
        self
    }
}

/// `Election Safety (§5.2) violated: two leaders in term 3: n1 and n2`.
impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}) violated: {}", self.rule, self.section, self.detail)
    }
}

/// What the checker remembers of one node.
#[derive(Clone, Debug, Default)]
struct Shadow {
    /// The highest term the node ever had, kept across restarts.
    max_term: Term,
    /// The node's `commit_index` when last seen (volatile: reset on restart).
    commit_index: Index,
    /// The last index it applied (volatile: reset on restart).
    last_applied: Index,
    /// The highest index it applied in any life: kept across crashes, as the classic lab keeps
    /// what each server applied (`committed_count` counts it).
    highest_applied: Index,
    /// True from a restart until the node's first apply, which may then be any index in
    /// `1..=highest_applied + 1`.
    resuming: bool,
    /// The node as it crashed, to compare with the node it restarts as ([`persistence`]).
    at_crash: Option<Image>,
    /// `log[i - 1]` shadows the entry at index `i`; through `snapshot_index`, the committed
    /// entries the node's snapshot replaced.
    log: Vec<ShadowEntry>,
    /// The node's snapshot index when last seen (§7).
    snapshot_index: Index,
    /// The state machine beside the node, when snapshots are on (volatile).
    machine: Machine,
    /// The term it was last seen leading in, to notice when it becomes leader.
    leading: Option<Term>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ShadowEntry {
    term: Term,
    /// A hash of every entry (term and command) from index 1 up to this one.
    prefix: u64,
}

/// A committed entry, as first seen committed.
#[derive(Clone, Copy, Debug)]
struct Committed {
    term: Term,
    prefix: u64,
    /// The term of the node that first reported it committed.
    commit_term: Term,
    by: NodeId,
}

/// An applied command, as first applied.
#[derive(Clone, Debug)]
struct AppliedEntry<C> {
    term: Term,
    command: C,
    by: NodeId,
}

/// The checker: shadows of every node and the cluster-wide registers.
#[derive(Debug)]
pub struct Checks<C> {
    leaders: BTreeMap<Term, NodeId>,
    nodes: Vec<Shadow>,
    /// Log Matching's register, (index, term) → (prefix hash, first holder): `first[index - 1]`
    /// is the first term seen at an index, `others` every later one (rare: a conflict).
    first: Vec<Option<(Term, u64, NodeId)>>,
    others: HashMap<(Index, Term), (u64, NodeId)>,
    committed: Vec<Committed>,
    /// commit term → the highest index first seen committed in it (Leader Completeness).
    frontier: BTreeMap<Term, Index>,
    applied: Vec<AppliedEntry<C>>,
    /// With snapshots on: `digests[i - 1]` is the state machine's digest after applying the
    /// registered commands at `1..=i` ([`Machine`]).
    digests: Option<Vec<u64>>,
    /// True for services: after every event a node has handed out everything through its
    /// `commit_index` ([`require_applied_through_commit`](Checks::require_applied_through_commit)).
    applies_through_commit: bool,
}

impl<C: Clone + fmt::Debug + PartialEq + Serialize + 'static> Checks<C> {
    /// A checker for nodes `1..=size`.
    pub fn new(size: usize) -> Self {
        Checks {
            leaders: BTreeMap::new(),
            nodes: vec![Shadow::default(); size],
            first: Vec::new(),
            others: HashMap::new(),
            committed: Vec::new(),
            frontier: BTreeMap::new(),
            applied: Vec::new(),
            digests: None,
            applies_through_commit: false,
        }
    }

    /// From now on, a node must have handed out (applied entries, or a snapshot) everything
    /// through its `commit_index` after every event: see
    /// [`observe_applied`](Checks::observe_applied). For services, which apply what they commit
    /// themselves ([`crate::service`]).
    pub fn require_applied_through_commit(&mut self) {
        self.applies_through_commit = true;
    }

    /// Runs a state machine beside every node from now on, for snapshots (§7): see
    /// [`observe_snapshot`](Checks::observe_snapshot).
    pub fn track_machines(&mut self) {
        if self.digests.is_none() {
            let mut digests = Vec::with_capacity(self.applied.len());
            let mut machine = Machine::default();
            for (index, entry) in (1..).zip(&self.applied) {
                machine = machine.applied(index, hash_entry(&entry.command));
                digests.push(machine.digest);
            }
            self.digests = Some(digests);
        }
    }

    /// The state machine beside node `id`: what it applied through which index.
    pub fn machine(&self, id: NodeId) -> Machine {
        self.nodes[id as usize - 1].machine
    }

    /// Checks node `id` after an event, given its fresh status.
    pub fn observe<N: Node<Command = C>>(
        &mut self,
        id: NodeId,
        node: &N,
        status: &Status,
    ) -> Result<(), Violation> {
        self.check_term(id, status)?;
        self.check_election_safety(id, status)?;
        self.update_snapshot(id, status)?;
        self.update_log(id, node, status.last_log_index)?;
        self.check_commit(id, status)?;
        self.check_leader_completeness(id, status)
    }

    /// A node's `current_term` never decreases (§5.1: terms increase monotonically; it is
    /// persistent state, so this holds across restarts too).
    fn check_term(&mut self, id: NodeId, status: &Status) -> Result<(), Violation> {
        let shadow = &mut self.nodes[id as usize - 1];
        if status.term < shadow.max_term {
            return Err(Violation::new(
                "Term monotonicity",
                "§5.1",
                format!(
                    "n{id}'s current_term went down from {} to {}",
                    shadow.max_term, status.term
                ),
            ));
        }
        shadow.max_term = status.term;
        Ok(())
    }

    /// At most one leader per term (§5.2).
    fn check_election_safety(&mut self, id: NodeId, status: &Status) -> Result<(), Violation> {
        if status.role != Role::Leader {
            return Ok(());
        }
        if self.nodes[id as usize - 1].leading == Some(status.term) {
            // Registered as this term's leader when first seen leading in it (below).
            return Ok(());
        }
        let leader = *self.leaders.entry(status.term).or_insert(id);
        if leader != id {
            return Err(Violation::new(
                "Election Safety",
                "§5.2",
                format!("two leaders in term {}: n{leader} and n{id}", status.term),
            ));
        }
        Ok(())
    }

    /// A node's snapshot index never goes back while it is up, and a new one takes the place
    /// of the entries it replaced (§7).
    fn update_snapshot(&mut self, id: NodeId, status: &Status) -> Result<(), Violation> {
        let before = self.nodes[id as usize - 1].snapshot_index;
        let now = status.snapshot_index;
        if now < before {
            return Err(Violation::new(
                "Snapshot monotonicity",
                "§7",
                format!(
                    "n{id}'s snapshot went back from index {before} to {now}: a log never \
                     grows back a prefix it compacted"
                ),
            ));
        }
        if now > before {
            self.adopt_snapshot(id, now)?;
        }
        Ok(())
    }

    /// Node `id`'s log now starts after a snapshot through `index`: the entries it replaced
    /// must be committed (§7: "each server takes snapshots independently, covering just the
    /// committed entries"), and the shadow takes them from the committed register. Entries
    /// after it are kept if the node held the committed entry at `index` (Figure 13, rule 6).
    fn adopt_snapshot(&mut self, id: NodeId, index: Index) -> Result<(), Violation> {
        let Some(last) = self.committed.get(index as usize - 1) else {
            return Err(Violation::new(
                "Snapshots hold committed entries only",
                "§7",
                format!(
                    "n{id}'s log starts after a snapshot through index {index}, but the \
                     cluster has committed only up to index {}",
                    self.committed.len()
                ),
            ));
        };
        let shadow = &mut self.nodes[id as usize - 1];
        if shadow.log.get(index as usize - 1).map(|entry| entry.prefix) != Some(last.prefix) {
            let committed = &self.committed[..index as usize];
            shadow.log =
                committed.iter().map(|c| ShadowEntry { term: c.term, prefix: c.prefix }).collect();
        }
        shadow.snapshot_index = index;
        Ok(())
    }

    /// Brings node `id`'s shadow up to date: drop what is past its last index, walk back from
    /// the tail while the terms differ (never into its snapshot), then hash the new entries and
    /// check each (§5.3).
    fn update_log<N: Node<Command = C>>(
        &mut self,
        id: NodeId,
        node: &N,
        last: Index,
    ) -> Result<(), Violation> {
        let shadow = &mut self.nodes[id as usize - 1];
        let (log, snapshot_index) = (&mut shadow.log, shadow.snapshot_index);
        if log.len() == last as usize && last > snapshot_index {
            // The common case: the same length, and the same term at the end, so nothing to do.
            let term = entry(node, id, last, last)?.0;
            if term == log[last as usize - 1].term {
                return Ok(());
            }
        }
        log.truncate(last as usize);
        let mut agree = log.len() as Index;
        while agree > snapshot_index {
            let term = entry(node, id, agree, last)?.0;
            if term == log[agree as usize - 1].term {
                break;
            }
            agree -= 1;
        }
        log.truncate(agree as usize);
        for index in agree + 1..=last {
            let (term, command) = entry(node, id, index, last)?;
            let log = &mut self.nodes[id as usize - 1].log;
            let before = log.last().map_or(0, |e| e.prefix);
            let prefix = chain(before, term, hash_entry(command));
            log.push(ShadowEntry { term, prefix });
            self.check_log_matching(id, index, term, prefix)?;
        }
        Ok(())
    }

    /// Log Matching (§5.3): two entries with the same index and term have identical logs up
    /// to and including them.
    fn check_log_matching(
        &mut self,
        id: NodeId,
        index: Index,
        term: Term,
        prefix: u64,
    ) -> Result<(), Violation> {
        let slot = index as usize - 1;
        if self.first.len() <= slot {
            self.first.resize(slot + 1, None);
        }
        let (seen, other) = match self.first[slot] {
            None => {
                self.first[slot] = Some((term, prefix, id));
                (prefix, id)
            }
            Some((first, seen, other)) if first == term => (seen, other),
            Some(_) => *self.others.entry((index, term)).or_insert((prefix, id)),
        };
        if seen != prefix {
            return Err(Violation::new(
                "Log Matching",
                "§5.3",
                format!(
                    "n{id} and n{other} both hold an entry at index {index} in term {term}, \
                     but their logs differ at or before index {index}"
                ),
            )
            .with_logs(&[other, id], index));
        }
        Ok(())
    }

    /// `commit_index` never decreases while a node is up, never passes the log's end, and the
    /// committed prefix is the same on every node.
    fn check_commit(&mut self, id: NodeId, status: &Status) -> Result<(), Violation> {
        let previous = self.nodes[id as usize - 1].commit_index;
        if status.commit_index < previous {
            return Err(Violation::new(
                "Commit index monotonicity",
                "Figure 2",
                format!(
                    "n{id}'s commit_index went down from {previous} to {}",
                    status.commit_index
                ),
            ));
        }
        if status.commit_index > status.last_log_index {
            return Err(Violation::new(
                "Commit index within the log",
                "Figure 2",
                format!(
                    "n{id}'s commit_index {} is past its last log index {}",
                    status.commit_index, status.last_log_index
                ),
            ));
        }
        for index in previous + 1..=status.commit_index {
            self.register_commit(id, index, status.term)?;
        }
        self.nodes[id as usize - 1].commit_index = status.commit_index;
        self.check_committed_prefix(id, status.commit_index)
    }

    /// Records that node `id` (in `term`) considers `index` committed.
    fn register_commit(&mut self, id: NodeId, index: Index, term: Term) -> Result<(), Violation> {
        let mine = self.nodes[id as usize - 1].log[index as usize - 1];
        if let Some(first) = self.committed.get(index as usize - 1) {
            if first.prefix != mine.prefix {
                return Err(Violation::new(
                    "State Machine Safety",
                    "§5.4.3",
                    format!(
                        "n{id} committed index {index} (term {}), but n{} had committed a \
                         different log up to index {index} (term {})",
                        mine.term, first.by, first.term
                    ),
                )
                .with_logs(&[first.by, id], index));
            }
            return Ok(());
        }
        assert_eq!(self.committed.len() as Index, index - 1, "commits are registered in order");
        self.committed.push(Committed {
            term: mine.term,
            prefix: mine.prefix,
            commit_term: term,
            by: id,
        });
        let highest = self.frontier.entry(term).or_insert(index);
        *highest = (*highest).max(index);
        Ok(())
    }

    /// A node's log up to its `commit_index` is the cluster's committed log: committed entries
    /// are never overwritten (§5.4.3).
    fn check_committed_prefix(&self, id: NodeId, commit_index: Index) -> Result<(), Violation> {
        if commit_index == 0 {
            return Ok(());
        }
        let mine = self.nodes[id as usize - 1].log[commit_index as usize - 1];
        let first = self.committed[commit_index as usize - 1];
        if mine.prefix != first.prefix {
            return Err(Violation::new(
                "State Machine Safety",
                "§5.4.3",
                format!(
                    "n{id}'s log up to its commit_index {commit_index} is no longer the \
                     committed log (n{} committed it): a committed entry was overwritten",
                    first.by
                ),
            )
            .with_logs(&[first.by, id], commit_index));
        }
        Ok(())
    }

    /// Leader Completeness (§5.4): a leader of term T holds every entry committed in a term
    /// before T. Checked once, when the node is first seen leading in T.
    fn check_leader_completeness(&mut self, id: NodeId, status: &Status) -> Result<(), Violation> {
        let leading = if status.role == Role::Leader { Some(status.term) } else { None };
        let shadow = &mut self.nodes[id as usize - 1];
        if leading.is_none() || shadow.leading == leading {
            shadow.leading = leading;
            return Ok(());
        }
        shadow.leading = leading;
        let Some(index) = self.frontier.range(..status.term).map(|(_, index)| *index).max() else {
            return Ok(());
        };
        let first = self.committed[index as usize - 1];
        let mine = self.nodes[id as usize - 1].log.get(index as usize - 1);
        if mine.map(|entry| entry.prefix) != Some(first.prefix) {
            return Err(Violation::new(
                "Leader Completeness",
                "§5.4",
                format!(
                    "n{id} became leader in term {} without the entries up to index {index} \
                     (term {}) that n{} saw committed in term {}",
                    status.term, first.term, first.by, first.commit_term
                ),
            )
            .with_logs(&[first.by, id], index));
        }
        Ok(())
    }

    /// Checks entries node `id` hands out to apply: once each, gapless, in order, committed,
    /// from its own log, and the same command every node applied at that index (§5.4.3). With
    /// [`require_applied_through_commit`](Checks::require_applied_through_commit), then checks
    /// that they reach its `commit_index`.
    pub fn observe_applied(
        &mut self,
        id: NodeId,
        status: &Status,
        applied: &[Applied<C>],
    ) -> Result<(), Violation> {
        for entry in applied {
            self.check_apply_order(id, status, entry)?;
            self.check_state_machine_safety(id, entry)?;
            self.apply_to_machine(id, entry)?;
            let shadow = &mut self.nodes[id as usize - 1];
            shadow.last_applied = entry.index;
            shadow.highest_applied = shadow.highest_applied.max(entry.index);
            shadow.resuming = false;
        }
        if self.applies_through_commit {
            self.check_applied_through_commit(id, status)?;
        }
        Ok(())
    }

    /// Figure 2: "if commitIndex > lastApplied: increment lastApplied, apply log[lastApplied]
    /// to state machine". A service does it within the input that committed the entries (the
    /// answers it owes its clients wait on them), and hands the harness what it applied: an
    /// entry it applies but never hands out escapes State Machine Safety (§5.4.3), and one it
    /// never applies leaves its clients waiting.
    fn check_applied_through_commit(&self, id: NodeId, status: &Status) -> Result<(), Violation> {
        let last_applied = self.nodes[id as usize - 1].last_applied;
        if status.commit_index <= last_applied {
            return Ok(());
        }
        Err(Violation::new(
            "Apply what is committed",
            "Figure 2",
            format!(
                "n{id}'s commit_index is {} but it handed out entries through index \
                 {last_applied} only: a service applies every committed entry to its state \
                 machine before its next input and hands out what it applied \
                 (take_committed, or a snapshot through take_snapshot), for State Machine \
                 Safety (§5.4.3) to check it",
                status.commit_index
            ),
        ))
    }

    /// Figure 2: "if commitIndex > lastApplied: increment lastApplied, apply
    /// log[lastApplied] to state machine".
    fn check_apply_order(
        &self,
        id: NodeId,
        status: &Status,
        entry: &Applied<C>,
    ) -> Result<(), Violation> {
        let shadow = &self.nodes[id as usize - 1];
        let rule = "Apply in order";
        let detail = if shadow.resuming && !(1..=shadow.highest_applied + 1).contains(&entry.index)
        {
            format!(
                "n{id} restarted having applied up to index {} and then applied index {} \
                 first: after a restart a node applies again from index 1 (or resumes where its \
                 state machine stopped), at most from index {}, then gapless and in order",
                shadow.highest_applied,
                entry.index,
                shadow.highest_applied + 1
            )
        } else if !shadow.resuming && entry.index != shadow.last_applied + 1 {
            format!(
                "n{id} applied index {} right after index {}: entries are applied once \
                 each, gapless and in order",
                entry.index, shadow.last_applied
            )
        } else if entry.index > status.commit_index {
            format!(
                "n{id} applied index {} but its commit_index is {}: only committed entries \
                 are applied",
                entry.index, status.commit_index
            )
        } else if shadow.log.get(entry.index as usize - 1).map(|e| e.term) != Some(entry.term) {
            format!(
                "n{id} applied index {} with term {}, which is not the entry in its log",
                entry.index, entry.term
            )
        } else {
            return Ok(());
        };
        Err(Violation::new(rule, "Figure 2", detail))
    }

    /// With snapshots on, the state machine beside node `id` applies `entry`: it must be the
    /// index right after the machine's, which after a restart means the node's snapshot came
    /// first (§7).
    fn apply_to_machine(&mut self, id: NodeId, entry: &Applied<C>) -> Result<(), Violation> {
        if self.digests.is_none() {
            return Ok(());
        }
        let machine = self.nodes[id as usize - 1].machine;
        if entry.index != machine.index + 1 {
            return Err(Violation::new(
                "Apply in order",
                "Figure 2, §7",
                format!(
                    "n{id} applied index {} but its state machine holds indexes 1..={} only: \
                     after a restart (or an InstallSnapshot) the state machine loads the \
                     snapshot first (take_snapshot), then the entries after it",
                    entry.index, machine.index
                ),
            ));
        }
        let machine = machine.applied(entry.index, hash_entry(&entry.command));
        self.nodes[id as usize - 1].machine = machine;
        let digests = self.digests.as_mut().expect("checked above");
        if digests.len() < entry.index as usize {
            digests.push(machine.digest);
        }
        Ok(())
    }

    /// Checks a snapshot node `id` hands its state machine (§7): committed, of the committed
    /// term at its index, never behind what the node applied in this life, and (when the
    /// cluster runs the machines, [`track_machines`](Checks::track_machines)) exactly the
    /// state after the commands every node applied through its index. A service that keeps its
    /// own state machine ([`crate::service`]) has snapshots whose bytes only it can read: those
    /// are checked for everything but their bytes. The state machine then
    /// holds it, and the node applies from the index after it.
    pub fn observe_snapshot(
        &mut self,
        id: NodeId,
        status: &Status,
        snapshot: &Snapshot,
    ) -> Result<(), Violation> {
        let shadow = &self.nodes[id as usize - 1];
        let index = snapshot.index;
        let expected = self
            .digests
            .as_ref()
            .and_then(|digests| digests.get((index as usize).wrapping_sub(1)))
            .map(|&digest| Machine { index, digest });
        let committed = self.committed.get((index as usize).wrapping_sub(1));
        let (rule, section, detail) = if index <= shadow.last_applied {
            (
                "Apply in order",
                "Figure 2, §7",
                format!(
                    "n{id} handed its state machine a snapshot through index {index} after \
                     applying through index {}: a state machine never goes back, and no entry \
                     is applied twice (an InstallSnapshot at or below commit_index is ignored)",
                    shadow.last_applied
                ),
            )
        } else if index > status.commit_index {
            (
                "Snapshots hold committed entries only",
                "§7",
                format!(
                    "n{id} handed out a snapshot through index {index} with commit_index {}",
                    status.commit_index
                ),
            )
        } else if committed.map(|c| c.term) != Some(snapshot.term) {
            (
                "Snapshots hold committed entries only",
                "§7",
                format!(
                    "n{id}'s snapshot through index {index} says its last entry has term {}, \
                     but the entry committed there has term {}",
                    snapshot.term,
                    committed.map_or("(none)".to_string(), |c| c.term.to_string())
                ),
            )
        } else if self.digests.is_some()
            && (Machine::decode(&snapshot.data) != expected || expected.is_none())
        {
            (
                "State Machine Safety",
                "§5.4.3, §7",
                format!(
                    "n{id} handed its state machine a snapshot through index {index} whose data \
                     ({} bytes) is not the state after applying indexes 1..={index}: a snapshot \
                     is the state machine's state at its index, kept and sent as it was taken \
                     (and reloaded after a restart)",
                    snapshot.data.len()
                ),
            )
        } else {
            let shadow = &mut self.nodes[id as usize - 1];
            // A service's own snapshot (`crate::service`) is opaque: no machine beside it.
            shadow.machine = expected.unwrap_or_default();
            shadow.last_applied = index;
            shadow.highest_applied = shadow.highest_applied.max(index);
            shadow.resuming = false;
            return Ok(());
        };
        Err(Violation::new(rule, section, detail))
    }

    /// State Machine Safety (§5.4.3): no two nodes apply different commands at one index.
    fn check_state_machine_safety(
        &mut self,
        id: NodeId,
        entry: &Applied<C>,
    ) -> Result<(), Violation> {
        let Some(first) = self.applied.get(entry.index as usize - 1) else {
            let command = entry.command.clone();
            self.applied.push(AppliedEntry { term: entry.term, command, by: id });
            return Ok(());
        };
        if first.command != entry.command || first.term != entry.term {
            return Err(Violation::new(
                "State Machine Safety",
                "§5.4.3",
                format!(
                    "at index {}, n{} applied {:?} (term {}) but n{id} applied {:?} (term {})",
                    entry.index, first.by, first.command, first.term, entry.command, entry.term
                ),
            )
            .with_logs(&[first.by, id], entry.index));
        }
        Ok(())
    }

    /// Node `id` crashed with `status`, its last one: keeps the image of its persistent state
    /// (term, vote, and its log summed up by the last entry's prefix hash) for
    /// [`check_restart`](Checks::check_restart).
    pub fn crashed(&mut self, id: NodeId, status: &Status) {
        let shadow = &mut self.nodes[id as usize - 1];
        let last = shadow.log.last().map(|entry| (entry.term, entry.prefix));
        shadow.at_crash = Some(Image::new(status, last));
    }

    /// Node `id` restarted: its volatile state (`commit_index`, `last_applied`, role) starts
    /// afresh, its term must not go down, and its log shadow is rebuilt from its disk. What it
    /// applied before survives: its next apply may resume anywhere up to one past it.
    pub fn restarted(&mut self, id: NodeId) {
        let shadow = &mut self.nodes[id as usize - 1];
        *shadow = Shadow {
            max_term: shadow.max_term,
            highest_applied: shadow.highest_applied,
            resuming: true,
            at_crash: shadow.at_crash.take(),
            ..Shadow::default()
        };
    }

    /// Checks the node `id` restarted as (after [`restarted`](Checks::restarted)): rebuilds its
    /// log shadow from scratch and compares term, vote and log with what it held when it
    /// crashed (§5.1, Figure 2: persistent state). No-op for a node never seen crashing.
    pub fn check_restart<N: Node<Command = C>>(
        &mut self,
        id: NodeId,
        node: &N,
        status: &Status,
    ) -> Result<(), Violation> {
        // Hash the whole log first and compare it with the crash image, then check each entry:
        // a log that came back wrong is reported as such, not as the Log Matching break it
        // causes.
        let last = status.last_log_index;
        self.nodes[id as usize - 1].log.clear();
        self.adopt_snapshot_if_any(id, status.snapshot_index)?;
        let mut log = mem::take(&mut self.nodes[id as usize - 1].log);
        let mut prefix = log.last().map_or(0, |entry| entry.prefix);
        for index in status.snapshot_index + 1..=last {
            let (term, command) = entry(node, id, index, last)?;
            prefix = chain(prefix, term, hash_entry(command));
            log.push(ShadowEntry { term, prefix });
        }
        let image = Image::new(status, log.last().map(|entry| (entry.term, entry.prefix)));
        if let Some(before) = self.nodes[id as usize - 1].at_crash.take() {
            persistence::check(id, &before, &image)?;
        }
        for (index, entry) in (1..).zip(&log).skip(status.snapshot_index as usize) {
            self.check_log_matching(id, index, entry.term, entry.prefix)?;
        }
        self.nodes[id as usize - 1].log = log;
        Ok(())
    }

    /// Rebuilds node `id`'s shadow from scratch and checks it again: catches an entry rewritten
    /// in place (same index and term, another command), which the tail walk cannot see.
    pub fn rescan<N: Node<Command = C>>(
        &mut self,
        id: NodeId,
        node: &N,
        status: &Status,
    ) -> Result<(), Violation> {
        self.nodes[id as usize - 1].log.clear();
        self.adopt_snapshot_if_any(id, status.snapshot_index)?;
        self.update_log(id, node, status.last_log_index)?;
        self.check_committed_prefix(id, status.commit_index)
    }

    /// After the shadow of node `id`'s log was cleared: the committed entries its snapshot
    /// through `index` replaced, if it has one.
    fn adopt_snapshot_if_any(&mut self, id: NodeId, index: Index) -> Result<(), Violation> {
        self.nodes[id as usize - 1].snapshot_index = 0;
        if index > 0 {
            self.adopt_snapshot(id, index)?;
        }
        Ok(())
    }

    /// The command applied at `index` and how many of `nodes` have applied it, in this life
    /// or an earlier one (the classic lab's count: a crashed server's applied entries count).
    pub fn applied_at(&self, index: Index, nodes: &[NodeId]) -> (usize, Option<C>) {
        let Some(first) = index.checked_sub(1).and_then(|i| self.applied.get(i as usize)) else {
            return (0, None);
        };
        let count =
            nodes.iter().filter(|&&id| self.nodes[id as usize - 1].highest_applied >= index);
        (count.count(), Some(first.command.clone()))
    }

    /// The last index node `id` applied in its current life (0 after a restart, until it
    /// applies again).
    pub fn last_applied(&self, id: NodeId) -> Index {
        self.nodes[id as usize - 1].last_applied
    }
}

/// The entry at `index`, which the node's status says exists.
fn entry<N: Node>(
    node: &N,
    id: NodeId,
    index: Index,
    last: Index,
) -> Result<(Term, &N::Command), Violation> {
    match node.log_entry(index) {
        Some(entry) => Ok(entry),
        None => Err(missing_entry(id, index, last)),
    }
}

#[cold]
fn missing_entry(id: NodeId, index: Index, last: Index) -> Violation {
    Violation::new(
        "Node contract",
        "harness::Node::log_entry",
        format!("n{id}'s last_log_index is {last} but log_entry({index}) returned None"),
    )
}

/// Extends a prefix hash by one entry.
fn chain(prefix: u64, term: Term, command: u64) -> u64 {
    let mut z = prefix ^ term.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ command.rotate_left(29);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A hash of a command: FNV-1a over its JSON form, fixed forever and needing only `Serialize`.
pub fn hash_command<C: Serialize>(command: &C) -> u64 {
    let mut hasher = Fnv(FNV_OFFSET);
    serde_json::to_writer(&mut hasher, command).expect("a command serializes to JSON");
    hasher.0
}

/// [`hash_command`], the same value, with a fast path for the commands of every stage: a
/// `String` that JSON writes as it is, between quotes, is hashed without serde_json.
fn hash_entry<C: Serialize + 'static>(command: &C) -> u64 {
    if let Some(text) = (command as &dyn Any).downcast_ref::<String>() {
        let bytes = text.as_bytes();
        // serde_json escapes control characters, `"` and `\`, and nothing else.
        if !bytes.iter().any(|&byte| byte < 0x20 || byte == b'"' || byte == b'\\') {
            let mut hasher = Fnv(FNV_OFFSET);
            hasher.byte(b'"');
            for &byte in bytes {
                hasher.byte(byte);
            }
            hasher.byte(b'"');
            return hasher.0;
        }
    }
    hash_command(command)
}

const FNV_OFFSET: u64 = 0xCBF2_9CE4_8422_2325;

struct Fnv(u64);

impl Fnv {
    #[inline]
    fn byte(&mut self, byte: u8) {
        self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01B3);
    }
}

impl io::Write for Fnv {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        for &byte in bytes {
            self.byte(byte);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path hashes exactly what serde_json writes, escapes and all.
    #[test]
    fn hash_entry_equals_hash_command() {
        let texts = [
            "",
            "x0",
            "command 12345",
            "quote \" here",
            "back\\slash",
            "tab\there",
            "nl\n",
            "\u{7f} del",
            "\u{1f}",
            "ünïcödé ✓",
            "\u{2028} line separator",
            "a/b",
        ];
        for text in texts {
            let text = text.to_string();
            assert_eq!(hash_entry(&text), hash_command(&text), "{text:?}");
        }
        assert_eq!(hash_entry(&7u64), hash_command(&7u64));
        assert_eq!(hash_entry(&vec![1, 2]), hash_command(&vec![1, 2]));
        for len in 0..40 {
            let text: String = (0..len).map(|i| char::from(b'a' + (i * 7 % 26) as u8)).collect();
            assert_eq!(hash_entry(&text), hash_command(&text), "{text:?}");
        }
    }

    /// Commands that differ anywhere (one byte, the length, where a word ends) hash apart.
    #[test]
    fn different_commands_hash_apart() {
        let mut texts: Vec<String> = (0..20_000).map(|i| format!("command {i}")).collect();
        texts.extend((0..64).map(|len| "a".repeat(len)));
        texts.extend((1..64).map(|len| "\0".repeat(len)));
        texts.extend((0..16).map(|at| format!("{}b{}", "a".repeat(at), "a".repeat(15 - at))));
        let hashes: std::collections::BTreeSet<u64> = texts.iter().map(hash_entry).collect();
        assert_eq!(hashes.len(), texts.len(), "two of {} commands hash alike", texts.len());
    }
}
