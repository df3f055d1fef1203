//! Snapshots and InstallSnapshot, one or two nodes at a time (§7, Figure 13).
//!
//! In the style of etcd's paper tests: each test builds a node (often restarted from a disk
//! that holds a snapshot), feeds it messages, requests and ticks, and checks what it sends,
//! stores, writes and hands out. Each test's doc line paraphrases the paper and ends with its
//! section. Suggested order: `snapshot_write` first (every node calls it from `take_persist`
//! after every input, so every test needs it), then `compact`, `take_snapshot`,
//! `send_snapshot`, `handle_install_snapshot`, `handle_install_snapshot_reply`.
//!
//! The nodes use `Config::default()`: an election timeout base T of 20 ticks, a heartbeat every
//! 4 ticks.

use data_structures::{
    AppendEntries, AppendEntriesReply, Conflict, Index, InstallSnapshot, InstallSnapshotReply, Log,
    LogEntry, Message, NodeId, PersistentState, RequestVoteReply, Role, StorageWrite, Term,
};
use harness::{Compact, Config, Node, Persist, Replicate, Rng, Snapshot};
use pretty_assertions::assert_eq;
use rstest::rstest;

/// The stage's node, watched call by call: one that never returns from a call is reported with
/// the node, the call and the test.
type RaftNode = harness::watchdog::WatchedNode<snapshots::RaftNode>;

/// The election timeout base T: timeouts are drawn from `[T, 2T)`.
const T: u64 = 20;

// ---------------------------------------------------------------------------------------------
// Helpers: nodes restarted from a disk that may hold a snapshot, messages written tersely.

/// The command stored at `index` in `term` in every log built here (Log Matching, §5.3).
fn command(index: Index, term: Term) -> String {
    format!("e{index}t{term}")
}

/// The entries of `terms`, the first at index `first`.
fn entries(first: Index, terms: &[Term]) -> Vec<LogEntry> {
    terms
        .iter()
        .zip(first..)
        .map(|(&term, index)| LogEntry::new(term, command(index, term)))
        .collect()
}

/// The state machine's bytes as of `index`, as the tests' service encodes them.
fn data(index: Index) -> Vec<u8> {
    format!("state@{index}").into_bytes()
}

/// A disk: `current_term`, a snapshot through `snapshot` = (index, term) (none if index 0),
/// then a log of `terms` after it.
fn disk(current_term: Term, snapshot: (Index, Term), terms: &[Term]) -> PersistentState {
    let (index, term) = snapshot;
    PersistentState {
        current_term,
        voted_for: None,
        log: Log::after_snapshot(index, term, entries(index + 1, terms)),
        snapshot: if index == 0 { Vec::new() } else { data(index) },
    }
}

/// Node `id` among `peers`, restarted from `disk`, its first writes drained.
fn restarted(id: NodeId, peers: &[NodeId], disk: PersistentState) -> RaftNode {
    // A test that never ends (a loop waiting for what never comes) is reported, not hung.
    harness::watchdog::watch_this_test();
    let mut node = RaftNode::restart(id, peers.to_vec(), Config::default(), Rng::new(id), disk);
    node.take_persist();
    node
}

/// Follower 2 of a 3-node cluster in `term` with a log of `terms` (no snapshot), which learned
/// from leader 1 that the first `applied` entries are committed, and applied them.
fn follower(term: Term, terms: &[Term], applied: Index) -> RaftNode {
    let mut node = restarted(2, &[1, 3], disk(term, (0, 0), terms));
    if applied > 0 {
        let prev = (applied, terms[applied as usize - 1]);
        node.step(1, append(term, prev, &[], applied));
        let taken = node.take_committed();
        assert_eq!(taken.len() as Index, applied, "follower 2 applies entries 1..={applied}");
        sent(&mut node);
        node.take_persist();
    }
    node
}

/// Node 1 restarted from `disk` and elected leader of `disk.current_term + 1` by every peer;
/// its first messages and writes drained.
fn leader(disk: PersistentState, peers: &[NodeId]) -> RaftNode {
    let term = disk.current_term + 1;
    let mut node = restarted(1, peers, disk);
    node.take_snapshot();
    for _ in 0..2 * T {
        node.tick();
        if node.status().term == term {
            break;
        }
    }
    assert_eq!(node.status().term, term, "node 1 should have started an election within 2T");
    for &peer in peers {
        node.step(peer, Message::RequestVoteReply(RequestVoteReply { term, vote_granted: true }));
    }
    assert_eq!(node.state().role.name(), "leader", "node 1 won every vote of term {term}");
    sent(&mut node);
    node.take_persist();
    node
}

/// The messages `node` sent since the last call, as `(to, message)`.
fn sent(node: &mut RaftNode) -> Vec<(NodeId, Message)> {
    node.take_messages().into_iter().map(|envelope| (envelope.to, envelope.message)).collect()
}

/// An AppendEntries of `term` from leader 1 after `prev` = (index, term), carrying entries of
/// `terms`, with `leader_commit`.
fn append(term: Term, prev: (Index, Term), terms: &[Term], leader_commit: Index) -> Message {
    let (prev_log_index, prev_log_term) = prev;
    Message::AppendEntries(AppendEntries {
        term,
        leader_id: 1,
        prev_log_index,
        prev_log_term,
        entries: entries(prev_log_index + 1, terms),
        leader_commit,
    })
}

/// An InstallSnapshot of `term` from leader 1, through `last` = (index, term).
fn install(term: Term, last: (Index, Term)) -> Message {
    let (last_included_index, last_included_term) = last;
    Message::InstallSnapshot(InstallSnapshot {
        term,
        leader_id: 1,
        last_included_index,
        last_included_term,
        data: data(last_included_index),
    })
}

/// Follower 2 refuses leader 1's first AppendEntries of term 4 (after index 7): its log ends
/// just before `first_index`.
fn refused_up_to(first_index: Index) -> Message {
    let conflict = Some(Conflict { term: None, first_index });
    let reply = AppendEntriesReply { term: 4, success: false, match_index: 7, conflict };
    Message::AppendEntriesReply(reply)
}

fn installed(term: Term, last_included_index: Index) -> Message {
    Message::InstallSnapshotReply(InstallSnapshotReply { term, last_included_index })
}

/// The leader's `(next_index, match_index)` for `peer` (Figure 2).
fn progress(node: &RaftNode, peer: NodeId) -> (Index, Index) {
    match &node.state().role {
        Role::Leader { next_index, match_index } => (next_index[&peer], match_index[&peer]),
        role => panic!("node {} is a {}, not a leader", node.id(), role.name()),
    }
}

/// What `node` holds: its log (with the snapshot's boundary), its snapshot's bytes, and its
/// `commit_index`.
fn holds(node: &RaftNode) -> (Log, String, Index) {
    let state = node.state();
    (state.log.clone(), String::from_utf8_lossy(&state.snapshot).into_owned(), state.commit_index)
}

fn after(index: Index, term: Term, terms: &[Term]) -> Log {
    Log::after_snapshot(index, term, entries(index + 1, terms))
}

// ---------------------------------------------------------------------------------------------
// compact: the service's request (§7).

/// "Each server takes snapshots independently, covering just the committed entries in its log":
/// the service hands its state after an applied index; the node keeps it and its log starts
/// after that index, keeping the entries that follow (§7).
#[test]
fn compact_keeps_the_state_and_drops_the_log_through_its_index() {
    let mut node = follower(3, &[1, 1, 2, 2, 3], 4);
    node.compact(3, data(3));
    assert_eq!(
        holds(&node),
        (after(3, 2, &[2, 3]), "state@3".to_string(), 4),
        "(log, snapshot, commit_index) after compact(3) on a log of terms 1 1 2 2 3 applied \
         through 4: the log starts after index 3 (term 2) and keeps entries 4 and 5 (§7)"
    );
}

/// An out-of-date request changes nothing: at or before the current snapshot (the log never
/// grows back), or past what was applied (the service cannot have applied it) (§7).
#[rstest]
#[case::before_the_snapshot(2)]
#[case::at_the_snapshot(3)]
#[case::past_last_applied(5)]
fn compact_ignores_an_out_of_date_or_unapplied_index(#[case] index: Index) {
    let mut node = follower(3, &[1, 1, 2, 2, 3], 4);
    node.compact(3, data(3));
    node.compact(index, data(index));
    assert_eq!(
        holds(&node),
        (after(3, 2, &[2, 3]), "state@3".to_string(), 4),
        "(log, snapshot, commit_index) after compact(3) then compact({index}), applied through \
         4: only an index past the snapshot and at most last_applied is taken (§7)"
    );
}

/// Committed is not applied: an index the node committed but has not handed out yet cannot be
/// in the service's state, so a request to compact through it is refused (§7).
#[test]
fn compact_ignores_an_index_committed_but_not_yet_applied() {
    let mut node = follower(3, &[1, 1, 2, 2, 3], 4);
    node.step(1, append(3, (5, 3), &[], 5));
    sent(&mut node);
    node.compact(5, data(5));
    assert_eq!(
        holds(&node),
        (after(0, 0, &[1, 1, 2, 2, 3]), String::new(), 5),
        "(log, snapshot, commit_index) after compact(5) with commit_index 5 and last_applied \
         4: only what was applied is in the service's state (§7)"
    );
}

// ---------------------------------------------------------------------------------------------
// take_snapshot: what the state machine loads (§7).

/// A restarted node's state machine starts empty: it gets the snapshot first, once, and then
/// the entries after it as they commit. The snapshot's entries are committed, so the commit
/// index starts at its last index (§7).
#[test]
fn a_restarted_node_hands_its_snapshot_to_the_state_machine_first() {
    let mut node = restarted(2, &[1, 3], disk(3, (5, 2), &[2, 3]));
    assert_eq!(
        node.take_snapshot(),
        Some(Snapshot { index: 5, term: 2, data: data(5) }),
        "take_snapshot() after a restart from a snapshot through 5 (term 2) (§7)"
    );
    assert_eq!(node.take_snapshot(), None, "take_snapshot() a second time: handed out once");
    assert_eq!(node.take_committed(), Vec::new(), "take_committed() with commit_index 5");
    node.step(1, append(3, (7, 3), &[], 7));
    let applied: Vec<Index> = node.take_committed().iter().map(|entry| entry.index).collect();
    assert_eq!(
        applied,
        vec![6, 7],
        "take_committed() once the leader commits 7: after the snapshot"
    );
}

/// A node that took its own snapshot has nothing new for the state machine, which made it; a
/// node without a snapshot has none to give (§7).
#[test]
fn take_snapshot_is_none_when_the_state_machine_has_it() {
    let mut node = follower(3, &[1, 1, 2], 3);
    assert_eq!(node.take_snapshot(), None, "take_snapshot() without a snapshot");
    node.compact(2, data(2));
    assert_eq!(node.take_snapshot(), None, "take_snapshot() after compact(2), applied through 3");
}

// ---------------------------------------------------------------------------------------------
// snapshot_write: the snapshot is persistent state (§7).

/// A new snapshot is written to stable storage, before the log's own writes (it drops a
/// prefix of the stored log), and only once (§7, Figure 2: "updated on stable storage").
#[test]
fn a_new_snapshot_is_written_once() {
    let mut node = follower(3, &[1, 1, 2], 3);
    node.compact(2, data(2));
    let snapshot =
        StorageWrite::Snapshot { last_included_index: 2, last_included_term: 1, data: data(2) };
    assert_eq!(node.take_persist(), vec![snapshot], "take_persist() after compact(2)");
    assert_eq!(node.take_persist(), Vec::new(), "take_persist() again: nothing new");
}

/// What the writes leave on disk brings the node back as it was: the snapshot, the log after
/// it, and a state machine that gets the snapshot first (§7).
#[test]
fn a_node_restarted_from_its_writes_comes_back_with_its_snapshot() {
    let mut node = follower(3, &[1, 1, 2, 2], 4);
    let mut stored = disk(3, (0, 0), &[1, 1, 2, 2]);
    node.compact(3, data(3));
    node.step(1, append(3, (4, 2), &[3], 4));
    for write in node.take_persist() {
        RaftNode::apply_write(&mut stored, write);
    }
    let mut back = restarted(2, &[1, 3], stored);
    assert_eq!(
        holds(&back),
        (after(3, 2, &[2, 3]), "state@3".to_string(), 3),
        "(log, snapshot, commit_index) restarted from the writes of compact(3) and one new entry"
    );
    assert_eq!(
        back.take_snapshot().map(|s| s.index),
        Some(3),
        "take_snapshot() after that restart"
    );
}

// ---------------------------------------------------------------------------------------------
// send_snapshot: the leader's side of Figure 13.

/// A follower whose `next_index` is at or before the leader's snapshot needs entries the
/// leader no longer has: it gets the snapshot instead (§7: "the leader must occasionally send
/// snapshots to followers that lag behind").
#[test]
fn leader_sends_its_snapshot_to_a_follower_that_needs_compacted_entries() {
    let mut node = leader(disk(3, (5, 2), &[2, 3]), &[2, 3]);
    // Follower 2's log ends at index 3: the leader's next_index for it moves back there.
    node.step(2, refused_up_to(3));
    let expected = InstallSnapshot {
        term: 4,
        leader_id: 1,
        last_included_index: 5,
        last_included_term: 2,
        data: data(5),
    };
    assert_eq!(
        sent(&mut node),
        vec![(2, Message::InstallSnapshot(expected))],
        "what leader 1 (snapshot through 5, term 2) sends follower 2 whose log ends at 3 (§7)"
    );
}

/// A follower whose `next_index` is just past the snapshot gets entries: the entry before them
/// is the snapshot's last one, whose term the leader still knows (§7: the snapshot keeps
/// "the last included index and term ... to support the AppendEntries consistency check").
#[test]
fn at_the_snapshot_boundary_prev_log_term_is_the_snapshots_term() {
    let mut node = leader(disk(3, (5, 2), &[2, 3]), &[2, 3]);
    node.step(2, refused_up_to(6));
    assert_eq!(
        sent(&mut node),
        vec![(2, append(4, (5, 2), &[2, 3], 5))],
        "what leader 1 (snapshot through 5, term 2, entries 6-7) sends follower 2 whose log \
         ends at 5 (§7)"
    );
}

// ---------------------------------------------------------------------------------------------
// handle_install_snapshot: the follower's side of Figure 13.

/// Rule 7: a follower whose log does not hold the snapshot's last entry discards its whole
/// log; the snapshot becomes its own, everything in it is committed, and the state machine
/// loads it (§7, Figure 13).
#[rstest]
#[case::log_too_short(&[1, 1])]
#[case::other_term_there(&[1, 1, 1, 1, 1, 1])]
fn follower_replaces_a_log_that_does_not_hold_the_snapshots_last_entry(#[case] terms: &[Term]) {
    let mut node = follower(3, terms, 0);
    node.step(1, install(3, (5, 2)));
    assert_eq!(
        holds(&node),
        (after(5, 2, &[]), "state@5".to_string(), 5),
        "(log, snapshot, commit_index) of a follower with a log of terms {terms:?} after an \
         InstallSnapshot through 5 (term 2) (Figure 13, rule 7)"
    );
    assert_eq!(sent(&mut node), vec![(1, installed(3, 5))], "the reply (Figure 13)");
    assert_eq!(node.take_snapshot().map(|s| s.index), Some(5), "take_snapshot() after installing");
}

/// Rule 6: "if existing log entry has same index and term as snapshot's last included entry,
/// retain log entries following it": they may be entries the leader counts as replicated
/// (§7, Figure 13).
#[test]
fn follower_keeps_the_entries_after_the_snapshots_last_entry() {
    let mut node = follower(3, &[1, 1, 2, 2, 3], 0);
    node.step(1, install(3, (3, 2)));
    assert_eq!(
        holds(&node),
        (after(3, 2, &[2, 3]), "state@3".to_string(), 3),
        "(log, snapshot, commit_index) of a follower with terms 1 1 2 2 3 after an \
         InstallSnapshot through 3 (term 2) (Figure 13, rule 6)"
    );
}

/// A snapshot at or before the follower's commit index brings nothing new: it is ignored, or
/// the state machine would go back; the reply still says the follower holds all of it (§7).
#[rstest]
#[case::below_commit(2, 1)]
#[case::at_commit(3, 2)]
fn follower_ignores_a_snapshot_at_or_below_its_commit_index(
    #[case] index: Index,
    #[case] term: Term,
) {
    let mut node = follower(3, &[1, 1, 2, 2], 3);
    node.step(1, install(3, (index, term)));
    assert_eq!(
        holds(&node),
        (after(0, 0, &[1, 1, 2, 2]), String::new(), 3),
        "(log, snapshot, commit_index) of a follower with commit_index 3 after an \
         InstallSnapshot through {index} (§7)"
    );
    assert_eq!(sent(&mut node), vec![(1, installed(3, index))], "the reply");
    assert_eq!(node.take_snapshot(), None, "take_snapshot(): nothing to load");
}

/// Follower 2 with a snapshot of its own through 2 (term 1) and entries 3-8 of terms
/// 1 2 2 3 3 3 after it; it applied through 4 and learned that 6 is committed, which it has not
/// applied yet: snapshot 2 < last_applied 4 < commit_index 6 < last index 8.
fn follower_with_a_snapshot_behind_on_applying() -> RaftNode {
    let mut node = restarted(2, &[1, 3], disk(3, (2, 1), &[1, 2, 2, 3, 3, 3]));
    assert_eq!(node.take_snapshot().map(|s| s.index), Some(2), "take_snapshot() after a restart");
    node.step(1, append(3, (4, 2), &[], 4));
    let applied: Vec<Index> = node.take_committed().iter().map(|entry| entry.index).collect();
    assert_eq!(applied, vec![3, 4], "take_committed() once leader 1 commits 4");
    node.step(1, append(3, (6, 3), &[], 6));
    sent(&mut node);
    node.take_persist();
    node
}

/// What that follower holds before any InstallSnapshot: (log, snapshot, commit_index).
fn unchanged() -> (Log, &'static str, Index) {
    (after(2, 1, &[1, 2, 2, 3, 3, 3]), "state@2", 6)
}

/// Whether an InstallSnapshot is installed depends on `commit_index` alone: a snapshot through
/// an index at or before it brings nothing new, however it compares with the node's own
/// snapshot, with what it applied or with its log; it is ignored, or the state machine and
/// `commit_index` would go back. A snapshot past it is installed: the log keeps the entries
/// after the snapshot's last entry if it holds that entry (rule 6), and is discarded otherwise
/// (rule 7); `commit_index` moves to the snapshot's index, and the state machine loads it
/// (§7, Figure 13). Either way the reply says the follower holds everything through it, and
/// the state machine goes on from where it was.
#[rstest]
#[case::older_than_its_own_snapshot((1, 1), unchanged(), None, &[5, 6])]
#[case::at_its_own_snapshot((2, 1), unchanged(), None, &[5, 6])]
#[case::newer_than_its_snapshot_but_applied((3, 1), unchanged(), None, &[5, 6])]
#[case::at_last_applied((4, 2), unchanged(), None, &[5, 6])]
#[case::past_last_applied_but_committed((5, 2), unchanged(), None, &[5, 6])]
#[case::at_commit_index((6, 3), unchanged(), None, &[5, 6])]
#[case::past_commit_index_holding_it((7, 3), (after(7, 3, &[3]), "state@7", 7), Some(7), &[])]
#[case::past_commit_index_conflicting((7, 4), (after(7, 4, &[]), "state@7", 7), Some(7), &[])]
#[case::past_the_end_of_the_log((10, 3), (after(10, 3, &[]), "state@10", 10), Some(10), &[])]
fn follower_installs_a_snapshot_only_past_its_commit_index(
    #[case] last: (Index, Term),
    #[case] expected: (Log, &str, Index),
    #[case] handed_out: Option<Index>,
    #[case] applied_after: &[Index],
) {
    let mut node = follower_with_a_snapshot_behind_on_applying();
    node.step(1, install(3, last));
    let (log, snapshot, commit_index) = expected;
    assert_eq!(
        holds(&node),
        (log, snapshot.to_string(), commit_index),
        "(log, snapshot, commit_index) after an InstallSnapshot through {last:?} (index, term), \
         of a follower with a snapshot through 2, last_applied 4, commit_index 6 and entries to \
         8: only a snapshot past commit_index is installed (§7, Figure 13)"
    );
    assert_eq!(sent(&mut node), vec![(1, installed(3, last.0))], "the reply (Figure 13)");
    assert_eq!(
        node.take_snapshot().map(|s| s.index),
        handed_out,
        "take_snapshot() after that InstallSnapshot"
    );
    let applied: Vec<Index> = node.take_committed().iter().map(|entry| entry.index).collect();
    assert_eq!(
        applied, applied_after,
        "take_committed() after that InstallSnapshot: the state machine goes on from where it was"
    );
}

/// An InstallSnapshot comes from the leader of its term: a candidate of that term steps down
/// and follows it, and the election timer restarts (§5.2).
#[rstest]
fn install_snapshot_makes_its_sender_the_leader_and_restarts_the_timer(
    #[values(2, 3, 4, 5)] id: NodeId,
) {
    let peers: Vec<NodeId> = (1..=5).filter(|&peer| peer != id).collect();
    let mut node = restarted(id, &peers, disk(2, (0, 0), &[1]));
    for _ in 0..2 * T {
        if node.status().term == 3 {
            break;
        }
        node.tick();
    }
    assert_eq!(node.status().term, 3, "node {id} should have started an election within 2T");
    sent(&mut node);
    // A candidate of term 3 since this tick: its timer has at least T ticks to run.
    for _ in 0..T - 1 {
        node.tick();
    }
    node.step(1, install(3, (1, 1)));
    assert_eq!(node.state().role, Role::Follower { leader: Some(1) }, "role after InstallSnapshot");
    let mut ticks = 0;
    while node.status().term == 3 && ticks < 3 * T {
        node.tick();
        ticks += 1;
    }
    assert!(
        ticks >= T,
        "node {id} started an election {ticks} ticks after an InstallSnapshot of its term: the \
         election timer restarts on it, and a timeout is at least T = {T} ticks (§5.2)"
    );
}

// ---------------------------------------------------------------------------------------------
// handle_install_snapshot_reply: the leader counts the follower.

/// A follower that installed the snapshot holds everything through it: `match_index` moves
/// there, `next_index` after it, and the entries after the snapshot follow at once (§7, §5.3).
#[test]
fn leader_counts_a_follower_that_installed_its_snapshot_and_sends_what_follows() {
    let mut node = leader(disk(3, (5, 2), &[2, 3]), &[2, 3]);
    // Follower 2's log ends at index 3: the leader sends it the snapshot.
    node.step(2, refused_up_to(3));
    sent(&mut node);
    node.step(2, installed(4, 5));
    assert_eq!(progress(&node, 2), (6, 5), "(next_index, match_index) of follower 2");
    assert_eq!(
        sent(&mut node),
        vec![(2, append(4, (5, 2), &[2, 3], 5))],
        "what leader 1 sends follower 2 right after its snapshot reply"
    );
}

/// A late or duplicated reply never moves `match_index` back, and sends nothing when the
/// follower is already up to date (§5.3: replies arrive late, reordered and duplicated).
#[test]
fn a_stale_snapshot_reply_never_moves_match_index_back() {
    let mut node = leader(disk(3, (5, 2), &[2, 3]), &[2, 3]);
    let ok = AppendEntriesReply { term: 4, success: true, match_index: 7, conflict: None };
    node.step(2, Message::AppendEntriesReply(ok));
    sent(&mut node);
    node.step(2, installed(4, 5));
    assert_eq!(progress(&node, 2), (8, 7), "(next_index, match_index) after a stale reply");
    assert_eq!(sent(&mut node), Vec::new(), "messages after a stale snapshot reply");
}

/// A node that does not lead ignores snapshot replies: it has no `match_index` to move.
#[test]
fn a_follower_ignores_a_snapshot_reply() {
    let mut node = follower(3, &[1, 1], 0);
    node.step(3, installed(3, 2));
    assert_eq!(node.state().role, Role::Follower { leader: None }, "role after a snapshot reply");
    assert_eq!(sent(&mut node), Vec::new(), "messages after a snapshot reply");
}
