//! The replicated log: 1-based indexes, the consistency check, conflict resolution and the
//! up-to-date comparison (Figure 2, §5.3, §5.4.1).
//!
//! Most tables run on the logs of the paper's Figure 7: the log of the leader of term 8 and the
//! six follower logs (a)–(f) it may find when it comes to power.

use data_structures::{Index, Log, LogEntry, LogError, Term};
use pretty_assertions::assert_eq;
use rstest::rstest;

/// The entry at `index` of `term`. Its command names both, so that two entries with the same
/// index and term carry the same command, as Log Matching says they do (§5.3), and an entry
/// moved to another index is seen in a diff.
fn entry(index: Index, term: Term) -> LogEntry {
    LogEntry::new(term, format!("{index}@{term}"))
}

/// `terms.len()` entries `entry(i, terms[i - 1])`, starting at index `first`.
fn entries(first: Index, terms: &[Term]) -> Vec<LogEntry> {
    terms.iter().zip(first..).map(|(&term, index)| entry(index, term)).collect()
}

/// A log whose entries have `terms`, the first at index 1.
fn log(terms: &[Term]) -> Log {
    // A method that never returns (a loop that forgot its step) ends the test with a report
    // after RAFT_WATCHDOG seconds, instead of hanging `cargo test`.
    harness::watchdog::watch_this_test();
    Log::from_entries(entries(1, terms))
}

/// Figure 7: the log of the leader of term 8.
const LEADER: &[Term] = &[1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
/// Figure 7 (a): missing the leader's last entry.
const A: &[Term] = &[1, 1, 1, 4, 4, 5, 5, 6, 6];
/// Figure 7 (b): missing entries of terms 4 to 6.
const B: &[Term] = &[1, 1, 1, 4];
/// Figure 7 (c): one extra entry of term 6 that the leader does not have.
const C: &[Term] = &[1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6];
/// Figure 7 (d): two extra entries of term 7, uncommitted, from a leader of term 7.
const D: &[Term] = &[1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7];
/// Figure 7 (e): missing entries of terms 5 and 6, extra entries of term 4.
const E: &[Term] = &[1, 1, 1, 4, 4, 4, 4];
/// Figure 7 (f): extra entries of terms 2 and 3, from a server that led those terms alone.
const F: &[Term] = &[1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3];

// ---------------------------------------------------------------------------------------------
// Accessors: 1-based indexes, index 0 is the empty prefix (Figure 2).
// ---------------------------------------------------------------------------------------------

/// The last index is the number of entries and the last term that of the last entry; an empty
/// log has both 0, the index and term of the empty prefix (Figure 2).
#[rstest]
#[case::empty(&[], 0, 0)]
#[case::one_entry(&[3], 1, 3)]
#[case::two_terms(&[1, 1, 2], 3, 2)]
#[case::figure_7_leader(LEADER, 10, 6)]
#[case::figure_7_d(D, 12, 7)]
fn last_index_and_last_term_describe_the_last_entry(
    #[case] terms: &[Term],
    #[case] last_index: Index,
    #[case] last_term: Term,
) {
    let log = log(terms);
    assert_eq!(
        (log.last_index(), log.last_term()),
        (last_index, last_term),
        "(last_index(), last_term()) of a log with terms {terms:?}: the last entry's index and \
         term, (0, 0) for an empty log (Figure 2)"
    );
}

/// The first entry has index 1: index 0 and every index past the last hold no entry (Figure 2).
#[rstest]
#[case::index_zero_is_the_empty_prefix(&[1, 1, 2], 0, None)]
#[case::first_entry(&[1, 1, 2], 1, Some(entry(1, 1)))]
#[case::middle_entry(&[1, 1, 2], 2, Some(entry(2, 1)))]
#[case::last_entry(&[1, 1, 2], 3, Some(entry(3, 2)))]
#[case::just_past_the_end(&[1, 1, 2], 4, None)]
#[case::far_past_the_end(&[1, 1, 2], Index::MAX, None)]
#[case::empty_log_index_zero(&[], 0, None)]
#[case::empty_log_index_one(&[], 1, None)]
fn entry_is_none_at_index_zero_and_past_the_end(
    #[case] terms: &[Term],
    #[case] index: Index,
    #[case] expected: Option<LogEntry>,
) {
    assert_eq!(
        log(terms).entry(index),
        expected.as_ref(),
        "entry({index}) of a log with terms {terms:?}: indexes start at 1, None at 0 and past the \
         end (Figure 2)"
    );
}

/// Index 0 has term 0, so that `prev_log_index = 0, prev_log_term = 0` needs no special case;
/// past the end there is no term (Figure 2).
#[rstest]
#[case::index_zero_is_term_zero(&[1, 1, 2], 0, Some(0))]
#[case::first_entry(&[1, 1, 2], 1, Some(1))]
#[case::middle_entry(&[1, 1, 2], 2, Some(1))]
#[case::last_entry(&[1, 1, 2], 3, Some(2))]
#[case::just_past_the_end(&[1, 1, 2], 4, None)]
#[case::far_past_the_end(&[1, 1, 2], Index::MAX, None)]
#[case::empty_log_index_zero(&[], 0, Some(0))]
#[case::empty_log_index_one(&[], 1, None)]
fn term_at_is_zero_at_index_zero_and_none_past_the_end(
    #[case] terms: &[Term],
    #[case] index: Index,
    #[case] expected: Option<Term>,
) {
    assert_eq!(
        log(terms).term_at(index),
        expected,
        "term_at({index}) of a log with terms {terms:?}: Some(0) at index 0, None past the end \
         (Figure 2)"
    );
}

/// A leader sends a follower its entries from `next_index` on; `next_index = last_index + 1`
/// sends nothing (a heartbeat), and index 0 or anything further has no entries at all (§5.3).
#[rstest]
#[case::index_zero(&[1, 1, 2], 0, None)]
#[case::from_the_first(&[1, 1, 2], 1, Some(entries(1, &[1, 1, 2])))]
#[case::from_the_middle(&[1, 1, 2], 2, Some(entries(2, &[1, 2])))]
#[case::from_the_last(&[1, 1, 2], 3, Some(entries(3, &[2])))]
#[case::just_past_the_end_is_a_heartbeat(&[1, 1, 2], 4, Some(vec![]))]
#[case::two_past_the_end(&[1, 1, 2], 5, None)]
#[case::far_past_the_end(&[1, 1, 2], Index::MAX, None)]
#[case::empty_log_from_one_is_a_heartbeat(&[], 1, Some(vec![]))]
#[case::empty_log_index_zero(&[], 0, None)]
#[case::empty_log_from_two(&[], 2, None)]
fn entries_from_covers_next_index_to_the_end(
    #[case] terms: &[Term],
    #[case] index: Index,
    #[case] expected: Option<Vec<LogEntry>>,
) {
    assert_eq!(
        log(terms).entries_from(index),
        expected.as_deref(),
        "entries_from({index}) of a log with terms {terms:?}: the entries from index {index} on, \
         Some(&[]) at last_index + 1, None beyond (§5.3)"
    );
}

// ---------------------------------------------------------------------------------------------
// The leader appends (§5.3).
// ---------------------------------------------------------------------------------------------

/// The leader appends a client's command as a new entry of its term, at the end of its log, and
/// learns the entry's index (§5.3).
#[rstest]
#[case::to_an_empty_log(&[], 1)]
#[case::after_other_terms(&[1, 1, 2], 4)]
#[case::after_the_figure_7_leader_log(LEADER, 11)]
fn leader_appends_a_new_entry_at_the_end(#[case] terms: &[Term], #[case] index: Index) {
    let mut log = log(terms);
    assert_eq!(
        log.append(8, "x"),
        index,
        "append(8, \"x\") on a log with terms {terms:?} returns the new entry's index (§5.3)"
    );
    let mut expected = entries(1, terms);
    expected.push(LogEntry::new(8, "x"));
    assert_eq!(
        log.entries(),
        expected.as_slice(),
        "append(8, \"x\") adds one entry at the end (§5.3)"
    );
    assert_eq!(
        (log.last_index(), log.last_term()),
        (index, 8),
        "(last_index(), last_term()) after append(8, \"x\") (§5.3)"
    );
}

/// Appending twice gives two entries at consecutive indexes, in order (§5.3).
#[test]
fn leader_appends_consecutive_entries_in_order() {
    let mut log = Log::new();
    let indexes = [log.append(1, "a"), log.append(1, "b"), log.append(2, "c")];
    assert_eq!(indexes, [1, 2, 3], "the indexes append returned: 1, 2, 3 in order (§5.3)");
    assert_eq!(
        log.entries(),
        [LogEntry::new(1, "a"), LogEntry::new(1, "b"), LogEntry::new(2, "c")].as_slice()
    );
}

// ---------------------------------------------------------------------------------------------
// The consistency check (§5.3; Figure 2, AppendEntries receiver rule 2).
// ---------------------------------------------------------------------------------------------

/// A follower accepts new entries only if its log holds an entry at `prev_log_index` with term
/// `prev_log_term`; the empty prefix (0, 0) always matches (§5.3).
#[rstest]
#[case::empty_prefix_of_an_empty_log(&[], 0, 0, true)]
#[case::empty_prefix_of_a_log(&[1, 1, 2], 0, 0, true)]
#[case::index_zero_has_no_other_term(&[1, 1, 2], 0, 1, false)]
#[case::first_entry(&[1, 1, 2], 1, 1, true)]
#[case::last_entry(&[1, 1, 2], 3, 2, true)]
#[case::last_entry_other_term(&[1, 1, 2], 3, 1, false)]
#[case::middle_entry_later_term(&[1, 1, 2], 2, 2, false)]
#[case::past_the_end(&[1, 1, 2], 4, 2, false)]
#[case::past_the_end_term_zero(&[1, 1, 2], 4, 0, false)]
#[case::empty_log_index_one(&[], 1, 0, false)]
fn consistency_check_needs_an_entry_at_prev_log_index_with_prev_log_term(
    #[case] terms: &[Term],
    #[case] prev_log_index: Index,
    #[case] prev_log_term: Term,
    #[case] expected: bool,
) {
    assert_eq!(
        log(terms).matches(prev_log_index, prev_log_term),
        expected,
        "matches({prev_log_index}, {prev_log_term}) on a log with terms {terms:?} should be \
         {expected}: true only if the log holds an entry at index {prev_log_index} of term \
         {prev_log_term}, and index 0 has term 0 (§5.3)"
    );
}

/// When the leader of term 8 comes to power, its `next_index` for every follower is 11: its
/// first AppendEntries carries `prev_log_index = 10, prev_log_term = 6`, which only (c) and (d)
/// hold (§5.3, Figure 7).
#[rstest]
#[case::a_is_too_short(A, false)]
#[case::b_is_too_short(B, false)]
#[case::c_holds_it(C, true)]
#[case::d_holds_it(D, true)]
#[case::e_is_too_short(E, false)]
#[case::f_has_term_3_there(F, false)]
fn figure_7_followers_pass_the_first_consistency_check_only_if_they_hold_entry_10_of_term_6(
    #[case] follower: &[Term],
    #[case] expected: bool,
) {
    assert_eq!(
        log(follower).matches(10, 6),
        expected,
        "matches(10, 6) on a follower with terms {follower:?} should be {expected}: does it hold \
         entry 10 of term 6? (§5.3, Figure 7)"
    );
}

/// A follower whose log fails the consistency check refuses the entries, leaves its log as it
/// is and says why: no entry at `prev_log_index`, or one of another term (Figure 2,
/// AppendEntries receiver rule 2).
#[rstest]
#[case::too_short(&[1, 1, 2], 4, 2, LogError::Missing { prev_log_index: 4, last_index: 3 })]
#[case::far_too_short(&[1], 9, 5, LogError::Missing { prev_log_index: 9, last_index: 1 })]
#[case::empty_log(&[], 1, 1, LogError::Missing { prev_log_index: 1, last_index: 0 })]
#[case::far_past_the_end(
    &[1, 1, 2], Index::MAX, 2, LogError::Missing { prev_log_index: Index::MAX, last_index: 3 }
)]
#[case::other_term_at_the_end(
    &[1, 1, 2], 3, 3, LogError::TermMismatch { prev_log_index: 3, prev_log_term: 3, term: 2 }
)]
#[case::other_term_in_the_middle(
    &[1, 1, 2], 2, 2, LogError::TermMismatch { prev_log_index: 2, prev_log_term: 2, term: 1 }
)]
#[case::index_zero_other_term(
    &[1, 1, 2], 0, 1, LogError::TermMismatch { prev_log_index: 0, prev_log_term: 1, term: 0 }
)]
fn follower_rejects_append_that_fails_the_consistency_check(
    #[case] terms: &[Term],
    #[case] prev_log_index: Index,
    #[case] prev_log_term: Term,
    #[case] error: LogError,
) {
    let mut log = log(terms);
    let new = [LogEntry::new(prev_log_term, "new")];
    assert_eq!(
        log.append_entries(prev_log_index, prev_log_term, &new),
        Err(error),
        "append_entries({prev_log_index}, {prev_log_term}, …) on a log with terms {terms:?} fails \
         the consistency check (Figure 2, AppendEntries receiver 2)"
    );
    assert_eq!(log.entries(), entries(1, terms).as_slice(), "a rejected append changes nothing");
}

// ---------------------------------------------------------------------------------------------
// The follower appends: truncate only at the first real conflict (Figure 2, receiver rules 3-4).
// ---------------------------------------------------------------------------------------------

/// A follower that passes the consistency check deletes an entry that conflicts with a new one
/// (same index, other term) and everything after it, appends the new entries it does not have,
/// and keeps every entry that matches, with all that follow it: a stale, shorter or duplicated
/// AppendEntries never drops an entry (Figure 2, AppendEntries receiver rules 3-4). It returns
/// the index of the last entry the request covered, `prev_log_index + entries.len()`.
#[rstest]
#[case::first_entries_into_an_empty_log(&[], 0, 0, entries(1, &[1, 1]), 2, &[1, 1])]
#[case::new_entries_at_the_end(&[1, 1], 2, 1, entries(3, &[2, 2]), 4, &[1, 1, 2, 2])]
#[case::overlapping_then_new(&[1, 1], 1, 1, entries(2, &[1, 2, 2]), 4, &[1, 1, 2, 2])]
#[case::heartbeat_at_the_end(&[1, 1, 2], 3, 2, vec![], 3, &[1, 1, 2])]
#[case::heartbeat_behind_keeps_the_tail(&[1, 1, 2], 1, 1, vec![], 1, &[1, 1, 2])]
#[case::heartbeat_on_the_empty_prefix(&[1, 1, 2], 0, 0, vec![], 0, &[1, 1, 2])]
#[case::stale_shorter_append_keeps_the_tail(
    &[1, 1, 1, 1], 1, 1, entries(2, &[1]), 2, &[1, 1, 1, 1]
)]
#[case::stale_append_from_the_start_keeps_the_tail(
    &[1, 1, 2, 2], 0, 0, entries(1, &[1, 1]), 2, &[1, 1, 2, 2]
)]
#[case::duplicated_append_changes_nothing(
    &[1, 1, 2, 2], 0, 0, entries(1, &[1, 1, 2, 2]), 4, &[1, 1, 2, 2]
)]
#[case::conflict_at_the_first_new_entry(&[1, 1, 2, 2], 2, 1, entries(3, &[3]), 3, &[1, 1, 3])]
#[case::conflict_after_a_matching_entry(&[1, 1, 2, 2], 1, 1, entries(2, &[1, 3]), 3, &[1, 1, 3])]
#[case::conflict_at_the_last_entry(&[1, 1, 2, 2], 3, 2, entries(4, &[3, 3]), 5, &[1, 1, 2, 3, 3])]
#[case::conflict_at_index_one(&[2, 2, 2], 0, 0, entries(1, &[1]), 1, &[1])]
#[case::conflict_drops_a_longer_tail(&[1, 1, 2, 2, 2], 2, 1, entries(3, &[3]), 3, &[1, 1, 3])]
fn follower_truncates_only_at_the_first_conflict(
    #[case] terms: &[Term],
    #[case] prev_log_index: Index,
    #[case] prev_log_term: Term,
    #[case] new: Vec<LogEntry>,
    #[case] covered: Index,
    #[case] expected: &[Term],
) {
    let mut log = log(terms);
    assert_eq!(
        log.append_entries(prev_log_index, prev_log_term, &new),
        Ok(covered),
        "append_entries({prev_log_index}, {prev_log_term}, …) returns the last index the request \
         covers (Figure 2, AppendEntries receiver 3-4)"
    );
    assert_eq!(
        log.entries(),
        entries(1, expected).as_slice(),
        "the log after append_entries({prev_log_index}, {prev_log_term}, …): truncated only at \
         the first conflict, then extended (Figure 2, AppendEntries receiver 3-4)"
    );
}

/// A conflicting entry is replaced by the leader's, command included: the follower's log ends
/// as the leader's, not merely with the same terms (Figure 2, AppendEntries receiver rule 3).
#[test]
fn follower_replaces_a_conflicting_entry_with_the_leaders() {
    let mut log = Log::from_entries(vec![LogEntry::new(1, "a"), LogEntry::new(2, "stale")]);
    let new = [LogEntry::new(3, "fresh"), LogEntry::new(3, "next")];
    assert_eq!(
        log.append_entries(1, 1, &new),
        Ok(3),
        "append_entries(1, 1, [3, 3]) covers up to index 3 (Figure 2, AppendEntries receiver 3-4)"
    );
    assert_eq!(
        log.entries(),
        [LogEntry::new(1, "a"), LogEntry::new(3, "fresh"), LogEntry::new(3, "next")].as_slice()
    );
}

/// The requests a leader with log `[1, 1, 2, 3, 3]` may send, by number:
/// 0: entries 1-2, 1: entries 3-4, 2: entry 5, 3: entries 1-5 at once, 4: a heartbeat at 5.
fn request(number: usize) -> (Index, Term, Vec<LogEntry>) {
    match number {
        0 => (0, 0, entries(1, &[1, 1])),
        1 => (2, 1, entries(3, &[2, 3])),
        2 => (4, 3, entries(5, &[3])),
        3 => (0, 0, entries(1, &[1, 1, 2, 3, 3])),
        4 => (5, 3, vec![]),
        _ => unreachable!("no request {number}"),
    }
}

/// The network may duplicate, delay and reorder AppendEntries: whatever the order, once every
/// request got through, the follower's log is the leader's, and a late request never undoes a
/// later one (§5.3, Figure 2 AppendEntries receiver rules 3-4). Requests that fail the
/// consistency check (they arrived too early) are simply refused.
#[rstest]
#[case::in_order(&[0, 1, 2])]
#[case::each_twice(&[0, 0, 1, 1, 2, 2])]
#[case::old_ones_again_at_the_end(&[0, 1, 2, 0, 1])]
#[case::late_first_request(&[3, 0, 1, 2])]
#[case::everything_then_the_parts(&[3, 2, 1, 0, 4])]
#[case::too_early_then_in_order(&[2, 1, 0, 1, 2])]
#[case::heartbeat_between(&[0, 4, 1, 4, 2, 4, 0])]
fn duplicated_and_reordered_appends_are_idempotent(#[case] order: &[usize]) {
    let mut log = Log::new();
    for &number in order {
        let (prev_log_index, prev_log_term, new) = request(number);
        // A refusal is fine: the leader retries; only the final log matters here.
        let _ = log.append_entries(prev_log_index, prev_log_term, &new);
    }
    assert_eq!(
        log.entries(),
        entries(1, &[1, 1, 2, 3, 3]).as_slice(),
        "after the appends in order {order:?}: an old, shorter request never truncates \
         (Figure 2, AppendEntries receiver 3)"
    );
}

/// The leader of term 8 gets a client command (entry 11 of term 8), then sends each follower
/// its entries from `next_index`, starting at 12 and backing up one index at each refusal. The
/// first request (`prev 11/8`) is refused for a short log (Missing) or a conflicting one
/// (TermMismatch) (§5.3, Figure 7).
#[rstest]
#[case::a(A, LogError::Missing { prev_log_index: 11, last_index: 9 })]
#[case::b(B, LogError::Missing { prev_log_index: 11, last_index: 4 })]
#[case::c(C, LogError::TermMismatch { prev_log_index: 11, prev_log_term: 8, term: 6 })]
#[case::d(D, LogError::TermMismatch { prev_log_index: 11, prev_log_term: 8, term: 7 })]
#[case::e(E, LogError::Missing { prev_log_index: 11, last_index: 7 })]
#[case::f(F, LogError::TermMismatch { prev_log_index: 11, prev_log_term: 8, term: 3 })]
fn figure_7_followers_refuse_the_first_append_of_term_8(
    #[case] follower: &[Term],
    #[case] error: LogError,
) {
    let mut follower = log(follower);
    assert_eq!(
        follower.append_entries(11, 8, &[]),
        Err(error),
        "append_entries(11, 8, []) on a follower of Figure 7: none holds entry 11 of term 8 \
         (Figure 2, AppendEntries receiver 2)"
    );
}

/// Backing up `next_index` until the consistency check passes finds the last index where the
/// two logs agree; the follower then deletes what conflicts and takes the leader's entries, and
/// its log ends identical to the leader's: extra entries of (c), (d), (e), (f) are gone, missing
/// ones of (a), (b), (e) are there (§5.3, Figure 7).
#[rstest]
#[case::a(A, 10)]
#[case::b(B, 5)]
#[case::c(C, 11)]
#[case::d(D, 11)]
#[case::e(E, 6)]
#[case::f(F, 4)]
fn figure_7_followers_end_with_the_leaders_log(
    #[case] follower: &[Term],
    #[case] agreed_next_index: Index,
) {
    let mut leader = log(LEADER);
    leader.append(8, "11@8");
    let mut follower = log(follower);
    let mut next_index = leader.last_index() + 1;
    loop {
        let prev_log_index = next_index - 1;
        let prev_log_term = leader.term_at(prev_log_index).expect("the leader has prev_log_index");
        let new = leader.entries_from(next_index).expect("next_index is in the leader's log");
        match follower.append_entries(prev_log_index, prev_log_term, new) {
            Ok(covered) => {
                assert_eq!(covered, leader.last_index(), "the request covers the leader's log");
                break;
            }
            Err(error) => {
                assert!(next_index > 1, "the empty prefix (0, 0) always matches, yet: {error:?}");
                next_index -= 1;
            }
        }
    }
    assert_eq!(next_index, agreed_next_index, "where the logs start to differ");
    assert_eq!(
        follower.entries(),
        leader.entries(),
        "the follower's log once the leader's appends from next_index {next_index} succeeded \
         (§5.3, Figure 7)"
    );
}

// ---------------------------------------------------------------------------------------------
// The up-to-date comparison (§5.4.1).
// ---------------------------------------------------------------------------------------------

/// A voter grants its vote only to a candidate whose log is at least as up-to-date as its own:
/// the later last term wins; with the same last term, the longer log wins; equal logs are up to
/// date (§5.4.1).
#[rstest]
#[case::empty_voter_any_candidate(&[], 0, 0, true)]
#[case::same_log(&[1, 1, 2], 3, 2, true)]
#[case::same_term_longer(&[1, 1, 2], 4, 2, true)]
#[case::same_term_shorter(&[1, 1, 2], 2, 2, false)]
#[case::later_term_shorter(&[1, 1, 2], 1, 3, true)]
#[case::earlier_term_longer(&[1, 1, 2], 9, 1, false)]
#[case::empty_candidate(&[1], 0, 0, false)]
fn candidate_is_up_to_date_by_last_term_then_last_index(
    #[case] voter: &[Term],
    #[case] last_log_index: Index,
    #[case] last_log_term: Term,
    #[case] expected: bool,
) {
    assert_eq!(
        log(voter).is_up_to_date(last_log_index, last_log_term),
        expected,
        "is_up_to_date({last_log_index}, {last_log_term}) on a voter with terms {voter:?} should \
         be {expected}: the later last term wins, then the longer log; equal logs are up to \
         date (§5.4.1)"
    );
}

/// Would each follower of Figure 7 vote for the leader of term 8 (last entry 10 of term 6), and
/// would the leader vote for the follower? (c) and (d) are more up-to-date than the leader; (f)
/// is longer but ends in an earlier term; (a) ends in the same term but is shorter (§5.4.1).
#[rstest]
#[case::a(A, true, false)]
#[case::b(B, true, false)]
#[case::c(C, false, true)]
#[case::d(D, false, true)]
#[case::e(E, true, false)]
#[case::f(F, true, false)]
fn figure_7_up_to_date_compares_last_terms_before_lengths(
    #[case] follower: &[Term],
    #[case] follower_votes_for_leader: bool,
    #[case] leader_votes_for_follower: bool,
) {
    let (leader, follower) = (log(LEADER), log(follower));
    let votes = (
        follower.is_up_to_date(leader.last_index(), leader.last_term()),
        leader.is_up_to_date(follower.last_index(), follower.last_term()),
    );
    assert_eq!(
        votes,
        (follower_votes_for_leader, leader_votes_for_follower),
        "(follower.is_up_to_date(leader's last), leader.is_up_to_date(follower's last)) for the \
         follower with terms {follower:?}: last terms first, lengths only on a tie (§5.4.1)",
        follower = follower.entries().iter().map(|e| e.term).collect::<Vec<_>>()
    );
}

// ---------------------------------------------------------------------------------------------
// A log that starts after a snapshot (§7): `snapshot_index` plays the part of index 0.
// ---------------------------------------------------------------------------------------------

/// A log that compacted indexes 1..=5 (the last of term 2) into a snapshot and holds entries
/// 6..=8 of terms 2, 3, 3 after it.
fn compacted() -> Log {
    harness::watchdog::watch_this_test();
    Log::after_snapshot(5, 2, entries(6, &[2, 3, 3]))
}

/// The last index and term count the snapshot: its index plus the entries held; with no entry
/// after it, the snapshot's own index and term (§7).
#[rstest]
#[case::entries_after_it(compacted(), 8, 3)]
#[case::nothing_after_it(Log::after_snapshot(5, 2, Vec::new()), 5, 2)]
fn last_index_and_last_term_count_the_snapshot(
    #[case] log: Log,
    #[case] last_index: Index,
    #[case] last_term: Term,
) {
    assert_eq!(
        (log.last_index(), log.last_term()),
        (last_index, last_term),
        "(last_index(), last_term()) of {log:?}: snapshot_index plus the entries held, the \
         snapshot's term when none is held (§7)"
    );
    assert_eq!((log.snapshot_index(), log.snapshot_term()), (5, 2), "the snapshot's boundary");
}

/// `term_at` knows the snapshot's last term, and nothing before it: those entries are gone.
/// `entry` has no entry at or before the snapshot.
#[rstest]
#[case::before_the_snapshot(4, None, None)]
#[case::index_0(0, None, None)]
#[case::the_snapshots_last_index(5, Some(2), None)]
#[case::first_entry_held(6, Some(2), Some(entry(6, 2)))]
#[case::last_entry(8, Some(3), Some(entry(8, 3)))]
#[case::past_the_end(9, None, None)]
fn after_a_snapshot_term_at_knows_its_last_term_and_entry_holds_only_what_follows(
    #[case] index: Index,
    #[case] term: Option<Term>,
    #[case] expected_entry: Option<LogEntry>,
) {
    let log = compacted();
    assert_eq!(
        log.term_at(index),
        term,
        "term_at({index}) of a log after a snapshot through 5 of term 2: the snapshot's term at \
         index 5, None before it (compacted) and past the end (§7)"
    );
    assert_eq!(
        log.entry(index),
        expected_entry.as_ref(),
        "entry({index}) of a log after a snapshot through 5: entries 6..=8 only (§7)"
    );
}

/// A leader sends a follower whose `next_index` is compacted away its snapshot instead:
/// `entries_from` has nothing to give there (§7).
#[rstest]
#[case::compacted(5, None)]
#[case::long_compacted(1, None)]
#[case::first_held(6, Some(entries(6, &[2, 3, 3])))]
#[case::heartbeat(9, Some(Vec::new()))]
#[case::beyond(10, None)]
fn after_a_snapshot_entries_from_starts_at_the_first_entry_held(
    #[case] index: Index,
    #[case] expected: Option<Vec<LogEntry>>,
) {
    let log = compacted();
    assert_eq!(
        log.entries_from(index).map(<[LogEntry]>::to_vec),
        expected,
        "entries_from({index}) of a log after a snapshot through 5 holding 6..=8 (§7)"
    );
}

/// The consistency check at the snapshot's last entry uses the snapshot's term: the leader
/// sends `prev_log_index = 5, prev_log_term = 2` for the entry after it (§7).
#[rstest]
#[case::snapshot_boundary(5, 2, true)]
#[case::boundary_other_term(5, 1, false)]
#[case::entry_held(7, 3, true)]
fn after_a_snapshot_the_consistency_check_matches_at_its_last_entry(
    #[case] prev_log_index: Index,
    #[case] prev_log_term: Term,
    #[case] expected: bool,
) {
    let log = compacted();
    assert_eq!(
        log.matches(prev_log_index, prev_log_term),
        expected,
        "matches({prev_log_index}, {prev_log_term}) after a snapshot through 5 of term 2 (§7)"
    );
}

/// A request that starts inside the snapshot: the entries through the snapshot are committed,
/// so they match; the rest is checked and stored after it. The returned index still counts the
/// whole request.
#[rstest]
#[case::all_inside(3, 1, entries(4, &[2, 2]), 5, entries(6, &[2, 3, 3]))]
#[case::reaches_past_it(3, 1, entries(4, &[2, 2, 2, 3, 3, 3]), 9, entries(6, &[2, 3, 3, 3]))]
#[case::conflicts_after_it(4, 2, entries(5, &[2, 2, 4]), 7, entries(6, &[2, 4]))]
fn after_a_snapshot_append_entries_skips_what_the_snapshot_covers(
    #[case] prev_log_index: Index,
    #[case] prev_log_term: Term,
    #[case] new: Vec<LogEntry>,
    #[case] covered: Index,
    #[case] held: Vec<LogEntry>,
) {
    let mut log = compacted();
    assert_eq!(
        log.append_entries(prev_log_index, prev_log_term, &new),
        Ok(covered),
        "append_entries({prev_log_index}, {prev_log_term}, {} entries) on a log after a snapshot \
         through 5: entries through 5 are committed, skip them and store the rest (§7)",
        new.len()
    );
    assert_eq!(log, Log::after_snapshot(5, 2, held), "the log after that append_entries");
}

/// Figure 13, receiver rules 6 and 7, on the log: a snapshot whose last entry the log holds
/// keeps what follows it; any other replaces the whole log; an older one changes nothing.
#[rstest]
#[case::keeps_the_suffix(log(&[1, 1, 2, 2, 3]), 3, 2, Log::after_snapshot(3, 2, entries(4, &[2, 3])), 5)]
#[case::through_the_last_entry(log(&[1, 1, 2]), 3, 2, Log::after_snapshot(3, 2, Vec::new()), 3)]
#[case::other_term_there(log(&[1, 1, 2, 2]), 3, 3, Log::after_snapshot(3, 3, Vec::new()), 3)]
#[case::log_too_short(log(&[1, 1]), 5, 2, Log::after_snapshot(5, 2, Vec::new()), 5)]
#[case::older_snapshot(compacted(), 4, 2, compacted(), 8)]
#[case::same_snapshot(compacted(), 5, 2, compacted(), 8)]
#[case::moves_on(compacted(), 7, 3, Log::after_snapshot(7, 3, entries(8, &[3])), 8)]
fn start_after_keeps_the_suffix_only_behind_a_matching_entry(
    #[case] mut log: Log,
    #[case] index: Index,
    #[case] term: Term,
    #[case] expected: Log,
    #[case] last_index: Index,
) {
    let before = format!("{log:?}");
    log.start_after(index, term);
    assert_eq!(
        (log.last_index(), &log),
        (last_index, &expected),
        "(last_index(), log) after {before}.start_after({index}, {term}) (§7, Figure 13 rules 6-7)"
    );
}

/// Storage truncates after a snapshot too: the index is a log index, not a position.
#[test]
fn after_a_snapshot_truncate_from_counts_log_indexes() {
    let mut log = compacted();
    log.truncate_from(7);
    assert_eq!(log, Log::after_snapshot(5, 2, entries(6, &[2])), "truncate_from(7)");
    log.append(4, "7@4");
    assert_eq!(log.last_index(), 7, "append after truncate_from(7) on a log after a snapshot");
}
