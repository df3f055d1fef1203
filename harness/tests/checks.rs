//! Each check fires, with its rule, section and values, on a node built to break it.

mod common;

use common::*;
use harness::{Budgets, Cluster};
use rstest::rstest;

/// Runs a 3-node toy cluster with bug `BUG`, proposing a command every 10 ticks, until it
/// fails; returns the report.
fn report_of<const BUG: u8>() -> String {
    failure_of(|| {
        let mut cluster = Cluster::<Toy<BUG>>::new(3, 7).with_disks();
        for round in 0..100 {
            cluster.run_for(10);
            let _ = cluster.propose(1, format!("x{round}"));
        }
    })
}

/// Every rule the harness checks fires on a node that breaks it, naming the rule, its
/// section, and the nodes and values involved.
#[rstest]
#[case::two_leaders_in_a_term(report_of::<TWO_LEADERS>(), "Election Safety (§5.2) violated: two leaders in term 1: n1 and n2")]
#[case::divergent_applies(report_of::<DIVERGENT_APPLY>(), "State Machine Safety (§5.4.3) violated: at index 1, n1 applied \"x0\" (term 1) but n2 applied \"not x0\" (term 1)")]
#[case::commit_index_going_down(report_of::<COMMIT_DOWN>(), "Commit index monotonicity (Figure 2) violated: n2's commit_index went down from 2 to 1")]
#[case::term_going_down(report_of::<TERM_DOWN>(), "Term monotonicity (§5.1) violated: n3's current_term went down from 5 to 4")]
#[case::log_matching_broken(report_of::<LOG_MISMATCH>(), "Log Matching (§5.3) violated: n2 and n1 both hold an entry at index 1 in term 1")]
#[case::leader_without_committed_entries(report_of::<INCOMPLETE_LEADER>(), "Leader Completeness (§5.4) violated: n3 became leader in term 2 without the entries up to index")]
#[case::entry_applied_twice(report_of::<APPLIES_TWICE>(), "Apply in order (Figure 2) violated: n2 applied index 2 right after index 2")]
#[case::panicking_node(report_of::<PANICS>(), "n2 panicked in step(from n1, the last message received): not yet implemented: handle_append_entries (§5.3)")]
#[case::flooding_node(report_of::<FLOODS>(), "Budget exceeded: message budget: n2 sent 5000 messages in answer to one event")]
fn check_fires_with_its_rule_and_values(#[case] report: String, #[case] expected: &str) {
    assert!(report.contains(expected), "expected {expected:?} in the report:\n{report}");
}

/// A service applies what it commits and hands the harness what it applied, or State Machine
/// Safety has nothing of it to check (§5.4.3): in a cluster of services
/// ([`Cluster::service_snapshots`]), a node whose `commit_index` is past what it handed out
/// after an event fails, naming the node and both indexes (Figure 2: "if commitIndex >
/// lastApplied: increment lastApplied, apply log[lastApplied]"). The same toy handing out
/// everything passes.
#[test]
fn a_service_that_hands_out_nothing_it_commits_is_caught() {
    fn run<const BUG: u8>() {
        let mut cluster = Cluster::<Toy<BUG>>::new(3, 7);
        cluster.service_snapshots();
        for round in 0..20 {
            cluster.run_for(10);
            let _ = cluster.propose(1, format!("x{round}"));
        }
    }
    run::<CORRECT>();
    let report = failure_of(run::<HANDS_OUT_NOTHING>);
    let expected = "Apply what is committed (Figure 2) violated: n2's commit_index is 1 but it \
                    handed out entries through index 0 only";
    assert!(report.contains(expected), "expected {expected:?} in the report:\n{report}");
}

/// Log Matching failures show the two logs side by side, as a diff (§5.3).
#[test]
fn log_matching_failure_shows_a_diff_of_the_two_logs() {
    let report = report_of::<LOG_MISMATCH>();
    assert!(
        report.contains("logs up to index 1 (index, term, command): n1 (left, <) vs n2 (right, >)"),
        "{report}"
    );
    assert!(report.contains("\"x0!\""), "{report}");
}

/// A node that forgets its term across a restart breaks Figure 2's "persistent state": it
/// comes back in an older term, and the restart check says so as it restarts (§5.1).
#[test]
fn restart_without_persisted_term_is_caught() {
    let report = failure_of(|| {
        let mut cluster = Cluster::<Toy<FORGETS>>::new(3, 1).with_disks();
        cluster.run_for(20);
        cluster.crash(2);
        cluster.restart(2);
    });
    assert!(
        report.contains(
            "Persistent state survives a restart (§5.1, Figure 2) violated: n2 restarted in \
             term 0, but was in term 1 before it crashed"
        ),
        "{report}"
    );
}

/// A test that never stops ticking hits the tick budget instead of hanging.
#[test]
fn endless_run_hits_the_tick_budget() {
    let report = failure_of(|| {
        let mut cluster = Cluster::<Correct>::new(3, 1);
        cluster.set_budgets(Budgets { ticks: 500, ..Budgets::default() });
        loop {
            cluster.tick();
        }
    });
    assert!(report.contains("Budget exceeded: tick budget: the cluster ran 500 ticks"), "{report}");
    assert!(report.contains("at:       tick 501,"), "500 ticks run, the 501st refused:\n{report}");
}

/// A report carries the replay command, the seed and derived settings, a timeline with one
/// column per node, and the state table.
#[test]
fn report_has_replay_command_settings_timeline_and_state() {
    let report = report_of::<TWO_LEADERS>();
    for part in [
        "replay:   RAFT_SEED=7 cargo test -p harness --test checks -- --exact report_has_replay_command_settings_timeline_and_state",
        "seed:     7",
        "network:  delay 1..=3, loss 0.0%, duplicate 0.0%, reorder 0.0%",
        "timeline: the last",
        " tick │ n1",
        "n2@1 Leader",
        "state at tick 1:",
        "  n2    up         Leader     1",
    ] {
        assert!(report.contains(part), "expected {part:?} in the report:\n{report}");
    }
}

/// A runner that is not `cargo test` (an example, a CLI) sets its own replay command, made
/// from the run's seed; the report prints it instead of the `cargo test` line.
#[test]
fn report_prints_the_replay_command_the_caller_set() {
    let report = failure_of(|| {
        let mut cluster = Cluster::<Correct>::new(3, 7);
        cluster.set_replay(|seed| format!("cargo run --example scenario -- --seed {seed}"));
        cluster.fail("stop");
    });
    assert!(
        report.contains("\n  replay:   cargo run --example scenario -- --seed 7\n"),
        "{report}"
    );
    assert!(!report.contains("cargo test -p harness"), "{report}");
}

/// Helpers fail with the report too: no leader within the bound is a clear failure (§5.2).
#[test]
fn check_one_leader_fails_when_the_leader_is_isolated() {
    let report = failure_of(|| {
        let mut cluster = Cluster::<Correct>::new(3, 1);
        cluster.isolate(1);
        cluster.check_one_leader();
    });
    assert!(
        report.contains(
            "expected one leader: no connected node reaching a majority led within 400 ticks"
        ),
        "{report}"
    );
}
