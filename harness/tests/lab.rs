//! The classic lab's helpers: `one()` and clients side by side, `connect`/`disconnect`, and
//! reaching one node directly (`deliver`, `with_node`).

mod common;

use common::*;
use harness::trace::Event;
use harness::{Client, Cluster, NodeId};
use pretty_assertions::assert_eq;

/// The nodes a run offered proposals to, in order, and whether each accepted.
fn offers(cluster: &Cluster<Correct>) -> Vec<(NodeId, bool)> {
    let records = cluster.trace().recent();
    let proposals = records.filter_map(|record| match &record.event {
        Event::Propose { node, index, .. } => Some((*node, index.is_some())),
        _ => None,
    });
    proposals.collect()
}

/// `one` returns the index at which the expected number of nodes applied the command, and
/// `committed_count` then reports them (the lab's `nCommitted`).
#[test]
fn one_returns_the_index_every_node_applied_the_command_at() {
    let mut cluster = Cluster::<Correct>::new(3, 1);
    for i in 1..=3 {
        assert_eq!(cluster.one(format!("c{i}"), 3, false), i);
    }
    assert_eq!(cluster.committed_count(3), (3, Some("c3".to_string())));
}

/// Like the lab's `one()`, each attempt offers the command to the nodes in turn starting
/// after the one tried last (the lab's `starts`, from 0: n2 first), and skips nodes that are
/// not connected (§5.3: only the leader accepts; here the toy's leader is n1).
#[test]
fn one_offers_the_command_to_connected_nodes_in_turn() {
    let mut cluster = Cluster::<Correct>::new(3, 1);
    cluster.run_for(1);
    cluster.one("a".to_string(), 3, false);
    assert_eq!(offers(&cluster), [(2, false), (3, false), (1, true)]);

    let mut cluster = Cluster::<Correct>::new(3, 1);
    cluster.run_for(1);
    cluster.disconnect(2);
    cluster.one("a".to_string(), 2, false);
    assert_eq!(offers(&cluster), [(3, false), (1, true)], "n2 is disconnected");
}

/// With `retry` off, one agreement window (2 maximal election timeouts, 80 ticks here) that
/// passes without agreement fails the run, saying who accepted the command, where and when.
#[test]
fn one_without_retry_fails_after_one_agreement_window() {
    let report = failure_of(|| {
        let mut cluster = Cluster::<Correct>::new(3, 1);
        cluster.cut(1, 2);
        cluster.cut(1, 3);
        cluster.one("x".to_string(), 2, false);
    });
    let expected = "harness: one(\"x\"): no agreement within 80 ticks, retry off: n1 accepted \
                    it at index 1 at tick 4, and 0 of the expected 2 nodes applied it there";
    assert!(report.contains(expected), "{report}");
    assert!(report.contains("at:       tick 84,"), "{report}");
}

/// With `retry` off, the failure says how many nodes applied the command at its index, out of
/// how many expected.
#[test]
fn one_without_retry_says_how_many_nodes_applied_the_command() {
    let report = failure_of(|| {
        let mut cluster = Cluster::<Correct>::new(3, 1);
        cluster.cut(1, 3);
        cluster.one("x".to_string(), 3, false);
    });
    let expected = "harness: one(\"x\"): no agreement within 80 ticks, retry off: n1 accepted \
                    it at index 1 at tick 4, and 2 of the expected 3 nodes applied it there\n";
    assert!(report.contains(expected), "{report}");
}

/// If another command was applied at the index the leader gave (its entry was replaced, as a
/// new leader may do, §5.4.2), the failure names that command. Here a message the test forges
/// for n2, from a leader of term 2, puts "other" at index 1 and commits it.
#[test]
fn one_without_retry_names_the_command_applied_in_its_place() {
    let mut cluster = Cluster::<Correct>::new(3, 1);
    cluster.cut(1, 2);
    cluster.cut(1, 3);
    cluster.run_for(1);
    let mut client = Client::new("x".to_string(), 2, false);
    assert_eq!(client.poll(&mut cluster), None);
    let other = Message::Append { term: 2, prev: 0, entries: vec!["other".into()], commit: 1 };
    cluster.deliver(2, 3, other);
    assert_eq!(cluster.committed_count(1), (1, Some("other".to_string())));
    cluster.run_for(80);
    let expected = "one(\"x\"): no agreement within 80 ticks, retry off: n1 accepted it at index \
                    1 at tick 1, and 0 of the expected 2 nodes applied it there, and \"other\" \
                    was applied there";
    assert_eq!(client.poll(&mut cluster), Some(Err(expected.to_string())));
}

/// Like the lab's `one()`, at least one node must have applied the command, even when fewer
/// are expected.
#[test]
fn one_waits_for_at_least_one_node_even_if_none_is_expected() {
    let mut cluster = Cluster::<Correct>::new(3, 1);
    cluster.run_for(1);
    let mut client = Client::new("x".to_string(), 0, false);
    assert_eq!(client.poll(&mut cluster), None, "offered, applied nowhere yet");
    assert_eq!(cluster.one("y".to_string(), 0, false), 2);
    assert!(cluster.committed_count(2).0 >= 1);
}

/// With `retry` on, `one` keeps offering the command for 10 maximal election timeouts (400
/// ticks here), then fails the run.
#[test]
fn one_with_retry_gives_up_after_ten_election_timeouts() {
    let report = failure_of(|| {
        let mut cluster = Cluster::<Correct>::new(3, 1);
        cluster.cut(1, 2);
        cluster.cut(1, 3);
        cluster.one("x".to_string(), 2, true);
    });
    let expected = "harness: one(\"x\"): not applied by 2 nodes at one index within 400 ticks \
                    (10 election timeouts of at most 40 ticks), retrying across leaders";
    assert!(report.contains(expected), "{report}");
    // Windows ran 4..84, 84..164, ..., 324..404: like the lab, `one` looks at its bound when it
    // is about to offer the command again.
    assert!(report.contains("at:       tick 404,"), "{report}");
}

/// With `retry` on, a client offers the command again once an agreement window (80 ticks
/// here) passed without agreement: a new leader may have replaced the entry (§5.4.2).
#[test]
fn client_with_retry_offers_again_after_each_window() {
    let mut cluster = Cluster::<Correct>::new(3, 1);
    cluster.cut(1, 2);
    cluster.cut(1, 3);
    cluster.run_for(1);
    let mut client = Client::new("x".to_string(), 2, true);
    assert_eq!(client.poll(&mut cluster), None);
    cluster.run_for(79);
    assert_eq!(client.poll(&mut cluster), None);
    assert_eq!(offers(&cluster), [(2, false), (3, false), (1, true)], "window still open");
    cluster.run_for(1);
    assert_eq!(client.poll(&mut cluster), None);
    let accepted: Vec<_> = offers(&cluster).into_iter().filter(|&(_, yes)| yes).collect();
    assert_eq!(accepted, [(1, true), (1, true)], "offered again once the window passed");
}

/// When no connected node leads, `one` fails after its bound too: an isolated leader is not
/// offered anything.
#[test]
fn one_fails_when_only_a_disconnected_node_leads() {
    let report = failure_of(|| {
        let mut cluster = Cluster::<Correct>::new(3, 1);
        cluster.disconnect(1);
        cluster.one("x".to_string(), 1, true);
    });
    assert!(report.contains("harness: one(\"x\"): not applied by 1 nodes"), "{report}");
    assert!(!report.contains("n1@1 propose"), "n1 is disconnected:\n{report}");
}

/// Polling a client takes one step at the current tick and never runs the clock.
#[test]
fn polling_a_client_does_not_run_the_clock() {
    let mut cluster = Cluster::<Correct>::new(3, 1);
    cluster.run_for(1);
    let mut client = Client::new("a".to_string(), 3, true);
    assert_eq!(client.poll(&mut cluster), None);
    assert_eq!(cluster.now(), 1);
    assert_eq!(offers(&cluster), [(2, false), (3, false), (1, true)]);
    assert_eq!(client.poll(&mut cluster), None, "nobody applied it yet");
    assert_eq!(offers(&cluster).len(), 3, "no second offer within the agreement window");
    assert!(cluster.run_until(40, |c| c.committed_count(1).0 == 3));
    assert_eq!(client.poll(&mut cluster), Some(Ok(1)));
    assert_eq!(client.poll(&mut cluster), Some(Ok(1)), "a finished client says so again");
}

/// Several clients run side by side: their proposals go out in the same round and commit
/// together, so three take no longer than one, and each gets its own index.
#[test]
fn clients_run_side_by_side() {
    let mut one_by_one = Cluster::<Correct>::new(3, 1);
    for command in ["a", "b", "c"] {
        one_by_one.one(command.to_string(), 3, true);
    }
    let mut side_by_side = Cluster::<Correct>::new(3, 1);
    let mut clients: Vec<Client<String>> =
        ["a", "b", "c"].iter().map(|c| Client::new(c.to_string(), 3, true)).collect();
    let indexes = side_by_side.run_clients(&mut clients);

    assert_eq!(indexes, [1, 2, 3]);
    for (index, command) in (1..).zip(["a", "b", "c"]) {
        assert_eq!(side_by_side.committed_count(index), (3, Some(command.to_string())));
    }
    assert!(
        side_by_side.now() * 2 < one_by_one.now(),
        "side by side took {} ticks, one by one {}",
        side_by_side.now(),
        one_by_one.now()
    );
}

/// A client that gives up fails `run_clients` with its report.
#[test]
fn run_clients_fails_with_the_report_of_a_client_that_gives_up() {
    let report = failure_of(|| {
        let mut cluster = Cluster::<Correct>::new(3, 1);
        cluster.cut(1, 3);
        let mut clients =
            [Client::new("a".to_string(), 2, false), Client::new("b".to_string(), 3, false)];
        cluster.run_clients(&mut clients);
    });
    assert!(
        report.contains("harness: one(\"b\"): no agreement within 80 ticks, retry off"),
        "{report}"
    );
}

/// Messages that were received in the trace's recent events, as (from, to).
fn received(cluster: &Cluster<Correct>) -> Vec<(NodeId, NodeId)> {
    let records = cluster.trace().recent();
    let received = records.filter_map(|record| match record.event {
        Event::Receive { from, to, .. } => Some((from, to)),
        _ => None,
    });
    received.collect()
}

/// The lab's `connect(i)` undoes `disconnect(i)`: links come back between `i` and every node
/// that is itself connected, and only those.
#[test]
fn connect_reopens_links_to_connected_nodes_only() {
    let mut cluster = Cluster::<Correct>::new(3, 1);
    cluster.disconnect(1);
    cluster.disconnect(2);
    assert!(!cluster.is_connected(1) && !cluster.is_connected(2));
    cluster.connect(1);
    assert!(cluster.is_connected(1) && !cluster.is_connected(2));
    cluster.run_for(30);
    let heard = received(&cluster);
    assert!(heard.contains(&(1, 3)) && heard.contains(&(3, 1)), "n1 and n3 talk: {heard:?}");
    assert!(
        !heard.iter().any(|&(from, to)| from == 2 || to == 2),
        "n2 is still cut off: {heard:?}"
    );

    cluster.connect(2);
    assert!(cluster.is_connected(2));
    cluster.run_for(30);
    let heard = received(&cluster);
    assert!(heard.contains(&(1, 2)) && heard.contains(&(2, 1)), "n1 and n2 talk: {heard:?}");
    let trace: Vec<String> = cluster.trace().recent().map(|r| r.event.to_string()).collect();
    assert!(trace.join("\n").contains("network: connect n2"), "{trace:#?}");
}

/// `deliver` hands one node a message the test built, from the sender and in the term of its
/// choice: the node steps it now, its answer goes out over the network, and it is traced as a
/// receive but not counted as network traffic.
#[test]
fn deliver_hands_one_node_a_built_message() {
    let mut cluster = Cluster::<Correct>::new(3, 1);
    let delivered = cluster.stats().total().delivered;
    let sent = cluster.stats().total().sent;
    let append = Message::Append { term: 5, prev: 0, entries: vec![], commit: 0 };
    cluster.deliver(2, 1, append);

    assert_eq!(cluster.status(2).term, 5);
    assert_eq!(cluster.stats().total().delivered, delivered, "it never crossed the network");
    assert_eq!(cluster.stats().total().sent, sent + 1, "n2's answer did");
    let last: Vec<String> = cluster.trace().recent().map(|r| r.event.to_string()).collect();
    assert!(last.contains(&"n2@0 ← n1 Append t5 prev 0 +0 commit 0".to_string()), "{last:#?}");
}

/// After `deliver`, the checks run as after any event: a message that makes a follower store
/// another entry where the leader has one of the same index and term breaks Log Matching at
/// once (§5.3).
#[test]
fn deliver_is_followed_by_the_checks() {
    let report = failure_of(|| {
        let mut cluster = Cluster::<Correct>::new(3, 1);
        cluster.run_for(1);
        cluster.propose(1, "good".to_string()).expect("n1 leads");
        let forged = Message::Append { term: 1, prev: 0, entries: vec!["evil".into()], commit: 0 };
        cluster.deliver(2, 3, forged);
    });
    assert!(
        report.contains("harness: Log Matching (§5.3) violated: n2 and n1 both hold an entry at index 1 in term 1"),
        "{report}"
    );
    assert!(report.contains("n2@0 ← n3 Append t1 prev 0 +1 commit 0"), "{report}");
}

/// `with_node` reaches into one node and returns what the closure returns; the checks run
/// afterwards, so a change that breaks a rule is caught at once (here a term that goes down,
/// §5.1).
#[test]
fn with_node_reaches_one_node_and_is_followed_by_the_checks() {
    let mut cluster = Cluster::<Correct>::new(3, 1);
    cluster.run_for(10);
    let id = cluster.with_node(3, |node| harness::Node::id(node));
    assert_eq!(id, 3);

    let report = failure_of(move || {
        cluster.with_node(3, |node| node.set_term(0));
    });
    assert!(
        report.contains(
            "harness: Term monotonicity (§5.1) violated: n3's current_term went down from 1 to 0"
        ),
        "{report}"
    );
    assert!(report.contains("n3@1 with_node (the test)"), "{report}");
}

/// `deliver` needs a sender that is another node of the cluster.
#[test]
fn deliver_refuses_a_sender_that_is_not_another_node() {
    for from in [2, 4] {
        let report = failure_of(|| {
            let mut cluster = Cluster::<Correct>::new(3, 1);
            cluster.deliver(2, from, Message::Ack { term: 1, matched: 0 });
        });
        let expected = format!(
            "harness: deliver(n2, n{from}, Ack t1 match 0): the sender must be another node in 1..=3"
        );
        assert!(report.contains(&expected), "{report}");
    }
}

/// `deliver` and `with_node` refuse a crashed node, with the report.
#[test]
fn deliver_and_with_node_refuse_a_crashed_node() {
    let report = failure_of(|| {
        let mut cluster = Cluster::<Correct>::new(3, 1);
        cluster.crash(2);
        cluster.deliver(2, 1, Message::Ack { term: 1, matched: 0 });
    });
    assert!(report.contains("harness: deliver(n2, n1, Ack t1 match 0): n2 is crashed"), "{report}");
    let report = failure_of(|| {
        let mut cluster = Cluster::<Correct>::new(3, 1);
        cluster.crash(2);
        cluster.with_node(2, |_| ());
    });
    assert!(report.contains("harness: with_node(n2): n2 is crashed"), "{report}");
}
