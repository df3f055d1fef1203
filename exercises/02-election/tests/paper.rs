//! Leader election, one node at a time (§5.1, §5.2, §5.4.1).
//!
//! In the style of etcd's `raft_paper_test.go`: each test builds one node, feeds it ticks and
//! messages, and checks what it sends and what state it is in. Each test's doc line paraphrases
//! the paper and ends with its section.
//!
//! The nodes here use `Config::default()`: an election timeout base T of 20 ticks and a
//! heartbeat every 4 ticks.

use std::collections::BTreeSet;

use data_structures::{
    AppendEntries, AppendEntriesReply, Log, LogEntry, Message, NodeId, PersistentState,
    RequestVote, RequestVoteReply, Role, StorageWrite, Term,
};
use harness::{Config, Node, Persist, Rng, Status};
use pretty_assertions::assert_eq;
use rstest::rstest;

/// The node, watched call by call: a call that never returns ends the test with a report
/// naming the node and the call (`harness::watchdog`).
type RaftNode = harness::watchdog::WatchedNode<election::RaftNode>;

/// The election timeout base T: timeouts are drawn from `[T, 2T)`.
const T: u64 = 20;
/// The leader's heartbeat interval.
const HEARTBEAT: u64 = 4;

// ---------------------------------------------------------------------------------------------
// Helpers: build a node in each role, and write messages tersely.

fn config() -> Config {
    let config = Config::default();
    assert_eq!((config.election_timeout, config.heartbeat_interval), (T, HEARTBEAT));
    config
}

/// A fresh follower `id` in a cluster with `peers`, its timer seeded by `id`.
fn follower(id: NodeId, peers: &[NodeId]) -> RaftNode {
    // A node that never returns from a call ends the test with a report, instead of hanging.
    harness::watchdog::watch_this_test();
    RaftNode::new(id, peers.to_vec(), config(), Rng::new(id))
}

/// A node restarted from `current_term`, no vote and a log with entries of `terms`.
fn restored(id: NodeId, peers: &[NodeId], current_term: Term, terms: &[Term]) -> RaftNode {
    let log = Log::from_entries(terms.iter().map(|&term| LogEntry::new(term, "x")).collect());
    let state = PersistentState { current_term, voted_for: None, log, snapshot: Vec::new() };
    harness::watchdog::watch_this_test();
    RaftNode::restart(id, peers.to_vec(), config(), Rng::new(id), state)
}

/// Ticks `node` until its term changes (it started an election) and returns how many ticks
/// that took. Fails if it takes 2T ticks: the timeout must lie in `[T, 2T)` (§5.2).
fn ticks_to_election(node: &mut RaftNode) -> u64 {
    let term = node.status().term;
    for ticks in 1..=2 * T {
        node.tick();
        if node.status().term != term {
            return ticks;
        }
    }
    panic!(
        "node {} in term {term} did not start an election within 2T = {} ticks; election \
         timeouts are drawn from [T, 2T) = [{T}, {}) (§5.2)",
        node.id(),
        2 * T,
        2 * T
    );
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

/// A candidate of term 1 that has sent its RequestVotes (drained).
fn candidate(id: NodeId, peers: &[NodeId]) -> RaftNode {
    let mut node = follower(id, peers);
    ticks_to_election(&mut node);
    sent(&mut node);
    assert_role(&node, "candidate");
    node
}

/// The leader of term 1, elected by all its peers, with its first heartbeats drained.
fn leader(id: NodeId, peers: &[NodeId]) -> RaftNode {
    let mut node = candidate(id, peers);
    for &peer in peers {
        node.step(peer, vote(1, true));
    }
    sent(&mut node);
    assert_role(&node, "leader");
    node
}

/// A follower of term 1 that has heard from leader 3.
fn follower_of_term_one(id: NodeId, peers: &[NodeId]) -> RaftNode {
    let mut node = follower(id, peers);
    node.step(3, heartbeat(1, 3));
    sent(&mut node);
    node
}

fn assert_role(node: &RaftNode, expected: &str) {
    let state = node.state();
    assert_eq!(
        state.role.name(),
        expected,
        "node {} in term {} has role {:?}",
        state.id,
        state.current_term,
        state.role
    );
}

fn request_vote(term: Term, candidate_id: NodeId, last_log_index: u64, last_term: Term) -> Message {
    Message::RequestVote(RequestVote {
        term,
        candidate_id,
        last_log_index,
        last_log_term: last_term,
    })
}

fn vote(term: Term, vote_granted: bool) -> Message {
    Message::RequestVoteReply(RequestVoteReply { term, vote_granted })
}

/// An empty AppendEntries from `leader_id` whose previous entry is the empty prefix.
fn heartbeat(term: Term, leader_id: NodeId) -> Message {
    append(term, leader_id, 0, 0)
}

fn append(term: Term, leader_id: NodeId, prev_log_index: u64, prev_log_term: Term) -> Message {
    Message::AppendEntries(AppendEntries {
        term,
        leader_id,
        prev_log_index,
        prev_log_term,
        entries: Vec::new(),
        leader_commit: 0,
    })
}

fn append_reply(term: Term, success: bool, match_index: u64) -> Message {
    Message::AppendEntriesReply(AppendEntriesReply { term, success, match_index, conflict: None })
}

/// A role to start a test from, in term 1 with id 1 among peers 2 and 3.
#[derive(Clone, Copy, Debug)]
enum Start {
    Follower,
    Candidate,
    Leader,
}

fn start(role: Start) -> RaftNode {
    match role {
        Start::Follower => follower_of_term_one(1, &[2, 3]),
        Start::Candidate => candidate(1, &[2, 3]),
        Start::Leader => leader(1, &[2, 3]),
    }
}

// ---------------------------------------------------------------------------------------------
// §5.1: roles and terms.

/// When servers start up, they begin as followers, in term 0, having voted for no one (§5.2).
#[test]
fn node_starts_as_follower_in_term_zero() {
    let mut node = follower(1, &[2, 3]);
    let status = Status {
        term: 0,
        role: harness::Role::Follower,
        voted_for: None,
        commit_index: 0,
        last_log_index: 0,
        snapshot_index: 0,
    };
    assert_eq!(
        node.status(),
        status,
        "a fresh node: term 0, a follower, no vote, an empty log (Figure 2)"
    );
    assert_eq!(
        node.state().role,
        Role::Follower { leader: None },
        "a fresh node is a follower that knows no leader (§5.2)"
    );
    assert_eq!(sent(&mut node), vec![], "a fresh node has nothing to say");
    assert_eq!(node.take_persist(), vec![], "a fresh node has nothing new to persist");
}

/// If a server's current term is smaller than the term in any message, it updates its current
/// term to the larger value; a candidate or leader that learns its term is out of date reverts
/// to follower state (§5.1).
#[rstest]
fn node_of_any_role_adopts_a_newer_term_and_becomes_follower(
    #[values(Start::Follower, Start::Candidate, Start::Leader)] role: Start,
    #[values(request_vote(2, 2, 0, 0), vote(2, false), heartbeat(2, 2), append_reply(2, false, 0))]
    message: Message,
) {
    let mut node = start(role);
    node.step(2, message.clone());
    let state = node.state();
    assert_eq!(
        (state.current_term, state.role.name()),
        (2, "follower"),
        "a {role:?} of term 1 got {message:?}"
    );
}

/// A newer term clears the vote: `voted_for` is the vote of `current_term`, and a server that
/// voted in term 1 may vote again in term 2 (§5.1, §5.2).
#[rstest]
fn newer_term_clears_the_vote(
    #[values(Start::Follower, Start::Candidate, Start::Leader)] role: Start,
) {
    let mut node = start(role);
    if let Start::Follower = role {
        node.step(2, request_vote(1, 2, 0, 0));
        assert_eq!(
            node.state().voted_for,
            Some(2),
            "voted_for: the follower should have voted in term 1"
        );
    }
    node.step(2, vote(2, false));
    assert_eq!(
        node.state().voted_for,
        None,
        "voted_for: a {role:?} that voted in term 1 moved to term 2"
    );
    sent(&mut node);
    node.step(3, request_vote(2, 3, 0, 0));
    assert_eq!(sent(&mut node), vec![(3, vote(2, true))], "the vote of term 2 is still free");
}

/// If a server receives a request with a stale term number, it rejects the request, and says
/// its current term so that the sender can update itself (§5.1).
#[rstest]
#[case::request_vote(request_vote(1, 2, 5, 1), vote(2, false))]
#[case::append_entries(append(1, 2, 4, 1), append_reply(2, false, 4))]
fn stale_request_is_rejected_with_the_current_term(
    #[case] request: Message,
    #[case] expected: Message,
) {
    let mut node = follower(1, &[2, 3]);
    node.step(3, heartbeat(2, 3));
    sent(&mut node);
    let before = node.state().clone();
    node.step(2, request.clone());
    assert_eq!(sent(&mut node), vec![(2, expected)], "a follower of term 2 got {request:?}");
    assert_eq!(node.state(), &before, "a stale request must not change the receiver");
}

/// A stale request does not make a leader step down: the sender is the one out of date (§5.1).
#[rstest]
#[case::request_vote(request_vote(0, 2, 9, 9))]
#[case::append_entries(heartbeat(0, 2))]
fn leader_keeps_leading_when_a_stale_request_arrives(#[case] request: Message) {
    let mut node = leader(1, &[2, 3]);
    node.step(2, request.clone());
    assert_role(&node, "leader");
    assert_eq!(
        node.status().term,
        1,
        "the term of a leader of term 1 after {request:?}: a stale request changes nothing (§5.1)"
    );
}

// ---------------------------------------------------------------------------------------------
// §5.2: timeouts, elections and heartbeats.

/// If a follower receives no communication over a period of time called the election timeout,
/// it begins an election: it increments its current term, transitions to candidate, votes for
/// itself and issues RequestVote RPCs, with its last log index and term, to each of the other
/// servers (§5.2, §5.4.1).
#[test]
fn follower_starts_an_election_on_timeout() {
    let mut node = restored(1, &[2, 3, 4, 5], 2, &[1, 1, 2]);
    let ticks = ticks_to_election(&mut node);
    assert!((T..2 * T).contains(&ticks), "timed out after {ticks} ticks, not in [{T}, {})", 2 * T);
    let state = node.state();
    assert_eq!(
        (state.current_term, state.voted_for),
        (3, Some(1)),
        "(current_term, voted_for) after the election timeout in term 2: term 3, its own vote \
         (§5.2)"
    );
    assert_eq!(
        state.role,
        Role::Candidate { votes: BTreeSet::from([1]) },
        "the role after the election timeout: a candidate holding only its own vote (§5.2)"
    );
    let request = request_vote(3, 1, 3, 2);
    let expected: Vec<_> = [2, 3, 4, 5].into_iter().map(|peer| (peer, request.clone())).collect();
    assert_eq!(
        sent(&mut node),
        expected,
        "what the new candidate sends: RequestVote(term 3, last log 3/2) to each peer (§5.2, \
         §5.4.1)"
    );
}

/// A candidate whose election times out without a winner (a split vote) starts a new election
/// by incrementing its term and initiating another round of RequestVote RPCs (§5.2).
#[test]
fn candidate_starts_a_new_election_on_timeout() {
    let mut node = candidate(1, &[2, 3]);
    node.step(2, vote(1, false));
    let ticks = ticks_to_election(&mut node);
    assert!((T..2 * T).contains(&ticks), "timed out after {ticks} ticks, not in [{T}, {})", 2 * T);
    let state = node.state();
    assert_eq!(
        (state.current_term, state.voted_for),
        (2, Some(1)),
        "(current_term, voted_for) after a split vote's timeout in term 1: term 2, its own vote \
         (§5.2)"
    );
    assert_eq!(state.role, Role::Candidate { votes: BTreeSet::from([1]) }, "votes start afresh");
    let request = request_vote(2, 1, 0, 0);
    assert_eq!(
        sent(&mut node),
        vec![(2, request.clone()), (3, request)],
        "what the candidate sends for its new election: RequestVote(term 2) to each peer (§5.2)"
    );
}

/// A candidate wins an election if it receives votes from a majority of the servers in the full
/// cluster for the same term; until then, and if refused, it stays a candidate (§5.2).
#[rstest]
#[case::three_nodes_one_grant_wins(3, &[(2, true)], "leader")]
#[case::three_nodes_no_reply_stays(3, &[], "candidate")]
#[case::three_nodes_two_refusals_stay(3, &[(2, false), (3, false)], "candidate")]
#[case::three_nodes_refusal_then_grant_wins(3, &[(2, false), (3, true)], "leader")]
#[case::five_nodes_two_grants_win(5, &[(2, true), (3, true)], "leader")]
#[case::five_nodes_one_grant_stays(5, &[(2, true)], "candidate")]
#[case::five_nodes_duplicated_grant_counts_once(5, &[(2, true), (2, true)], "candidate")]
#[case::five_nodes_refused_by_majority_stays(5, &[(2, false), (3, false), (4, false)], "candidate")]
#[case::five_nodes_mixed_replies_win(5, &[(2, true), (3, false), (4, false), (5, true)], "leader")]
fn candidate_wins_only_with_a_majority_of_the_cluster(
    #[case] size: u64,
    #[case] replies: &[(NodeId, bool)],
    #[case] expected: &str,
) {
    let peers: Vec<NodeId> = (2..=size).collect();
    let mut node = candidate(1, &peers);
    for &(from, granted) in replies {
        node.step(from, vote(1, granted));
    }
    assert_eq!(node.state().role.name(), expected, "{size} nodes, replies {replies:?}");
    assert_eq!(node.status().term, 1, "winning or waiting does not change the term");
}

/// Once a candidate wins an election, it becomes leader and sends heartbeat messages (empty
/// AppendEntries) to all of the other servers to establish its authority; it keeps sending them
/// to prevent new elections (§5.2).
#[test]
fn leader_sends_heartbeats_at_once_and_every_heartbeat_interval() {
    let mut node = restored(1, &[2, 3], 2, &[1, 2]);
    ticks_to_election(&mut node);
    sent(&mut node);
    node.step(3, vote(3, true));
    assert_role(&node, "leader");
    // Its last entry is 2/2; it has committed nothing it knows of.
    let beat = append(3, 1, 2, 2);
    let beats = vec![(2, beat.clone()), (3, beat)];
    assert_eq!(sent(&mut node), beats, "heartbeats at once");
    for round in 1..=3 {
        for _ in 1..HEARTBEAT {
            node.tick();
            assert_eq!(sent(&mut node), vec![], "round {round}: before the heartbeat interval");
        }
        node.tick();
        assert_eq!(sent(&mut node), beats, "round {round}: after {HEARTBEAT} ticks");
    }
}

/// A leader never starts an election, however long it leads: it is the one who keeps the
/// others from timing out (§5.2).
#[test]
fn leader_never_times_out() {
    let mut node = leader(1, &[2, 3]);
    for _ in 0..10 * T {
        node.tick();
    }
    assert_role(&node, "leader");
    assert_eq!(
        node.status().term,
        1,
        "the term of a leader of term 1 after {} ticks: leaders never time out (§5.2)",
        10 * T
    );
}

/// The leader answers nothing to the replies to its heartbeats in stage 2, and keeps leading
/// (§5.2, §5.3).
#[rstest]
#[case::success(append_reply(1, true, 0))]
#[case::failure(append_reply(1, false, 0))]
fn leader_takes_heartbeat_replies_in_stride(#[case] reply: Message) {
    let mut node = leader(1, &[2, 3]);
    node.step(2, reply.clone());
    assert_eq!(
        sent(&mut node),
        vec![],
        "what a leader of term 1 answers to {reply:?}: nothing (§5.2)"
    );
    assert_role(&node, "leader");
}

/// While waiting for votes, a candidate may receive an AppendEntries RPC from another server
/// claiming to be leader. If the leader's term is at least as large as the candidate's current
/// term, the candidate recognizes the leader as legitimate and returns to follower state (§5.2).
#[rstest]
#[case::same_term(1, Some(1))]
#[case::newer_term(2, None)]
fn candidate_steps_down_on_append_entries_of_its_term_or_newer(
    #[case] term: Term,
    #[case] voted_for: Option<NodeId>,
) {
    let mut node = candidate(1, &[2, 3]);
    node.step(3, heartbeat(term, 3));
    let state = node.state();
    assert_eq!(
        state.role,
        Role::Follower { leader: Some(3) },
        "the role of a candidate of term 1 after a heartbeat of term {term} from node 3: its \
         follower (§5.2)"
    );
    assert_eq!(
        state.current_term, term,
        "current_term after a heartbeat of term {term}: the newer of the two (§5.1)"
    );
    assert_eq!(state.voted_for, voted_for, "voted_for: the vote of the same term stays cast");
    assert_eq!(
        sent(&mut node),
        vec![(3, append_reply(term, true, 0))],
        "the reply to a heartbeat of term {term} (prev 0/0): success, in term {term} (§5.2, §5.3)"
    );
}

/// If the term in the RPC is smaller than the candidate's current term, the candidate rejects
/// the RPC and continues in candidate state (§5.2).
#[test]
fn candidate_rejects_append_entries_of_an_older_term() {
    let mut node = candidate(1, &[2, 3]);
    ticks_to_election(&mut node);
    sent(&mut node);
    node.step(3, heartbeat(1, 3));
    assert_role(&node, "candidate");
    assert_eq!(
        sent(&mut node),
        vec![(3, append_reply(2, false, 0))],
        "the reply of a candidate of term 2 to a heartbeat of term 1: refused, with term 2 (§5.1)"
    );
}

/// A follower learns the leader of its term from its AppendEntries and answers whether its log
/// holds the leader's `prev_log_index` entry with `prev_log_term` (§5.2, §5.3); stage 2 stores
/// no entries, so a success covers `prev_log_index` and no more.
#[rstest]
#[case::matching_last_entry(2, 1, append_reply(2, true, 2))]
#[case::matching_earlier_entry(1, 1, append_reply(2, true, 1))]
#[case::empty_prefix(0, 0, append_reply(2, true, 0))]
#[case::entry_missing(3, 1, append_reply(2, false, 3))]
#[case::term_mismatch(2, 2, append_reply(2, false, 2))]
fn follower_answers_heartbeat_with_the_consistency_check(
    #[case] prev_log_index: u64,
    #[case] prev_log_term: Term,
    #[case] expected: Message,
) {
    let mut node = restored(1, &[2, 3], 1, &[1, 1]);
    node.step(2, append(2, 2, prev_log_index, prev_log_term));
    assert_eq!(
        sent(&mut node),
        vec![(2, expected)],
        "the reply to an AppendEntries of term 2 with prev {prev_log_index}/{prev_log_term} to \
         a log [1, 1]: success only if the log holds that entry (§5.3)"
    );
    assert_eq!(
        node.state().role,
        Role::Follower { leader: Some(2) },
        "the role after an AppendEntries of term 2 from node 2: its follower (§5.2)"
    );
    assert_eq!(node.state().log.last_index(), 2, "stage 2 never changes the log");
}

/// Each server will vote for at most one candidate in a given term, on a first-come-first-served
/// basis; a duplicate of the request it granted is granted again, which is not a second vote
/// (§5.2).
#[test]
fn node_votes_once_per_term_first_come_first_served() {
    let mut node = follower(1, &[2, 3, 4]);
    node.step(2, request_vote(1, 2, 0, 0));
    assert_eq!(sent(&mut node), vec![(2, vote(1, true))], "the first candidate gets the vote");
    node.step(3, request_vote(1, 3, 0, 0));
    assert_eq!(sent(&mut node), vec![(3, vote(1, false))], "a second candidate in the same term");
    node.step(2, request_vote(1, 2, 0, 0));
    assert_eq!(sent(&mut node), vec![(2, vote(1, true))], "the first candidate asks again");
    assert_eq!(
        node.state().voted_for,
        Some(2),
        "voted_for after granting node 2 in term 1: the vote is node 2's for the whole term (§5.2)"
    );
}

/// A candidate or a leader has voted for itself in its term, and refuses every other candidate
/// of that term (§5.2).
#[rstest]
fn candidate_and_leader_refuse_other_candidates_of_their_term(
    #[values(Start::Candidate, Start::Leader)] role: Start,
) {
    let mut node = start(role);
    node.step(2, request_vote(1, 2, 0, 0));
    assert_eq!(sent(&mut node), vec![(2, vote(1, false))], "a {role:?} of term 1");
    assert_eq!(
        node.state().voted_for,
        Some(1),
        "voted_for of a {role:?} of term 1: its own vote, for the whole term (§5.2)"
    );
}

/// The election restriction: the voter denies its vote if its own log is more up-to-date than
/// that of the candidate. Logs ending with different terms: the later term is more up-to-date;
/// logs ending with the same term: the longer log is. The voter's log here is the leader's of
/// Figure 7, the candidates' last entries those of followers (a)–(f) (§5.4.1).
#[rstest]
#[case::a_shorter_same_last_term(9, 6, false)]
#[case::b_older_last_term(4, 4, false)]
#[case::c_longer_same_last_term(11, 6, true)]
#[case::d_newer_last_term(12, 7, true)]
#[case::e_older_last_term(7, 4, false)]
#[case::f_longer_but_older_last_term(11, 3, false)]
#[case::identical_log(10, 6, true)]
#[case::newer_last_term_shorter(1, 7, true)]
#[case::empty_log(0, 0, false)]
fn voter_refuses_a_candidate_whose_log_is_less_up_to_date(
    #[case] last_log_index: u64,
    #[case] last_log_term: Term,
    #[case] granted: bool,
) {
    let figure_7_leader = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
    let mut node = restored(1, &[2, 3], 7, &figure_7_leader);
    node.step(2, request_vote(8, 2, last_log_index, last_log_term));
    assert_eq!(
        sent(&mut node),
        vec![(2, vote(8, granted))],
        "voter's log ends at 10/6, candidate's at {last_log_index}/{last_log_term}"
    );
    let voted_for = if granted { Some(2) } else { None };
    assert_eq!(
        node.state().voted_for,
        voted_for,
        "voted_for after a RequestVote of term 8 with last {last_log_index}/{last_log_term}: \
         the candidate if granted, else nobody (§5.4.1)"
    );
}

/// Election timeouts are chosen randomly from a fixed interval `[T, 2T)`; every value in it
/// occurs, over many seeds, and at every reset, not only at the first (§5.2).
#[test]
fn election_timeouts_cover_the_whole_range() {
    let mut first = BTreeSet::new();
    let mut later = BTreeSet::new();
    for seed in 0..1000 {
        let mut node = RaftNode::new(1, vec![2, 3], config(), Rng::new(seed));
        first.insert(ticks_to_election(&mut node));
        later.insert(ticks_to_election(&mut node));
    }
    let all: BTreeSet<u64> = (T..2 * T).collect();
    assert_eq!(first, all, "first timeouts over 1000 seeds");
    assert_eq!(later, all, "timeouts after a reset over 1000 seeds");
}

/// Randomized timeouts spread out the servers so that in most cases only a single server times
/// out first: two followers that start together time out on the same tick about once in T
/// runs, not always (§5.2).
#[test]
fn two_nodes_rarely_time_out_together() {
    let runs = 1000;
    let mut together = 0;
    for seed in 0..runs {
        let root = Rng::new(seed);
        let mut one = RaftNode::new(1, vec![2], config(), root.fork(1));
        let mut two = RaftNode::new(2, vec![1], config(), root.fork(2));
        if ticks_to_election(&mut one) == ticks_to_election(&mut two) {
            together += 1;
        }
    }
    // Uniform draws from T = 20 values collide with probability 1/20: about 50 of 1000.
    assert!(together <= 2 * runs / T, "{together} of {runs} pairs timed out on the same tick");
}

/// A cluster of one server has a majority on its own: when it times out, it becomes leader at
/// once (§5.2).
#[test]
fn one_node_cluster_elects_itself() {
    let mut node = follower(1, &[]);
    ticks_to_election(&mut node);
    assert_role(&node, "leader");
    assert_eq!(
        (node.status().term, node.state().voted_for),
        (1, Some(1)),
        "(term, voted_for) of a one-node cluster after its timeout: term 1, its own vote (§5.2)"
    );
    assert_eq!(sent(&mut node), vec![], "there is nobody to send to");
}

/// Votes count only for the term in which they were cast: a vote granted in an earlier term,
/// delivered late, does not count towards the current election (§5.1, §5.2).
#[test]
fn stale_vote_replies_are_not_counted() {
    let mut node = candidate(1, &[2, 3]);
    ticks_to_election(&mut node);
    sent(&mut node);
    node.step(2, vote(1, true));
    assert_role(&node, "candidate");
    assert_eq!(
        node.state().role,
        Role::Candidate { votes: BTreeSet::from([1]) },
        "the role after a late vote of term 0: a vote of an earlier term does not count (§5.1, \
         §5.2)"
    );
    node.step(2, vote(2, true));
    assert_role(&node, "leader");
}

/// A vote that arrives after the candidate stepped down for the leader of its term counts for
/// nothing: a follower has no election to win (§5.2).
#[test]
fn follower_ignores_a_late_vote_of_its_term() {
    let mut node = candidate(1, &[2, 3]);
    node.step(3, heartbeat(1, 3));
    sent(&mut node);
    node.step(2, vote(1, true));
    assert_eq!(
        node.state().role,
        Role::Follower { leader: Some(3) },
        "the role after a late vote of term 1 to a follower: still a follower of node 3 (§5.2)"
    );
    assert_eq!(sent(&mut node), vec![], "what a follower answers to a vote reply: nothing (§5.2)");
}

// ---------------------------------------------------------------------------------------------
// §5.2: the election timer is reset only when it should be.

/// A message that must leave the election timer alone, sent to a follower of term 1 that has
/// voted for node 3 and whose log is `[1]`.
fn no_reset_messages() -> Vec<(&'static str, NodeId, Message)> {
    vec![
        ("a refused vote request, already voted", 2, request_vote(1, 2, 5, 1)),
        ("a refused vote request, newer term, older log", 2, request_vote(2, 2, 0, 0)),
        ("a stale vote request", 2, request_vote(0, 2, 5, 1)),
        ("a stale heartbeat", 2, heartbeat(0, 2)),
        ("a vote reply", 2, vote(1, true)),
        ("an append reply", 2, append_reply(1, true, 0)),
    ]
}

/// A follower of term 1 that voted for node 3, with log `[1]`.
fn voted_follower() -> RaftNode {
    let mut node = restored(1, &[2, 3], 0, &[1]);
    node.step(3, request_vote(1, 3, 1, 1));
    assert_eq!(
        sent(&mut node),
        vec![(3, vote(1, true))],
        "the reply of a follower of term 0 with log [1] to RequestVote(term 1, last 1/1) from \
         node 3: granted (§5.2, §5.4.1)"
    );
    node
}

/// A voted follower one tick before its election timeout, and that timeout in ticks.
fn voted_follower_one_tick_from_timeout() -> (RaftNode, u64) {
    let mut node = voted_follower();
    let timeout = ticks_to_election(&mut node.clone());
    for _ in 1..timeout {
        node.tick();
    }
    (node, timeout)
}

/// A follower remains in follower state as long as it receives valid RPCs from a leader or
/// candidate: it resets its election timer on an AppendEntries of the current term or when it
/// grants a vote, and on nothing else, lest stale or refused messages keep it from ever
/// starting an election (§5.2; Figure 2, Rules for Servers, Followers).
#[test]
fn follower_resets_its_timer_only_on_a_granted_vote_or_the_current_leader() {
    for (label, from, message) in no_reset_messages() {
        let (mut node, timeout) = voted_follower_one_tick_from_timeout();
        node.step(from, message);
        sent(&mut node);
        let term = node.status().term;
        node.tick();
        assert_eq!(
            node.status().term,
            term + 1,
            "after {label}, the follower reset its election timer: it should still time out on \
             tick {timeout}; only a granted vote or the current leader's AppendEntries resets it"
        );
    }
    let resets = [
        ("a granted vote request", 2, request_vote(2, 2, 5, 1)),
        ("a heartbeat of the current term", 3, heartbeat(1, 3)),
        ("a heartbeat of a newer term", 3, heartbeat(2, 3)),
        ("a heartbeat of the current term that fails the consistency check", 3, append(1, 3, 5, 1)),
    ];
    for (label, from, message) in resets {
        let (mut node, _) = voted_follower_one_tick_from_timeout();
        node.step(from, message);
        let replies = sent(&mut node);
        if label == "a granted vote request" {
            // Check the grant first: a vote never granted cannot reset the timer.
            assert_eq!(
                replies,
                vec![(2, vote(2, true))],
                "the reply of a follower that voted for node 3 in term 1 to RequestVote(term 2, \
                 last 5/1) from node 2: granted, because the vote of term 2 is free (a newer \
                 term clears voted_for, §5.1) and the candidate's log is up to date (§5.4.1)"
            );
        }
        let term = node.status().term;
        for tick in 1..T {
            node.tick();
            assert_eq!(node.status().term, term, "{tick} ticks after {label}: timer not reset");
        }
    }
}

/// A candidate that steps down for the leader of its own term has heard from the current leader:
/// it restarts its election timer like any follower, and does not start an election on the tick
/// its candidacy would have timed out (§5.2; Figure 2, Rules for Servers, Candidates).
#[test]
fn candidate_stepping_down_for_the_leader_of_its_term_restarts_its_timer() {
    let mut node = candidate(1, &[2, 3]);
    let timeout = ticks_to_election(&mut node.clone());
    for _ in 1..timeout {
        node.tick();
    }
    node.step(3, heartbeat(1, 3));
    sent(&mut node);
    assert_eq!(node.state().role, Role::Follower { leader: Some(3) });
    for tick in 1..T {
        node.tick();
        assert_eq!(
            node.status().term,
            1,
            "{tick} ticks after the candidate of term 1 stepped down for leader 3, one tick before \
             its election timeout of {timeout}: it started an election, so it did not restart \
             its timer when it heard from the leader"
        );
    }
}

/// One kind of reset of a node's election timer, given the round (`1..=20`).
type Reset = fn(&mut RaftNode, u64);

/// The timeouts one node waits after `resets` resets of one kind, each measured from the reset.
fn timeouts_after(mut node: RaftNode, resets: Reset) -> Vec<u64> {
    (1..=20)
        .map(|round| {
            resets(&mut node, round);
            sent(&mut node);
            ticks_to_election(&mut node.clone())
        })
        .collect()
}

/// A new timeout is drawn at every reset, for every node: one that drew its timeout once and
/// kept it would time out in step with a peer forever once they collided (§5.2: "each candidate
/// restarts its randomized election timeout at the start of an election"). Twenty resets of
/// each kind on one node give twenty draws from `[T, 2T)`: a handful of distinct values at
/// least, never one.
#[test]
fn each_reset_draws_a_new_timeout() {
    let cases: [(&str, RaftNode, Reset); 3] = [
        ("starting an election", follower(1, &[2, 3]), |node, _| {
            ticks_to_election(node);
        }),
        ("a heartbeat of the current leader", follower_of_term_one(1, &[2, 3]), |node, _| {
            node.step(3, heartbeat(1, 3));
        }),
        ("granting a vote", follower(1, &[2, 3]), |node, round| {
            node.step(2, request_vote(round, 2, 0, 0));
        }),
    ];
    for (label, node, reset) in cases {
        let timeouts = timeouts_after(node, reset);
        let distinct: BTreeSet<u64> = timeouts.iter().copied().collect();
        assert!(
            distinct.len() >= 5,
            "node 1's timeouts after 20 resets by {label}: {timeouts:?}; each reset must draw a \
             new timeout from [T, 2T) with the node's Rng, not reuse an earlier one (§5.2)"
        );
    }
}

/// Starting an election resets the timer: a candidate waits a full new timeout before it tries
/// again (§5.2).
#[test]
fn candidate_waits_a_full_timeout_between_elections() {
    let mut node = candidate(1, &[2, 3]);
    for tick in 1..T {
        node.tick();
        assert_eq!(node.status().term, 1, "{tick} ticks into the election of term 1");
    }
}

// ---------------------------------------------------------------------------------------------
// §5.1 and Figure 2: persistent state.

/// Servers update `current_term` and `voted_for` on stable storage before responding to RPCs:
/// after a step that granted a vote, the new term and vote are reported for persisting (the
/// harness writes them before it sends the reply) (§5.1; Figure 2, persistent state).
#[test]
fn term_and_vote_are_persisted_before_the_vote_reply_leaves() {
    let mut node = follower(1, &[2, 3]);
    node.step(2, request_vote(4, 2, 0, 0));
    let expected = StorageWrite::HardState { current_term: 4, voted_for: Some(2) };
    assert_eq!(node.take_persist(), vec![expected], "the term and vote after granting a vote");
    assert_eq!(node.take_persist(), vec![], "nothing changed since the last call");
    assert_eq!(
        sent(&mut node),
        vec![(2, vote(4, true))],
        "the reply after granting RequestVote(term 4) to node 2: granted (§5.2)"
    );
}

/// A candidate persists its new term and its vote for itself before its RequestVotes leave
/// (§5.1, §5.2).
#[test]
fn candidate_persists_its_term_and_vote_for_itself() {
    let mut node = follower(1, &[2, 3]);
    ticks_to_election(&mut node);
    let expected = StorageWrite::HardState { current_term: 1, voted_for: Some(1) };
    assert_eq!(node.take_persist(), vec![expected], "the writes of a new candidate");
}

/// A vote cast in the current term is persisted too, though the term did not change (§5.1).
#[test]
fn vote_in_the_current_term_is_persisted() {
    let mut node = follower_of_term_one(1, &[2, 3]);
    let term_one = StorageWrite::HardState { current_term: 1, voted_for: None };
    assert_eq!(node.take_persist(), vec![term_one], "the term learned from the leader");
    node.step(2, request_vote(1, 2, 0, 0));
    let voted = StorageWrite::HardState { current_term: 1, voted_for: Some(2) };
    assert_eq!(node.take_persist(), vec![voted], "the vote of the current term");
}

/// A refused stale request changes nothing, so there is nothing to persist (§5.1).
#[test]
fn stale_request_needs_no_persisting() {
    let mut node = follower_of_term_one(1, &[2, 3]);
    node.take_persist();
    node.step(2, request_vote(0, 2, 0, 0));
    assert_eq!(node.take_persist(), vec![], "a refused stale request writes nothing");
}

/// A server that restarts comes back with the term, vote and log it persisted, as a follower;
/// its volatile state starts afresh (Figure 2).
#[test]
fn restarted_node_keeps_term_vote_and_log() {
    let log = Log::from_entries(vec![LogEntry::new(1, "a"), LogEntry::new(3, "b")]);
    let persisted =
        PersistentState { current_term: 5, voted_for: Some(2), log, snapshot: Vec::new() };
    let mut node = RaftNode::restart(1, vec![2, 3], config(), Rng::new(7), persisted.clone());
    let status = Status {
        term: 5,
        role: harness::Role::Follower,
        voted_for: Some(2),
        commit_index: 0,
        last_log_index: 2,
        snapshot_index: 0,
    };
    assert_eq!(node.status(), status);
    assert_eq!(node.log_entry(2), Some((3, &"b".to_string())));
    assert_eq!(node.log_entry(3), None);
    assert_eq!(node.take_persist(), vec![], "what it restarted from is already on disk");
    node.step(3, request_vote(5, 3, 9, 9));
    assert_eq!(sent(&mut node), vec![(3, vote(5, false))], "its vote of term 5 is taken");
}

/// The harness reads a node's role through `status()`: candidate and leader map to the
/// harness's roles (§5.1).
#[rstest]
#[case::candidate(Start::Candidate, harness::Role::Candidate)]
#[case::leader(Start::Leader, harness::Role::Leader)]
fn status_reports_the_role(#[case] role: Start, #[case] expected: harness::Role) {
    let node = start(role);
    assert_eq!(node.status().role, expected);
    assert_eq!(node.status().voted_for, Some(1), "voted_for in status(): itself, in term 1");
}
