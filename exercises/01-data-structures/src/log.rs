//! The replicated log (Figure 2, §5.3, §5.4.1).
//!
//! Indexes are 1-based as in the paper: the first entry has index 1. Index 0 stands for the
//! empty prefix before it, whose term is 0, so that "the entry before the first one" needs no
//! special case in the consistency check (`prev_log_index = 0`, `prev_log_term = 0` always
//! matches).
//!
//! A log may also start after a snapshot (§7, stage 5): the entries through `snapshot_index`
//! were compacted into the snapshot, and only the term of the last of them, `snapshot_term`, is
//! kept. Then `snapshot_index` plays the part of index 0: the prefix before the first entry
//! held, whose term is known. Until stage 5 both are 0, and the two descriptions are one.

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

/// The log: entries at indexes `snapshot_index() + 1 ..= last_index()`; without a snapshot,
/// `1..=last_index()`.
///
/// Invariant: entry terms never decrease along the log (a leader only appends entries of its
/// current term, which is at least every term before it), starting from `snapshot_term`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Log {
    /// The index of the last entry compacted into a snapshot, 0 without one (§7). Left out of
    /// the JSON when 0, so a log without a snapshot encodes as it always did.
    #[serde(default, skip_serializing_if = "is_zero")]
    snapshot_index: Index,
    /// The term of the entry at `snapshot_index`, 0 without a snapshot (§7).
    #[serde(default, skip_serializing_if = "is_zero")]
    snapshot_term: Term,
    /// `entries[i]` is the entry at index `snapshot_index + i + 1`.
    entries: Vec<LogEntry>,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

impl Log {
    /// An empty log.
    pub fn new() -> Self {
        Log::default()
    }

    /// A log holding `entries` at indexes `1..=entries.len()`.
    pub fn from_entries(entries: Vec<LogEntry>) -> Self {
        Log { entries, ..Log::default() }
    }

    /// A log that starts after a snapshot through `snapshot_index`, whose last entry had
    /// `snapshot_term` (§7), holding `entries` at indexes `snapshot_index + 1` on.
    pub fn after_snapshot(
        snapshot_index: Index,
        snapshot_term: Term,
        entries: Vec<LogEntry>,
    ) -> Self {
        Log { snapshot_index, snapshot_term, entries }
    }

    /// The index of the last entry compacted into a snapshot, 0 without one (§7).
    pub fn snapshot_index(&self) -> Index {
        self.snapshot_index
    }

    /// The term of the entry at [`Log::snapshot_index`], 0 without a snapshot (§7).
    pub fn snapshot_term(&self) -> Term {
        self.snapshot_term
    }

    /// The entries held, the one at `snapshot_index() + 1` (index 1 without a snapshot) first.
    pub fn entries(&self) -> &[LogEntry] {
        &self.entries
    }

    /// Where the entry at `index` sits in `entries`: `None` for `snapshot_index()` and before
    /// (index 0 without a snapshot). Past the end it is `entries.len()` or more, which `get`
    /// turns into `None`.
    #[allow(dead_code, reason = "entry and entries_from use it; their stubs do not yet")]
    fn position(&self, index: Index) -> Option<usize> {
        let after = index.checked_sub(self.snapshot_index + 1)?;
        usize::try_from(after).ok()
    }

    /// The index of the last entry: 0 if the log is empty, `snapshot_index()` if it holds no
    /// entry after its snapshot.
    pub fn last_index(&self) -> Index {
        // TODO: return the index of the last entry: the snapshot's index plus the number of
        //       entries held (0 + 0 for an empty log).
        todo!(
            "last_index: snapshot_index + the number of entries, 0 for an empty log (Figure 2, §7)"
        )
    }

    /// The term of the last entry: 0 if the log is empty, `snapshot_term()` if it holds no entry
    /// after its snapshot.
    pub fn last_term(&self) -> Term {
        // TODO: return the term of the last entry held, or the snapshot's term if there is none.
        todo!("last_term: the term of the last entry, else snapshot_term (0 for an empty log) (§7)")
    }

    /// The entry at `index`, or `None` for index 0, for an index compacted into the snapshot,
    /// and past the end.
    pub fn entry(&self, index: Index) -> Option<&LogEntry> {
        // TODO: return the entry at 1-based `index`; `self.position(index)` says where it sits in
        //       `entries` (None at and before the snapshot); past the end there is none.
        todo!(
            "entry({index}): the entry at 1-based index {index}, None for index 0, the snapshot's \
             indexes and past the end (Figure 2)"
        )
    }

    /// The term of the entry at `index`: `Some(0)` for index 0 (the empty prefix), the
    /// snapshot's term at `snapshot_index()`, `None` before that and past the end.
    pub fn term_at(&self, index: Index) -> Option<Term> {
        // TODO: return the term of the entry at `index`: snapshot_term at snapshot_index (0 at 0
        //       without a snapshot), None before it and past the end.
        todo!(
            "term_at({index}): Some(snapshot_term) at snapshot_index (Some(0) at 0), the term of \
             entry {index}, None past the end (Figure 2, §7)"
        )
    }

    /// The entries from `index` to the end, what a leader sends a follower whose `next_index`
    /// is `index` (§5.3). `index` may be `last_index() + 1` (nothing to send: a heartbeat);
    /// `None` for index 0, for an index compacted into the snapshot (the leader must send the
    /// snapshot instead, §7), and beyond `last_index() + 1`.
    pub fn entries_from(&self, index: Index) -> Option<&[LogEntry]> {
        // TODO: return the entries from `index` to the end: empty at last_index + 1, None at and
        //       before the snapshot (index 0 without one) and beyond.
        todo!(
            "entries_from({index}): entries {index}..=last_index; Some(&[]) at last_index + 1; None \
             at or before snapshot_index and beyond (§5.3, §7)"
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

    /// Drops the entries at `index` and after it (nothing if `index` is past the end; every
    /// entry held if it is at or before the snapshot): how stable storage carries out a
    /// [`crate::StorageWrite::TruncateLog`].
    pub fn truncate_from(&mut self, index: Index) {
        let keep = index.saturating_sub(self.snapshot_index + 1);
        self.entries.truncate(usize::try_from(keep).unwrap_or(usize::MAX));
    }

    /// From now on the log starts after a snapshot whose last entry is at `snapshot_index` with
    /// `snapshot_term` (§7; Figure 13, InstallSnapshot receiver rules 6 and 7):
    ///
    /// - if the log holds that entry, the entries after it are kept (rule 6): the snapshot only
    ///   replaces the prefix they follow;
    /// - otherwise every entry is dropped (rule 7): the log ends before it or parts from it.
    ///
    /// The entries through `snapshot_index` are dropped either way. A snapshot that ends at or
    /// before the current one changes nothing: a log never grows back a compacted prefix.
    pub fn start_after(&mut self, snapshot_index: Index, snapshot_term: Term) {
        if snapshot_index <= self.snapshot_index {
            return;
        }
        if self.term_at(snapshot_index) == Some(snapshot_term) {
            let through = (snapshot_index - self.snapshot_index) as usize;
            self.entries.drain(..through);
        } else {
            self.entries.clear();
        }
        self.snapshot_index = snapshot_index;
        self.snapshot_term = snapshot_term;
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
    ///
    /// Entries at or before `snapshot_index()` are committed and already in the snapshot (§7):
    /// a request that starts before it is checked from the snapshot's last entry on (index
    /// `snapshot_index`, term `snapshot_term`), and the entries it carries up to there are
    /// skipped.
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
