//! A server's state and role transitions (Figure 2, Figure 4, §5.1, §5.2).

use std::collections::{BTreeMap, BTreeSet};

use data_structures::{
    DecodeError, Log, LogEntry, NodeId, PersistentState, Role, State, StorageWrite, Term,
    TransitionError,
};
use pretty_assertions::assert_eq;
use rstest::rstest;

/// This server's id in every test.
const ID: NodeId = 7;

fn follower(leader: Option<NodeId>) -> Role {
    Role::Follower { leader }
}

fn candidate(votes: &[NodeId]) -> Role {
    Role::Candidate { votes: votes.iter().copied().collect() }
}

/// A leader whose `next_index` and `match_index` are `(peer, next, match)`.
fn leader(indexes: &[(NodeId, u64, u64)]) -> Role {
    Role::Leader {
        next_index: indexes.iter().map(|&(peer, next, _)| (peer, next)).collect(),
        match_index: indexes.iter().map(|&(peer, _, matched)| (peer, matched)).collect(),
    }
}

/// A log of three entries, terms 1, 1, 2.
fn three_entries() -> Log {
    Log::from_entries(vec![LogEntry::new(1, "a"), LogEntry::new(1, "b"), LogEntry::new(2, "c")])
}

/// Server `ID` in `current_term`, having voted for `voted_for`, with three entries, two of them
/// committed and one applied, in `role`.
fn server(current_term: Term, voted_for: Option<NodeId>, role: Role) -> State {
    State {
        id: ID,
        current_term,
        voted_for,
        log: three_entries(),
        snapshot: Vec::new(),
        commit_index: 2,
        last_applied: 1,
        role,
    }
}

// ---------------------------------------------------------------------------------------------
// Terms (§5.1).
// ---------------------------------------------------------------------------------------------

/// "If RPC request or response contains term T > currentTerm: set currentTerm = T, convert to
/// follower": whatever the role, the vote of the old term is cleared, and no leader is known
/// yet in the new term (§5.1).
#[rstest]
#[case::follower(follower(Some(2)))]
#[case::candidate(candidate(&[ID, 3]))]
#[case::leader(leader(&[(2, 4, 3), (3, 2, 1)]))]
fn higher_term_makes_any_role_a_follower_and_clears_the_vote(#[case] role: Role) {
    let mut state = server(5, Some(ID), role);
    assert!(
        state.observe_term(7),
        "observe_term(7) in term 5 should return true: term 7 is newer (§5.1)"
    );
    let mut expected = server(7, None, follower(None));
    expected.commit_index = state.commit_index;
    expected.last_applied = state.last_applied;
    assert_eq!(
        state, expected,
        "after observe_term(7) in term 5: term 7, no vote, a follower of nobody; the log kept \
         (§5.1)"
    );
}

/// A term equal to or older than `current_term` changes nothing: not the term, not the vote,
/// not the role (§5.1).
#[rstest]
#[case::same_term_follower(5, follower(Some(2)))]
#[case::same_term_candidate(5, candidate(&[ID]))]
#[case::same_term_leader(5, leader(&[(2, 4, 3)]))]
#[case::older_term_follower(4, follower(None))]
#[case::older_term_leader(0, leader(&[(2, 4, 3)]))]
fn same_or_older_term_changes_nothing(#[case] term: Term, #[case] role: Role) {
    let mut state = server(5, Some(ID), role);
    let before = state.clone();
    assert!(
        !state.observe_term(term),
        "observe_term({term}) in term 5 should return false: term {term} is not newer (§5.1)"
    );
    assert_eq!(state, before, "observe_term({term}) in term 5 changes nothing (§5.1)");
}

// ---------------------------------------------------------------------------------------------
// Becoming a follower (§5.1, §5.2, Figure 4).
// ---------------------------------------------------------------------------------------------

/// A server that learns of a higher term becomes a follower in it, of `leader` if the message
/// came from the new leader; the vote belonged to the old term and is cleared (§5.1).
#[rstest]
#[case::follower_learns_the_new_leader(follower(Some(2)), Some(3))]
#[case::candidate_hears_from_a_new_leader(candidate(&[ID]), Some(2))]
#[case::candidate_sees_a_higher_term_without_leader(candidate(&[ID]), None)]
#[case::leader_steps_down(leader(&[(2, 4, 3)]), Some(3))]
fn become_follower_in_a_higher_term_clears_the_vote(
    #[case] role: Role,
    #[case] new_leader: Option<NodeId>,
) {
    let mut state = server(5, Some(ID), role);
    assert_eq!(state.become_follower(6, new_leader), Ok(()));
    assert_eq!(
        (state.current_term, state.voted_for, state.role, state.log),
        (6, None, follower(new_leader), three_entries())
    );
}

/// In the same term the vote stays: a candidate that hears from this term's leader steps down,
/// but it voted for itself in this term and must not vote again (§5.2). A follower learns who
/// leads its term.
#[rstest]
#[case::candidate_hears_from_the_leader(candidate(&[ID, 3]), Some(ID), Some(2))]
#[case::follower_learns_the_leader(follower(None), Some(3), Some(2))]
#[case::follower_without_vote(follower(None), None, Some(2))]
fn become_follower_in_the_same_term_keeps_the_vote(
    #[case] role: Role,
    #[case] voted_for: Option<NodeId>,
    #[case] new_leader: Option<NodeId>,
) {
    let mut state = server(5, voted_for, role);
    assert_eq!(state.become_follower(5, new_leader), Ok(()));
    assert_eq!(
        (state.current_term, state.voted_for, state.role),
        (5, voted_for, follower(new_leader))
    );
}

/// Terms never go back: a transition to an older term is refused and changes nothing (§5.1).
#[rstest]
#[case::follower(follower(Some(2)))]
#[case::candidate(candidate(&[ID]))]
#[case::leader(leader(&[(2, 4, 3)]))]
fn become_follower_refuses_a_stale_term(#[case] role: Role) {
    let mut state = server(5, Some(ID), role);
    let before = state.clone();
    assert_eq!(
        state.become_follower(4, Some(2)),
        Err(TransitionError::StaleTerm { term: 4, current_term: 5 }),
        "become_follower(4, Some(2)) in term 5: terms never go back (§5.1)"
    );
    assert_eq!(state, before, "a refused become_follower changes nothing");
}

/// A leader steps down only for a higher term: there is one leader per term, so following
/// another server in its own term is refused (Figure 4, §5.2).
#[test]
fn leader_refuses_to_follow_in_its_own_term() {
    let mut state = server(5, Some(ID), leader(&[(2, 4, 3)]));
    let before = state.clone();
    assert_eq!(
        state.become_follower(5, Some(2)),
        Err(TransitionError::AlreadyLeader),
        "become_follower(5, Some(2)) by the leader of term 5: one leader per term (§5.2, Figure 4)"
    );
    assert_eq!(state, before, "a refused become_follower changes nothing");
}

// ---------------------------------------------------------------------------------------------
// Becoming a candidate (§5.2).
// ---------------------------------------------------------------------------------------------

/// "To begin an election, a follower increments its current term and transitions to candidate
/// state. It then votes for itself": a follower or a candidate whose election timed out starts
/// an election in the next term, holding only its own vote (§5.2).
#[rstest]
#[case::follower_that_voted(follower(Some(2)), Some(3))]
#[case::follower_that_did_not_vote(follower(None), None)]
#[case::candidate_whose_election_timed_out(candidate(&[ID, 3]), Some(ID))]
fn become_candidate_increments_the_term_and_votes_for_itself(
    #[case] role: Role,
    #[case] voted_for: Option<NodeId>,
) {
    let mut state = server(5, voted_for, role);
    assert_eq!(state.become_candidate(), Ok(()));
    assert_eq!(
        (state.current_term, state.voted_for, state.role, state.log),
        (6, Some(ID), candidate(&[ID]), three_entries())
    );
}

/// A leader does not start an election: there is no edge from leader to candidate (Figure 4).
#[test]
fn leader_refuses_to_become_candidate() {
    let mut state = server(5, Some(ID), leader(&[(2, 4, 3)]));
    let before = state.clone();
    assert_eq!(
        state.become_candidate(),
        Err(TransitionError::AlreadyLeader),
        "become_candidate() by a leader: leaders do not start elections (Figure 4)"
    );
    assert_eq!(state, before, "a refused become_candidate changes nothing");
}

// ---------------------------------------------------------------------------------------------
// Becoming a leader (§5.2, §5.3, Figure 2).
// ---------------------------------------------------------------------------------------------

/// A candidate with the votes of a majority becomes leader and initializes, for each other
/// server, `next_index` to its last log index + 1 and `match_index` to 0 (Figure 2, §5.3).
#[rstest]
#[case::two_of_three(&[ID, 3], &[2, 3])]
#[case::three_of_five(&[ID, 2, 5], &[2, 3, 4, 5])]
#[case::all_of_three(&[ID, 2, 3], &[2, 3])]
#[case::alone(&[ID], &[])]
fn become_leader_initializes_next_index_and_match_index(
    #[case] votes: &[NodeId],
    #[case] peers: &[NodeId],
) {
    let mut state = server(5, Some(ID), candidate(votes));
    assert_eq!(
        state.become_leader(peers),
        Ok(()),
        "become_leader({peers:?}) with votes {votes:?}: a majority (§5.2)"
    );
    let expected: Vec<_> = peers.iter().map(|&peer| (peer, 4, 0)).collect();
    assert_eq!(
        (state.current_term, state.voted_for),
        (5, Some(ID)),
        "(current_term, voted_for) after become_leader: unchanged (§5.2)"
    );
    assert_eq!(
        state.role,
        leader(&expected),
        "the role after become_leader: next_index = last log index + 1 = 4, match_index = 0 for \
         every peer (Figure 2)"
    );
}

/// `next_index` starts just after the leader's last entry, wherever that is: 1 for an empty
/// log (Figure 2).
#[test]
fn become_leader_with_an_empty_log_sends_from_index_one() {
    let mut state = State::new(ID);
    state.become_candidate().expect("a follower may start an election");
    if let Role::Candidate { votes } = &mut state.role {
        votes.insert(2);
    }
    assert_eq!(state.become_leader(&[2, 3]), Ok(()));
    assert_eq!(
        state.role,
        Role::Leader {
            next_index: BTreeMap::from([(2, 1), (3, 1)]),
            match_index: BTreeMap::from([(2, 0), (3, 0)]),
        }
    );
}

/// Only a candidate becomes leader, by winning an election (Figure 4).
#[rstest]
#[case::follower(follower(Some(2)), "follower")]
#[case::leader(leader(&[(2, 4, 3)]), "leader")]
fn only_a_candidate_becomes_leader(#[case] role: Role, #[case] name: &'static str) {
    let mut state = server(5, Some(ID), role);
    let before = state.clone();
    assert_eq!(
        state.become_leader(&[2, 3]),
        Err(TransitionError::NotCandidate { role: name }),
        "become_leader(&[2, 3]) by a {name}: only a candidate wins an election (Figure 4)"
    );
    assert_eq!(state, before, "a refused become_leader changes nothing");
}

/// A candidate wins only with the votes of a majority of the servers, itself included: half is
/// not enough (§5.2).
#[rstest]
#[case::own_vote_of_three(&[ID], &[2, 3], 1, 3)]
#[case::half_of_four(&[ID, 2], &[2, 3, 4], 2, 4)]
#[case::two_of_five(&[ID, 4], &[2, 3, 4, 5], 2, 5)]
#[case::own_vote_of_two(&[ID], &[2], 1, 2)]
fn candidate_without_a_majority_does_not_become_leader(
    #[case] votes: &[NodeId],
    #[case] peers: &[NodeId],
    #[case] vote_count: usize,
    #[case] cluster: usize,
) {
    let mut state = server(5, Some(ID), candidate(votes));
    let before = state.clone();
    assert_eq!(
        state.become_leader(peers),
        Err(TransitionError::NoMajority { votes: vote_count, cluster }),
        "become_leader({peers:?}) with votes {votes:?}: {vote_count} of {cluster} is no \
         majority (§5.2)"
    );
    assert_eq!(state, before, "a refused become_leader changes nothing");
}

/// A whole election, from a fresh server: candidate in term 1 with its own vote, leader once a
/// second vote makes a majority of three; a higher term makes it a follower again (§5.2).
#[test]
fn election_walks_through_every_role() {
    let mut state = State::new(ID);
    let mut roles = Vec::new();
    state.become_candidate().expect("a follower may start an election");
    roles.push((state.current_term, state.voted_for, state.role.name(), state.leader()));
    if let Role::Candidate { votes } = &mut state.role {
        votes.insert(3);
    }
    state.become_leader(&[2, 3]).expect("two votes of three are a majority");
    roles.push((state.current_term, state.voted_for, state.role.name(), state.leader()));
    state.become_follower(2, Some(2)).expect("term 2 is newer than 1");
    roles.push((state.current_term, state.voted_for, state.role.name(), state.leader()));
    assert_eq!(
        roles,
        [
            (1, Some(ID), "candidate", None),
            (1, Some(ID), "leader", Some(ID)),
            (2, None, "follower", Some(2))
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Persistent and volatile state (Figure 2).
// ---------------------------------------------------------------------------------------------

/// The persistent state is `current_term`, `voted_for` and the log, nothing else: the commit
/// index, what was applied and the role are volatile (Figure 2).
#[test]
fn persistent_state_is_term_vote_and_log() {
    let state = server(5, Some(3), leader(&[(2, 4, 3)]));
    assert_eq!(
        state.persistent(),
        PersistentState {
            current_term: 5,
            voted_for: Some(3),
            log: three_entries(),
            snapshot: Vec::new(),
        }
    );
}

/// A server starting for the first time persists term 0, no vote and an empty log (Figure 2).
#[test]
fn fresh_server_persists_term_zero_no_vote_and_an_empty_log() {
    assert_eq!(State::new(ID).persistent(), PersistentState::default());
}

/// A server restarting after a crash reads back what it persisted, and starts its volatile
/// state afresh: commit index and last applied 0, a follower that knows no leader (Figure 2).
#[rstest]
#[case::follower(follower(Some(2)))]
#[case::candidate(candidate(&[ID, 2]))]
#[case::leader(leader(&[(2, 4, 3)]))]
fn restart_keeps_persistent_state_and_resets_volatile_state(#[case] role: Role) {
    let before = server(5, Some(ID), role);
    let bytes = before.persistent().encode();
    let after = State::restore(ID, PersistentState::decode(&bytes).expect("bytes it wrote"));
    assert_eq!(
        after,
        State {
            id: ID,
            current_term: 5,
            voted_for: Some(ID),
            log: three_entries(),
            snapshot: Vec::new(),
            commit_index: 0,
            last_applied: 0,
            role: follower(None),
        }
    );
}

/// Persistent state decodes to what was encoded: what a server writes it reads back after a
/// crash (§5.1, Figure 2).
#[rstest]
#[case::fresh(PersistentState::default())]
#[case::voted(PersistentState { current_term: 5, voted_for: Some(2), log: three_entries(), snapshot: Vec::new() })]
#[case::no_vote(PersistentState { current_term: 9, voted_for: None, log: three_entries(), snapshot: Vec::new() })]
fn persistent_state_survives_an_encode_decode_round_trip(#[case] persistent: PersistentState) {
    assert_eq!(PersistentState::decode(&persistent.encode()), Ok(persistent));
}

/// The storage format is pinned, byte for byte: a change would make a server unable to read
/// what it wrote before an upgrade.
#[rstest]
#[case::fresh(
    PersistentState::default(),
    r#"{"current_term":0,"voted_for":null,"log":{"entries":[]}}"#
)]
#[case::voted(
    PersistentState { current_term: 5, voted_for: Some(2), log: three_entries(), snapshot: Vec::new() },
    concat!(
        r#"{"current_term":5,"voted_for":2,"log":{"entries":["#,
        r#"{"term":1,"command":"a"},{"term":1,"command":"b"},{"term":2,"command":"c"}]}}"#
    )
)]
fn storage_format_is_pinned(#[case] persistent: PersistentState, #[case] json: &str) {
    assert_eq!(String::from_utf8(persistent.encode()).expect("JSON is UTF-8"), json);
    assert_eq!(PersistentState::decode(json.as_bytes()), Ok(persistent));
}

/// A corrupted file gives a typed error that says what is wrong, never a made-up state: a
/// file that lost its `voted_for` is not a server that never voted (it might then vote twice
/// in one term, §5.2), and bytes after the state mean the file is not what was written.
#[rstest]
#[case::nothing(b"", "EOF while parsing a value at line 1 column 0")]
#[case::missing_log(
    br#"{"current_term":5,"voted_for":2}"#,
    "missing field `log` at line 1 column 32"
)]
#[case::negative_term(
    br#"{"current_term":-5,"voted_for":2,"log":{"entries":[]}}"#,
    "invalid value: integer `-5`, expected u64 at line 1 column 18"
)]
#[case::missing_vote(
    br#"{"current_term":5,"log":{"entries":[]}}"#,
    "missing field `voted_for` at line 1 column 39"
)]
#[case::trailing_bytes(
    br#"{"current_term":5,"voted_for":2,"log":{"entries":[]}}x"#,
    "trailing characters at line 1 column 54"
)]
#[case::two_states(
    br#"{"current_term":5,"voted_for":2,"log":{"entries":[]}}{"current_term":6,"voted_for":null,"log":{"entries":[]}}"#,
    "trailing characters at line 1 column 54"
)]
fn decode_rejects_a_corrupted_persistent_state(#[case] bytes: &[u8], #[case] reason: &str) {
    assert_eq!(PersistentState::decode(bytes), Err(DecodeError { reason: reason.to_string() }));
}

/// The votes a candidate holds are its own and those it was granted, no one else's (§5.2).
#[test]
fn candidate_holds_only_its_own_vote_at_first() {
    let mut state = server(5, None, follower(Some(2)));
    state.become_candidate().expect("a follower may start an election");
    assert_eq!(state.role, Role::Candidate { votes: BTreeSet::from([ID]) });
}

// ---------------------------------------------------------------------------------------------
// Snapshots (§7, stage 5): persisted with the log, and a restart starts from them.
// ---------------------------------------------------------------------------------------------

/// A server that compacted entries 1..=2 into a snapshot and holds entry 3 after it.
fn with_snapshot() -> State {
    let mut state = server(5, Some(ID), follower(Some(2)));
    state.log = Log::after_snapshot(2, 1, vec![LogEntry::new(2, "c")]);
    state.snapshot = b"a,b".to_vec();
    state
}

/// The snapshot is persistent state too: `persistent` copies it, and it survives the bytes.
#[test]
fn persistent_state_carries_the_snapshot() {
    let persistent = with_snapshot().persistent();
    assert_eq!(
        (&persistent.log, &persistent.snapshot),
        (&with_snapshot().log, &b"a,b".to_vec()),
        "persistent() of a server with a snapshot: the log after it and the snapshot (§7)"
    );
    assert_eq!(PersistentState::decode(&persistent.encode()), Ok(persistent));
}

/// A restarted server's snapshot is committed (it was taken from applied entries), so its
/// commit index starts there; `last_applied` starts at 0, because the state machine must be
/// given the snapshot again before anything else (§7).
#[test]
fn restart_with_a_snapshot_starts_committed_through_it() {
    let after = State::restore(ID, with_snapshot().persistent());
    assert_eq!(
        (after.commit_index, after.last_applied, after.log, after.snapshot),
        (2, 0, with_snapshot().log, b"a,b".to_vec()),
        "(commit_index, last_applied, log, snapshot) after State::restore with a snapshot through 2"
    );
}

/// Stable storage carries out a snapshot write: the snapshot replaces the stored prefix, the
/// entries after it stay if the stored log holds its last entry (§7, Figure 13 rules 6-7).
#[rstest]
#[case::holds_its_last_entry(1, 1, Log::after_snapshot(1, 1, vec![LogEntry::new(1, "b"), LogEntry::new(2, "c")]))]
#[case::through_the_end(3, 2, Log::after_snapshot(3, 2, Vec::new()))]
#[case::another_history(2, 9, Log::after_snapshot(2, 9, Vec::new()))]
fn a_snapshot_write_replaces_the_stored_prefix(
    #[case] last_included_index: u64,
    #[case] last_included_term: Term,
    #[case] log: Log,
) {
    let mut stored = PersistentState {
        current_term: 5,
        voted_for: None,
        log: three_entries(),
        snapshot: Vec::new(),
    };
    let data = b"state".to_vec();
    stored.apply(StorageWrite::Snapshot { last_included_index, last_included_term, data });
    assert_eq!(
        (stored.log, stored.snapshot),
        (log, b"state".to_vec()),
        "the stored log and snapshot after a Snapshot write through \
         {last_included_index}/{last_included_term} on a log of terms 1, 1, 2"
    );
}

/// A state without a snapshot encodes as it always did (the new fields are left out); with
/// one, the log's boundary and the snapshot are written, and read back.
#[test]
fn storage_format_with_a_snapshot_is_pinned() {
    let json = String::from_utf8(with_snapshot().persistent().encode()).expect("JSON is UTF-8");
    assert_eq!(
        json,
        concat!(
            r#"{"current_term":5,"voted_for":7,"log":{"snapshot_index":2,"snapshot_term":1,"#,
            r#""entries":[{"term":2,"command":"c"}]},"snapshot":[97,44,98]}"#
        ),
        "PersistentState::encode with a snapshot through 2 (§7)"
    );
    let decoded = PersistentState::decode(json.as_bytes());
    assert_eq!(decoded, Ok(with_snapshot().persistent()), "decode of {json}");
}

/// Stable storage carries out writes in order: a term and vote, appended entries, a
/// truncation, more entries (§5.1; the writes stages 2-4 hand to the harness).
#[test]
fn storage_carries_out_writes_in_order() {
    let mut stored = PersistentState::default();
    let writes = [
        StorageWrite::HardState { current_term: 2, voted_for: Some(3) },
        StorageWrite::AppendLog { entries: vec![LogEntry::new(1, "a"), LogEntry::new(2, "x")] },
        StorageWrite::TruncateLog { from: 2 },
        StorageWrite::AppendLog { entries: vec![LogEntry::new(2, "y")] },
    ];
    for write in writes {
        stored.apply(write);
    }
    let log = Log::from_entries(vec![LogEntry::new(1, "a"), LogEntry::new(2, "y")]);
    assert_eq!(
        (stored.current_term, stored.voted_for, stored.log.last_index(), stored.log),
        (2, Some(3), 2, log),
        "(current_term, voted_for, last_index, log) after HardState(2, n3), AppendLog(a, x), \
         TruncateLog(from 2), AppendLog(y)"
    );
}
