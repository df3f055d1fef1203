//! The safety properties of Raft (Figure 3), as checks over a snapshot of a cluster.
//!
//! §5.4.3 argues that Raft is safe: these four properties hold at every moment of every run.
//! Here they become code you can run: hand a checker the state of every server at one instant
//! and it says whether a property is broken, and how. The course's harness checks the same
//! properties after every event of every simulated run, incrementally; these checkers are the
//! plain version, over one snapshot, in the words of the paper.
//!
//! A snapshot cannot see the past, so each checker claims only what one instant shows:
//!
//! - **Election Safety** (§5.2): at most one leader per term, among the servers that lead now.
//! - **Log Matching** (§5.3): if two logs hold an entry with the same index and term, the logs
//!   are identical up to and including that index.
//! - **Leader Completeness** (§5.4): an entry committed in a term is in the log of every leader
//!   of a later term. A server in term `t` committed its prefix in term `t` or earlier, so every
//!   leader of term `t` or later holds that prefix (the leader of `t` itself holds what was
//!   committed in `t`: it created those entries, and a leader never deletes its own).
//! - **State Machine Safety** (§5.4.3): no two servers apply different entries at one index.

use std::fmt;

use data_structures::{Index, Log, LogEntry, NodeId, Role, Term};
use serde::{Deserialize, Serialize};

use crate::node::RaftNode;

/// One server at the instant of a snapshot: Figure 2's state and what it applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerSnapshot {
    /// Its id.
    pub id: NodeId,
    /// Its `current_term`.
    pub current_term: Term,
    /// True if it is the leader of `current_term`.
    pub leader: bool,
    /// Its log.
    pub log: Log,
    /// Its `commit_index`.
    pub commit_index: Index,
    /// The entries it applied to its state machine, in order: `applied[i]` is index `i + 1`.
    pub applied: Vec<LogEntry>,
}

impl ServerSnapshot {
    /// The snapshot of `node`: its state, and its log up to `last_applied` as what it applied.
    pub fn of(node: &RaftNode) -> Self {
        let state = node.state();
        let applied = state.log.entries().iter().take(state.last_applied as usize).cloned();
        ServerSnapshot {
            id: state.id,
            current_term: state.current_term,
            leader: matches!(state.role, Role::Leader { .. }),
            log: state.log.clone(),
            commit_index: state.commit_index,
            applied: applied.collect(),
        }
    }
}

/// A property of Figure 3.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Property {
    /// At most one leader per term (§5.2).
    ElectionSafety,
    /// Same index and term, same log up to there (§5.3).
    LogMatching,
    /// Committed entries are in every later leader's log (§5.4).
    LeaderCompleteness,
    /// No two servers apply different entries at one index (§5.4.3).
    StateMachineSafety,
}

impl Property {
    /// The section of the paper that states it.
    pub fn section(self) -> &'static str {
        match self {
            Property::ElectionSafety => "§5.2",
            Property::LogMatching => "§5.3",
            Property::LeaderCompleteness => "§5.4",
            Property::StateMachineSafety => "§5.4.3",
        }
    }
}

/// `Election Safety`, `Log Matching`, ...: the name as Figure 3 writes it.
impl fmt::Display for Property {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Property::ElectionSafety => "Election Safety",
            Property::LogMatching => "Log Matching",
            Property::LeaderCompleteness => "Leader Completeness",
            Property::StateMachineSafety => "State Machine Safety",
        };
        f.write_str(name)
    }
}

/// A broken property, with the servers, terms and indexes that break it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// Which property.
    pub property: Property,
    /// What the snapshot shows, e.g. "n1 and n2 both lead term 3".
    pub detail: String,
}

/// `Election Safety (§5.2) violated: n1 and n2 both lead term 3`.
impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (property, section) = (self.property, self.property.section());
        write!(f, "{property} ({section}) violated: {}", self.detail)
    }
}

/// Every property, in Figure 3's order; the first one broken.
pub fn check(servers: &[ServerSnapshot]) -> Result<(), Violation> {
    election_safety(servers)?;
    log_matching(servers)?;
    leader_completeness(servers)?;
    state_machine_safety(servers)
}

/// Election Safety (§5.2): no two servers lead the same term.
pub fn election_safety(servers: &[ServerSnapshot]) -> Result<(), Violation> {
    let leaders: Vec<&ServerSnapshot> = servers.iter().filter(|server| server.leader).collect();
    for (i, a) in leaders.iter().enumerate() {
        if let Some(b) = leaders[i + 1..].iter().find(|b| b.current_term == a.current_term) {
            let detail = format!("n{} and n{} both lead term {}", a.id, b.id, a.current_term);
            return Err(Violation { property: Property::ElectionSafety, detail });
        }
    }
    Ok(())
}

/// Log Matching (§5.3): for any two logs, if both hold an entry with the same index and term,
/// they hold the same entries up to and including it.
pub fn log_matching(servers: &[ServerSnapshot]) -> Result<(), Violation> {
    for (i, a) in servers.iter().enumerate() {
        for b in &servers[i + 1..] {
            // The highest index where both logs hold an entry of the same term: if the logs are
            // identical up to it, they are up to every lower such index too.
            let mut index = a.log.last_index().min(b.log.last_index());
            while index > 0 && a.log.term_at(index) != b.log.term_at(index) {
                index -= 1;
            }
            if let Some(differ) = (1..=index).find(|&at| a.log.entry(at) != b.log.entry(at)) {
                let term = a.log.term_at(index).unwrap_or(0);
                let detail = format!(
                    "n{} and n{} both hold an entry of term {term} at index {index}, but their \
                     logs differ at index {differ}",
                    a.id, b.id
                );
                return Err(Violation { property: Property::LogMatching, detail });
            }
        }
    }
    Ok(())
}

/// Leader Completeness (§5.4): a server of term `t` has committed its log up to its
/// `commit_index` in term `t` or earlier, so every leader of term `t` or later holds those
/// entries.
pub fn leader_completeness(servers: &[ServerSnapshot]) -> Result<(), Violation> {
    for leader in servers.iter().filter(|server| server.leader) {
        let earlier = servers.iter().filter(|server| server.current_term <= leader.current_term);
        for server in earlier {
            let missing = (1..=server.commit_index)
                .find(|&index| leader.log.entry(index) != server.log.entry(index));
            if let Some(index) = missing {
                let detail = format!(
                    "n{} leads term {} without the entry at index {index} that n{} (term {}) \
                     committed",
                    leader.id, leader.current_term, server.id, server.current_term
                );
                return Err(Violation { property: Property::LeaderCompleteness, detail });
            }
        }
    }
    Ok(())
}

/// State Machine Safety (§5.4.3): if a server has applied an entry at an index, no other server
/// ever applies a different entry at that index.
pub fn state_machine_safety(servers: &[ServerSnapshot]) -> Result<(), Violation> {
    for (i, a) in servers.iter().enumerate() {
        for b in &servers[i + 1..] {
            let differ = a.applied.iter().zip(&b.applied).position(|(x, y)| x != y);
            if let Some(position) = differ {
                let index = position as Index + 1;
                let (x, y) = (&a.applied[position], &b.applied[position]);
                let detail = format!(
                    "at index {index}, n{} applied {:?} (term {}) and n{} applied {:?} (term {})",
                    a.id, x.command, x.term, b.id, y.command, y.term
                );
                return Err(Violation { property: Property::StateMachineSafety, detail });
            }
        }
    }
    Ok(())
}
