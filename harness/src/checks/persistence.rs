//! Persistent state survives a restart (§5.1, Figure 2).
//!
//! Figure 2 lists `currentTerm`, `votedFor` and `log[]` as persistent state, "updated on stable
//! storage before responding to RPCs". The cluster writes a node's `take_persist()` after every
//! event, so a correct node that crashes and restarts comes back with exactly what it had after
//! its last event: the same term, the same vote and the same log. A node that forgets its vote
//! can vote twice in a term (two leaders, §5.2); one that loses entries it acknowledged can undo
//! a commit (§5.4); one that restarts in an older term can follow a stale leader.
//!
//! The checker keeps an [`Image`] of each node when it crashes (its last status and the prefix
//! hash of its last log entry) and compares the restarted node with it, field by field.

use crate::checks::Violation;
use crate::node::{Index, NodeId, Status, Term};

/// What a node held when it crashed, or holds as it restarts: the persistent state of
/// Figure 2, the log summed up by its last index, last term and prefix hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Image {
    pub(crate) term: Term,
    pub(crate) voted_for: Option<NodeId>,
    pub(crate) last_index: Index,
    /// The last index compacted into the snapshot (§7), 0 without one.
    pub(crate) snapshot_index: Index,
    /// The term of the last entry (0 for an empty log).
    pub(crate) last_term: Term,
    /// The prefix hash of the last entry: it covers the whole log (0 for an empty log).
    pub(crate) prefix: u64,
}

impl Image {
    /// The image of a node with `status` whose last log entry has `last` = (term, prefix hash).
    pub(crate) fn new(status: &Status, last: Option<(Term, u64)>) -> Image {
        let (last_term, prefix) = last.unwrap_or((0, 0));
        Image {
            term: status.term,
            voted_for: status.voted_for,
            last_index: status.last_log_index,
            snapshot_index: status.snapshot_index,
            last_term,
            prefix,
        }
    }
}

/// The rule's name, as the report prints it.
pub(crate) const RULE: &str = "Persistent state survives a restart";
/// Where the paper states it.
pub(crate) const SECTION: &str = "§5.1, Figure 2";

/// Node `id` restarted as `after`; it crashed as `before`. Every field that came back wrong is
/// named with both values.
///
/// With snapshots (§7) the snapshot is persistent state too: the log must start after the
/// same snapshot index; the prefix hash covers the snapshot's entries and the log after it.
pub(crate) fn check(id: NodeId, before: &Image, after: &Image) -> Result<(), Violation> {
    let mut wrong = Vec::new();
    if after.term != before.term {
        wrong.push(format!(
            "n{id} restarted in term {}, but was in term {} before it crashed",
            after.term, before.term
        ));
    }
    if after.voted_for != before.voted_for {
        let now = after.voted_for.map_or("None".to_string(), |id| format!("n{id}"));
        let then = match before.voted_for {
            Some(candidate) => format!("had voted for n{candidate}"),
            None => "had not voted".to_string(),
        };
        wrong.push(format!(
            "n{id} restarted with voted_for {now}, but {then} in term {} before it crashed",
            before.term
        ));
    }
    if after.snapshot_index != before.snapshot_index {
        wrong.push(format!(
            "n{id} restarted with its log starting after a snapshot through index {}, but it \
             had one through index {} before it crashed (§7: the snapshot is written to stable \
             storage, and a restart starts from it)",
            after.snapshot_index, before.snapshot_index
        ));
    }
    if let Some(log) = log_difference(id, before, after) {
        wrong.push(log);
    }
    if wrong.is_empty() {
        return Ok(());
    }
    Err(Violation::new(RULE, SECTION, wrong.join("; ")))
}

/// How the restarted log differs from the one the node held, if it does.
fn log_difference(id: NodeId, before: &Image, after: &Image) -> Option<String> {
    let held = match before.last_index {
        0 => "its log was empty".to_string(),
        1 => format!("it held 1 entry (through term {})", before.last_term),
        n => format!("it held {n} entries (through term {})", before.last_term),
    };
    if after.last_index != before.last_index {
        let now = match after.last_index {
            0 => "an empty log".to_string(),
            n => format!("its log ending at index {n}"),
        };
        return Some(format!("n{id} restarted with {now}, but {held} before it crashed"));
    }
    if after.prefix != before.prefix {
        return Some(format!(
            "n{id} restarted with as many entries as before it crashed ({}), but not the same \
             ones: its log through index {} (term {} now, term {} before) differs at or before \
             that index",
            after.last_index, after.last_index, after.last_term, before.last_term
        ));
    }
    None
}
