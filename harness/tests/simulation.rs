//! The simulator itself: faults do what they say, correct nodes raise no false alarms, and a
//! seed fixes the whole run.

mod common;

use common::*;
use harness::determinism::record_events;
use harness::trace::Event;
use harness::{Cluster, NetworkConfig, Role, chaos, check_determinism};
use pretty_assertions::assert_eq;

/// A 3-node toy cluster that has committed `commands` on every node.
fn committed_cluster(seed: u64, commands: usize) -> Cluster<Correct> {
    let mut cluster = Cluster::<Correct>::new(3, seed).with_disks();
    for i in 0..commands {
        cluster.submit(format!("c{i}"), 3);
    }
    cluster
}

/// A correct node passes every check under partitions, crashes, restarts, loss, duplication
/// and reordering, on many seeds: the checks raise no false alarms.
#[test]
fn correct_node_raises_no_false_alarm_over_many_seeds() {
    let stress = std::env::var("RAFT_SEED").is_ok() || std::env::var("RAFT_SEEDS").is_ok();
    let seeds = if stress { harness::seeds() } else { (1..=40).collect() };
    for seed in seeds {
        let cluster = chaos::replication::<Correct>(seed);
        assert!(cluster.stats().total().delivered > 0, "seed {seed} delivered nothing");
        chaos::elections::<Correct>(seed);
    }
}

/// `submit` (the earlier name of `one(command, expected, true)`) waits until the expected
/// number of nodes applied the command, and `committed_count` reports them.
#[test]
fn submit_returns_once_every_node_applied_the_command() {
    let cluster = committed_cluster(3, 5);
    assert_eq!(cluster.committed_count(5), (3, Some("c4".to_string())));
    assert_eq!(cluster.committed_count(6), (0, None));
}

/// A partition really cuts: the minority side hears nothing, then catches up after healing.
#[test]
fn partition_cuts_links_until_healed() {
    let mut cluster = committed_cluster(1, 1);
    cluster.partition(&[&[1, 2], &[3]]);
    let index = cluster.submit("during".to_string(), 2);
    cluster.run_for(50);
    assert_eq!(cluster.status(3).last_log_index, index - 1, "n3 got entries across the cut");
    assert!(
        cluster
            .trace()
            .recent()
            .any(|r| matches!(r.event, Event::Drop { to: 3, reason: "cut", .. }))
    );
    cluster.heal();
    assert!(cluster.run_until(100, |c| c.status(3).commit_index == index), "n3 did not catch up");
}

/// A one-way cut drops one direction only.
#[test]
fn cut_drops_one_direction_only() {
    let mut cluster = committed_cluster(2, 1);
    cluster.cut(2, 1);
    cluster.run_for(40);
    let recent: Vec<_> = cluster.trace().recent().map(|r| r.event.clone()).collect();
    assert!(recent.iter().any(|e| matches!(e, Event::Receive { from: 1, to: 2, .. })));
    assert!(!recent.iter().any(|e| matches!(e, Event::Receive { from: 2, to: 1, .. })));
    assert!(recent.iter().any(|e| matches!(e, Event::Drop { from: 2, to: 1, reason: "cut", .. })));
}

/// An isolated leader is not counted by `check_one_leader` or `check_no_leader` (§5.2).
#[test]
fn isolated_node_is_not_connected() {
    let mut cluster = committed_cluster(4, 1);
    cluster.isolate(1);
    assert!(!cluster.is_connected(1));
    assert_eq!(cluster.majority_leader(), None);
    cluster.check_no_leader();
    assert_eq!(cluster.leaders(), vec![(1, 1)]);
}

/// A crash loses volatile state (commit index, role) and the messages in flight to the node;
/// a restart restores what was persisted (term and log) (Figure 2).
#[test]
fn crash_loses_volatile_state_and_restart_restores_persisted_state() {
    let mut cluster = committed_cluster(5, 3);
    cluster.run_for(3);
    cluster.crash(2);
    assert!(!cluster.is_up(2));
    cluster.run_for(10);
    let drops = cluster
        .trace()
        .recent()
        .filter(|r| matches!(r.event, Event::Drop { to: 2, reason: "crashed", .. }));
    assert!(drops.count() > 0, "messages to the crashed node were delivered");
    cluster.restart(2);
    let status = cluster.status(2);
    assert_eq!(
        (status.term, status.last_log_index, status.commit_index, status.role),
        (1, 3, 0, Role::Follower)
    );
    assert!(
        cluster.run_until(50, |c| c.status(2).commit_index == 3),
        "n2 did not relearn the commit index"
    );
    let reapplied =
        cluster.trace().recent().any(|r| matches!(r.event, Event::Apply { node: 2, first: 1, .. }));
    assert!(reapplied, "n2 re-applies its log from index 1 after a restart");
}

/// Restarting needs disks, and says so.
#[test]
fn restart_without_disks_says_how_to_enable_them() {
    let report = failure_of(|| {
        let mut cluster = Cluster::<Correct>::new(3, 1);
        cluster.crash(2);
        cluster.restart(2);
    });
    assert!(
        report.contains(
            "restart(n2): this cluster has no disks; build it with Cluster::new(..).with_disks()"
        ),
        "{report}"
    );
}

/// The unreliable network loses, duplicates and reorders, and is counted per message kind.
#[test]
fn unreliable_network_loses_and_duplicates_messages() {
    let mut cluster = committed_cluster(6, 1);
    cluster.set_network(NetworkConfig::unreliable());
    cluster.run_for(2_000);
    let total = cluster.stats().total();
    assert!(total.dropped > 0 && total.duplicated > 0, "{}", cluster.stats());
    assert!(
        total.sent + total.duplicated >= total.delivered + total.dropped,
        "{}",
        cluster.stats()
    );
}

/// The same seed gives the same trace, event for event; another seed gives another.
#[test]
fn same_seed_gives_identical_traces() {
    let events = check_determinism(|| chaos::replication::<Correct>(11));
    assert!(events > 1_000, "only {events} events");
    let a = chaos::replication::<Correct>(11).stats().clone();
    let b = chaos::replication::<Correct>(12).stats().clone();
    assert_ne!(a, b, "two seeds gave the same run");
}

/// A message's summary reads the same whether it was written at the send (the whole trace
/// kept) or only when read (the recent events of a run that keeps only those): its `Display`,
/// for sends, arrivals, drops and duplicates alike.
#[test]
fn summaries_written_when_read_are_the_summaries_written_at_the_send() {
    let run = |keep: bool| {
        let network = NetworkConfig::unreliable();
        let mut cluster = Cluster::<Correct>::with_config(3, 5, Default::default(), network);
        if keep {
            cluster.keep_whole_trace();
        }
        cluster.track_applied();
        for round in 0..20 {
            cluster.run_for(10);
            let _ = cluster.propose(1, format!("x{round}"));
        }
        cluster.trace().recent().cloned().collect::<Vec<_>>()
    };
    let (lazy, written) = (run(false), run(true));
    assert_eq!(lazy, written);
    let summaries: Vec<&str> = lazy
        .iter()
        .filter_map(|record| match &record.event {
            Event::Send { message, .. } | Event::Receive { message, .. } => Some(&**message),
            _ => None,
        })
        .collect();
    let expected = Message::Ack { term: 1, matched: 19 }.to_string();
    assert!(summaries.contains(&expected.as_str()), "{expected:?} not in {summaries:?}");
}

/// The determinism check catches a scenario that differs between two runs.
#[test]
fn determinism_check_catches_a_difference() {
    let runs = std::cell::Cell::new(0);
    let report = failure_of(|| {
        check_determinism(|| {
            runs.set(runs.get() + 1);
            let mut cluster = Cluster::<Correct>::new(3, runs.get());
            cluster.run_for(50);
            cluster
        });
    });
    assert!(
        report.contains("not deterministic: two runs of the same scenario differ at event"),
        "{report}"
    );
}

/// A test's own assertion through the cluster fails with the full report (seed, replay,
/// the test's words), and passes silently when its condition holds.
#[test]
fn ensure_fails_with_the_report_only_when_its_condition_is_false() {
    let mut cluster = Cluster::<Correct>::new(3, 9);
    cluster.run_for(5);
    cluster.ensure(true, || unreachable!("the text is built only on failure"));
    let report = failure_of(|| cluster.ensure(false, || "n1 should lead".to_string()));
    assert!(report.contains("n1 should lead"), "the test's words are in the report:\n{report}");
    assert!(report.contains("RAFT_SEED=9"), "the report names the seed to replay:\n{report}");
}

/// A randomized run keeps no timeline while it runs; one that fails runs its seed again with
/// the timeline on, and prints the very report a run that kept every event from the start
/// prints (the determinism check keeps them all).
#[test]
fn a_failing_randomized_run_prints_the_report_of_a_run_with_its_timeline_on() {
    for seed in 1..=3 {
        let replayed = failure_of(|| {
            chaos::replication::<Toy<LOG_MISMATCH>>(seed);
        });
        let kept = failure_of(|| {
            check_determinism(|| chaos::replication::<Toy<LOG_MISMATCH>>(seed));
        });
        assert_eq!(replayed, kept, "seed {seed}");
        assert!(replayed.contains("Log Matching (§5.3) violated"), "seed {seed}: {replayed}");
        assert!(replayed.contains("\ntimeline: the last "), "seed {seed}: {replayed}");
        assert!(replayed.contains("\n  plan:     chaos::Plan::from_seed: "), "seed {seed}");
    }
}

/// A node that fails a randomized run and not the same seed's second run is not
/// deterministic: the failure says so, with the first run's broken rule and the seed.
#[test]
fn a_failure_that_does_not_come_back_on_replay_is_named_nondeterminism() {
    arm_flaky();
    let failure = failure_of(|| {
        chaos::replication::<Toy<FLAKY>>(1);
    });
    assert!(failure.contains("the randomized run of seed 1 failed at tick "), "{failure}");
    assert!(failure.contains("Log Matching (§5.3) violated"), "{failure}");
    assert!(failure.contains("the node is not deterministic"), "{failure}");
    assert!(failure.contains("replay:   RAFT_SEED=1 cargo test"), "{failure}");
}

/// A randomized run that passes kept no timeline while it ran (nobody read it): the cluster it
/// returns counts every event, and its timeline starts where the run ended. Reading its last
/// events fails, naming `record_events`, until as many events as the trace keeps have happened
/// since: they would read as none, or as a few, where thousands happened.
#[test]
fn a_passing_randomized_run_keeps_no_timeline() {
    let mut cluster = chaos::replication::<Correct>(1);
    let events = cluster.trace().count();
    assert!(events > 1_000, "the run counted {events} events");
    let read_recent = |cluster: &Cluster<Correct>| {
        failure_of(|| {
            let _ = cluster.trace().recent().count();
        })
    };
    let failure = read_recent(&cluster);
    assert!(failure.contains("kept none of its first"), "{failure}");
    assert!(failure.contains("harness::determinism::record_events"), "{failure}");
    let failure = failure_of(|| drop(cluster.trace().to_json()));
    assert!(failure.contains("record_events"), "{failure}");
    cluster.tick();
    let failure = read_recent(&cluster);
    assert!(failure.contains("and only "), "{failure}");
    let kept = events + harness::trace::RECENT as u64;
    assert!(cluster.run_until(1_000, |c| c.trace().count() >= kept), "events stopped");
    assert_eq!(cluster.trace().recent().count(), harness::trace::RECENT, "events kept since");
}

/// A randomized run injects the faults its plan promises: over a few seeds, nodes crash and
/// restart, the network is partitioned, nodes are isolated, links are cut one way and healed,
/// and messages are lost, duplicated and cut off.
#[test]
fn randomized_runs_inject_every_kind_of_fault() {
    let mut seen = std::collections::BTreeSet::new();
    for seed in 1..=10 {
        let elections = record_events(|| chaos::elections::<Correct>(seed));
        let replication = record_events(|| chaos::replication::<Correct>(seed));
        for record in elections.iter().chain(&replication) {
            let fault = match &record.event {
                Event::Crash { .. } => "crash".to_string(),
                Event::Restart { .. } => "restart".to_string(),
                Event::Network { change } => {
                    format!("network: {}", change.split_whitespace().next().unwrap_or(""))
                }
                Event::Drop { reason, .. } => format!("drop: {reason}"),
                Event::Duplicate { .. } => "duplicate".to_string(),
                _ => continue,
            };
            seen.insert(fault);
        }
    }
    let expected = [
        "crash",
        "restart",
        "network: partition",
        "network: isolate",
        "network: cut",
        "network: heal",
        "drop: loss",
        "drop: cut",
        "duplicate",
    ];
    for fault in expected {
        assert!(seen.contains(fault), "no {fault:?} in 20 randomized runs; saw {seen:?}");
    }
}

/// A randomized run never crashes more than a minority at once, so that the cluster can always
/// elect a leader once the network heals (random crashes and those at the worst moments
/// together).
#[test]
fn randomized_runs_never_crash_a_majority() {
    let mut crashes = 0;
    for seed in 1..=20 {
        let nodes = chaos::Plan::from_seed(seed).nodes;
        let minority = (nodes - 1) / 2;
        let elections = record_events(|| chaos::elections::<Correct>(seed));
        let replication = record_events(|| chaos::replication::<Correct>(seed));
        for run in [elections, replication] {
            let mut down = std::collections::BTreeSet::new();
            for record in run {
                match record.event {
                    Event::Crash { node } => {
                        crashes += 1;
                        down.insert(node);
                    }
                    Event::Restart { node, .. } => {
                        down.remove(&node);
                    }
                    _ => continue,
                }
                assert!(
                    down.len() <= minority,
                    "seed {seed}, tick {}: {down:?} down of {nodes} nodes",
                    record.tick
                );
            }
        }
    }
    assert!(crashes > 40, "only {crashes} crashes in 40 randomized runs");
}

/// Crashes at the worst moments happen: a node crashes in the very tick it changed its term or
/// its vote (its answer already sent). Random crashes rarely land there: in the first 20
/// election runs, 8 of 91 crashes do; without the worst-moment crashes, none of 83.
#[test]
fn randomized_runs_crash_nodes_at_the_worst_moments() {
    let (mut crashes, mut at_worst) = (0, 0);
    for seed in 1..=20 {
        let run = record_events(|| chaos::elections::<Correct>(seed));
        for (at, record) in run.iter().enumerate() {
            let Event::Crash { node } = record.event else { continue };
            crashes += 1;
            let same_tick = run[..at].iter().rev().take_while(|r| r.tick == record.tick);
            let changed = same_tick.filter(|r| match r.event {
                Event::Term { node: n, .. } | Event::Vote { node: n, .. } => n == node,
                _ => false,
            });
            if changed.count() > 0 {
                at_worst += 1;
            }
        }
    }
    assert!(
        at_worst >= 4,
        "{at_worst} of {crashes} crashes came in the tick the node changed its term or vote"
    );
}

/// The other worst moment: a leader crashes in the very tick it advanced its commit index, so
/// that the entries it just committed may be known to no live leader; and only then, not at
/// every tick it leads. (Counted in the runs without leader churn, whose leaders are taken
/// away at any tick on purpose: `Plan::leader_churn`.)
#[test]
fn randomized_runs_crash_leaders_right_after_they_commit() {
    let (mut leader_crashes, mut after_commit) = (0, 0);
    let calm = (1..=40).filter(|&seed| chaos::Plan::from_seed(seed).leader_churn == 0.0);
    for seed in calm.take(20) {
        let run = record_events(|| chaos::replication::<Correct>(seed));
        let mut leading = std::collections::BTreeSet::new();
        for (at, record) in run.iter().enumerate() {
            match record.event {
                Event::Role { node, role: Role::Leader, .. } => {
                    leading.insert(node);
                }
                Event::Role { node, .. } | Event::Restart { node, .. } => {
                    leading.remove(&node);
                }
                Event::Crash { node } if leading.contains(&node) => {
                    leader_crashes += 1;
                    let same_tick = run[..at].iter().rev().take_while(|r| r.tick == record.tick);
                    let commits = same_tick
                        .filter(|r| matches!(r.event, Event::Commit { node: n, .. } if n == node));
                    if commits.count() > 0 {
                        after_commit += 1;
                    }
                }
                _ => {}
            }
        }
    }
    // Most leader crashes are these (91 of 118 here): a random crash picks any live node.
    assert!(
        after_commit >= 4 && 2 * after_commit >= leader_crashes,
        "{after_commit} of {leader_crashes} leader crashes came in the tick the leader committed"
    );
}

/// Clients propose at the rate the plan draws (a proposal on about `propose_rate` of the
/// safety phase's ticks), and one-way cuts are between two different nodes.
#[test]
fn randomized_runs_propose_at_their_rate_and_cut_links_between_two_nodes() {
    let mut one_way = 0;
    for seed in 1..=10 {
        let plan = chaos::Plan::from_seed(seed);
        let run = record_events(|| chaos::replication::<Correct>(seed));
        let proposals = run.iter().filter(|r| matches!(r.event, Event::Propose { .. })).count();
        let expected = plan.propose_rate * plan.safety_ticks as f64;
        assert!(
            (expected / 2.0..=expected * 2.0).contains(&(proposals as f64)),
            "seed {seed}: {proposals} proposals, expected about {expected:.0}"
        );
        for record in &run {
            let Event::Network { change } = &record.event else { continue };
            if let Some((from, to)) = change.strip_prefix("cut ").and_then(|c| c.split_once(" → "))
            {
                assert_ne!(from, to, "seed {seed}: {change}");
                one_way += 1;
            }
        }
    }
    assert!(one_way > 0, "no one-way cut in 10 randomized runs");
}
