//! The replicated log (Figure 2, §5.3, §5.4.1).
//!
//! Indexes are 1-based as in the paper: the first entry has index 1. Index 0 stands for the
//! empty prefix before it, whose term is 0, so that "the entry before the first one" needs no
//! special case in the consistency check (`prev_log_index = 0`, `prev_log_term = 0` always
//! matches).

use serde::{Deserialize, Serialize};

/// A term number (§5.1). Terms start at 0 and only grow.
///
/// Terms, indexes and ids are plain `u64` aliases, not newtypes: arithmetic and literals stay
/// readable (`last_index + 1`, `term_at(3)`), and the names on every signature say which is
/// which. A newtype would catch a term passed as an index at compile time; here the tests of
/// the consistency check catch that mix-up instead.
pub type Term = u64;
/// A log index: 1 for the first entry, 0 for the empty prefix (Figure 2).
pub type Index = u64;
/// A server's id.
pub type NodeId = u64;
/// A client command, opaque to Raft. A `String` keeps tests and timelines readable.
pub type Command = String;

/// One log entry: a command and the term in which a leader received it (§5.3).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LogEntry {
    /// The leader's term when it appended the entry.
    pub term: Term,
    /// The client's command.
    pub command: Command,
}

impl LogEntry {
    /// An entry of `term` carrying `command`.
    pub fn new(term: Term, command: impl Into<Command>) -> Self {
        LogEntry { term, command: command.into() }
    }
}

/// Why a follower refused an AppendEntries (Figure 2, AppendEntries receiver rule 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LogError {
    /// The log has no entry at `prev_log_index`: it is too short.
    Missing {
        /// The index the leader asked about.
        prev_log_index: Index,
        /// The follower's last index.
        last_index: Index,
    },
    /// The entry at `prev_log_index` has another term than `prev_log_term`.
    TermMismatch {
        /// The index the leader asked about.
        prev_log_index: Index,
        /// The term the leader expected there.
        prev_log_term: Term,
        /// The term the follower has there.
        term: Term,
    },
}

/// The log: entries at indexes `1..=last_index()`.
///
/// Invariant: entry terms never decrease along the log (a leader only appends entries of its
/// current term, which is at least every term before it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Log {
    /// `entries[i]` is the entry at index `i + 1`.
    entries: Vec<LogEntry>,
}

impl Log {
    /// An empty log.
    pub fn new() -> Self {
        Log { entries: Vec::new() }
    }

    /// A log holding `entries` at indexes `1..=entries.len()`.
    pub fn from_entries(entries: Vec<LogEntry>) -> Self {
        Log { entries }
    }

    /// All entries, the entry at index 1 first.
    pub fn entries(&self) -> &[LogEntry] {
        &self.entries
    }

    /// The index of the last entry, 0 if the log is empty.
    pub fn last_index(&self) -> Index {
        // TODO: return the index of the last entry: the number of entries, 0 if there is none.
        todo!("last_index: the index of the last entry, 0 for an empty log (Figure 2)")
    }

    /// The term of the last entry, 0 if the log is empty.
    pub fn last_term(&self) -> Term {
        // TODO: return the term of the last entry, 0 if there is none.
        todo!("last_term: the term of the last entry, 0 for an empty log (Figure 2)")
    }

    /// The entry at `index`, or `None` for index 0 and past the end.
    pub fn entry(&self, index: Index) -> Option<&LogEntry> {
        // TODO: return the entry at 1-based `index`; index 0 and past the end have none.
        todo!(
            "entry({index}): the entry at 1-based index {index}, None for index 0 and past the end \
             (Figure 2)"
        )
    }

    /// The term of the entry at `index`: `Some(0)` for index 0 (the empty prefix), `None` past
    /// the end.
    pub fn term_at(&self, index: Index) -> Option<Term> {
        // TODO: return the term of the entry at `index`: 0 for index 0, None past the end.
        todo!(
            "term_at({index}): Some(0) for index 0, the term of entry {index}, None past the end \
             (Figure 2)"
        )
    }

    /// The entries from `index` to the end, what a leader sends a follower whose `next_index`
    /// is `index` (§5.3). `index` may be `last_index() + 1` (nothing to send: a heartbeat);
    /// `None` for index 0 and beyond that.
    pub fn entries_from(&self, index: Index) -> Option<&[LogEntry]> {
        // TODO: return the entries from `index` to the end: empty at last_index + 1, None for 0 and
        //       beyond.
        todo!(
            "entries_from({index}): entries {index}..=last_index; Some(&[]) at last_index + 1; None \
             for 0 and beyond (§5.3)"
        )
    }

    /// A leader appends a new entry for `command` in `term` and returns its index (§5.3:
    /// "the leader appends the command to its log as a new entry").
    pub fn append(&mut self, term: Term, command: impl Into<Command>) -> Index {
        // TODO: push a new entry of `term` with `command` at the end of the log and return its
        //       index.
        todo!(
            "append({term}, {:?}): push an entry of term {term} at the end and return its index \
             (§5.3)",
            Into::<Command>::into(command)
        )
    }

    /// Drops the entries at `index` and after it (nothing if `index` is past the end): how
    /// stable storage carries out a [`crate::StorageWrite::TruncateLog`].
    pub fn truncate_from(&mut self, index: Index) {
        let keep = index.saturating_sub(1);
        self.entries.truncate(usize::try_from(keep).unwrap_or(usize::MAX));
    }

    /// Appends `entries` at the end, as they are: how stable storage carries out a
    /// [`crate::StorageWrite::AppendLog`].
    pub fn extend(&mut self, entries: impl IntoIterator<Item = LogEntry>) {
        self.entries.extend(entries);
    }

    /// The consistency check (§5.3; Figure 2, AppendEntries receiver rule 2): does this log
    /// contain an entry at `prev_log_index` whose term is `prev_log_term`?
    pub fn matches(&self, prev_log_index: Index, prev_log_term: Term) -> bool {
        // TODO: say whether the log has an entry at `prev_log_index` whose term is `prev_log_term`.
        todo!(
            "matches({prev_log_index}, {prev_log_term}): is there an entry at {prev_log_index} of \
             term {prev_log_term}? Index 0 has term 0 (§5.3)"
        )
    }

    /// A follower appends the `entries` that a leader sent after `prev_log_index` (Figure 2,
    /// AppendEntries receiver rules 2–4) and returns the index of the last entry the request
    /// covered, `prev_log_index + entries.len()`: the follower's log now matches the leader's up
    /// to there.
    ///
    /// - Rule 2: if the log has no entry at `prev_log_index` with `prev_log_term`, nothing
    ///   changes and the error says why.
    /// - Rule 3: an existing entry that conflicts with a new one (same index, other term) is
    ///   deleted, with all that follow it.
    /// - Rule 4: entries not already in the log are appended.
    ///
    /// Entries that already match are kept, and so is everything after them: a stale, shorter
    /// or duplicated AppendEntries must never remove entries the leader may already count as
    /// replicated. Truncation happens only at the first real conflict.
    pub fn append_entries(
        &mut self,
        prev_log_index: Index,
        prev_log_term: Term,
        entries: &[LogEntry],
    ) -> Result<Index, LogError> {
        // TODO: refuse if the consistency check fails; otherwise walk the new entries, skip those
        //       already there, truncate at the first conflict and append the rest.
        todo!(
            "append_entries({prev_log_index}, {prev_log_term}, {} entries): check prev, truncate \
             only at the first conflict, append the rest, return the last index covered (Figure 2, \
             AppendEntries rules 2-4)",
            entries.len()
        )
    }

    /// The election restriction (§5.4.1): is a candidate's log, ending at `last_log_index` with
    /// `last_log_term`, at least as up-to-date as this one?
    ///
    /// "If the logs have last entries with different terms, then the log with the later term is
    /// more up-to-date. If the logs end with the same term, then whichever log is longer is more
    /// up-to-date."
    pub fn is_up_to_date(&self, last_log_index: Index, last_log_term: Term) -> bool {
        // TODO: compare the last terms first; only if they are equal, compare the last indexes.
        todo!(
            "is_up_to_date({last_log_index}, {last_log_term}): the later last term wins; same term, \
             the longer log; equal is up to date (§5.4.1)"
        )
    }
}
