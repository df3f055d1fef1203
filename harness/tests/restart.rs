//! Restarts: persistent state must come back whole (§5.1, Figure 2), and what a node applied
//! before it crashed is remembered, as the classic lab remembers it.
//!
//! The nodes here wrap the correct toy (`tests/common`) and change only what a restart does,
//! each in one way: forget the vote, lose the last entries, restart in term 0, keep the state
//! machine on disk and resume after it, skip ahead, re-apply a different command.

mod common;

use common::*;
use harness::trace::Event;
use harness::{Applied, Cluster, Config, Envelope, Index, Node, NodeId, Persist, Replicate, Rng};
use harness::{NotLeader, Status, Term};
use pretty_assertions::assert_eq;
use rstest::rstest;
use serde::Serialize;

/// Correct in every way.
const INTACT: u8 = 0;
/// Restarts with no vote.
const FORGETS_VOTE: u8 = 1;
/// Restarts without the last two entries it persisted.
const DROPS_TAIL: u8 = 2;
/// Restarts in term 0.
const TERM_ZERO: u8 = 3;
/// Restarts with its last entry's command changed.
const CHANGES_ENTRY: u8 = 4;
/// Keeps its state machine on disk and resumes applying after it (legal).
const KEEPS_STATE_MACHINE: u8 = 5;
/// Keeps its state machine on disk, but resumes one entry too far.
const SKIPS_AHEAD: u8 = 6;
/// Re-applies its log from index 1 after a restart, with a different first command.
const REAPPLIES_WRONG: u8 = 7;

/// What a [`Restarts`] node keeps on disk: the toy's state and the last index it applied.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
struct Disk {
    saved: Saved,
    applied: Index,
}

/// One write of a [`Restarts`] node: the toy's, if it wrote, and the last index it applied.
#[derive(Clone, Debug, PartialEq, Serialize)]
struct DiskWrite {
    toy: Option<Write>,
    applied: Index,
}

/// The correct toy, with the restart `FAULT` picks.
#[derive(Debug)]
struct Restarts<const FAULT: u8> {
    toy: Correct,
    /// The last index handed out to apply (in any life, for the state-machine faults).
    applied: Index,
    /// Entries up to this index are already in the state machine: not handed out again.
    skip: Index,
    /// Whether the next applied entry is the first since a restart.
    restarted: bool,
    /// `applied` as last persisted.
    persisted_applied: Index,
}

impl<const FAULT: u8> Node for Restarts<FAULT> {
    type Message = Message;
    type Command = String;

    fn new(id: NodeId, peers: Vec<NodeId>, config: Config, rng: Rng) -> Self {
        let toy = Correct::new(id, peers, config, rng);
        Restarts { toy, applied: 0, skip: 0, restarted: false, persisted_applied: 0 }
    }

    fn id(&self) -> NodeId {
        self.toy.id()
    }

    fn tick(&mut self) {
        self.toy.tick();
    }

    fn step(&mut self, from: NodeId, message: Message) {
        self.toy.step(from, message);
    }

    fn take_messages(&mut self) -> Vec<Envelope<Message>> {
        self.toy.take_messages()
    }

    fn status(&self) -> Status {
        self.toy.status()
    }

    fn log_entry(&self, index: Index) -> Option<(Term, &String)> {
        self.toy.log_entry(index)
    }
}

impl<const FAULT: u8> Replicate for Restarts<FAULT> {
    fn propose(&mut self, command: String) -> Result<(Index, Term), NotLeader> {
        self.toy.propose(command)
    }

    fn take_committed(&mut self) -> Vec<Applied<String>> {
        let skip = self.skip;
        let mut applied: Vec<_> =
            self.toy.take_committed().into_iter().filter(|entry| entry.index > skip).collect();
        if FAULT == REAPPLIES_WRONG && self.restarted {
            if let Some(first) = applied.first_mut() {
                first.command.push('?');
            }
        }
        if let Some(last) = applied.last() {
            self.applied = last.index;
            self.restarted = false;
        }
        applied
    }
}

impl<const FAULT: u8> Persist for Restarts<FAULT> {
    type State = Disk;
    type Write = DiskWrite;

    fn take_persist(&mut self) -> Vec<DiskWrite> {
        let toy = self.toy.take_persist().pop();
        if toy.is_none() && self.applied == self.persisted_applied {
            return Vec::new();
        }
        self.persisted_applied = self.applied;
        vec![DiskWrite { toy, applied: self.applied }]
    }

    fn apply_write(state: &mut Disk, write: DiskWrite) {
        if let Some(toy) = write.toy {
            Correct::apply_write(&mut state.saved, toy);
        }
        state.applied = write.applied;
    }

    fn restart(id: NodeId, peers: Vec<NodeId>, config: Config, rng: Rng, disk: Disk) -> Self {
        let Disk { mut saved, applied } = disk;
        match FAULT {
            FORGETS_VOTE => saved.voted_for = None,
            DROPS_TAIL => saved.log.truncate(saved.log.len().saturating_sub(2)),
            TERM_ZERO => saved.term = 0,
            CHANGES_ENTRY => {
                if let Some(last) = saved.log.last_mut() {
                    last.1.push('!');
                }
            }
            _ => {}
        }
        let skip = match FAULT {
            KEEPS_STATE_MACHINE => applied,
            SKIPS_AHEAD => applied + 1,
            _ => 0,
        };
        let toy = Correct::restart(id, peers, config, rng, saved);
        Restarts {
            toy,
            applied: if skip > 0 { applied } else { 0 },
            skip,
            restarted: true,
            persisted_applied: applied,
        }
    }
}

/// Commits five commands on all three nodes, crashes `victim`, lets the others commit one more
/// if they can (so the victim has catching up to do), and restarts it; then keeps running and crashing, so
/// that a check that missed the first restart would fail later or not at all.
fn scenario<const FAULT: u8>(seed: u64, victim: NodeId) -> Cluster<Restarts<FAULT>> {
    let mut cluster = Cluster::<Restarts<FAULT>>::new(3, seed).with_disks();
    for i in 0..5 {
        cluster.submit(format!("c{i}"), 3);
    }
    cluster.run_for(10);
    cluster.crash(victim);
    if victim != 1 {
        // The toy's leader is always n1: with n1 down, nothing commits.
        cluster.submit("while down".to_string(), 2);
    }
    cluster.restart(victim);
    cluster.note("first restart", "done");
    cluster.submit("after".to_string(), 3);
    for id in [1, 2, 3] {
        cluster.crash(id);
        cluster.restart(id);
        cluster.run_for(20);
    }
    cluster
}

/// The report of the scenario's failure, which must come at the first restart: the report's
/// settings would name the note the scenario adds right after it.
fn caught_at_first_restart<const FAULT: u8>(seed: u64, victim: NodeId) -> String {
    let report = failure_of(|| {
        scenario::<FAULT>(seed, victim);
    });
    assert!(
        !report.contains("first restart:"),
        "seed {seed}: not caught at the first restart:\n{report}"
    );
    report
}

/// A node must restart with the term, vote and log it had when it crashed (§5.1, Figure 2).
/// Each way of getting it wrong is caught as the node restarts, on every seed, with the field
/// and both values.
#[rstest]
#[case::forgets_its_vote(
    caught_at_first_restart::<FORGETS_VOTE>,
    1,
    "Persistent state survives a restart (§5.1, Figure 2) violated: n1 restarted with \
     voted_for None, but had voted for n1 in term 1 before it crashed"
)]
#[case::loses_its_last_entries(
    caught_at_first_restart::<DROPS_TAIL>,
    2,
    "Persistent state survives a restart (§5.1, Figure 2) violated: n2 restarted with its log \
     ending at index 3, but it held 5 entries (through term 1) before it crashed"
)]
#[case::restarts_in_term_zero(
    caught_at_first_restart::<TERM_ZERO>,
    3,
    "Persistent state survives a restart (§5.1, Figure 2) violated: n3 restarted in term 0, \
     but was in term 1 before it crashed"
)]
#[case::changes_an_entry(
    caught_at_first_restart::<CHANGES_ENTRY>,
    2,
    "Persistent state survives a restart (§5.1, Figure 2) violated: n2 restarted with as many \
     entries as before it crashed (5), but not the same ones: its log through index 5 (term 1 \
     now, term 1 before) differs at or before that index"
)]
fn lost_persistent_state_is_caught_at_the_first_restart(
    #[case] run: fn(u64, NodeId) -> String,
    #[case] victim: NodeId,
    #[case] expected: &str,
) {
    for seed in 1..=10 {
        let report = run(seed, victim);
        assert!(report.contains(expected), "seed {seed}: expected {expected:?} in:\n{report}");
    }
}

/// A node that comes back with everything it persisted never trips the restart check, whichever
/// node restarts and however often (the chaos runs in `simulation.rs` restart nodes at random).
#[test]
fn intact_restarts_raise_no_alarm() {
    for seed in 1..=10 {
        for victim in [1, 2, 3] {
            let cluster = scenario::<INTACT>(seed, victim);
            let last = cluster.status(1).last_log_index;
            let expected = (3, Some("after".to_string()));
            assert_eq!(cluster.committed_count(last), expected, "seed {seed}, victim n{victim}");
        }
    }
}

/// A node that keeps its state machine on disk resumes applying where it stopped, not from
/// index 1: legal, and no gap is reported (Figure 2's `lastApplied` is volatile, but nothing
/// forbids a durable state machine). Here it had applied 5 entries and resumes at index 6.
#[test]
fn restarted_node_may_resume_applying_where_its_state_machine_stopped() {
    for seed in 1..=10 {
        let mut cluster = Cluster::<Restarts<KEEPS_STATE_MACHINE>>::new(3, seed).with_disks();
        for i in 0..5 {
            cluster.submit(format!("c{i}"), 3);
        }
        cluster.run_for(10);
        cluster.crash(2);
        let index = cluster.submit("while down".to_string(), 2);
        cluster.restart(2);
        let applied_by_n2 = |c: &Cluster<_>| {
            let since_restart =
                c.trace().recent().skip_while(|r| !matches!(r.event, Event::Restart { .. }));
            since_restart
                .filter_map(|r| match r.event {
                    Event::Apply { node: 2, first, last, .. } => Some((first, last)),
                    _ => None,
                })
                .next()
        };
        assert!(cluster.run_until(100, |c| applied_by_n2(c).is_some()), "seed {seed}");
        assert_eq!(applied_by_n2(&cluster), Some((6, 6)), "seed {seed}");
        assert_eq!(cluster.committed_count(index), (3, Some("while down".to_string())));
        scenario::<KEEPS_STATE_MACHINE>(seed, 2);
    }
}

/// After a restart, the first entry applied may be anything up to one past the highest the
/// node ever applied; one further is a gap (Figure 2: apply in order).
#[test]
fn resuming_past_what_was_applied_is_caught() {
    for seed in 1..=10 {
        let report = caught_at_first_restart_or_later::<SKIPS_AHEAD>(seed);
        let expected = "Apply in order (Figure 2) violated: n2 restarted having applied up to \
                        index 5 and then applied index 7 first";
        assert!(report.contains(expected), "seed {seed}: expected {expected:?} in:\n{report}");
    }
}

/// Entries a restarted node applies again are checked against what the cluster applied at
/// those indexes (State Machine Safety, §5.4.3).
#[test]
fn reapplied_entries_are_checked_against_what_was_applied() {
    for seed in 1..=10 {
        let report = caught_at_first_restart_or_later::<REAPPLIES_WRONG>(seed);
        let expected = "State Machine Safety (§5.4.3) violated: at index 1, n1 applied \"c0\" \
                        (term 1) but n2 applied \"c0?\" (term 1)";
        assert!(report.contains(expected), "seed {seed}: expected {expected:?} in:\n{report}");
    }
}

/// The failure of the scenario with `FAULT` at n2, after its first restart (a node applies
/// only once it has learned the commit index, a few ticks after it restarted).
fn caught_at_first_restart_or_later<const FAULT: u8>(seed: u64) -> String {
    failure_of(|| {
        scenario::<FAULT>(seed, 2);
    })
}

/// `committed_count` counts like the classic lab's `nCommitted`: what every node applied, up or
/// down. A crashed node's entries still count, and a restarted node counts at once for what it
/// applied in its earlier life, before it applies anything again.
#[test]
fn committed_count_counts_what_every_node_applied_up_or_down() {
    let mut cluster = Cluster::<Correct>::new(3, 1).with_disks();
    for i in 0..3 {
        cluster.submit(format!("c{i}"), 3);
    }
    cluster.crash(3);
    assert_eq!(cluster.committed_count(3), (3, Some("c2".to_string())), "n3 is down");
    let index = cluster.submit("d".to_string(), 2);
    assert_eq!(cluster.committed_count(index), (2, Some("d".to_string())));
    cluster.restart(3);
    assert_eq!(cluster.committed_count(3).0, 3, "n3 applied index 3 in its earlier life");
    assert_eq!(cluster.committed_count(index).0, 2, "n3 has not applied index {index} yet");
    assert!(cluster.run_until(100, |c| c.committed_count(index).0 == 3), "n3 never caught up");
    let reapplied =
        cluster.trace().recent().any(|r| matches!(r.event, Event::Apply { node: 3, first: 1, .. }));
    assert!(reapplied, "the toy rebuilds its state machine from index 1 after a restart");
}

/// How many of `seeds` randomized runs (`chaos::replication`, with its crashes at the worst
/// moments) end in a failure report for a node with restart fault `FAULT`.
fn caught_in_randomized_runs<const FAULT: u8>(seeds: u64) -> u64 {
    let caught = (1..=seeds).filter(|&seed| {
        let run = std::panic::catch_unwind(|| {
            harness::chaos::replication::<Restarts<FAULT>>(seed);
        });
        run.is_err()
    });
    caught.count() as u64
}

/// Randomized runs find each way of losing persistent state by themselves, in at least half of
/// the seeds: 1,000 seeds in a release build (the CI stress pass), 60 in a debug one. Run with
/// `--nocapture` to see the rates (§5.1, Figure 2).
#[rstest]
#[case::forgets_its_vote(caught_in_randomized_runs::<FORGETS_VOTE>, "forgets its vote")]
#[case::loses_its_last_entries(caught_in_randomized_runs::<DROPS_TAIL>, "loses its last entries")]
#[case::restarts_in_term_zero(caught_in_randomized_runs::<TERM_ZERO>, "restarts in term 0")]
#[case::intact(caught_in_randomized_runs::<INTACT>, "intact")]
fn randomized_runs_catch_lost_persistent_state(#[case] run: fn(u64) -> u64, #[case] name: &str) {
    let seeds = if cfg!(debug_assertions) { 60 } else { 1_000 };
    let caught = run(seeds);
    println!("a node that {name}: caught in {caught} of {seeds} randomized runs");
    if name == "intact" {
        assert_eq!(caught, 0, "a correct node must never be reported ({caught} of {seeds} runs)");
    } else {
        assert!(
            2 * caught >= seeds,
            "a node that {name} was caught in only {caught} of {seeds} randomized runs; at least \
             half must catch it"
        );
    }
}
