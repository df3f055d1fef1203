//! Log replication, one or two nodes at a time (§5.3, §5.4.2).
//!
//! In the style of etcd's `raft_paper_test.go`: each test builds a node, feeds it messages,
//! proposals and ticks, and checks what it sends, stores, commits and applies. Each test's doc
//! line paraphrases the paper and ends with its section. Suggested order, the order of the
//! stubs in `src/replication.rs`'s chapter table: `send_append_entries` (every new leader calls
//! it, so most tests need it), `propose`, `handle_append_entries` with `conflict`,
//! `handle_append_entries_reply`, `maybe_commit`, `take_committed`; then Figure 7.
//!
//! The nodes use `Config::default()`: an election timeout base T of 20 ticks, a heartbeat every
//! 4 ticks, at most 64 entries per AppendEntries.

use data_structures::{
    AppendEntries, AppendEntriesReply, Conflict, Index, Log, LogEntry, Message, NodeId,
    PersistentState, RequestVoteReply, Role, Term,
};
use harness::{Applied, Config, Node, NotLeader, Persist, Replicate, Rng};
use pretty_assertions::assert_eq;
use rstest::rstest;

/// The node, watched call by call: a call that never returns ends the test with a report
/// naming the node and the call (`harness::watchdog`).
type RaftNode = harness::watchdog::WatchedNode<replication::RaftNode>;

/// The election timeout base T: timeouts are drawn from `[T, 2T)`.
const T: u64 = 20;
/// The leader's heartbeat interval.
const HEARTBEAT: u64 = 4;

// ---------------------------------------------------------------------------------------------
// Helpers: nodes with a given log and term, messages written tersely.

fn config() -> Config {
    let config = Config::default();
    assert_eq!((config.election_timeout, config.heartbeat_interval), (T, HEARTBEAT));
    config
}

/// The command stored at `index` in `term` in every log built here: two entries with the same
/// index and term carry the same command (Log Matching, §5.3).
fn command(index: Index, term: Term) -> String {
    format!("e{index}t{term}")
}

/// A log whose entry `i` (1-based) has term `terms[i - 1]`.
fn log_of(terms: &[Term]) -> Log {
    let entries =
        terms.iter().zip(1..).map(|(&term, index)| LogEntry::new(term, command(index, term)));
    Log::from_entries(entries.collect())
}

/// A follower `id` restarted in `current_term` with a log of `terms`, among `peers`.
fn follower(id: NodeId, peers: &[NodeId], current_term: Term, terms: &[Term]) -> RaftNode {
    follower_with(id, peers, current_term, terms, config())
}

fn follower_with(
    id: NodeId,
    peers: &[NodeId],
    current_term: Term,
    terms: &[Term],
    config: Config,
) -> RaftNode {
    // A node that never returns from a call ends the test with a report, instead of hanging.
    harness::watchdog::watch_this_test();
    let state =
        PersistentState { current_term, voted_for: None, log: log_of(terms), snapshot: Vec::new() };
    let mut node = RaftNode::restart(id, peers.to_vec(), config, Rng::new(id), state);
    node.take_persist();
    node
}

/// Node 1, leader of `term` among `peers` (elected by all of them), with a log of `terms`; its
/// first heartbeats are drained.
fn leader(term: Term, terms: &[Term], peers: &[NodeId]) -> RaftNode {
    leader_with(term, terms, peers, config())
}

fn leader_with(term: Term, terms: &[Term], peers: &[NodeId], config: Config) -> RaftNode {
    let mut node = follower_with(1, peers, term - 1, terms, config);
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
    let id = node.id();
    let envelopes = node.take_messages();
    for envelope in &envelopes {
        assert_eq!(envelope.from, id, "node {id} sent {envelope:?} in another node's name");
    }
    envelopes.into_iter().map(|envelope| (envelope.to, envelope.message)).collect()
}

/// The terms of `node`'s log, in index order.
fn terms(node: &RaftNode) -> Vec<Term> {
    node.state().log.entries().iter().map(|entry| entry.term).collect()
}

/// The leader's `(next_index, match_index)` for `peer` (Figure 2, volatile state on leaders).
fn progress(node: &RaftNode, peer: NodeId) -> (Index, Index) {
    match &node.state().role {
        Role::Leader { next_index, match_index } => (next_index[&peer], match_index[&peer]),
        role => panic!("node {} is a {}, not a leader", node.id(), role.name()),
    }
}

/// An AppendEntries of `term` from leader 1: after `prev_index`/`prev_term`, the entries of
/// `terms` (at the indexes that follow), with `leader_commit`.
fn append(term: Term, prev: (Index, Term), terms: &[Term], leader_commit: Index) -> Message {
    let (prev_log_index, prev_log_term) = prev;
    let entries = terms
        .iter()
        .zip(prev_log_index + 1..)
        .map(|(&entry_term, index)| LogEntry::new(entry_term, command(index, entry_term)))
        .collect();
    Message::AppendEntries(AppendEntries {
        term,
        leader_id: 1,
        prev_log_index,
        prev_log_term,
        entries,
        leader_commit,
    })
}

fn ok(term: Term, match_index: Index) -> Message {
    let reply = AppendEntriesReply { term, success: true, match_index, conflict: None };
    Message::AppendEntriesReply(reply)
}

fn refused(term: Term, prev_log_index: Index, conflict: Option<Conflict>) -> Message {
    let reply = AppendEntriesReply { term, success: false, match_index: prev_log_index, conflict };
    Message::AppendEntriesReply(reply)
}

fn hint(term: Option<Term>, first_index: Index) -> Option<Conflict> {
    Some(Conflict { term, first_index })
}

/// The AppendEntries in `messages`, as `(to, request)`.
fn appends(messages: Vec<(NodeId, Message)>) -> Vec<(NodeId, AppendEntries)> {
    let appends = messages.into_iter().filter_map(|(to, message)| match message {
        Message::AppendEntries(request) => Some((to, request)),
        _ => None,
    });
    appends.collect()
}

fn applied_indexes(applied: &[Applied<String>]) -> Vec<Index> {
    applied.iter().map(|entry| entry.index).collect()
}

// ---------------------------------------------------------------------------------------------
// §5.3: the leader accepts commands and sends them.

/// The leader appends the command to its log as a new entry of its current term, and returns
/// the index where it will be committed if it stays leader (§5.3).
#[test]
fn leader_appends_a_proposal_in_its_term_and_returns_its_index() {
    let mut node = leader(2, &[1], &[2, 3]);
    let result = node.propose("x".to_string());
    assert_eq!(result, Ok((2, 2)), "propose(\"x\") on the leader of term 2 with a log of 1 entry");
    assert_eq!(node.state().log.entry(2), Some(&LogEntry::new(2, "x")), "the new entry at index 2");
}

/// Only the leader takes client commands; any other server refuses and names the leader it
/// knows of, so that the client can retry there (§5.3, §8), and stores nothing.
#[rstest]
#[case::follower_that_knows_the_leader(true, Some(3))]
#[case::follower_that_heard_from_no_leader(false, None)]
fn follower_refuses_a_proposal_and_names_the_leader(
    #[case] heard_from_leader: bool,
    #[case] leader_hint: Option<NodeId>,
) {
    let mut node = follower(2, &[1, 3], 1, &[1]);
    if heard_from_leader {
        node.step(3, Message::AppendEntries(AppendEntries { leader_id: 3, ..heartbeat_of(1) }));
        sent(&mut node);
    }
    assert_eq!(
        node.propose("x".to_string()),
        Err(NotLeader { leader_hint }),
        "propose(\"x\") on a follower of term 1 (§5.3)"
    );
    assert_eq!(
        terms(&node),
        vec![1],
        "the log after a heartbeat (prev 0/0, no entries) and a refused proposal: neither changes it"
    );
    assert_eq!(sent(&mut node), vec![], "a refused proposal sends nothing");
}

/// A candidate knows no leader of its term: it refuses with no hint (§5.3).
#[test]
fn candidate_refuses_a_proposal_with_no_hint() {
    let mut node = follower(2, &[1, 3], 1, &[1]);
    while node.status().term == 1 {
        node.tick();
    }
    sent(&mut node);
    assert_eq!(
        node.propose("x".to_string()),
        Err(NotLeader { leader_hint: None }),
        "propose(\"x\") on a candidate of term 2 (§5.3)"
    );
    assert_eq!(
        terms(&node),
        vec![1],
        "the log after a heartbeat (prev 0/0, no entries) and a refused proposal: neither changes it"
    );
}

fn heartbeat_of(term: Term) -> AppendEntries {
    AppendEntries {
        term,
        leader_id: 1,
        prev_log_index: 0,
        prev_log_term: 0,
        entries: vec![],
        leader_commit: 0,
    }
}

/// The leader issues AppendEntries to each of the other servers in parallel to replicate the
/// entry: each names the entry before the new ones (`prev_log_index`, `prev_log_term`) and the
/// leader's commit index (§5.3).
#[test]
fn leader_sends_a_proposal_to_every_follower_at_once() {
    let mut node = leader(2, &[1], &[2, 3]);
    node.propose("x".to_string()).expect("node 1 leads");
    let request = Message::AppendEntries(AppendEntries {
        term: 2,
        leader_id: 1,
        prev_log_index: 1,
        prev_log_term: 1,
        entries: vec![LogEntry::new(2, "x")],
        leader_commit: 0,
    });
    assert_eq!(
        sent(&mut node),
        vec![(2, request.clone()), (3, request)],
        "propose(\"x\") on the leader of term 2 whose log ends at 1/1 (§5.3)"
    );
}

/// A new leader initializes every `next_index` to just after its last entry, so its first
/// AppendEntries name its last entry and carry nothing (Figure 2; §5.3).
#[test]
fn new_leader_starts_each_follower_after_its_last_entry() {
    let mut node = follower(1, &[2, 3], 2, &[1, 1, 2]);
    while node.status().term == 2 {
        node.tick();
    }
    sent(&mut node);
    node.step(2, Message::RequestVoteReply(RequestVoteReply { term: 3, vote_granted: true }));
    assert_eq!((progress(&node, 2), progress(&node, 3)), ((4, 0), (4, 0)), "(next, match)");
    let beat = append(3, (3, 2), &[], 0);
    assert_eq!(
        sent(&mut node),
        vec![(2, beat.clone()), (3, beat)],
        "the first heartbeats of the new leader of term 3, whose log ends at 3/2 (§5.3)"
    );
}

/// The leader retries AppendEntries indefinitely until every follower stores all entries: its
/// heartbeats carry what a follower still lacks, so a lost message is repaired without new
/// proposals (§5.3).
#[test]
fn heartbeat_carries_the_entries_a_follower_still_lacks() {
    let mut node = leader(1, &[], &[2, 3]);
    node.propose("x".to_string()).expect("node 1 leads");
    sent(&mut node); // lost on the way
    node.step(2, ok(1, 1));
    for _ in 0..HEARTBEAT {
        node.tick();
    }
    let beats = appends(sent(&mut node));
    let to_three: Vec<_> = beats.iter().filter(|(to, _)| *to == 3).collect();
    assert_eq!(to_three.len(), 1, "one heartbeat to node 3 after {HEARTBEAT} ticks: {beats:?}");
    let request = &to_three[0].1;
    assert_eq!(
        (request.prev_log_index, request.entries.len()),
        (0, 1),
        "node 3 never acknowledged index 1, so the heartbeat must carry it again"
    );
}

/// A follower far behind is repaired in batches: no AppendEntries carries more than
/// `Config::max_entries_per_append` entries (§5.3).
#[rstest]
#[case::default_batch(64)]
#[case::small_batch(10)]
fn append_entries_carries_at_most_a_batch(#[case] batch: usize) {
    let config = Config { max_entries_per_append: batch, ..Config::default() };
    let log = vec![1; 100];
    let mut node = leader_with(2, &log, &[2, 3], config);
    // Node 2 holds nothing: its log ends before index 1.
    node.step(2, refused(2, 100, hint(None, 1)));
    let requests = appends(sent(&mut node));
    assert_eq!(requests.len(), 1, "a refusal makes the leader retry at once: {requests:?}");
    let request = &requests[0].1;
    assert_eq!(
        (request.prev_log_index, request.entries.len()),
        (0, batch),
        "(prev_log_index, entries) of the retry to a follower holding nothing"
    );
    node.step(2, ok(2, batch as Index));
    assert_eq!(
        progress(&node, 2),
        (batch as Index + 1, batch as Index),
        "(next, match) of node 2 after it acknowledged the first batch"
    );
}

// ---------------------------------------------------------------------------------------------
// §5.3: the follower's consistency check and what it stores.

/// If the follower finds the entry at `prev_log_index` with `prev_log_term`, it stores the new
/// entries and says how far its log now matches the leader's: `prev_log_index` plus the number
/// of entries (§5.3; Figure 2, AppendEntries receiver rules 2–4).
#[test]
fn follower_stores_entries_after_a_matching_entry_and_acknowledges_them() {
    let mut node = follower(2, &[1, 3], 2, &[1, 1]);
    node.step(1, append(2, (2, 1), &[2, 2], 0));
    assert_eq!(terms(&node), vec![1, 1, 2, 2], "log terms after AppendEntries of [2, 2] after 2/1");
    assert_eq!(
        sent(&mut node),
        vec![(1, ok(2, 4))],
        "the reply covers prev_log_index 2 plus 2 entries"
    );
}

/// If the follower does not find an entry at `prev_log_index` with `prev_log_term`, it refuses
/// the new entries, keeps its log, and says where its log parts from the leader's: the term
/// it holds there and the first index of that term, or where its log ends (§5.3).
#[rstest]
#[case::log_too_short(&[1], (3, 1), hint(None, 2))]
#[case::empty_log(&[], (2, 1), hint(None, 1))]
#[case::other_term_at_prev(&[1, 2, 2, 2], (4, 3), hint(Some(2), 2))]
#[case::other_term_from_the_first_entry(&[2, 2, 2], (3, 3), hint(Some(2), 1))]
#[case::other_term_after_matching_ones(&[1, 1, 4, 4, 4], (4, 5), hint(Some(4), 3))]
fn follower_refuses_a_mismatch_with_a_conflict_hint(
    #[case] log: &[Term],
    #[case] prev: (Index, Term),
    #[case] expected: Option<Conflict>,
) {
    let mut node = follower(2, &[1, 3], 5, log);
    node.step(1, append(5, prev, &[5], 0));
    assert_eq!(
        sent(&mut node),
        vec![(1, refused(5, prev.0, expected))],
        "a follower with log terms {log:?} got AppendEntries after {prev:?}"
    );
    assert_eq!(terms(&node), log.to_vec(), "a refused AppendEntries must not change the log");
}

/// When an existing entry conflicts with a new one (same index, different terms), the follower
/// deletes it and all that follow it, then appends the new entries (Figure 2, receiver rule 3).
#[test]
fn follower_replaces_conflicting_entries() {
    let mut node = follower(2, &[1, 3], 3, &[1, 1, 2, 2]);
    node.step(1, append(3, (1, 1), &[1, 3], 0));
    assert_eq!(terms(&node), vec![1, 1, 3], "index 3 conflicted (term 2, then 3)");
    assert_eq!(
        sent(&mut node),
        vec![(1, ok(3, 3))],
        "the reply covers prev_log_index 1 plus 2 entries"
    );
}

/// Only conflicting entries are deleted: a late or duplicated AppendEntries whose entries the
/// follower already holds keeps the entries after them, which the leader may already count as
/// stored (§5.3; Figure 2, receiver rule 3: "if an existing entry conflicts").
#[test]
fn follower_keeps_later_entries_on_a_stale_append() {
    let mut node = follower(2, &[1, 3], 1, &[1, 1, 1]);
    node.step(1, append(1, (0, 0), &[1], 0));
    assert_eq!(terms(&node), vec![1, 1, 1], "entries 2 and 3 must survive a stale request");
    assert_eq!(sent(&mut node), vec![(1, ok(1, 1))], "the reply covers what the request carried");
}

/// A follower sets its commit index to `min(leader_commit, index of last new entry)`: the
/// leader vouches only for the entries up to those it sent; anything after them may be an old
/// leader's and differ from the leader's log (Figure 2, receiver rule 5; §5.3).
#[rstest]
#[case::leader_commit_below_the_new_entries(&[1, 1], (2, 1), &[1, 1], 3, 3)]
#[case::leader_commit_past_the_new_entries(&[1, 1], (2, 1), &[1, 1], 10, 4)]
#[case::heartbeat_does_not_vouch_for_later_entries(&[1, 1, 1, 1, 1], (2, 1), &[], 5, 2)]
#[case::nothing_committed_yet(&[1], (1, 1), &[1], 0, 0)]
fn follower_commits_up_to_what_the_leader_vouched_for(
    #[case] log: &[Term],
    #[case] prev: (Index, Term),
    #[case] entries: &[Term],
    #[case] leader_commit: Index,
    #[case] expected: Index,
) {
    let mut node = follower(2, &[1, 3], 1, log);
    node.step(1, append(1, prev, entries, leader_commit));
    assert_eq!(
        node.status().commit_index,
        expected,
        "commit_index of the follower: log {log:?}, AppendEntries after {prev:?} with \
         {entries:?}, leader_commit {leader_commit}"
    );
}

/// `commit_index` never decreases (Figure 2): a late AppendEntries with an older
/// `leader_commit` leaves it where it is.
#[test]
fn follower_commit_index_never_moves_back() {
    let mut node = follower(2, &[1, 3], 1, &[1, 1, 1]);
    node.step(1, append(1, (3, 1), &[], 3));
    node.step(1, append(1, (3, 1), &[], 1));
    assert_eq!(
        node.status().commit_index,
        3,
        "commit_index: a stale leader_commit of 1 arrived after 3"
    );
}

/// A follower's election timer restarts on every AppendEntries of the current leader, whether
/// or not the consistency check succeeds: the leader is alive and repairing this log, and a
/// follower that times out instead would depose it (§5.2, §5.3).
#[test]
fn follower_restarts_its_timer_even_when_it_refuses_entries() {
    let mut node = follower(2, &[1, 3], 1, &[1]);
    for _ in 0..2 * T {
        node.tick();
        node.step(1, append(1, (5, 1), &[1], 0));
        sent(&mut node);
    }
    for _ in 0..T - 1 {
        node.tick();
    }
    assert_eq!(
        (node.status().term, node.state().role.name()),
        (1, "follower"),
        "refused AppendEntries from the leader every tick for 2T ticks, then T - 1 quiet \
         ticks: the timer must have restarted at each of them"
    );
}

/// A candidate that receives an AppendEntries of its own term from the leader steps down and
/// stores the entries like any follower (§5.2, §5.3).
#[test]
fn candidate_steps_down_and_stores_the_entries_of_the_leader() {
    let mut node = follower(2, &[1, 3], 1, &[1]);
    while node.status().term == 1 {
        node.tick();
    }
    sent(&mut node);
    node.step(1, append(2, (1, 1), &[2], 0));
    assert_eq!(
        node.state().role,
        Role::Follower { leader: Some(1) },
        "a candidate of term 2 got AppendEntries of term 2 from leader 1 (§5.2)"
    );
    assert_eq!(terms(&node), vec![1, 2], "log terms after AppendEntries of [2] after 1/1");
    assert_eq!(
        sent(&mut node),
        vec![(1, ok(2, 2))],
        "the reply covers prev_log_index 1 plus 1 entry"
    );
}

// ---------------------------------------------------------------------------------------------
// §5.3: the leader's `next_index` and `match_index`.

/// On success, the leader sets the follower's `match_index` from the reply, which says what
/// *that request* covered, and `next_index` just after it; not from its own log, which may
/// have grown since the request left (§5.3).
#[test]
fn match_index_comes_from_the_reply_not_the_leaders_log() {
    let mut node = leader(1, &[], &[2, 3]);
    for command in ["a", "b", "c"] {
        node.propose(command.to_string()).expect("node 1 leads");
    }
    sent(&mut node);
    node.step(2, ok(1, 1));
    assert_eq!(progress(&node, 2), (2, 1), "(next, match) of node 2 after it acknowledged 1");
}

/// Replies arrive late, reordered and duplicated: a stale success never lowers `match_index`
/// or `next_index`, and a refusal of an older request changes nothing and sends nothing (§5.3).
#[test]
fn stale_and_duplicated_replies_change_nothing() {
    let mut node = leader(1, &[], &[2, 3]);
    for command in ["a", "b", "c"] {
        node.propose(command.to_string()).expect("node 1 leads");
    }
    sent(&mut node);
    node.step(2, ok(1, 3));
    node.step(2, ok(1, 1));
    node.step(2, ok(1, 3));
    assert_eq!(progress(&node, 2), (4, 3), "a late ok(1) and a duplicated ok(3) after ok(3)");
    node.step(2, refused(1, 0, hint(None, 1)));
    assert_eq!(progress(&node, 2), (4, 3), "a refusal of the request sent from next_index 1");
    assert_eq!(sent(&mut node), vec![], "a stale refusal must not trigger a resend");
}

/// Whatever order replies come in, after each one the leader keeps its promises for every
/// follower: `match_index < next_index <= last_index + 1`, and `match_index` never moves back
/// (Figure 2: it "increases monotonically"), nor does `next_index` on a success. Each reply of
/// node 2 is followed by the `(next_index, match_index)` it must leave. The leader of term 2
/// starts with a log of `[1, 1, 1]` and node 2 at `(4, 0)` (§5.3).
#[rstest]
#[case::late_successes_after_a_later_one(&[
    (ok(2, 3), (4, 3)), (ok(2, 1), (4, 3)), (ok(2, 2), (4, 3)), (ok(2, 3), (4, 3)),
])]
#[case::a_low_success_first(&[(ok(2, 1), (4, 1)), (ok(2, 2), (4, 2)), (ok(2, 3), (4, 3))])]
#[case::refusal_then_duplicated_successes_and_refusal(&[
    (refused(2, 3, hint(None, 2)), (2, 0)),
    (ok(2, 3), (4, 3)),
    (ok(2, 3), (4, 3)),
    (refused(2, 3, hint(None, 2)), (4, 3)),
    (ok(2, 1), (4, 3)),
])]
#[case::refusals_of_older_requests_after_a_success(&[
    (refused(2, 3, hint(None, 1)), (1, 0)),
    (ok(2, 2), (3, 2)),
    (refused(2, 1, hint(None, 1)), (3, 2)),
    (ok(2, 1), (3, 2)),
])]
fn no_reply_moves_the_leaders_progress_back(#[case] replies: &[(Message, (Index, Index))]) {
    let mut node = leader(2, &[1, 1, 1], &[2, 3]);
    let last = node.state().log.last_index();
    let all: Vec<String> = replies.iter().map(|(reply, _)| reply.to_string()).collect();
    for (step, (reply, expected)) in replies.iter().enumerate() {
        node.step(2, reply.clone());
        sent(&mut node);
        let (next, matched) = progress(&node, 2);
        let after = format!("after reply {} ({reply}) of {all:?}", step + 1);
        assert!(
            matched < next && next <= last + 1,
            "{after}: match_index {matched} < next_index {next} <= last_index {last} + 1 must \
             hold (the invariants of replication.rs, §5.3)"
        );
        assert_eq!(
            (next, matched),
            *expected,
            "(next, match) of node 2 {after}: a late, duplicated or reordered reply must not \
             move them back (§5.3)"
        );
    }
}

/// After a refusal, the leader decrements `next_index` and retries at once (§5.3); with the
/// follower's hint it skips every entry of the conflicting term in one step, to just after its
/// own last entry of that term if it has one. It never goes at or below `match_index`, which
/// the follower is known to hold, nor below 1.
#[rstest]
#[case::no_hint_one_entry_back(None, 0, 10)]
#[case::log_ends_early(hint(None, 5), 0, 5)]
#[case::term_the_leader_lacks(hint(Some(2), 2), 0, 2)]
#[case::term_the_leader_holds(hint(Some(4), 4), 0, 6)]
#[case::term_the_leader_holds_later(hint(Some(5), 6), 0, 8)]
#[case::never_at_or_below_match_index(hint(None, 1), 3, 4)]
#[case::never_below_one(hint(None, 1), 0, 1)]
fn refusal_moves_next_index_back_a_term_at_a_time(
    #[case] conflict: Option<Conflict>,
    #[case] matched: Index,
    #[case] expected: Index,
) {
    // The leader of Figure 7, in term 8.
    let mut node = leader(8, &[1, 1, 1, 4, 4, 5, 5, 6, 6, 6], &[2, 3]);
    if matched > 0 {
        // Node 2 acknowledged the first `matched` entries once (the leader then had next 11).
        node.step(2, ok(8, matched));
        node.step(2, refused(8, 10, None));
        sent(&mut node);
    }
    let (next, _) = progress(&node, 2);
    node.step(2, refused(8, next - 1, conflict));
    assert_eq!(progress(&node, 2).0, expected, "next_index after a refusal with {conflict:?}");
    let retry = appends(sent(&mut node));
    assert_eq!(retry.len(), 1, "one retry, at once, to node 2: {retry:?}");
    assert_eq!(
        (retry[0].0, retry[0].1.prev_log_index),
        (2, expected - 1),
        "(to, prev_log_index) of the retry: next_index - 1"
    );
}

// ---------------------------------------------------------------------------------------------
// §5.3, §5.4.2: commitment.

/// A log entry is committed once the leader that created it has replicated it on a majority of
/// the servers (the leader itself counted once); the leader includes the new commit index in
/// its next AppendEntries, so that the followers find out (§5.3).
#[rstest]
#[case::three_nodes_one_ack_commits(&[2, 3], &[2], 1)]
#[case::three_nodes_no_ack(&[2, 3], &[], 0)]
#[case::five_nodes_one_ack(&[2, 3, 4, 5], &[2], 0)]
#[case::five_nodes_two_acks_commit(&[2, 3, 4, 5], &[2, 4], 1)]
#[case::five_nodes_duplicated_ack_counts_once(&[2, 3, 4, 5], &[2, 2], 0)]
#[case::four_nodes_one_ack_is_half(&[2, 3, 4], &[2], 0)]
#[case::four_nodes_two_acks_commit(&[2, 3, 4], &[2, 3], 1)]
fn leader_commits_once_a_majority_stores_the_entry(
    #[case] peers: &[NodeId],
    #[case] acks: &[NodeId],
    #[case] expected: Index,
) {
    let mut node = leader(1, &[], peers);
    node.propose("x".to_string()).expect("node 1 leads");
    sent(&mut node);
    for &peer in acks {
        node.step(peer, ok(1, 1));
    }
    assert_eq!(
        node.status().commit_index,
        expected,
        "commit_index with {} nodes, acks {acks:?}",
        peers.len() + 1
    );
    for _ in 0..HEARTBEAT {
        node.tick();
    }
    for (to, request) in appends(sent(&mut node)) {
        assert_eq!(
            request.leader_commit, expected,
            "leader_commit: the heartbeat to node {to} tells the commit"
        );
    }
}

/// Committing an entry also commits all preceding entries in the leader's log, including
/// entries created by previous leaders (§5.3).
#[test]
fn leader_commits_the_entries_before_a_committed_one() {
    let mut node = leader(2, &[1, 1], &[2, 3]);
    node.propose("x".to_string()).expect("node 1 leads");
    sent(&mut node);
    node.step(3, ok(2, 3));
    assert_eq!(
        node.status().commit_index,
        3,
        "commit_index: node 3 acknowledged index 3 (term 2), a majority of 3 holds it"
    );
    assert_eq!(
        applied_indexes(&node.take_committed()),
        vec![1, 2, 3],
        "committing index 3 commits 1 and 2 before it"
    );
}

/// Raft never commits log entries from previous terms by counting replicas: only an entry of
/// the leader's current term is committed that way, and the older ones then with it (§5.4.2,
/// Figure 8).
#[test]
fn leader_never_commits_an_entry_of_an_earlier_term_by_counting_replicas() {
    // Figure 8 (c): S1 leads term 4 with the entry of term 2 at index 2, not yet committed.
    let mut node = leader(4, &[1, 2], &[2, 3, 4, 5]);
    node.step(2, ok(4, 2));
    node.step(3, ok(4, 2));
    assert_eq!(
        node.status().commit_index,
        0,
        "commit_index: index 2 (term 2) is on 3 of 5 servers, but its term is not the leader's term 4"
    );
    node.propose("x".to_string()).expect("node 1 leads");
    node.step(2, ok(4, 3));
    node.step(3, ok(4, 3));
    assert_eq!(
        node.status().commit_index,
        3,
        "commit_index: index 3 (term 4) on a majority commits 1..=3"
    );
}

/// One input to the leader in [`leader_checks_the_term_of_the_entry_a_majority_stores`].
#[derive(Clone, Copy, Debug)]
enum Input {
    /// A client's command: a new entry of the leader's term at the end of its log.
    Propose,
    /// Follower `.0` acknowledges the leader's log up to index `.1` (a successful reply).
    Ack(NodeId, Index),
}
use Input::{Ack, Propose};

/// The commit rule looks at one entry: the one at `N`, the largest index a majority stores.
/// An old term's entry there is not committed by counting, even when the leader's *last*
/// entry, the furthest one acknowledged, or the one the latest reply covers is of its term:
/// a leader keeps taking proposals while old entries are being acknowledged, so its log ends
/// in its own term long before `N` gets there (§5.4.2, Figure 8; Figure 2, Rules for Leaders:
/// "a majority of matchIndex[i] ≥ N, and log[N].term == currentTerm"). Each input is followed
/// by the `commit_index` it must leave.
#[rstest]
#[case::figure_8_c_proposal_before_the_old_entry_is_acknowledged(4, &[1, 2], 5, &[
    (Propose, 0), (Ack(2, 2), 0), (Ack(3, 2), 0), (Ack(2, 3), 0), (Ack(3, 3), 3),
])]
#[case::figure_8_c_proposal_after_the_old_entry_is_on_a_majority(4, &[1, 2], 5, &[
    (Ack(2, 2), 0), (Ack(3, 2), 0), (Propose, 0), (Ack(2, 3), 0), (Ack(3, 3), 3),
])]
#[case::proposals_pile_up_while_old_entries_are_acknowledged(3, &[1, 1, 2], 3, &[
    (Propose, 0), (Propose, 0), (Ack(2, 2), 0), (Ack(2, 3), 0), (Ack(2, 4), 4), (Ack(3, 5), 5),
])]
#[case::latest_ack_covers_a_new_entry_the_majority_only_an_old_one(4, &[1, 2, 2], 5, &[
    (Propose, 0), (Ack(3, 3), 0), (Ack(2, 4), 0), (Ack(4, 3), 0), (Ack(5, 4), 4),
])]
#[case::furthest_ack_is_new_the_majority_index_old_four_nodes(3, &[1, 2], 4, &[
    (Propose, 0), (Ack(4, 3), 0), (Ack(2, 2), 0), (Ack(3, 2), 0), (Ack(2, 3), 3),
])]
#[case::own_entries_commit_as_they_reach_a_majority(2, &[1], 3, &[
    (Propose, 0), (Ack(2, 2), 2), (Propose, 2), (Ack(3, 1), 2), (Ack(3, 3), 3),
])]
fn leader_checks_the_term_of_the_entry_a_majority_stores(
    #[case] term: Term,
    #[case] log: &[Term],
    #[case] nodes: NodeId,
    #[case] inputs: &[(Input, Index)],
) {
    let peers: Vec<NodeId> = (2..=nodes).collect();
    let mut node = leader(term, log, &peers);
    for (step, &(input, expected)) in inputs.iter().enumerate() {
        match input {
            Propose => {
                node.propose(format!("p{step}")).expect("node 1 leads");
            }
            Ack(peer, index) => node.step(peer, ok(term, index)),
        }
        sent(&mut node);
        let matched: Vec<Index> = peers.iter().map(|&peer| progress(&node, peer).1).collect();
        assert_eq!(
            node.status().commit_index,
            expected,
            "commit_index of the leader of term {term} ({nodes} servers) after input {} of \
             {inputs:?}: its log terms are {:?}, its match_index {matched:?} for {peers:?}; \
             only the entry at the largest index a majority stores counts, and only if it is \
             of term {term} (§5.4.2)",
            step + 1,
            terms(&node),
        );
    }
}

/// A follower applies what it learns is committed, in log order, each entry once; the node
/// hands out each committed entry exactly once (Figure 2, Rules for Servers; §5.3).
#[test]
fn committed_entries_are_handed_out_once_in_order() {
    let mut node = follower(2, &[1, 3], 1, &[1, 1, 1, 1]);
    assert_eq!(node.take_committed(), vec![], "nothing committed yet");
    node.step(1, append(1, (4, 1), &[], 2));
    let applied = node.take_committed();
    let expected: Vec<Applied<String>> =
        (1..=2).map(|index| Applied { index, term: 1, command: command(index, 1) }).collect();
    assert_eq!(
        applied, expected,
        "leader_commit 2 on a log of 4 entries: indexes 1 and 2, in order"
    );
    assert_eq!(node.take_committed(), vec![], "handed out once");
    node.step(1, append(1, (4, 1), &[], 4));
    assert_eq!(
        applied_indexes(&node.take_committed()),
        vec![3, 4],
        "leader_commit 4: the rest, 3 and 4, once each"
    );
}

/// A leader alone in its cluster is its own majority: its proposals commit at once (§5.3).
#[test]
fn single_node_leader_commits_at_once() {
    harness::watchdog::watch_this_test();
    let mut node = RaftNode::new(1, vec![], config(), Rng::new(1));
    while node.state().role.name() != "leader" {
        node.tick();
    }
    assert_eq!(
        node.propose("x".to_string()),
        Ok((1, 1)),
        "propose(\"x\") on the only node, leader of term 1"
    );
    assert_eq!(
        node.status().commit_index,
        1,
        "commit_index: one node is a majority of one, its own entry commits at once"
    );
    assert_eq!(
        applied_indexes(&node.take_committed()),
        vec![1],
        "the committed entry is handed out"
    );
}

// ---------------------------------------------------------------------------------------------
// Figure 7: a leader brings any follower's log to its own.

/// When the leader of Figure 7 comes to power, each follower (a)–(f) may miss entries, hold
/// extra uncommitted ones, or both. The leader finds, for each, the latest index where their
/// logs agree, the follower deletes what follows and takes the leader's entries; with the
/// conflict hints this takes a round trip per conflicting term, not per entry (§5.3,
/// Figure 7).
#[rstest]
#[case::a_missing_one(&[1, 1, 1, 4, 4, 5, 5, 6, 6], 1)]
#[case::b_missing_many(&[1, 1, 1, 4], 1)]
#[case::c_one_extra(&[1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6], 0)]
#[case::d_extra_of_a_later_term(&[1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7], 0)]
#[case::e_extra_and_missing(&[1, 1, 1, 4, 4, 4, 4], 2)]
#[case::f_many_terms_of_extras(&[1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3], 2)]
fn figure_7_followers_converge_to_the_leaders_log(
    #[case] follower_log: &[Term],
    #[case] max_refusals: usize,
) {
    let leader_log = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
    let mut leader = leader(8, &leader_log, &[2, 3]);
    let mut node = follower(2, &[1, 3], 7, follower_log);
    leader.propose("x".to_string()).expect("node 1 leads");
    let mut refusals = 0;
    let mut round_trips = 0;
    loop {
        let requests: Vec<Message> =
            sent(&mut leader).into_iter().filter(|(to, _)| *to == 2).map(|(_, m)| m).collect();
        if requests.is_empty() {
            break;
        }
        round_trips += 1;
        assert!(round_trips <= 20, "no convergence after 20 round trips");
        for request in requests {
            node.step(1, request);
        }
        for (to, reply) in sent(&mut node) {
            assert_eq!(to, 1, "node 2 answers the leader");
            if let Message::AppendEntriesReply(AppendEntriesReply { success: false, .. }) = reply {
                refusals += 1;
            }
            leader.step(2, reply);
        }
    }
    assert_eq!(terms(&node), terms(&leader), "follower {follower_log:?} after {round_trips} trips");
    assert_eq!(node.state().log, leader.state().log, "same entries, commands included");
    assert!(
        refusals <= max_refusals,
        "{refusals} refusals for follower {follower_log:?}; the conflict hints allow \
         {max_refusals} (one per conflicting term, §5.3)"
    );
    assert_eq!(progress(&leader, 2), (12, 11), "(next, match) of node 2 once it caught up");
}
