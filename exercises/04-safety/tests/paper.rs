//! Stable storage and restarts, one node at a time (§5.1, Figure 2).
//!
//! Each test drives a node with messages and proposals, and checks what it hands to stable
//! storage (`take_persist`) and what it comes back with after a crash (`restart`). A disk here
//! is a `PersistentState` that the node's writes are applied to, as the harness does.
//! Suggested order: `first_difference`, then `take_persist`, then `restart`.

use data_structures::{
    AppendEntries, AppendEntriesReply, Index, Log, LogEntry, Message, NodeId, PersistentState,
    RequestVote, RequestVoteReply, StorageWrite, Term,
};
use harness::{Config, Node, Persist, Replicate, Rng, Status};
use pretty_assertions::assert_eq;
use rstest::rstest;
use safety::persistence::first_difference;

/// The node, watched call by call: a call that never returns ends the test with a report
/// naming the node and the call (`harness::watchdog`).
type RaftNode = harness::watchdog::WatchedNode<safety::RaftNode>;

const T: u64 = 20;

// ---------------------------------------------------------------------------------------------
// Helpers: a node and its disk.

/// A node and the disk its writes go to, as the harness keeps them.
struct Server {
    node: RaftNode,
    disk: PersistentState,
}

impl Server {
    /// A fresh node `id` among `peers`, with a blank disk.
    fn new(id: NodeId, peers: &[NodeId]) -> Self {
        harness::watchdog::watch_this_test();
        let node = RaftNode::new(id, peers.to_vec(), Config::default(), Rng::new(id));
        let mut server = Server { node, disk: PersistentState::default() };
        server.persist();
        server
    }

    /// Carries out the node's writes on the disk; returns them.
    fn persist(&mut self) -> Vec<StorageWrite> {
        let writes = self.node.take_persist();
        for write in &writes {
            RaftNode::apply_write(&mut self.disk, write.clone());
        }
        writes
    }

    /// Hands the node `message` from `from`; carries out its writes; returns what it sent.
    fn step(&mut self, from: NodeId, message: Message) -> Vec<(NodeId, Message)> {
        self.node.step(from, message);
        self.persist();
        self.sent()
    }

    fn sent(&mut self) -> Vec<(NodeId, Message)> {
        let envelopes = self.node.take_messages();
        envelopes.into_iter().map(|envelope| (envelope.to, envelope.message)).collect()
    }

    /// The node crashes and restarts from its disk, with a fresh generator.
    fn crash_and_restart(&mut self) {
        let (id, peers) = (self.node.id(), peers_of(&self.node));
        self.node =
            RaftNode::restart(id, peers, Config::default(), Rng::new(id + 100), self.disk.clone());
    }

    /// Ticks until the node's term changes: it started an election.
    fn time_out(&mut self) {
        let term = self.node.status().term;
        for _ in 0..2 * T {
            self.node.tick();
            if self.node.status().term != term {
                self.persist();
                self.sent();
                return;
            }
        }
        panic!("node {} did not start an election within 2T = {} ticks", self.node.id(), 2 * T);
    }
}

fn peers_of(node: &RaftNode) -> Vec<NodeId> {
    (1..=3).filter(|&peer| peer != node.id()).collect()
}

fn entries(first: Index, terms: &[Term]) -> Vec<LogEntry> {
    terms
        .iter()
        .zip(first..)
        .map(|(&term, index)| LogEntry::new(term, format!("e{index}t{term}")))
        .collect()
}

fn log_of(terms: &[Term]) -> Log {
    Log::from_entries(entries(1, terms))
}

fn append(term: Term, prev: (Index, Term), terms: &[Term], leader_commit: Index) -> Message {
    Message::AppendEntries(AppendEntries {
        term,
        leader_id: 1,
        prev_log_index: prev.0,
        prev_log_term: prev.1,
        entries: entries(prev.0 + 1, terms),
        leader_commit,
    })
}

/// A RequestVote from a candidate whose log ends at `last` (index, term).
fn request_vote(term: Term, candidate_id: NodeId, last: (Index, Term)) -> Message {
    let (last_log_index, last_log_term) = last;
    Message::RequestVote(RequestVote { term, candidate_id, last_log_index, last_log_term })
}

fn vote(term: Term, vote_granted: bool) -> Message {
    Message::RequestVoteReply(RequestVoteReply { term, vote_granted })
}

fn ok(term: Term, match_index: Index) -> Message {
    let reply = AppendEntriesReply { term, success: true, match_index, conflict: None };
    Message::AppendEntriesReply(reply)
}

fn hard_state(current_term: Term, voted_for: Option<NodeId>) -> StorageWrite {
    StorageWrite::HardState { current_term, voted_for }
}

// ---------------------------------------------------------------------------------------------
// Where two logs part: the length of a write, not of the log.

/// The first index where a new log differs from the stored one, found from the end: by Log
/// Matching, an entry of the same index and term in both logs is preceded by the same entries
/// (§5.3), so nothing before it needs writing again.
#[rstest]
#[case::same_log(&[1, 1, 2], &[1, 1, 2], 4)]
#[case::entries_appended(&[1, 1], &[1, 1, 2, 2], 3)]
#[case::blank_disk(&[], &[1, 1], 1)]
#[case::conflict_replaced(&[1, 1, 2, 2], &[1, 1, 3], 3)]
#[case::conflict_replaced_by_a_longer_suffix(&[1, 2], &[1, 3, 3, 3], 2)]
#[case::everything_replaced(&[2, 2], &[3], 1)]
#[case::truncated_to_a_prefix(&[1, 1, 2, 2], &[1, 1], 3)]
fn first_difference_is_where_the_logs_part(
    #[case] stored: &[Term],
    #[case] new: &[Term],
    #[case] expected: Index,
) {
    assert_eq!(
        first_difference(&log_of(stored), &log_of(new)),
        expected,
        "stored log terms {stored:?}, new log terms {new:?}"
    );
}

/// Walking back from the end, the search ends at the first index where both logs hold the same
/// term: by Log Matching the entries before it are the same (§5.3), so it never looks there,
/// and a write costs the change, not the log. These logs of 10,000 shared entries differ once
/// *before* the last shared one, at `planted` (impossible in Raft; built so to see where the
/// search looked): the answer is still just past the shared entries. A search from the front,
/// or one that reads every index, finds the planted difference instead.
#[rstest]
#[case::at_the_first_entry(1)]
#[case::in_the_middle(5_000)]
#[case::just_before_the_last_shared_entry(9_999)]
fn first_difference_looks_no_further_back_than_the_last_shared_term(#[case] planted: Index) {
    let shared: Index = 10_000;
    // Stored: term 1 before `planted`, 2 from it on. New: term 1 up to `planted`, 2 after it.
    let stored: Vec<Term> = (1..=shared).map(|index| if index < planted { 1 } else { 2 }).collect();
    let mut new: Vec<Term> =
        (1..=shared).map(|index| if index <= planted { 1 } else { 2 }).collect();
    new.extend([3, 3]);
    assert_eq!(
        first_difference(&log_of(&stored), &log_of(&new)),
        shared + 1,
        "stored log: {shared} entries, term 2 from index {planted} on; new log: the same with \
         term 1 at {planted}, then 2 entries of term 3. Both hold term 2 at index {shared}: the \
         search stops there and never reaches index {planted} (§5.3)"
    );
}

/// What the search costs does not grow with the log: it reads from the end back to the first
/// shared term. Here the logs start after a snapshot through index 2^40 (stage 5's compaction,
/// stage 1's `Log::after_snapshot`), so a search that reads every index from 1 would take
/// hours; the watchdog ends it after 30 seconds (`RAFT_WATCHDOG`), naming this test. The
/// reference reads three indexes (§5.1, §5.3).
#[test]
fn first_difference_costs_the_change_not_the_log() {
    harness::watchdog::watch_this_test();
    let start: Index = 1 << 40;
    let stored = Log::after_snapshot(start, 1, entries(start + 1, &[1, 1, 2]));
    let new = Log::after_snapshot(start, 1, entries(start + 1, &[1, 1, 3, 3]));
    assert_eq!(
        first_difference(&stored, &new),
        start + 3,
        "logs after a snapshot through {start} (term 1): stored terms [1, 1, 2], new terms \
         [1, 1, 3, 3] after it"
    );
}

// ---------------------------------------------------------------------------------------------
// §5.1, Figure 2: what is written, and when.

/// A fresh node has nothing to write, and a node writes nothing when nothing persistent
/// changed (§5.1).
#[test]
fn nothing_changed_nothing_written() {
    let mut server = Server::new(1, &[2, 3]);
    assert_eq!(server.node.take_persist(), vec![], "a fresh node, before any input");
    server.node.tick();
    assert_eq!(server.node.take_persist(), vec![], "one tick changes no persistent state");
}

/// A candidate writes its new term and its vote for itself before its RequestVotes leave: the
/// writes come out of the same input as the messages (§5.1, §5.2).
#[test]
fn candidate_writes_its_term_and_vote_with_its_request_votes() {
    let mut server = Server::new(1, &[2, 3]);
    let term = server.node.status().term;
    for _ in 0..2 * T {
        server.node.tick();
        if server.node.status().term != term {
            break;
        }
    }
    assert_eq!(
        server.node.take_persist(),
        vec![hard_state(1, Some(1))],
        "term 1, voted for itself"
    );
}

/// A server writes the vote it grants before the reply leaves: a vote forgotten in a crash could
/// be given twice in one term (§5.1, §5.2).
#[test]
fn granted_vote_is_written() {
    let mut server = Server::new(2, &[1, 3]);
    server.node.step(1, request_vote(4, 1, (0, 0)));
    assert_eq!(
        server.node.take_persist(),
        vec![hard_state(4, Some(1))],
        "term 4 and the vote for 1"
    );
    assert_eq!(server.sent(), vec![(1, vote(4, true))]);
}

/// A vote granted in the term the server already holds is written too: the term did not
/// change, the vote did (§5.1, §5.2).
#[test]
fn vote_in_the_current_term_is_written() {
    let mut server = Server::new(2, &[1, 3]);
    server.step(1, append(4, (0, 0), &[], 0));
    assert_eq!(server.node.take_persist(), vec![], "term 4 from the leader, already written");
    server.node.step(3, request_vote(4, 3, (0, 0)));
    let writes = server.node.take_persist();
    assert_eq!(writes, vec![hard_state(4, Some(3))], "the vote for 3 in term 4, which it held");
}

/// A new term clears the vote, and the write says so (§5.1).
#[test]
fn newer_term_writes_the_term_and_no_vote() {
    let mut server = Server::new(2, &[1, 3]);
    server.step(1, request_vote(4, 1, (0, 0)));
    server.node.step(3, append(6, (0, 0), &[], 0));
    assert_eq!(
        server.node.take_persist(),
        vec![hard_state(6, None)],
        "term 6 from the leader, no vote yet"
    );
}

/// A follower writes the entries it stores before it acknowledges them; only the new entries,
/// not the whole log (§5.1, §5.3).
#[test]
fn stored_entries_are_appended() {
    let mut server = Server::new(2, &[1, 3]);
    server.step(1, append(1, (0, 0), &[1, 1], 0));
    server.node.step(1, append(1, (2, 1), &[1], 0));
    let expected = vec![StorageWrite::AppendLog { entries: entries(3, &[1]) }];
    assert_eq!(server.node.take_persist(), expected, "the one new entry at index 3");
    assert_eq!(server.sent(), vec![(1, ok(1, 3))]);
}

/// A conflict is written as it happened: the log truncated from the first conflicting index,
/// then the leader's entries (§5.3, Figure 2 receiver rule 3).
#[test]
fn replaced_entries_are_written_as_a_truncation_then_an_append() {
    let mut server = Server::new(2, &[1, 3]);
    server.step(1, append(1, (0, 0), &[1, 1], 0));
    server.step(3, append(2, (2, 1), &[2, 2], 0));
    server.node.step(1, append(3, (1, 1), &[1, 3], 0));
    let expected = vec![
        hard_state(3, None),
        StorageWrite::TruncateLog { from: 3 },
        StorageWrite::AppendLog { entries: entries(3, &[3]) },
    ];
    assert_eq!(server.node.take_persist(), expected, "term 3; index 3 conflicted; one entry after");
}

/// A leader writes each new entry once, whatever the length of its log: a write costs what it
/// carries (§5.1).
#[test]
fn proposal_writes_one_entry_however_long_the_log() {
    let mut server = Server::new(1, &[2, 3]);
    server.step(2, append(1, (0, 0), &vec![1; 1_000], 0));
    server.time_out();
    server.step(2, vote(2, true));
    server.node.propose("x".to_string()).expect("node 1 leads term 2");
    let expected = vec![StorageWrite::AppendLog { entries: vec![LogEntry::new(2, "x")] }];
    assert_eq!(server.node.take_persist(), expected, "one entry after 1,000 stored ones");
}

/// Whatever the node does, its writes applied in order rebuild its persistent state exactly:
/// the disk never lags behind what the node's messages promise (§5.1).
#[test]
fn writes_rebuild_the_persistent_state() {
    let mut server = Server::new(2, &[1, 3]);
    let inputs = [
        (1, append(1, (0, 0), &[1, 1, 1], 1)),
        (3, request_vote(2, 3, (0, 0))),
        (3, append(2, (2, 1), &[2, 2], 2)),
        (1, append(1, (3, 1), &[1], 3)),
        (1, append(3, (1, 1), &[3], 1)),
        (3, append(4, (2, 3), &[4, 4, 4], 2)),
        (3, append(4, (0, 0), &[3], 2)),
    ];
    for (from, message) in inputs {
        server.step(from, message.clone());
        let state = server.node.state();
        let expected = PersistentState {
            current_term: state.current_term,
            voted_for: state.voted_for,
            log: state.log.clone(),
            snapshot: state.snapshot.clone(),
        };
        assert_eq!(server.disk, expected, "the disk after {message}");
    }
}

// ---------------------------------------------------------------------------------------------
// Figure 2: restart.

/// A server that restarts comes back with the term, vote and log it wrote, as a follower with
/// nothing committed: `commit_index`, `last_applied` and leader state are volatile (Figure 2).
#[test]
fn restarted_node_is_a_follower_with_its_term_vote_and_log() {
    let mut server = Server::new(2, &[1, 3]);
    server.step(1, append(3, (0, 0), &[1, 3], 2));
    server.step(3, request_vote(5, 3, (2, 3)));
    server.crash_and_restart();
    let status = Status {
        term: 5,
        role: harness::Role::Follower,
        voted_for: Some(3),
        commit_index: 0,
        last_log_index: 2,
        snapshot_index: 0,
    };
    assert_eq!(server.node.status(), status, "after a restart from term 5, vote 3, 2 entries");
    assert_eq!(server.node.state().last_applied, 0, "last_applied is volatile");
    assert_eq!(server.node.take_persist(), vec![], "what it restarted from is already on disk");
}

/// A server that granted its vote and restarts refuses a second candidate of the same term:
/// one vote per term, across crashes (§5.2, §5.1).
#[test]
fn restarted_node_does_not_vote_twice_in_a_term() {
    let mut server = Server::new(2, &[1, 3]);
    assert_eq!(
        server.step(1, request_vote(4, 1, (0, 0))),
        vec![(1, vote(4, true))],
        "the first vote"
    );
    server.crash_and_restart();
    assert_eq!(
        server.step(3, request_vote(4, 3, (0, 0))),
        vec![(3, vote(4, false))],
        "a second candidate of term 4"
    );
    assert_eq!(
        server.step(1, request_vote(4, 1, (0, 0))),
        vec![(1, vote(4, true))],
        "the same candidate again"
    );
}

/// Entries a follower acknowledged are still in its log after a restart: the leader may have
/// counted them towards a commit (§5.3, §5.1).
#[test]
fn acknowledged_entries_survive_a_restart() {
    let mut server = Server::new(2, &[1, 3]);
    let replies = server.step(1, append(1, (0, 0), &[1, 1, 1], 0));
    assert_eq!(replies, vec![(1, ok(1, 3))], "acknowledged up to index 3");
    server.crash_and_restart();
    assert_eq!(
        server.node.state().log,
        log_of(&[1, 1, 1]),
        "the acknowledged entries, after a restart"
    );
    let replies = server.step(1, append(1, (3, 1), &[], 3));
    assert_eq!(replies, vec![(1, ok(1, 3))], "the restarted follower still matches at index 3");
    assert_eq!(
        server.node.status().commit_index,
        3,
        "commit_index: the restarted follower learns it again"
    );
}

/// A restarted node hands committed entries out again from index 1: its state machine is
/// volatile too, and is rebuilt from the log (Figure 2: lastApplied starts at 0).
#[test]
fn restarted_node_applies_again_from_the_start() {
    let mut server = Server::new(2, &[1, 3]);
    server.step(1, append(1, (0, 0), &[1, 1], 2));
    let first: Vec<Index> = server.node.take_committed().iter().map(|a| a.index).collect();
    assert_eq!(first, vec![1, 2], "entries 1 and 2 committed and applied");
    server.crash_and_restart();
    server.step(1, append(1, (2, 1), &[], 2));
    let again: Vec<Index> = server.node.take_committed().iter().map(|a| a.index).collect();
    assert_eq!(again, vec![1, 2], "applied again after the restart, in order");
}
