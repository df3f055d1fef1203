//! The service's rules one at a time: the store and its sessions, the service node's writes,
//! its no-op and its reads (Raft dissertation §6.2-§6.4, §8).
//!
//! In the style of etcd's paper tests: the store's tests call it directly; the node's build
//! one node (or a small cluster on the simulated clock), feed it requests, messages and ticks,
//! and check what it answers and sends. Each test's doc line paraphrases the dissertation and
//! ends with its section. Suggested order: the store (`validate`, `execute`, `register`,
//! `apply`, `make_room`), then the node (`maybe_append_noop`, `maybe_answer_reads`,
//! `handle_request`, `handle_register`, `apply_entries`, `maybe_step_down`), then the reads (`start_read`, `handle_read_index`,
//! `handle_read_index_reply`, `confirmed`).

use data_structures::{AppendEntriesReply, RequestVoteReply};
use harness::service::kv::{KvOp, KvOutput};
use harness::service::{Answer, Reply, Request, Service};
use harness::{Cluster, Config, Envelope, Node, NodeId, Rng};
use kv::{
    Entry, KvError, KvNode, MAX_KEY_BYTES, MAX_VALUE_BYTES, Message, ReadIndex, Session, Store,
};
use pretty_assertions::assert_eq;
use rstest::rstest;

// ---------------------------------------------------------------------------------------------
// Helpers.

fn get(key: &str) -> KvOp {
    KvOp::Get { key: key.into() }
}

fn put(key: &str, value: &str) -> KvOp {
    KvOp::Put { key: key.into(), value: value.into() }
}

fn append(key: &str, value: &str) -> KvOp {
    KvOp::Append { key: key.into(), value: value.into() }
}

fn delete(key: &str) -> KvOp {
    KvOp::Delete { key: key.into() }
}

fn cas(key: &str, expected: Option<&str>, new: &str) -> KvOp {
    KvOp::Cas { key: key.into(), expected: expected.map(str::to_string), new: new.into() }
}

fn value(text: &str) -> KvOutput {
    KvOutput::Value(Some(text.into()))
}

/// A store holding `x = "1"`, no session.
fn store_with_x() -> Store {
    let mut store = Store::new(10);
    store.data.insert("x".into(), "1".into());
    store
}

/// A 3-node service cluster on the simulated clock, with disks, its snapshots checked.
fn cluster(seed: u64) -> Cluster<KvNode> {
    let mut cluster = Cluster::<KvNode>::new(3, seed).with_disks();
    cluster.service_snapshots();
    cluster
}

/// Runs `cluster` until node `id` sent a reply, at most `ticks`; returns the replies.
fn replies_within(cluster: &mut Cluster<KvNode>, id: NodeId, ticks: u64) -> Vec<Reply<KvOutput>> {
    let mut replies = cluster.take_replies(id);
    for _ in 0..ticks {
        if !replies.is_empty() {
            break;
        }
        cluster.tick();
        replies = cluster.take_replies(id);
    }
    replies
}

/// Client 7's request number `seq`.
fn request(seq: u64, op: KvOp) -> Request<KvOp> {
    Request { client: 7, seq, op }
}

/// Client `nonce` registers at `leader` (§6.3); returns the id its answer gives.
fn register(cluster: &mut Cluster<KvNode>, leader: NodeId, nonce: u64) -> u64 {
    cluster.register(leader, nonce);
    match replies_within(cluster, leader, 100).as_slice() {
        [Reply { client, seq: 0, answer: Answer::Registered { client_id } }]
            if *client == nonce =>
        {
            *client_id
        }
        other => {
            panic!("n{leader} should answer registration {nonce} with an id (§6.3): {other:?}")
        }
    }
}

/// A leader of a cluster with its no-op committed, and the cluster settled around it.
fn settled(seed: u64) -> (Cluster<KvNode>, NodeId) {
    let mut cluster = cluster(seed);
    let leader = cluster.check_one_leader();
    let noop = cluster.status(leader).last_log_index;
    let committed =
        cluster.run_until(100, |c| c.ids().iter().all(|&id| c.status(id).commit_index >= noop));
    assert!(committed, "seed {seed}: every node should commit the leader's no-op");
    (cluster, leader)
}

/// Node 1 of 3 (peers 2 and 3), alone on the test's bench, elected leader of term 1 by node 2.
fn bench_leader() -> KvNode {
    harness::watchdog::watch_this_test();
    let mut node = KvNode::new(1, vec![2, 3], Config::default(), Rng::new(1));
    while node.status().term == 0 {
        node.tick();
    }
    let vote = RequestVoteReply { term: 1, vote_granted: true };
    node.step(2, Message::Raft(data_structures::Message::RequestVoteReply(vote)));
    assert!(node.is_leader(), "node 1 won the vote of node 2");
    node.take_messages();
    node
}

/// Node 2 answers leader 1's AppendEntries: it holds everything through `match_index`.
fn stored_through(node: &mut KvNode, match_index: u64) {
    let reply = AppendEntriesReply { term: 1, success: true, match_index, conflict: None };
    node.step(2, Message::Raft(data_structures::Message::AppendEntriesReply(reply)));
}

/// The service's own messages `node` sent, as `(to, message)`.
fn read_checks(node: &mut KvNode) -> Vec<(NodeId, Message)> {
    let sent = node.take_messages().into_iter();
    let own = sent.filter(|envelope| !matches!(envelope.message, Message::Raft(_)));
    own.map(|Envelope { to, message, .. }| (to, message)).collect()
}

// ---------------------------------------------------------------------------------------------
// The store (§6.3).

/// A request over the size limits is refused before it goes anywhere; one at the limit passes.
#[rstest]
#[case::key_at_the_limit(get(&"k".repeat(MAX_KEY_BYTES)), Ok(()))]
#[case::key_too_long(get(&"k".repeat(MAX_KEY_BYTES + 1)), Err(KvError::KeyTooLong { bytes: MAX_KEY_BYTES + 1 }))]
#[case::value_at_the_limit(put("x", &"v".repeat(MAX_VALUE_BYTES)), Ok(()))]
#[case::put_value_too_long(put("x", &"v".repeat(MAX_VALUE_BYTES + 1)), Err(KvError::ValueTooLong { bytes: MAX_VALUE_BYTES + 1 }))]
#[case::append_value_too_long(append("x", &"v".repeat(MAX_VALUE_BYTES + 1)), Err(KvError::ValueTooLong { bytes: MAX_VALUE_BYTES + 1 }))]
#[case::cas_new_value_too_long(cas("x", None, &"v".repeat(MAX_VALUE_BYTES + 1)), Err(KvError::ValueTooLong { bytes: MAX_VALUE_BYTES + 1 }))]
#[case::delete_with_a_long_key(delete(&"k".repeat(MAX_KEY_BYTES + 1)), Err(KvError::KeyTooLong { bytes: MAX_KEY_BYTES + 1 }))]
fn validate_refuses_keys_and_values_over_the_limits(
    #[case] op: KvOp,
    #[case] expected: Result<(), KvError>,
) {
    assert_eq!(Store::validate(&op), expected, "validate({op})");
}

/// Each operation does what a sequential map does (the model the checker uses).
#[rstest]
#[case::get_present(get("x"), Ok(value("1")), Some("1"))]
#[case::get_absent(get("y"), Ok(KvOutput::Value(None)), Some("1"))]
#[case::put_replaces(put("x", "2"), Ok(KvOutput::Ok), Some("2"))]
#[case::append_adds_at_the_end(append("x", "2"), Ok(KvOutput::Ok), Some("12"))]
#[case::delete_removes(delete("x"), Ok(KvOutput::Ok), None)]
#[case::cas_with_the_value_sets(cas("x", Some("1"), "2"), Ok(KvOutput::Cas(true)), Some("2"))]
#[case::cas_with_another_value_does_nothing(
    cas("x", Some("0"), "2"),
    Ok(KvOutput::Cas(false)),
    Some("1")
)]
#[case::cas_expecting_absent_does_nothing_on_a_present_key(
    cas("x", None, "2"),
    Ok(KvOutput::Cas(false)),
    Some("1")
)]
fn execute_does_what_a_sequential_map_does(
    #[case] op: KvOp,
    #[case] output: Result<KvOutput, KvError>,
    #[case] x_after: Option<&str>,
) {
    let mut store = store_with_x();
    assert_eq!(store.execute(&op), output, "execute({op}) on x = \"1\"");
    assert_eq!(store.get("x").map(String::as_str), x_after, "x after {op}");
}

/// On absent keys: an append starts from "", a delete does nothing, a cas expecting absent sets.
#[test]
fn execute_on_absent_keys() {
    let mut store = Store::new(10);
    assert_eq!(store.execute(&append("a", "1")), Ok(KvOutput::Ok));
    assert_eq!(store.get("a").map(String::as_str), Some("1"), "append to an absent key");
    assert_eq!(store.execute(&delete("b")), Ok(KvOutput::Ok), "delete of an absent key");
    assert_eq!(store.execute(&cas("c", None, "3")), Ok(KvOutput::Cas(true)));
    assert_eq!(store.get("c").map(String::as_str), Some("3"), "cas from absent");
}

/// An append whose result would pass the value limit is refused and changes nothing.
#[test]
fn execute_refuses_an_append_whose_result_is_too_long() {
    let mut store = Store::new(10);
    store.data.insert("x".into(), "v".repeat(MAX_VALUE_BYTES));
    let refused = store.execute(&append("x", "w"));
    assert_eq!(refused, Err(KvError::ValueTooLong { bytes: MAX_VALUE_BYTES + 1 }));
    assert_eq!(store.get("x").map(String::len), Some(MAX_VALUE_BYTES), "x unchanged");
}

/// An append that brings the value to exactly the limit is accepted: the limit is inclusive.
#[test]
fn execute_accepts_an_append_up_to_exactly_the_limit() {
    let mut store = Store::new(10);
    store.data.insert("x".into(), "v".repeat(MAX_VALUE_BYTES - 1));
    assert_eq!(store.execute(&append("x", "w")), Ok(KvOutput::Ok));
    assert_eq!(store.get("x").map(String::len), Some(MAX_VALUE_BYTES));
}

/// A store of at most 10 sessions whose client 7 registered: its registration was applied at
/// log index 7, so 7 is its id.
fn store_with_client_7() -> Store {
    let mut store = Store::new(10);
    assert_eq!(store.register(7), 7, "a registration applied at index 7 opens client 7");
    store
}

/// A registration applied at log index `i` opens the session of client `i`: every server
/// applies it at the same index, so all agree on the id, and no other entry has that index, so
/// no other client gets it. The new session has applied nothing yet (§6.3).
#[test]
fn register_opens_a_session_whose_id_is_the_log_index() {
    let mut store = Store::new(10);
    assert_eq!(store.register(5), 5);
    assert_eq!(store.register(9), 9);
    let fresh = Session { last_seq: 0, answer: Ok(KvOutput::Ok), last_index: 5 };
    assert_eq!(store.sessions.get(&5), Some(&fresh), "client 5: no request applied yet");
    assert_eq!(store.apply(10, 5, 1, &put("x", "1")), Ok(KvOutput::Ok), "client 5's first");
    assert_eq!(store.get("x").map(String::as_str), Some("1"));
}

/// A request from a client that has no session is refused, "session expired", and changes
/// nothing: the store cannot know whether it applied the request before (§6.3).
#[test]
fn apply_refuses_a_client_without_a_session_and_changes_nothing() {
    let mut store = store_with_x();
    let before = store.clone();
    assert_eq!(
        store.apply(1, 7, 1, &put("x", "2")),
        Err(KvError::SessionExpired { client: 7 }),
        "client 7 never registered"
    );
    assert_eq!(store, before, "neither the map nor the sessions changed");
}

/// A new request is applied and its number and answer recorded in the client's session (§6.3).
#[test]
fn apply_records_the_last_request_of_each_client() {
    let mut store = store_with_client_7();
    assert_eq!(store.apply(8, 7, 1, &put("x", "1")), Ok(KvOutput::Ok));
    assert_eq!(store.apply(9, 7, 2, &get("x")), Ok(value("1")));
    let session = Session { last_seq: 2, answer: Ok(value("1")), last_index: 9 };
    assert_eq!(store.sessions.get(&7), Some(&session));
}

/// A retried request (the session's last number) is answered from the record and not applied
/// again: an append retried three times appends once (§6.3).
#[test]
fn apply_answers_a_retry_from_the_session_without_applying_it_again() {
    let mut store = store_with_client_7();
    assert_eq!(store.apply(8, 7, 1, &append("x", "a")), Ok(KvOutput::Ok));
    for index in 9..=11 {
        assert_eq!(store.apply(index, 7, 1, &append("x", "a")), Ok(KvOutput::Ok), "retry");
    }
    assert_eq!(store.get("x").map(String::as_str), Some("a"), "applied once");
    let other = store.register(12);
    store.apply(13, other, 1, &put("y", "1")).expect("another client");
    assert_eq!(
        store.apply(14, other, 1, &cas("y", Some("1"), "2")),
        Ok(KvOutput::Ok),
        "the recorded answer"
    );
}

/// A request older than the session's last is refused, changing nothing (§6.3).
#[test]
fn apply_refuses_a_request_older_than_the_last() {
    let mut store = store_with_client_7();
    store.apply(8, 7, 1, &put("x", "1")).expect("first");
    store.apply(9, 7, 2, &put("x", "2")).expect("second");
    assert_eq!(
        store.apply(10, 7, 1, &put("x", "1")),
        Err(KvError::StaleRequest { seq: 1, last: 2 })
    );
    assert_eq!(store.get("x").map(String::as_str), Some("2"), "x unchanged");
    assert_eq!(store.sessions[&7].last_seq, 2, "the session unchanged");
}

/// A refused request is remembered as well: its retry gets the same refusal (§6.3).
#[test]
fn apply_remembers_a_refusal_for_the_retries() {
    let mut store = store_with_client_7();
    let long = append("x", &"v".repeat(MAX_VALUE_BYTES + 1));
    let refusal = Err(KvError::ValueTooLong { bytes: MAX_VALUE_BYTES + 1 });
    assert_eq!(store.apply(8, 7, 1, &long), refusal);
    assert_eq!(store.apply(9, 7, 1, &long), refusal);
    assert_eq!(store.get("x"), None);
}

/// At most `max_sessions` sessions: a registration evicts the one whose last request (or
/// registration) has the smallest log index, the same one on every server (§6.3).
#[test]
fn make_room_evicts_the_session_used_least_recently_by_log_index() {
    let mut store = Store::new(2);
    let (a, b) = (store.register(1), store.register(2));
    store.apply(3, a, 1, &put("a", "1")).expect("client 1 again: now client 2 is the oldest");
    let c = store.register(4);
    let clients: Vec<u64> = store.sessions.keys().copied().collect();
    assert_eq!(clients, vec![a, c], "client {b} (index 2) was evicted");
    store.make_room();
    assert_eq!(store.sessions.len(), 1, "make_room leaves room for one more");
    assert!(store.sessions.contains_key(&c), "client 1 (index 3) went before client 4 (index 4)");
}

/// Exactly once survives eviction: client A's append is applied, A's session is evicted to
/// make room for B, and A's retry of that append is refused "session expired", not taken for a
/// new client's first request and applied a second time (§6.3). (Without registration, a
/// session began with a client's first write, and this retry applied again.)
#[test]
fn a_retry_after_its_session_was_evicted_is_refused_not_applied_twice() {
    let mut store = Store::new(1);
    let a = store.register(1);
    assert_eq!(store.apply(2, a, 1, &append("x", "a")), Ok(KvOutput::Ok), "applied");
    let b = store.register(3);
    let evicted: Vec<u64> = store.sessions.keys().copied().collect();
    assert_eq!(evicted, vec![b], "one session at most: B's registration evicts A's");
    let before = store.clone();
    assert_eq!(
        store.apply(4, a, 1, &append("x", "a")),
        Err(KvError::SessionExpired { client: a }),
        "A's retry after its session was evicted"
    );
    assert_eq!(store, before, "nothing changed");
    assert_eq!(store.get("x").map(String::as_str), Some("a"), "the append applied once");
}

/// The sessions are in the snapshot: a store restored from one still answers a retry from
/// the record and does not apply it again (§6.3, §7).
#[test]
fn a_store_restored_from_a_snapshot_still_refuses_to_apply_a_duplicate() {
    let mut store = store_with_client_7();
    store.apply(8, 7, 1, &append("x", "a")).expect("applied");
    let mut restored = Store::restore(&store.snapshot());
    assert_eq!(restored, store);
    assert_eq!(restored.apply(9, 7, 1, &append("x", "a")), Ok(KvOutput::Ok));
    assert_eq!(restored.get("x").map(String::as_str), Some("a"), "not applied twice");
}

// ---------------------------------------------------------------------------------------------
// The service node (§6.2, §8).

/// A new leader appends an entry of its own term at once, a no-op (§8).
#[test]
fn a_new_leader_appends_a_noop_of_its_term() {
    let node = bench_leader();
    let (term, command) = node.log_entry(1).expect("the leader's first entry");
    assert_eq!((term, Entry::decode(command)), (1, Entry::Noop));
    assert_eq!(node.status().last_log_index, 1, "one no-op, not one per input");
}

/// A server that does not lead answers "not leader", naming the leader it knows (§6.2).
#[test]
fn a_follower_answers_not_leader_with_the_leader_it_knows() {
    let (mut cluster, leader) = settled(1);
    let follower = cluster.ids().into_iter().find(|&id| id != leader).expect("a follower");
    cluster.request(follower, request(1, put("x", "1")));
    let answer = Answer::NotLeader { leader_hint: Some(leader) };
    assert_eq!(cluster.take_replies(follower), vec![Reply { client: 7, seq: 1, answer }]);
    assert_eq!(cluster.status(follower).last_log_index, cluster.status(leader).last_log_index);
}

/// A request over the limits is refused at once, with the reason, and nothing is appended.
#[test]
fn a_request_over_the_limits_is_refused_and_appends_nothing() {
    let (mut cluster, leader) = settled(1);
    let last = cluster.status(leader).last_log_index;
    cluster.request(leader, request(1, put("x", &"v".repeat(MAX_VALUE_BYTES + 1))));
    let replies = cluster.take_replies(leader);
    let bytes = MAX_VALUE_BYTES + 1;
    let why = format!("value of {bytes} bytes is longer than the limit of {MAX_VALUE_BYTES}");
    assert_eq!(replies, vec![Reply { client: 7, seq: 1, answer: Answer::Refused(why) }]);
    assert_eq!(cluster.status(leader).last_log_index, last);
}

/// The leader proposes a write and answers only once its entry is applied, with the store's
/// answer (§6.2): a leader cut off from the majority never answers.
#[test]
fn a_write_is_answered_once_its_entry_is_applied_never_before() {
    let (mut cluster, leader) = settled(2);
    let client = register(&mut cluster, leader, 7);
    let others: Vec<NodeId> = cluster.ids().into_iter().filter(|&id| id != leader).collect();
    cluster.partition(&[&[leader], &others]);
    let last = cluster.status(leader).last_log_index;
    cluster.request(leader, Request { client, seq: 1, op: put("x", "1") });
    assert_eq!(cluster.status(leader).last_log_index, last + 1, "the write is in the log");
    let early = replies_within(&mut cluster, leader, 30);
    assert_eq!(early, vec![], "n{leader} cannot commit without a majority, so it cannot answer");
    let new_leader = cluster.check_one_leader();
    assert_ne!(new_leader, leader, "the majority elects a leader of its own");
    cluster.heal();
    cluster.run_for(10);
    for id in cluster.ids() {
        cluster.take_replies(id);
    }
    cluster.request(new_leader, Request { client, seq: 2, op: put("y", "2") });
    let replies = replies_within(&mut cluster, new_leader, 100);
    let done = Reply { client, seq: 2, answer: Answer::Done(KvOutput::Ok) };
    assert_eq!(replies, vec![done]);
    let node = cluster.node(new_leader);
    assert!(node.state().last_applied >= cluster.status(new_leader).last_log_index);
}

/// A write whose index another leader's entry took is answered "not leader", never with the
/// other entry's answer (§6.2): the leader is deposed before its two writes commit, and the new
/// leader's no-op and write take their indexes.
#[test]
fn a_write_whose_index_another_entry_took_is_answered_not_leader() {
    let (mut cluster, old) = settled(3);
    let client = register(&mut cluster, old, 3);
    cluster.run_for(10);
    let others: Vec<NodeId> = cluster.ids().into_iter().filter(|&id| id != old).collect();
    cluster.partition(&[&[old], &others]);
    cluster.request(old, Request { client: 1, seq: 1, op: put("x", "lost") });
    cluster.request(old, Request { client: 2, seq: 1, op: put("y", "lost") });
    let index = cluster.status(old).last_log_index;
    let new = cluster.check_one_leader();
    cluster.request(new, Request { client, seq: 1, op: put("y", "new") });
    assert_eq!(cluster.status(new).last_log_index, index, "the new write takes the same index");
    assert_eq!(replies_within(&mut cluster, new, 100).len(), 1, "the new leader answers");
    cluster.take_replies(old);
    cluster.heal();
    let mut answers = Vec::new();
    cluster.run_until(100, |c| c.node(old).state().last_applied >= index);
    answers.extend(cluster.take_replies(old));
    let expected: Vec<Reply<KvOutput>> = (1..=2)
        .map(|client| Reply {
            client,
            seq: 1,
            answer: Answer::NotLeader { leader_hint: Some(new) },
        })
        .collect();
    assert_eq!(answers, expected, "n{old}'s writes were lost: both answered not leader");
    assert_eq!(cluster.node(old).store.get("y").map(String::as_str), Some("new"));
    assert_eq!(cluster.node(old).store.get("x"), None);
}

/// A leader that steps down answers every write it still holds "not leader" (§6.2): it cannot
/// know whether their entries will commit.
#[test]
fn a_deposed_leader_answers_its_waiting_writes_not_leader() {
    let (mut cluster, old) = settled(4);
    cluster.isolate(old);
    cluster.request(old, request(1, put("x", "1")));
    assert_eq!(cluster.take_replies(old), vec![]);
    let new = cluster.check_one_leader();
    hear_newer_leader(&mut cluster, old, new);
    let answer = Answer::NotLeader { leader_hint: Some(new) };
    assert_eq!(cluster.take_replies(old), vec![Reply { client: 7, seq: 1, answer }]);
}

/// A leader that steps down answers every read it still holds "not leader" (§6.2, §6.4): the
/// leadership round the read waits for can no longer succeed, and the client must retry at the
/// new leader rather than wait for its timeout.
#[test]
fn a_deposed_leader_answers_its_waiting_reads_not_leader() {
    let (mut cluster, old) = settled(4);
    cluster.isolate(old);
    cluster.request(old, request(1, get("x")));
    assert_eq!(cluster.take_replies(old), vec![], "an isolated leader's read waits for its round");
    let new = cluster.check_one_leader();
    hear_newer_leader(&mut cluster, old, new);
    let answer = Answer::NotLeader { leader_hint: Some(new) };
    let replies = cluster.take_replies(old);
    let why = format!("n{old} stepped down: its waiting read is answered not leader (§6.2, §6.4)");
    assert_eq!(replies, vec![Reply { client: 7, seq: 1, answer }], "{why}");
}

/// Node `old` gets a heartbeat of leader `new` in a newer term, as if one got through its
/// isolation: it steps down.
fn hear_newer_leader(cluster: &mut Cluster<KvNode>, old: NodeId, new: NodeId) {
    cluster.with_node(old, |node| {
        let term = cluster_term(node) + 1;
        let heartbeat = data_structures::AppendEntries {
            term,
            leader_id: new,
            prev_log_index: 0,
            prev_log_term: 0,
            entries: Vec::new(),
            leader_commit: 0,
        };
        node.step(new, Message::Raft(data_structures::Message::AppendEntries(heartbeat)));
    });
}

fn cluster_term(node: &KvNode) -> u64 {
    node.state().current_term
}

/// A retry that reaches the leader while the same request waits there is not proposed again.
#[test]
fn a_retry_waiting_at_the_leader_is_not_proposed_twice() {
    let (mut cluster, leader) = settled(5);
    let last = cluster.status(leader).last_log_index;
    cluster.request(leader, request(1, append("x", "a")));
    cluster.request(leader, request(1, append("x", "a")));
    assert_eq!(cluster.status(leader).last_log_index, last + 1);
}

// ---------------------------------------------------------------------------------------------
// Registration (§6.3).

/// A client registers through the log: the leader appends a registration, and once it is
/// applied answers with the entry's index, the client's id; every server opened the session
/// under that id (§6.3).
#[test]
fn a_registration_is_answered_with_the_index_of_its_entry() {
    let (mut cluster, leader) = settled(6);
    cluster.register(leader, 42);
    let index = cluster.status(leader).last_log_index;
    let (term, command) = cluster.node(leader).log_entry(index).expect("the registration");
    assert_eq!(Entry::decode(command), Entry::Register, "n{leader}'s entry {index} (term {term})");
    let answer = Answer::Registered { client_id: index };
    let replies = replies_within(&mut cluster, leader, 100);
    assert_eq!(replies, vec![Reply { client: 42, seq: 0, answer }], "answered to nonce 42");
    cluster.run_until(100, |c| c.ids().iter().all(|&id| c.node(id).state().last_applied >= index));
    for id in cluster.ids() {
        let session = cluster.node(id).store.sessions.get(&index).cloned();
        let fresh = Session { last_seq: 0, answer: Ok(KvOutput::Ok), last_index: index };
        assert_eq!(session, Some(fresh), "n{id} opened session {index}");
    }
}

/// A server that does not lead answers a registration "not leader", naming the leader it
/// knows, and appends nothing (§6.3).
#[test]
fn a_follower_answers_a_registration_not_leader() {
    let (mut cluster, leader) = settled(1);
    let follower = cluster.ids().into_iter().find(|&id| id != leader).expect("a follower");
    let last = cluster.status(leader).last_log_index;
    cluster.register(follower, 42);
    let answer = Answer::NotLeader { leader_hint: Some(leader) };
    assert_eq!(cluster.take_replies(follower), vec![Reply { client: 42, seq: 0, answer }]);
    assert_eq!(cluster.status(follower).last_log_index, last, "nothing appended");
}

/// A registration retried while the first waits at the same leader is not proposed again.
#[test]
fn a_retried_registration_waiting_at_the_leader_is_not_proposed_twice() {
    let (mut cluster, leader) = settled(5);
    let last = cluster.status(leader).last_log_index;
    cluster.register(leader, 42);
    cluster.register(leader, 42);
    assert_eq!(cluster.status(leader).last_log_index, last + 1);
}

/// A write from a client without a session goes through the log, and is answered "session
/// expired" once applied, changing nothing on any server: the client cannot learn whether an
/// earlier copy was applied (§6.3).
#[test]
fn a_write_without_a_session_is_answered_session_expired_and_changes_nothing() {
    let (mut cluster, leader) = settled(7);
    cluster.request(leader, request(1, put("x", "1")));
    let index = cluster.status(leader).last_log_index;
    let replies = replies_within(&mut cluster, leader, 100);
    assert_eq!(replies, vec![Reply { client: 7, seq: 1, answer: Answer::SessionExpired }]);
    cluster.run_until(100, |c| c.ids().iter().all(|&id| c.node(id).state().last_applied >= index));
    for id in cluster.ids() {
        let store = &cluster.node(id).store;
        assert_eq!((store.get("x"), store.sessions.len()), (None, 0), "n{id}'s store unchanged");
    }
}

// ---------------------------------------------------------------------------------------------
// Reads (§6.4).

/// A read puts nothing in the log: the leader answers it after one round of leadership checks
/// (§6.4). (Client 7 reads without a session: a read changes nothing, so it needs none.)
#[test]
fn a_read_puts_nothing_in_the_log() {
    let (mut cluster, leader) = settled(1);
    let writer = register(&mut cluster, leader, 1);
    cluster.request(leader, Request { client: writer, seq: 1, op: put("x", "1") });
    replies_within(&mut cluster, leader, 100);
    let last = cluster.status(leader).last_log_index;
    for seq in 2..=6 {
        cluster.request(leader, request(seq, get("x")));
        let replies = replies_within(&mut cluster, leader, 100);
        let done = Reply { client: 7, seq, answer: Answer::Done(value("1")) };
        assert_eq!(replies, vec![done]);
    }
    assert_eq!(cluster.status(leader).last_log_index, last, "five reads, no entry");
    assert!(cluster.stats().kind("ReadIndex").sent >= 10, "{:?}", cluster.stats());
}

/// A leader cut off from the majority does not answer a read: it cannot confirm that it still
/// leads, and a newer leader may have taken writes it has not seen (§6.4).
#[test]
fn an_isolated_leader_does_not_answer_a_read() {
    let (mut cluster, leader) = settled(2);
    cluster.isolate(leader);
    cluster.request(leader, request(1, get("x")));
    assert_eq!(replies_within(&mut cluster, leader, 60), vec![], "no majority, no answer");
}

/// A new leader answers no read before an entry of its own term committed (§6.4, §8): until
/// then its commit index may lag behind what earlier leaders committed.
#[test]
fn a_leader_answers_reads_only_once_an_entry_of_its_term_committed() {
    let mut node = bench_leader();
    node.request(request(1, get("x")));
    let checks = read_checks(&mut node);
    assert_eq!(checks.len(), 2, "a round to both followers: {checks:?}");
    let Message::ReadIndex(round) = checks[0].1 else { panic!("{checks:?}") };
    node.step(2, Message::ReadIndexReply(round));
    assert_eq!(node.take_replies(), vec![], "the no-op at index 1 is not committed yet");
    stored_through(&mut node, 1);
    let done = Reply { client: 7, seq: 1, answer: Answer::Done(KvOutput::Value(None)) };
    assert_eq!(node.take_replies(), vec![done], "committed: the read is answered");
    assert_eq!(node.status().last_log_index, 1, "still only the no-op");
}

/// A follower confirms a round of a leader whose term is at least its own, and only then
/// (§6.4): one that knows a newer term may have voted for a newer leader.
#[rstest]
#[case::same_term(1, 1, true)]
#[case::newer_leader(1, 2, true)]
#[case::stale_leader(2, 1, false)]
fn a_follower_confirms_a_round_only_without_a_newer_term(
    #[case] follower_term: u64,
    #[case] leader_term: u64,
    #[case] answers: bool,
) {
    harness::watchdog::watch_this_test();
    let mut node = KvNode::new(2, vec![1, 3], Config::default(), Rng::new(2));
    node.state_mut().current_term = follower_term;
    let check = ReadIndex { term: leader_term, round: 4 };
    node.step(1, Message::ReadIndex(check));
    let expected = if answers { vec![(1, Message::ReadIndexReply(check))] } else { vec![] };
    assert_eq!(read_checks(&mut node), expected);
}

/// Only answers to a round the leader started after the read arrived confirm it (§6.4): an
/// answer to an earlier round may have been sent before a newer leader was elected.
#[test]
fn only_a_round_started_after_the_read_confirms_it() {
    let mut node = bench_leader();
    stored_through(&mut node, 1);
    node.register(9);
    stored_through(&mut node, 2);
    let registered = Reply { client: 9, seq: 0, answer: Answer::Registered { client_id: 2 } };
    assert_eq!(node.take_replies(), vec![registered], "the registration at index 2");
    node.request(Request { client: 2, seq: 1, op: put("x", "1") });
    stored_through(&mut node, 3);
    node.take_replies();
    node.request(request(2, get("x")));
    let first = read_checks(&mut node);
    let Message::ReadIndex(round) = first[0].1 else { panic!("{first:?}") };
    node.request(request(3, get("x")));
    let second = read_checks(&mut node);
    let Message::ReadIndex(later) = second[0].1 else { panic!("{second:?}") };
    assert!(later.round > round.round, "each read starts a round of its own");
    node.step(2, Message::ReadIndexReply(round));
    let first_read = Reply { client: 7, seq: 2, answer: Answer::Done(value("1")) };
    assert_eq!(node.take_replies(), vec![first_read], "round {} confirms read 2 only", round.round);
    node.step(2, Message::ReadIndexReply(round));
    assert_eq!(node.take_replies(), vec![], "the same answer again confirms nothing newer");
    node.step(3, Message::ReadIndexReply(later));
    let second_read = Reply { client: 7, seq: 3, answer: Answer::Done(value("1")) };
    assert_eq!(node.take_replies(), vec![second_read]);
}

/// A majority of four is three: a leader of four servers answers a read only once two
/// followers confirmed its round; itself and one follower are half, not a majority (§6.4,
/// §5.2: two halves could each elect a leader).
#[test]
fn a_leader_of_four_needs_two_followers_to_confirm_a_read() {
    harness::watchdog::watch_this_test();
    let mut node = KvNode::new(1, vec![2, 3, 4], Config::default(), Rng::new(1));
    while node.status().term == 0 {
        node.tick();
    }
    let vote = RequestVoteReply { term: 1, vote_granted: true };
    for voter in [2, 3] {
        node.step(voter, Message::Raft(data_structures::Message::RequestVoteReply(vote.clone())));
    }
    assert!(node.is_leader(), "node 1 won the votes of nodes 2 and 3");
    let stored = AppendEntriesReply { term: 1, success: true, match_index: 1, conflict: None };
    for follower in [2, 3] {
        let reply = data_structures::Message::AppendEntriesReply(stored.clone());
        node.step(follower, Message::Raft(reply));
    }
    assert_eq!(node.status().commit_index, 1, "commit_index: the no-op is on three of four");
    node.take_messages();
    node.request(request(1, get("x")));
    let checks = read_checks(&mut node);
    assert_eq!(checks.len(), 3, "a round to the three followers: {checks:?}");
    let Message::ReadIndex(round) = checks[0].1 else { panic!("{checks:?}") };
    node.step(2, Message::ReadIndexReply(round));
    assert_eq!(node.take_replies(), vec![], "nodes 1 and 2 are two of four: not a majority");
    node.step(3, Message::ReadIndexReply(round));
    let done = Reply { client: 7, seq: 1, answer: Answer::Done(KvOutput::Value(None)) };
    assert_eq!(node.take_replies(), vec![done], "nodes 1, 2 and 3: a majority of four");
}

/// A round may be lost on the way: while a read waits, its leader starts a new round every
/// heartbeat interval, not sooner, and an answer to the new round confirms the read (§6.4).
#[test]
fn a_waiting_read_gets_a_new_round_every_heartbeat_interval() {
    let mut node = bench_leader();
    stored_through(&mut node, 1);
    node.request(request(1, get("x")));
    let lost = read_checks(&mut node);
    let Message::ReadIndex(round) = lost[0].1 else { panic!("{lost:?}") };
    let interval = Config::default().heartbeat_interval;
    for tick in 1..interval {
        node.tick();
        assert_eq!(read_checks(&mut node), vec![], "tick {tick} of {interval}: no new round yet");
    }
    node.tick();
    let next = ReadIndex { term: 1, round: round.round + 1 };
    let again = vec![(2, Message::ReadIndex(next)), (3, Message::ReadIndex(next))];
    assert_eq!(
        read_checks(&mut node),
        again,
        "tick {interval}: a new round, since round {} was lost",
        round.round
    );
    node.step(3, Message::ReadIndexReply(next));
    let done = Reply { client: 7, seq: 1, answer: Answer::Done(KvOutput::Value(None)) };
    assert_eq!(node.take_replies(), vec![done]);
}

/// A leader alone in its cluster confirms its reads by itself (a majority of one).
#[test]
fn a_single_server_answers_reads_at_once() {
    let mut cluster = Cluster::<KvNode>::new(1, 1).with_disks();
    cluster.service_snapshots();
    cluster.check_one_leader();
    cluster.run_for(2);
    cluster.request(1, request(1, get("x")));
    let done = Reply { client: 7, seq: 1, answer: Answer::Done(KvOutput::Value(None)) };
    assert_eq!(cluster.take_replies(1), vec![done]);
}

/// A log entry of the service is a client's registration, a client's request or a no-op, as
/// JSON; a raw command proposed through the harness is one too.
#[test]
fn entries_round_trip_through_the_log() {
    let entry = Entry::Request(request(1, put("x", "1")));
    assert_eq!(Entry::decode(&entry.encode()), entry);
    assert_eq!(Entry::decode(&Entry::Register.encode()), Entry::Register);
    let (mut cluster, leader) = settled(1);
    let (client, _) = cluster.propose(leader, Entry::Register.encode()).expect("a registration");
    let entry = Entry::Request(Request { client, seq: 1, op: put("x", "1") });
    let (index, _) = cluster.propose(leader, entry.encode()).expect("the leader accepts");
    cluster.run_until(50, |c| c.node(leader).state().last_applied >= index);
    assert_eq!(cluster.node(leader).store.get("x").map(String::as_str), Some("1"));
}
